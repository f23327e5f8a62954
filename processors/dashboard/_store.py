"""What the dashboard reads from PostgreSQL and Kafka, as JSON-ready dicts.

Every query is bounded (``limit``), so the page stays fast with thousands of companies.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from processors.dlq_index import DlqEntry, DlqIndex, ParkedAt
from processors.ledger import Ledger

__all__ = ["DashboardStore"]


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _waits(row: asyncpg.Record) -> bool:
    """Whether the company waits for its QuickBooks (its probes are worth showing)."""
    return str(row["state"]) in ("parked", "replaying", "setup_pending")


def _error(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if not value:
        return None
    return {
        "code": value.get("code"),
        "type": value.get("type"),
        "message": value.get("message"),
        "user_facing_message": value.get("user_facing_message"),
    }


class DashboardStore:
    """Read-mostly queries behind the dashboard, plus the ledger reset a re-run needs."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._dlq = DlqIndex(pool)
        self._ledger = Ledger(pool)

    async def companies(self, limit: int = 200) -> tuple[list[dict[str, Any]], int]:
        """Companies needing attention first (parked, most parked records), and the total.

        Each with its synced events counted by action (created, updated, voided, ...).
        """
        parked = await self._dlq.parked_counts()
        rows = await self._pool.fetch(
            """SELECT c.*, COALESCE(p.parked, 0) AS parked,
                      count(*) OVER () AS total
               FROM companies c
               LEFT JOIN unnest($2::text[], $3::bigint[]) AS p(company_id, parked)
                 USING (company_id)
               ORDER BY (c.state = 'parked') DESC, COALESCE(p.parked, 0) DESC,
                        c.updated_at DESC, c.company_id
               LIMIT $1""",
            limit,
            list(parked),
            list(parked.values()),
        )
        total = int(rows[0]["total"]) if rows else 0
        actions = await self._ledger.actions([row["company_id"] for row in rows])
        companies = [
            {
                "company_id": row["company_id"],
                "company_name": row["company_name"],
                "state": row["state"],
                "end_user_id": row["end_user_id"],
                "parked": int(row["parked"]),
                "last_error": _error(row["last_error"]),
                "last_sync_at": _iso(row["last_sync_at"]),
                "last_health_check": _iso(row["last_health_check"]),
                "parked_since": _iso(row["parked_since"]),
                "next_catchup_at": _iso(row["next_catchup_at"]),
                # The background probes of a waiting company (issue 19), else None.
                "last_probe_at": _iso(row["last_health_check"] if _waits(row) else None),
                "next_probe_at": _iso(row["next_catchup_at"] if _waits(row) else None),
                "actions": actions.get(row["company_id"], {}),
            }
            for row in rows
        ]
        return companies, total

    async def attention(self, limit: int = 100) -> list[dict[str, Any]]:
        """Open needs-attention items, most recent first."""
        rows = await self._pool.fetch(
            """SELECT * FROM attention WHERE resolved_at IS NULL
               ORDER BY last_seen DESC LIMIT $1""",
            limit,
        )
        return [
            {
                "company_id": row["company_id"],
                "code": row["code"],
                "category": row["category"],
                "user_facing_message": row["user_facing_message"],
                "developer_message": row["developer_message"],
                "auth_flow_url": row["auth_flow_url"],
                "occurrences": int(row["occurrences"]),
                "event_ids": list(row["event_ids"]),
                "first_seen": _iso(row["first_seen"]),
                "last_seen": _iso(row["last_seen"]),
            }
            for row in rows
        ]

    async def dlq(self, limit: int = 50, company_id: str | None = None) -> list[dict[str, Any]]:
        """Recently parked records (still parked first)."""
        return [
            _dlq_row(entry) for entry in await self._dlq.recent(limit=limit, company_id=company_id)
        ]

    async def dlq_entry(self, partition: int, offset: int, topic: str) -> dict[str, Any] | None:
        """One indexed DLQ record."""
        entry = await self._dlq.at(ParkedAt(topic=topic, partition=partition, offset=offset))
        return None if entry is None else _dlq_row(entry)

    async def failed(self, limit: int = 50) -> list[dict[str, Any]]:
        """Events QuickBooks refused for good, most recent first."""
        rows = await self._pool.fetch(
            """SELECT event_id, company_id, event_type, attempts, error, updated_at,
                      source_topic, source_partition, source_offset
               FROM ledger WHERE status = 'failed' ORDER BY updated_at DESC LIMIT $1""",
            limit,
        )
        return [
            {
                "event_id": row["event_id"],
                "company_id": row["company_id"],
                "event_type": row["event_type"],
                "attempts": row["attempts"],
                "error": _error(row["error"]),
                "failed_at": _iso(row["updated_at"]),
                "source": None
                if row["source_topic"] is None
                else [row["source_topic"], row["source_partition"], row["source_offset"]],
            }
            for row in rows
        ]

    async def failed_event(self, event_id: str) -> asyncpg.Record | None:
        """The ledger row of ``event_id`` (status and where it was read from)."""
        row: asyncpg.Record | None = await self._pool.fetchrow(
            """SELECT event_id, company_id, status, error, source_topic, source_partition,
                      source_offset FROM ledger WHERE event_id = $1""",
            event_id,
        )
        return row

    async def reopen_failed(self, event_id: str) -> bool:
        """Turn a failed event back into a received one, so its next delivery runs again.

        Only a ``failed`` row changes (a concurrent re-run of the same event loses here).
        """
        status = await self._pool.execute(
            """UPDATE ledger SET status = 'received', result_published = false, updated_at = now()
               WHERE event_id = $1 AND status = 'failed'""",
            event_id,
        )
        return bool(status == "UPDATE 1")

    async def undo_reopen(self, event_id: str) -> None:
        """Put a re-opened event back to ``failed`` (its re-run could not be queued)."""
        await self._pool.execute(
            """UPDATE ledger SET status = 'failed', result_published = true, updated_at = now()
               WHERE event_id = $1 AND status = 'received'""",
            event_id,
        )


def _dlq_row(entry: DlqEntry) -> dict[str, Any]:
    return {
        "company_id": entry.company_id,
        "event_id": entry.event_id,
        "dlq_topic": entry.dlq_topic,
        "dlq_partition": entry.dlq_partition,
        "dlq_offset": entry.dlq_offset,
        "status": entry.status,
        "reason": entry.reason,
        "error_code": entry.error_code,
        "original": [entry.original_topic, entry.original_partition, entry.original_offset],
        "parked_at": _iso(entry.parked_at),
        "replayed_at": _iso(entry.replayed_at),
    }
