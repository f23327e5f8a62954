"""A company whose data carries XSS payloads, through the real pipeline onto the dashboard.

The company's id and every event id hold ``<img src=x onerror=alert(1)>`` and
``"><script>alert(1)</script>``; its name is the ``<img>`` payload (names are capped at 41
characters); QuickBooks refuses a second customer named ``"><script>alert(1)</script>`` with
a message that quotes the name. Then its QuickBooks goes offline and one more event is
parked. Each test fetches a page over HTTP and checks that every place showing the
company, a message or an event id shows the payload as text and nowhere as markup.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest

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
from tests.dashboard_html import HOSTILE, IMG, RAW_MARKUP, SCRIPT, Page, read_page

TOKEN = "adm_5d1e8b3c7f"


async def _summary(client: httpx.AsyncClient) -> dict[str, Any]:
    """``GET /v1/dashboard``."""
    response = await client.get("/v1/dashboard")
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result


@dataclass(frozen=True, slots=True)
class Hostile:
    """The running processor's HTTP client and the hostile company's ids."""

    client: httpx.AsyncClient
    company_id: str
    failed_event: str
    parked_event: str

    async def page(self, path: str = "/", params: dict[str, str] | None = None) -> tuple[str, Page]:
        """A dashboard page's HTML, and the HTML parsed."""
        response = await self.client.get(path, params=params)
        assert response.status_code == 200, response.text
        return response.text, read_page(response.text)


def _event(event_type: EventType, company: str, **data: Any) -> dict[str, Any]:
    event = example_event(event_type, companyid=company, id=unique_name("evt") + HOSTILE)
    event["data"].update(data)
    return event


def _customer(company: str, customer_id: str) -> dict[str, Any]:
    return _event(
        EventType.CUSTOMER_UPSERTED,
        company,
        customer_id=customer_id,
        name=SCRIPT,
        company_name=None,
    )


@pytest.fixture(scope="module")
async def hostile(stack: TestStack) -> AsyncIterator[Hostile]:
    """Connect the hostile company, sync a customer, fail its twin, then park one event."""
    settings = pipeline_settings(stack, admin_token=TOKEN)
    await create_topics(settings, 2)
    company = unique_name("hostile") + HOSTILE
    customer, twin, parked = (_customer(company, f"cus_{n}") for n in (1, 2, 3))
    async with (
        RunningService(settings) as service,
        httpx.AsyncClient(base_url=service.http.url, timeout=60) as client,
    ):
        await produce(
            settings, [_event(EventType.COMPANY_CONNECT_REQUESTED, company, company_name=IMG)]
        )

        async def end_user() -> str | None:
            rows = (await _summary(client))["companies"]
            return next((c["end_user_id"] for c in rows if c["company_id"] == company), None)

        end_user_id = await async_wait_for(end_user, timeout=60, what="the end-user")
        reader = TopicReader(settings, settings.sync_results_topic)
        try:
            await produce(settings, [customer, twin])
            await reader.wait_for(
                lambda found: any(r["data"]["event_id"] == twin["id"] for r in found), timeout=60
            )
        finally:
            await reader.close()
        stack.simulator.set_state(end_user_id, "offline")
        await produce(settings, [parked])

        async def is_parked() -> bool:
            return any(d["event_id"] == parked["id"] for d in (await _summary(client))["dlq"])

        await async_wait_for(is_parked, timeout=60, what="the event parked")
        yield Hostile(client, company, failed_event=twin["id"], parked_event=parked["id"])


async def test_companies_table_shows_hostile_id_and_name_as_text(hostile: Hostile) -> None:
    """The companies table shows the company's name and id as text, its row marker whole."""
    html, page = await hostile.page()

    assert [markup for markup in RAW_MARKUP if markup in html] == []
    assert page.injected == []
    assert IMG in page.section_text["companies"]
    assert hostile.company_id in page.section_text["companies"]
    rows = [tr.attrs.get("data-company") for tr in page.find("tr", section="companies")]
    assert hostile.company_id in rows


async def test_attention_list_shows_hostile_company_and_message_as_text(
    hostile: Hostile,
) -> None:
    """The attention list shows the company id and QuickBooks' message quoting the name."""
    html, page = await hostile.page()

    assert [markup for markup in RAW_MARKUP if markup in html] == []
    assert page.injected == []
    assert hostile.company_id in page.section_text["attention"]
    message = f'The name "{SCRIPT}" of the list element is already in use.'
    assert message in page.section_text["attention"]


async def test_failed_events_show_hostile_event_id_and_message_as_text(
    hostile: Hostile,
) -> None:
    """The failed-events table shows the event id, company id and error message as text."""
    html, page = await hostile.page()

    assert [markup for markup in RAW_MARKUP if markup in html] == []
    assert page.injected == []
    text = page.section_text["failed"]
    assert hostile.failed_event in text
    assert hostile.company_id in text
    assert f'The name "{SCRIPT}"' in text
    rows = [tr.attrs.get("data-event") for tr in page.find("tr", section="failed")]
    assert hostile.failed_event in rows


async def test_dlq_browser_shows_hostile_company_and_event_id_as_text(hostile: Hostile) -> None:
    """The DLQ table shows the parked event's id and its company as text."""
    html, page = await hostile.page()

    assert [markup for markup in RAW_MARKUP if markup in html] == []
    assert page.injected == []
    assert hostile.company_id in page.section_text["dlq"]
    assert hostile.parked_event in page.section_text["dlq"]


async def test_record_view_shows_hostile_event_as_text(hostile: Hostile) -> None:
    """The parked record's page shows its event id, company, key and event JSON as text."""
    dlq = (await _summary(hostile.client))["dlq"]
    row = next(d for d in dlq if d["event_id"] == hostile.parked_event)

    html, page = await hostile.page(f"/dashboard/dlq/{row['dlq_partition']}/{row['dlq_offset']}")

    assert [markup for markup in RAW_MARKUP if markup in html] == []
    assert page.injected == []
    assert f"Parked event {hostile.parked_event}" in page.section_text[""]
    assert hostile.company_id in page.section_text[""]  # the dlq_index row
    assert "key " + hostile.company_id in page.section_text["event"]
    assert orjson.dumps(hostile.parked_event).decode() in page.section_text["event"]
    assert orjson.dumps(hostile.company_id).decode() in page.section_text["event"]


async def test_notice_link_shows_hostile_text_as_text(hostile: Hostile) -> None:
    """A crafted ``/?notice=`` link shows its text as text (no reflected XSS)."""
    html, page = await hostile.page("/", params={"notice": HOSTILE})

    assert [markup for markup in RAW_MARKUP if markup in html] == []
    assert page.injected == []
    notices = [e for e in page.find("div") if e.attrs.get("class") == "notice"]
    assert len(notices) == 1
    assert HOSTILE in page.text
