"""Our Conductor key revoked mid-run: halt without committing past, 503, then complete."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from processors.devstack import DEV_SECRET_KEY
from processors.testing import async_wait_for, committed_positions
from tests.chaos.kit import (
    Feed,
    LedgerRow,
    commit_violations,
    connect_companies,
    generate_workload,
    ledger_statuses,
    verify,
    wait_settled,
)


async def test_a_revoked_key_halts_without_committing_past_and_resumes_losing_nothing(
    stack: Any, sim: Any, scale: Any, chaos_settings: Any, processors: Any, db: Any
) -> None:
    """Revoked: /readyz 503 and commits stay behind unfinished work; restored: all completes."""
    settings = await chaos_settings(4)
    workload = generate_workload(connect_companies(sim, scale(5, 12)), scale(20, 60), seed=11)
    ids = [e["id"] for e in workload.events]
    first, second = workload.batches(2)
    sim.set_faults(latency_ms=[20, 80])
    feed = Feed(settings)
    process = processors(settings)
    ready_url = f"http://127.0.0.1:{process.wait_started()}/readyz"
    await feed.publish(first)

    async def some_synced() -> bool:
        statuses = await ledger_statuses(stack.database_url, ids)
        return sum(s == "synced" for s in statuses.values()) >= 10

    await async_wait_for(some_synced, timeout=60, interval=0.1, what="10 events synced")
    sim.revoke_key(DEV_SECRET_KEY)
    await feed.publish(second)
    async with httpx.AsyncClient() as http:

        async def not_ready() -> bool:
            return (await http.get(ready_url)).status_code == 503

        await async_wait_for(not_ready, timeout=60, what="/readyz 503")
        await asyncio.sleep(scale(3, 10))  # hold the revoked key (work already done may commit)
        still = await committed_positions(settings)
        rows = await db(
            "SELECT event_id, status, source_topic, source_partition, source_offset "
            "FROM ledger WHERE event_id = ANY($1::text[])",
            ids,
        )
        topic = settings.input_topics[0]
        violations = commit_violations(
            {(topic, p): c for p, c in still.items()},
            {
                (r["source_topic"], r["source_partition"], r["source_offset"]): r["event_id"]
                for r in rows
            },
            {r["event_id"]: LedgerRow(r["status"]) for r in rows},
        )
        unfinished = (
            sum(r["status"] not in ("synced", "failed") for r in rows) + len(ids) - len(rows)
        )
        sim.restore_key(DEV_SECRET_KEY)

        async def ready() -> bool:
            return (await http.get(ready_url)).status_code == 200

        await async_wait_for(ready, timeout=90, what="/readyz 200 after the key is restored")
    await wait_settled(
        workload, settings, feed.ends, timeout=scale(90, 180), alive=lambda: process.alive
    )
    verdict = await verify(workload, settings, sim, feed.ends, label="key revoked")

    assert unfinished > 0, "the key was revoked too late to halt anything"
    assert violations == []
    assert verdict.ok, verdict.problems
    assert verdict.failed == 0, verdict.problems
