"""CompanyBook: each company's connection state (CONTRACT: unknown, setup_pending, online,
parked, replaying), its Conductor end-user, its last health check and its probe schedule.

Every state change is logged (``company state changed`` with before, after and the error
code) and remembered until announced: ``published_state`` is the state last published as
``qbd.company.state_changed`` (CompanyConnection publishes; this class only stores).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg

from processors.dlq_index import DlqIndex
from processors.logs import get_logger
from schemas import CompanyConnectionState

__all__ = [
    "NEEDS_PERSON_CODES",
    "Company",
    "CompanyBook",
    "CompanyOverview",
    "StateChange",
    "describe",
    "state_message",
]

log = get_logger("companies")

NEEDS_PERSON_CODES = frozenset(
    {"INTEGRATION_CONNECTION_NOT_SET_UP", "COMPANY_NOT_CONNECTED", "PERMISSION_ERROR"}
)
"""Parking causes only a person can fix: probed rarely (``ProbeSchedule.setup``)."""


@dataclass(frozen=True, slots=True)
class Company:
    """One row of ``companies``."""

    company_id: str
    state: CompanyConnectionState
    end_user_id: str | None
    company_name: str | None
    email: str | None
    last_error: dict[str, Any] | None
    last_health_check: datetime | None
    last_health_ok: bool | None
    last_health_error: dict[str, Any] | None
    last_sync_at: datetime | None
    parked_since: datetime | None
    state_changed_at: datetime | None
    catchup_attempts: int
    next_catchup_at: datetime | None
    setup_link_url: str | None
    setup_link_expires_at: datetime | None
    published_state: CompanyConnectionState | None = None
    setup_prompted_at: datetime | None = None

    @property
    def parked(self) -> bool:
        """Whether new work queues behind parked work (parked, or a replay cut short)."""
        return self.state in _PARKED_STATES

    @property
    def needs_person(self) -> bool:
        """Whether it is parked for a cause only a person can fix (setup, access refused)."""
        return _needs_person(self.last_error)


@dataclass(frozen=True, slots=True)
class StateChange:
    """A company's state after ``set_state``, and what is still to be announced."""

    state: CompanyConnectionState
    previous: CompanyConnectionState
    """The state last announced (or, never announced, the state before this change)."""
    at: datetime
    """When the company entered ``state``."""
    announced: bool
    """Whether ``state`` was published already (nothing to announce)."""


@dataclass(frozen=True, slots=True)
class CompanyOverview:
    """A company with what an operator or the app's UI wants next to it."""

    company: Company
    parked: int
    last_sync: datetime | None
    open_attention: int


_OVERVIEW = """
    SELECT c.*, COALESCE(p.parked, 0) AS parked,
           GREATEST(c.last_sync_at,
                    (SELECT max(l.updated_at) FROM ledger l
                      WHERE l.company_id = c.company_id AND l.status = 'synced'
                        AND l.qbd_object_type IS NOT NULL)) AS last_sync,
           (SELECT count(*) FROM attention a
             WHERE a.company_id = c.company_id AND a.resolved_at IS NULL) AS open_attention
      FROM companies c
      LEFT JOIN unnest($2::text[], $3::bigint[]) AS p(company_id, parked) USING (company_id)
     WHERE $1::text IS NULL OR c.company_id = $1
     ORDER BY c.company_id"""

_SETUP_CODES = frozenset({"INTEGRATION_CONNECTION_NOT_SET_UP", "COMPANY_NOT_CONNECTED"})
_PARKED_STATES = (CompanyConnectionState.PARKED, CompanyConnectionState.REPLAYING)
_STATE_MESSAGES = {
    CompanyConnectionState.UNKNOWN: "QuickBooks Desktop has not been checked yet.",
    CompanyConnectionState.SETUP_PENDING: "Finish connecting QuickBooks Desktop: open the setup "
    "link on the computer that runs QuickBooks and follow the steps.",
    CompanyConnectionState.ONLINE: "QuickBooks Desktop is connected.",
    CompanyConnectionState.PARKED: "We could not reach QuickBooks Desktop. We will try again "
    "shortly.",
    CompanyConnectionState.REPLAYING: "Catching up: syncing the changes saved while QuickBooks "
    "Desktop was unreachable.",
}


