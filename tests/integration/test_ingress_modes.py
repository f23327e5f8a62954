"""Webhook ingress in both CloudEvents HTTP content modes, sent with the official SDK.

A real uvicorn server and a real HTTP client; ``produce`` writes into a list, as in
test_http.py (the Kafka side of ingress is covered by test_webhook.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import httpx
import orjson
import pytest
from cloudevents.core.bindings import http as core_http
from cloudevents.core.v1.event import CloudEvent as CoreEvent
from cloudevents.v1 import conversion as v1_conversion
from cloudevents.v1.http import CloudEvent as V1Event

from processors.health import Health
from processors.http import HttpServer, build_app
from processors.ingress import Ingress, signature_headers
from processors.intake import Accepted, decode
from processors.metrics import Metrics
from schemas import EventType, example_event

SECRET = "whsec_modes_5b2e"


class Sink:
    """An in-memory ``produce``: keeps every record it is handed."""

    def __init__(self) -> None:
        self.records: list[tuple[bytes, bytes]] = []

    async def __call__(self, records: list[tuple[bytes, bytes]]) -> None:
        self.records.extend(records)


@pytest.fixture
def sink() -> Sink:
    return Sink()


@pytest.fixture
async def client(sink: Sink) -> AsyncIterator[httpx.AsyncClient]:
    health = Health(liveness_timeout_s=30)
    app = build_app(health, Metrics(health=health), ingress=Ingress(SECRET, sink))
    async with HttpServer(app) as server, httpx.AsyncClient(base_url=server.url) as http:
        yield http


def _attributes(event: dict[str, Any], **extra: Any) -> dict[str, Any]:
    names = ("specversion", "id", "type", "source", "time", "companyid")
    return {name: event[name] for name in names if name in event} | extra


def _core_binary(event: dict[str, Any], **extra: Any) -> tuple[dict[str, str], bytes]:
    attributes = _attributes(event, **extra)
    attributes["time"] = datetime.fromisoformat(attributes["time"])
    message = core_http.to_binary_event(CoreEvent(attributes, event.get("data")))
    return dict(message.headers), message.body


def _classic_binary(event: dict[str, Any], **extra: Any) -> tuple[dict[str, str], bytes]:
    attributes = _attributes(event, datacontenttype="application/json", **extra)
    headers, body = v1_conversion.to_binary(V1Event(attributes, event.get("data")))
    return dict(headers), body


_SENDERS = {"core": _core_binary, "classic": _classic_binary}


async def _post(client: httpx.AsyncClient, headers: dict[str, str], body: bytes) -> httpx.Response:
    return await client.post(
        "/v1/events",
        content=body,
        headers=headers | signature_headers(SECRET, body, headers=headers),
    )


@pytest.mark.parametrize("sender", list(_SENDERS))
async def test_binary_event_is_accepted_and_produced_structured(
    client: httpx.AsyncClient, sink: Sink, sender: str
) -> None:
    """An SDK binary-mode request answers 202 and reaches the topic as a structured event."""
    event = example_event(EventType.INVOICE_CREATED)
    headers, body = _SENDERS[sender](event)

    response = await _post(client, headers, body)

    assert response.status_code == 202, response.text
    assert response.json() == {"accepted": 1, "ids": ["evt_9f1c2a"]}
    [(key, value)] = sink.records
    produced = orjson.loads(value)
    assert key == b"acct_48291"
    assert (produced["id"], produced["type"], produced["data"]) == (
        "evt_9f1c2a",
        "invoice.created",
        event["data"],
    )


async def test_produced_record_decodes_like_the_event_sent(
    client: httpx.AsyncClient, sink: Sink
) -> None:
    """The record ingress produces from a binary request decodes to the same event."""
    event = example_event(EventType.PAYMENT_RECEIVED)
    headers, body = _core_binary(event, subject="payment for INV-5001")

    await _post(client, headers, body)

    [(key, value)] = sink.records
    decoded = decode(value, key)
    expected = decode(orjson.dumps(event | {"subject": "payment for INV-5001"}), key)
    assert isinstance(decoded, Accepted)
    assert isinstance(expected, Accepted)
    assert decoded.event.data == expected.event.data
    assert decoded.event.envelope.subject == "payment for INV-5001"
    assert decoded.event.time == expected.event.time


async def test_percent_encoded_attribute_is_decoded(client: httpx.AsyncClient, sink: Sink) -> None:
    """Header values are percent-decoded, so non-ASCII attributes arrive intact."""
    headers, body = _core_binary(example_event(EventType.SYNC_REQUESTED), source="café/billing")

    response = await _post(client, headers, body)

    assert response.status_code == 202, response.text
    assert headers["ce-source"] == "caf%C3%A9/billing"
    assert orjson.loads(sink.records[0][1])["source"] == "café/billing"


async def test_binary_event_without_data_is_accepted(client: httpx.AsyncClient, sink: Sink) -> None:
    """A binary `sync.requested` with an empty body is an event without data."""
    headers, _ = _core_binary(example_event(EventType.SYNC_REQUESTED))

    response = await _post(client, headers, b"")

    assert response.status_code == 202, response.text
    assert len(sink.records) == 1


async def test_invalid_binary_event_is_refused_like_a_structured_one(
    client: httpx.AsyncClient, sink: Sink
) -> None:
    """A binary request without ce-companyid answers 400 with the structured-mode reason."""
    event = example_event(EventType.INVOICE_CREATED)
    headers, body = _core_binary(event)
    del headers["ce-companyid"]
    structured = {k: v for k, v in event.items() if k != "companyid"}

    response = await _post(client, headers, body)
    expected = decode(orjson.dumps(structured), None)

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"index": 0, "id": "evt_9f1c2a", "kind": expected.kind, "reason": expected.reason}  # type: ignore[union-attr]
    ]
    assert sink.records == []


async def test_binary_data_that_is_not_json_is_refused(
    client: httpx.AsyncClient, sink: Sink
) -> None:
    """A binary body that is not JSON answers 400 saying so."""
    headers, _ = _core_binary(example_event(EventType.INVOICE_CREATED))

    response = await _post(client, headers, b"<invoice/>")

    assert response.status_code == 400
    assert response.json()["errors"][0]["kind"] == "not_json"


async def test_binary_body_is_what_the_signature_covers(
    client: httpx.AsyncClient, sink: Sink
) -> None:
    """A binary request whose body changed after signing answers 401."""
    headers, body = _core_binary(example_event(EventType.INVOICE_CREATED))
    signed = signature_headers(SECRET, body, headers=headers)

    response = await client.post(
        "/v1/events", content=body.replace(b"125.00", b"999.00"), headers=headers | signed
    )

    assert response.status_code == 401
    assert sink.records == []


async def test_binary_attributes_are_what_the_signature_covers_too(
    client: httpx.AsyncClient, sink: Sink
) -> None:
    """A signed binary request re-aimed at another company (ce-companyid changed) answers 401."""
    headers, body = _core_binary(example_event(EventType.INVOICE_CREATED))
    signed = signature_headers(SECRET, body, headers=headers)
    retargeted = {**headers, "ce-companyid": "acct_someone_else"}

    response = await client.post("/v1/events", content=body, headers=retargeted | signed)
    genuine = await client.post("/v1/events", content=body, headers=headers | signed)

    assert response.status_code == 401
    assert genuine.status_code == 202
    assert len(sink.records) == 1


async def test_sdk_structured_request_is_accepted(client: httpx.AsyncClient, sink: Sink) -> None:
    """An SDK structured-mode request (application/cloudevents+json) is accepted as before."""
    attributes = _attributes(example_event(EventType.SYNC_REQUESTED))
    attributes["time"] = datetime.fromisoformat(attributes["time"])
    message = core_http.to_structured_event(CoreEvent(attributes, {}))

    response = await _post(client, dict(message.headers), message.body)

    assert response.status_code == 202, response.text
    assert orjson.loads(sink.records[0][1])["id"] == "evt_9f1c2a"
