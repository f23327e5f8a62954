"""PostgreSQL briefly unable to serve is waited out, never a failed event (issue 14, item 2).

Against the real embedded PostgreSQL: serialization failures and deadlocks are raised by the
server itself (a trigger on ``mappings`` answers 40001 or 40P01 while the test holds the
fault on), and too many connections by filling every connection slot. Readiness must say
the database is what the processor waits for, meanwhile.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from processors.config import Settings
from processors.testing import (
    RunningService,
    TestStack,
    TopicReader,
    async_wait_for,
    produce,
    unique_name,
)
from tests.integration.companies import connected, customer


@contextlib.asynccontextmanager
async def failing_mappings(db: asyncpg.Pool, company: str, sqlstate: str) -> AsyncIterator[str]:
    """While open, PostgreSQL answers ``sqlstate`` to every mapping write of ``company``.

    Yields the name of a sequence counting the refusals (sequences ignore rollbacks).
    """
    tag = unique_name("fault").replace("-", "_")
    await db.execute(
        f"""CREATE SEQUENCE {tag}_count;
            CREATE FUNCTION {tag}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM nextval('{tag}_count');
                RAISE EXCEPTION 'forced by the test' USING ERRCODE = '{sqlstate}';
            END $$;
            CREATE TRIGGER {tag} BEFORE INSERT OR UPDATE ON mappings FOR EACH ROW
                WHEN (NEW.company_id = '{company}') EXECUTE FUNCTION {tag}();"""
    )
    try:
        yield f"{tag}_count"
    finally:
        await db.execute(
            f"DROP TRIGGER {tag} ON mappings; DROP FUNCTION {tag}(); DROP SEQUENCE {tag}_count;"
        )


def problems(service: Any) -> str:
    """What the processor's readiness says is wrong, as one line."""
    return "; ".join(service.health.problems())


@pytest.mark.parametrize("sqlstate", ["40001", "40P01"], ids=["serialization failure", "deadlock"])
async def test_a_transaction_postgresql_refuses_for_a_while_is_retried_not_failed(
    stack: TestStack,
    settings: Settings,
    db: asyncpg.Pool,
    results: TopicReader,
    sqlstate: str,
) -> None:
    """Refused far more often than the give-up budget, the event waits, then syncs once."""
    company, end_user = connected(stack)
    event = customer(company, 1)
    async with RunningService(settings) as service:
        async with failing_mappings(db, company, sqlstate) as refusals:

            async def refused_again_and_again() -> bool:
                count = await db.fetchval(
                    "SELECT coalesce(last_value, 0) FROM pg_sequences WHERE sequencename = $1",
                    refusals,
                )
                return bool(count >= 10) and "database" in problems(service)

            await produce(settings, [event])
            await async_wait_for(refused_again_and_again, what="ten refusals, readiness down")
            during = problems(service)
        found = await results.wait_for(
            lambda e: any(r["data"]["status"] == "synced" for r in e), timeout=60
        )
        await async_wait_for(lambda: _now(service.health.ready), timeout=30, what="readiness back")
    status = await db.fetchval("SELECT status FROM ledger WHERE event_id = $1", event["id"])

    assert "database: 1 waiting out an outage" in during
    assert {r["data"]["status"] for r in found} == {"synced"}
    assert {r["id"] for r in found} == {f"result:{event['id']}"}
    assert status == "synced"
    assert len(stack.simulator.objects(end_user, "customers")) == 1


async def test_too_many_connections_is_waited_out_with_readiness_down(
    stack: TestStack, settings: Settings, results: TopicReader
) -> None:
    """With every connection slot taken, events wait and readiness names the database."""
    company, end_user = connected(stack)
    events = [customer(company, n) for n in range(3)]
    async with RunningService(settings) as service:
        async with every_connection_slot_taken(stack.database_url):
            await async_wait_for(
                lambda: _now("too many clients" in problems(service)),
                timeout=15,
                what="readiness to name the database",
            )
            await produce(settings, events)
            await async_wait_for(
                lambda: _now("database: 1 waiting out an outage" in problems(service)),
                timeout=15,
                what="the company's lane to wait for the database",
            )
            during = list(await results.poll())
        found = await results.wait_for(lambda e: len(e) >= len(events), timeout=60)
        await async_wait_for(lambda: _now(service.health.ready), timeout=15, what="readiness back")

    assert during == []
    assert sorted(r["data"]["event_id"] for r in found) == sorted(e["id"] for e in events)
    assert {r["data"]["status"] for r in found} == {"synced"}
    assert len(stack.simulator.objects(end_user, "customers")) == len(events)


@contextlib.asynccontextmanager
async def every_connection_slot_taken(dsn: str) -> AsyncIterator[None]:
    """Hold every PostgreSQL connection slot; the processor's own connections are ended."""
    mine: list[asyncpg.Connection] = []
    try:
        control = await asyncpg.connect(dsn)
        mine.append(control)
        while True:
            await _fill(dsn, mine)
            others = await control.fetchval(
                """SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                   WHERE backend_type = 'client backend' AND NOT pid = ANY($1::int[])""",
                [c.get_server_pid() for c in mine],
            )
            if others == 0:
                break  # every slot is ours; anything the processor asks for is refused
        yield
    finally:
        for connection in mine:
            await connection.close()


async def _fill(dsn: str, mine: list[asyncpg.Connection]) -> None:
    """Open connections until PostgreSQL refuses one."""
    while True:
        try:
            mine.append(await asyncpg.connect(dsn))
        except asyncpg.exceptions.TooManyConnectionsError:
            return


async def _now(value: bool) -> bool:
    return value
