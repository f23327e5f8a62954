"""The idempotency ledger: one row per inbound event id, the truth about what was written.

Before a write the row says ``attempting`` (its own commit), after a definite answer
``synced`` with the QuickBooks id or ``failed`` with the normalized error. A row found in
``attempting`` means the last attempt's outcome is unknown: look the object up before
writing again (DESIGN.md section 4).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import asyncpg
import orjson

from processors.group_commit import GroupCommit

__all__ = ["Completion", "Ledger", "LedgerEntry", "LedgerStatus", "Waiting", "body_hash"]


class LedgerStatus(StrEnum):
    """Where an event stands."""

    RECEIVED = "received"
    ATTEMPTING = "attempting"
    SYNCED = "synced"
    FAILED = "failed"
    WAITING = "waiting_dependency"
    PARKED = "parked"
    REJECTED = "rejected"

    @property
    def final(self) -> bool:
        """Synced and failed events are done for good."""
        return self in (LedgerStatus.SYNCED, LedgerStatus.FAILED)


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One ledger row."""

    event_id: str
    company_id: str
    event_type: str
    body_hash: str
    status: LedgerStatus
    attempts: int
    attempt_started_at: datetime | None
    qbd_object_type: str | None
    qbd_id: str | None
    error: dict[str, Any] | None
    result_published: bool
    action: str | None = None
    """What the event's sync did in QuickBooks (``created``, ``updated``, ...), once synced."""

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> LedgerEntry:
        """Build from a ``ledger`` row."""
        return cls(
            event_id=row["event_id"],
            company_id=row["company_id"],
            event_type=row["event_type"],
            body_hash=row["body_hash"],
            status=LedgerStatus(row["status"]),
            attempts=row["attempts"],
            attempt_started_at=row["attempt_started_at"],
            qbd_object_type=row["qbd_object_type"],
            qbd_id=row["qbd_id"],
            error=row["error"],
            result_published=row["result_published"],
            action=row["action"],
        )


@dataclass(frozen=True, slots=True)
class Completion:
    """What ``Ledger.complete`` found while recording a synced event."""

    attempts: int
    waiting: list[Waiting]
    attention_open: bool


@dataclass(frozen=True, slots=True)
class Waiting:
    """An event parked in the ledger until a dependency maps."""

    event_id: str
    raw: bytes


