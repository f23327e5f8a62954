"""Metrics fed by the running service (issue 14, item 5): lag, lane depth, open attention.

Each value asserted here is one only the running processor can know: the lag it computes
from its own fetches (Tansu answers ListOffsets wrongly), the depth of a lane it holds, the
open attention items it counts in PostgreSQL. ``GET /metrics`` is scraped over HTTP.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
from prometheus_client.parser import text_string_to_metric_families

from processors.config import Settings
from processors.testing import (
    RunningService,
    TestStack,
    TopicReader,
    async_wait_for,
    produce,
)
from tests.integration.companies import connected, customer


async def scrape(service: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of ``GET /metrics``: (name, sorted labels) -> value."""
    async with httpx.AsyncClient(base_url=service.http.url) as http:
        text = (await http.get("/metrics")).text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_lag_and_lane_depth_count_the_backlog_of_a_paused_processor(
    stack: TestStack, settings: Settings, db: asyncpg.Pool, results: TopicReader
) -> None:
    """With the processor held on its database, lag is the whole backlog; after, zero."""
    company, _ = connected(stack)
    backlog = [customer(company, n) for n in range(40)]
    topic = settings.input_topics[0]
    async with RunningService(settings) as service, db.acquire() as hold:
        transaction = hold.transaction()
        await transaction.start()
        # Writes to the ledger wait for this lock: the first event of the lane stops there.
        await hold.execute("LOCK TABLE ledger IN EXCLUSIVE MODE")
        ends = await produce(settings, backlog)
        (partition,) = ends
        lag = ("qbd_sync_consumer_lag", (("partition", str(partition)), ("topic", topic)))
        depth = ("qbd_sync_lane_depth", (("company_id", company),))

        async def backlog_seen() -> dict[Any, float] | None:
            found = await scrape(service)
            return found if found.get(lag) == len(backlog) and depth in found else None

        paused = await async_wait_for(backlog_seen, what="the lag of the whole backlog")
        await transaction.rollback()
        await results.wait_for(lambda found: len(found) >= len(backlog))

        async def drained() -> dict[Any, float] | None:
            found = await scrape(service)
            return found if found.get(lag) == 0 and depth not in found else None

        after = await async_wait_for(drained, what="the lag to reach zero")

    assert paused[lag] == 40
    assert paused[depth] == 39  # one event runs (held on the lock), the rest queue behind it
    assert after[lag] == 0


async def test_attention_open_equals_the_open_items(
    stack: TestStack, settings: Settings, db: asyncpg.Pool, faults: Any, results: TopicReader
) -> None:
    """qbd_sync_attention_open is the number of open attention items in PostgreSQL."""
    company, end_user = connected(stack)
    faults.inject(
        status=400,
        type="INVALID_REQUEST_ERROR",
        code="INVALID_REQUEST",
        count=3,
        end_user_id=end_user,
        writes_only=True,
    )
    async with RunningService(settings) as service:
        await produce(settings, [customer(company, n) for n in range(3)])
        await results.wait_for(lambda found: len(found) >= 3)

        async def agrees() -> tuple[float, int] | None:
            exported = (await scrape(service)).get(("qbd_sync_attention_open", ()))
            open_items = await db.fetchval(
                "SELECT count(*) FROM attention WHERE resolved_at IS NULL"
            )
            return (exported, open_items) if exported == open_items else None

        exported, open_items = await async_wait_for(agrees, what="the gauge to agree")
        mine = await db.fetchval(
            "SELECT count(*) FROM attention WHERE company_id = $1 AND resolved_at IS NULL",
            company,
        )

    assert mine == 1  # three failures with the same code: one item
    assert exported == open_items >= 1
