"""Recovering by itself (issue 19): parked work replays once QuickBooks is back, no Sync now.

Real broker, real PostgreSQL, the simulator over HTTP. Every wait has a deadline.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from conductor import AsyncConductor

from processors.attention import AttentionBook
from processors.companies import CompanyBook
from processors.config import Settings
from processors.devstack import DEV_SECRET_KEY
from processors.gateway import ConductorGateway
from processors.outcome import OutcomePolicy
from processors.pipeline import CatchUp, CompanyConnection, ProbeBudget, Reader
from processors.publish import Publisher
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
from qbdsim import SimulatorServer
from schemas import CompanyConnectionState, EventType, example_event
from tests.integration.test_offline_companies import (
    Company,
    company_on,
    customer,
    names,
    of,
    simulator_message,
    succeeded,
    sync_requested,
    wait_parked,
)

_PARTITIONS = 4
_STATE_CHANGED = "qbd.company.state_changed"


def _states(events: list[dict[str, Any]], company: str) -> list[tuple[str, str]]:
    """The company's announced state changes, (previous, state), in publish order."""
    return [
        (e["data"]["previous_state"], e["data"]["state"])
        for e in events
        if e["type"] == _STATE_CHANGED and e["companyid"] == company
    ]


def _requests(stack: TestStack, end_user: str) -> int:
    """How many QuickBooks requests (writes, health checks, ...) the simulator answered for
    the end-user."""
    return sum(1 for entry in stack.simulator.log() if entry["end_user_id"] == end_user)


async def test_parked_work_and_a_new_event_sync_within_two_minutes_of_quickbooks_returning(
    stack: TestStack,
    settings: Settings,
    db: asyncpg.Pool,
    results: TopicReader,
) -> None:
    """Default settings, no Sync now: the parked events, then the new one, each once, < 2 min."""
    company = company_on(stack)
    stack.simulator.set_state(company.end_user, "offline")
    async with RunningService(settings):
        await produce(settings, [customer(company, n) for n in range(5)])
        await wait_parked(db, company, 5)
        stack.simulator.connect(company.end_user)  # the user turns QuickBooks on
        back = time.monotonic()
        await produce(settings, [customer(company, 5)])  # and keeps working
        found = await results.wait_for(
            lambda found: len(succeeded(found, company)) >= 6, timeout=150
        )
        took = time.monotonic() - back
    print(f"parked work and the new event synced {took:.1f} s after QuickBooks came back")

    assert took < 120, f"synced {took:.0f} s after QuickBooks came back"
    assert names(stack, company) == [f"{company.id}-{n:05d}" for n in range(6)]
    synced_ids = [e["data"]["event_id"] for e in succeeded(found, company)]
    assert len(synced_ids) == len(set(synced_ids)) == 6


async def test_a_new_event_for_a_parked_company_that_is_back_replays_it_first(
    stack: TestStack, db: asyncpg.Pool, reader: Any
) -> None:
    """With background probes an hour away, a new event alone brings the parked work in."""
    settings = await _settings(stack, catchup_interval="1h", parked_recheck_interval="1s")
    results = reader(settings, settings.sync_results_topic)
    company = company_on(stack)
    stack.simulator.set_state(company.end_user, "offline")
    async with RunningService(settings):
        await produce(settings, [customer(company, n) for n in range(3)])
        await wait_parked(db, company, 3)
        stack.simulator.connect(company.end_user)

        async def checked_long_ago() -> bool:
            return bool(
                await db.fetchval(
                    """SELECT now() - state_changed_at > interval '1 second'
                       FROM companies WHERE company_id = $1""",
                    company.id,
                )
            )

        await async_wait_for(checked_long_ago, what="the last check to be a second old")
        await produce(settings, [customer(company, 3)])
        await results.wait_for(lambda found: len(succeeded(found, company)) >= 4)

    assert names(stack, company) == [f"{company.id}-{n:05d}" for n in range(4)]


async def test_many_events_for_a_parked_company_ask_quickbooks_once(
    stack: TestStack, db: asyncpg.Pool
) -> None:
    """Twenty events within the recheck interval park behind without asking QuickBooks."""
    settings = await _settings(stack, catchup_interval="1h")
    company = company_on(stack)
    stack.simulator.set_state(company.end_user, "offline")
    async with RunningService(settings):
        await produce(settings, [customer(company, 0)])
        await wait_parked(db, company, 1)
        before = _requests(stack, company.end_user)
        await produce(settings, [customer(company, n) for n in range(1, 21)])
        await wait_parked(db, company, 21)
        after = _requests(stack, company.end_user)

    assert (before, after) == (1, 1)


