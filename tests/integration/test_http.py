"""The HTTP surface on a real uvicorn server: health, readiness, metrics, webhook ingress.

The ingress here produces into an in-memory list; wiring ``produce`` to the Kafka producer
is the engine's job and is tested with the real broker there.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from processors.health import COMPONENTS, Health
from processors.http import HttpServer, build_app
from processors.ingress import SIGNATURE_HEADER, Ingress, signature_headers
from processors.metrics import Metrics
from schemas import EventType, example_event

SECRET = "whsec_test_3f9a0c"
MAX_BODY = 256 * 1024


class Monotonic:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Sink:
    """An in-memory ``produce``: records every batch it is handed."""

    def __init__(self) -> None:
        self.records: list[tuple[bytes, bytes]] = []
        self.failure: Exception | None = None

    async def __call__(self, records: list[tuple[bytes, bytes]]) -> None:
        if self.failure is not None:
            raise self.failure
        self.records.extend(records)


@pytest.fixture
def clock() -> Monotonic:
    return Monotonic()


@pytest.fixture
def health(clock: Monotonic) -> Health:
    return Health(liveness_timeout_s=30, clock=clock)


@pytest.fixture
def metrics(health: Health) -> Metrics:
    return Metrics(health=health, lane_depth_top_n=2)


@pytest.fixture
def sink() -> Sink:
    return Sink()


@pytest.fixture
async def client(health: Health, metrics: Metrics, sink: Sink) -> AsyncIterator[httpx.AsyncClient]:
    ingress = Ingress(SECRET, sink, max_body_bytes=MAX_BODY, metrics=metrics)
    async with (
        HttpServer(build_app(health, metrics, ingress=ingress)) as server,
        httpx.AsyncClient(base_url=server.url) as http,
    ):
        yield http


def _events(count: int) -> list[dict[str, Any]]:
    return [
        example_event(EventType.CUSTOMER_UPSERTED, companyid=f"acct_{n % 7}", id=f"evt_{n:04d}")
        for n in range(count)
    ]


def _signed(body: bytes, **kwargs: Any) -> dict[str, str]:
    return {"content-type": "application/json", **signature_headers(SECRET, body, **kwargs)}


async def _post(http: httpx.AsyncClient, payload: Any, **kwargs: Any) -> httpx.Response:
    body = json.dumps(payload).encode()
    return await http.post("/v1/events", content=body, headers=_signed(body, **kwargs))


async def test_server_listens_on_the_free_port_it_picked(health: Health, metrics: Metrics) -> None:
    """Port 0 picks a free port, exposed as ``.port`` once ``start()`` returns."""
    server = HttpServer(build_app(health, metrics), port=0)
    await server.start()
    try:
        async with httpx.AsyncClient() as http:
            response = await http.get(f"http://127.0.0.1:{server.port}/healthz")
    finally:
        await server.stop()

    assert server.port > 0
    assert response.status_code == 200
    assert not server.running


async def test_healthz_ok_while_heartbeat_is_fresh(client: httpx.AsyncClient) -> None:
    """``/healthz`` answers 200 ``{"status": "ok"}`` while the engine beats."""
    response = await client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_healthz_fails_when_heartbeat_stops(
    client: httpx.AsyncClient, clock: Monotonic
) -> None:
    """``/healthz`` answers 503 once the heartbeat is older than the timeout."""
    clock.now += 31

    response = await client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["status"] == "stalled"


async def test_readyz_not_ready_until_components_report(client: httpx.AsyncClient) -> None:
    """``/readyz`` answers 503 with the snapshot until every component is ok."""
    response = await client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["components"]["broker"]["detail"] == "not checked yet"


async def test_readyz_ready_when_all_components_ok(
    client: httpx.AsyncClient, health: Health
) -> None:
    """``/readyz`` answers 200 once broker, database and Conductor are ok."""
    for name in COMPONENTS:
        health.set_ok(name)

    response = await client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["status"] == "ready"


async def test_readyz_reports_halt_reason(client: httpx.AsyncClient, health: Health) -> None:
    """A halt on a rejected Conductor key makes ``/readyz`` 503 with the reason."""
    for name in COMPONENTS:
        health.set_ok(name)
    health.halted("Conductor rejected our secret key (AUTHENTICATION_ERROR)")

    response = await client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["problems"] == [
        "halted: Conductor rejected our secret key (AUTHENTICATION_ERROR)"
    ]


async def test_metrics_expose_what_happened(client: httpx.AsyncClient, metrics: Metrics) -> None:
    """``/metrics`` shows every DESIGN metric after the intent methods were called."""
    metrics.event_consumed("invoice.created")
    metrics.event_synced("invoice.created")
    metrics.event_failed("bill.created")
    metrics.event_parked("invoice.created")
    metrics.event_replayed("invoice.created")
    metrics.record_rejected("not_json")
    metrics.set_in_flight(7)
    metrics.set_lane_depth("acct_1", 3)
    metrics.observe_conductor("invoices", "create", 0.42, ok=True)
    metrics.set_consumer_lag("qbd.events", 0, 12)
    metrics.set_attention_open(2)
    metrics.offsets_committed()

    text = (await client.get("/metrics")).text

    for line in (
        'qbd_sync_events_consumed_total{event_type="invoice.created"} 1.0',
        'qbd_sync_events_synced_total{event_type="invoice.created"} 1.0',
        'qbd_sync_events_failed_total{event_type="bill.created"} 1.0',
        'qbd_sync_events_parked_total{event_type="invoice.created"} 1.0',
        'qbd_sync_events_replayed_total{event_type="invoice.created"} 1.0',
        'qbd_sync_events_rejected_total{kind="not_json"} 1.0',
        "qbd_sync_in_flight 7.0",
        'qbd_sync_lane_depth{company_id="acct_1"} 3.0',
        'qbd_sync_conductor_request_seconds_count{op="create",outcome="ok",resource="invoices"}',
        'qbd_sync_consumer_lag{partition="0",topic="qbd.events"} 12.0',
        "qbd_sync_attention_open 2.0",
        "qbd_sync_commits_total 1.0",
        "qbd_sync_ready 0.0",
    ):
        assert line in text


async def test_metrics_fold_unknown_event_types(
    client: httpx.AsyncClient, metrics: Metrics
) -> None:
    """An event type qbd-sync does not know is counted as ``other``, bounding cardinality."""
    metrics.event_consumed("attacker.chosen.type.1")

    text = (await client.get("/metrics")).text

    assert 'qbd_sync_events_consumed_total{event_type="other"} 1.0' in text
    assert "attacker" not in text


async def test_metrics_export_only_the_deepest_lanes(
    client: httpx.AsyncClient, metrics: Metrics
) -> None:
    """Lane depth is exported for the top N lanes only; the others are counted."""
    for company, depth in (("acct_a", 1), ("acct_b", 50), ("acct_c", 9)):
        metrics.set_lane_depth(company, depth)

    text = (await client.get("/metrics")).text

    assert 'qbd_sync_lane_depth{company_id="acct_b"} 50.0' in text
    assert 'qbd_sync_lane_depth{company_id="acct_c"} 9.0' in text
    assert "acct_a" not in text
    assert "qbd_sync_lanes_waiting 3.0" in text


async def test_signed_batch_reaches_produce(client: httpx.AsyncClient, sink: Sink) -> None:
    """A signed batch of 100 events gets 202 and becomes 100 records keyed by company."""
    events = _events(100)

    response = await _post(client, events)

    assert response.status_code == 202
    assert response.json() == {"accepted": 100, "ids": [event["id"] for event in events]}
    assert [key for key, _ in sink.records] == [event["companyid"].encode() for event in events]
    assert [json.loads(value) for _, value in sink.records] == events


async def test_single_event_is_accepted(client: httpx.AsyncClient, sink: Sink) -> None:
    """One CloudEvent object (not an array) is accepted as a batch of one."""
    event = example_event(EventType.INVOICE_CREATED)

    response = await _post(client, event)

    assert response.status_code == 202
    assert response.json()["ids"] == [event["id"]]
    assert sink.records == [(b"acct_48291", json.dumps(event, separators=(",", ":")).encode())]


async def test_accepted_only_after_produce_returned(
    health: Health, metrics: Metrics, sink: Sink
) -> None:
    """The 202 is sent only once ``produce`` (the broker ack) has returned."""
    called, release = asyncio.Event(), asyncio.Event()

    async def slow_produce(records: list[tuple[bytes, bytes]]) -> None:
        called.set()
        await release.wait()
        await sink(records)

    app = build_app(health, metrics, ingress=Ingress(SECRET, slow_produce))
    async with HttpServer(app) as server, httpx.AsyncClient(base_url=server.url) as http:
        request = asyncio.create_task(_post(http, _events(3)))
        await called.wait()
        answered_before_ack = request.done()
        release.set()
        response = await request

    assert not answered_before_ack
    assert response.status_code == 202
    assert len(sink.records) == 3


async def test_bad_signature_is_refused(client: httpx.AsyncClient, sink: Sink) -> None:
    """A signature made with another secret is answered 401 and nothing is produced."""
    body = json.dumps(_events(1)).encode()
    headers = {
        **_signed(body),
        SIGNATURE_HEADER: signature_headers("wrong", body)[SIGNATURE_HEADER],
    }

    response = await client.post("/v1/events", content=body, headers=headers)

    assert response.status_code == 401
    assert "does not match" in response.json()["error"]
    assert sink.records == []


async def test_tampered_body_is_refused(client: httpx.AsyncClient, sink: Sink) -> None:
    """A body changed after signing no longer matches its signature."""
    body = json.dumps(_events(1)).encode()
    headers = _signed(body)

    response = await client.post(
        "/v1/events", content=body.replace(b"Jane", b"John"), headers=headers
    )

    assert response.status_code == 401
    assert sink.records == []


async def test_missing_timestamp_is_refused(client: httpx.AsyncClient) -> None:
    """The timestamp header is mandatory, and the error says how to sign."""
    body = json.dumps(_events(1)).encode()
    headers = {SIGNATURE_HEADER: signature_headers(SECRET, body)[SIGNATURE_HEADER]}

    response = await client.post("/v1/events", content=body, headers=headers)

    assert response.status_code == 401
    assert "missing X-QBD-Sync-Timestamp" in response.json()["error"]


async def test_old_timestamp_is_refused(client: httpx.AsyncClient, sink: Sink) -> None:
    """A correctly signed request from 10 minutes ago is refused as a possible replay."""
    response = await _post(client, _events(1), timestamp=int(time.time()) - 600)

    assert response.status_code == 401
    assert "s old" in response.json()["error"]
    assert "replays" in response.json()["error"]
    assert sink.records == []


async def test_oversized_body_is_refused_by_content_length(
    client: httpx.AsyncClient, sink: Sink
) -> None:
    """A body whose Content-Length is over the limit is answered 413 without reading it."""
    body = b"[" + b" " * MAX_BODY + b"]"

    response = await client.post("/v1/events", content=body, headers=_signed(body))

    assert response.status_code == 413
    assert f"limit of {MAX_BODY} bytes" in response.json()["error"]
    assert sink.records == []


async def test_oversized_chunked_body_is_refused_while_reading(
    client: httpx.AsyncClient, sink: Sink
) -> None:
    """A chunked body with no Content-Length is cut off once it passes the limit."""

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(8):
            yield b" " * (MAX_BODY // 4)

    response = await client.post("/v1/events", content=chunks(), headers=_signed(b""))

    assert response.status_code == 413
    assert sink.records == []


async def test_invalid_event_refuses_the_batch_listing_the_problem(
    client: httpx.AsyncClient, sink: Sink
) -> None:
    """One invalid event refuses the whole batch with 400, naming the event and the field."""
    events = _events(3)
    del events[1]["data"]["name"]

    response = await _post(client, events)

    body = response.json()
    assert response.status_code == 400
    assert body["error"] == "1 of 3 events are invalid; none was accepted"
    assert [(e["index"], e["id"], e["kind"]) for e in body["errors"]] == [
        (1, "evt_0001", "invalid_data")
    ]
    assert "data.name" in body["errors"][0]["reason"]
    assert sink.records == []


async def test_body_that_is_not_json_is_refused(client: httpx.AsyncClient) -> None:
    """A signed body that is not JSON is answered 400."""
    body = b"not json"

    response = await client.post("/v1/events", content=body, headers=_signed(body))

    assert response.status_code == 400
    assert response.json()["error"].startswith("body is not JSON")


async def test_broker_failure_answers_503(client: httpx.AsyncClient, sink: Sink) -> None:
    """When ``produce`` fails the sender gets 503 with Retry-After, to resend later."""
    sink.failure = ConnectionError("broker down")

    response = await _post(client, _events(2))

    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert "retry later" in response.json()["error"]


async def test_ingress_outcomes_are_counted(client: httpx.AsyncClient) -> None:
    """Accepted and refused webhook requests show in ``/metrics`` by outcome."""
    await _post(client, _events(4))
    await _post(client, _events(1), timestamp=int(time.time()) - 600)

    text = (await client.get("/metrics")).text

    assert 'qbd_sync_ingress_requests_total{outcome="accepted"} 1.0' in text
    assert 'qbd_sync_ingress_requests_total{outcome="stale"} 1.0' in text
    assert "qbd_sync_ingress_events_total 4.0" in text


async def test_ingress_disabled_answers_404(health: Health, metrics: Metrics) -> None:
    """Without a webhook secret ``POST /v1/events`` says ingress is disabled and why."""
    async with (
        HttpServer(build_app(health, metrics)) as server,
        httpx.AsyncClient(base_url=server.url) as http,
    ):
        response = await _post(http, _events(1))

    assert response.status_code == 404
    assert "QBD_SYNC_WEBHOOK_SECRET is unset" in response.json()["error"]
