"""Replayer: health-check a company, then run its parked events again, in order.

Replay runs as work inside the company's lane, so live events queue behind it and nothing
overtakes. It reads the company's records from the copies ``DlqIndex`` keeps of them (one
query per page: no consumer, no reading through other companies' records; records parked by
an older version, without a copy, are read back from ``qbd.dlq`` at their positions), hands
each to the ``run`` callable it is given (the lane runs it through
the same ledger, so an event synced before it was parked is adopted, not written again),
marks each index row replayed (while the next event runs: the mark is never on the
company's one-at-a-time path), and has the company flipped online only when nothing parked
is left. A crash half-way leaves the company ``replaying`` with the rest of its rows still
``parked``: the next owner's catch-up resumes from the index.

A failed health check parks the company (before any write is tried) and schedules the next
catch-up; a parked event that parks the company again stops the replay there.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from processors.config import Settings
from processors.dlq_index import DlqIndex, ParkedAt
from processors.intake import Accepted, decode
from processors.kafka import StoredRecord, read_positions
from processors.logs import get_logger
from processors.metrics import Metrics
from processors.outcome import NormalizedError
from processors.pipeline.connection import CompanyConnection
from processors.work import SourcePosition, Work, WorkKind
from schemas import DlqHeader

__all__ = ["ReplayReport", "Replayer", "RunReplayed"]

log = get_logger("replay")

RunReplayed = Callable[[Work], Awaitable[NormalizedError | None]]
"""Runs one parked event to an end state; the error if it parked the company again."""


@dataclass(frozen=True, slots=True)
class ReplayReport:
    """What a replay did."""

    company_id: str
    healthy: bool
    replayed: int
    remaining: int
    message: str
    auth_flow_url: str | None = None


class _Marks:
    """Marks index rows replayed one step behind the replay.

    Each mark runs while the next event does, so its round trip never sits between two of
    the company's writes; ``settled`` waits for the last one. A crash before a mark commits
    re-runs that event on the next replay, where the ledger adopts it (no second write).
    """

    def __init__(self, index: DlqIndex) -> None:
        self._index = index
        self._pending: asyncio.Task[None] | None = None

    async def mark(self, at: ParkedAt) -> None:
        """Mark ``at`` replayed in the background, once the mark before it has committed."""
        await self.settled()
        self._pending = asyncio.create_task(self._index.replayed(at))

    async def settled(self) -> None:
        """Wait until every mark asked for so far has committed (raise if one failed)."""
        pending, self._pending = self._pending, None
        if pending is not None:
            await pending


class Replayer:
    """Reads a company's parked records back from the DLQ and runs them again, in order."""

    def __init__(
        self,
        *,
        settings: Settings,
        index: DlqIndex,
        connection: CompanyConnection,
        metrics: Metrics,
    ) -> None:
        self._settings = settings
        self._index = index
        self._connection = connection
        self._metrics = metrics

    async def replay(self, company: str, *, run: RunReplayed, paced: bool = False) -> ReplayReport:
        """Health-check ``company`` and, if healthy, replay its parked events in order.

        ``paced``: the check is a probe and keeps to the probe budget.
        """
        health = await self._connection.check(company, paced=paced)
        if not health.healthy:
            await self._connection.unhealthy(company, health)
            return ReplayReport(
                company_id=company,
                healthy=False,
                replayed=0,
                remaining=await self._index.parked_count(company),
                message=health.message,
                auth_flow_url=health.auth_flow_url,
            )
        parked = await self._index.parked_count(company)
        replayed = 0
        if parked:
            await self._connection.replaying(company)
            log.info("replay started", company_id=company, parked=parked)
            replayed, stopped = await self._run_parked(company, run)
            if stopped is not None:
                await self._connection.replay_stopped(company, stopped)
                return ReplayReport(
                    company_id=company,
                    healthy=False,
                    replayed=replayed,
                    remaining=await self._index.parked_count(company),
                    message=stopped.user_facing_message,
                )
        remaining = await self._index.parked_count(company)
        if remaining:
            log.error(
                "parked records missing from the DLQ; company stays parked",
                company_id=company,
                remaining=remaining,
            )
            await self._connection.replay_stopped(company)
            return ReplayReport(company, True, replayed, remaining, health.message)
        await self._connection.replayed(company)
        log.info("company replayed and online", company_id=company, replayed=replayed)
        return ReplayReport(company, True, replayed, 0, health.message)

    async def _run_parked(
        self, company: str, run: RunReplayed
    ) -> tuple[int, NormalizedError | None]:
        """Run the company's parked records in order, from their copies in the index; how
        many ran, and what stopped it (if anything)."""
        replayed = 0
        marks = _Marks(self._index)
        try:
            async with contextlib.aclosing(self._index.copies(company)) as found:
                async for parked in found:
                    if isinstance(parked, ParkedAt):
                        # Parked by an older version, without a copy: the rest come from the
                        # DLQ (once every mark is in, so none of those is read as parked).
                        await marks.settled()
                        more, stopped = await self._run_from_dlq(company, run)
                        return replayed + more, stopped
                    at = parked.at
                    record = StoredRecord(
                        topic=at.topic,
                        partition=at.partition,
                        offset=at.offset,
                        key=parked.key,
                        value=parked.value,
                        headers=parked.headers,
                        timestamp=0,
                    )
                    stopped = await self._run_one(company, record, run)
                    if stopped is not None:
                        return replayed, stopped
                    await marks.mark(at)
                    replayed += 1
            return replayed, None
        finally:
            await marks.settled()

    async def _run_from_dlq(
        self, company: str, run: RunReplayed
    ) -> tuple[int, NormalizedError | None]:
        """Run the company's parked records read back from the DLQ topic (no copies)."""
        replayed = 0
        marks = _Marks(self._index)
        positions = await self._index.parked_positions(company)
        wanted = ((at.topic, at.partition, at.offset) for at in positions)
        try:
            async with contextlib.aclosing(read_positions(self._settings, wanted)) as records:
                async for record in records:
                    parked = await self._run_one(company, record, run)
                    if parked is not None:
                        return replayed, parked
                    await marks.mark(
                        ParkedAt(
                            topic=record.topic, partition=record.partition, offset=record.offset
                        )
                    )
                    replayed += 1
            return replayed, None
        finally:
            await marks.settled()

    async def _run_one(
        self, company: str, record: StoredRecord, run: RunReplayed
    ) -> NormalizedError | None:
        decoded = decode(
            record.value,
            record.key,
            headers=record.headers,
            max_bytes=self._settings.max_record_bytes,
        )
        if not isinstance(decoded, Accepted):
            log.warning(
                "parked record no longer decodes; skipped",
                company_id=company,
                dlq_partition=record.partition,
                dlq_offset=record.offset,
            )
            return None
        headers = {key: value.decode(errors="replace") for key, value in record.headers}
        work = Work(
            kind=WorkKind.REPLAYED,
            company_id=company,
            event=decoded.event,
            raw=record.value or b"",
            key=record.key,
            headers=record.headers,
            timestamp=int(headers.get(DlqHeader.ORIGINAL_TIMESTAMP, record.timestamp)),
            source=SourcePosition(
                topic=headers.get(DlqHeader.ORIGINAL_TOPIC, ""),
                partition=int(headers.get(DlqHeader.ORIGINAL_PARTITION, -1)),
                offset=int(headers.get(DlqHeader.ORIGINAL_OFFSET, -1)),
            ),
            binary=decoded.binary,
        )
        parked = await run(work)
        if parked is None:
            self._metrics.event_replayed(decoded.event.type)
        return parked
