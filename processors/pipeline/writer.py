"""Reader and IdempotentWriter: Conductor calls under the outcome policy (DESIGN §4 and §5).

``Reader`` runs a read until it answers: transient failures back off and retry, everything
else raises ``Outcome`` with the policy's decision. An outage of our own dependencies
(PostgreSQL, the broker) inside a read is not Conductor's answer: it goes up unchanged, for
the engine to wait out.

``IdempotentWriter`` writes one QuickBooks object per event, whatever the network does.
Before a write the ledger says ``attempting`` in its own commit. After an earlier attempt or
an unknown outcome (timeout, dropped connection, 5xx after sending, crash), the object is
looked up by its ``externalId`` marker first and adopted if found; only a lookup that proves
absence allows another write.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from typing import TypeVar

from processors.backoff import pause
from processors.errors import Outcome
from processors.gateway import ConductorGateway, WriteResult
from processors.ledger import Ledger, LedgerEntry
from processors.logs import get_logger
from processors.outcome import Action, OutcomePolicy, normalize, outage
from processors.writes import ExistingObject, ResolvedIds, WritePlan, plan_write
from schemas import EventData, InboundEvent

__all__ = ["Draft", "IdempotentWriter", "Reader"]

log = get_logger("writer")
_T = TypeVar("_T")
_OWN_DEPENDENCIES = ("database", "broker")


@dataclass(frozen=True, slots=True)
class _Retry:
    """A read failed transiently: try again after ``delay`` seconds."""

    delay: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Draft:
    """An event with its resolved ids: plans its write against any current revision."""

    event: InboundEvent[EventData]
    ids: ResolvedIds

    def plan(self, existing: ExistingObject | None) -> WritePlan:
        """The write, as an update of ``existing`` when there is one."""
        return plan_write(self.event, self.ids, existing)


class Reader:
    """Runs Conductor reads under the policy; the only place reads are retried."""

    def __init__(self, policy: OutcomePolicy) -> None:
        self.policy = policy

    async def once(
        self, action: Callable[[], Awaitable[_T]], *, attempts: int = 0, transient: int = 0
    ) -> _T | _Retry:
        """Run a read once: its value, a ``_Retry`` with a delay, or raise ``Outcome``."""
        try:
            return await action()
        except Exception as exc:
            if outage(exc) in _OWN_DEPENDENCIES:
                raise  # PostgreSQL or the broker, not Conductor: the engine waits it out
            error = normalize(exc)
            decision = self.policy.decide(error, phase="read", attempt=transient + 1)
            if decision.action is Action.RETRY:
                return _Retry(decision.delay)
            raise Outcome(decision, error, attempts) from exc

    async def read(self, action: Callable[[], Awaitable[_T]], *, attempts: int = 0) -> _T:
        """Run a read until it answers, backing off on transient failures (or raise Outcome)."""
        transient = 0
        while True:
            found = await self.once(action, attempts=attempts, transient=transient)
            if not isinstance(found, _Retry):
                return found
            transient += 1
            await pause(found.delay)


class IdempotentWriter:
    """Writes under the policy and the ambiguity rule: look up before writing again."""

    def __init__(self, *, ledger: Ledger, gateway: ConductorGateway, reader: Reader) -> None:
        self._ledger = ledger
        self._gateway = gateway
        self._reader = reader

    async def write(
        self, *, entry: LedgerEntry, draft: Draft, plan: WritePlan, end_user: str
    ) -> WriteResult:
        """Write once; after any earlier attempt or unknown outcome, look the object up first.

        The result says how many attempts the event took (for its sync result).
        """
        event_id = entry.event_id
        if plan.qbd_id and not plan.params.get("revision_number"):
            # Mapped by the user or an import: learn the object's revision before updating.
            found = await self._reader.once(
                partial(self._refetched, draft, plan, end_user), attempts=entry.attempts
            )
            plan = plan if isinstance(found, _Retry) else found
        must_look = entry.attempts > 0 and plan.op == "create"
        since = entry.attempt_started_at or datetime.now(UTC)
        transient = refetches = 0
        attempts = entry.attempts
        while True:
            if must_look:
                looked = await self._reader.once(
                    partial(self._gateway.find_created, end_user, plan, since=since),
                    attempts=attempts,
                    transient=transient,
                )
                if isinstance(looked, _Retry):
                    transient += 1
                    await pause(looked.delay)
                    continue
                if looked is not None:
                    log.info(
                        "adopted object written by an earlier attempt",
                        event_id=event_id,
                        qbd_id=looked.qbd_id,
                    )
                    return replace(looked, attempts=attempts)
                must_look = False
            attempts = await self._ledger.begin_attempt(event_id)
            since = datetime.now(UTC)
            try:
                result = await self._gateway.execute(end_user, plan)
                return replace(result, attempts=attempts)
            except Exception as exc:
                error = normalize(exc)
                decision = self._reader.policy.decide(
                    error, phase="write", attempt=transient + 1, refetches=refetches
                )
                must_look = decision.reconcile
                if decision.action is Action.RETRY:
                    transient += 1
                    await pause(decision.delay)
                    continue
                if decision.action is Action.REFETCH_AND_RETRY and plan.qbd_id:
                    refetches += 1
                    plan = await self._reader.read(
                        partial(self._refetched, draft, plan, end_user), attempts=attempts
                    )
                    continue
                if must_look and decision.action is Action.PARK:
                    # Before parking an unknown outcome, try once to learn it.
                    adopted = await self._lookup_quietly(end_user, plan, since)
                    if adopted is not None:
                        return replace(adopted, attempts=attempts)
                raise Outcome(decision, error, attempts) from exc

    async def _lookup_quietly(
        self, end_user: str, plan: WritePlan, since: datetime
    ) -> WriteResult | None:
        try:
            return await self._gateway.find_created(end_user, plan, since=since)
        except Exception:  # noqa: BLE001 - the ledger keeps 'attempting'; replay looks again
            return None

    async def _refetched(self, draft: Draft, plan: WritePlan, end_user: str) -> WritePlan:
        """The plan again, against the object's current revision in QuickBooks."""
        assert plan.qbd_id is not None
        existing = await self._gateway.retrieve(end_user, plan.resource, plan.qbd_id)
        return draft.plan(existing)
