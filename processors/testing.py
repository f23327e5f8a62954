"""Test helpers that ship with qbd-sync, so users can test their integration the same way.

- ``TestStack``: the embedded stack (or, with ``QBD_SYNC_TEST_BACKEND=testcontainers``,
  Apache Kafka and PostgreSQL containers) for a whole test session.
- ``unique_name``: topic, group and schema names that never collide between tests.
- ``wait_for``: wait on a condition with a deadline, never a bare sleep.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from processors.config import Settings, load_settings
from processors.devstack import DEV_SECRET_KEY, DevStack
from processors.errors import StackError

__all__ = ["TestStack", "async_wait_for", "unique_name", "wait_for"]

_T = TypeVar("_T")


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
