"""Parker: moves a company's work into ``qbd.dlq`` byte for byte, indexed for replay.

The DLQ record keeps the original key (so one company's parked records share one DLQ
partition, in parking order), value and headers, plus the ``qbd-*`` headers of CONTRACT.md
section 5. ``DlqIndex`` indexes each one, with a copy of its bytes, so a replay reads the
company's records from PostgreSQL without reading the DLQ through everyone else's.
"""

from __future__ import annotations

from datetime import UTC, datetime

from processors.dlq_index import DlqIndex, ParkedAt, ParkedCopy
from processors.outcome import NormalizedError
from processors.publish import Publisher
from processors.work import Work
from schemas import DlqHeader

__all__ = ["Parker"]


class Parker:
    """Parks work for a company whose QuickBooks cannot be reached."""

    def __init__(
        self, *, publisher: Publisher, index: DlqIndex, dlq_topic: str, group_id: str
    ) -> None:
        self._publisher = publisher
        self._index = index
        self._topic = dlq_topic
        self._group = group_id

    async def park(
        self, work: Work, *, reason: str, error: NormalizedError | None, attempts: int = 0
    ) -> None:
        """Copy ``work`` to the DLQ with its headers, index it, and mark the ledger."""
        source = work.source
        original = (source.topic, source.partition, source.offset) if source else ("", -1, -1)
        topic, partition, offset = original
        added = {
            DlqHeader.PARKED_REASON: reason,
            DlqHeader.ERROR_TYPE: error.type if error else "",
            DlqHeader.ERROR_CODE: error.code if error else "",
            DlqHeader.REQUEST_ID: (error.request_id or "") if error else "",
            DlqHeader.ATTEMPTS: str(attempts),
            DlqHeader.ORIGINAL_TOPIC: topic,
            DlqHeader.ORIGINAL_PARTITION: str(partition),
            DlqHeader.ORIGINAL_OFFSET: str(offset),
            DlqHeader.ORIGINAL_TIMESTAMP: str(work.timestamp),
            DlqHeader.CONSUMER_GROUP: self._group,
            DlqHeader.PARKED_AT: datetime.now(UTC).isoformat(),
        }
        names = {str(name) for name in added}
        headers = [(k, v) for k, v in work.headers if k not in names]
        headers += [(str(name), value.encode()) for name, value in added.items()]
        sent = await self._publisher.send(self._topic, work.key, work.raw, headers)
        parked = ParkedAt(topic=sent.topic, partition=sent.partition, offset=sent.offset)
        await self._index.add(
            company_id=work.company_id,
            event_id=work.event.id,
            parked=parked,
            reason=reason,
            error_code=error.code if error else None,
            original=original,
            copy=ParkedCopy(at=parked, key=work.key, value=work.raw, headers=tuple(headers)),
        )
