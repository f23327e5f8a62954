"""Thin aiokafka edge: client options, topic creation and checks, reading records back.

``read_record`` and ``read_positions`` read what qbd-sync itself wrote (the DLQ, an input
record to re-run) at known positions, with a consumer that joins no group.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, KafkaError

from processors.config import Settings
from processors.errors import ConfigError, DependencyUnavailable

__all__ = [
    "StoredRecord",
    "client_options",
    "ensure_topics",
    "outbound_topics",
    "partition_counts",
    "read_positions",
    "read_record",
]

_TOPIC_ALREADY_EXISTS = 36
_EMPTY_FETCHES = 5  # fetches that find nothing before a record counts as gone


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredRecord:
    """A record read back from a topic."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]
    timestamp: int

    @classmethod
    def of(cls, record: Any) -> StoredRecord:
        """From an aiokafka ``ConsumerRecord``."""
        return cls(
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            key=record.key,
            value=record.value,
            headers=tuple(record.headers or ()),
            timestamp=record.timestamp,
        )


def client_options(settings: Settings) -> dict[str, Any]:
    """Connection and security keyword arguments shared by every aiokafka client."""
    settings.require("kafka_bootstrap_servers", command="run")
    options: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_bootstrap_servers,
        "security_protocol": settings.kafka_security_protocol,
    }
    if settings.kafka_security_protocol in ("SSL", "SASL_SSL"):
        context = ssl.create_default_context(
            cafile=str(settings.kafka_ssl_cafile) if settings.kafka_ssl_cafile else None
        )
        options["ssl_context"] = context
    if settings.kafka_security_protocol.startswith("SASL"):
        if not settings.kafka_sasl_mechanism or not settings.kafka_sasl_username:
            raise ConfigError(
                "QBD_SYNC_KAFKA_SASL_MECHANISM and QBD_SYNC_KAFKA_SASL_USERNAME are required "
                f"with QBD_SYNC_KAFKA_SECURITY_PROTOCOL={settings.kafka_security_protocol}"
            )
        options["sasl_mechanism"] = settings.kafka_sasl_mechanism
        options["sasl_plain_username"] = settings.kafka_sasl_username
        options["sasl_plain_password"] = settings.secret("kafka_sasl_password")
    return options


def outbound_topics(settings: Settings) -> list[str]:
    """The topics qbd-sync writes to."""
    return [
        settings.sync_results_topic,
        settings.needs_attention_topic,
        settings.dlq_topic,
        settings.rejected_topic,
        settings.reference_topic,
    ]


@asynccontextmanager
async def _admin(options: Mapping[str, Any]) -> AsyncIterator[AIOKafkaAdminClient]:
    """A started admin client, closed on exit; DependencyUnavailable if Kafka is away."""
    admin = AIOKafkaAdminClient(**options)
    try:
        await admin.start()
    except KafkaConnectionError as exc:
        raise DependencyUnavailable(
            f"Kafka at {options.get('bootstrap_servers')} does not answer: {exc}"
        ) from exc
    try:
        yield admin
    except KafkaError as exc:
        raise DependencyUnavailable(f"Kafka admin request failed: {exc}") from exc
    finally:
        await admin.close()


async def ensure_topics(options: Mapping[str, Any], topics: Mapping[str, int]) -> list[str]:
    """Create the missing ones of ``topics`` (name -> partitions); return those created."""
    async with _admin(options) as admin:
        existing = set(await admin.list_topics())
        wanted = [
            NewTopic(name, partitions, 1)
            for name, partitions in topics.items()
            if name not in existing
        ]
        if not wanted:
            return []
        response = await admin.create_topics(wanted)
        created = []
        for name, code, *_ in response.topic_errors:
            if code == 0:
                created.append(name)
            elif code != _TOPIC_ALREADY_EXISTS:
                raise DependencyUnavailable(f"could not create topic {name}: error code {code}")
        return created


