"""EndStates: records an event's durable end state and tells whoever needs to know.

synced   -> result published, ledger + mapping + waiters in one statement
failed   -> ledger, one data attention, a failed result
waiting  -> ledger keeps the bytes; attention names the record to map
parked   -> company parked, attention, the record copied to the DLQ
halt     -> raised to the engine (our key is rejected)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from processors.attention import AttentionBook, Cause
from processors.companies import CompanyState
from processors.engine import Halted, Work
from processors.gateway import WriteResult
from processors.intake import Accepted, decode
from processors.ledger import Ledger, Waiting
from processors.logs import get_logger
from processors.metrics import Metrics
from processors.outcome import Action, NormalizedError
from processors.parking import Parker
from processors.results import ResultBook
from processors.writer import Outcome
from processors.writes import WritePlan
from schemas import AttentionCategory, ObjectType, Ref, SyncStatus

__all__ = ["EndStates", "StopReplay", "mapping_code"]

log = get_logger("sync")

SetState = Callable[..., Awaitable[None]]
SetupLinks = Callable[[str, Cause], Awaitable[Cause]]


class StopReplay(Exception):
    """The company went offline again during a replay: stop and leave the rest parked."""

    def __init__(self, error: NormalizedError) -> None:
        super().__init__(error.code)
        self.error = error


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
        parker: Parker,
        results: ResultBook,
        metrics: Metrics,
        set_state: SetState,
        max_record_bytes: int,
    ) -> None:
        self.ledger = ledger
        self.attention = attention
        self.parker = parker
        self.results = results
        self.metrics = metrics
        self._set_state = set_state
        self._max_record_bytes = max_record_bytes
        self.setup_links: SetupLinks | None = None

    async def synced(self, work: Work, plan: WritePlan, result: WriteResult) -> list[Work]:
        """Publish the result, then record ledger, mapping and waiters in one round trip.

        A crash between the two re-runs the event: the ledger still says ``attempting``, so
        the object is looked up and adopted and the result is published once more.
        """
        event, company = work.event, work.company_id
        await self.results.publish(work, SyncStatus.SYNCED, plan.app_id, result.qbd_object_type,
                                   result.qbd_id, None, attempts=work.extra.get("attempts", 1),
                                   mark=False)  # fmt: skip
        ref = Ref(plan.app_object_type, plan.app_id)
        done = await self.ledger.complete(
            event.id, company_id=company, object_type=str(ref.object_type), app_id=ref.app_id,
            qbd_object_type=result.qbd_object_type, qbd_id=result.qbd_id,
            revision_number=result.revision_number, attention_code=mapping_code(ref),
        )  # fmt: skip
        self.metrics.event_synced(event.type)
        if done.attention_open:
            await self.attention.resolve(company, mapping_code(ref))
        return self.released(company, done.waiting, home=work.home)

    async def act(self, work: Work, outcome: Outcome, *, replaying: bool) -> None:
        decision, error = outcome.decision, outcome.error
        if decision.action is Action.HALT:
            raise Halted(f"{error.code}: {error.message}")
        if decision.action is Action.PARK:
            category = (AttentionCategory.SETUP if decision.attention == "setup"
                        else AttentionCategory.CONNECTION)  # fmt: skip
            await self.park(work, outcome.attempts, error, category, replaying=replaying)
            return
        await self.fail(work, outcome.attempts, error)

    async def park(
        self, work: Work, attempts: int, error: NormalizedError, category: AttentionCategory,
        *, replaying: bool,
    ) -> None:  # fmt: skip
        company = work.company_id
        await self._set_state(company, CompanyState.PARKED, error=error.as_dict())
        cause = Cause(
            error.code,
            category,
            error.user_facing_message,
            developer_message=f"{error.message} (request {error.request_id})",
        )
        if category is AttentionCategory.SETUP and self.setup_links is not None:
            cause = await self.setup_links(company, cause)
        await self.attention.raise_(company, cause, work.event.id)
        if replaying:
            raise StopReplay(error)
        await self.parker.park(work, reason=f"{error.type}: {error.message}"[:500], error=error,
                               attempts=attempts)  # fmt: skip
        self.metrics.event_parked(work.event.type)

    async def fail(self, work: Work, attempts: int, error: NormalizedError) -> None:
        event = work.event
        await self.ledger.failed(event.id, error.as_dict())
        code = error.code + (f"_{error.integration_code}" if error.integration_code else "")
        await self.attention.raise_(
            work.company_id,
            Cause(code, AttentionCategory.DATA, error.user_facing_message,
                  developer_message=f"{error.message} (request {error.request_id})"),
            event.id,
        )  # fmt: skip
        await self.results.publish(work, SyncStatus.FAILED, event.data.app_id, None, None, error)
        self.metrics.event_failed(event.type)

    async def wait(
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
                Cause(mapping_code(dependency),
                      AttentionCategory.DATA,
                      f"Choose the QuickBooks {dependency.object_type} that matches "
                      f"{dependency.app_id!r}, or sync that record first.",
                      developer_message=f"no mapping for {dependency.object_type} "
                                        f"{dependency.app_id}"
                                        + (f"; candidates: {orjson.dumps(candidates).decode()}"
                                           if candidates else "")),
                event.id,
            )  # fmt: skip

    async def release(self, company: str, ref: Ref, *, home: Any = None) -> list[Work]:
        """Events that waited for ``ref``: back into the lane, in arrival order."""
        await self.attention.resolve(company, mapping_code(ref))
        waiting = await self.ledger.take_waiting(company, str(ref.object_type), ref.app_id)
        return self.released(company, waiting, home=home)

    def released(self, company: str, waiting: list[Waiting], *, home: Any = None) -> list[Work]:
        """Waiting events as follow-up work for their company's lane.

        They carry the lane's ``home`` partition so a revoke drops them with the lane's other
        queued work (they stay ``waiting_dependency`` and the next owner's sweep finds them);
        otherwise two instances could run the same waiter at once.
        """
        released = []
        for item in waiting:
            decoded = decode(item.raw, None, max_bytes=self._max_record_bytes)
            if isinstance(decoded, Accepted):
                released.append(Work(company, decoded.event, item.raw, company.encode(), [],
                                     0, home=home, extra={"released": True}))  # fmt: skip
        return released
