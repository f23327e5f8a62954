"""CompanyConnection: the one owner of a company's connection state and its transitions.

    unknown ──connect──► setup_pending
       │                    │
       └─── health ok ──────┴──► online ──unreachable──► parked ──replay──► replaying ──► online
                                                          ▲                     │
                                                          └──── unreachable ────┘

Everything that decides or records whether a company's QuickBooks can be reached lives here:
the health check before a write (after start, idling or parking), parking the company and
telling its user once, the catch-up schedule, setup links (reused while valid) and
connecting a new company. Every other module asks; none writes company state itself.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import partial

from processors.attention import PARKING_CATEGORIES, AttentionBook, Cause
from processors.companies import CompanyBook, CompanyState
from processors.config import Settings
from processors.errors import Halted
from processors.gateway import ConductorGateway
from processors.logs import get_logger
from processors.outcome import NormalizedError, OutcomeClass, classify, normalize
from processors.pipeline.writer import Reader
from processors.publish import Publisher
from schemas import SOURCE, AttentionCategory, AttentionData, OutboundType, make_cloudevent

__all__ = ["NOT_CONNECTED", "CompanyConnection", "Gate", "HealthResult", "catchup_delay"]

log = get_logger("connection")
_IDLE_RECHECK = timedelta(minutes=10)
_MAX_CATCHUP = timedelta(hours=6)
_LINK_MARGIN = timedelta(minutes=5)  # a link about to expire is not worth sending
_CONNECTED = "QuickBooks Desktop is connected."
_PARKED_STATES = (CompanyState.PARKED, CompanyState.REPLAYING)
_LIVE_STATES = (CompanyState.ONLINE, CompanyState.REPLAYING)

NOT_CONNECTED = NormalizedError(
    type="INTEGRATION_CONNECTION_ERROR",
    code="COMPANY_NOT_CONNECTED",
    message="no Conductor end-user has sourceId equal to this companyid",
    user_facing_message=(
        "QuickBooks Desktop is not connected yet. Open the setup link to connect your "
        "company file, then press Sync now."
    ),
)
"""Why a company with no Conductor end-user is parked (category ``setup``)."""


@dataclass(frozen=True, slots=True)
class HealthResult:
    """One health check of a company's QuickBooks Desktop connection."""

    company_id: str
    healthy: bool
    error: NormalizedError | None = None
    kind: OutcomeClass | None = None  # the failure's class (connection, setup, transient...)
    auth_flow_url: str | None = None  # when the user must (re)do the setup

    @property
    def message(self) -> str:
        """What to show the user."""
        return _CONNECTED if self.error is None else self.error.user_facing_message

    @property
    def parks(self) -> bool:
        """Whether this failure means the company's QuickBooks is unreachable."""
        return self.kind in (OutcomeClass.CONNECTION, OutcomeClass.SETUP)


@dataclass(frozen=True, slots=True)
class Gate:
    """Whether a write for a company may go ahead now (``CompanyConnection.admit``)."""

    end_user: str | None = None
    """The company's Conductor end-user, its QuickBooks checked healthy: go ahead."""
    behind_parked: bool = False
    """The company is parked: the event must queue behind its parked work, in order."""


def catchup_delay(first: timedelta, attempts: int, draw: float) -> timedelta:
    """Delay before catch-up number ``attempts``: doubling from ``first`` to 6 h, ±20 % jitter."""
    base: timedelta = min(first * (2 ** min(max(0, attempts), 20)), _MAX_CATCHUP)
    return base * (0.8 + 0.4 * draw)