def body_hash(event_type: str, company_id: str, data: Any) -> str:
    """A stable hash of what an event asks for, to catch one id reused for another body."""
    canonical = orjson.dumps([event_type, company_id, data], option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


_COLUMNS = """event_id, company_id, event_type, body_hash, status, attempts, attempt_started_at,
              qbd_object_type, qbd_id, error, result_published, action"""
_SELECT_ONE = f"SELECT {_COLUMNS} FROM ledger WHERE event_id = $1"  # noqa: S608 - constants
# Insert the row if new and return it as it stands, in one round trip whether it is new or
# not (a redelivery, a replay). The SELECT sees the statement's snapshot, so a row another
# session inserts meanwhile comes back empty here and is read by ``_SELECT_ONE``.
# Run by a GroupCommit: the last parameter comes back as batch_seq.
_OPEN = f"""WITH inserted AS (
               INSERT INTO ledger (event_id, company_id, event_type, body_hash, status,
                                   source_topic, source_partition, source_offset,
                                   object_type, app_id)
               VALUES ($1, $2, $3, $4, 'received', $5, $6, $7, $8, $9)
               ON CONFLICT (event_id) DO NOTHING
               RETURNING {_COLUMNS})
           SELECT {_COLUMNS}, $10::int AS batch_seq FROM inserted
           UNION ALL
           SELECT {_COLUMNS}, $10::int AS batch_seq FROM ledger
           WHERE event_id = $1 AND NOT EXISTS (SELECT 1 FROM inserted)"""  # noqa: S608
_BEGIN_ATTEMPT = """UPDATE ledger SET status = 'attempting', attempts = attempts + 1,
                           attempt_started_at = now(), updated_at = now()
                    WHERE event_id = $1 RETURNING attempts, $2::int AS batch_seq"""

# ``Ledger.complete`` (a GroupCommit: the last parameter comes back as batch_seq).
_COMPLETE = """WITH done AS (
           UPDATE ledger SET status = 'synced', qbd_object_type = $5, qbd_id = $6,
                  error = NULL, raw = NULL, waiting_on_type = NULL,
                  waiting_on_app_id = NULL, result_published = true, action = $10,
                  updated_at = now()
           WHERE event_id = $1 RETURNING attempts),
       mapped AS (
           INSERT INTO mappings (company_id, object_type, app_id, qbd_id,
                                 revision_number, source, state)
           VALUES ($2, $3, $4, $6, $7, $8, $11)
           ON CONFLICT (company_id, object_type, app_id) DO UPDATE
              SET qbd_id = EXCLUDED.qbd_id,
                  revision_number = COALESCE(EXCLUDED.revision_number,
                                             mappings.revision_number),
                  source = EXCLUDED.source, state = EXCLUDED.state, updated_at = now()
           RETURNING 1),
       seen AS (
           UPDATE companies SET last_sync_at = now() WHERE company_id = $2 RETURNING 1),
       waiting AS (
           SELECT event_id, raw, created_at FROM ledger
           WHERE company_id = $2 AND status = 'waiting_dependency'
             AND waiting_on_type = $3 AND waiting_on_app_id = $4 AND event_id <> $1)
       SELECT (SELECT attempts FROM done) AS attempts,
              (SELECT count(*) FROM mapped) AS mapped,
              (SELECT count(*) FROM seen) AS seen,
              ARRAY(SELECT event_id FROM waiting ORDER BY created_at) AS waiting_ids,
              ARRAY(SELECT raw FROM waiting ORDER BY created_at) AS waiting_raw,
              EXISTS(SELECT 1 FROM attention WHERE company_id = $2 AND code = $9
                     AND resolved_at IS NULL) AS attention_open,
              $12::int AS batch_seq"""


class Ledger:
    """Reads and writes ledger rows; every method is one short transaction.

    The three statements every event runs (open, attempt, complete) go through a
    ``GroupCommit``: lanes finishing together share a round trip and a commit.
    """

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._open = GroupCommit(pool, _OPEN)
        self._begin_attempt = GroupCommit(pool, _BEGIN_ATTEMPT)
        self._complete = GroupCommit(pool, _COMPLETE)

    async def open(
        self,
        *,
        event_id: str,
        company_id: str,
        event_type: str,
        digest: str,
        source: tuple[str, int, int] | None,
        app_object: tuple[str, str] | None = None,
    ) -> LedgerEntry:
        """Insert the event's row if new; return the row as it stands.

        ``app_object`` is the event's own app object (object type, app id), if it has one.
        """
        topic, partition, offset = source if source else (None, None, None)
        object_type, app_id = app_object if app_object else (None, None)
        row = await self._open.fetchrow(
            event_id,
            company_id,
            event_type,
            digest,
            topic,
            partition,
            offset,
            object_type,
            app_id,
        )
        if row is None:
            row = await self._pool.fetchrow(_SELECT_ONE, event_id)
        assert row is not None
        return LedgerEntry.from_row(row)

    async def get(self, event_id: str) -> LedgerEntry | None:
        """The row of ``event_id``, if any."""
        row = await self._pool.fetchrow(_SELECT_ONE, event_id)
        return None if row is None else LedgerEntry.from_row(row)

    async def written_as(
        self, company_id: str, object_type: str, app_id: str, qbd_id: str
    ) -> str | None:
        """The QuickBooks ``objectType`` an event of ours synced an app object's
        QuickBooks object as (None when no synced event of ours names it)."""
        kind: str | None = await self._pool.fetchval(
            """SELECT qbd_object_type FROM ledger
               WHERE company_id = $1 AND object_type = $2 AND app_id = $3 AND qbd_id = $4
                 AND status = 'synced' AND qbd_object_type IS NOT NULL
               ORDER BY updated_at DESC LIMIT 1""",
            company_id,
            object_type,
            app_id,
            qbd_id,
        )
        return kind

    async def begin_attempt(self, event_id: str) -> int:
        """Record that a write is about to be sent; return the attempt number."""
        row = await self._begin_attempt.fetchrow(event_id)
        return 0 if row is None else int(row["attempts"])

    async def synced(
        self,
        event_id: str,
        *,
        qbd_object_type: str | None,
        qbd_id: str | None,
        action: str | None = None,
    ) -> None:
        """Record the definite success of the event (and what it did, if anything)."""
        await self._pool.execute(
            """UPDATE ledger SET status = 'synced', qbd_object_type = $2, qbd_id = $3,
                      error = NULL, raw = NULL, waiting_on_type = NULL, waiting_on_app_id = NULL,
                      action = $4, updated_at = now()
               WHERE event_id = $1""",
            event_id,
            qbd_object_type,
            qbd_id,
            action,
        )

    async def failed(self, event_id: str, error: dict[str, Any]) -> None:
        """Record the final failure of the event."""
        await self._pool.execute(
            """UPDATE ledger SET status = 'failed', error = $2, raw = NULL, updated_at = now()
               WHERE event_id = $1""",
            event_id,
            error,
        )

    async def waiting(self, event_id: str, *, on_type: str, on_app_id: str, raw: bytes) -> None:
        """Record that the event waits for a mapping; keep its bytes to run it later."""
        await self._pool.execute(
            """UPDATE ledger SET status = 'waiting_dependency', waiting_on_type = $2,
                      waiting_on_app_id = $3, raw = $4, updated_at = now()
               WHERE event_id = $1""",
            event_id,
            on_type,
            on_app_id,
            raw,
        )

    async def parked(self, event_id: str) -> None:
        """Record that the event sits in the DLQ (unless it already reached a final state)."""
        await self._pool.execute(
            """UPDATE ledger SET status = 'parked', updated_at = now()
               WHERE event_id = $1 AND status NOT IN ('synced', 'failed')""",
            event_id,
        )

    async def result_published(self, event_id: str) -> None:
        """Note that the event's sync result reached the broker."""
        await self._pool.execute(
            "UPDATE ledger SET result_published = true WHERE event_id = $1", event_id
        )

    async def complete(
        self,
        event_id: str,
        *,
        company_id: str,
        object_type: str,
        app_id: str,
        qbd_object_type: str | None,
        qbd_id: str,
        revision_number: str | None,
        mapping_source: str = "sync",
        attention_code: str,
        action: str,
        mapping_state: str = "active",
    ) -> Completion:
        """Record a synced event, its mapping, its published result and the company's last
        sync in one round trip.

        ``action`` is what the event did; ``mapping_state`` what the app object is now
        (``voided`` and ``deleted`` objects refuse later updates). ``revision_number`` None
        keeps the mapping's: the revision the app's own last write left (the status
        read-back does not report it back).

        Also returns the events waiting for this mapping (they stay ``waiting_dependency``
        until they run, so a crash or rebalance cannot lose them) and whether an attention
        item about the missing mapping is open.
        """
        row = await self._complete.fetchrow(
            event_id,
            company_id,
            object_type,
            app_id,
            qbd_object_type,
            qbd_id,
            revision_number,
            mapping_source,
            attention_code,
            action,
            mapping_state,
        )
        assert row is not None
        waiting = [
            Waiting(event, bytes(raw))
            for event, raw in zip(row["waiting_ids"], row["waiting_raw"], strict=True)
            if raw is not None
        ]
        return Completion(row["attempts"] or 0, waiting, bool(row["attention_open"]))

    async def waiting_ready(self, company_id: str) -> list[Waiting]:
        """Waiting events of a company whose dependency is mapped by now (after a rebalance)."""
        rows = await self._pool.fetch(
            """SELECT l.event_id, l.raw FROM ledger l
               JOIN mappings m ON m.company_id = l.company_id
                  AND m.object_type = l.waiting_on_type AND m.app_id = l.waiting_on_app_id
               WHERE l.company_id = $1 AND l.status = 'waiting_dependency'
               ORDER BY l.created_at""",
            company_id,
        )
        return [Waiting(row["event_id"], bytes(row["raw"])) for row in rows if row["raw"]]

    async def take_waiting(self, company_id: str, on_type: str, on_app_id: str) -> list[Waiting]:
        """The events waiting for ``(on_type, on_app_id)``, oldest first.

        They stay ``waiting_dependency`` until they run: if the lane loses them (rebalance,
        crash), the next owner's sweep releases them again.
        """
        rows = await self._pool.fetch(
            """SELECT event_id, raw FROM ledger
               WHERE company_id = $1 AND status = 'waiting_dependency'
                 AND waiting_on_type = $2 AND waiting_on_app_id = $3
               ORDER BY created_at""",
            company_id,
            on_type,
            on_app_id,
        )
        return [Waiting(row["event_id"], bytes(row["raw"])) for row in rows if row["raw"]]

    async def last_create(
        self, company_id: str, object_type: str, app_id: str, create_types: list[str]
    ) -> str | None:
        """The status of the latest create event of one app object (None: none was seen)."""
        status: str | None = await self._pool.fetchval(
            """SELECT status FROM ledger
               WHERE company_id = $1 AND object_type = $2 AND app_id = $3
                 AND event_type = ANY($4::text[])
               ORDER BY created_at DESC LIMIT 1""",
            company_id,
            object_type,
            app_id,
            create_types,
        )
        return status

    async def waits_before(
        self, event_id: str, company_id: str, object_type: str, app_id: str
    ) -> bool:
        """Whether an older event of the same app object still waits (this one goes after)."""
        found: bool = await self._pool.fetchval(
            """SELECT EXISTS (
                   SELECT 1 FROM ledger o
                   WHERE o.company_id = $2 AND o.object_type = $3 AND o.app_id = $4
                     AND o.status = 'waiting_dependency' AND o.event_id <> $1
                     AND o.created_at < (SELECT created_at FROM ledger WHERE event_id = $1))""",
            event_id,
            company_id,
            object_type,
            app_id,
        )
        return found

    async def actions(self, company_ids: list[str]) -> dict[str, dict[str, int]]:
        """Synced events per action (``created``, ``updated``, ...) of each of the companies."""
        rows = await self._pool.fetch(
            """SELECT company_id, action, count(*) AS n FROM ledger
               WHERE company_id = ANY($1::text[]) AND status = 'synced' AND action IS NOT NULL
               GROUP BY company_id, action""",
            company_ids,
        )
        found: dict[str, dict[str, int]] = {}
        for row in rows:
            found.setdefault(row["company_id"], {})[row["action"]] = row["n"]
        return found

    async def counts(self, company_id: str | None = None) -> dict[str, int]:
        """Events per status (for the demo summary and operators)."""
        rows = await self._pool.fetch(
            """SELECT status, count(*) AS n FROM ledger
               WHERE $1::text IS NULL OR company_id = $1 GROUP BY status""",
            company_id,
        )
        return {row["status"]: row["n"] for row in rows}

    async def counts_by_company(self) -> dict[tuple[str, str], int]:
        """Events per (company, status)."""
        rows = await self._pool.fetch(
            "SELECT company_id, status, count(*) AS n FROM ledger GROUP BY company_id, status"
        )
        return {(row["company_id"], row["status"]): row["n"] for row in rows}
