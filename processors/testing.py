"""Test helpers that ship with qbd-sync, so users can test their integration the same way.

- ``TestStack``: the embedded stack (or, with ``QBD_SYNC_TEST_BACKEND=testcontainers``,
  Apache Kafka and PostgreSQL containers) for a whole test session.
- ``unique_name``: topic, group and schema names that never collide between tests.
- ``wait_for``: wait on a condition with a deadline, never a bare sleep.
- ``set_testing``: one switch that shortens every backoff wait in the stack (the outcome
  policy's retries, the engine's retries, the key probe), here and, through
  ``testing_env()``, in processor processes a test starts.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from processors import backoff
from processors.config import Settings, load_settings
from processors.devstack import DEV_SECRET_KEY, DevStack
from processors.errors import StackError

__all__ = [
    "RecordingTracker",
    "RunningService",
    "TestStack",
    "TopicReader",
    "async_wait_for",
    "committed_positions",
    "create_topics",
    "pipeline_settings",
    "produce",
    "set_testing",
    "testing_env",
    "unique_name",
    "wait_for",
]

_T = TypeVar("_T")
_MARKER_HEADER = "qbd-test-marker"


def set_testing(on: bool = True) -> None:
    """Shorten every backoff wait in this process to at most ``backoff.TESTING_PAUSE``.

    Decisions and attempt counts stay what production computes; only the waiting goes.
    """
    backoff.set_testing(on)


def testing_env() -> dict[str, str]:
    """Environment that turns the same switch on in a processor process a test starts."""
    return {backoff.TESTING_ENV: "1"}


def unique_name(prefix: str) -> str:
    """A name unique to this call, e.g. ``t-orders-3f2a9c1b``."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def wait_for(
    check: Callable[[], _T], *, timeout: float = 30.0, interval: float = 0.05, what: str = ""
) -> _T:
    """Call ``check`` until it returns something truthy; raise TimeoutError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what or check}")
        time.sleep(interval)


async def async_wait_for(
    check: Callable[[], Awaitable[_T]],
    *,
    timeout: float = 30.0,
    interval: float = 0.05,
    what: str = "",
) -> _T:
    """Await ``check`` until it returns something truthy; raise TimeoutError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what or check}")
        await asyncio.sleep(interval)


class TestStack:
    """Broker + PostgreSQL (+ simulator) for a test session, by ``QBD_SYNC_TEST_BACKEND``."""

    __test__ = False  # not a pytest test class

    def __init__(
        self, *, partitions: int = 4, backend: str | None = None, with_simulator: bool = True
    ) -> None:
        self.with_simulator = with_simulator
        self.backend = backend or os.environ.get("QBD_SYNC_TEST_BACKEND", "embedded")
        self.partitions = partitions
        self._stack: DevStack | None = None
        self._containers: list[Any] = []
        self.bootstrap_servers = ""
        self.database_url = ""
        self.simulator: Any = None

    def start(self) -> TestStack:
        """Start the chosen backend."""
        if self.backend == "embedded":
            self._stack = DevStack(
                partitions=self.partitions, auto_connect=True, with_simulator=self.with_simulator
            ).start()
            self.bootstrap_servers = self._stack.broker.bootstrap_servers
            self.database_url = self._stack.postgres.dsn
            self.simulator = self._stack.simulator
        elif self.backend == "testcontainers":
            self._start_containers()
        else:
            raise StackError(
                f"QBD_SYNC_TEST_BACKEND={self.backend!r}: use 'embedded' or 'testcontainers'"
            )
        return self

    def _start_containers(self) -> None:
        from testcontainers.kafka import KafkaContainer
        from testcontainers.postgres import PostgresContainer

        from processors.devstack import run_coroutine
        from processors.migrate import apply_migrations
        from qbdsim import SimulatorServer

        kafka = KafkaContainer().with_kraft()
        postgres = PostgresContainer("postgres:17", driver=None)
        for container in (kafka, postgres):
            container.start()
            self._containers.append(container)
        self.bootstrap_servers = kafka.get_bootstrap_server()
        self.database_url = postgres.get_connection_url()
        self.simulator = SimulatorServer(port=0, auto_connect=True)
        self.simulator.start()
        run_coroutine(apply_migrations(self.database_url))

    @property
    def dev_stack(self) -> DevStack | None:
        """The embedded stack, when that is the backend (restart and pause tests need it)."""
        return self._stack

    def settings(self, **overrides: Any) -> Settings:
        """Settings for this stack with per-test ``overrides`` (topics, group, ...)."""
        base: dict[str, Any] = {
            "kafka_bootstrap_servers": self.bootstrap_servers,
            "database_url": self.database_url,
            "conductor_secret_key": DEV_SECRET_KEY,
            "conductor_publishable_key": "pk_test_qbd_sync_dev",
            "conductor_base_url": None if self.simulator is None else self.simulator.base_url,
            "http_port": 0,
        }
        base.update(overrides)
        return load_settings(env_file=None, **base)

    def stop(self) -> None:
        """Stop whatever was started."""
        if self._stack is not None:
            self._stack.stop()
        if self.simulator is not None and self._stack is None:
            self.simulator.stop()
        for container in reversed(self._containers):
            container.stop()


def pipeline_settings(stack: TestStack, **overrides: Any) -> Settings:
    """Settings with topics and group unique to one test, so tests never see each other."""
    tag = uuid.uuid4().hex[:8]
    names: dict[str, Any] = {
        "group_id": f"qbd-sync-{tag}",
        "input_topics": f"events-{tag}",
        "sync_results_topic": f"results-{tag}",
        "needs_attention_topic": f"attention-{tag}",
        "dlq_topic": f"dlq-{tag}",
        "rejected_topic": f"rejected-{tag}",
        "reference_topic": f"reference-{tag}",
    }
    names.update(overrides)
    return stack.settings(**names)