class CompanyConnection:
    """Owns company state: reads it (cached, this process owns the lanes), changes it."""

    def __init__(
        self,
        *,
        settings: Settings,
        companies: CompanyBook,
        attention: AttentionBook,
        gateway: ConductorGateway,
        publisher: Publisher,
        reader: Reader,
    ) -> None:
        self._settings = settings
        self._companies = companies
        self._attention = attention
        self._gateway = gateway
        self._publisher = publisher
        self._reader = reader
        self._states: dict[str, CompanyState] = {}
        self._parked_by: dict[str, NormalizedError | None] = {}
        self._last_contact: dict[str, datetime] = {}

    # -- reading ---------------------------------------------------------------------------

    async def state(self, company: str) -> CompanyState:
        """The company's connection state (cached; this process owns its lane)."""
        state = self._states.get(company)
        if state is None:
            state = self._states[company] = (await self._companies.get(company)).state
        return state

    async def is_parked(self, company: str) -> bool:
        """Whether the company's new work must queue behind its parked work."""
        return await self.state(company) in _PARKED_STATES

    async def parked_by(self, company: str) -> NormalizedError | None:
        """The error that parked the company (headers of work parked behind it)."""
        if company not in self._parked_by:
            found = await self._companies.find(company)
            stored = None if found is None else found.last_error
            self._parked_by[company] = None if stored is None else NormalizedError.from_dict(stored)
        return self._parked_by[company]

    async def end_user(self, company: str) -> str | None:
        """The company's Conductor end-user; transient failures retry through the policy."""
        return await self._reader.read(partial(self._gateway.end_user_for, company))

    def forget(self) -> None:
        """Drop what is cached (after a rebalance another instance may have changed it)."""
        self._states.clear()
        self._parked_by.clear()
        self._last_contact.clear()

    # -- the gate before a write -----------------------------------------------------------

    async def admit(self, company: str, *, replaying: bool) -> Gate:
        """May a write for ``company`` go ahead: behind parked work, not connected, or ready.

        ``replaying``: the write is part of the company's replay, so it does not queue behind
        the parked work it is. Raises ``Outcome`` when QuickBooks cannot be reached.
        """
        # 'replaying' outside a replay: one was cut short (crash, rebalance); the rest of the
        # company's parked work is still in the DLQ, so the event must queue behind it.
        if not replaying and await self.is_parked(company):
            return Gate(behind_parked=True)
        end_user = await self.end_user(company)
        if end_user is not None:
            await self.ensure_healthy(company, end_user)
        return Gate(end_user=end_user)

    # -- health ----------------------------------------------------------------------------

    async def ensure_healthy(self, company: str, end_user: str) -> None:
        """Health-check before the first write after start, idling or parking.

        Raises ``Outcome`` when QuickBooks cannot be reached (the caller parks the event).
        """
        now = datetime.now(UTC)
        state = await self.state(company)
        last = self._last_contact.get(company)
        if state in _LIVE_STATES and last is not None and now - last < _IDLE_RECHECK:
            self._last_contact[company] = now
            return
        await self._reader.read(partial(self._gateway.health_check, end_user))
        await self._companies.health_checked(company)
        self._last_contact[company] = now
        if state not in _LIVE_STATES:
            await self._set(company, CompanyState.ONLINE)

    async def check(self, company: str) -> HealthResult:
        """Health-check ``company`` now and record the result; never changes its state.

        Raises ``Halted`` when Conductor rejects our own key.
        """
        self._gateway.forget(company)
        end_user = await self._gateway.end_user_for(company)
        if end_user is None:
            result = HealthResult(company, False, NOT_CONNECTED, OutcomeClass.SETUP)
        else:
            try:
                await self._gateway.health_check(end_user)
                result = HealthResult(company, True)
            except Exception as exc:
                error = normalize(exc)
                kind = classify(error, phase="read").kind
                if kind is OutcomeClass.CONFIGURATION:
                    raise Halted(f"{error.code}: {error.message}") from exc
                result = HealthResult(company, False, error, kind)
        await self._companies.get(company)
        await self._companies.health_checked(
            company, None if result.error is None else result.error.as_dict()
        )
        if result.healthy:
            self._last_contact[company] = datetime.now(UTC)
        if result.kind is OutcomeClass.SETUP and end_user is not None:
            cause = await self.with_setup_link(company, _setup_cause(result.error))
            result = replace(result, auth_flow_url=cause.auth_flow_url)
        log.info(
            "health check",
            company_id=company,
            healthy=result.healthy,
            code=None if result.error is None else result.error.code,
        )
        return result

    # -- transitions -----------------------------------------------------------------------

    async def park(
        self,
        company: str,
        error: NormalizedError,
        category: AttentionCategory,
        *,
        event_id: str | None = None,
    ) -> None:
        """The company's QuickBooks cannot be reached: park it and tell its user once."""
        await self._set(company, CompanyState.PARKED, error=error)
        cause = Cause(
            error.code,
            category,
            error.user_facing_message,
            developer_message=f"{error.message} (request {error.request_id})",
        )
        if category is AttentionCategory.SETUP:
            cause = await self.with_setup_link(company, cause)
        await self._attention.raise_(company, cause, event_id)

    async def count_parked_behind(self, company: str, event_id: str) -> None:
        """One more event waits behind the company's parking cause (``occurrences``)."""
        await self._attention.count(company, event_id, PARKING_CATEGORIES)

    async def unhealthy(self, company: str, health: HealthResult) -> None:
        """A failed check: park the company if unreachable; schedule the next catch-up."""
        error = health.error
        assert error is not None
        state = await self.state(company)
        if health.parks:
            await self._set(company, CompanyState.PARKED, error=error)
            if health.kind is OutcomeClass.SETUP:
                cause = _setup_cause(error)
            else:
                cause = Cause(
                    error.code,
                    AttentionCategory.CONNECTION,
                    error.user_facing_message,
                    developer_message=f"{error.message} (request {error.request_id})",
                )
            await self._attention.raise_(
                company, replace(cause, auth_flow_url=health.auth_flow_url)
            )
        if health.parks or state in _PARKED_STATES:
            await self.schedule_catchup(company, error.code)

    async def replaying(self, company: str) -> None:
        """A replay of the company's parked work starts."""
        await self._set(company, CompanyState.REPLAYING)

    async def replay_stopped(self, company: str, error: NormalizedError | None = None) -> None:
        """A replay ended with parked work left: the company stays parked."""
        await self._set(company, CompanyState.PARKED, error=error)
        if error is not None:
            await self.schedule_catchup(company, error.code)

    async def replayed(self, company: str) -> None:
        """Nothing parked is left: the company is online and its parking notices resolve."""
        await self._set(company, CompanyState.ONLINE)
        await self._attention.resolve(company, categories=PARKING_CATEGORIES)

    async def schedule_catchup(self, company: str, why: str) -> None:
        """Schedule the next background catch-up of a parked company, with backoff."""
        record = await self._companies.get(company)
        delay = catchup_delay(
            self._settings.catchup_interval, record.catchup_attempts, random.random()
        )
        await self._companies.schedule_catchup(company, datetime.now(UTC) + delay)
        log.info(
            "company still unreachable; next catch-up scheduled",
            company_id=company,
            reason=why,
            retry_in_s=round(delay.total_seconds(), 3),
            attempt=record.catchup_attempts + 1,
        )

    async def _set(
        self, company: str, state: CompanyState, *, error: NormalizedError | None = None
    ) -> None:
        """Change the company's state in PostgreSQL and in the cache."""
        await self._companies.get(company)
        await self._companies.set_state(
            company, state, error=None if error is None else error.as_dict()
        )
        self._states[company] = state
        if state is CompanyState.PARKED and error is not None:
            self._parked_by[company] = error
        elif state is CompanyState.ONLINE:
            self._parked_by.pop(company, None)

    # -- setup -----------------------------------------------------------------------------

    async def with_setup_link(self, company: str, cause: Cause) -> Cause:
        """``cause`` with a setup link: the stored one while valid, else a fresh one."""
        record = await self._companies.get(company)
        now = datetime.now(UTC)
        if (
            record.setup_link_url
            and record.setup_link_expires_at
            and record.setup_link_expires_at > now + _LINK_MARGIN
        ):
            return replace(cause, auth_flow_url=record.setup_link_url)
        end_user = record.end_user_id or await self._gateway.end_user_for(company)
        if end_user is None or not self._settings.conductor_publishable_key:
            return cause
        try:
            link = await self._gateway.create_auth_session(
                end_user, expiry_mins=self._settings.auth_link_expiry_mins
            )
        except Exception as exc:  # noqa: BLE001 - parking must not wait for a setup link
            log.warning(
                "could not create a setup link", company_id=company, error=normalize(exc).code
            )
            return cause
        await self._companies.setup_link(company, link.url, link.expires_at)
        log.info("setup link created", company_id=company, expires_at=link.expires_at.isoformat())
        return replace(cause, auth_flow_url=link.url)

    async def connect(
        self, company: str, company_name: str, email: str | None, *, event_id: str | None = None
    ) -> str | None:
        """Create the company's end-user (sourceId = companyid) and publish a setup link."""
        # Under the policy like every Conductor call: a 4xx (a missing field) ends the event
        # failed through the caller's Outcome handling instead of retrying for ever.
        end_user = await self._reader.read(
            partial(self._gateway.create_end_user, company, company_name, email or "")
        )
        await self._companies.set_end_user(
            company, end_user, company_name=company_name, email=email
        )
        if await self.state(company) is CompanyState.UNKNOWN:
            await self._set(company, CompanyState.SETUP_PENDING)
        cause = await self.with_setup_link(
            company,
            Cause(
                "SETUP_LINK",
                AttentionCategory.SETUP,
                "Connect QuickBooks Desktop: open the setup link on the computer that runs "
                "QuickBooks and follow the steps.",
            ),
        )
        now = datetime.now(UTC)
        data = AttentionData(
            code=cause.code,
            category=cause.category,
            user_facing_message=cause.user_facing_message,
            auth_flow_url=cause.auth_flow_url,
            event_ids=[event_id] if event_id else [],
            first_seen=now,
            last_seen=now,
        )
        body = make_cloudevent(OutboundType.CONNECTION_SETUP_LINK, SOURCE, company, data)
        await self._publisher.send(self._settings.needs_attention_topic, company.encode(), body)
        return cause.auth_flow_url


def _setup_cause(error: NormalizedError | None) -> Cause:
    error = error or NOT_CONNECTED
    return Cause(
        error.code,
        AttentionCategory.SETUP,
        error.user_facing_message,
        developer_message=f"{error.message} (request {error.request_id})",
    )
