"""Syncer: runs one inbound event to a durable end state, inside its company's lane.

    ledger row -> company gate (parked? connected? healthy?) -> resolve mappings
      -> plan -> idempotent write (look up first after any unknown outcome)
      -> synced | failed | waiting_dependency | parked | halt

Every decision about an error comes from ``OutcomePolicy``; this module only acts on it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import asyncpg
import conductor
import httpx
from aiokafka.errors import KafkaError

from processors.attention import PARKING_CATEGORIES, AttentionBook
from processors.companies import CompanyBook, CompanyState
from processors.endstates import EndStates
from processors.engine import Halted, Work
from processors.gateway import ConductorGateway
from processors.ledger import Ledger, LedgerEntry, LedgerStatus, body_hash
from processors.logs import get_logger
from processors.mappings import MappingStore
from processors.metrics import Metrics
from processors.outcome import (
    NormalizedError,
    OutcomeClass,
    OutcomePolicy,
    classify,
    normalize,
)
from processors.parking import Parker
from processors.publish import Publisher
from processors.results import ResultBook
from processors.tracing import Tracing
from processors.writer import IdempotentWriter, Outcome
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
    Ref,
    SyncStatus,
)

__all__ = ["Syncer"]

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
_WAIT_OUT = (*_OUTAGES, conductor.APIError, httpx.HTTPError)
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
        tracing: Tracing | None = None,
    ) -> None:
        self.ledger = ledger
        self.mappings = mappings
        self.companies = companies
        self.attention = attention
        self.parker = parker
        self.gateway = gateway
        self.publisher = publisher
        self.policy = policy or OutcomePolicy()
        self.metrics = metrics or Metrics()
        self.writer = IdempotentWriter(ledger, mappings, gateway, self.policy)
        self.tracing = tracing or Tracing(enabled=False)
        self.results = ResultBook(publisher, ledger, self.tracing)
        self.ends = EndStates(
            ledger=ledger, attention=attention, parker=parker, results=self.results,
            metrics=self.metrics, set_state=self.set_state, max_record_bytes=max_record_bytes,
        )  # fmt: skip
        self._states: dict[str, CompanyState] = {}
        self._swept: set[str] = set()
        self._last_contact: dict[str, datetime] = {}
        self._replayer: Any = None
        self.reference: Any = None  # set by the service (processors.reference.ReferencePuller)

    @property
    def replayer(self) -> Any:
        """The Replayer (processors.replay), set by the service; it also makes setup links."""
        return self._replayer

    @replayer.setter
    def replayer(self, replayer: Any) -> None:
        self._replayer = replayer
        self.ends.setup_links = None if replayer is None else replayer.with_setup_link

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
        if isinstance(error, _WAIT_OUT):
            # A dependency misbehaving (Conductor, the network) is waited out, never failed.
            return False
        log.error("event keeps failing; recording it as failed", event_id=work.event.id,
                  company_id=work.company_id, error=f"{type(error).__name__}: {error}")  # fmt: skip
        await self.ends.fail(work, 0, NormalizedError(
            type="INTERNAL_ERROR", code="PROCESSING_ERROR",
            message=f"qbd-sync could not process this event: {type(error).__name__}: {error}",
            user_facing_message="This change could not be synced because of an internal error. "
                                "Our team has been notified.",
        ))  # fmt: skip
        return True

    async def process(self, work: Work) -> list[Work]:
        """Run one work item (an event, or a replay of a company's parked work)."""
        with self.tracing.span(work.event, work.company_id):
            return await self._process(work)

    async def _process(self, work: Work) -> list[Work]:
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
        stranded = await self._sweep(work)
        return [*await self._run_event(work, replaying=replaying), *stranded]

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
        return self.ends.released(company, await self.ledger.waiting_ready(company),
                                  home=work.home)  # fmt: skip

    async def _run_event(self, work: Work, *, replaying: bool) -> list[Work]:
        event = work.event
        digest = body_hash(event.type, event.companyid, event.envelope.data)
        source = (work.tp.topic, work.tp.partition, work.offset) if work.tp else None
        entry = await self.ledger.open(
            event_id=event.id, company_id=event.companyid, event_type=event.type,
            digest=digest, source=source,
        )  # fmt: skip
        if entry.body_hash != digest:
            await self.results.conflict(work, entry)
            return []
        if entry.status.final:
            if not entry.result_published:
                await self.results.republish(work, entry)
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
            await self.ends.fail(work, entry.attempts, _unsupported(event.type))
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
        try:
            end_user = await self._end_user(company)
            if end_user is None:
                await self.ends.park(work, entry.attempts, _NOT_CONNECTED, AttentionCategory.SETUP,
                                 replaying=replaying)  # fmt: skip
                return []
            await self._ensure_healthy(company, end_user)
            if work.event.type is EventType.REFERENCE_PULL_REQUESTED:
                return await self._pull_reference(work, entry, end_user)
            plan = await self._plan(work, entry)
            if plan is None:
                return []
            result = await self.writer.write(work, entry, plan, end_user)
        except Outcome as outcome:
            await self.ends.act(work, outcome, replaying=replaying)
            return []
        return await self.ends.synced(work, plan, result)

    async def _plan(self, work: Work, entry: LedgerEntry) -> WritePlan | None:
        event, company = work.event, work.company_id
        refs = required_refs(event)
        target = target_ref(event)
        found = await self.mappings.resolve(company, [*refs, *([target] if target else [])])
        missing = [ref for ref in refs if ref not in found]
        if missing:
            await self.ends.wait(work, missing[0])
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
            await self.ends.fail(work, entry.attempts, error)
            return None

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
            await self.ends.wait(work, target, candidates=[c.as_dict() for c in found.candidates])
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
        await self.writer.read(pull, attempts=entry.attempts)
        await self.ledger.synced(event.id, qbd_object_type=None, qbd_id=None)
        await self.results.publish(work, SyncStatus.SYNCED, None, None, None, None)
        return []

    async def _end_user(self, company: str) -> str | None:
        """The company's Conductor end-user; transient failures retry through the policy."""
        found = await self.writer.read(partial(self.gateway.end_user_for, company))
        return None if found is None else str(found)

    async def _ensure_healthy(self, company: str, end_user: str) -> None:
        """Health-check before the first write after start, idling or parking."""
        now = datetime.now(UTC)
        state = await self.state(company)
        last = self._last_contact.get(company)
        if state in _LIVE_STATES and last is not None and now - last < _IDLE_RECHECK:
            self._last_contact[company] = now
            return
        await self.writer.read(partial(self.gateway.health_check, end_user))
        await self.companies.health_checked(company)
        self._last_contact[company] = now
        if state is not CompanyState.ONLINE and state is not CompanyState.REPLAYING:
            await self.set_state(company, CompanyState.ONLINE)

    # -- control events -------------------------------------------------------------------

    async def _mapping_set(self, work: Work) -> list[Work]:
        data: Any = work.event.data
        await self.mappings.put(work.company_id, str(data.object_type), data.mapped_app_id,
                                data.qbd_id, source="user")  # fmt: skip
        await self.ledger.synced(work.event.id, qbd_object_type=None, qbd_id=data.qbd_id)
        await self.results.publish(work, SyncStatus.SYNCED, data.mapped_app_id, None,
                                   data.qbd_id, None)  # fmt: skip
        ref = Ref(data.object_type, data.mapped_app_id)
        return await self.ends.release(work.company_id, ref, home=work.home)

    async def _sync_requested(self, work: Work) -> list[Work]:
        if self.replayer is not None:
            await self.replayer.replay(work.company_id, self)
        await self.ledger.synced(work.event.id, qbd_object_type=None, qbd_id=None)
        await self.ledger.result_published(work.event.id)
        return []

    async def _connect(self, work: Work) -> list[Work]:
        data: Any = work.event.data
        if self.replayer is None:
            await self.ends.fail(work, 0, _unsupported(work.event.type))
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


def _unsupported(event_type: str) -> NormalizedError:
    return NormalizedError(
        type="INVALID_REQUEST_ERROR", code="NOT_SUPPORTED",
        message=f"{event_type} is not supported by this version of qbd-sync",
        user_facing_message="This request is not supported yet.",
    )  # fmt: skip