def state_message(state: CompanyConnectionState, error: Mapping[str, Any] | None = None) -> str:
    """What to tell the user about a state: the parking error's message, or the state's own."""
    return str((error or {}).get("user_facing_message") or _STATE_MESSAGES[state])


def _needs_person(error: Mapping[str, Any] | None) -> bool:
    error = error or {}
    return error.get("code") in NEEDS_PERSON_CODES or error.get("type") in NEEDS_PERSON_CODES


def describe(view: CompanyOverview, *, now: datetime | None = None) -> dict[str, Any]:
    """A company's connection state for an operator or the app's UI (``GET /v1/companies``)."""
    company, now = view.company, now or datetime.now(UTC)
    waiting = company.parked or company.state is CompanyConnectionState.SETUP_PENDING
    error: dict[str, Any] | None = None
    if company.parked:
        error = company.last_error
    elif company.last_health_ok is False:
        error = company.last_health_error
    code = None if error is None else error.get("code")
    link = None
    valid = company.setup_link_expires_at is not None and company.setup_link_expires_at > now
    if valid and (company.state is CompanyConnectionState.SETUP_PENDING or code in _SETUP_CODES):
        link = company.setup_link_url
    return {
        "company_id": company.company_id,
        "state": str(company.state),
        "end_user_id": company.end_user_id,
        "healthy": company.last_health_ok,
        "last_health_check": _iso(company.last_health_check),
        "user_facing_message": state_message(company.state, error),
        "error_code": code,
        "auth_flow_url": link,
        "parked": view.parked,
        "parked_since": _iso(company.parked_since),
        "last_sync": _iso(view.last_sync),
        # The background probes of a waiting company: the last one, the next one, how many.
        "last_probe_at": _iso(company.last_health_check) if waiting else None,
        "next_probe_at": _iso(company.next_catchup_at) if waiting else None,
        "probes": company.catchup_attempts,
        "next_catchup_at": _iso(company.next_catchup_at),
        "catchup_attempts": company.catchup_attempts,
        "open_attention": view.open_attention,
        "state_changed_at": _iso(company.state_changed_at),
    }


