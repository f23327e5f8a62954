"""Syncer: runs one inbound event to a durable end state, inside its company's lane.

    ledger row -> pre-flight (what QuickBooks would refuse) -> company gate (parked?
      connected? healthy?) -> resolve mappings -> plan -> idempotent write (look up first
      after any unknown outcome)
      -> synced | failed | waiting_dependency | parked | halt

One app object (company, object type, app id) has one QuickBooks object: a ``*.created``
of a mapped app id updates it, and ``AppObjects`` keeps each app object's events in order
(an update waits for its create, fails ``NOT_SYNCED`` when that create failed).

Events that write no app object (``mapping.set``, settings, connect, reference pulls) run
in ``ControlEvents``. Every decision about an error comes from ``OutcomePolicy`` (through
the Reader and the writer); ``EndStates`` records the end state. What running an event did
comes back as a ``Ran``: follow-up work for the lane, whether the company parked, whether
a replay was asked.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import conductor

from processors.book_settings import BookSettings
from processors.errors import PlanError
from processors.gateway import WriteResult
from processors.ledger import Ledger, LedgerEntry, LedgerStatus, body_hash
from processors.logs import get_logger
from processors.mappings import MappingStore
from processors.outcome import NormalizedError, Outcome, normalize
from processors.pipeline.connection import NOT_CONNECTED, CompanyConnection
from processors.pipeline.control import ControlEvents, ReferenceLookup, StatusPull
from processors.pipeline.endstates import EndStates
from processors.pipeline.objects import AppObjects
from processors.pipeline.results import ResultBook
from processors.pipeline.writer import DELETED_IN_QUICKBOOKS, Draft, IdempotentWriter, Reader
from processors.preflight import preflight_error, refusals
from processors.work import Work, WorkKind
from processors.writes import (
    BILL_PAYMENT_KINDS,
    ExistingObject,
    ObjectState,
    WritePlan,
    required_refs,
    still_to_do,
    target_ref,
    target_resource,
)
from schemas import (
    AttentionCategory,
    EventType,
    ObjectType,
    Ref,
    SyncAction,
)

__all__ = ["Ran", "Syncer"]

log = get_logger("sync")
_END_USER_CHANGES = 3  # runs of one event while its company's end-user keeps changing


@dataclass(frozen=True, slots=True, kw_only=True)
class Ran:
    """What running one event did."""

    follow_ups: list[Work] = field(default_factory=list)
    """Released waiters, for the same lane."""
    parked: NormalizedError | None = None
    """The company went unreachable: the error that parked it (a replay stops here)."""
    replay: bool = False
    """A ``sync.requested``: replay the company's parked work, then ``settle`` the event."""
    look: bool = False
    """The company is parked but may be back: replay its parked work, then run this again."""


