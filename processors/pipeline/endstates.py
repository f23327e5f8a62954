"""EndStates: records an event's durable end state and tells whoever needs to know.

synced   -> result published, ledger + mapping + waiters in one statement
failed   -> ledger, one data attention, a failed result
waiting  -> ledger keeps the bytes; attention names the record to map
parked   -> company parked (CompanyConnection), the record copied to the DLQ
halt     -> raised to the engine (our key is rejected)
"""

from __future__ import annotations

from typing import Any, Final

import orjson

from processors.attention import AttentionBook, Cause
from processors.errors import Halted
from processors.gateway import WriteResult
from processors.intake import Accepted, decode
from processors.ledger import Ledger, Waiting
from processors.logs import get_logger
from processors.metrics import Metrics
from processors.outcome import Action, NormalizedError, Outcome, OutcomeClass
from processors.pipeline.connection import CompanyConnection
from processors.pipeline.parking import Parker
from processors.pipeline.results import ResultBook
from processors.work import Partition, Work, WorkKind
from processors.writes import WritePlan, state_after
from schemas import AttentionCategory, ObjectType, Ref, SyncAction, SyncStatus

__all__ = ["EndStates", "mapping_code"]

log = get_logger("sync")
_PARK_CATEGORIES = {
    "setup": AttentionCategory.SETUP,
    "configuration": AttentionCategory.CONFIGURATION,
}


_SYNC_BY_THEMSELVES: Final = frozenset(
    {ObjectType.INVOICE, ObjectType.CREDIT_MEMO, ObjectType.BILL}
)
"""Transactions other events apply to (payments, credits): they usually just have not synced
yet, so waiting for one asks the user for nothing."""


def mapping_code(ref: Ref) -> str:
    """The attention code that asks the user to map ``ref``."""
    return f"MAPPING_NEEDED:{ref.object_type}:{ref.app_id}"


