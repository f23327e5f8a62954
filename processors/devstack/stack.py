"""The embedded stack: broker, PostgreSQL and Conductor simulator, ready to use, torn down on exit.

Used by ``qbd-sync dev``, ``qbd-sync demo``, the test fixtures and the benchmarks, so a fresh
machine needs nothing pre-installed.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import threading
from collections.abc import Coroutine
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from processors.config import Settings, load_settings
from processors.devstack.broker import TansuBroker
from processors.devstack.postgres import EmbeddedPostgres
from processors.errors import StackError
from processors.kafka import client_options, ensure_topics, outbound_topics
from processors.migrate import apply_migrations

__all__ = ["DEV_SECRET_KEY", "DevStack", "run_coroutine"]

# Not a secret: the simulator accepts any sk_ key, and real Conductor rejects this one.
DEV_SECRET_KEY = "sk_test_qbd_sync_dev"  # noqa: S105
_T = TypeVar("_T")


def run_coroutine(coro: Coroutine[Any, Any, _T]) -> _T:
    """Run ``coro`` to completion on a fresh event loop in a helper thread.

    Safe to call from synchronous code whether or not an event loop runs in this thread.
    """
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(coro)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the calling thread
            outcome["error"] = exc

    thread = threading.Thread(target=target, name="qbd-sync-devstack")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    result: _T = outcome["value"]
    return result


class DevStack:
    """Broker + PostgreSQL + simulator on loopback ports, with topics and schema in place."""

    def __init__(
        self,
        *,
        partitions: int = 12,
        with_simulator: bool = True,
        auto_connect: bool = True,
        seed_demo: bool = False,
        http_port: int = 8080,
        workdir: Path | None = None,
    ) -> None:
        self.partitions = partitions
        self.http_port = http_port
        self._own_workdir = workdir is None
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="qbd-sync-dev-"))
        os.chmod(self.workdir, 0o755)  # noqa: S103 - the postgres service user must traverse it
        self.broker = TansuBroker(self.workdir)
        self.postgres = EmbeddedPostgres(self.workdir)
        self._with_simulator = with_simulator
        self._auto_connect = auto_connect
        self._seed_demo = seed_demo
        self.simulator: Any = None

    @property
    def conductor_base_url(self) -> str | None:
        """The simulator's Conductor API base URL (``.../v1``), when it runs."""
        return None if self.simulator is None else str(self.simulator.base_url)

    def connection_settings(self) -> dict[str, str]:
        """The ``KEY=value`` settings other programs need to use this stack (CONTRACT §7)."""
        values = {
            "QBD_SYNC_KAFKA_BOOTSTRAP_SERVERS": self.broker.bootstrap_servers,
            "QBD_SYNC_DATABASE_URL": self.postgres.dsn,
        }
        if self.conductor_base_url:
            values["QBD_SYNC_CONDUCTOR_BASE_URL"] = self.conductor_base_url
        values["CONDUCTOR_SECRET_KEY"] = DEV_SECRET_KEY
        values["QBD_SYNC_HTTP_PORT"] = str(self.http_port)
        return values

    def settings(self, **overrides: Any) -> Settings:
        """Settings pointing at this stack (no .env file), with ``overrides`` applied."""
        base: dict[str, Any] = {
            "kafka_bootstrap_servers": self.broker.bootstrap_servers,
            "database_url": self.postgres.dsn,
            "conductor_base_url": self.conductor_base_url,
            "conductor_secret_key": DEV_SECRET_KEY,
            "conductor_publishable_key": "pk_test_qbd_sync_dev",
            "http_port": self.http_port,
        }
        base.update(overrides)
        return load_settings(env_file=None, **base)

    def start(self) -> DevStack:
        """Start every part and wait until each really answers."""
        try:
            self.broker.start()
            self.postgres.start()
            if self._with_simulator:
                self._start_simulator()
            settings = self.settings()
            topics = dict.fromkeys(
                [*settings.input_topics, *outbound_topics(settings)], self.partitions
            )
            run_coroutine(ensure_topics(client_options(settings), topics))
            run_coroutine(apply_migrations(self.postgres.dsn))
        except BaseException:
            self.stop()
            raise
        return self

    def _start_simulator(self) -> None:
        try:
            from qbdsim import SimulatorServer
        except ImportError as exc:
            raise StackError(f"the Conductor simulator is not available: {exc}") from exc
        self.simulator = SimulatorServer(
            port=0, auto_connect=self._auto_connect, seed_demo=self._seed_demo
        )
        self.simulator.start()

    def stop(self) -> None:
        """Stop everything that was started; remove the working directory we created."""
        if self.simulator is not None:
            self.simulator.stop()
            self.simulator = None
        self.postgres.stop()
        self.broker.stop()
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> DevStack:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
