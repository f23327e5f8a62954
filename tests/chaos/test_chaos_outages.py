"""The broker paused (SIGSTOP) and PostgreSQL restarted under load: the processor waits, resumes."""

from __future__ import annotations

import asyncio
import signal
from typing import Any

from processors.testing import async_wait_for
from tests.chaos.kit import (
    Feed,
    connect_companies,
    generate_workload,
    ledger_statuses,
    verify,
    wait_settled,
)


async def _some_synced(stack: Any, ids: list[str], at_least: int) -> None:
    async def synced() -> bool:
        statuses = await ledger_statuses(stack.database_url, ids)
        return sum(s == "synced" for s in statuses.values()) >= at_least

    await async_wait_for(synced, timeout=60, interval=0.1, what=f"{at_least} events synced")


async def test_a_paused_broker_delays_but_loses_nothing(
    stack: Any, dev_stack: Any, sim: Any, scale: Any, chaos_settings: Any, processors: Any
) -> None:
    """The broker frozen mid-run for 10 s (30 s in full): afterwards every event completes."""
    settings = await chaos_settings(4)
    workload = generate_workload(connect_companies(sim, scale(5, 12)), scale(20, 60), seed=7)
    first, second = workload.batches(2)
    sim.set_faults(latency_ms=[20, 100])
    feed = Feed(settings)
    process = processors(settings)
    await feed.publish(first)
    await _some_synced(stack, [e["id"] for e in first], 10)
    broker = dev_stack.broker.process
    broker.signal(signal.SIGSTOP)
    try:
        await asyncio.sleep(scale(10, 30))  # hold the fault
        assert process.alive
    finally:
        broker.signal(signal.SIGCONT)
    await feed.publish(second)
    await wait_settled(
        workload, settings, feed.ends, timeout=scale(90, 180), alive=lambda: process.alive
    )
    verdict = await verify(workload, settings, sim, feed.ends, label="broker paused")

    assert verdict.ok, verdict.problems
    assert verdict.failed == 0, verdict.problems


async def test_a_postgresql_restart_delays_but_loses_nothing(
    stack: Any, dev_stack: Any, sim: Any, scale: Any, chaos_settings: Any, processors: Any
) -> None:
    """PostgreSQL stopped mid-run and started again: the processor reconnects and completes."""
    settings = await chaos_settings(4)
    workload = generate_workload(connect_companies(sim, scale(5, 12)), scale(20, 60), seed=8)
    first, second = workload.batches(2)
    sim.set_faults(latency_ms=[20, 100])
    feed = Feed(settings)
    process = processors(settings)
    await feed.publish(first)
    await _some_synced(stack, [e["id"] for e in first], 10)
    postgres = dev_stack.postgres
    await asyncio.to_thread(postgres.stop)
    try:
        await feed.publish(second)  # arrives while the database is down
        await asyncio.sleep(scale(3, 15))  # hold the fault
        assert process.alive
    finally:
        await asyncio.to_thread(postgres.start)
    await wait_settled(
        workload, settings, feed.ends, timeout=scale(90, 180), alive=lambda: process.alive
    )
    verdict = await verify(workload, settings, sim, feed.ends, label="postgres restarted")

    assert verdict.ok, verdict.problems
    assert verdict.failed == 0, verdict.problems
