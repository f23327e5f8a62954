"""Reader and IdempotentWriter: Conductor calls under the outcome policy (DESIGN §4 and §5).

``Reader`` runs a read until it answers: transient failures back off and retry, everything
else raises ``Outcome`` with the policy's decision. An outage of our own dependencies
(PostgreSQL, the broker) inside a read is not Conductor's answer: it goes up unchanged, for
the engine to wait out.

``IdempotentWriter`` writes one QuickBooks object per event, whatever the network does.
Before a write the ledger says ``attempting`` in its own commit. After an earlier attempt or
an unknown outcome (timeout, dropped connection, 5xx after sending, crash), it looks before
writing again: a create is looked up by its ``externalId`` marker and adopted if found (only
a lookup that proves absence allows another write); a delete that finds the object gone, or
a void that finds it void, is done; an update compares the object's current fields with
what it sends and writes only what still differs, on the current revision.

An update or void of an object deleted in QuickBooks fails with ``DELETED_IN_QUICKBOOKS``;
a delete of an object that is already gone succeeds (``unchanged``, or ``deleted`` when an
earlier attempt of the same event may have deleted it).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from typing import Final, TypeVar

from processors.backoff import pause
from processors.gateway import ConductorGateway, WriteResult, is_gone
from processors.ledger import Ledger, LedgerEntry
from processors.logs import get_logger
from processors.outcome import (
    Action,
    Decision,
    NormalizedError,
    Outcome,
    OutcomeClass,
    OutcomePolicy,
    normalize,
    outage,
)
from processors.writes import (
    TRANSACTION_RESOURCES,
    DeletedInQuickBooks,
    ExistingObject,
    ResolvedIds,
    WritePlan,
    deleted_in_quickbooks,
    plan_write,
)
from schemas import EventData, InboundEvent, SyncAction

__all__ = ["DELETED_IN_QUICKBOOKS", "Draft", "IdempotentWriter", "Reader"]

DELETED_IN_QUICKBOOKS: Final = DeletedInQuickBooks.code
"""Error code of an update or void of an object someone deleted in QuickBooks."""

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
    """Writes under the policy and the ambiguity rule: look before writing again."""

    def __init__(self, *, ledger: Ledger, gateway: ConductorGateway, reader: Reader) -> None:
        self._ledger = ledger
        self._gateway = gateway
        self._reader = reader

    async def write(
        self, *, entry: LedgerEntry, draft: Draft, plan: WritePlan, end_user: str
    ) -> WriteResult:
        """Write once; after any earlier attempt or unknown outcome, look first.

        Looking depends on the write (``_look``): a create is looked up by its marker, a
        delete or void by the object's state, and a transaction update is planned again
        against the object as QuickBooks holds it (which it always is before its first
        attempt): when that object already holds every field, nothing is written. The result
        says how many attempts the event took and what happened (its action).
        """
        event_id = entry.event_id
        if plan.op == "update" and not plan.stale and not plan.params.get("revision_number"):
            # Mapped by the user or an import: learn the object's revision before updating.
            found = await self._reader.once(
                partial(self._refetched, draft, plan, end_user), attempts=entry.attempts
            )
            plan = plan if isinstance(found, _Retry) else found
        look = plan.stale or entry.attempts > 0
        since = entry.attempt_started_at or datetime.now(UTC)
        transient = refetches = 0
        attempts = entry.attempts
        while True:
            if look:
                looked = await self._reader.once(
                    partial(self._look, draft, plan, end_user, since=since, attempts=attempts),
                    attempts=attempts,
                    transient=transient,
                )
                if isinstance(looked, _Retry):
                    transient += 1
                    await pause(looked.delay)
                    continue
                if isinstance(looked, WriteResult):
                    log.info(
                        "nothing to write: QuickBooks already holds it",
                        event_id=event_id,
                        qbd_id=looked.qbd_id,
                        action=str(looked.action),
                    )
                    return replace(looked, attempts=attempts)
                if isinstance(looked, WritePlan):
                    plan = looked
                elif looked is _GONE:
                    raise _deleted_in_quickbooks(plan, attempts)
                look = False
            attempts = await self._ledger.begin_attempt(event_id)
            since = datetime.now(UTC)
            try:
                result = await self._gateway.execute(end_user, plan)
                return replace(result, attempts=attempts)
            except Exception as exc:
                error = normalize(exc)
                if plan.op != "create" and is_gone(error):
                    if plan.op != "delete":
                        raise _deleted_in_quickbooks(plan, attempts) from exc
                    # Deleting what is gone succeeds; an earlier attempt of ours may have done it.
                    return _deleted(plan, attempts, by_us=attempts > 1)
                decision = self._reader.policy.decide(
                    error, phase="write", attempt=transient + 1, refetches=refetches
                )
                look = decision.reconcile
                if decision.action is Action.RETRY:
                    transient += 1
                    await pause(decision.delay)
                    continue
                if decision.action is Action.REFETCH_AND_RETRY and plan.qbd_id:
                    refetches += 1
                    if _against_current(plan):
                        look = True
                    else:
                        plan = await self._reader.read(
                            partial(self._refetched, draft, plan, end_user), attempts=attempts
                        )
                    continue
                if look and decision.action is Action.PARK:
                    # Before parking an unknown outcome, try once to learn it.
                    adopted = await self._lookup_quietly(draft, plan, end_user, since, attempts)
                    if adopted is not None:
                        return replace(adopted, attempts=attempts)
                raise Outcome(decision, error, attempts) from exc

    async def _look(
        self, draft: Draft, plan: WritePlan, end_user: str, *, since: datetime, attempts: int
    ) -> WriteResult | WritePlan | object | None:
        """What QuickBooks holds now, before writing (again).

        A transaction update: a result when the object already holds every field (an
        earlier attempt of ours wrote them, or they were so from the start), else the plan
        against the object's current revision, or ``_GONE`` when it was deleted. Any other
        write: what an earlier attempt left (``landed``), or None when it did not land.
        """
        if not _against_current(plan):
            return await self._gateway.landed(end_user, plan, since=since)
        assert plan.qbd_id is not None
        record = await self._gateway.current(end_user, plan.resource, plan.qbd_id)
        if record is None:
            return _GONE
        current = ExistingObject(
            plan.qbd_id, str(record.get("revisionNumber") or ""), plan.resource, record=record
        )
        fresh = draft.plan(current)
        if not fresh.unchanged:
            return fresh
        return WriteResult(
            qbd_object_type=str(record.get("objectType") or plan.object_type_label),
            qbd_id=plan.qbd_id,
            revision_number=current.revision_number,
            ref_number=record.get("refNumber"),
            action=SyncAction.UPDATED if attempts > 0 else SyncAction.UNCHANGED,
        )

    async def _lookup_quietly(
        self, draft: Draft, plan: WritePlan, end_user: str, since: datetime, attempts: int
    ) -> WriteResult | None:
        try:
            looked = await self._look(draft, plan, end_user, since=since, attempts=attempts)
        except Exception:  # noqa: BLE001 - the ledger keeps 'attempting'; replay looks again
            return None
        return looked if isinstance(looked, WriteResult) else None

    async def _refetched(self, draft: Draft, plan: WritePlan, end_user: str) -> WritePlan:
        """The plan again, against the object's current revision in QuickBooks."""
        assert plan.qbd_id is not None
        existing = await self._gateway.retrieve(end_user, plan.resource, plan.qbd_id)
        return draft.plan(existing)


_GONE: Final = object()
"""``_look`` found no object to update: it was deleted in QuickBooks."""


def _against_current(plan: WritePlan) -> bool:
    """Whether the plan is a transaction update, planned against the object QuickBooks holds."""
    return plan.op == "update" and plan.app_object_type in TRANSACTION_RESOURCES


def _deleted(plan: WritePlan, attempts: int, *, by_us: bool) -> WriteResult:
    assert plan.qbd_id is not None
    return WriteResult(
        qbd_object_type=plan.object_type_label,
        qbd_id=plan.qbd_id,
        revision_number=None,
        ref_number=None,
        attempts=attempts,
        action=SyncAction.DELETED if by_us else SyncAction.UNCHANGED,
    )


def _deleted_in_quickbooks(plan: WritePlan, attempts: int) -> Outcome:
    """The final failure of a change to an object someone deleted in QuickBooks."""
    gone = deleted_in_quickbooks(plan)
    error = NormalizedError(
        type="INTEGRATION_ERROR",
        code=gone.code,
        message=gone.message,
        user_facing_message=gone.user_facing_message,
    )
    return Outcome(Decision(Action.FAIL, OutcomeClass.DATA, attention="data"), error, attempts)
