"""IdempotentWriter: one QuickBooks write per event, whatever the network does (DESIGN §4).

Before a write the ledger says ``attempting`` in its own commit. After an earlier attempt or
an unknown outcome (timeout, dropped connection, 5xx after sending, crash), the object is
looked up by its ``externalId`` marker first and adopted if found; only a lookup that proves
absence allows another write. Every error goes through ``OutcomePolicy``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

from processors.engine import Work
from processors.gateway import ConductorGateway, WriteResult
from processors.ledger import Ledger, LedgerEntry
from processors.logs import get_logger
from processors.mappings import MappingStore
from processors.outcome import Action, Decision, NormalizedError, OutcomePolicy, normalize
from processors.writes import WritePlan, plan_write, required_refs

__all__ = ["IdempotentWriter", "Outcome", "Retry"]

log = get_logger("writer")


class Outcome(Exception):
    """A call ended without the wanted answer: what the policy decided and why."""

    def __init__(self, decision: Decision, error: NormalizedError, attempts: int) -> None:
        super().__init__(error.code)
        self.decision = decision
        self.error = error
        self.attempts = attempts


@dataclass(frozen=True, slots=True)
class Retry:
    """A read failed transiently: try again after ``delay`` seconds."""

    delay: float


class IdempotentWriter:
    """Runs reads and writes against Conductor under the policy and the ambiguity rule."""

    def __init__(
        self,
        ledger: Ledger,
        mappings: MappingStore,
        gateway: ConductorGateway,
        policy: OutcomePolicy,
    ) -> None:
        self._ledger = ledger
        self._mappings = mappings
        self._gateway = gateway
        self.policy = policy

    async def call(
        self, action: Callable[[], Awaitable[Any]], *, attempts: int = 0, transient: int = 0
    ) -> Any:
        """Run a read once; return its value, or ``Retry`` with a delay, or raise Outcome."""
        try:
            return await action()
        except Exception as exc:
            error = normalize(exc)
            decision = self.policy.decide(error, phase="read", attempt=transient + 1)
            if decision.action is Action.RETRY:
                return Retry(decision.delay)
            raise Outcome(decision, error, attempts) from exc

    async def read(self, action: Callable[[], Awaitable[Any]], *, attempts: int = 0) -> Any:
        """Run a read until it answers, backing off on transient failures (or raise Outcome)."""
        transient = 0
        while isinstance(found := await self.call(action, attempts=attempts,
                                                  transient=transient), Retry):  # fmt: skip
            transient += 1
            await asyncio.sleep(found.delay)
        return found

    async def write(
        self, work: Work, entry: LedgerEntry, plan: WritePlan, end_user: str
    ) -> WriteResult:
        """Write once; after any earlier attempt or unknown outcome, look the object up first.

        Records the attempt count in ``work.extra["attempts"]`` for the sync result.
        """
        event_id = work.event.id
        if plan.qbd_id and not plan.params.get("revision_number"):
            # Mapped by the user or an import: learn the object's revision before updating.
            refetch = partial(self._refetched, work, plan, end_user)
            found = await self.call(refetch, attempts=entry.attempts)
            plan = plan if isinstance(found, Retry) else found
        must_look = entry.attempts > 0 and plan.op == "create"
        since = entry.attempt_started_at or datetime.now(UTC)
        transient = refetches = 0
        attempts = entry.attempts
        while True:
            if must_look:
                found = await self.call(
                    partial(self._gateway.find_created, end_user, plan, since=since),
                    attempts=attempts, transient=transient,
                )  # fmt: skip
                if isinstance(found, Retry):
                    transient += 1
                    await asyncio.sleep(found.delay)
                    continue
                if isinstance(found, WriteResult):
                    log.info("adopted object written by an earlier attempt", event_id=event_id,
                             qbd_id=found.qbd_id)  # fmt: skip
                    work.extra["attempts"] = attempts
                    return found
                must_look = False
            attempts = await self._ledger.begin_attempt(event_id)
            work.extra["attempts"] = attempts
            since = datetime.now(UTC)
            try:
                result: WriteResult = await self._gateway.execute(end_user, plan)
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

    async def _lookup_quietly(
        self, end_user: str, plan: WritePlan, since: datetime
    ) -> WriteResult | None:
        try:
            return await self._gateway.find_created(end_user, plan, since=since)
        except Exception:  # noqa: BLE001 - the ledger keeps 'attempting'; replay looks again
            return None

    async def _refetched(self, work: Work, plan: WritePlan, end_user: str) -> WritePlan:
        assert plan.qbd_id is not None
        existing = await self._gateway.retrieve(end_user, plan.resource, plan.qbd_id)
        refs = required_refs(work.event)
        found = await self._mappings.resolve(work.company_id, refs)
        return plan_write(work.event, {ref: found[ref].qbd_id for ref in refs}, existing)
