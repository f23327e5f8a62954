"""ResultBook: the one ``qbd.sync.succeeded`` / ``qbd.sync.failed`` per inbound event.

Results are at least once. A crash after a result reached the broker and before the ledger
recorded it runs the event again (the ledger still says ``attempting``): the object is
looked up and adopted, and the result goes out once more. Every copy carries the same
CloudEvent ``id``, ``result:<inbound event id>`` (``schemas.result_event_id``), and the same
data: that id is the consumers' dedupe key.
"""

from __future__ import annotations

from processors.ledger import Ledger, LedgerEntry, LedgerStatus
from processors.outcome import NormalizedError
from processors.publish import Publisher
from processors.tracing import Tracing
from processors.work import Work
from schemas import NormalizedErrorData, SyncAction, SyncResultData, SyncStatus

__all__ = ["ResultBook", "error_data"]


class ResultBook:
    """Publishes sync results and remembers in the ledger that they went out."""

    def __init__(self, *, publisher: Publisher, ledger: Ledger, tracing: Tracing) -> None:
        self._publisher = publisher
        self._ledger = ledger
        self._tracing = tracing

    async def publish(
        self,
        work: Work,
        *,
        status: SyncStatus,
        app_id: str | None,
        qbd_object_type: str | None = None,
        qbd_id: str | None = None,
        error: NormalizedError | None = None,
        attempts: int | None = None,
        action: SyncAction | None = None,
        mark: bool = True,
    ) -> None:
        """Publish the event's sync result; ``mark`` records that it was published.

        ``action`` says what a synced event did in QuickBooks (None on failure).
        """
        if attempts is None:
            entry = await self._ledger.get(work.event.id)
            attempts = entry.attempts if entry else 0
        result = SyncResultData(
            event_id=work.event.id,
            event_type=work.event.type,
            status=status,
            app_id=app_id,
            qbd_object_type=qbd_object_type,
            qbd_id=qbd_id,
            attempts=attempts,
            error=None if error is None else error_data(error),
            action=action,
        )
        traceparent = self._tracing.traceparent(work.event.traceparent)
        await self._publisher.result(work.company_id, result, traceparent=traceparent)
        if mark:
            await self._ledger.result_published(work.event.id)

    async def republish(self, work: Work, entry: LedgerEntry) -> None:
        """Publish the stored outcome of a final event whose result never went out (crash)."""
        status = SyncStatus.SYNCED if entry.status is LedgerStatus.SYNCED else SyncStatus.FAILED
        await self.publish(
            work,
            status=status,
            app_id=work.event.data.app_id,
            qbd_object_type=entry.qbd_object_type,
            qbd_id=entry.qbd_id,
            error=None if entry.error is None else NormalizedError.from_dict(entry.error),
            action=None if entry.action is None else SyncAction(entry.action),
        )

    async def conflict(self, work: Work, entry: LedgerEntry) -> None:
        """Refuse an event id reused for another body (the Stripe idempotency-key rule)."""
        error = NormalizedError(
            type="INVALID_REQUEST_ERROR",
            code="IDEMPOTENCY_CONFLICT",
            message=(
                f"event id {work.event.id} was already used for a different body "
                f"(status {entry.status}); the new body is not applied"
            ),
            user_facing_message=(
                "This change was sent twice with different contents and was not applied. "
                "Please resend it as a new change."
            ),
        )
        result = SyncResultData(
            event_id=work.event.id,
            event_type=work.event.type,
            status=SyncStatus.FAILED,
            app_id=work.event.data.app_id,
            attempts=0,
            error=error_data(error),
        )
        await self._publisher.result(work.company_id, result)


def error_data(error: NormalizedError) -> NormalizedErrorData:
    """The outbound shape of a normalized error (retry hints stay internal)."""
    fields = error.as_dict()
    fields.pop("retry_after", None)
    return NormalizedErrorData.model_validate(fields)
