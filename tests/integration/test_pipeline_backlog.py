"""Memory under a large backlog: MAX_IN_FLIGHT bounds what the engine holds, RSS stays flat."""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import uuid

import orjson
import psutil
from aiokafka import AIOKafkaProducer

from processors.config import Settings
from processors.testing import (
    RunningService,
    TestStack,
    async_wait_for,
    committed_positions,
    create_topics,
    pipeline_settings,
)

_BACKLOG = 100_000
_COMPANIES = 1_000
_MAX_IN_FLIGHT = 200
_WORKED = 4_500  # events worked through the backlog while sampling (the 2-core budget)


async def _produce_backlog(settings: Settings) -> None:
    """Publish ``_BACKLOG`` small mapping.set events over ``_COMPANIES`` companies, fast."""
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        enable_idempotence=False,
        linger_ms=20,
        max_batch_size=262_144,
    )
    await producer.start()
    try:
        tag = uuid.uuid4().hex[:8]
        for n in range(_BACKLOG):
            company = f"bulk-{tag}-{n % _COMPANIES}"
            event = {
                "specversion": "1.0", "id": f"evt-{tag}-{n}", "type": "mapping.set",
                "source": "billing-service", "companyid": company,
                "data": {"object_type": "customer", "app_id": f"cus_{n}",
                         "qbd_id": f"8000{n:04d}-1234567890"},
            }  # fmt: skip
            await producer.send(settings.input_topics[0], orjson.dumps(event),
                                key=company.encode())  # fmt: skip
        await producer.flush()
    finally:
        await producer.stop()


async def test_memory_stays_bounded_with_a_100k_backlog(stack: TestStack) -> None:
    """With 100,000 events waiting, the engine holds at most MAX_IN_FLIGHT and RSS stays flat."""
    settings = pipeline_settings(stack, max_in_flight=_MAX_IN_FLIGHT)
    await create_topics(settings, 4)
    await _produce_backlog(settings)
    process = psutil.Process()
    peaks = {"in_flight": 0, "queued": 0}
    rss: list[int] = []

    async def worked(at_least: int) -> bool:
        return sum((await committed_positions(settings)).values()) >= at_least

    async with RunningService(settings) as service:
        engine = service.engine

        async def sample() -> None:
            while True:
                peaks["in_flight"] = max(peaks["in_flight"], engine.offsets.in_flight_total)
                peaks["queued"] = max(peaks["queued"], engine.lanes.total)
                rss.append(process.memory_info().rss)
                await asyncio.sleep(0.01)

        sampler = asyncio.create_task(sample())
        try:
            await async_wait_for(lambda: worked(1_500), timeout=120, interval=0.5, what="warm-up")
            warm = len(rss)
            await async_wait_for(lambda: worked(_WORKED), timeout=180, interval=0.5,
                                 what=f"{_WORKED} events worked")  # fmt: skip
            left = _BACKLOG - sum((await committed_positions(settings)).values())
        finally:
            sampler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sampler
    window = rss[warm:]
    growth_mb = (max(window) - window[0]) / 2**20
    third = len(window) // 3
    trend_mb = (statistics.median(window[-third:]) - statistics.median(window[:third])) / 2**20
    print(
        f"peak in flight {peaks['in_flight']}, peak queued {peaks['queued']}, RSS growth "
        f"after warm-up {growth_mb:.1f} MiB (trend {trend_mb:.1f}), backlog left {left}"
    )

    assert peaks["in_flight"] <= _MAX_IN_FLIGHT
    assert peaks["queued"] <= _MAX_IN_FLIGHT
    assert peaks["in_flight"] >= _MAX_IN_FLIGHT // 2, "the backlog never filled the engine"
    assert left > _BACKLOG // 2, "the backlog was not a backlog"
    assert growth_mb < 64, f"RSS grew {growth_mb:.1f} MiB while working the backlog"