async def create_topics(settings: Settings, partitions: int) -> None:
    """Create the settings' input and output topics with ``partitions`` each."""
    from processors.kafka import client_options, ensure_topics, outbound_topics

    topics = [*settings.input_topics, *outbound_topics(settings)]
    await ensure_topics(client_options(settings), dict.fromkeys(topics, partitions))


async def produce(
    settings: Settings,
    events: list[dict[str, Any] | bytes],
    *,
    topic: str | None = None,
    key: bytes | None = None,
) -> dict[int, int]:
    """Publish events (dicts become CloudEvent JSON keyed by companyid; bytes go as they are).

    Sends without waiting record by record, then flushes. Returns, per partition written,
    the position after the last record sent (what a consumer that read them all commits).
    Tansu answers ListOffsets with the position after the last *batch's first* record, so
    tests take end positions from here rather than from ``end_offsets``.
    """
    import orjson
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        enable_idempotence=False,
        max_request_size=16 * 1024 * 1024,  # poison tests send records above the 1 MB limit
        linger_ms=5,
    )
    await producer.start()
    try:
        sent = []
        for event in events:
            if isinstance(event, bytes):
                value, record_key = event, key
            else:
                value, record_key = orjson.dumps(event), str(event.get("companyid", "")).encode()
            sent.append(
                await producer.send(topic or settings.input_topics[0], value, key=record_key)
            )
        await producer.flush()
        ends: dict[int, int] = {}
        for future in sent:
            meta = await future
            ends[meta.partition] = max(ends.get(meta.partition, 0), meta.offset + 1)
        return ends
    finally:
        await producer.stop()


async def committed_positions(
    settings: Settings, group_id: str | None = None, topic: str | None = None
) -> dict[int, int]:
    """The group's committed position per partition of ``topic`` (0 where none)."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    name = topic or settings.input_topics[0]
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=group_id or settings.group_id,
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        positions = {}
        for partition in sorted(consumer.partitions_for_topic(name) or ()):
            committed = await consumer.committed(TopicPartition(name, partition))
            positions[partition] = committed or 0
        return positions
    finally:
        await consumer.stop()


class TopicReader:
    """Reads every record of a topic from the start (no group), accumulating them."""

    def __init__(self, settings: Settings, topic: str) -> None:
        from aiokafka import AIOKafkaConsumer

        self.topic = topic
        self._bootstrap_servers = settings.kafka_bootstrap_servers
        self.records: list[Any] = []
        self._consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=settings.kafka_bootstrap_servers,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        self._started = False

    async def poll(self) -> list[Any]:
        """Fetch what arrived since the last poll; return all records so far."""
        if not self._started:
            await self._consumer.start()
            self._started = True
        batch = await self._consumer.getmany(timeout_ms=100)
        for records in batch.values():
            self.records.extend(records)
        return self.records

    async def drain(self) -> list[Any]:
        """Read everything published to the topic so far; return all records.

        Writes a marker record to every partition and reads until each marker arrives
        (``end_offsets`` cannot be trusted on Tansu); markers are not kept in ``records``.
        """
        from aiokafka import AIOKafkaProducer

        await self.poll()
        token = uuid.uuid4().hex.encode()
        producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap_servers, enable_idempotence=False
        )
        await producer.start()
        try:
            partitions = sorted(self._consumer.partitions_for_topic(self.topic) or ())
            for partition in partitions:
                await producer.send_and_wait(
                    self.topic, b"", partition=partition, headers=[(_MARKER_HEADER, token)]
                )
        finally:
            await producer.stop()
        seen: set[int] = set()

        async def caught_up() -> bool:
            await self.poll()
            for record in self.records:
                if (_MARKER_HEADER, token) in list(record.headers or ()):
                    seen.add(record.partition)
            return len(seen) == len(partitions)

        await async_wait_for(caught_up, timeout=60, what=f"the end of {self.topic}")
        self.records = [
            record
            for record in self.records
            if not any(name == _MARKER_HEADER for name, _value in record.headers or ())
        ]
        return self.records

    def events(self) -> list[dict[str, Any]]:
        """The records' values as decoded JSON objects."""
        import orjson

        return [orjson.loads(record.value) for record in self.records]

    async def wait_for(
        self, predicate: Callable[[list[dict[str, Any]]], bool], *, timeout: float = 60.0
    ) -> list[dict[str, Any]]:
        """Poll until ``predicate(events)`` holds; return the events."""

        async def check() -> bool:
            await self.poll()
            return predicate(self.events())

        await async_wait_for(check, timeout=timeout, what=f"records on {self.topic}")
        return self.events()

    async def close(self) -> None:
        """Stop reading."""
        await self._consumer.stop()


class RunningService:
    """A Service started in this event loop for a test: ``async with RunningService(s) as svc``."""

    def __init__(self, settings: Settings) -> None:
        from processors.service import Service

        self.service = Service(settings)
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Any:
        await self.service.start()
        self._task = asyncio.create_task(self.service.run())
        return self.service

    async def __aexit__(self, *exc_info: object) -> None:
        self.service.stop()
        if self._task is not None:
            await asyncio.wait_for(self._task, timeout=60)


class RecordingTracker:
    """A progress tracker (``processors.progress.Tracker``) that remembers what it heard."""

    def __init__(self) -> None:
        self.totals: list[int | None] = []
        self.done = 0

    def advance(self, done: int = 1) -> None:
        """Count ``done`` more items."""
        self.done += done

    def total(self, total: int | None) -> None:
        """Remember each total it was told."""
        self.totals.append(total)
