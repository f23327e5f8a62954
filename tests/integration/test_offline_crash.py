"""kill -9 in the middle of a replay: the next processor finishes it, no duplicate, no loss."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from processors.config import Settings
from processors.devstack import DEV_SECRET_KEY
from processors.markers import external_id_for
from processors.testing import (
    TestStack,
    TopicReader,
    async_wait_for,
    create_topics,
    pipeline_settings,
    produce,
    wait_for,
)
from schemas import EventType
from tests.chaos.kit import ChaosCompany, connect_companies, generate_workload, marker

from .test_offline_companies import sync_requested, wait_parked


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
        process = subprocess.Popen(
            [sys.executable, "-m", "processors", "run"],
            env=self.env,
            cwd=self.cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
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
    """SIGKILL mid-replay; a new processor resumes from the index: every invoice once, in order."""
    settings: Settings = processors.settings
    await create_topics(settings, 4)
    (company,) = connect_companies(stack.simulator, 1, prefix="acct")
    # Invoices, unlike customers, have no unique name: only the ledger stops a second one.
    workload = generate_workload([company], 35, seed=3, types={EventType.INVOICE_CREATED})
    before_kill, after_kill = list(workload.events[:-5]), list(workload.events[-5:])
    invoices = [e for e in workload.events if e["type"] == EventType.INVOICE_CREATED]
    stack.simulator.set_state(company.end_user, "offline")
    pool = await asyncpg.create_pool(stack.database_url, min_size=1, max_size=2)
    assert pool is not None
    try:
        first = processors.start("first")
        await produce(settings, before_kill)
        await wait_parked(pool, company, 30, timeout=60)
        stack.simulator.connect(company.end_user)
        stack.simulator.set_faults(latency_ms=[60, 80])
        await produce(settings, [sync_requested(company)])
        wait_for(lambda: len(_invoices(stack, company)) >= 8, timeout=30, what="the replay")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        replayed_before_kill = len(_invoices(stack, company))
        await produce(settings, after_kill)
        processors.start("second")

        async def finished() -> bool:
            state = await pool.fetchval(
                "SELECT state FROM companies WHERE company_id = $1", company.id
            )
            synced = await pool.fetchval(
                "SELECT count(*) FROM ledger WHERE event_id = ANY($1) AND status = 'synced'",
                [e["id"] for e in invoices],
            )
            return state == "online" and synced == len(invoices)

        await async_wait_for(finished, timeout=90, what="the resumed replay")
        parked = await pool.fetchval(
            "SELECT count(*) FROM dlq_index WHERE company_id = $1 AND status = 'parked'",
            company.id,
        )
        ledger = {
            row["event_id"]: (row["status"], row["qbd_id"])
            for row in await pool.fetch(
                "SELECT event_id, status, qbd_id FROM ledger WHERE event_id = ANY($1::text[])",
                [e["id"] for e in invoices],
            )
        }
    finally:
        await pool.close()
    results = await _end_states(settings)
    in_file = _invoices(stack, company)
    by_marker = {marker(obj["externalId"]): obj["id"] for obj in in_file}
    expected = {
        e["id"]: ("synced", by_marker.get(marker(external_id_for(e["id"])))) for e in invoices
    }

    assert 8 <= replayed_before_kill < 30
    assert [obj["refNumber"] for obj in in_file] == [e["data"]["ref_number"] for e in invoices]
    assert Counter(marker(obj["externalId"]) for obj in in_file) == Counter(
        marker(external_id_for(e["id"])) for e in invoices
    )
    assert ledger == expected
    assert {e["id"]: results.get(e["id"]) for e in invoices} == {
        event_id: {end_state} for event_id, end_state in expected.items()
    }
    assert parked == 0


def _invoices(stack: TestStack, company: ChaosCompany) -> list[dict[str, Any]]:
    """The company file's invoices, in creation order."""
    return stack.simulator.objects(company.end_user, "invoices")


async def _end_states(settings: Settings) -> dict[str, set[tuple[str, str | None]]]:
    """Event id -> the distinct (status, qbd_id) end states published on the results topic."""
    reader = TopicReader(settings, settings.sync_results_topic)
    try:
        await reader.drain()
        states: dict[str, set[tuple[str, str | None]]] = {}
        for event in reader.events():
            data = event["data"]
            states.setdefault(data["event_id"], set()).add((data["status"], data.get("qbd_id")))
        return states
    finally:
        await reader.close()
