"""Two processors, one killed and a new one started again and again: rebalances lose nothing."""

from __future__ import annotations

import asyncio
import os
import random
from typing import Any

import pytest

from tests.chaos.kit import Feed, connect_companies, generate_workload, verify, wait_settled

_SEED = 4242


@pytest.mark.timeout(1200 if os.environ.get("QBD_SYNC_CHAOS") == "full" else 300)
async def test_instances_killed_and_started_repeatedly_lose_and_duplicate_nothing(
    sim: Any, scale: Any, chaos_settings: Any, processors: Any
) -> None:
    """Each cycle a second instance joins (rebalance) and the first is killed (handoff)."""
    cycles = scale(1, 8)
    rng = random.Random(_SEED)
    settings = await chaos_settings(4, max_concurrent_companies=64)
    workload = generate_workload(connect_companies(sim, scale(8, 20)), scale(25, 80), seed=_SEED)
    batches = workload.batches(cycles + 2)
    sim.set_faults(latency_ms=[20, 150])
    feed = Feed(settings)
    old = processors(settings)
    old.wait_log("partitions assigned", timeout=60)
    await feed.publish(batches[0])
    for cycle in range(cycles):
        new = processors(settings)
        new.wait_log("partitions assigned", timeout=60)  # both hold partitions now
        await feed.publish(batches[cycle + 1])
        await asyncio.sleep(rng.uniform(0.2, 2.0))  # hold: both instances work for a while
        old.kill()
        old = new
    for batch in batches[cycles + 1 :]:
        await feed.publish(batch)
    await wait_settled(
        workload, settings, feed.ends, timeout=scale(90, 300), alive=lambda: old.alive
    )
    verdict = await verify(workload, settings, sim, feed.ends, label=f"rebalances x{cycles}")

    assert verdict.ok, verdict.problems
    assert verdict.failed == 0, verdict.problems