async def test_state_changes_are_announced_in_order(
    stack: TestStack,
    settings: Settings,
    db: asyncpg.Pool,
    results: TopicReader,
    attention: TopicReader,
) -> None:
    """Parking, replaying and coming back online each publish qbd.company.state_changed."""
    company = company_on(stack)
    stack.simulator.set_state(company.end_user, "dialog_open")
    message = simulator_message(stack, company)
    async with RunningService(settings):
        await produce(settings, [customer(company, 0)])
        await wait_parked(db, company, 1)
        stack.simulator.connect(company.end_user)
        await produce(settings, [sync_requested(company)])
        await results.wait_for(lambda found: len(succeeded(found, company)) == 1)
        events = await attention.wait_for(lambda found: len(_states(found, company.id)) >= 3)

    assert _states(events, company.id) == [
        ("unknown", "parked"),
        ("parked", "replaying"),
        ("replaying", "online"),
    ]
    parked = next(e for e in events if of(company, _STATE_CHANGED)(e))
    assert parked["data"]["user_facing_message"] == message


async def test_finishing_setup_brings_the_company_online_and_resolves_the_setup_link(
    stack: TestStack, reader: Any, own_sim: SimulatorServer
) -> None:
    """No event needed: the end-user list shows the new connection, a probe follows, the
    setup-link prompt resolves and the company is announced online."""
    settings = await _settings(stack, conductor_base_url=own_sim.base_url, catchup_interval="1s")
    attention = reader(settings, settings.needs_attention_topic)
    company = unique_name("acct")
    connect = example_event(EventType.COMPANY_CONNECT_REQUESTED, companyid=company)
    async with RunningService(settings):
        await produce(settings, [connect])
        await attention.wait_for(
            lambda found: any(e["type"] == "qbd.connection.setup_link" for e in found)
        )
        async with AsyncConductor(api_key=DEV_SECRET_KEY, base_url=own_sim.base_url) as client:
            [end_user] = [
                u.id for u in (await client.end_users.list()).data if u.source_id == company
            ]
        own_sim.connect(end_user)  # the user finished the hosted setup flow
        events = await attention.wait_for(
            lambda found: any(e["type"] == "qbd.attention.resolved" for e in found), timeout=60
        )

    resolved = next(e for e in events if e["type"] == "qbd.attention.resolved")
    assert (resolved["companyid"], resolved["data"]["code"]) == (company, "SETUP_LINK")
    assert _states(events, company)[-1] == ("setup_pending", "online")


async def test_a_deleted_end_user_parks_the_company_as_not_connected(
    stack: TestStack, settings: Settings, db: asyncpg.Pool, results: TopicReader
) -> None:
    """Calls for a deleted end-user answer 404: the event parks (setup), it does not fail."""
    company = company_on(stack)
    async with RunningService(settings):
        await produce(settings, [customer(company, 0)])
        await results.wait_for(lambda found: len(succeeded(found, company)) == 1)
        stack.simulator.delete_end_user(company.end_user)
        await produce(settings, [customer(company, 1)])
        await wait_parked(db, company, 1)
        row = await db.fetchrow(
            "SELECT state, last_error->>'code' AS code FROM companies WHERE company_id = $1",
            company.id,
        )
        await results.drain()

    assert (row["state"], row["code"]) == ("parked", "COMPANY_NOT_CONNECTED")
    assert not [e for e in results.events() if of(company, "qbd.sync.failed")(e)]


async def test_a_replaced_end_user_gets_the_next_event(
    stack: TestStack, settings: Settings, results: TopicReader
) -> None:
    """A customer who reconnects a new company file: the next event lands in the new one."""
    company = company_on(stack)
    async with RunningService(settings):
        await produce(settings, [customer(company, 0)])
        await results.wait_for(lambda found: len(succeeded(found, company)) == 1)
        stack.simulator.delete_end_user(company.end_user)
        async with AsyncConductor(api_key=DEV_SECRET_KEY, base_url=stack.simulator.base_url) as c:
            new = await c.end_users.create(
                company_name=company.id, email="o@example.com", source_id=company.id
            )
        await produce(settings, [customer(company, 1)])
        await results.wait_for(lambda found: len(succeeded(found, company)) == 2)

    replacement = Company(company.id, new.id)
    assert names(stack, replacement) == [f"{company.id}-00001"]


async def test_a_403_parks_only_that_company_and_consuming_goes_on(
    stack: TestStack,
    settings: Settings,
    db: asyncpg.Pool,
    results: TopicReader,
    attention: TopicReader,
) -> None:
    """One end-user refused: it parks with one configuration attention; others keep syncing."""
    refused = company_on(stack)
    healthy = company_on(stack)
    stack.simulator.set_permission(refused.end_user, denied=True)
    try:
        async with RunningService(settings) as service:
            await produce(
                settings,
                [e for n in range(3) for e in (customer(refused, n), customer(healthy, n))],
            )
            await results.wait_for(lambda found: len(succeeded(found, healthy)) == 3)
            await wait_parked(db, refused, 3)
            halted = service.engine.halted
            stack.simulator.set_permission(refused.end_user, denied=False)
            await produce(settings, [sync_requested(refused)])
            await results.wait_for(lambda found: len(succeeded(found, refused)) == 3)
            events = await attention.wait_for(
                lambda found: any(map(of(refused, "qbd.attention.resolved"), found))
            )
    finally:
        stack.simulator.set_permission(refused.end_user, denied=False)

    assert halted is None
    needed = [e for e in events if of(refused, "qbd.attention.needed")(e)]
    assert [(e["data"]["category"], e["data"]["occurrences"]) for e in needed] == [
        ("configuration", 1)
    ]
    assert names(stack, refused) == [f"{refused.id}-{n:05d}" for n in range(3)]


