"""/readyz tells the truth (issue 14, item 4): 503 naming what is down, 200 once it is back.

CONTRACT section 5a: within 15 s of an outage and within 15 s of recovery. The processor runs
as ``qbd-sync run`` in a child process; the broker is frozen with SIGSTOP (it keeps its
sockets open and answers nothing) and PostgreSQL is stopped and started again, under load.
"""

from __future__ import annotations

import asyncio
import signal
import time
from typing import Any

import httpx

from processors.testing import async_wait_for
from tests.chaos.kit import Feed, connect_companies, generate_workload, verify, wait_settled

_PROMISE = 15.0  # seconds, CONTRACT section 5a


async def _readyz(port: int) -> tuple[int, dict[str, Any]]:
    async with httpx.AsyncClient(timeout=2.0) as client:
        response = await client.get(f"http://127.0.0.1:{port}/readyz")
    return response.status_code, response.json()


async def _within_promise(port: int, status: int, naming: str | None = None) -> float:
    """Seconds until ``/readyz`` answers ``status`` (naming ``naming`` in its problems)."""
    started = time.monotonic()

    async def answers() -> bool:
        code, body = await _readyz(port)
        named = naming is None or any(p.startswith(f"{naming}:") for p in body["problems"])
        return code == status and named

    await async_wait_for(answers, timeout=_PROMISE, interval=0.2, what=f"/readyz {status}")
    return time.monotonic() - started


async def test_readyz_reports_a_frozen_broker_and_its_return(
    stack: Any, sim: Any, chaos_settings: Any, processors: Any
) -> None:
    """SIGSTOP of the broker: 503 naming the broker within 15 s; SIGCONT: 200 within 15 s."""
    settings = await chaos_settings(4)
    process = processors(settings)
    port = process.wait_started()
    await _within_promise(port, 200)
    broker = stack.dev_stack.broker.process
    broker.signal(signal.SIGSTOP)
    try:
        down = await _within_promise(port, 503, naming="broker")
        _, body = await _readyz(port)
    finally:
        broker.signal(signal.SIGCONT)
    up = await _within_promise(port, 200)
    print(f"broker frozen: 503 after {down:.1f} s; thawed: 200 after {up:.1f} s")

    assert down <= _PROMISE
    assert up <= _PROMISE
    assert body["components"]["broker"]["ok"] is False
    assert body["components"]["database"]["ok"] is True


async def test_readyz_reports_postgresql_stopped_and_started_and_no_event_fails(
    stack: Any, sim: Any, scale: Any, chaos_settings: Any, processors: Any
) -> None:
    """PostgreSQL stopped under load: 503 naming the database; started: 200, nothing failed."""
    settings = await chaos_settings(4)
    workload = generate_workload(connect_companies(sim, scale(4, 8)), scale(10, 40), seed=14)
    first, second = workload.batches(2)
    sim.set_faults(latency_ms=[20, 100])
    feed = Feed(settings)
    process = processors(settings)
    port = process.wait_started()
    await feed.publish(first)
    await _within_promise(port, 200)
    postgres = stack.dev_stack.postgres
    await asyncio.to_thread(postgres.stop)
    try:
        await feed.publish(second)  # arrives while the database is down
        down = await _within_promise(port, 503, naming="database")
        assert process.alive
    finally:
        await asyncio.to_thread(postgres.start)
    up = await _within_promise(port, 200)
    print(f"postgres stopped: 503 after {down:.1f} s; started: 200 after {up:.1f} s")
    await wait_settled(
        workload, settings, feed.ends, timeout=scale(90, 180), alive=lambda: process.alive
    )
    verdict = await verify(workload, settings, sim, feed.ends, label="readiness: postgres")

    assert down <= _PROMISE
    assert up <= _PROMISE
    assert verdict.ok, verdict.problems
    assert verdict.failed == 0, verdict.problems
