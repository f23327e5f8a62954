"""GroupCommit on the real PostgreSQL: callers share round trips and keep their own rows."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from processors.group_commit import GroupCommit
from processors.testing import TestStack


@pytest.fixture
async def table(db: asyncpg.Pool) -> AsyncIterator[str]:
    """A fresh table: ``n`` unique, ``ratio`` = 10 / ``d`` (a zero divisor is a bad row)."""
    name = f"group_commit_{uuid.uuid4().hex[:12]}"
    await db.execute(f"CREATE TABLE {name} (n int PRIMARY KEY, ratio int)")
    yield name
    await db.execute(f"DROP TABLE {name}")


def _insert(db: asyncpg.Pool, table: str) -> GroupCommit:
    return GroupCommit(
        db,
        f"""INSERT INTO {table} (n, ratio) VALUES ($1, 10 / $2::int)
            RETURNING n, ratio, $3::int AS batch_seq""",  # noqa: S608 - a test table name
    )


async def test_concurrent_callers_share_one_round_trip_and_get_their_own_rows(
    db: asyncpg.Pool, table: str
) -> None:
    """A hundred lanes at once: one batch, each caller its own row, all committed."""
    insert = _insert(db, table)

    rows = await asyncio.gather(*(insert.fetchrow(n, 1 + n % 5) for n in range(100)))

    assert [(row["n"], row["ratio"]) for row in rows if row] == [
        (n, 10 // (1 + n % 5)) for n in range(100)
    ]
    assert insert.batches == 1
    assert await db.fetchval(f"SELECT count(*) FROM {table}") == 100  # noqa: S608


async def test_a_lone_call_goes_at_once(db: asyncpg.Pool, table: str) -> None:
    """A quiet service waits for nothing: each sequential call is its own batch."""
    insert = _insert(db, table)

    for n in range(3):
        row = await insert.fetchrow(n, 1)
        assert row is not None
        assert row["n"] == n

    assert insert.batches == 3


async def test_a_bad_row_fails_only_its_own_caller(db: asyncpg.Pool, table: str) -> None:
    """Division by zero in one call: that call raises, the other nine are written."""
    insert = _insert(db, table)

    outcomes = await asyncio.gather(
        *(insert.fetchrow(n, 0 if n == 4 else 1) for n in range(10)), return_exceptions=True
    )

    assert isinstance(outcomes[4], asyncpg.DivisionByZeroError)
    assert [o["n"] for i, o in enumerate(outcomes) if i != 4] == [  # type: ignore[index]
        n for n in range(10) if n != 4
    ]
    stored = await db.fetch(f"SELECT n FROM {table} ORDER BY n")  # noqa: S608
    assert [row["n"] for row in stored] == [n for n in range(10) if n != 4]


async def test_a_value_asyncpg_cannot_send_fails_only_its_own_caller(
    db: asyncpg.Pool, table: str
) -> None:
    """A text where an integer belongs is refused before it is sent: the batch reruns."""
    insert = _insert(db, table)

    outcomes = await asyncio.gather(
        *(insert.fetchrow("seven" if n == 2 else n, 1) for n in range(5)), return_exceptions=True
    )

    assert isinstance(outcomes[2], asyncpg.DataError)
    assert [o["n"] for i, o in enumerate(outcomes) if i != 2] == [0, 1, 3, 4]  # type: ignore[index]


async def test_rows_go_back_to_their_callers_however_many_each_returns(
    db: asyncpg.Pool, table: str
) -> None:
    """A read returning none, one or many rows per call: each caller gets exactly its own."""
    await db.executemany(f"INSERT INTO {table} VALUES ($1, $2)", [(n, n % 3) for n in range(12)])  # noqa: S608
    read = GroupCommit(
        db,
        f"SELECT n, $2::int AS batch_seq FROM {table} WHERE ratio = $1 ORDER BY n",  # noqa: S608
    )

    found = await asyncio.gather(*(read.fetch(ratio) for ratio in (2, 7, 0, 1)))

    assert [[row["n"] for row in rows] for rows in found] == [
        [2, 5, 8, 11],
        [],
        [0, 3, 6, 9],
        [1, 4, 7, 10],
    ]
    assert read.batches == 1


async def test_a_cancelled_caller_leaves_the_others_alone(db: asyncpg.Pool, table: str) -> None:
    """A lane cancelled while queued (a rebalance): the batch still answers everyone else."""
    insert = _insert(db, table)
    calls = [asyncio.ensure_future(insert.fetchrow(n, 1)) for n in range(5)]
    await asyncio.sleep(0)  # every call is queued
    calls[2].cancel()

    outcomes = await asyncio.gather(*calls, return_exceptions=True)

    assert isinstance(outcomes[2], asyncio.CancelledError)
    assert [o["n"] for i, o in enumerate(outcomes) if i != 2] == [0, 1, 3, 4]  # type: ignore[index]


async def test_a_statement_that_does_not_echo_its_place_is_refused(db: asyncpg.Pool) -> None:
    """Rows could not find their callers: refused when built, not at the first batch."""
    with pytest.raises(ValueError, match="batch_seq"):
        GroupCommit(db, "SELECT 1")


async def test_a_locked_row_holds_up_only_its_own_caller(
    stack: TestStack, db: asyncpg.Pool, table: str
) -> None:
    """One row locked by another transaction: its update waits, another lane's goes on."""
    await db.executemany(f"INSERT INTO {table} VALUES ($1, 0)", [(1,), (2,)])  # noqa: S608
    operator = await asyncpg.connect(stack.database_url)  # the pool's two are the batches'
    update = GroupCommit(
        db,
        f"""UPDATE {table} SET ratio = $2 WHERE n = $1
            RETURNING n, ratio, $3::int AS batch_seq""",  # noqa: S608 - a test table name
    )
    try:
        async with operator.transaction():
            await operator.execute(f"SELECT * FROM {table} WHERE n = 1 FOR UPDATE")  # noqa: S608
            held = asyncio.ensure_future(update.fetchrow(1, 10))
            await asyncio.sleep(0)  # its batch is on the wire, waiting for the lock

            other = await asyncio.wait_for(update.fetchrow(2, 20), timeout=10)

            assert other is not None
            assert other["ratio"] == 20
            assert not held.done()
        row = await asyncio.wait_for(held, timeout=10)
    finally:
        await operator.close()

    assert row is not None
    assert row["ratio"] == 10
