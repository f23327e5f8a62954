"""Webhook ingress wired into the running service: signed batches reach Kafka and get synced."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
from cloudevents.core.bindings import http as ce_http
from cloudevents.core.v1.event import CloudEvent
from conductor import Conductor

from processors.config import Settings
from processors.devstack import DEV_SECRET_KEY
from processors.ingress import signature_headers
from processors.testing import (
    RunningService,
    TestStack,
    TopicReader,
    create_topics,
    pipeline_settings,
    unique_name,
)
from schemas import EventType, example_event

SECRET = "whsec_webhook_test_6d1e"


def _connected_company(stack: TestStack) -> str:
    """A company whose Conductor end-user exists and is online."""
    company = unique_name("acct")
    client = Conductor(api_key=DEV_SECRET_KEY, base_url=stack.simulator.base_url, max_retries=0)
    end_user = client.end_users.create(
        company_name=company, email="ops@example.com", source_id=company
    )
    stack.simulator.connect(end_user.id)
    return company


def _customer(company: str, n: int) -> dict[str, Any]:
    event = example_event(EventType.CUSTOMER_UPSERTED, companyid=company, id=unique_name("evt"))
    event["data"].update(customer_id=f"cus_{n}", name=f"Customer {n:03d}", company_name=None)
    return event


@pytest.fixture(scope="module")
async def service(stack: TestStack) -> AsyncIterator[tuple[Settings, httpx.AsyncClient]]:
    """One processor with the webhook secret set, and an HTTP client for its port."""
    settings = pipeline_settings(stack, webhook_secret=SECRET, max_concurrent_companies=8)
    await create_topics(settings, 4)
    async with (
        RunningService(settings) as running,
        httpx.AsyncClient(base_url=running.http.url, timeout=60) as client,
    ):
        yield settings, client


async def test_signed_batch_of_100_events_is_accepted_and_synced(
    stack: TestStack, service: tuple[Settings, httpx.AsyncClient]
) -> None:
    """A signed batch of 100 events answers 202 and every event ends as qbd.sync.succeeded."""
    settings, client = service
    companies = [_connected_company(stack) for _ in range(4)]
    events = [_customer(companies[n % 4], n) for n in range(100)]
    body = orjson.dumps(events)
    reader = TopicReader(settings, settings.sync_results_topic)
    try:
        response = await client.post(
            "/v1/events", content=body, headers=signature_headers(SECRET, body)
        )
        results = await reader.wait_for(lambda found: len(found) >= 100, timeout=90)
    finally:
        await reader.close()

    assert response.status_code == 202, response.text
    assert response.json() == {"accepted": 100, "ids": [event["id"] for event in events]}
    assert {r["data"]["event_id"] for r in results} == {event["id"] for event in events}
    assert {r["type"] for r in results} == {"qbd.sync.succeeded"}


async def test_signed_binary_mode_event_is_synced(
    stack: TestStack, service: tuple[Settings, httpx.AsyncClient]
) -> None:
    """A CloudEvents SDK binary-mode request is accepted and ends as qbd.sync.succeeded."""
    settings, client = service
    event = _customer(_connected_company(stack), 500)
    attributes = {k: v for k, v in event.items() if k not in {"data", "time"}}
    message = ce_http.to_binary_event(CloudEvent(attributes, event["data"]))
    reader = TopicReader(settings, settings.sync_results_topic)
    try:
        response = await client.post(
            "/v1/events",
            content=message.body,
            headers=dict(message.headers)
            | signature_headers(SECRET, message.body, headers=dict(message.headers)),
        )
        results = await reader.wait_for(
            lambda found: any(r["data"]["event_id"] == event["id"] for r in found), timeout=90
        )
    finally:
        await reader.close()

    assert response.status_code == 202, response.text
    [result] = [r for r in results if r["data"]["event_id"] == event["id"]]
    assert (result["type"], result["data"]["app_id"]) == ("qbd.sync.succeeded", "cus_500")


async def test_bad_signature_is_refused(service: tuple[Settings, httpx.AsyncClient]) -> None:
    """A body signed with another secret answers 401 saying the signature does not match."""
    _settings, client = service
    body = orjson.dumps(_customer("acct_x", 1))

    response = await client.post(
        "/v1/events", content=body, headers=signature_headers("not-the-secret", body)
    )

    assert response.status_code == 401
    assert "does not match the body" in response.json()["error"]


async def test_old_timestamp_is_refused(service: tuple[Settings, httpx.AsyncClient]) -> None:
    """A correctly signed request from ten minutes ago answers 401 as a possible replay."""
    _settings, client = service
    body = orjson.dumps(_customer("acct_x", 1))
    headers = signature_headers(SECRET, body, timestamp=int(time.time()) - 600)

    response = await client.post("/v1/events", content=body, headers=headers)

    assert response.status_code == 401
    error = response.json()["error"]
    assert "s old" in error
    assert "possible replays" in error


async def test_oversized_body_is_refused(service: tuple[Settings, httpx.AsyncClient]) -> None:
    """A body over the 5 MiB limit answers 413 telling the sender to send smaller batches."""
    _settings, client = service
    body = b"[" + b" " * (5 * 1_048_576) + b"]"

    response = await client.post(
        "/v1/events", content=body, headers=signature_headers(SECRET, body)
    )

    assert response.status_code == 413
    assert "send smaller batches" in response.json()["error"]
