"""Syncer: runs one inbound event to a durable end state, inside its company's lane.

    ledger row -> company gate (parked? connected? healthy?) -> resolve mappings
      -> plan -> idempotent write (look up first after any unknown outcome)
      -> synced | failed | waiting_dependency | parked | halt

Every decision about an error comes from ``OutcomePolicy``; this module only acts on it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import asyncpg
import orjson
from aiokafka.errors import KafkaError

from processors.attention import PARKING_CATEGORIES, AttentionBook, Cause
from processors.companies import CompanyBook, CompanyState
from processors.engine import Halted, Work
from processors.gateway import ConductorGateway, WriteResult
from processors.intake import Accepted, decode
from processors.ledger import Ledger, LedgerEntry, LedgerStatus, Waiting, body_hash
from processors.logs import get_logger
from processors.mappings import MappingStore
from processors.metrics import Metrics
from processors.outcome import (
    Action,
    Decision,
    NormalizedError,
    OutcomeClass,
    OutcomePolicy,
    classify,
    normalize,
)
from processors.parking import Parker
from processors.publish import Publisher
from processors.writes import (
    ExistingObject,
    PlanError,
    WritePlan,
    plan_write,
    required_refs,
    target_ref,
    target_resource,
)
from schemas import (
    AttentionCategory,
    EventType,
    NormalizedErrorData,
    ObjectType,
    Ref,
    SyncResultData,
    SyncStatus,
)

__all__ = ["Outcome", "Syncer"]

log = get_logger("sync")
_IDLE_RECHECK = timedelta(minutes=10)
# Failures to wait out rather than give up on: the database or broker is away for a while.
_OUTAGES: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    KafkaError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.OperatorInterventionError,
)
_PARKED_STATES = (CompanyState.PARKED, CompanyState.REPLAYING)
_LIVE_STATES = (CompanyState.ONLINE, CompanyState.REPLAYING)
_NOT_CONNECTED = NormalizedError(
    type="INTEGRATION_CONNECTION_ERROR",
    code="COMPANY_NOT_CONNECTED",
    message="no Conductor end-user has sourceId equal to this companyid",
    user_facing_message=(
        "QuickBooks Desktop is not connected yet. Open the setup link to connect your "
        "company file, then press Sync now."
    ),
)


class Outcome(Exception):
    """A write ended without a QuickBooks object: what to do and why."""

    def __init__(self, decision: Decision, error: NormalizedError, attempts: int) -> None:
        super().__init__(error.code)
        self.decision = decision
        self.error = error
        self.attempts = attempts


class Syncer:
    """The per-event pipeline; one instance serves every lane of the process."""

    def __init__(
        self,
        *,
        ledger: Ledger,
        mappings: MappingStore,
        companies: CompanyBook,
        attention: AttentionBook,
        parker: Parker,
        gateway: ConductorGateway,
        publisher: Publisher,
        policy: OutcomePolicy | None = None,
        max_record_bytes: int = 1_048_576,
        metrics: Metrics | None = None,
    ) -> None:
        self.ledger = ledger
        self.mappings = mappings
        self.companies = companies
        self.attention = attention
        self.parker = parker
        self.gateway = gateway
        self.publisher = publisher
        self.policy = policy or OutcomePolicy()
        self._max_record_bytes = max_record_bytes
        self.metrics = metrics or Metrics()
        self._states: dict[str, CompanyState] = {}
        self._swept: set[str] = set()
        self._last_contact: dict[str, datetime] = {}
        self.replayer: Any = None  # set by the service (processors.replay.Replayer)
        self.reference: Any = None  # set by the service (processors.reference.ReferencePuller)

    # -- engine hooks ---------------------------------------------------------------------

    async def rejected(self, record: Any, reason: str) -> None:
        """Publish an unprocessable record to the rejected topic."""
        await self.publisher.rejected(record.key, record.value, record.headers or (), reason)
        log.info("record rejected", reason=reason, partition=record.partition,
                 offset=record.offset)  # fmt: skip

    async def key_works(self) -> bool:
        """Probe our Conductor key with a cheap call (listing end-users needs a valid key)."""
        probe = "qbd-sync-key-probe"
        self.gateway.forget(probe)
        await self.gateway.end_user_for(probe)
        return True

    async def give_up(self, work: Work, error: BaseException) -> bool:
        """Fail an event that keeps raising (a bug); keep waiting out outages."""
        if isinstance(error, _OUTAGES):
            return False
        log.error("event keeps failing; recording it as failed", event_id=work.event.id,
                  company_id=work.company_id, error=f"{type(error).__name__}: {error}")  # fmt: skip
        await self._fail(work, 0, NormalizedError(
            type="INTERNAL_ERROR", code="PROCESSING_ERROR",
            message=f"qbd-sync could not process this event: {type(error).__name__}: {error}",
            user_facing_message="This change could not be synced because of an internal error. "
                                "Our team has been notified.",
        ))  # fmt: skip
        return True

    async def process(self, work: Work) -> list[Work]:
        """Run one work item (an event, or a replay of a company's parked work)."""
        try:
            if work.extra.get("replay") and self.replayer is not None:
                await self.replayer.replay(work.company_id, self)
                return []
            return await self.run_event(work)
        except Halted:
            raise
        except Exception as exc:
            # Our key rejected outside a classified call (e.g. the end-user lookup) must
            # halt too; retried as a plain error it would end as PROCESSING_ERROR: lost.
            error = normalize(exc)
            if classify(error, phase="read").kind is OutcomeClass.CONFIGURATION:
                raise Halted(f"{error.code}: {error.message}") from exc
            raise

    # -- one event ------------------------------------------------------------------------

    async def run_event(self, work: Work, *, replaying: bool = False) -> list[Work]:
        """Bring one event to a durable end state; return released follow-up work."""
        stranded = await self._sweep(work.company_id)
        return [*await self._run_event(work, replaying=replaying), *stranded]

    async def _sweep(self, company: str) -> list[Work]:
        """Once per assignment, release waiting events whose mapping exists by now.

        Released waiters are follow-up work of the lane; a rebalance can drop them before
        they run. They stay ``waiting_dependency`` in the ledger, so the next owner finds
        them here on its first event of the company.
        """
        if company in self._swept:
            return []
        self._swept.add(company)
        return self._released(company, await self.ledger.waiting_ready(company))

    async def _run_event(self, work: Work, *, replaying: bool) -> list[Work]:
        event = work.event
        digest = body_hash(event.type, event.companyid, event.envelope.data)
        source = (work.tp.topic, work.tp.partition, work.offset) if work.tp else None
        entry = await self.ledger.open(
            event_id=event.id, company_id=event.companyid, event_type=event.type,
            digest=digest, source=source,
        )  # fmt: skip
        if entry.body_hash != digest:
            await self._conflict(work, entry)
            return []
        if entry.status.final:
            if not entry.result_published:
                await self._publish_entry(work, entry)
            return []
        if entry.status is LedgerStatus.WAITING and not work.extra.get("released"):
            return []  # a redelivery of an event that already waits for its dependency
        if entry.status is LedgerStatus.PARKED and not replaying:
            return []  # a redelivery of an event already in the DLQ
        if event.type is EventType.MAPPING_SET:
            return await self._mapping_set(work)
        if event.type is EventType.SYNC_REQUESTED:
            return await self._sync_requested(work)
        if event.type is EventType.COMPANY_CONNECT_REQUESTED:
            return await self._connect(work)
        if event.type is EventType.REFERENCE_PULL_REQUESTED and self.reference is None:
            await self._fail(work, entry.attempts, _unsupported(event.type))
            return []
        return await self._write_event(work, entry, replaying=replaying)

    async def _write_event(self, work: Work, entry: LedgerEntry, *, replaying: bool) -> list[Work]:
        company = work.company_id
        # 'replaying' outside a replay: one was cut short (crash, rebalance); the rest of the
        # company's parked work is still in the DLQ, so this event must queue behind it.
        if not replaying and await self.state(company) in _PARKED_STATES:
            await self.parker.park(work, reason="company parked: keeping order behind parked work",
                                   error=None, attempts=entry.attempts)  # fmt: skip
            await self.attention.count(company, work.event.id, PARKING_CATEGORIES)
            self.metrics.event_parked(work.event.type)
            return []
        end_user = await self.gateway.end_user_for(company)
        if end_user is None:
            await self._park(work, entry.attempts, _NOT_CONNECTED, AttentionCategory.SETUP,
                             replaying=replaying)  # fmt: skip
            return []
        try:
            await self._ensure_healthy(company, end_user)
            if work.event.type is EventType.REFERENCE_PULL_REQUESTED:
                return await self._pull_reference(work, entry, end_user)
            plan = await self._plan(work, entry)
            if plan is None:
                return []
            result = await self._write(work, entry, plan, end_user)
        except Outcome as outcome:
            await self._act(work, outcome, replaying=replaying)
            return []
        return await self._synced(work, plan, result)

    async def _plan(self, work: Work, entry: LedgerEntry) -> WritePlan | None:
        event, company = work.event, work.company_id
        refs = required_refs(event)
        target = target_ref(event)
        found = await self.mappings.resolve(company, [*refs, *([target] if target else [])])
        missing = [ref for ref in refs if ref not in found]
        if missing:
            await self._wait(work, missing[0])
            return None
        existing = None
        if target is not None and target in found:
            mapping = found[target]
            existing = ExistingObject(mapping.qbd_id, mapping.revision_number or "",
                                      target_resource(event))  # fmt: skip
        elif target is not None and self.reference is not None and self.reference.auto_map != "off":
            existing, waits = await self._auto_map(work, target)
            if waits:
                return None
        try:
            return plan_write(event, {ref: found[ref].qbd_id for ref in refs}, existing)
        except PlanError as exc:
            error = NormalizedError(type="INVALID_REQUEST_ERROR", code=exc.code,
                                    message=exc.message,
                                    user_facing_message=exc.user_facing_message)  # fmt: skip
            await self._fail(work, entry.attempts, error)
            return None

    async def _write(
        self, work: Work, entry: LedgerEntry, plan: WritePlan, end_user: str
    ) -> WriteResult:
        """Write once; after any earlier attempt or unknown outcome, look the object up first."""
        event_id = work.event.id
        if plan.qbd_id and not plan.params.get("revision_number"):
            # Mapped by the user or an import: learn the object's revision before updating.
            refetch = partial(self._refetched, work, plan, end_user)
            found = await self._call(refetch, phase="read", attempts=entry.attempts, transient=0)
            plan = plan if isinstance(found, _Retry) else found
        must_look = entry.attempts > 0 and plan.op == "create"
        since = entry.attempt_started_at or datetime.now(UTC)
        transient = refetches = 0
        attempts = entry.attempts
        while True:
            if must_look:
                found = await self._call(
                    partial(self.gateway.find_created, end_user, plan, since=since),
                    phase="read", attempts=attempts, transient=transient,
                )  # fmt: skip
                if isinstance(found, _Retry):
                    transient += 1
                    await asyncio.sleep(found.delay)
                    continue
                if isinstance(found, WriteResult):
                    log.info("adopted object written by an earlier attempt", event_id=event_id,
                             qbd_id=found.qbd_id)  # fmt: skip
                    work.extra["attempts"] = attempts
                    return found
                must_look = False
            attempts = await self.ledger.begin_attempt(event_id)
            work.extra["attempts"] = attempts
            since = datetime.now(UTC)
            try:
                result: WriteResult = await self.gateway.execute(end_user, plan)
                return result
            except Exception as exc:
                error = normalize(exc)
                decision = self.policy.decide(error, phase="write", attempt=transient + 1,
                                              refetches=refetches)  # fmt: skip
                must_look = decision.reconcile
                if decision.action is Action.RETRY:
                    transient += 1
                    await asyncio.sleep(decision.delay)
                    continue
                if decision.action is Action.REFETCH_AND_RETRY and plan.qbd_id:
                    refetches += 1
                    plan = await self._refetched(work, plan, end_user)
                    continue
                if must_look and decision.action is Action.PARK:
                    # Before parking an unknown outcome, try once to learn it.
                    found = await self._lookup_quietly(end_user, plan, since)
                    if found is not None:
                        return found
                raise Outcome(decision, error, attempts) from exc

    async def _auto_map(self, work: Work, target: Ref) -> tuple[ExistingObject | None, bool]:
        """Adopt an unambiguous exact match from the local copy of QuickBooks lists.

        Other candidates make the event wait (True) for the user's ``mapping.set``, with
        attention ``MAPPING_NEEDED`` listing them, instead of creating a near-duplicate.
        """
        company = work.company_id
        found = await self.reference.suggest_for(company, str(target.object_type),
                                                 target.app_id, work.event.data)  # fmt: skip
        if found is None or not found.candidates:
            return None, False
        if found.auto is None:
            await self._wait(work, target, candidates=[c.as_dict() for c in found.candidates])
            return None, True
        record = found.auto.record
        await self.mappings.put(company, str(target.object_type), target.app_id, record.qbd_id,
                                revision_number=record.revision_number, source="auto")  # fmt: skip
        log.info("auto-mapped to an exact match", company_id=company, app_id=target.app_id,
                 qbd_id=record.qbd_id)  # fmt: skip
        resource = record.resource or target_resource(work.event)
        return ExistingObject(record.qbd_id, record.revision_number or "", resource), False

    async def _pull_reference(self, work: Work, entry: LedgerEntry, end_user: str) -> list[Work]:
        """Pull QuickBooks lists in the company's lane; a transient failure resumes the pull."""
        event: Any = work.event
        pull = partial(self.reference.pull, work.company_id, end_user, event.data.object_types,
                       run_id=event.id, request_event_id=event.id)  # fmt: skip
        transient = 0
        while isinstance(done := await self._call(pull, phase="read", attempts=entry.attempts,
                                                  transient=transient), _Retry):  # fmt: skip
            transient += 1
            await asyncio.sleep(done.delay)
        await self.ledger.synced(event.id, qbd_object_type=None, qbd_id=None)
        await self._publish_result(work, SyncStatus.SYNCED, None, None, None, None)
        return []

    async def _call(self, action: Any, *, phase: str, attempts: int, transient: int) -> Any:
        """Run a read; return its value, or ``_Retry`` with a delay, or raise Outcome."""
        try:
            return await action()
        except Exception as exc:
            error = normalize(exc)
            decision = self.policy.decide(error, phase="read", attempt=transient + 1)
            if decision.action is Action.RETRY:
                return _Retry(decision.delay)
            raise Outcome(decision, error, attempts) from exc

    async def _lookup_quietly(
        self, end_user: str, plan: WritePlan, since: datetime
    ) -> WriteResult | None:
        try:
            return await self.gateway.find_created(end_user, plan, since=since)
        except Exception:  # noqa: BLE001 - the ledger keeps 'attempting'; replay looks again
            return None

    async def _refetched(self, work: Work, plan: WritePlan, end_user: str) -> WritePlan:
        assert plan.qbd_id is not None
        existing = await self.gateway.retrieve(end_user, plan.resource, plan.qbd_id)
        refs = required_refs(work.event)
        found = await self.mappings.resolve(work.company_id, refs)
        return plan_write(work.event, {ref: found[ref].qbd_id for ref in refs}, existing)

    async def _ensure_healthy(self, company: str, end_user: str) -> None:
        """Health-check before the first write after start, idling or parking."""
        now = datetime.now(UTC)
        state = await self.state(company)
        last = self._last_contact.get(company)
        if state in _LIVE_STATES and last is not None and now - last < _IDLE_RECHECK:
            self._last_contact[company] = now
            return
        transient = 0
        while True:
            outcome = await self._call(
                lambda: self.gateway.health_check(end_user),
                phase="read",
                attempts=0,
                transient=transient,
            )
            if not isinstance(outcome, _Retry):
                break
            transient += 1
            await asyncio.sleep(outcome.delay)
        await self.companies.health_checked(company)
        self._last_contact[company] = now
        if state is not CompanyState.ONLINE and state is not CompanyState.REPLAYING:
            await self.set_state(company, CompanyState.ONLINE)

    # -- end states -----------------------------------------------------------------------

    async def _synced(self, work: Work, plan: WritePlan, result: WriteResult) -> list[Work]:
        """Publish the result, then record ledger, mapping and waiters in one round trip.

        A crash between the two re-runs the event: the ledger still says ``attempting``, so
        the object is looked up and adopted and the result is published once more.
        """
        event, company = work.event, work.company_id
        await self._publish_result(work, SyncStatus.SYNCED, plan.app_id, result.qbd_object_type,
                                   result.qbd_id, None, attempts=work.extra.get("attempts", 1),
                                   mark=False)  # fmt: skip
        ref = Ref(plan.app_object_type, plan.app_id)
        done = await self.ledger.complete(
            event.id, company_id=company, object_type=str(ref.object_type), app_id=ref.app_id,
            qbd_object_type=result.qbd_object_type, qbd_id=result.qbd_id,
            revision_number=result.revision_number, attention_code=_mapping_code(ref),
        )  # fmt: skip
        self.metrics.event_synced(event.type)
        if done.attention_open:
            await self.attention.resolve(company, _mapping_code(ref))
        return self._released(company, done.waiting)

    async def _act(self, work: Work, outcome: Outcome, *, replaying: bool) -> None:
        decision, error = outcome.decision, outcome.error
        if decision.action is Action.HALT:
            raise Halted(f"{error.code}: {error.message}")
        if decision.action is Action.PARK:
            category = (AttentionCategory.SETUP if decision.attention == "setup"
                        else AttentionCategory.CONNECTION)  # fmt: skip
            await self._park(work, outcome.attempts, error, category, replaying=replaying)
            return
        await self._fail(work, outcome.attempts, error)

    async def _park(
        self, work: Work, attempts: int, error: NormalizedError, category: AttentionCategory,
        *, replaying: bool,
    ) -> None:  # fmt: skip
        company = work.company_id
        await self.set_state(company, CompanyState.PARKED, error=error.as_dict())
        cause = Cause(
            error.code,
            category,
            error.user_facing_message,
            developer_message=f"{error.message} (request {error.request_id})",
        )
        if category is AttentionCategory.SETUP and self.replayer is not None:
            cause = await self.replayer.with_setup_link(company, cause)
        await self.attention.raise_(company, cause, work.event.id)
        if replaying:
            raise StopReplay(error)
        await self.parker.park(work, reason=f"{error.type}: {error.message}"[:500], error=error,
                               attempts=attempts)  # fmt: skip
        self.metrics.event_parked(work.event.type)

    async def _fail(self, work: Work, attempts: int, error: NormalizedError) -> None:
        event = work.event
        await self.ledger.failed(event.id, error.as_dict())
        code = error.code + (f"_{error.integration_code}" if error.integration_code else "")
        await self.attention.raise_(
            work.company_id,
            Cause(code, AttentionCategory.DATA, error.user_facing_message,
                  developer_message=f"{error.message} (request {error.request_id})"),
            event.id,
        )  # fmt: skip
        await self._publish_result(work, SyncStatus.FAILED, event.data.app_id, None, None, error)
        self.metrics.event_failed(event.type)

    async def _wait(
        self, work: Work, dependency: Ref, *, candidates: list[dict[str, Any]] | None = None
    ) -> None:
        event = work.event
        await self.ledger.waiting(event.id, on_type=str(dependency.object_type),
                                  on_app_id=dependency.app_id, raw=work.raw)  # fmt: skip
        log.info("event waits for a mapping", event_id=event.id, company_id=work.company_id,
                 waiting_on=f"{dependency.object_type}:{dependency.app_id}")  # fmt: skip
        if dependency.object_type is not ObjectType.INVOICE:
            await self.attention.raise_(
                work.company_id,
                Cause(_mapping_code(dependency),
                      AttentionCategory.DATA,
                      f"Choose the QuickBooks {dependency.object_type} that matches "
                      f"{dependency.app_id!r}, or sync that record first.",
                      developer_message=f"no mapping for {dependency.object_type} "
                                        f"{dependency.app_id}"
                                        + (f"; candidates: {orjson.dumps(candidates).decode()}"
                                           if candidates else "")),
                event.id,
            )  # fmt: skip

    async def _release(self, company: str, ref: Ref) -> list[Work]:
        """Events that waited for ``ref``: back into the lane, in arrival order."""
        await self.attention.resolve(company, _mapping_code(ref))
        waiting = await self.ledger.take_waiting(company, str(ref.object_type), ref.app_id)
        return self._released(company, waiting)

    def _released(self, company: str, waiting: list[Waiting]) -> list[Work]:
        """Waiting events as follow-up work for their company's lane."""
        released = []
        for item in waiting:
            decoded = decode(item.raw, None, max_bytes=self._max_record_bytes)
            if isinstance(decoded, Accepted):
                released.append(Work(company, decoded.event, item.raw, company.encode(), [],
                                     0, extra={"released": True}))  # fmt: skip
        return released

    # -- control events -------------------------------------------------------------------

    async def _mapping_set(self, work: Work) -> list[Work]:
        data: Any = work.event.data
        await self.mappings.put(work.company_id, str(data.object_type), data.mapped_app_id,
                                data.qbd_id, source="user")  # fmt: skip
        await self.ledger.synced(work.event.id, qbd_object_type=None, qbd_id=data.qbd_id)
        await self._publish_result(work, SyncStatus.SYNCED, data.mapped_app_id, None,
                                   data.qbd_id, None)  # fmt: skip
        return await self._release(work.company_id, Ref(data.object_type, data.mapped_app_id))

    async def _sync_requested(self, work: Work) -> list[Work]:
        if self.replayer is not None:
            await self.replayer.replay(work.company_id, self)
        await self.ledger.synced(work.event.id, qbd_object_type=None, qbd_id=None)
        await self.ledger.result_published(work.event.id)
        return []

    async def _connect(self, work: Work) -> list[Work]:
        data: Any = work.event.data
        if self.replayer is None:
            await self._fail(work, 0, _unsupported(work.event.type))
            return []
        await self.replayer.connect(work.company_id, data.company_name, data.email,
                                    event_id=work.event.id)  # fmt: skip
        await self.ledger.synced(work.event.id, qbd_object_type=None, qbd_id=None)
        await self.ledger.result_published(work.event.id)
        return []

    # -- helpers --------------------------------------------------------------------------

    async def state(self, company: str) -> CompanyState:
        """The company's connection state (cached; this process owns its lane)."""
        state = self._states.get(company)
        if state is None:
            state = self._states[company] = (await self.companies.get(company)).state
        return state

    async def set_state(
        self, company: str, state: CompanyState, *, error: dict[str, Any] | None = None
    ) -> None:
        """Change the company's state in PostgreSQL and in the cache."""
        await self.companies.get(company)
        await self.companies.set_state(company, state, error=error)
        self._states[company] = state

    def contacted(self, company: str) -> None:
        """Note that the company's QuickBooks just answered a health check."""
        self._last_contact[company] = datetime.now(UTC)

    def forget_states(self) -> None:
        """Drop cached states (after a rebalance another instance may have changed them)."""
        self._states.clear()
        self._last_contact.clear()
        self._swept.clear()

    async def _publish_result(
        self, work: Work, status: SyncStatus, app_id: str | None, qbd_object_type: str | None,
        qbd_id: str | None, error: NormalizedError | None, *, attempts: int | None = None,
        mark: bool = True,
    ) -> None:  # fmt: skip
        """Publish the event's sync result; ``mark`` records that it was published."""
        if attempts is None:
            entry = await self.ledger.get(work.event.id)
            attempts = entry.attempts if entry else 0
        result = SyncResultData(
            event_id=work.event.id, event_type=work.event.type, status=status, app_id=app_id,
            qbd_object_type=qbd_object_type, qbd_id=qbd_id, attempts=attempts,
            error=None if error is None else _error_data(error),
        )  # fmt: skip
        await self.publisher.result(work.company_id, result, traceparent=work.event.traceparent)
        if mark:
            await self.ledger.result_published(work.event.id)

    async def _publish_entry(self, work: Work, entry: LedgerEntry) -> None:
        status = SyncStatus.SYNCED if entry.status is LedgerStatus.SYNCED else SyncStatus.FAILED
        error = None if entry.error is None else _error_from(entry.error)
        await self._publish_result(work, status, work.event.data.app_id, entry.qbd_object_type,
                                   entry.qbd_id, error)  # fmt: skip

    async def _conflict(self, work: Work, entry: LedgerEntry) -> None:
        error = NormalizedError(
            type="INVALID_REQUEST_ERROR", code="IDEMPOTENCY_CONFLICT",
            message=f"event id {work.event.id} was already used for a different body "
                    f"(status {entry.status}); the new body is not applied",
            user_facing_message="This change was sent twice with different contents and was "
                                "not applied. Please resend it as a new change.",
        )  # fmt: skip
        result = SyncResultData(
            event_id=work.event.id,
            event_type=work.event.type,
            status=SyncStatus.FAILED,
            app_id=work.event.data.app_id,
            attempts=0,
            error=_error_data(error),
        )
        await self.publisher.result(work.company_id, result)


@dataclass(frozen=True, slots=True)
class _Retry:
    """A read failed transiently: try again after ``delay`` seconds."""

    delay: float


class StopReplay(Exception):
    """The company went offline again during a replay: stop and leave the rest parked."""

    def __init__(self, error: NormalizedError) -> None:
        super().__init__(error.code)
        self.error = error


def _mapping_code(ref: Ref) -> str:
    """The attention code that asks the user to map ``ref``."""
    return f"MAPPING_NEEDED:{ref.object_type}:{ref.app_id}"


def _error_data(error: NormalizedError) -> NormalizedErrorData:
    """The outbound shape of a normalized error (retry hints stay internal)."""
    fields = error.as_dict()
    fields.pop("retry_after", None)
    return NormalizedErrorData.model_validate(fields)


def _error_from(stored: dict[str, Any]) -> NormalizedError:
    """A NormalizedError back from its ledger JSON."""
    return NormalizedError(
        type=str(stored.get("type", "")), code=str(stored.get("code", "")),
        message=str(stored.get("message", "")),
        user_facing_message=str(stored.get("user_facing_message", "")),
        http_status=stored.get("http_status"), integration_code=stored.get("integration_code"),
        request_id=stored.get("request_id"),
    )  # fmt: skip


def _unsupported(event_type: str) -> NormalizedError:
    return NormalizedError(
        type="INVALID_REQUEST_ERROR", code="NOT_SUPPORTED",
        message=f"{event_type} is not supported by this version of qbd-sync",
        user_facing_message="This request is not supported yet.",
    )  # fmt: skip
