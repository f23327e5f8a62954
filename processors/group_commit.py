"""GroupCommit: many lanes' copies of one short statement in one round trip and one commit.

At QuickBooks latency hundreds of lanes open, start and finish events at nearly the same
moment, and each would pay a PostgreSQL round trip and a commit of its own for the same
short statement. A ``GroupCommit`` queues the calls that arrive while its previous batch is
in flight and sends them together with asyncpg's pipelined ``fetchmany``: every execution
goes out in one write, and the batch is one implicit transaction (one commit) on the
server. A lone call goes at once, so a quiet service waits for nothing; the busier it gets,
the fewer round trips and commits per event.

Each caller still awaits its own rows, durable when they come back, so ordering and crash
safety are what they were with one statement per call. The statement echoes its position
in the batch: its last parameter, selected as ``batch_seq``, so rows find their callers.
A batch that fails (a row PostgreSQL or asyncpg refuses, a deadlock) runs again one call at
a time, so an error reaches only the call that caused it. Two batches may be in flight at
once, so a batch held up by one row (locked by an operator's transaction, say) does not hold
up every other lane: the next batch goes on the other connection.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

import asyncpg

__all__ = ["GroupCommit"]

_Call = tuple[tuple[Any, ...], "asyncio.Future[list[asyncpg.Record]]"]


class GroupCommit:
    """Runs one statement for many concurrent callers, a batch per round trip."""

    def __init__(
        self, pool: asyncpg.Pool, query: str, *, max_batch: int = 256, in_flight: int = 2
    ) -> None:
        """``query`` must select its last parameter as ``batch_seq`` (``$N::int``);
        ``in_flight`` batches at most run at once."""
        if "batch_seq" not in query:
            raise ValueError("a grouped statement must select its last parameter as batch_seq")
        self._pool = pool
        self._query = query
        self._max = max_batch
        self._in_flight = in_flight
        self._queue: list[_Call] = []
        self._flushers: set[asyncio.Task[None]] = set()
        self.batches = 0
        """How many round trips ran (for tests and the bench)."""

    async def fetch(self, *args: Any) -> list[asyncpg.Record]:
        """The statement's rows for ``args``, run in the next batch."""
        future: asyncio.Future[list[asyncpg.Record]] = asyncio.get_running_loop().create_future()
        self._queue.append((args, future))
        if len(self._flushers) < self._in_flight:
            flusher = asyncio.create_task(self._flush(), name="group-commit")
            self._flushers.add(flusher)
            flusher.add_done_callback(self._flushers.discard)
        return await future

    async def fetchrow(self, *args: Any) -> asyncpg.Record | None:
        """The statement's first row for ``args`` (None: it returned none)."""
        rows = await self.fetch(*args)
        return rows[0] if rows else None

    async def _flush(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[: self._max], self._queue[self._max :]
            calls = [call for call in batch if not call[1].done()]  # a cancelled caller
            if calls:
                await self._run(calls)

    async def _run(self, calls: list[_Call]) -> None:
        try:
            rows = await self._batch([(*args, seq) for seq, (args, _) in enumerate(calls)])
        except asyncio.CancelledError:
            for _, future in calls:
                future.cancel()
            raise
        except Exception as exc:  # noqa: BLE001 - every caller gets its own outcome below
            if len(calls) == 1:
                if not calls[0][1].done():
                    calls[0][1].set_exception(exc)
            else:
                # One bad row (refused by PostgreSQL, or by asyncpg before it was sent) must
                # not fail the others; a lost connection fails each call on its own again.
                for call in calls:
                    await self._run([call])
            return
        by_seq: defaultdict[int, list[asyncpg.Record]] = defaultdict(list)
        for row in rows:
            by_seq[row["batch_seq"]].append(row)
        for seq, (_, future) in enumerate(calls):
            if not future.done():
                future.set_result(by_seq.get(seq, []))

    async def _batch(self, args: list[tuple[Any, ...]]) -> list[asyncpg.Record]:
        self.batches += 1
        async with self._pool.acquire() as conn:
            rows: list[asyncpg.Record] = await conn.fetchmany(self._query, args)
            return rows
