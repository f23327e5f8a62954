"""What operators see of the lifecycle: counts by action, and what a parked event will do."""

from __future__ import annotations

from typing import Any

import httpx

from processors.config import Settings
from processors.operator import dlq_record
from processors.testing import RunningService, TestStack, TopicReader, async_wait_for, produce
from schemas import EventType
from tests.lifecycle_books import event, open_books, wait_results


async def test_the_company_api_and_the_dashboard_count_synced_events_by_action(
    stack: TestStack, settings: Settings, results: TopicReader
) -> None:
    """GET /v1/companies/{id} and the dashboard JSON show created, updated, voided, linked."""
    books = open_books(stack)
    setup = books.setup()
    stream = [
        event(books, EventType.INVOICE_CREATED, terms_id=None),
        event(books, EventType.INVOICE_UPDATED, memo="Corrected"),
        event(books, EventType.INVOICE_VOIDED),
    ]

    async with RunningService(settings) as service:
        await produce(settings, [*setup, *stream])
        await wait_results(results, [*setup, *stream])
        base = f"http://127.0.0.1:{service.http.port}"
        async with httpx.AsyncClient(base_url=base) as client:
            company = (await client.get(f"/v1/companies/{books.id}")).json()
            dashboard = (await client.get("/v1/dashboard")).json()

    expected = {"linked": len(setup), "created": 1, "updated": 1, "voided": 1}
    assert company["actions"] == expected
    [row] = [c for c in dashboard["companies"] if c["company_id"] == books.id]
    assert row["actions"] == expected


async def test_dlq_show_says_what_a_parked_event_will_do(
    stack: TestStack, settings: Settings, results: TopicReader
) -> None:
    """A parked create will create; a parked re-send of a synced invoice will update it."""
    books = open_books(stack)
    create = event(books, EventType.INVOICE_CREATED, terms_id=None)
    resend = event(books, EventType.INVOICE_CREATED, terms_id=None, memo="Re-sent")
    void = event(books, EventType.INVOICE_VOIDED, invoice_id="inv_never_synced")

    async with RunningService(settings) as service:
        await produce(settings, [*books.setup(), create])
        found = await wait_results(results, [create])
        stack.simulator.set_state(books.end_user, "offline")
        await produce(settings, [resend, void])
        await async_wait_for(lambda: _parked(service, books.id, 2), timeout=60, what="parking")
        shown = [await dlq_record(settings, item["id"]) for item in (resend, void)]

    assert [record["action"] for record in shown] == [
        {
            "action": "update",
            "object_type": "invoice",
            "app_id": "inv_5001",
            "qbd_id": found[create["id"]]["qbd_id"],
        },
        {"action": "void", "object_type": "invoice", "app_id": "inv_never_synced", "qbd_id": None},
    ]


async def _parked(service: Any, company: str, count: int) -> bool:
    parked: int = await service.pool.fetchval(
        "SELECT count(*) FROM dlq_index WHERE company_id = $1 AND status = 'parked'", company
    )
    return parked >= count
