"""DlqIndex: the PostgreSQL index of records parked in ``qbd.dlq`` (every query of ``dlq_index``).

One row per parked record: the company, the event id, where it sits in the DLQ and where it
was first read, why it was parked, and whether it has been replayed. Replay seeks straight to
a company's rows; operators and the dashboard list them.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

__all__ = ["DlqEntry", "DlqIndex", "ParkedAt", "ParkedCopy"]


@dataclass(frozen=True, slots=True, kw_only=True)
class DlqEntry:
    """One indexed DLQ record."""

    event_id: str | None
    company_id: str
    status: str
    parked_at: datetime
    replayed_at: datetime | None
    reason: str
    error_code: str | None
    dlq_topic: str
    dlq_partition: int
    dlq_offset: int
    original_topic: str
    original_partition: int
    original_offset: int

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return {
            "event_id": self.event_id,
            "company_id": self.company_id,
            "status": self.status,
            "parked_at": _iso(self.parked_at),
            "replayed_at": _iso(self.replayed_at),
            "reason": self.reason,
            "error_code": self.error_code,
            "dlq": {
                "topic": self.dlq_topic,
                "partition": self.dlq_partition,
                "offset": self.dlq_offset,
            },
            "original": {
                "topic": self.original_topic,
                "partition": self.original_partition,
                "offset": self.original_offset,
            },
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ParkedAt:
    """Where one parked record sits in the DLQ."""

    topic: str
    partition: int
    offset: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ParkedCopy:
    """A parked record as the DLQ holds it (key, value, headers), kept beside its index row."""

    at: ParkedAt
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]


_COPY_PAGE = 500  # parked records read per query during a replay


class DlqIndex:
    """Reads and writes ``dlq_index``; the only place that does."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def add(
        self,
        *,
        company_id: str,
        event_id: str,
        parked: ParkedAt,
        reason: str,
        error_code: str | None,
        original: tuple[str, int, int],
        copy: ParkedCopy | None = None,
    ) -> None:
        """Index a parked record (with its bytes, ``copy``) and mark its ledger row parked,
        in one statement.

        Parking is the hot path of an offline company, so index and ledger go together; a
        ledger row that already reached a final state keeps it.
        """
        topic, partition, offset = original
        headers = () if copy is None else copy.headers
        await self._pool.execute(
            """WITH indexed AS (
                   INSERT INTO dlq_index (company_id, event_id, dlq_topic, dlq_partition,
                                          dlq_offset, reason, error_code, original_topic,
                                          original_partition, original_offset, record_key,
                                          record_value, record_header_names,
                                          record_header_values)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
                   ON CONFLICT DO NOTHING)
               UPDATE ledger SET status = 'parked', updated_at = now()
               WHERE event_id = $2 AND status NOT IN ('synced', 'failed')""",
            company_id,
            event_id,
            parked.topic,
            parked.partition,
            parked.offset,
            reason,
            error_code,
            topic,
            partition,
            offset,
            None if copy is None else copy.key,
            None if copy is None else copy.value,
            None if copy is None else [name for name, _ in headers],
            None if copy is None else [value for _, value in headers],
        )

    async def parked_positions(self, company_id: str) -> list[ParkedAt]:
        """Where the company's still-parked records sit, in parking order."""
        rows = await self._pool.fetch(
            """SELECT dlq_topic, dlq_partition, dlq_offset FROM dlq_index
               WHERE company_id = $1 AND status = 'parked'
               ORDER BY dlq_partition, dlq_offset""",
            company_id,
        )
        return [
            ParkedAt(
                topic=row["dlq_topic"], partition=row["dlq_partition"], offset=row["dlq_offset"]
            )
            for row in rows
        ]

    async def copies(self, company_id: str) -> AsyncGenerator[ParkedCopy | ParkedAt, None]:
        """The company's still-parked records in parking order: their copies, or where they
        sit in the DLQ for those parked without one (by an older version), a page at a time.
        """
        after = (-1, -1)
        while True:
            rows = await self._pool.fetch(
                """SELECT dlq_topic, dlq_partition, dlq_offset, record_key, record_value,
                          record_header_names, record_header_values,
                          record_header_names IS NOT NULL AS copied
                   FROM dlq_index
                   WHERE company_id = $1 AND status = 'parked'
                     AND (dlq_partition, dlq_offset) > ($2, $3)
                   ORDER BY dlq_partition, dlq_offset LIMIT $4""",
                company_id,
                after[0],
                after[1],
                _COPY_PAGE,
            )
            for row in rows:
                at = ParkedAt(
                    topic=row["dlq_topic"],
                    partition=row["dlq_partition"],
                    offset=row["dlq_offset"],
                )
                if not row["copied"]:
                    yield at
                    continue
                yield ParkedCopy(
                    at=at,
                    key=row["record_key"],
                    value=row["record_value"],
                    headers=tuple(
                        zip(row["record_header_names"], row["record_header_values"], strict=True)
                    ),
                )
            if len(rows) < _COPY_PAGE:
                return
            last = rows[-1]
            after = (last["dlq_partition"], last["dlq_offset"])

    async def replayed(self, at: ParkedAt) -> None:
        """Mark one record replayed."""
        await self._pool.execute(
            """UPDATE dlq_index SET status = 'replayed', replayed_at = now()
               WHERE dlq_topic = $1 AND dlq_partition = $2 AND dlq_offset = $3""",
            at.topic,
            at.partition,
            at.offset,
        )

    async def parked_count(self, company_id: str) -> int:
        """How many records of the company wait in the DLQ."""
        count: int = await self._pool.fetchval(
            "SELECT count(*) FROM dlq_index WHERE company_id = $1 AND status = 'parked'",
            company_id,
        )
        return count

    async def parked_counts(self) -> dict[str, int]:
        """Records waiting in the DLQ, per company that has any."""
        rows = await self._pool.fetch(
            """SELECT company_id, count(*) AS n FROM dlq_index WHERE status = 'parked'
               GROUP BY company_id"""
        )
        return {row["company_id"]: int(row["n"]) for row in rows}

    async def replayed_counts(self) -> dict[str, int]:
        """Records replayed so far, per company."""
        rows = await self._pool.fetch(
            """SELECT company_id, count(*) AS n FROM dlq_index WHERE status = 'replayed'
               GROUP BY company_id"""
        )
        return {row["company_id"]: int(row["n"]) for row in rows}

    async def parked_entries(self, company_id: str | None = None) -> list[DlqEntry]:
        """The parked records (of one company), in parking order."""
        rows = await self._pool.fetch(
            """SELECT * FROM dlq_index WHERE status = 'parked'
               AND ($1::text IS NULL OR company_id = $1)
               ORDER BY company_id, dlq_partition, dlq_offset""",
            company_id,
        )
        return [_entry(row) for row in rows]

    async def recent(self, *, limit: int, company_id: str | None = None) -> list[DlqEntry]:
        """Recently parked records (still parked first)."""
        rows = await self._pool.fetch(
            """SELECT * FROM dlq_index WHERE ($2::text IS NULL OR company_id = $2)
               ORDER BY (status = 'parked') DESC, parked_at DESC, dlq_offset DESC LIMIT $1""",
            limit,
            company_id,
        )
        return [_entry(row) for row in rows]

    async def at(self, parked: ParkedAt) -> DlqEntry | None:
        """The row of the record at ``parked``, if indexed."""
        row = await self._pool.fetchrow(
            """SELECT * FROM dlq_index
               WHERE dlq_topic = $1 AND dlq_partition = $2 AND dlq_offset = $3""",
            parked.topic,
            parked.partition,
            parked.offset,
        )
        return None if row is None else _entry(row)

    async def of_event(self, event_id: str) -> DlqEntry | None:
        """The event's row: the still-parked one first, else the latest."""
        row = await self._pool.fetchrow(
            """SELECT * FROM dlq_index WHERE event_id = $1
               ORDER BY status = 'parked' DESC, parked_at DESC LIMIT 1""",
            event_id,
        )
        return None if row is None else _entry(row)


def _entry(row: asyncpg.Record) -> DlqEntry:
    return DlqEntry(
        event_id=row["event_id"],
        company_id=row["company_id"],
        status=row["status"],
        parked_at=row["parked_at"],
        replayed_at=row["replayed_at"],
        reason=row["reason"],
        error_code=row["error_code"],
        dlq_topic=row["dlq_topic"],
        dlq_partition=row["dlq_partition"],
        dlq_offset=row["dlq_offset"],
        original_topic=row["original_topic"],
        original_partition=row["original_partition"],
        original_offset=row["original_offset"],
    )


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()
