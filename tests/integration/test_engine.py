"""The engine's own contract on a real broker: per-key order, commits, backpressure, give-up.

The work processor here is a small recording stand-in (not our Syncer) so the engine's
behaviour is observed on its own: what ran, in which order, what was committed.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from processors.backoff import Backoff
from processors.config import Settings
from processors.engine import Engine
from processors.testing import TestStack, create_topics, pipeline_settings, produce
from processors.work import RejectedRecord, Work
from schemas import EventType, example_event


class RecordingProcessor:
    """Runs work by recording it; raises for the event ids in ``broken``."""

    def __init__(self, *, broken: frozenset[str] = frozenset(), delay: float = 0.0) -> None:
        self.broken = broken
        self.delay = delay
        self.order: dict[str, list[str]] = defaultdict(list)
        self.running: set[str] = set()
        self.overlaps = 0
        self.gave_up: list[str] = []
        self.rejected_reasons: list[str] = []

    async def process(self, work: Work) -> list[Work]:
        if work.company_id in self.running:
            self.overlaps += 1
        self.running.add(work.company_id)
        try:
            await asyncio.sleep(self.delay)
            if work.event.id in self.broken:
                raise ValueError(f"cannot handle {work.event.id}")
            self.order[work.company_id].append(work.event.id)
            return []
        finally:
            self.running.discard(work.company_id)

    async def rejected(self, record: RejectedRecord) -> None:
        self.rejected_reasons.append(record.reason)

    async def key_works(self) -> bool:
        return True

    async def give_up(self, work: Work, error: BaseException) -> bool:
        self.gave_up.append(work.event.id)
        return True

    def assigned(self) -> None:
        pass


def _events(companies: int, per_company: int) -> list[dict[str, Any]]:
    return [
        example_event(EventType.SYNC_REQUESTED, companyid=f"acct_{c}", id=f"e-{c}-{n}")
        for n in range(per_company)
        for c in range(companies)
    ]


async def _committed(settings: Settings, partitions: int) -> int:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers, group_id=settings.group_id
    )
    await consumer.start()
    try:
        total = 0
        for partition in range(partitions):
            total += (
                await consumer.committed(TopicPartition(settings.input_topics[0], partition)) or 0
            )
        return total
    finally:
        await consumer.stop()


async def _run_until(engine: Engine, done: Any) -> None:
    async def stop_when_done() -> bool:
        return bool(await done())

    await asyncio.wait_for(engine.run(until=stop_when_done), timeout=120)


async def test_each_company_runs_in_order_one_at_a_time_and_all_offsets_commit(
    stack: TestStack,
) -> None:
    """Per-key order and exclusivity hold while many keys share two partitions."""
    settings = pipeline_settings(stack, max_concurrent_companies=16)
    await create_topics(settings, 2)
    events = _events(companies=40, per_company=10)
    await produce(settings, events)
    processor = RecordingProcessor(delay=0.002)
    engine = Engine(settings, processor)

    async def finished() -> bool:
        return sum(map(len, processor.order.values())) == len(events) and (
            engine.offsets.in_flight_total == 0
        )

    await _run_until(engine, finished)

    for company, ids in processor.order.items():
        index = int(company.split("_")[1])
        assert ids == [f"e-{index}-{n}" for n in range(10)]
    assert processor.overlaps == 0
    assert await _committed(settings, 2) == len(events)


async def test_a_broken_event_is_given_up_and_the_partition_keeps_committing(
    stack: TestStack,
) -> None:
    """An event that keeps raising ends via give_up; events behind it still run and commit."""
    settings = pipeline_settings(stack)
    await create_topics(settings, 1)
    events = _events(companies=3, per_company=4)
    await produce(settings, events)
    processor = RecordingProcessor(broken=frozenset({"e-1-1"}))
    engine = Engine(settings, processor, work_backoff=Backoff(initial=0.01, cap=0.02))

    async def finished() -> bool:
        return sum(map(len, processor.order.values())) == len(events) - 1 and (
            engine.offsets.in_flight_total == 0
        )

    await _run_until(engine, finished)

    assert processor.gave_up == ["e-1-1"]
    assert processor.order["acct_1"] == ["e-1-0", "e-1-2", "e-1-3"]
    assert await _committed(settings, 1) == len(events)


async def test_fetching_pauses_at_max_in_flight(stack: TestStack) -> None:
    """The engine never holds more than MAX_IN_FLIGHT records (plus one fetch) at once."""
    settings = pipeline_settings(stack, max_in_flight=50, max_concurrent_companies=4)
    await create_topics(settings, 1)
    events = _events(companies=8, per_company=60)
    await produce(settings, events)
    processor = RecordingProcessor(delay=0.001)
    engine = Engine(settings, processor)
    peak = 0

    async def finished() -> bool:
        nonlocal peak
        peak = max(peak, engine.offsets.in_flight_total)
        return sum(map(len, processor.order.values())) == len(events)

    await _run_until(engine, finished)

    assert 0 < peak <= 50


async def test_poison_records_are_rejected_without_stopping_the_stream(stack: TestStack) -> None:
    """Records that fail intake go to the processor's rejected hook; the rest still run."""
    settings = pipeline_settings(stack)
    await create_topics(settings, 1)
    good = _events(companies=1, per_company=3)
    await produce(settings, [good[0], b"not json", good[1], b'{"specversion": "1.0"}', good[2]],
                  key=b"acct_0")  # fmt: skip
    processor = RecordingProcessor()
    engine = Engine(settings, processor)

    async def finished() -> bool:
        return len(processor.order["acct_0"]) == 3 and len(processor.rejected_reasons) == 2

    await _run_until(engine, finished)

    assert processor.order["acct_0"] == ["e-0-0", "e-0-1", "e-0-2"]
    assert processor.rejected_reasons[0].startswith("not JSON")
