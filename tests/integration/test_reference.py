"""Reference pulls against a simulator seeded with thousands of objects."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest
from conductor import AsyncConductor, Conductor

from processors.config import Settings
from processors.db import connect_pool
from processors.devstack import DEV_SECRET_KEY
from processors.gateway import ConductorGateway
from processors.publish import Publisher
from processors.reference import ListReport, ReferencePuller, pull_company
from processors.testing import (
    RecordingTracker,
    TestStack,
    TopicReader,
    async_wait_for,
    create_topics,
    pipeline_settings,
    unique_name,
)
from schemas import DEFAULT_REFERENCE_LISTS, ReferenceList

CUSTOMERS, SERVICES, PRODUCTS = 5000, 2500, 2500


@dataclass
class Pulled:
    """A seeded company after its first (full) pull, and what that pull published."""

    settings: Settings
    company: str
    end_user: str
    pool: asyncpg.Pool
    puller: ReferencePuller
    reports: list[ListReport]
    reader: TopicReader
    first: list[dict[str, Any]]


def _company(stack: TestStack, **counts: int) -> tuple[str, str]:
    company = unique_name("acct")
    client = Conductor(api_key=DEV_SECRET_KEY, base_url=stack.simulator.base_url, max_retries=0)
    end_user = client.end_users.create(company_name=company, email="o@example.com",
                                       source_id=company)  # fmt: skip
    stack.simulator.connect(end_user.id)
    stack.simulator.seed(end_user.id, demo=True, **counts)
    return company, end_user.id


def _sim_ids(stack: TestStack, end_user: str, *paths: str) -> list[str]:
    return [obj["id"] for path in paths for obj in stack.simulator.objects(end_user, path)]


@pytest.fixture(scope="module")
async def pulled(stack: TestStack) -> AsyncIterator[Pulled]:
    """5,000 customers and 5,000 items (plus the demo file), pulled in full once."""
    settings = pipeline_settings(stack)
    await create_topics(settings, 4)
    company, end_user = _company(stack, customers=CUSTOMERS, service_items=SERVICES,
                                 non_inventory_items=PRODUCTS)  # fmt: skip
    pool = await connect_pool(settings.secret("database_url"))
    publisher = Publisher(settings)
    await publisher.start()
    reader = TopicReader(settings, settings.reference_topic)
    async with ConductorGateway(settings) as gateway:
        puller = ReferencePuller(pool, gateway, publisher, topic=settings.reference_topic)
        reports = await puller.pull(company, end_user, run_id="first")
        total = sum(report.published for report in reports)
        first = await reader.wait_for(lambda events: len(events) >= total)
        yield Pulled(settings, company, end_user, pool, puller, reports, reader, first)
    await reader.close()
    await publisher.stop()
    await pool.close()


async def test_full_pull_publishes_every_object_once(stack: TestStack, pulled: Pulled) -> None:
    """The first pull publishes each customer, vendor, item, account, class and term once."""
    events = pulled.first

    ids = Counter((e["data"]["record"]["objectType"], e["data"]["qbd_id"]) for e in events)
    by_type = Counter(event["type"] for event in events)
    expected = {
        "qbd.reference.customer": _sim_ids(stack, pulled.end_user, "customers"),
        "qbd.reference.vendor": _sim_ids(stack, pulled.end_user, "vendors"),
        "qbd.reference.item": _sim_ids(stack, pulled.end_user, "service-items",
                                       "non-inventory-items"),
        "qbd.reference.account": _sim_ids(stack, pulled.end_user, "accounts"),
        "qbd.reference.class": _sim_ids(stack, pulled.end_user, "classes"),
        "qbd.reference.terms": _sim_ids(stack, pulled.end_user, "standard-terms"),
    }  # fmt: skip
    assert max(ids.values()) == 1
    assert {kind: by_type[kind] for kind in expected} == {k: len(v) for k, v in expected.items()}
    assert by_type["qbd.reference.customer"] >= CUSTOMERS
    assert by_type["qbd.reference.item"] >= SERVICES + PRODUCTS
    assert {e["companyid"] for e in events} == {pulled.company}
    assert all(r.key == pulled.company.encode() for r in pulled.reader.records[: len(events)])
    assert [r.full for r in pulled.reports] == [True] * len(DEFAULT_REFERENCE_LISTS)
    stored = await pulled.pool.fetchval(
        "SELECT count(*) FROM qbd_objects WHERE company_id = $1", pulled.company
    )
    assert stored == len(events)


async def test_incremental_pull_publishes_only_changed_objects(
    stack: TestStack, pulled: Pulled
) -> None:
    """After edits through the SDK, the next pull publishes just those objects, inactive too."""
    client = AsyncConductor(api_key=DEV_SECRET_KEY, base_url=stack.simulator.base_url,
                            max_retries=0)  # fmt: skip
    customers = stack.simulator.objects(pulled.end_user, "customers")
    vendor = stack.simulator.objects(pulled.end_user, "vendors")[0]
    item = stack.simulator.objects(pulled.end_user, "non-inventory-items")[-1]
    qbd = client.qbd
    for customer in (customers[7], customers[2500], customers[-1]):
        await qbd.customers.update(customer["id"], revision_number=customer["revisionNumber"],
                                   email="changed@example.com",
                                   conductor_end_user_id=pulled.end_user)  # fmt: skip
    await qbd.vendors.update(vendor["id"], revision_number=vendor["revisionNumber"],
                             is_active=False, conductor_end_user_id=pulled.end_user)  # fmt: skip
    await qbd.non_inventory_items.update(item["id"], revision_number=item["revisionNumber"],
                                         name="Renamed Product",
                                         conductor_end_user_id=pulled.end_user)  # fmt: skip
    await client.close()
    before = len(pulled.reader.records)

    reports = await pulled.puller.pull(pulled.company, pulled.end_user, run_id="second")

    changed = {customers[7]["id"], customers[2500]["id"], customers[-1]["id"], vendor["id"],
               item["id"]}  # fmt: skip
    events = await pulled.reader.wait_for(lambda found: len(found) >= before + len(changed))
    new = events[before:]
    assert sorted(e["data"]["qbd_id"] for e in new) == sorted(changed)
    assert sum(r.published for r in reports) == len(changed)
    assert not any(r.full for r in reports)
    inactive = next(e for e in new if e["data"]["qbd_id"] == vendor["id"])
    assert inactive["data"]["is_active"] is False
    renamed = next(e for e in new if e["data"]["qbd_id"] == item["id"])
    assert renamed["data"]["name"] == "Renamed Product"


async def test_rerunning_a_completed_request_skips_its_lists(pulled: Pulled) -> None:
    """The same run id again (a redelivered request) publishes nothing and lists nothing."""

    reports = await pulled.puller.pull(pulled.company, pulled.end_user, run_id="first-again",
                                       lists=[ReferenceList.CLASSES])  # fmt: skip
    again = await pulled.puller.pull(pulled.company, pulled.end_user, run_id="first-again",
                                     lists=[ReferenceList.CLASSES])  # fmt: skip

    assert reports[0].published == 0
    assert again[0].skipped
    assert again[0].listed == 0


async def test_cancelled_pull_resumes_without_duplicates(stack: TestStack) -> None:
    """A pull cancelled mid-list resumes where it stopped: every object published exactly once."""
    settings = pipeline_settings(stack)
    await create_topics(settings, 4)
    company, end_user = _company(stack, customers=3000)
    pool = await connect_pool(settings.secret("database_url"))
    publisher = Publisher(settings)
    await publisher.start()
    reader = TopicReader(settings, settings.reference_topic)
    try:
        async with ConductorGateway(settings) as gateway:
            puller = ReferencePuller(pool, gateway, publisher, topic=settings.reference_topic)
            lists = [ReferenceList.CUSTOMERS]
            task = asyncio.create_task(puller.pull(company, end_user, lists, run_id="r1"))

            async def halfway() -> bool:
                listed = await pool.fetchval(
                    "SELECT listed FROM reference_pulls WHERE company_id = $1", company
                )
                return bool(listed and listed >= 900)

            await async_wait_for(halfway, timeout=60, what="the pull to be a third through")
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            state = await pool.fetchrow(
                "SELECT pass_state, listed FROM reference_pulls WHERE company_id = $1", company
            )
            resumed = await puller.pull(company, end_user, lists, run_id="r1")
        total = len(stack.simulator.objects(end_user, "customers"))
        events = await reader.wait_for(lambda found: len(found) >= total)
    finally:
        await reader.close()
        await publisher.stop()
        await pool.close()

    counts = Counter(event["data"]["qbd_id"] for event in events)
    assert state["pass_state"] == "running"
    assert 900 <= state["listed"] < total
    assert resumed[0].resumed
    assert resumed[0].published == total - state["listed"]
    assert len(counts) == total
    assert max(counts.values()) == 1


async def test_cli_pull_reports_every_listed_object_to_its_progress(stack: TestStack) -> None:
    """The progress line of `reference pull` counts the objects really listed."""
    settings = pipeline_settings(stack)
    await create_topics(settings, 4)
    company, _ = _company(stack, customers=320)
    tracker = RecordingTracker()

    reports = await pull_company(
        settings, company, [ReferenceList.CUSTOMERS, ReferenceList.ITEMS], tracker=tracker
    )

    assert sum(report.listed for report in reports) >= 320
    assert tracker.done == sum(report.listed for report in reports)
