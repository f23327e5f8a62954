"""``qbd-sync dlq``, ``companies`` and ``replay`` against the real stack, as subprocesses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import asyncpg
import orjson

from processors.config import Settings
from processors.operator import request_replays
from processors.testing import (
    RecordingTracker,
    RunningService,
    TestStack,
    TopicReader,
    create_topics,
    pipeline_settings,
    produce,
    unique_name,
)

from .test_offline_companies import company_on, customer, succeeded, wait_parked
from .test_offline_crash import processor_env


def qbd_sync(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI; never raises on a non-zero exit."""
    return subprocess.run([sys.executable, "-m", "processors", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=60, check=False)  # fmt: skip


async def test_operators_inspect_parked_work_connect_companies_and_request_replays(
    stack: TestStack, tmp_path: Path
) -> None:
    """dlq list/show, companies list/connect and replay work end to end; bad input is one line."""
    settings: Settings = pipeline_settings(stack)
    await create_topics(settings, 4)
    env = processor_env(stack, settings)
    company = company_on(stack)
    stack.simulator.set_state(company.end_user, "offline")
    events = [customer(company, n) for n in range(3)]
    pool = await asyncpg.create_pool(stack.database_url, min_size=1, max_size=2)
    assert pool is not None
    results = TopicReader(settings, settings.sync_results_topic)
    try:
        async with RunningService(settings):
            await produce(settings, events)
            await wait_parked(pool, company, 3)
            listed = qbd_sync(env, tmp_path, "dlq", "list", "--company", company.id,
                              "--output", "json")  # fmt: skip
            table = qbd_sync(env, tmp_path, "dlq", "list")
            shown = qbd_sync(env, tmp_path, "dlq", "show", events[1]["id"])
            companies = qbd_sync(env, tmp_path, "companies", "list", "--output", "json")
            newcomer = unique_name("acct")
            connected = qbd_sync(env, tmp_path, "companies", "connect", newcomer, "--name",
                                 "Acme Plumbing", "--email", "it@acme.test")  # fmt: skip
            stack.simulator.connect(company.end_user)
            replayed = qbd_sync(env, tmp_path, "replay", "--company", company.id)
            await results.wait_for(lambda found: len(succeeded(found, company)) == 3)
            counted = RecordingTracker()
            requested = await request_replays(settings, company.id, False, tracker=counted)
        end_user = await pool.fetchval(
            "SELECT end_user_id FROM companies WHERE company_id = $1", newcomer
        )
    finally:
        await results.close()
        await pool.close()
    errors = [
        qbd_sync(env, tmp_path, "dlq", "show", "no-such-event"),
        qbd_sync(env, tmp_path, "replay"),
        qbd_sync(env, tmp_path, "replay", "--company", "no-such-company"),
        qbd_sync(env, tmp_path, "dlq", "list", "--output", "xml"),
    ]

    assert listed.returncode == 0, listed.stderr
    entries = json.loads(listed.stdout)
    assert [e["event_id"] for e in entries] == [e["id"] for e in events]
    assert entries[0]["error_code"] == "QBD_CONNECTION_ERROR"
    assert events[0]["id"] in table.stdout
    record: dict[str, Any] = json.loads(shown.stdout)
    assert record["event"] == orjson.loads(orjson.dumps(events[1]))
    assert record["key"] == company.id
    assert record["headers"]["qbd-original-topic"] == settings.input_topics[0]
    assert record["headers"]["qbd-error-code"] == "QBD_CONNECTION_ERROR"
    mine = next(c for c in json.loads(companies.stdout) if c["company_id"] == company.id)
    assert (mine["state"], mine["parked"]) == ("parked", 3)
    assert connected.returncode == 0, connected.stderr
    assert connected.stdout.strip().startswith("http")
    assert end_user is not None
    assert replayed.returncode == 0, replayed.stderr
    assert f"replay requested for {company.id} (3 parked" in replayed.stdout
    assert (counted.totals, counted.done, len(requested)) == ([1], 1, 1)
    assert [e.returncode for e in errors] == [1, 2, 1, 2]
    for failed in errors:
        assert failed.stderr.startswith("qbd-sync: error: "), failed.stderr
        assert len(failed.stderr.strip().splitlines()) == 1, failed.stderr
