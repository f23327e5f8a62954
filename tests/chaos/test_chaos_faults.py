"""Simulator faults at once: 30% ambiguous writes, 10% 5xx, 429 bursts and latency spikes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
from typing import Any

import pytest

from tests.chaos.kit import Feed, connect_companies, generate_workload, verify, wait_settled

_BASE = {
    "ambiguous_rate": 0.3,
    "ambiguous_mode": "drop",
    "error_rate": 0.1,
    "status": 503,
    "latency_ms": [5, 40],
}


async def _drive_faults(sim: Any, end_users: list[str], spike_ms: float, seed: int) -> None:
    """Until cancelled: now and then a burst of 429s, or one company's latency spiking."""
    rng = random.Random(seed)
    while True:
        faults: dict[str, Any] = dict(_BASE)
        if rng.random() < 0.5:
            faults |= {"rate_limit_next": rng.randint(3, 12), "retry_after_s": 0.2}
        else:
            spiking = rng.choice(end_users)
            faults["company_latency_ms"] = {spiking: [spike_ms / 2, spike_ms]}
        await asyncio.to_thread(sim.set_faults, **faults)
        await asyncio.sleep(rng.uniform(0.5, 2.0))  # hold this fault mix for a while


@pytest.mark.timeout(1200 if os.environ.get("QBD_SYNC_CHAOS") == "full" else 300)
async def test_simulator_faults_leave_exactly_one_object_per_event_in_order(
    sim: Any, scale: Any, chaos_settings: Any, processors: Any
) -> None:
    """Under every Conductor fault at once, each event ends once, written once, in order."""
    settings = await chaos_settings(4, max_concurrent_companies=64, conductor_timeout=30.0)
    companies = connect_companies(sim, scale(6, 20))
    workload = generate_workload(companies, scale(12, 60), seed=99)
    sim.set_faults(**_BASE)
    driver = asyncio.create_task(
        _drive_faults(sim, [c.end_user for c in companies], scale(2000, 10000), seed=99)
    )
    try:
        feed = Feed(settings)
        process = processors(settings)
        await feed.publish(workload.events)
        await wait_settled(
            workload, settings, feed.ends, timeout=scale(120, 400), alive=lambda: process.alive
        )
    finally:
        driver.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await driver
        sim.set_faults()
    verdict = await verify(workload, settings, sim, feed.ends, label="simulator faults")
    ambiguous = sum(
        1
        for e in sim.log()
        if e.get("ambiguous") and e["end_user_id"] in {c.end_user for c in companies}
    )
    print(f"ambiguous writes injected: {ambiguous}")

    assert verdict.ok, verdict.problems
    assert verdict.failed == 0, verdict.problems
    assert ambiguous > 0
