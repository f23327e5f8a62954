"""Offline companies end to end (issue 6, Must show): parking, attention, replay, catch-up.

Real broker, real PostgreSQL, the simulator over HTTP. Every wait has a deadline; nothing
sleeps to synchronise.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from typing import Any

import asyncpg
import conductor
import httpx
import orjson
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner
from conductor import Conductor
from structlog.testing import capture_logs

from processors.config import Settings
from processors.devstack import DEV_SECRET_KEY
from processors.testing import (
    RunningService,
    TestStack,
    TopicReader,
    async_wait_for,
    create_topics,
    pipeline_settings,
    produce,
    unique_name,
)
from schemas import EventType, example_event

_PARTITIONS = 4
# Each parked event costs a DLQ acknowledgement and PostgreSQL commits in its lane, in order
# (~10 ms here); each replayed one a QuickBooks write. 10,000 take minutes on a small machine.
MANY_EVENTS = 10_000 if os.environ.get("QBD_SYNC_CHAOS") == "full" else 500
FAILURE_STATES = [
    "offline",
    "wrong_company_file",
    "multiple_company_files",
    "dialog_open",
    "user_signed_in_elsewhere",
    "permissions_reset",
    "not_set_up",
]


@dataclass(frozen=True)
class Company:
    """A company with a Conductor end-user (sourceId = id)."""

    id: str
    end_user: str


def company_on(stack: TestStack, partition: int | None = None) -> Company:
    """An online company; with ``partition``, one whose key lands on that input partition."""
    while True:
        name = unique_name("acct")
        if partition is None or partition_of(name) == partition:
            break
    client = Conductor(api_key=DEV_SECRET_KEY, base_url=stack.simulator.base_url, max_retries=0)
    end_user = client.end_users.create(company_name=name, email="o@example.com", source_id=name)
    stack.simulator.connect(end_user.id)
    return Company(name, end_user.id)


def partition_of(company: str) -> int:
    """The input partition a company's events land on."""
    every = list(range(_PARTITIONS))
    return int(DefaultPartitioner()(company.encode(), every, every))


def customer(company: Company, n: int) -> dict[str, Any]:
    """A ``customer.upserted`` event whose QuickBooks name records its position."""
    event = example_event(EventType.CUSTOMER_UPSERTED, companyid=company.id,
                          id=unique_name(f"evt-{n}"))  # fmt: skip
    event["data"].update(customer_id=f"cus-{n:05d}", name=f"{company.id}-{n:05d}")
    return event


def sync_requested(company: Company) -> dict[str, Any]:
    """The user pressed "Sync now"."""
    return example_event(EventType.SYNC_REQUESTED, companyid=company.id,
                         id=unique_name("evt-sync"))  # fmt: skip


def names(stack: TestStack, company: Company) -> list[str]:
    """The company file's customer names, in creation order."""
    return [obj["name"] for obj in stack.simulator.objects(company.end_user, "customers")]


def simulator_message(stack: TestStack, company: Company) -> str:
    """The userFacingMessage Conductor answers for the company's current state."""
    client = Conductor(api_key=DEV_SECRET_KEY, base_url=stack.simulator.base_url, max_retries=0)
    with pytest.raises(conductor.APIStatusError) as failure:
        client.qbd.health_check(conductor_end_user_id=company.end_user)
    body: Any = failure.value.body
    return str(body["error"]["userFacingMessage"])


def of(company: Company, kind: str | None = None) -> Any:
    """Predicate: an outbound event about ``company`` (of CloudEvent type ``kind``)."""
    return lambda e: e.get("companyid") == company.id and (kind is None or e["type"] == kind)


async def parked_count(db: asyncpg.Pool, company: Company) -> int:
    """How many of the company's records wait in the DLQ."""
    count: int = await db.fetchval(
        "SELECT count(*) FROM dlq_index WHERE company_id = $1 AND status = 'parked'", company.id
    )
    return count


async def wait_parked(db: asyncpg.Pool, company: Company, count: int, timeout: float = 30) -> None:
    """Wait until ``count`` of the company's records sit in the DLQ."""

    async def enough() -> bool:
        return await parked_count(db, company) >= count

    await async_wait_for(enough, timeout=timeout, what=f"{count} parked records")


def succeeded(events: list[dict[str, Any]], company: Company) -> list[dict[str, Any]]:
    """The company's qbd.sync.succeeded results."""
    return [e for e in events if of(company, "qbd.sync.succeeded")(e)]


