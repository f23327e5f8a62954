"""Companies flapping offline and online under load: with "Sync now" requests mixed in, and
recovering by themselves (probes and new events, issue 19) with no "Sync now" at all."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
from typing import Any

import pytest

from processors.testing import async_wait_for, unique_name
from schemas import EventType, example_event
from tests.chaos.kit import (
    Feed,
    Workload,
    connect_companies,
    generate_workload,
    ledger_statuses,
    verify,
    wait_settled,
)

_DOWN = ["offline", "dialog_open", "wrong_company_file", "user_signed_in_elsewhere"]


async def _flap(
    sim: Any, end_users: list[str], seed: int, hold: tuple[float, float] = (0.1, 0.6)
) -> None:
    """Until cancelled: take a random company down, or bring one back."""
    rng = random.Random(seed)
    while True:
        state = rng.choice(["online", *_DOWN]) if rng.random() < 0.5 else "online"
        await asyncio.to_thread(sim.set_state, rng.choice(end_users), state)
        await asyncio.sleep(rng.uniform(*hold))  # hold the state for a moment


@pytest.mark.timeout(1200 if os.environ.get("QBD_SYNC_CHAOS") == "full" else 300)
async def test_companies_flapping_offline_and_online_end_synced_in_order(
    stack: Any, sim: Any, scale: Any, chaos_settings: Any, processors: Any, db: Any
) -> None:
    """Parking, replays and live events interleave; after a last "Sync now" all is in order."""
    settings = await chaos_settings(4, max_concurrent_companies=64)
    companies = connect_companies(sim, scale(6, 16))
    workload = generate_workload(companies, scale(25, 80), seed=5, sync_requested_rate=0.08)
    sim.set_faults(latency_ms=[10, 60])
    feed = Feed(settings)
    process = processors(settings)
    process.wait_log("partitions assigned", timeout=60)
    flapper = asyncio.create_task(_flap(sim, [c.end_user for c in companies], seed=5))
    ids = [e["id"] for e in workload.events]
    try:
        for batch in workload.batches(scale(4, 12)):
            await feed.publish(batch)
            await asyncio.sleep(1.0)  # hold: load arrives over time while companies flap

        async def mostly_done() -> bool:
            statuses = await ledger_statuses(stack.database_url, ids)
            return sum(s in ("synced", "parked") for s in statuses.values()) >= 0.8 * len(ids)

        await async_wait_for(
            mostly_done,
            timeout=scale(60, 180),
            interval=0.2,
            what="most events synced or parked while flapping",
        )
    finally:
        flapper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await flapper
    for company in companies:
        sim.set_state(company.end_user, "online")
    last = tuple(
        example_event(EventType.SYNC_REQUESTED, companyid=c.id, id=unique_name("evt-sync"))
        for c in companies
    )
    await feed.publish(last)
    workload = workload + Workload(workload.companies, last)
    await wait_settled(
        workload, settings, feed.ends, timeout=scale(90, 300), alive=lambda: process.alive
    )
    verdict = await verify(workload, settings, sim, feed.ends, label="flapping companies")
    rows = await db("SELECT count(*) AS n FROM dlq_index WHERE dlq_topic = $1", settings.dlq_topic)
    parked = rows[0]["n"]
    print(f"events parked (and replayed) while flapping: {parked}")

    assert verdict.ok, verdict.problems
    assert verdict.failed == 0, verdict.problems
    assert parked > 0, "no company was ever caught offline"


@pytest.mark.timeout(1200 if os.environ.get("QBD_SYNC_CHAOS") == "full" else 300)
async def test_flapping_companies_recover_by_themselves_in_order_and_once(
    stack: Any, sim: Any, scale: Any, chaos_settings: Any, processors: Any, db: Any
) -> None:
    """No "Sync now" ever: background probes and new events bring every company back, each
    event reaches QuickBooks once, in order, however often its company flapped."""
    settings = await chaos_settings(
        4, max_concurrent_companies=64, catchup_interval="1s", parked_recheck_interval="1s"
    )
    companies = connect_companies(sim, scale(6, 16))
    workload = generate_workload(companies, scale(25, 80), seed=19, sync_requested_rate=0.0)
    sim.set_faults(latency_ms=[10, 60])
    feed = Feed(settings)
    process = processors(settings)
    process.wait_log("partitions assigned", timeout=60)
    end_users = [c.end_user for c in companies]
    # Each company changes state every few seconds: ~0.5 s between changes, spread over them.
    flapper = asyncio.create_task(_flap(sim, end_users, seed=19, hold=(0.2, 0.8)))
    try:
        for batch in workload.batches(scale(4, 12)):
            await feed.publish(batch)
            await asyncio.sleep(1.0)  # hold: load arrives over time while companies flap
    finally:
        flapper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await flapper
    for company in companies:
        sim.set_state(company.end_user, "online")
    await wait_settled(
        workload, settings, feed.ends, timeout=scale(120, 300), alive=lambda: process.alive
    )
    verdict = await verify(workload, settings, sim, feed.ends, label="flapping, no Sync now")
    rows = await db("SELECT count(*) AS n FROM dlq_index WHERE dlq_topic = $1", settings.dlq_topic)
    looks = sum(
        1 for e in process.logs() if e.get("event", "").startswith("new event for a parked")
    )
    print(f"events parked while flapping: {rows[0]['n']}; looks by new events: {looks}")

    assert verdict.ok, verdict.problems
    assert verdict.failed == 0, verdict.problems
    assert rows[0]["n"] > 0, "no company was ever caught offline"
