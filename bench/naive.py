"""The naive baseline: one message at a time, call Conductor, commit after each message.

``python -m bench.naive --bootstrap B --topic T --group G --base-url URL``; runs until
SIGTERM. This is the plain subscriber most teams write first.
"""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer

from bench._baseline import Caller, parse_args, stop_event


async def main() -> None:
    """Consume, call, commit; one record at a time."""
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
    await consumer.start()
    try:
        while not stop.is_set():
            batch = await consumer.getmany(timeout_ms=200, max_records=1)
            for records in batch.values():
                for record in records:
                    await caller.call(record.value, record.key)
                    await consumer.commit()
    finally:
        await consumer.stop()
        await caller.client.close()


if __name__ == "__main__":
    asyncio.run(main())