@pytest.mark.parametrize("state", FAILURE_STATES)
async def test_a_failing_company_parks_alone_and_replays_in_order_after_sync_now(
    stack: TestStack,
    settings: Settings,
    db: asyncpg.Pool,
    attention: TopicReader,
    results: TopicReader,
    state: str,
) -> None:
    """Park with one attention, neighbours keep syncing, Sync now replays every event once."""
    healthy = company_on(stack)
    failing = company_on(stack, partition_of(healthy.id))
    stack.simulator.set_state(failing.end_user, state)
    message = simulator_message(stack, failing)
    parked = [customer(failing, n) for n in range(5)]
    async with RunningService(settings):
        await produce(settings, [e for n in range(5) for e in (parked[n], customer(healthy, n))])
        await results.wait_for(lambda found: len(succeeded(found, healthy)) == 5)
        await wait_parked(db, failing, 5)
        stack.simulator.connect(failing.end_user)
        live = [customer(failing, n) for n in range(5, 8)]
        await produce(settings, [sync_requested(failing), *live])
        await results.wait_for(lambda found: len(succeeded(found, failing)) == 8)
        events = await attention.wait_for(
            lambda found: any(map(of(failing, "qbd.attention.resolved"), found))
        )

    needed = [e for e in events if of(failing, "qbd.attention.needed")(e)]
    assert len(needed) == 1, needed
    assert needed[0]["data"]["user_facing_message"] == message
    assert needed[0]["data"]["category"] == ("setup" if state == "not_set_up" else "connection")
    if state == "not_set_up":
        assert needed[0]["data"]["auth_flow_url"]
    assert names(stack, healthy) == [f"{healthy.id}-{n:05d}" for n in range(5)]
    assert names(stack, failing) == [f"{failing.id}-{n:05d}" for n in range(8)]
    assert await parked_count(db, failing) == 0
    state_now = await db.fetchval("SELECT state FROM companies WHERE company_id = $1", failing.id)
    assert state_now == "online"


async def test_events_arriving_during_a_replay_queue_behind_it(
    stack: TestStack, settings: Settings, db: asyncpg.Pool, results: TopicReader, faults: Any
) -> None:
    """Live events produced while the replay runs reach QuickBooks after every parked one."""
    company = company_on(stack)
    stack.simulator.set_state(company.end_user, "offline")
    async with RunningService(settings):
        await produce(settings, [customer(company, n) for n in range(20)])
        await wait_parked(db, company, 20)
        stack.simulator.connect(company.end_user)
        faults.set_faults(latency_ms=[20, 30])
        await produce(settings, [sync_requested(company)])
        await async_wait_for(lambda: _true(len(names(stack, company)) >= 3), what="replay start")
        for n in range(20, 30):
            await produce(settings, [customer(company, n)])
        await results.wait_for(lambda found: len(succeeded(found, company)) == 30)

    assert names(stack, company) == [f"{company.id}-{n:05d}" for n in range(30)]


async def test_records_parked_without_a_copy_replay_from_the_dlq_in_order(
    stack: TestStack, settings: Settings, db: asyncpg.Pool, results: TopicReader
) -> None:
    """Rows an older version indexed without the record's bytes are read back from the DLQ,
    in order, after the copied rows parked before them."""
    company = company_on(stack)
    stack.simulator.set_state(company.end_user, "offline")
    async with RunningService(settings):
        await produce(settings, [customer(company, n) for n in range(6)])
        await wait_parked(db, company, 6)
        await db.execute(
            """UPDATE dlq_index SET record_key = NULL, record_value = NULL,
                      record_header_names = NULL, record_header_values = NULL
               WHERE company_id = $1 AND dlq_offset >= (
                   SELECT min(dlq_offset) + 2 FROM dlq_index WHERE company_id = $1)""",
            company.id,
        )
        stack.simulator.connect(company.end_user)
        await produce(settings, [sync_requested(company)])
        await results.wait_for(lambda found: len(succeeded(found, company)) == 6)

    assert names(stack, company) == [f"{company.id}-{n:05d}" for n in range(6)]
    assert await parked_count(db, company) == 0


async def _true(value: bool) -> bool:
    return value


@pytest.mark.timeout(MANY_EVENTS / 4)
async def test_ten_thousand_events_for_an_offline_company_raise_one_counted_attention(
    stack: TestStack, settings: Settings, db: asyncpg.Pool, attention: TopicReader
) -> None:
    """10,000 parked events: one attention event, occurrences 10,000, one resolution.

    ``make test`` runs it with 500 events (see MANY_EVENTS); ``make chaos`` with 10,000.
    """
    company = company_on(stack)
    stack.simulator.set_state(company.end_user, "offline")
    total = MANY_EVENTS
    bodies = [orjson.dumps(customer(company, n)) for n in range(total)]
    async with RunningService(settings):
        producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers,
                                    enable_idempotence=False, linger_ms=20)  # fmt: skip
        await producer.start()
        try:
            sent = [await producer.send(settings.input_topics[0], body, key=company.id.encode())
                    for body in bodies]  # fmt: skip
            await asyncio.gather(*sent)
        finally:
            await producer.stop()
        await wait_parked(db, company, total, timeout=total / 10)
        row = await db.fetchrow(
            "SELECT occurrences, resolved_at FROM attention WHERE company_id = $1", company.id
        )
        stack.simulator.connect(company.end_user)
        await produce(settings, [sync_requested(company)])
        events = await attention.wait_for(
            lambda found: any(map(of(company, "qbd.attention.resolved"), found)),
            timeout=total / 10,
        )

    assert row is not None
    assert row["occurrences"] == total
    assert row["resolved_at"] is None
    mine = [e["type"] for e in events if of(company)(e) and e["type"].startswith("qbd.attention")]
    assert mine == ["qbd.attention.needed", "qbd.attention.resolved"]
    resolved = next(e for e in events if of(company, "qbd.attention.resolved")(e))
    assert resolved["data"]["occurrences"] == total
    assert len(names(stack, company)) == total