class CompanyBook:
    """Reads and changes company rows; every state change is logged."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._dlq = DlqIndex(pool)

    async def get(self, company_id: str) -> Company:
        """The company's row, created as ``unknown`` when first seen."""
        row = await self._pool.fetchrow(
            """INSERT INTO companies (company_id) VALUES ($1)
               ON CONFLICT (company_id) DO UPDATE SET company_id = EXCLUDED.company_id
               RETURNING *""",
            company_id,
        )
        assert row is not None
        return _company(row)

    async def find(self, company_id: str) -> Company | None:
        """The company's row, or None if it was never seen (read only)."""
        row = await self._pool.fetchrow("SELECT * FROM companies WHERE company_id = $1", company_id)
        return None if row is None else _company(row)

    async def all(self) -> list[Company]:
        """Every company, by id."""
        return [_company(r) for r in await self._pool.fetch("SELECT * FROM companies ORDER BY 1")]

    async def overview(self, company_id: str | None = None) -> list[CompanyOverview]:
        """Every company (or one) with its parked count, last sync and open attention."""
        parked = await self._dlq.parked_counts()
        rows = await self._pool.fetch(_OVERVIEW, company_id, list(parked), list(parked.values()))
        return [
            CompanyOverview(_company(row), row["parked"], row["last_sync"], row["open_attention"])
            for row in rows
        ]

    async def set_state(
        self,
        company_id: str,
        state: CompanyConnectionState,
        *,
        error: dict[str, Any] | None = None,
        first_probe_at: datetime | None = None,
        answered: bool = False,
    ) -> StateChange:
        """Move the company to ``state``; what is left to announce comes back.

        Parking (or waiting for setup) records the error and, unless one is scheduled, the
        first probe at ``first_probe_at``; going online clears the error and the schedule.
        ``answered``: QuickBooks just answered, recorded as a passed health check in the same
        statement (``health_checked``).
        """
        row = await self._pool.fetchrow(
            """WITH before AS (SELECT state FROM companies WHERE company_id = $1 FOR UPDATE)
               UPDATE companies SET state = $2, updated_at = now(),
                      last_health_check = CASE WHEN $5 THEN now() ELSE last_health_check END,
                      last_health_ok = CASE WHEN $5 THEN true ELSE last_health_ok END,
                      last_health_error = CASE WHEN $5 THEN NULL ELSE last_health_error END,
                      state_changed_at = CASE WHEN companies.state = $2 THEN state_changed_at
                                              ELSE now() END,
                      last_error = CASE WHEN $2 = 'parked' THEN COALESCE($3::jsonb, last_error)
                                        WHEN $2 = 'online' THEN NULL ELSE last_error END,
                      parked_since = CASE WHEN $2 = 'parked' THEN COALESCE(parked_since, now())
                                          WHEN $2 = 'online' THEN NULL ELSE parked_since END,
                      catchup_attempts = CASE WHEN $2 = 'online' THEN 0 ELSE catchup_attempts END,
                      next_catchup_at = CASE WHEN $2 = 'online' THEN NULL
                                             WHEN $2 IN ('parked', 'setup_pending')
                                             THEN COALESCE(next_catchup_at, $4)
                                             ELSE next_catchup_at END
               FROM before WHERE company_id = $1
               RETURNING before.state AS before, companies.published_state,
                         companies.state_changed_at""",
            company_id,
            str(state),
            error,
            first_probe_at,
            answered,
        )
        assert row is not None, f"company {company_id} has no row (CompanyBook.get first)"
        before = CompanyConnectionState(row["before"])
        if before is not state:
            log.info(
                "company state changed",
                company_id=company_id,
                before=str(before),
                after=str(state),
                code=(error or {}).get("code"),
            )
        published = row["published_state"]
        return StateChange(
            state=state,
            previous=before if published is None else CompanyConnectionState(published),
            at=row["state_changed_at"],
            announced=published == str(state),
        )

    async def announced(self, company_id: str, state: CompanyConnectionState) -> None:
        """Note that ``state`` was published as ``qbd.company.state_changed``."""
        await self._pool.execute(
            "UPDATE companies SET published_state = $2 WHERE company_id = $1 AND state = $2",
            company_id,
            str(state),
        )

    async def unannounced(self) -> list[Company]:
        """Companies whose current state was not published yet (a publish failed)."""
        rows = await self._pool.fetch(
            """SELECT * FROM companies
               WHERE published_state IS DISTINCT FROM state AND state <> 'unknown'"""
        )
        return [_company(row) for row in rows]

    async def setup_prompted(self, company_id: str) -> None:
        """A setup link was published: resolve the prompt when the company connects."""
        await self._pool.execute(
            """UPDATE companies SET setup_prompted_at = COALESCE(setup_prompted_at, now())
               WHERE company_id = $1""",
            company_id,
        )

    async def setup_prompt_resolved(self, company_id: str) -> None:
        """The prompt's resolution was published."""
        await self._pool.execute(
            "UPDATE companies SET setup_prompted_at = NULL WHERE company_id = $1", company_id
        )

    async def set_end_user(self, company_id: str, end_user_id: str, **fields: Any) -> None:
        """Link the company to its Conductor end-user."""
        await self._pool.execute(
            """INSERT INTO companies (company_id, end_user_id, company_name, email)
               VALUES ($1, $2, $3, $4)
               ON CONFLICT (company_id) DO UPDATE SET end_user_id = EXCLUDED.end_user_id,
                  company_name = COALESCE(EXCLUDED.company_name, companies.company_name),
                  email = COALESCE(EXCLUDED.email, companies.email), updated_at = now()""",
            company_id,
            end_user_id,
            fields.get("company_name"),
            fields.get("email"),
        )

    async def health_checked(self, company_id: str, error: dict[str, Any] | None = None) -> None:
        """Note a health check: passed (``error`` None) or failed with the normalized error."""
        await self._pool.execute(
            """UPDATE companies SET last_health_check = now(), last_health_ok = $2,
                      last_health_error = $3::jsonb WHERE company_id = $1""",
            company_id,
            error is None,
            error,
        )

    async def synced(self, company_id: str) -> None:
        """Note a successful write."""
        await self._pool.execute(
            "UPDATE companies SET last_sync_at = now() WHERE company_id = $1", company_id
        )

    async def setup_link(self, company_id: str, url: str, expires_at: datetime) -> None:
        """Remember the latest setup link (so we do not make a new one on every error)."""
        await self._pool.execute(
            """UPDATE companies SET setup_link_url = $2, setup_link_expires_at = $3,
                      updated_at = now() WHERE company_id = $1""",
            company_id,
            url,
            expires_at,
        )

    async def schedule_probe(self, company_id: str, at: datetime) -> None:
        """Set the next background probe and count the probe just made."""
        await self._pool.execute(
            """UPDATE companies SET next_catchup_at = $2, catchup_attempts = catchup_attempts + 1
               WHERE company_id = $1""",
            company_id,
            at,
        )

    async def probe_soon(self, company_id: str, at: datetime) -> None:
        """Bring a waiting company's next probe forward to ``at`` (something changed)."""
        await self._pool.execute(
            """UPDATE companies SET next_catchup_at = LEAST(next_catchup_at, $2)
               WHERE company_id = $1 AND state IN ('parked', 'setup_pending')""",
            company_id,
            at,
        )

    async def due_for_probe(self, now: datetime, *, limit: int = 1000) -> list[Company]:
        """Waiting companies whose probe time has come (oldest first), and replays cut short.

        Waiting: parked, or set up in Conductor but not yet connected (``setup_pending``,
        with a scheduled probe). A company left ``replaying`` had its replay cut short
        (crash, rebalance): it is due at once, so its owner resumes it from the index.
        """
        rows = await self._pool.fetch(
            """SELECT * FROM companies
               WHERE state = 'replaying'
                  OR (state = 'parked' AND (next_catchup_at IS NULL OR next_catchup_at <= $1))
                  OR (state = 'setup_pending' AND next_catchup_at <= $1)
               ORDER BY next_catchup_at NULLS FIRST
               LIMIT $2""",
            now,
            limit,
        )
        return [_company(row) for row in rows]

    async def waiting(self) -> list[Company]:
        """Every company waiting for its QuickBooks: parked, replaying or setup_pending."""
        rows = await self._pool.fetch(
            "SELECT * FROM companies WHERE state IN ('parked', 'replaying', 'setup_pending')"
        )
        return [_company(row) for row in rows]


def _company(row: asyncpg.Record) -> Company:
    return Company(
        company_id=row["company_id"],
        state=CompanyConnectionState(row["state"]),
        end_user_id=row["end_user_id"],
        company_name=row["company_name"],
        email=row["email"],
        last_error=row["last_error"],
        last_health_check=row["last_health_check"],
        last_health_ok=row["last_health_ok"],
        last_health_error=row["last_health_error"],
        last_sync_at=row["last_sync_at"],
        parked_since=row["parked_since"],
        state_changed_at=row["state_changed_at"],
        catchup_attempts=row["catchup_attempts"],
        next_catchup_at=row["next_catchup_at"],
        setup_link_url=row["setup_link_url"],
        setup_link_expires_at=row["setup_link_expires_at"],
        published_state=(
            None
            if row["published_state"] is None
            else CompanyConnectionState(row["published_state"])
        ),
        setup_prompted_at=row["setup_prompted_at"],
    )


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()
