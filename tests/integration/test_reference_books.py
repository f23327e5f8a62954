"""Reference pulls of the accounting lists: tax codes and items, payment methods, more terms
and items, each published once per revision like the original six lists."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest
from conductor import AsyncConductor, Conductor

from processors.db import connect_pool
from processors.devstack import DEV_SECRET_KEY
from processors.gateway import ConductorGateway
from processors.publish import Publisher
from processors.reference import ReferencePuller
from processors.testing import TestStack, TopicReader, create_topics, pipeline_settings, unique_name
from schemas import ReferenceList

BOOK_LISTS = [
    ReferenceList.SALES_TAX_CODES,
    ReferenceList.SALES_TAX_ITEMS,
    ReferenceList.PAYMENT_METHODS,
    ReferenceList.DATE_DRIVEN_TERMS,
    ReferenceList.OTHER_CHARGE_ITEMS,
    ReferenceList.DISCOUNT_ITEMS,
]


@dataclass
class Pulled:
    """A demo company after a first pull of the accounting lists."""

    end_user: str
    company: str
    puller: ReferencePuller
    reader: TopicReader
    pool: asyncpg.Pool
    first: list[dict[str, Any]]


@pytest.fixture(scope="module")
async def pulled(stack: TestStack) -> AsyncIterator[Pulled]:
    """The demo company file, its accounting lists pulled once."""
    settings = pipeline_settings(stack)
    await create_topics(settings, 4)
    company = unique_name("acct")
    client = Conductor(api_key=DEV_SECRET_KEY, base_url=stack.simulator.base_url, max_retries=0)
    end_user = client.end_users.create(
        company_name=company, email="o@example.com", source_id=company
    ).id
    stack.simulator.connect(end_user)
    stack.simulator.seed(end_user, demo=True)
    pool = await connect_pool(settings.secret("database_url"))
    publisher = Publisher(settings)
    await publisher.start()
    reader = TopicReader(settings, settings.reference_topic)
    async with ConductorGateway(settings) as gateway:
        puller = ReferencePuller(pool, gateway, publisher, topic=settings.reference_topic)
        reports = await puller.pull(company, end_user, BOOK_LISTS, run_id="first")
        total = sum(report.published for report in reports)
        first = await reader.wait_for(lambda events: len(events) >= total)
        yield Pulled(end_user, company, puller, reader, pool, first)
    await reader.close()
    await publisher.stop()
    await pool.close()


def _ids(stack: TestStack, end_user: str, *kinds: str) -> list[str]:
    return sorted(obj["id"] for kind in kinds for obj in stack.simulator.objects(end_user, kind))


async def test_accounting_lists_are_published_once_under_their_types(
    stack: TestStack, pulled: Pulled
) -> None:
    """Tax codes, tax items and groups, payment methods, date-driven terms, special items."""
    by_type: dict[str, list[str]] = {}
    for event in pulled.first:
        by_type.setdefault(event["type"], []).append(event["data"]["qbd_id"])
    kinds = Counter((event["type"], event["data"]["kind"]) for event in pulled.first)

    assert {kind: sorted(ids) for kind, ids in by_type.items()} == {
        "qbd.reference.sales_tax_code": _ids(stack, pulled.end_user, "sales-tax-codes"),
        "qbd.reference.sales_tax_item": _ids(
            stack, pulled.end_user, "sales-tax-items", "sales-tax-group-items"
        ),
        "qbd.reference.payment_method": _ids(stack, pulled.end_user, "payment-methods"),
        "qbd.reference.terms": _ids(stack, pulled.end_user, "date-driven-terms"),
        "qbd.reference.item": _ids(stack, pulled.end_user, "other-charge-items", "discount-items"),
    }
    assert kinds[("qbd.reference.terms", "date_driven_terms")] == 1
    assert kinds[("qbd.reference.item", "discount_items")] == 1


async def test_a_later_pull_publishes_only_what_changed(stack: TestStack, pulled: Pulled) -> None:
    """A payment method added in QuickBooks is the one record the next pull publishes."""
    async with AsyncConductor(
        api_key=DEV_SECRET_KEY, base_url=stack.simulator.base_url, max_retries=0
    ) as client:
        added = await client.qbd.payment_methods.create(
            name="Apple Pay", payment_method_type="other", conductor_end_user_id=pulled.end_user
        )
    before = len(pulled.reader.records)

    reports = await pulled.puller.pull(pulled.company, pulled.end_user, BOOK_LISTS, run_id="next")

    events = await pulled.reader.wait_for(lambda found: len(found) >= before + 1)
    assert [e["data"]["qbd_id"] for e in events[before:]] == [added.id]
    assert sum(report.published for report in reports) == 1
