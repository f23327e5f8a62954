"""No stall (issue 14, CONTRACT section 6 guarantee 5): Conductor's "no" ends the event.

Real broker, real PostgreSQL, the simulator over HTTP with deterministic error injection
(``POST /_sim/faults {"inject": ...}``). Every wait has a deadline.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import pytest

from processors.config import Settings
from processors.testing import (
    RunningService,
    TestStack,
    TopicReader,
    async_wait_for,
    committed_positions,
    produce,
    set_testing,
    unique_name,
)
from schemas import EventType, example_event
from tests.integration.companies import Company, connected, customer

SUCCEEDED = "qbd.sync.succeeded"


def about(events: list[dict[str, Any]], company: str, kind: str) -> list[dict[str, Any]]:
    """Outbound events of CloudEvent type ``kind`` for ``company``."""
    return [e for e in events if e.get("companyid") == company and e["type"] == kind]


async def test_connect_without_email_fails_with_the_reason_and_the_lane_moves_on(
    settings: Settings,
    db: asyncpg.Pool,
    results: TopicReader,
    attention: TopicReader,
) -> None:
    """company.connect_requested without email ends failed, one data attention, lane goes on."""
    company = unique_name("acct")
    connect = example_event(
        EventType.COMPANY_CONNECT_REQUESTED, companyid=company, id=unique_name("evt-connect")
    )
    del connect["data"]["email"]
    behind = customer(company)
    async with RunningService(settings):
        ends = await produce(settings, [connect, behind])
        found = await results.wait_for(lambda e: bool(about(e, company, "qbd.sync.failed")))

        async def parked_behind() -> bool:
            status = await db.fetchval(
                "SELECT status FROM ledger WHERE event_id = $1", behind["id"]
            )
            return bool(status == "parked")

        await async_wait_for(parked_behind, what="the next event of the company to run")

        async def committed() -> bool:
            positions = await committed_positions(settings)
            return all(positions.get(p) == end for p, end in ends.items())

        await async_wait_for(committed, what="the partition's commits to move on")
    await attention.drain()
    needed = about(attention.events(), company, "qbd.attention.needed")

    failed = about(found, company, "qbd.sync.failed")
    assert len(failed) == 1
    assert failed[0]["data"]["event_id"] == connect["id"]
    assert failed[0]["data"]["error"]["code"] == "EMAIL_REQUIRED"
    assert "email" in failed[0]["data"]["error"]["user_facing_message"]
    assert [e["data"]["code"] for e in needed if e["data"]["category"] == "data"] == [
        "EMAIL_REQUIRED"
    ]


@dataclass(frozen=True)
class Answer:
    """One error Conductor answers with, where it hits, and where the event must end."""

    status: int
    type: str
    code: str
    integration_code: str | None = None
    writes_only: bool = True
    ends: str = "failed"  # the ledger status: failed, or parked (a visible named wait)


# A representative sample of what the simulator produces (qbdsim.ERROR_CATALOG) and can be
# made to answer: every class, on the write and on the health check before it. The pure
# policy is checked against every combination in tests/unit/test_outcome.py.
SAMPLE = {
    "missing parameter on the write": Answer(400, "INVALID_REQUEST_ERROR", "INVALID_REQUEST"),
    "missing parameter on the health check": Answer(
        400, "INVALID_REQUEST_ERROR", "MISSING_REQUIRED_PARAMETER", writes_only=False
    ),
    "resource missing": Answer(404, "INVALID_REQUEST_ERROR", "RESOURCE_MISSING"),
    "an unknown 4xx typed internal": Answer(422, "INTERNAL_ERROR", "UNPROCESSABLE"),
    "quickbooks rejects the data": Answer(502, "INTEGRATION_ERROR", "QBD_REQUEST_ERROR", "3100"),
    "a stale revision on a create": Answer(502, "INTEGRATION_ERROR", "QBD_REQUEST_ERROR", "3200"),
    "quickbooks unreachable": Answer(
        502, "INTEGRATION_CONNECTION_ERROR", "QBD_CONNECTION_ERROR", "0x80040408", ends="parked"
    ),
    "connection not set up": Answer(
        409,
        "INTEGRATION_CONNECTION_ERROR",
        "INTEGRATION_CONNECTION_NOT_SET_UP",
        writes_only=False,
        ends="parked",
    ),
    "internal error for ever": Answer(
        500, "INTERNAL_ERROR", "INTERNAL_SERVER_ERROR", ends="parked"
    ),
    "rate limited for ever": Answer(
        429, "INVALID_REQUEST_ERROR", "TOO_MANY_REQUESTS", ends="parked"
    ),
}


async def test_every_sampled_answer_ends_or_waits_visibly(
    stack: TestStack, settings: Settings, db: asyncpg.Pool, faults: Any, results: TopicReader
) -> None:
    """Each sampled Conductor error, answered for ever, ends its event failed or parked."""
    companies = {case: connected(stack) for case in SAMPLE}
    for case, answer in SAMPLE.items():
        faults.inject(
            status=answer.status,
            type=answer.type,
            code=answer.code,
            integration_code=answer.integration_code,
            count=1000,
            end_user_id=companies[case].end_user,
            writes_only=answer.writes_only,
        )
    events = {case: customer(company.id) for case, company in companies.items()}
    async with RunningService(settings):
        await produce(settings, list(events.values()))

        async def all_ended() -> dict[str, str] | None:
            rows = await db.fetch(
                "SELECT event_id, status FROM ledger WHERE event_id = ANY($1::text[])",
                [e["id"] for e in events.values()],
            )
            statuses = {row["event_id"]: row["status"] for row in rows}
            ended = {case: statuses.get(e["id"], "") for case, e in events.items()}
            return ended if all(s in ("failed", "parked") for s in ended.values()) else None

        ended = await async_wait_for(all_ended, timeout=60, what="every event to end")
        failed = await results.wait_for(
            lambda found: (
                len([e for e in found if e["type"] == "qbd.sync.failed"])
                >= sum(a.ends == "failed" for a in SAMPLE.values())
            )
        )

    assert ended == {case: answer.ends for case, answer in SAMPLE.items()}
    codes = {e["data"]["event_id"]: e["data"]["error"]["code"] for e in failed}
    for case, answer in SAMPLE.items():
        if answer.ends == "failed":
            assert codes[events[case]["id"]] == answer.code, case


@pytest.fixture
def real_waits() -> Iterator[None]:
    """Backoff waits as production waits them (the suite shortens them; see tests/conftest)."""
    set_testing(False)
    yield
    set_testing(True)


@pytest.mark.usefixtures("real_waits")
async def test_a_rate_limited_company_waits_out_its_retry_after_alone(
    stack: TestStack, settings: Settings, faults: Any, results: TopicReader
) -> None:
    """A 429 with Retry-After holds only its own company: the others sync meanwhile, and the
    write is tried again no sooner than Conductor asked (issue 16)."""
    limited, other = connected(stack), connected(stack)
    wait_s = 3.0
    faults.inject(
        status=429,
        type="INVALID_REQUEST_ERROR",
        code="TOO_MANY_REQUESTS",
        count=1,
        end_user_id=limited.end_user,
        writes_only=True,
        retry_after_s=wait_s,
    )
    held = customer(limited.id)
    others = [customer(other.id, n) for n in range(5)]
    async with RunningService(settings):
        await produce(settings, [held, *others])
        await results.wait_for(lambda seen: len(about(seen, limited.id, SUCCEEDED)) == 1)
        await results.wait_for(lambda seen: len(about(seen, other.id, SUCCEEDED)) == 5)

    log = stack.simulator.log()
    limited_writes = customer_creates(log, limited)
    refused = next(e for e in limited_writes if e["status"] == 429)
    retried = next(e for e in limited_writes if e["status"] < 300)
    other_writes = customer_creates(log, other)
    assert len(other_writes) == 5
    # The other company's writes all ran while the limited one waited ...
    assert all(e["finished_at"] <= retried["started_at"] for e in other_writes)
    # ... and the limited company was tried again no sooner than Conductor asked.
    waited = datetime.fromisoformat(retried["started_at"]) - datetime.fromisoformat(
        refused["finished_at"]
    )
    assert waited.total_seconds() >= wait_s * 0.95


def customer_creates(log: list[dict[str, Any]], company: Company) -> list[dict[str, Any]]:
    """The simulator's log of ``company``'s customer creates, in order."""
    return [
        e
        for e in log
        if e["end_user_id"] == company.end_user
        and e["method"] == "POST"
        and e["path"] == "/v1/quickbooks-desktop/customers"
    ]