class EndStates:
    """Brings events to synced, failed, waiting or parked (the Syncer decides which)."""

    def __init__(
        self,
        *,
        ledger: Ledger,
        attention: AttentionBook,
        connection: CompanyConnection,
        parker: Parker,
        results: ResultBook,
        metrics: Metrics,
        max_record_bytes: int,
    ) -> None:
        self._ledger = ledger
        self._attention = attention
        self._connection = connection
        self._parker = parker
        self._results = results
        self._metrics = metrics
        self._max_record_bytes = max_record_bytes

    async def synced(self, work: Work, plan: WritePlan, result: WriteResult) -> list[Work]:
        """Publish the result, then record ledger, mapping and waiters in one round trip.

        A crash between the two re-runs the event: the ledger still says ``attempting``, so
        the object is looked up and adopted and the result is published once more.
        """
        event, company = work.event, work.company_id
        await self._results.publish(
            work,
            status=SyncStatus.SYNCED,
            app_id=plan.app_id,
            qbd_object_type=result.qbd_object_type,
            qbd_id=result.qbd_id,
            attempts=result.attempts,
            action=result.action,
            mark=False,
        )
        ref = Ref(plan.app_object_type, plan.app_id)
        unchanged = result.action is SyncAction.UNCHANGED
        done = await self._ledger.complete(
            event.id,
            company_id=company,
            object_type=str(ref.object_type),
            app_id=ref.app_id,
            qbd_object_type=result.qbd_object_type,
            qbd_id=result.qbd_id,
            # Nothing written: the revision QuickBooks holds is not one this app left.
            revision_number=None if unchanged else result.revision_number,
            attention_code=mapping_code(ref),
            action=str(result.action),
            mapping_state=str(state_after(plan)),
        )
        self._metrics.event_synced(event.type)
        if done.attention_open:
            await self._attention.resolve(company, mapping_code(ref))
        return self.released(company, done.waiting, home=work.home)

    async def act(self, work: Work, outcome: Outcome, *, replaying: bool) -> NormalizedError | None:
        """Act on the policy's decision; the error that parked the company, if it did."""
        decision, error = outcome.decision, outcome.error
        if decision.action is Action.HALT:
            raise Halted(f"{error.code}: {error.message}")
        if decision.kind is OutcomeClass.FORBIDDEN:
            await self._connection.ensure_key_works(error)  # a refused key halts everything
        if decision.action is Action.PARK:
            category = _PARK_CATEGORIES.get(decision.attention or "", AttentionCategory.CONNECTION)
            await self.park(work, outcome.attempts, error, category, replaying=replaying)
            return error
        await self.fail(work, outcome.attempts, error)
        return None

    async def park(
        self,
        work: Work,
        attempts: int,
        error: NormalizedError,
        category: AttentionCategory,
        *,
        replaying: bool,
    ) -> None:
        """Park the company; copy the event to the DLQ unless it is being replayed from there."""
        await self._connection.park(work.company_id, error, category, event_id=work.event.id)
        if replaying:
            return
        await self._parker.park(
            work, reason=f"{error.type}: {error.message}"[:500], error=error, attempts=attempts
        )
        self._metrics.event_parked(work.event.type)

    async def park_behind(self, work: Work, attempts: int) -> None:
        """Park an event of an already parked company behind its parked work, in order."""
        company = work.company_id
        await self._parker.park(
            work,
            reason="company parked: keeping order behind parked work",
            error=await self._connection.parked_by(company),
            attempts=attempts,
        )
        await self._connection.count_parked_behind(company, work.event.id)
        self._metrics.event_parked(work.event.type)

    async def fail(self, work: Work, attempts: int, error: NormalizedError) -> None:
        """Record the final failure, tell the user once, publish the failed result."""
        event = work.event
        await self._ledger.failed(event.id, error.as_dict())
        code = error.code + (f"_{error.integration_code}" if error.integration_code else "")
        await self._attention.raise_(
            work.company_id,
            Cause(
                code,
                AttentionCategory.DATA,
                error.user_facing_message,
                developer_message=f"{error.message} (request {error.request_id})",
            ),
            event.id,
        )
        await self._results.publish(
            work, status=SyncStatus.FAILED, app_id=event.data.app_id, error=error
        )
        self._metrics.event_failed(event.type)

    async def wait(
        self,
        work: Work,
        dependency: Ref,
        *,
        candidates: list[dict[str, Any]] | None = None,
        attention: bool = True,
    ) -> None:
        """Keep the event in the ledger until ``dependency`` is mapped; name it to the user.

        ``attention=False``: the dependency is on its way (an older event of the same app
        object waits, or its create does), so there is nothing for the user to map.
        """
        event = work.event
        await self._ledger.waiting(
            event.id,
            on_type=str(dependency.object_type),
            on_app_id=dependency.app_id,
            raw=work.structured,
        )
        log.info(
            "event waits for a mapping",
            event_id=event.id,
            company_id=work.company_id,
            waiting_on=f"{dependency.object_type}:{dependency.app_id}",
        )
        if dependency.object_type in _SYNC_BY_THEMSELVES or not attention:
            return
        developer_message = f"no mapping for {dependency.object_type} {dependency.app_id}"
        if candidates:
            developer_message += f"; candidates: {orjson.dumps(candidates).decode()}"
        await self._attention.raise_(
            work.company_id,
            Cause(
                mapping_code(dependency),
                AttentionCategory.DATA,
                f"Choose the QuickBooks {dependency.object_type} that matches "
                f"{dependency.app_id!r}, or sync that record first.",
                developer_message=developer_message,
            ),
            event.id,
        )

    async def release(self, company: str, ref: Ref, *, home: Partition | None) -> list[Work]:
        """Events that waited for ``ref``: back into the lane, in arrival order."""
        await self._attention.resolve(company, mapping_code(ref))
        waiting = await self._ledger.take_waiting(company, str(ref.object_type), ref.app_id)
        return self.released(company, waiting, home=home)

    def released(
        self, company: str, waiting: list[Waiting], *, home: Partition | None
    ) -> list[Work]:
        """Waiting events as follow-up work for their company's lane.

        They carry the lane's ``home`` partition so a revoke drops them with the lane's other
        queued work (they stay ``waiting_dependency`` and the next owner's sweep finds them);
        otherwise two instances could run the same waiter at once.
        """
        released = []
        for item in waiting:
            decoded = decode(item.raw, None, max_bytes=self._max_record_bytes)
            if isinstance(decoded, Accepted):
                released.append(
                    Work(
                        kind=WorkKind.RELEASED,
                        company_id=company,
                        event=decoded.event,
                        raw=item.raw,
                        key=company.encode(),
                        home=home,
                    )
                )
        return released
