"""CompanyBook: each company's connection state (CONTRACT: unknown, setup_pending, online,
parked, replaying), its Conductor end-user, and when it was last checked and synced."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import asyncpg

from processors.logs import get_logger

__all__ = ["Company", "CompanyBook", "CompanyState"]

log = get_logger("companies")


class CompanyState(StrEnum):
    """Connection state of one company file."""

    UNKNOWN = "unknown"
    SETUP_PENDING = "setup_pending"
    ONLINE = "online"
    PARKED = "parked"
    REPLAYING = "replaying"


@dataclass(frozen=True, slots=True)
class Company:
    """One row of ``companies``."""

    company_id: str
    state: CompanyState
    end_user_id: str | None
    last_error: dict[str, Any] | None
    last_health_check: datetime | None
    last_sync_at: datetime | None
    parked_since: datetime | None
    catchup_attempts: int
    next_catchup_at: datetime | None
    setup_link_url: str | None
    setup_link_expires_at: datetime | None


class CompanyBook:
    """Reads and changes company rows; every state change is logged."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

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

    async def all(self) -> list[Company]:
        """Every company, by id."""
        return [_company(r) for r in await self._pool.fetch("SELECT * FROM companies ORDER BY 1")]

    async def set_state(
        self, company_id: str, state: CompanyState, *, error: dict[str, Any] | None = None
    ) -> None:
        """Move the company to ``state`` (parking records the error and starts the catch-up)."""
        row = await self._pool.fetchrow(
            """UPDATE companies SET state = $2, updated_at = now(),
                      last_error = CASE WHEN $2 = 'parked' THEN $3::jsonb
                                        WHEN $2 = 'online' THEN NULL ELSE last_error END,
                      parked_since = CASE WHEN $2 = 'parked' THEN COALESCE(parked_since, now())
                                          WHEN $2 = 'online' THEN NULL ELSE parked_since END,
                      catchup_attempts = CASE WHEN $2 = 'online' THEN 0 ELSE catchup_attempts END
               WHERE company_id = $1
               RETURNING (SELECT state FROM companies WHERE company_id = $1) AS before""",
            company_id, str(state), error,
        )  # fmt: skip
        before = None if row is None else row["before"]
        if before != str(state):
            log.info("company state changed", company_id=company_id, before=before,
                     after=str(state), code=(error or {}).get("code"))  # fmt: skip

    async def set_end_user(self, company_id: str, end_user_id: str, **fields: Any) -> None:
        """Link the company to its Conductor end-user."""
        await self._pool.execute(
            """INSERT INTO companies (company_id, end_user_id, company_name, email)
               VALUES ($1, $2, $3, $4)
               ON CONFLICT (company_id) DO UPDATE SET end_user_id = EXCLUDED.end_user_id,
                  company_name = COALESCE(EXCLUDED.company_name, companies.company_name),
                  email = COALESCE(EXCLUDED.email, companies.email), updated_at = now()""",
            company_id, end_user_id, fields.get("company_name"), fields.get("email"),
        )  # fmt: skip

    async def health_checked(self, company_id: str) -> None:
        """Note a successful health check."""
        await self._pool.execute(
            "UPDATE companies SET last_health_check = now() WHERE company_id = $1", company_id
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
            company_id, url, expires_at,
        )  # fmt: skip

    async def schedule_catchup(self, company_id: str, at: datetime) -> None:
        """Set the next background catch-up and count the attempt."""
        await self._pool.execute(
            """UPDATE companies SET next_catchup_at = $2, catchup_attempts = catchup_attempts + 1
               WHERE company_id = $1""",
            company_id, at,
        )  # fmt: skip

    async def due_for_catchup(self, now: datetime) -> list[Company]:
        """Parked companies whose catch-up time has come."""
        rows = await self._pool.fetch(
            """SELECT * FROM companies WHERE state = 'parked'
               AND (next_catchup_at IS NULL OR next_catchup_at <= $1) ORDER BY next_catchup_at""",
            now,
        )
        return [_company(row) for row in rows]


def _company(row: asyncpg.Record) -> Company:
    return Company(
        company_id=row["company_id"],
        state=CompanyState(row["state"]),
        end_user_id=row["end_user_id"],
        last_error=row["last_error"],
        last_health_check=row["last_health_check"],
        last_sync_at=row["last_sync_at"],
        parked_since=row["parked_since"],
        catchup_attempts=row["catchup_attempts"],
        next_catchup_at=row["next_catchup_at"],
        setup_link_url=row["setup_link_url"],
        setup_link_expires_at=row["setup_link_expires_at"],
    )
