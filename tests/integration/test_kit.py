"""The FastStream kit end to end: the billing example's day goes through a real processor
(embedded broker, PostgreSQL, the simulator over HTTP) and the notifier example hears it."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import date

import pytest
from conductor import Conductor
from faststream.kafka import KafkaBroker

from examples.billing_service import COMPANIES, BillingService, Company
from examples.notifier import Notifier
from processors.config import Settings
from processors.devstack import DEV_SECRET_KEY
from processors.testing import (
    RunningService,
    TestStack,
    async_wait_for,
    unique_name,
)
from schemas import AttentionCategory

DAY = date(2026, 11, 24)


@pytest.fixture
def companies() -> list[Company]:
    """The billing example's three companies, under ids no other test uses."""
    return [dataclasses.replace(c, company_id=unique_name(c.company_id)) for c in COMPANIES]


@pytest.fixture
async def broker(settings: Settings) -> AsyncIterator[KafkaBroker]:
    """One FastStream broker for both example apps, connected to the embedded broker."""
    kafka = KafkaBroker(settings.kafka_bootstrap_servers)
    yield kafka
    await kafka.stop()


def _finish_setup(stack: TestStack, companies: list[Company]) -> dict[str, str]:
    """What each company's user does with the setup link: a company file with its lists."""
    client = Conductor(api_key=DEV_SECRET_KEY, base_url=stack.simulator.base_url, max_retries=0)
    end_users = {user.source_id: user.id for user in client.end_users.list().data}
    for company in companies:
        stack.simulator.seed(end_users[company.company_id], demo=True)
    return end_users


def _expected_synced(company: Company) -> int:
    """Successful results the day ends with: the accounts pull, the income mapping, and every
    customer (but the clashing Acme), item, invoice and payment."""
    customers = sum(1 for name in company.customers.values() if name != "Acme Corporation")
    return 2 + customers + len(company.items) + len(company.invoices) + len(company.paid)


async def test_billing_day_syncs_and_the_notifier_tells_each_company(
    stack: TestStack, settings: Settings, companies: list[Company], broker: KafkaBroker
) -> None:
    """Invoices reach QuickBooks; the notifier sends setup links, counts, the failure and why."""
    billing = BillingService(
        broker, events_topic=settings.input_topics[0], reference_topic=settings.reference_topic
    )
    notifier = Notifier(
        broker,
        group_id=unique_name("notifier"),
        attention_topic=settings.needs_attention_topic,
        results_topic=settings.sync_results_topic,
    )
    ids = [company.company_id for company in companies]
    async with RunningService(settings):
        await broker.start()
        await billing.connect(companies)

        async def linked() -> bool:
            return {n.company_id for n in notifier.notices if n.kind == "setup_link"} == set(ids)

        await async_wait_for(linked, timeout=90, what="a setup link per company")
        end_users = _finish_setup(stack, companies)
        await billing.map_income_accounts(companies)
        await billing.publish_day(companies, DAY)

        async def settled() -> bool:
            done = all(notifier.synced[c.company_id] >= _expected_synced(c) for c in companies)
            return done and any(n.kind == "sync_failed" for n in notifier.notices)

        await async_wait_for(settled, timeout=120, what="the day's sync results")

    assert {c.company_id: notifier.synced[c.company_id] for c in companies} == {
        c.company_id: _expected_synced(c) for c in companies
    }
    summit = companies[2].company_id
    connected = [n for n in notifier.notices if n.text == "Fixed: SETUP_LINK"]
    assert sorted(n.company_id for n in connected) == sorted(ids)
    told = [
        (n.company_id, n.kind)
        for n in notifier.notices
        if n.kind != "setup_link" and n not in connected
    ]
    assert told == [(summit, "attention"), (summit, "sync_failed")] or told == [
        (summit, "sync_failed"),
        (summit, "attention"),
    ]
    failure = next(n for n in notifier.notices if n.kind == "sync_failed")
    assert "customer.upserted cus_acme" in failure.text
    assert "Acme Corporation" in failure.text
    shown = {
        c: [i for i in notifier.board.shown(c) if i.category is AttentionCategory.DATA] for c in ids
    }
    assert [len(items) for items in shown.values()] == [0, 0, 1]
    assert "Acme Corporation" in shown[summit][0].user_facing_message
    for company in companies:
        invoices = stack.simulator.objects(end_users[company.company_id], "invoices")
        assert sorted(i["refNumber"] for i in invoices) == [
            f"{DAY:%m%d}-{n:03d}" for n in range(1, len(company.invoices) + 1)
        ]
