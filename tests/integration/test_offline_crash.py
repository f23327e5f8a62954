"""kill -9 in the middle of a replay: the next processor finishes it, no duplicate, no loss."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from processors.config import Settings
from processors.devstack import DEV_SECRET_KEY
from processors.testing import (
    TestStack,
    async_wait_for,
    create_topics,
    pipeline_settings,
    produce,
    wait_for,
)

from .test_offline_companies import company_on, customer, names, sync_requested, wait_parked


def processor_env(stack: TestStack, settings: Settings) -> dict[str, str]:
    """Environment that points ``python -m processors run`` at the test's stack and topics."""
    return {
        **os.environ,
        "QBD_SYNC_KAFKA_BOOTSTRAP_SERVERS": stack.bootstrap_servers,
        "QBD_SYNC_DATABASE_URL": stack.database_url,
        "CONDUCTOR_SECRET_KEY": DEV_SECRET_KEY,
        "CONDUCTOR_PUBLISHABLE_KEY": "pk_test_qbd_sync_dev",
        "QBD_SYNC_CONDUCTOR_BASE_URL": stack.simulator.base_url,
        "QBD_SYNC_GROUP_ID": settings.group_id,
        "QBD_SYNC_INPUT_TOPICS": settings.input_topics[0],
        "QBD_SYNC_SYNC_RESULTS_TOPIC": settings.sync_results_topic,
        "QBD_SYNC_NEEDS_ATTENTION_TOPIC": settings.needs_attention_topic,
        "QBD_SYNC_DLQ_TOPIC": settings.dlq_topic,
        "QBD_SYNC_REJECTED_TOPIC": settings.rejected_topic,
        "QBD_SYNC_REFERENCE_TOPIC": settings.reference_topic,
        "QBD_SYNC_HTTP_PORT": "0",
        "QBD_SYNC_CATCHUP_INTERVAL": "1s",
        "QBD_SYNC_LOG_FORMAT": "json",
    }


class Processors:
    """Starts ``python -m processors run`` subprocesses and stops whatever is left."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.env, self.cwd = env, cwd
        self.running: list[subprocess.Popen[bytes]] = []
        self._logs: list[Any] = []

    def start(self, name: str) -> subprocess.Popen[bytes]:
        log = (self.cwd / f"{name}.log").open("wb")
        self._logs.append(log)
        process = subprocess.Popen([sys.executable, "-m", "processors", "run"], env=self.env,
                                   cwd=self.cwd, stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
        self.running.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.running:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.running:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for log in self._logs:
            log.close()


@pytest.fixture
def processors(stack: TestStack, tmp_path: Path) -> Iterator[Any]:
    """A factory of processor subprocesses on this test's topics; faults cleared after."""
    settings = pipeline_settings(stack)
    runner = Processors(processor_env(stack, settings), tmp_path)
    runner.settings = settings  # type: ignore[attr-defined]
    yield runner
    runner.stop_all()
    stack.simulator.set_faults()


@pytest.mark.timeout(120)
async def test_a_replay_killed_half_way_completes_after_restart_without_duplicates(
    stack: TestStack, processors: Any
) -> None:
    """SIGKILL mid-replay; a new processor resumes from the index: every event once, in order."""
    settings: Settings = processors.settings
    await create_topics(settings, 4)
    company = company_on(stack)
    stack.simulator.set_state(company.end_user, "offline")
    pool = await asyncpg.create_pool(stack.database_url, min_size=1, max_size=2)
    assert pool is not None
    try:
        first = processors.start("first")
        await produce(settings, [customer(company, n) for n in range(30)])
        await wait_parked(pool, company, 30, timeout=60)
        stack.simulator.connect(company.end_user)
        stack.simulator.set_faults(latency_ms=[60, 80])
        await produce(settings, [sync_requested(company)])
        wait_for(lambda: len(names(stack, company)) >= 8, timeout=30, what="the replay to run")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        replayed_before_kill = len(names(stack, company))
        await produce(settings, [customer(company, n) for n in range(30, 35)])
        processors.start("second")

        async def finished() -> bool:
            state = await pool.fetchval(
                "SELECT state FROM companies WHERE company_id = $1", company.id
            )
            return state == "online" and len(names(stack, company)) >= 35

        await async_wait_for(finished, timeout=90, what="the resumed replay")
        parked = await pool.fetchval(
            "SELECT count(*) FROM dlq_index WHERE company_id = $1 AND status = 'parked'",
            company.id,
        )
    finally:
        await pool.close()

    assert 8 <= replayed_before_kill < 30
    assert names(stack, company) == [f"{company.id}-{n:05d}" for n in range(35)]
    assert parked == 0
