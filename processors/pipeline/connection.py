"""CompanyConnection: the one owner of a company's connection state and its transitions.

    unknown ──connect──► setup_pending
       │                    │
       └─ answered / ok ────┴──► online ──unreachable──► parked ──replay──► replaying ──► online
                                                          ▲                     │
                                                          └──── unreachable ────┘

Everything that decides or records whether a company's QuickBooks can be reached lives here:
whether a write may go ahead (no health check in series before it: the write answers the
same question, and its answer counts as contact; a parked company is checked before its
replay), parking the company and telling its user once, when to look again
(``ProbeSchedule``: the background probes; a new event for a parked company whose last check
is older than a minute), setup links and connecting a new company. Every change of state is
published as ``qbd.company.state_changed`` (at least once, in order per company). Every other
module asks; none writes company state itself.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial

from processors.attention import PARKING_CATEGORIES, AttentionBook, Cause
from processors.companies import Company, CompanyBook
from processors.config import Settings
from processors.errors import Halted
from processors.gateway import ConductorGateway
from processors.logs import get_logger
from processors.outcome import NormalizedError, OutcomeClass, classify, normalize
from processors.pipeline.announce import StateAnnouncer
from processors.pipeline.gate import NOT_CONNECTED, Gate, HealthResult
from processors.pipeline.probes import ProbeBudget, ProbeSchedule, worth_probing_now
from processors.pipeline.setup import SetupLinks
from processors.pipeline.writer import Reader
from processors.publish import Publisher
from schemas import AttentionCategory, CompanyConnectionState

__all__ = ["NOT_CONNECTED", "CompanyConnection", "Gate", "HealthResult"]

log = get_logger("connection")
State = CompanyConnectionState
_PARKED_STATES = (State.PARKED, State.REPLAYING)
_LIVE_STATES = (State.ONLINE, State.REPLAYING)
_PARKED_BY = (*PARKING_CATEGORIES, AttentionCategory.CONFIGURATION)
"""Attention categories that mean "the company is parked"; going online resolves them."""
_CATEGORIES = {
    OutcomeClass.SETUP: AttentionCategory.SETUP,
    OutcomeClass.FORBIDDEN: AttentionCategory.CONFIGURATION,
}
_NEVER = datetime.min.replace(tzinfo=UTC)


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
        budget: ProbeBudget | None = None,
    ) -> None:
        self._settings = settings
        self._companies = companies
        self._attention = attention
        self._gateway = gateway
        self._reader = reader
        self._setup = SetupLinks(
            settings=settings, companies=companies, gateway=gateway, publisher=publisher
        )
        self._announcer = StateAnnouncer(companies=companies, publisher=publisher)
        self._schedule = ProbeSchedule.from_settings(settings)
        self.budget = budget or ProbeBudget(settings.max_probes_per_second)
        """Probes per second across all companies (shared with ``CatchUp``)."""
        self._states: dict[str, State] = {}
        self._parked_by: dict[str, NormalizedError | None] = {}
        self._looked: dict[str, datetime] = {}  # the last check of a parked company

    # -- reading ---------------------------------------------------------------------------

    async def state(self, company: str) -> State:
        """The company's connection state (cached; this process owns its lane)."""
        state = self._states.get(company)
        if state is None:
            state = self._states[company] = (await self._companies.get(company)).state
        return state

    async def is_parked(self, company: str) -> bool:
        """Whether the company's new work must queue behind its parked work."""
        return await self.state(company) in _PARKED_STATES

    def replay_running(self, company: str) -> bool:
        """Whether this process is running (or retrying) the company's replay right now."""
        return self._states.get(company) is State.REPLAYING

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
        self._looked.clear()

    # -- the gate before a write -----------------------------------------------------------

    async def admit(self, company: str, *, replaying: bool) -> Gate:
        """May a write for ``company`` go ahead: behind parked work, look first, or ready.

        ``replaying``: the write is part of the company's replay, so it does not queue behind
        the parked work it is. Raises ``Outcome`` when Conductor cannot name its end-user.
        """
        # 'replaying' outside a replay: one was cut short (crash, rebalance); the rest of the
        # company's parked work is still in the DLQ, so the event must queue behind it.
        if not replaying and await self.is_parked(company):
            if await self._worth_a_look(company):
                return Gate(look=True)
            return Gate(behind_parked=True)
        # No health check in series before the write: the write asks QuickBooks the same
        # question (its connection error parks the company as a failed check would, and its
        # answer counts as contact: ``answered``). Parked companies are checked before their
        # replay, and "Sync now" checks (issue 16).
        return Gate(end_user=await self.end_user(company))

    async def _worth_a_look(self, company: str) -> bool:
        """A new event for a parked company: check again if the last check is old enough.

        At most one look per company per ``QBD_SYNC_PARKED_RECHECK_INTERVAL``, and only
        within the global probe budget (when it is spent, the background probes come).
        """
        now = datetime.now(UTC)
        last = self._looked.get(company)
        if last is None:
            record = await self._companies.get(company)
            last = max(record.last_health_check or _NEVER, record.state_changed_at or _NEVER)
        if now - last < self._settings.parked_recheck_interval or not self.budget.take():
            self._looked[company] = last
            return False
        self._looked[company] = now
        log.info("new event for a parked company: checking whether it is back", company_id=company)
        return True

    # -- health ----------------------------------------------------------------------------

    async def answered(self, company: str) -> None:
        """QuickBooks answered a request for ``company``: it is reachable (it is online now).

        The first answer after start or a setup counts as a passed health check; later ones
        cost nothing (the company is known online).
        """
        if await self.state(company) not in _LIVE_STATES:
            await self._set(company, State.ONLINE, answered=True)

    async def check(self, company: str, *, paced: bool = False) -> HealthResult:
        """Health-check ``company`` now and record the result; never changes its state.

        ``paced``: a probe (background, or "Sync now"), which waits for its slot of the probe
        budget right before its request. An end-user that answers 404 is looked up again by
        ``sourceId`` (deleted or replaced in Conductor). Raises ``Halted`` when Conductor
        refuses our own key.
        """
        end_user = await self._gateway.end_user_for(company)
        if paced:
            await self.budget.turn()
        result = await self._health(company, end_user)
        if result.error is not None and result.error.http_status == 404 and end_user is not None:
            again = await self._gateway.resolve_again(company)
            if again != end_user:
                await self._end_user_changed(company, end_user, again)
                end_user = again
                result = await self._health(company, end_user)
        await self._companies.get(company)
        await self._companies.health_checked(
            company, None if result.error is None else result.error.as_dict()
        )
        now = datetime.now(UTC)
        self._looked[company] = now
        if result.kind is OutcomeClass.SETUP and end_user is not None:
            cause = await self._setup.with_link(
                company, _cause(result.error, AttentionCategory.SETUP)
            )
            result = replace(result, auth_flow_url=cause.auth_flow_url)
        log.info(
            "health check",
            company_id=company,
            healthy=result.healthy,
            code=None if result.error is None else result.error.code,
        )
        return result

    async def _health(self, company: str, end_user: str | None) -> HealthResult:
        if end_user is None:
            return HealthResult(company, False, NOT_CONNECTED, OutcomeClass.SETUP)
        try:
            await self._gateway.health_check(end_user)
        except Exception as exc:
            error = normalize(exc)
            kind = classify(error, phase="read").kind
            if kind is OutcomeClass.CONFIGURATION:
                raise Halted(f"{error.code}: {error.message}") from exc
            if kind is OutcomeClass.FORBIDDEN:
                await self.ensure_key_works(error)
            return HealthResult(company, False, error, kind)
        return HealthResult(company, True)

    async def ensure_key_works(self, error: NormalizedError) -> None:
        """After a 403: raise ``Halted`` only if Conductor refuses our key itself."""
        if not await self._gateway.key_works():
            raise Halted(f"{error.code}: {error.message}")

    async def end_user_lost(self, company: str, error: NormalizedError) -> bool:
        """After a 404: whether the company's end-user is gone (deleted or replaced).

        Lists end-users again by ``sourceId``: True when the company's end-user changed (the
        event may run again: with the new one, or parked as not connected); False when it
        is the same (something else is missing: the error stands).
        """
        known = self._gateway.cached_end_user(company)
        if error.http_status != 404 or known is None:
            return False
        again = await self._gateway.resolve_again(company)
        if again == known:
            return False
        await self._end_user_changed(company, known, again)
        return True

    async def _end_user_changed(self, company: str, old: str, new: str | None) -> None:
        if new is not None:
            await self._companies.set_end_user(company, new)
        log.warning(
            "the company's Conductor end-user is gone; looked up again by sourceId",
            company_id=company,
            old_end_user=old,
            new_end_user=new,
        )

    # -- transitions -----------------------------------------------------------------------

    async def park(
        self,
        company: str,
        error: NormalizedError,
        category: AttentionCategory,
        *,
        event_id: str | None = None,
    ) -> None:
        """The company's QuickBooks cannot be reached: park it and tell its user once.

        A Conductor answer that parks it (a write's connection error) was a look at its
        QuickBooks as much as a health check is, and is recorded as a failed one.
        """
        self._looked[company] = datetime.now(UTC)
        if error is not NOT_CONNECTED:
            await self._companies.health_checked(company, error.as_dict())
        await self._set(company, State.PARKED, error=error)
        cause = _cause(error, category)
        if category is AttentionCategory.SETUP:
            cause = await self._setup.with_link(company, cause)
        await self._attention.raise_(company, cause, event_id)

    async def count_parked_behind(self, company: str, event_id: str) -> None:
        """One more event waits behind the company's parking cause (``occurrences``)."""
        await self._attention.count(company, event_id, _PARKED_BY)

    async def unhealthy(self, company: str, health: HealthResult) -> None:
        """A failed check: park the company if unreachable; schedule the next probe."""
        error = health.error
        assert error is not None
        state = await self.state(company)
        if state is State.SETUP_PENDING and health.kind is OutcomeClass.SETUP:
            await self.schedule_probe(company, why=error.code)  # the setup link is out already
            return
        if health.parks:
            await self._set(company, State.PARKED, error=error)
            category = _CATEGORIES.get(health.kind or OutcomeClass.CONNECTION)
            cause = _cause(error, category or AttentionCategory.CONNECTION)
            await self._attention.raise_(
                company, replace(cause, auth_flow_url=health.auth_flow_url)
            )
        if health.parks or state in _PARKED_STATES:
            await self.schedule_probe(company, why=error.code)

    async def replaying(self, company: str) -> None:
        """A replay of the company's parked work starts."""
        await self._set(company, State.REPLAYING)

    async def replay_stopped(self, company: str, error: NormalizedError | None = None) -> None:
        """A replay ended with parked work left: the company stays parked."""
        await self._set(company, State.PARKED, error=error)
        if error is not None:
            await self.schedule_probe(company, why=error.code)

    async def replayed(self, company: str) -> None:
        """Nothing parked is left: the company is online and its parking notices resolve."""
        await self._set(company, State.ONLINE)
        await self._attention.resolve(company, categories=_PARKED_BY)

    # -- probes ----------------------------------------------------------------------------

    async def schedule_probe(self, company: str, *, why: str) -> None:
        """Schedule the next background probe of a waiting company (``ProbeSchedule``)."""
        record = await self._companies.get(company)
        now = datetime.now(UTC)
        delay = self._delay(record, now)
        await self._companies.schedule_probe(company, now + delay)
        log.info(
            "company still unreachable; next probe scheduled",
            company_id=company,
            reason=why,
            retry_in_s=round(delay.total_seconds(), 3),
            probes=record.catchup_attempts + 1,
        )

    def _delay(self, record: Company, now: datetime) -> timedelta:
        since = record.parked_since or record.state_changed_at or now
        needs_person = record.needs_person or record.state is State.SETUP_PENDING
        return self._schedule.delay(now - since, needs_person=needs_person, draw=random.random())

    async def watch(self) -> list[str]:
        """Read Conductor's end-user list (one request) and bring forward the probes of
        waiting companies whose connection changed since their last check; their ids.
        """
        waiting = await self._companies.waiting()
        if not waiting:
            return []
        connections = await self._gateway.connections()
        now, due = datetime.now(UTC), []
        for company in waiting:
            last = company.last_health_check or company.state_changed_at
            needs_person = company.needs_person or company.state is State.SETUP_PENDING
            info = connections.get(company.company_id)
            if worth_probing_now(info, last_probe=last, needs_person=needs_person):
                await self._companies.probe_soon(company.company_id, now)
                due.append(company.company_id)
        if due:
            log.info("connections changed in Conductor: probing now", companies=due[:20])
        return due

    async def announce_pending(self) -> int:
        """Publish state changes whose publish failed earlier (broker away); how many."""
        return await self._announcer.pending()

    async def _set(
        self,
        company: str,
        state: State,
        *,
        error: NormalizedError | None = None,
        answered: bool = False,
    ) -> None:
        """Change the company's state in PostgreSQL and in the cache, then announce it.

        ``answered``: QuickBooks just answered (recorded as a passed health check too).
        """
        record = await self._companies.get(company)
        stored = None if error is None else error.as_dict()
        first = None
        if state in (State.PARKED, State.SETUP_PENDING):
            now = datetime.now(UTC)
            waiting = replace(record, state=state, last_error=stored or record.last_error)
            first = now + self._delay(replace(waiting, parked_since=now), now)
        async with self._announcer.lock(company):
            change = await self._companies.set_state(
                company, state, error=stored, first_probe_at=first, answered=answered
            )
            self._states[company] = state
            if state is State.PARKED and error is not None:
                self._parked_by[company] = error
            elif state is State.ONLINE:
                self._parked_by.pop(company, None)
            if not change.announced:
                await self._announcer.announce(company, change, stored or record.last_error)
        if state is State.ONLINE and record.setup_prompted_at is not None:
            await self._setup.resolve(company)

    # -- setup -----------------------------------------------------------------------------

    async def connect(
        self, company: str, company_name: str, email: str | None, *, event_id: str | None = None
    ) -> str | None:
        """Create the company's end-user (sourceId = companyid) and publish a setup link."""
        # Under the policy like every Conductor call: a 4xx (a missing field) ends the event
        # failed through the caller's Outcome handling instead of retrying for ever.
        await self._reader.read(partial(self._setup.create_end_user, company, company_name, email))
        if await self.state(company) is State.UNKNOWN:
            await self._set(company, State.SETUP_PENDING)
        return await self._setup.prompt(company, event_id=event_id)


def _cause(error: NormalizedError | None, category: AttentionCategory) -> Cause:
    error = error or NOT_CONNECTED
    return Cause(
        error.code,
        category,
        error.user_facing_message,
        developer_message=f"{error.message} (request {error.request_id})",
    )