async def test_background_probes_keep_to_the_budget_oldest_first(
    stack: TestStack, db: asyncpg.Pool, settings: Settings
) -> None:
    """Thirty due companies at 10 probes/s: a tick queues the 11 oldest, and their checks,
    started together as their lanes would, take budget slots 0.1 s apart."""
    book = CompanyBook(db)
    mine = [unique_name("acct-due") for _ in range(30)]
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    for n, company in enumerate(mine):
        await book.get(company)
        await book.set_state(company, CompanyConnectionState.PARKED, error={"code": "OFFLINE"})
        await book.schedule_probe(company, long_ago + timedelta(seconds=n))
    asked: list[tuple[str, float]] = []

    def request_replay(company: str) -> bool:
        asked.append((company, time.monotonic()))
        return True

    publisher = Publisher(settings)
    await publisher.start()
    async with ConductorGateway(settings) as gateway:
        connection = CompanyConnection(
            settings=settings,
            companies=book,
            attention=AttentionBook(db, publisher),
            gateway=gateway,
            publisher=publisher,
            reader=Reader(OutcomePolicy()),
            budget=ProbeBudget(10),
        )
        catchup = CatchUp(
            companies=book,
            connection=connection,
            budget=connection.budget,
            interval=timedelta(minutes=1),
            owns=set(mine).__contains__,
            request_replay=request_replay,
        )
        first = await catchup.probe_due()
        started = time.monotonic()
        await asyncio.gather(*(connection.check(company, paced=True) for company in first))
        took = time.monotonic() - started
    await publisher.stop()

    assert first == mine[:11]
    assert [company for company, _ in asked] == first
    assert took >= 0.99  # the 11th slot is 1.0 s after the first, however the lanes start


async def test_a_state_change_whose_publish_failed_goes_out_on_the_next_sweep(
    settings: Settings, db: asyncpg.Pool, attention: TopicReader
) -> None:
    """A change stored but never announced (the broker was away) is published once, later."""
    book = CompanyBook(db)
    company = unique_name("acct")
    await book.get(company)
    lost = {"code": "QBD_CONNECTION_ERROR", "user_facing_message": "QuickBooks is closed."}
    await book.set_state(company, CompanyConnectionState.PARKED, error=lost)
    publisher = Publisher(settings)
    await publisher.start()
    try:
        async with ConductorGateway(settings) as gateway:
            connection = CompanyConnection(
                settings=settings,
                companies=book,
                attention=AttentionBook(db, publisher),
                gateway=gateway,
                publisher=publisher,
                reader=Reader(OutcomePolicy()),
            )
            await connection.announce_pending()
            await connection.announce_pending()
    finally:
        await publisher.stop()
    await attention.drain()

    mine = [e for e in attention.events() if e["companyid"] == company]
    assert [(e["type"], e["data"]["previous_state"], e["data"]["state"]) for e in mine] == [
        (_STATE_CHANGED, "unknown", "parked")
    ]
    assert mine[0]["data"]["user_facing_message"] == "QuickBooks is closed."


async def _settings(stack: TestStack, **overrides: Any) -> Settings:
    """Per-test topics and group with ``overrides``."""
    test_settings = pipeline_settings(stack, **overrides)
    await create_topics(test_settings, _PARTITIONS)
    return test_settings


@pytest.fixture
async def own_sim() -> AsyncIterator[SimulatorServer]:
    """A simulator whose new end-users start not set up (the session's auto-connects)."""
    server = SimulatorServer(port=0, seed=19)
    server.start()
    yield server
    server.stop()


async def test_the_api_and_the_dashboard_show_the_last_and_next_probe(
    stack: TestStack, settings: Settings, db: asyncpg.Pool
) -> None:
    """A parked company's last check and next probe, in GET /v1/companies/{id} and on /."""
    company = company_on(stack)
    stack.simulator.set_state(company.end_user, "offline")
    async with (
        RunningService(settings) as service,
        httpx.AsyncClient(base_url=service.http.url) as http,
    ):
        await produce(settings, [customer(company, 0)])
        await wait_parked(db, company, 1)
        shown = (await http.get(f"/v1/companies/{company.id}")).json()
        page = (await http.get("/")).text

    last = datetime.fromisoformat(shown["last_probe_at"])
    following = datetime.fromisoformat(shown["next_probe_at"])
    assert timedelta(seconds=45) <= following - last <= timedelta(seconds=61)
    row = page[page.index(f'data-company="{company.id}"') :].split("</tr>")[0]
    text = " ".join(re.sub(r"<[^>]+>", " ", row).split())
    assert re.search(r"last \d+ s ago next in \d+ s", text), text