class Syncer:
    """The per-event pipeline; one instance serves every lane of the process."""

    def __init__(
        self,
        *,
        ledger: Ledger,
        mappings: MappingStore,
        connection: CompanyConnection,
        ends: EndStates,
        results: ResultBook,
        reader: Reader,
        writer: IdempotentWriter,
        books: BookSettings,
        reference: ReferenceLookup | None = None,
        status: StatusPull | None = None,
    ) -> None:
        self._ledger = ledger
        self._mappings = mappings
        self._connection = connection
        self._ends = ends
        self._results = results
        self._writer = writer
        self._books = books
        self._reference = reference
        self._objects = AppObjects(ledger=ledger, mappings=mappings, ends=ends)
        self._control = ControlEvents(
            ledger=ledger,
            mappings=mappings,
            connection=connection,
            ends=ends,
            results=results,
            reader=reader,
            books=books,
            reference=reference,
            status=status,
        )
        self._swept: set[str] = set()

    def forget(self) -> None:
        """After a rebalance: sweep each company's released waiters again."""
        self._swept.clear()
        self._books.forget()

    async def run(self, work: Work, *, replaying: bool = False) -> Ran:
        """Bring one event to a durable end state (or ask for a replay: ``Ran.replay``).

        ``replaying``: the event runs inside a replay of its company's parked work (it was
        read back from the DLQ, or released by one that was), so it does not queue behind it.
        """
        stranded = await self._sweep(work)
        ran = await self._run(work, replaying=replaying)
        return replace(ran, follow_ups=[*ran.follow_ups, *stranded])

    async def settle(self, work: Work) -> None:
        """Record a control event (``sync.requested``) done once its replay has run."""
        await self._control.settle(work)

    async def give_up(self, work: Work, error: BaseException) -> None:
        """Fail an event that keeps raising (a bug, not an outage) so its lane moves on."""
        log.error(
            "event keeps failing; recording it as failed",
            event_id=work.event.id,
            company_id=work.company_id,
            error=f"{type(error).__name__}: {error}",
        )
        if isinstance(error, conductor.APIStatusError):
            reason = normalize(error)  # Conductor's own "no", reached outside the policy
        else:
            reason = NormalizedError(
                type="INTERNAL_ERROR",
                code="PROCESSING_ERROR",
                message=f"qbd-sync could not process this event: {type(error).__name__}: {error}",
                user_facing_message=(
                    "This change could not be synced because of an internal error. "
                    "Our team has been notified."
                ),
            )
        await self._ends.fail(work, 0, reason)

    async def _sweep(self, work: Work) -> list[Work]:
        """Once per assignment, release waiting events whose mapping exists by now.

        Released waiters are follow-up work of the lane; a rebalance can drop them before
        they run. They stay ``waiting_dependency`` in the ledger, so the next owner finds
        them here on its first event of the company.
        """
        company = work.company_id
        if company in self._swept:
            return []
        self._swept.add(company)
        ready = await self._ledger.waiting_ready(company)
        return self._ends.released(company, ready, home=work.home)

    async def _run(self, work: Work, *, replaying: bool) -> Ran:
        event = work.event
        source = work.source
        digest = body_hash(event.type, event.companyid, event.envelope.data)
        target = target_ref(event)
        entry = await self._ledger.open(
            event_id=event.id,
            company_id=event.companyid,
            event_type=event.type,
            digest=digest,
            source=None if source is None else (source.topic, source.partition, source.offset),
            app_object=None if target is None else (str(target.object_type), target.app_id),
        )
        if entry.body_hash != digest:
            await self._results.conflict(work, entry)
            return Ran()
        if entry.status.final:
            if not entry.result_published:
                await self._results.republish(work, entry)
            return Ran()
        if entry.status is LedgerStatus.WAITING and work.kind is not WorkKind.RELEASED:
            return Ran()  # a redelivery of an event that already waits for its dependency
        if entry.status is LedgerStatus.PARKED and not replaying:
            return Ran()  # a redelivery of an event already in the DLQ
        if event.type is EventType.SYNC_REQUESTED:
            return Ran(replay=True)
        if event.type is EventType.MAPPING_SET:
            return Ran(follow_ups=await self._control.mapping_set(work))
        if event.type is EventType.COMPANY_CONNECT_REQUESTED:
            return Ran(parked=await self._control.connect(work, entry, replaying=replaying))
        if event.type is EventType.COMPANY_SETTINGS_UPDATED:
            await self._control.settings_updated(work)
            return Ran()
        if event.type is EventType.REFERENCE_PULL_REQUESTED and self._reference is None:
            await self._ends.fail(work, entry.attempts, _unsupported(event.type))
            return Ran()
        return await self._write_event(work, entry, replaying=replaying)

    async def _write_event(self, work: Work, entry: LedgerEntry, *, replaying: bool) -> Ran:
        refused = refusals(work.event.data, await self._books.books(work.company_id))
        if refused:
            await self._ends.fail(work, entry.attempts, preflight_error(refused))
            return Ran(follow_ups=await self._objects.failed(work))
        # A 404 may mean the company's end-user was deleted or replaced in Conductor: then
        # the event runs again (with the new end-user, or parked as not connected).
        for _ in range(_END_USER_CHANGES):
            try:
                return await self._write_once(work, entry, replaying=replaying)
            except Outcome as outcome:
                failed = outcome
            except PlanError as exc:
                await self._ends.fail(work, entry.attempts, _plan_error(exc))
                return Ran(follow_ups=await self._objects.failed(work))
            if not await self._connection.end_user_lost(work.company_id, failed.error):
                break
        if failed.error.code == DELETED_IN_QUICKBOOKS:
            await self._objects.deleted_in_quickbooks(work)
        parked = await self._ends.act(work, failed, replaying=replaying)
        if parked is not None:
            return Ran(parked=parked)
        return Ran(follow_ups=await self._objects.failed(work))

    async def _write_once(self, work: Work, entry: LedgerEntry, *, replaying: bool) -> Ran:
        """Gate, draft and write; raises ``Outcome`` or ``PlanError`` when it cannot."""
        gate = await self._connection.admit(work.company_id, replaying=replaying)
        if gate.look:
            return Ran(look=True)
        if gate.behind_parked:
            await self._ends.park_behind(work, entry.attempts)
            return Ran()
        end_user = gate.end_user
        if end_user is None:
            await self._ends.park(
                work,
                entry.attempts,
                NOT_CONNECTED,
                AttentionCategory.SETUP,
                replaying=replaying,
            )
            return Ran(parked=NOT_CONNECTED)
        if work.event.type is EventType.REFERENCE_PULL_REQUESTED:
            await self._control.pull_reference(work, entry, end_user)
            return Ran()
        drafted = await self._draft(work)
        if drafted is None:
            return Ran()
        draft, plan, state = drafted
        if still_to_do(plan, state):
            result = await self._writer.write(
                entry=entry, draft=draft, plan=plan, end_user=end_user
            )
            await self._connection.answered(work.company_id)
        else:
            result = _done_already(plan, entry)
        return Ran(follow_ups=await self._ends.synced(work, plan, result))

    async def _draft(self, work: Work) -> tuple[Draft, WritePlan, ObjectState] | None:
        """The event's resolved ids, its planned write and its object's state; None: it waits.

        Raises ``PlanError`` when the event cannot become a write (before anything is sent).
        """
        event, company = work.event, work.company_id
        refs = required_refs(event)
        target = target_ref(event)
        found = await self._mappings.resolve(company, [*refs, *([target] if target else [])])
        missing = [ref for ref in refs if ref not in found]
        if missing:
            await self._ends.wait(work, missing[0])
            return None
        mapping = None if target is None else found.get(target)
        if target is not None and await self._objects.waits(work, target, mapped=bool(mapping)):
            return None
        existing = None
        if target is not None and mapping is not None:
            resource = target_resource(event)
            if target.object_type is ObjectType.BILL_PAYMENT:
                # Two kinds, two resources: the one our write of it went to.
                kind = await self._ledger.written_as(
                    company, str(target.object_type), target.app_id, mapping.qbd_id
                )
                resource = BILL_PAYMENT_KINDS.get(kind or "")
            existing = ExistingObject(mapping.qbd_id, mapping.revision_number or "", resource)
        elif (
            target is not None and self._reference is not None and self._reference.auto_map != "off"
        ):
            existing, waits = await self._auto_map(work, target)
            if waits:
                return None
        draft = Draft(event=event, ids={ref: found[ref].qbd_id for ref in refs})
        state = ObjectState.ACTIVE if mapping is None else mapping.state
        return draft, draft.plan(existing), state

    async def _auto_map(self, work: Work, target: Ref) -> tuple[ExistingObject | None, bool]:
        """Adopt an unambiguous exact match from the local copy of QuickBooks lists.

        Other candidates make the event wait (True) for the user's ``mapping.set``, with
        attention ``MAPPING_NEEDED`` listing them, instead of creating a near-duplicate.
        """
        assert self._reference is not None
        company = work.company_id
        found = await self._reference.suggest_for(
            company, str(target.object_type), target.app_id, work.event.data
        )
        if found is None or not found.candidates:
            return None, False
        if found.auto is None:
            await self._ends.wait(work, target, candidates=[c.as_dict() for c in found.candidates])
            return None, True
        record = found.auto.record
        await self._mappings.put(
            company,
            str(target.object_type),
            target.app_id,
            record.qbd_id,
            revision_number=record.revision_number,
            source="auto",
        )
        log.info(
            "auto-mapped to an exact match",
            company_id=company,
            app_id=target.app_id,
            qbd_id=record.qbd_id,
        )
        resource = record.resource or target_resource(work.event)
        return ExistingObject(record.qbd_id, record.revision_number or "", resource), False


def _done_already(plan: WritePlan, entry: LedgerEntry) -> WriteResult:
    """The result of a void or delete its object's state says is already done."""
    assert plan.qbd_id is not None
    return WriteResult(
        qbd_object_type=plan.object_type_label,
        qbd_id=plan.qbd_id,
        revision_number=None,
        ref_number=None,
        attempts=entry.attempts,
        action=SyncAction.UNCHANGED,
    )


def _plan_error(exc: PlanError) -> NormalizedError:
    return NormalizedError(
        type="INVALID_REQUEST_ERROR",
        code=exc.code,
        message=exc.message,
        user_facing_message=exc.user_facing_message,
    )


def _unsupported(event_type: str) -> NormalizedError:
    return NormalizedError(
        type="INVALID_REQUEST_ERROR",
        code="NOT_SUPPORTED",
        message=f"{event_type} is not supported by this version of qbd-sync",
        user_facing_message="This request is not supported yet.",
    )
