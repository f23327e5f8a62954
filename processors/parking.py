"""Parker: moves a company's work into ``qbd.dlq`` byte for byte, indexed for replay.

The DLQ record keeps the original key (so one company's parked records share one DLQ
partition, in parking order), value and headers, plus the ``qbd-*`` headers of CONTRACT.md
section 5. PostgreSQL indexes each one so replay seeks straight to the company's records.
Work parked behind an already parked company carries the error that parked the company.
"""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg

from processors.engine import Work
from processors.ledger import Ledger
from processors.outcome import NormalizedError
from processors.publish import Publisher
from schemas import DlqHeader

__all__ = ["Parker"]


class Parker:
    """Parks work for a company whose QuickBooks cannot be reached."""

    def __init__(
        self, pool: asyncpg.Pool, publisher: Publisher, ledger: Ledger, *, dlq_topic: str,
        group_id: str,
    ) -> None:  # fmt: skip
        self._pool = pool
        self._publisher = publisher
        self._ledger = ledger
        self._topic = dlq_topic
        self._group = group_id
        self._errors: dict[str, NormalizedError | None] = {}  # the error that parked a company

    async def park(
        self, work: Work, *, reason: str, error: NormalizedError | None, attempts: int = 0
    ) -> None:
        """Copy ``work`` to the DLQ with its headers, index it, and mark the ledger."""
        source = work.extra.get("source") or (
            (work.tp.topic, work.tp.partition, work.offset) if work.tp else ("", -1, -1)
        )
        topic, partition, offset = source
        if error is None:
            error = self._errors.get(work.company_id) or await self._company_error(work.company_id)
        self._errors[work.company_id] = error
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
        # Index and ledger in one statement: parking is the hot path of an offline company.
        await self._pool.execute(
            """WITH indexed AS (
                   INSERT INTO dlq_index (company_id, event_id, dlq_topic, dlq_partition,
                                          dlq_offset, reason, error_code, original_topic,
                                          original_partition, original_offset)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING)
               UPDATE ledger SET status = 'parked', updated_at = now()
               WHERE event_id = $2 AND status NOT IN ('synced', 'failed')""",
            work.company_id, work.event.id, sent.topic, sent.partition, sent.offset, reason,
            error.code if error else None, topic, partition, offset,
        )  # fmt: skip

    async def _company_error(self, company_id: str) -> NormalizedError | None:
        stored = await self._pool.fetchval(
            "SELECT last_error FROM companies WHERE company_id = $1", company_id
        )
        if not isinstance(stored, dict):
            return None
        return NormalizedError(
            type=str(stored.get("type") or ""), code=str(stored.get("code") or ""),
            message=str(stored.get("message") or ""),
            user_facing_message=str(stored.get("user_facing_message") or ""),
            request_id=stored.get("request_id"),
        )  # fmt: skip

    async def parked_count(self, company_id: str) -> int:
        """How many records of the company wait in the DLQ."""
        count: int = await self._pool.fetchval(
            "SELECT count(*) FROM dlq_index WHERE company_id = $1 AND status = 'parked'",
            company_id,
        )
        return count
