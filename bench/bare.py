"""The bare baseline: aiokafka consume -> Conductor call -> produce a result, nothing more.

No ledger, no lanes, no ordering, no offsets tracking: each fetched batch runs its calls
concurrently (at most 64 at once), publishes one result per call, and commits the batch.
It is the floor of CPU per event that any Kafka-to-Conductor service pays.

``python -m bench.bare --bootstrap B --topic T --group G --base-url URL --results-topic R``
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from bench._baseline import Caller, parse_args, stop_event

_CONCURRENCY = 64


async def main() -> None:
    """Consume a batch, call Conductor for each record concurrently, produce, commit."""
    args = parse_args(__doc__.splitlines()[0])
    stop = stop_event()
    caller = Caller(args.base_url, args.api_key)
    consumer = AIOKafkaConsumer(
        args.topic,
        bootstrap_servers=args.bootstrap,
        group_id=args.group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    producer = AIOKafkaProducer(bootstrap_servers=args.bootstrap, enable_idempotence=False)
    slots = asyncio.Semaphore(_CONCURRENCY)

    async def one(record: Any) -> None:
        async with slots:
            created = await caller.call(record.value, record.key)
        result = {
            "key": record.key.decode() if record.key else None,
            "qbd_id": getattr(created, "id", None),
        }
        await producer.send(args.results_topic, orjson.dumps(result), key=record.key)

    await consumer.start()
    await producer.start()
    try:
        while not stop.is_set():
            batch = await consumer.getmany(timeout_ms=200, max_records=500)
            records = [record for records in batch.values() for record in records]
            if records:
                await asyncio.gather(*(one(record) for record in records))
                await consumer.commit()
    finally:
        await consumer.stop()
        await producer.stop()
        await caller.client.close()


if __name__ == "__main__":
    asyncio.run(main())
