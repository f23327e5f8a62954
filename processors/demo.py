"""``qbd-sync demo`` (what ``make run`` runs): the embedded stack, proven end to end."""

from __future__ import annotations

import time
import uuid

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from processors.devstack import DevStack, run_coroutine
from processors.errors import StackError

__all__ = ["run_demo"]


async def _round_trip(stack: DevStack) -> tuple[str, int]:
    """Produce one record and read it back; write one row and read it back."""
    topic = stack.settings().input_topics[0]
    marker = f"demo-{uuid.uuid4()}".encode()
    producer = AIOKafkaProducer(
        bootstrap_servers=stack.broker.bootstrap_servers, enable_idempotence=False
    )
    await producer.start()
    try:
        sent = await producer.send_and_wait(topic, marker, key=b"acct_demo")
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=stack.broker.bootstrap_servers, enable_auto_commit=False
    )
    await consumer.start()
    try:
        from aiokafka import TopicPartition

        tp = TopicPartition(topic, sent.partition)
        consumer.assign([tp])
        consumer.seek(tp, sent.offset)
        batch = await consumer.getmany(tp, timeout_ms=10_000)
        values = [record.value for record in batch.get(tp, [])]
        if marker not in values:
            raise StackError("the record produced to the broker did not come back")
    finally:
        await consumer.stop()
    conn = await asyncpg.connect(stack.postgres.dsn)
    try:
        count = await conn.fetchval("SELECT count(*) FROM schema_migrations")
    finally:
        await conn.close()
    return f"{topic}[{sent.partition}]@{sent.offset}", int(count)


def run_demo() -> None:
    """Start the stack, prove each part answers, print what happened, shut down."""
    started = time.monotonic()
    with DevStack(partitions=12) as stack:
        ready = time.monotonic() - started
        print(f"embedded stack ready in {ready:.1f} s")  # noqa: T201 - demo output
        for key, value in stack.connection_settings().items():
            print(f"  {key}={value}")  # noqa: T201
        where, migrations = run_coroutine(_round_trip(stack))
        print(f"broker: produced and consumed a record at {where}")  # noqa: T201
        print(f"postgres: {migrations} migrations applied")  # noqa: T201
    print(f"stack stopped cleanly after {time.monotonic() - started:.1f} s")  # noqa: T201