async def test_background_probes_back_off_to_the_cap_and_recover_the_company(
    stack: TestStack, stack_settings_catchup: Settings, db: asyncpg.Pool
) -> None:
    """With no Sync now, probes back off as the outage ages (never past the cap) and the
    company replays once it is back."""
    settings = stack_settings_catchup
    company = company_on(stack)
    stack.simulator.set_state(company.end_user, "dialog_open")
    with capture_logs() as logs:
        async with RunningService(settings):
            await produce(settings, [customer(company, n) for n in range(3)])
            await wait_parked(db, company, 3)

            async def retried() -> bool:
                attempts = await db.fetchval(
                    "SELECT catchup_attempts FROM companies WHERE company_id = $1", company.id
                )
                return bool(attempts >= 6)

            await async_wait_for(retried, timeout=30, what="six failed probes")
            stack.simulator.connect(company.end_user)
            await async_wait_for(lambda: _true(len(names(stack, company)) == 3), timeout=30,
                                 what="the catch-up replay")  # fmt: skip

    delays = [entry["retry_in_s"] for entry in logs
              if entry["event"] == "company still unreachable; next probe scheduled"
              and entry.get("company_id") == company.id]  # fmt: skip
    assert len(delays) >= 3, logs
    assert delays[0] <= 0.4
    assert max(delays) > 0.8, delays  # backed off once the outage was a second old
    assert max(delays) <= 2.0, delays
    assert names(stack, company) == [f"{company.id}-{n:05d}" for n in range(3)]
    row = await db.fetchrow("SELECT state, catchup_attempts FROM companies WHERE company_id = $1",
                            company.id)  # fmt: skip
    assert (row["state"], row["catchup_attempts"]) == ("online", 0)


@pytest.fixture
async def stack_settings_catchup(stack: TestStack) -> Settings:
    """Per-test topics: probes every 0.4 s for a second, then 0.8, 1.6 s, at most 2 s."""
    test_settings = pipeline_settings(
        stack, catchup_interval="400ms", probe_backoff_after="1s", probe_max_interval="2s"
    )
    await create_topics(test_settings, _PARTITIONS)
    return test_settings


async def test_the_company_api_reports_state_and_sync_now_replays(
    stack: TestStack, settings: Settings, db: asyncpg.Pool, results: TopicReader
) -> None:
    """GET shows a parked company with its message; POST sync answers health, then replays."""
    company = company_on(stack)
    stack.simulator.set_state(company.end_user, "offline")
    message = simulator_message(stack, company)
    async with (
        RunningService(settings) as service,
        httpx.AsyncClient(base_url=service.http.url) as http,
    ):
        await produce(settings, [customer(company, n) for n in range(3)])
        await wait_parked(db, company, 3)
        parked = (await http.get(f"/v1/companies/{company.id}")).json()
        refused = await http.post(f"/v1/companies/{company.id}/sync")
        stack.simulator.connect(company.end_user)
        checked = (await http.get(f"/v1/companies/{company.id}?check=true")).json()
        accepted = await http.post(f"/v1/companies/{company.id}/sync")
        await results.wait_for(lambda found: len(succeeded(found, company)) == 3)
        online = (await http.get(f"/v1/companies/{company.id}")).json()
        missing = await http.get("/v1/companies/nobody-here")

    assert (parked["state"], parked["parked"], parked["user_facing_message"]) == (
        "parked", 3, message)  # fmt: skip
    assert refused.status_code == 200
    assert refused.json()["healthy"] is False
    assert refused.json()["user_facing_message"] == message
    assert refused.json()["replay_requested"] is False
    assert checked["health"]["healthy"] is True
    assert checked["state"] == "parked"
    assert accepted.status_code == 202
    assert accepted.json()["replay_requested"] is True
    assert (online["state"], online["parked"]) == ("online", 0)
    assert online["last_sync"] is not None
    assert missing.status_code == 404


async def test_sync_now_on_a_company_that_never_finished_setup_returns_a_setup_link(
    stack: TestStack, settings: Settings, db: asyncpg.Pool
) -> None:
    """POST sync for a not-set-up company answers with a setup link, reused while valid."""
    company = company_on(stack)
    stack.simulator.set_state(company.end_user, "not_set_up")
    async with (
        RunningService(settings) as service,
        httpx.AsyncClient(base_url=service.http.url) as http,
    ):
        await produce(settings, [customer(company, 0)])
        await wait_parked(db, company, 1)
        first = (await http.post(f"/v1/companies/{company.id}/sync")).json()
        second = (await http.post(f"/v1/companies/{company.id}/sync")).json()

    assert first["healthy"] is False
    assert first["code"] == "INTEGRATION_CONNECTION_NOT_SET_UP"
    assert first["auth_flow_url"]
    assert second["auth_flow_url"] == first["auth_flow_url"]
