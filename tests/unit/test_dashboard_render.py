"""The dashboard renderer: every value from the database or a record comes out as text.

Each field holds both XSS payloads behind its own name (``company_name:<img ...>"><script>``),
so a failure names the field that was dropped or let through as markup.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from starlette.requests import Request

from processors.dashboard._render import render_page, render_record
from processors.dashboard._sampler import COUNTERS, Rate
from tests.dashboard_html import HOSTILE, RAW_MARKUP, read_page

SHOWN_ON_PAGE = [
    "group_id",
    "notice",
    "company_id",
    "company_name",
    "state",
    "company.code",
    "company.user_facing_message",
    "attention.company_id",
    "category",
    "attention.code",
    "attention.message",
    "failed.event_id",
    "failed.company_id",
    "event_type",
    "failed.code",
    "failed.message",
    "dlq.company_id",
    "dlq.event_id",
    "status",
    "reason",
    "topic",
]
SHOWN_ON_RECORD = ["index.company_id", "index.event_id", "index.status", "index.reason"]


def _v(name: str) -> str:
    """The hostile value of the field called ``name``."""
    return f"{name}:{HOSTILE}"


def _request() -> Request:
    return Request(
        {"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b""}
    )


def _error(prefix: str) -> dict[str, Any]:
    return {
        "code": _v(f"{prefix}.code"),
        "type": _v(f"{prefix}.type"),
        "message": _v(f"{prefix}.message"),
        "user_facing_message": _v(f"{prefix}.user_facing_message"),
    }


def _summary(auth_flow_url: str = "https://auth.example/setup?next=" + HOSTILE) -> dict[str, Any]:
    seen = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    return {
        "read_only": False,
        "group_id": _v("group_id"),
        "health": {"ready": False},
        "throughput": {"interval_s": 5.0},
        "totals": {"synced": 3, "consumed": 9},
        "lanes_queued": 1,
        "companies_total": 1,
        "companies": [
            {
                "company_id": _v("company_id"),
                "company_name": _v("company_name"),
                "state": _v("state"),
                "end_user_id": _v("end_user_id"),
                "parked": 1,
                "lane_depth": 1,
                "last_sync_at": seen,
                "last_probe_at": seen,
                "next_probe_at": (datetime.now(UTC) + timedelta(seconds=40)).isoformat(),
                "last_error": _error("company"),
            }
        ],
        "attention": [
            {
                "company_id": _v("attention.company_id"),
                "code": _v("attention.code"),
                "category": _v("category"),
                "user_facing_message": _v("attention.message"),
                "auth_flow_url": auth_flow_url,
                "occurrences": 2,
                "last_seen": seen,
            }
        ],
        "failed": [
            {
                "event_id": _v("failed.event_id"),
                "company_id": _v("failed.company_id"),
                "event_type": _v("event_type"),
                "error": _error("failed"),
                "failed_at": seen,
            }
        ],
        "dlq": [
            {
                "company_id": _v("dlq.company_id"),
                "event_id": _v("dlq.event_id"),
                "dlq_partition": 0,
                "dlq_offset": 7,
                "status": _v("status"),
                "reason": _v("reason"),
                "original": [_v("topic"), 1, 2],
                "parked_at": seen,
            }
        ],
    }


def _rates() -> list[Rate]:
    return [Rate(1000.0 + 5 * i, dict.fromkeys(COUNTERS, float(i))) for i in range(3)]


def _page_html(summary: dict[str, Any], notice: str | None = None) -> str:
    return bytes(render_page(_request(), summary, _rates(), notice=notice).body).decode()


def _record_html(body: dict[str, Any]) -> str:
    return bytes(render_record(_request(), body, read_only=False).body).decode()


def _record_body() -> dict[str, Any]:
    index = {
        "company_id": _v("index.company_id"),
        "event_id": _v("index.event_id"),
        "status": _v("index.status"),
        "reason": _v("index.reason"),
        "error_code": _v("index.error_code"),
        "parked_at": _v("index.parked_at"),
        "replayed_at": None,
    }
    record = {
        "key": _v("key"),
        "timestamp": 1,
        "headers": [[_v("header.name"), _v("header.value")]],
        "event": {"id": _v("event.id"), "data": {"name": _v("event.name")}},
        "value": None,
    }
    return {"index": index, "record": record}


def test_page_shows_every_hostile_value_as_text() -> None:
    """Company, attention, failed and DLQ values and the notice render as text, never markup."""
    html = _page_html(_summary(), notice=_v("notice"))
    page = read_page(html)

    assert [markup for markup in RAW_MARKUP if markup in html] == []
    assert page.injected == []
    assert [name for name in SHOWN_ON_PAGE if _v(name) not in page.text] == []


def test_page_attributes_hold_hostile_values_whole() -> None:
    """Row markers, action URLs, the setup link and tooltips keep a hostile value in one piece."""
    summary = _summary()
    summary["failed"][0]["error"]["message"] = _v("long message") + " and more" * 20

    page = read_page(_page_html(summary))

    row = page.find("tr", section="companies")[1]  # after the header row
    assert row.attrs["data-company"] == _v("company_id")
    assert page.find("tr", section="failed")[1].attrs["data-event"] == _v("failed.event_id")
    actions = [form.attrs["action"] for form in page.find("form")]
    assert actions == [
        "/v1/dashboard/companies/company_id%3A%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E"
        "%22%3E%3Cscript%3Ealert%281%29%3C%2Fscript%3E/replay",
        "/v1/dashboard/events/failed.event_id%3A%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E"
        "%22%3E%3Cscript%3Ealert%281%29%3C%2Fscript%3E/rerun",
    ]
    links = [a.attrs["href"] for a in page.find("a", section="attention")]
    assert links == ["https://auth.example/setup?next=" + HOSTILE]
    titles = [span.attrs.get("title") for span in page.find("span", section="failed")]
    assert summary["failed"][0]["error"]["message"] in titles


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", " JavaScript:alert(1)", "java\tscript:alert(1)", "data:,x"]
)
def test_setup_link_is_only_ever_a_web_url(url: str) -> None:
    """An auth flow URL that is not http(s) is not made a link."""
    page = read_page(_page_html(_summary(auth_flow_url=url)))

    assert page.find("a", section="attention") == []
    assert page.injected == []


def test_record_page_shows_every_hostile_value_as_text() -> None:
    """A parked record's index row, headers, key and event JSON render as text."""
    html = _record_html(_record_body())
    page = read_page(html)

    assert [markup for markup in RAW_MARKUP if markup in html] == []
    assert page.injected == []
    shown = [
        *(_v(name) for name in SHOWN_ON_RECORD),
        _v("index.error_code"),
        _v("index.parked_at"),
        _v("header.name"),
        _v("header.value"),
        "key " + _v("key"),
        orjson.dumps(_v("event.id")).decode(),
        orjson.dumps(_v("event.name")).decode(),
    ]
    assert [value for value in shown if value not in page.text] == []


@pytest.mark.parametrize(
    ("body", "shown"),
    [
        pytest.param({"error": _v("error")}, _v("error"), id="no-record"),
        pytest.param(
            {**_record_body(), "record": None, "error": _v("error")}, _v("error"), id="gone"
        ),
        pytest.param(
            {
                **_record_body(),
                "record": {
                    **_record_body()["record"],
                    "event": None,
                    "value": _v("value"),
                },
            },
            _v("value"),
            id="not-json",
        ),
    ],
)
def test_record_page_shows_a_hostile_error_or_raw_value_as_text(
    body: dict[str, Any], shown: str
) -> None:
    """The record page's error notice and a record value that is not JSON render as text."""
    html = _record_html(body)
    page = read_page(html)

    assert [markup for markup in RAW_MARKUP if markup in html] == []
    assert page.injected == []
    assert shown in page.text
