"""Chaos fixtures: scale, per-test topics, the simulator reset after each test, child processors.

``QBD_SYNC_CHAOS=full`` (``make chaos``) runs every scenario at full length; the default is a
short version of each, so ``make test`` covers them all in a few minutes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from processors.config import Settings
from processors.testing import TestStack, create_topics, pipeline_settings
from tests.chaos.kit import ProcessorProcess

FULL = os.environ.get("QBD_SYNC_CHAOS", "") == "full"


@pytest.fixture
def scale() -> Callable[[Any, Any], Any]:
    """``scale(short, full)``: the value for this run's length."""
    return lambda short, full: full if FULL else short


@pytest.fixture
def sim(stack: TestStack) -> Iterator[Any]:
    """The session-wide simulator; its faults and revoked keys are always cleared afterwards."""
    yield stack.simulator
    stack.simulator.set_faults()
    stack.simulator.restore_key()


@pytest.fixture
def chaos_settings(stack: TestStack) -> Callable[..., Any]:
    """``await chaos_settings(partitions, **overrides)``: per-test topics and group."""

    async def make(partitions: int = 4, **overrides: Any) -> Settings:
        overrides.setdefault("catchup_interval", "1s")
        settings = pipeline_settings(stack, **overrides)
        await create_topics(settings, partitions)
        return settings

    return make


@pytest.fixture
def processors(tmp_path: Path) -> Iterator[Callable[..., ProcessorProcess]]:
    """``processors(settings, **env)`` starts ``qbd-sync run``; every one is killed at the end."""
    started: list[ProcessorProcess] = []

    def start(settings: Settings, **env: str) -> ProcessorProcess:
        process = ProcessorProcess(settings, tmp_path / f"qbd-sync-{len(started)}.log", **env)
        started.append(process.start())
        return process

    yield start
    for process in started:
        process.kill()


@pytest.fixture
def db(stack: TestStack) -> Callable[..., Any]:
    """``await db(sql, *args)``: rows from a fresh connection (survives PostgreSQL restarts)."""

    async def query(sql: str, *args: Any) -> list[Any]:
        connection = await asyncpg.connect(stack.database_url)
        try:
            return list(await connection.fetch(sql, *args))
        finally:
            await connection.close()

    return query