async def partition_counts(options: Mapping[str, Any], topics: list[str]) -> dict[str, int]:
    """Partition count of each topic that exists (missing topics are left out)."""
    async with _admin(options) as admin:
        described = await admin.describe_topics(topics)
        counts = {}
        for topic in described:
            if topic.get("error_code", 0) == 0:
                counts[topic["topic"]] = len(topic["partitions"])
        return counts


def _reader(settings: Settings) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        **client_options(settings),
        group_id=None,
        enable_auto_commit=False,
        max_partition_fetch_bytes=max(1_048_576, settings.max_record_bytes * 2),
    )


async def read_record(
    settings: Settings, topic: str, partition: int, offset: int, *, timeout_s: float = 10.0
) -> StoredRecord | None:
    """The record at ``topic/partition/offset``, or None when retention or compaction removed it.

    Raises ``DependencyUnavailable`` (or ``TimeoutError``) when the broker cannot be asked.
    """
    tp = TopicPartition(topic, partition)
    consumer = _reader(settings)
    try:
        await consumer.start()
        return await _read_one(consumer, tp, offset, timeout_s)
    except KafkaError as exc:
        raise DependencyUnavailable(f"cannot read {topic}[{partition}]: {exc}") from exc
    finally:
        with contextlib.suppress(KafkaError):
            await consumer.stop()


async def _read_one(
    consumer: AIOKafkaConsumer, tp: TopicPartition, offset: int, timeout_s: float
) -> StoredRecord | None:
    consumer.assign([tp])
    async with asyncio.timeout(timeout_s):
        # No end-offset check: some brokers (Tansu) report the last offset, not the next.
        if (await consumer.beginning_offsets([tp]))[tp] > offset:
            return None
        consumer.seek(tp, offset)
        for _ in range(_EMPTY_FETCHES):
            # A fetch may start at the first record of the batch that holds ``offset``.
            batches = await consumer.getmany(tp, timeout_ms=300)
            for record in batches.get(tp, []):
                if record.offset >= offset:
                    return StoredRecord.of(record) if record.offset == offset else None
        return None


async def read_positions(
    settings: Settings, positions: Iterable[tuple[str, int, int]]
) -> AsyncGenerator[StoredRecord, None]:
    """The records at ``positions`` (topic, partition, offset), in offset order per partition.

    Reads each partition from its lowest wanted offset to its highest, skipping the records
    in between; positions already gone (retention) are skipped. Close the iterator (e.g.
    ``contextlib.aclosing``) when stopping early: that stops the consumer.
    """
    wanted = set(positions)
    pending: dict[TopicPartition, tuple[int, int]] = {}
    for topic, partition, offset in wanted:
        tp = TopicPartition(topic, partition)
        low, high = pending.get(tp, (offset, offset))
        pending[tp] = (min(low, offset), max(high, offset))
    if not pending:
        return
    consumer = _reader(settings)
    try:
        await consumer.start()
    except KafkaError as exc:
        await consumer.stop()
        raise DependencyUnavailable(f"cannot read back parked records: {exc}") from exc
    try:
        consumer.assign(list(pending))
        for tp, (low, _) in pending.items():
            consumer.seek(tp, low)
        ends = await consumer.end_offsets(list(pending))
        while pending:
            batch = await consumer.getmany(*pending, timeout_ms=1000)
            for tp, records in batch.items():
                for record in records:
                    if tp not in pending or record.offset > pending[tp][1]:
                        pending.pop(tp, None)
                        break
                    if (tp.topic, tp.partition, record.offset) in wanted:
                        yield StoredRecord.of(record)
                    if record.offset >= pending[tp][1]:
                        pending.pop(tp, None)
            for tp in list(pending):
                if not batch.get(tp) and await consumer.position(tp) >= ends[tp]:
                    pending.pop(tp)  # the rest is gone from the topic (retention)
    except KafkaError as exc:
        # Wrapped so the engine knows the broker is away and waits, rather than failing.
        raise DependencyUnavailable(f"cannot read back parked records: {exc}") from exc
    finally:
        await consumer.stop()
