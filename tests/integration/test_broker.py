"""The embedded Kafka-protocol broker behaves like Kafka where qbd-sync relies on it."""

from __future__ import annotations

import asyncio
from collections import defaultdict

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from processors.kafka import ensure_topics
from processors.testing import TestStack, async_wait_for, unique_name


async def _topic(stack: TestStack, partitions: int = 4) -> str:
    name = unique_name("t-broker")
    await ensure_topics({"bootstrap_servers": stack.bootstrap_servers}, {name: partitions})
    return name


async def _produce(stack: TestStack, topic: str, records: list[tuple[bytes, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=stack.bootstrap_servers, enable_idempotence=False)
    await producer.start()
    try:
        await asyncio.gather(
            *[producer.send_and_wait(topic, value, key=key) for key, value in records]
        )
    finally:
        await producer.stop()


def _consumer(stack: TestStack, topic: str, group: str) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        topic,
        bootstrap_servers=stack.bootstrap_servers,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=10_000,
        heartbeat_interval_ms=500,
    )


async def test_keyed_records_spread_over_partitions_and_keep_key_affinity(
    stack: TestStack,
) -> None:
    """Records of one key land on one partition; many keys use every partition."""
    topic = await _topic(stack)
    records = [(f"acct_{i % 20}".encode(), f"v{i}".encode()) for i in range(200)]
    await _produce(stack, topic, records)
    consumer = _consumer(stack, topic, unique_name("g"))
    await consumer.start()
    partitions_by_key: dict[bytes, set[int]] = defaultdict(set)
    seen: list[bytes] = []
    try:

        async def all_consumed() -> bool:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                for record in batch:
                    assert record.key is not None
                    partitions_by_key[record.key].add(record.partition)
                    seen.append(record.value)
            return len(seen) >= len(records)

        await async_wait_for(all_consumed, timeout=30, what="all records")
    finally:
        await consumer.stop()

    assert sorted(seen) == sorted(value for _, value in records)
    assert all(len(partitions) == 1 for partitions in partitions_by_key.values())
    assert {p for partitions in partitions_by_key.values() for p in partitions} == {0, 1, 2, 3}


async def test_group_of_two_splits_partitions_and_rebalances_when_one_leaves(
    stack: TestStack,
) -> None:
    """Two members share the partitions; when one leaves the other owns them all."""
    topic = await _topic(stack)
    group = unique_name("g")
    first, second = _consumer(stack, topic, group), _consumer(stack, topic, group)
    await first.start()
    await second.start()
    try:

        async def split() -> bool:
            await asyncio.gather(first.getmany(timeout_ms=200), second.getmany(timeout_ms=200))
            a, b = first.assignment(), second.assignment()
            return len(a) + len(b) == 4 and bool(a) and bool(b) and not (a & b)

        await async_wait_for(split, timeout=45, what="partitions split between two members")
        await second.stop()

        async def taken_over() -> bool:
            await first.getmany(timeout_ms=200)
            return len(first.assignment()) == 4

        await async_wait_for(taken_over, timeout=45, what="the survivor owning every partition")
    finally:
        await first.stop()
        await second.stop()

    assert {tp.partition for tp in first.assignment()} == {0, 1, 2, 3}


async def test_committed_offsets_survive_a_consumer_restart(stack: TestStack) -> None:
    """A restarted consumer of the group resumes after the last committed offset.

    The partition is assigned by hand (commits still belong to the group), so the test does
    not wait on group rebalances; the group tests above cover those.
    """
    topic = await _topic(stack, partitions=1)
    group = unique_name("g")
    await _produce(stack, topic, [(b"acct_1", f"v{i}".encode()) for i in range(10)])
    tp = TopicPartition(topic, 0)

    def assigned_consumer() -> AIOKafkaConsumer:
        return AIOKafkaConsumer(
            bootstrap_servers=stack.bootstrap_servers,
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )

    consumer = assigned_consumer()
    await consumer.start()
    try:
        consumer.assign([tp])
        first_batch: list[bytes] = []

        async def got_six() -> bool:
            records = await consumer.getmany(tp, timeout_ms=500, max_records=6 - len(first_batch))
            first_batch.extend(record.value for record in records.get(tp, []))
            return len(first_batch) >= 6

        await async_wait_for(got_six, timeout=30, what="six records")
        await consumer.commit({tp: 6})
    finally:
        await consumer.stop()

    restarted = assigned_consumer()
    await restarted.start()
    try:
        restarted.assign([tp])
        rest: list[bytes] = []

        async def got_rest() -> bool:
            records = await restarted.getmany(tp, timeout_ms=500)
            rest.extend(record.value for record in records.get(tp, []))
            return len(rest) >= 4

        await async_wait_for(got_rest, timeout=30, what="the remaining records")
        committed = await restarted.committed(tp)
    finally:
        await restarted.stop()

    assert rest == [f"v{i}".encode() for i in range(6, 10)]
    assert committed == 6
