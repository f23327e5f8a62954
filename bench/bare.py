"""The bare baseline: aiokafka consume -> Conductor call -> produce a result, nothing more.

No ledger, no lanes, no ordering, no offset tracking: up to ``--concurrency`` calls run at
once (a new one starts as soon as one ends), through the same transport as qbd-sync (the
SDK's aiohttp client with a kept-alive connection per call in flight), each publishing one
result; fetched positions are committed every half second whether their calls ended or not.
It is the floor of CPU per event that any Kafka-to-Conductor service pays, and at 0-5 ms
latency its rate is the CPU half of the physical bound (``bench.model.physical_bound``).

``python -m bench.bare --bootstrap B --topic T --group G --base-url URL --results-topic R
[--concurrency N]``
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from bench._baseline import Caller, parse_args, stop_event

_COMMIT_INTERVAL = 0.5


async def main() -> None:
    """Consume, call Conductor for each record (``--concurrency`` at once), produce, commit."""
    args = parse_args(__doc__.splitlines()[0])
    stop = stop_event()
    caller = Caller(args.base_url, args.api_key, connections=args.concurrency)
    consumer = AIOKafkaConsumer(
        args.topic,
        bootstrap_servers=args.bootstrap,
        group_id=args.group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    producer = AIOKafkaProducer(bootstrap_servers=args.bootstrap, enable_idempotence=False)
    slots = asyncio.Semaphore(args.concurrency)
    running: set[asyncio.Task[None]] = set()

    async def one(record: Any) -> None:
        try:
            created = await caller.call(record.value, record.key)
            result = {
                "key": record.key.decode() if record.key else None,
                "qbd_id": getattr(created, "id", None),
            }
            await producer.send(args.results_topic, orjson.dumps(result), key=record.key)
        finally:
            slots.release()

    await consumer.start()
    await producer.start()
    committed = time.monotonic()
    try:
        while not stop.is_set():
            batch = await consumer.getmany(timeout_ms=200, max_records=500)
            for records in batch.values():
                for record in records:
                    await slots.acquire()
                    task = asyncio.create_task(one(record))
                    running.add(task)
                    task.add_done_callback(running.discard)
            if time.monotonic() - committed > _COMMIT_INTERVAL:
                await consumer.commit()
                committed = time.monotonic()
    finally:
        await consumer.stop()
        await producer.stop()
        await caller.client.close()


if __name__ == "__main__":
    asyncio.run(main())
