"""Fixtures the integration tests share: per-test topics, the database, topic readers, faults."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import asyncpg
import pytest

from processors.config import Settings
from processors.db import connect_pool
from processors.testing import TestStack, TopicReader, create_topics, pipeline_settings

PARTITIONS = 4
OpenReader = Callable[[Settings, str], TopicReader]


@pytest.fixture
async def settings(stack: TestStack) -> Settings:
    """Per-test topics (four partitions each) and consumer group."""
    test_settings = pipeline_settings(stack)
    await create_topics(test_settings, PARTITIONS)
    return test_settings


@pytest.fixture
async def db(stack: TestStack) -> AsyncIterator[asyncpg.Pool]:
    """A small PostgreSQL pool on the stack's database, to read what the processor wrote."""
    pool = await connect_pool(stack.database_url, min_size=1, max_size=2)
    yield pool
    await pool.close()


@pytest.fixture
def faults(stack: TestStack) -> Iterator[Any]:
    """The simulator, with its (session-wide) fault injection always cleared afterwards."""
    yield stack.simulator
    stack.simulator.set_faults()


@pytest.fixture
async def reader() -> AsyncIterator[OpenReader]:
    """Open TopicReaders on demand; all are closed at teardown."""
    opened: list[TopicReader] = []

    def open_reader(settings: Settings, topic: str) -> TopicReader:
        topic_reader = TopicReader(settings, topic)
        opened.append(topic_reader)
        return topic_reader

    yield open_reader
    for topic_reader in opened:
        await topic_reader.close()


@pytest.fixture
async def results(settings: Settings, reader: OpenReader) -> TopicReader:
    """The test's sync-results topic."""
    return reader(settings, settings.sync_results_topic)


@pytest.fixture
async def attention(settings: Settings, reader: OpenReader) -> TopicReader:
    """The test's needs-attention topic."""
    return reader(settings, settings.needs_attention_topic)
