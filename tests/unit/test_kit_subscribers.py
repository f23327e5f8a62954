"""The kit's typed subscribers, on FastStream's in-memory TestKafkaBroker."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker
from structlog.testing import capture_logs

from processors.kit import (
    AttentionEvent,
    SyncResultEvent,
    attention_subscriber,
    sync_results_subscriber,
)
from schemas import (
    SOURCE,
    AttentionCategory,
    AttentionData,
    NormalizedErrorData,
    OutboundType,
    SyncResultData,
    SyncStatus,
    make_cloudevent,
)

SEEN = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
OFFLINE = AttentionData(
    code="QBD_CONNECTION_ERROR",
    category=AttentionCategory.CONNECTION,
    user_facing_message="QuickBooks Desktop is not running on the office computer.",
    event_ids=["evt_1"],
    occurrences=3,
    first_seen=SEEN,
    last_seen=SEEN,
)


def _attention(kind: OutboundType, data: Any, company: str = "acct_1") -> bytes:
    return make_cloudevent(kind, SOURCE, company, data, id="att_1", time=SEEN)


async def test_attention_handler_gets_typed_data_and_envelope() -> None:
    """A needed event arrives as AttentionEvent: company, id, type, time and AttentionData."""
    broker = KafkaBroker()
    got: list[AttentionEvent] = []

    @attention_subscriber(broker, group_id="notifier")
    async def on_attention(event: AttentionEvent) -> None:
        got.append(event)

    async with TestKafkaBroker(broker) as test_broker:
        body = _attention(OutboundType.ATTENTION_NEEDED, OFFLINE)
        await test_broker.publish(body, "qbd.needs-attention", key=b"acct_1")

    assert len(got) == 1
    assert got[0].companyid == "acct_1"
    assert got[0].id == "att_1"
    assert got[0].type is OutboundType.ATTENTION_NEEDED
    assert got[0].time == SEEN
    assert got[0].data == OFFLINE


async def test_unknown_type_is_skipped_with_a_log_and_the_next_record_still_arrives() -> None:
    """qbd.company.state_changed (not an attention type) is logged and skipped, not a failure."""
    broker = KafkaBroker()
    got: list[AttentionEvent] = []

    @attention_subscriber(broker, group_id="notifier")
    async def on_attention(event: AttentionEvent) -> None:
        got.append(event)

    state = {"state": "online", "previous_state": "parked", "at": SEEN.isoformat()}
    async with TestKafkaBroker(broker) as test_broker:
        with capture_logs() as logs:
            unknown = _attention("qbd.company.state_changed", state)
            await test_broker.publish(unknown, "qbd.needs-attention", key=b"acct_1")
        known = _attention(OutboundType.ATTENTION_RESOLVED, OFFLINE)
        await test_broker.publish(known, "qbd.needs-attention", key=b"acct_1")

    skipped = [entry for entry in logs if entry["event"].startswith("skipped")]
    assert [(e["type"], e["company_id"]) for e in skipped] == [
        ("qbd.company.state_changed", "acct_1")
    ]
    assert [event.type for event in got] == [OutboundType.ATTENTION_RESOLVED]


async def test_fields_a_newer_qbd_sync_adds_are_ignored() -> None:
    """An attention with an unknown `revision` field and attribute still arrives, parsed."""
    broker = KafkaBroker()
    got: list[AttentionEvent] = []

    @attention_subscriber(broker, group_id="notifier")
    async def on_attention(event: AttentionEvent) -> None:
        got.append(event)

    event = orjson.loads(_attention(OutboundType.ATTENTION_NEEDED, OFFLINE))
    event["data"]["revision"] = 7
    event["qbdrevision"] = "7"
    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(orjson.dumps(event), "qbd.needs-attention", key=b"acct_1")

    assert [e.data.code for e in got] == ["QBD_CONNECTION_ERROR"]


async def test_a_record_that_is_not_a_cloudevent_is_skipped() -> None:
    """Bytes that are not JSON are logged as skipped; the handler never sees them."""
    broker = KafkaBroker()
    got: list[AttentionEvent] = []

    @attention_subscriber(broker, group_id="notifier")
    async def on_attention(event: AttentionEvent) -> None:
        got.append(event)

    async with TestKafkaBroker(broker) as test_broker:
        with capture_logs() as logs:
            await test_broker.publish(b"not json {", "qbd.needs-attention", key=b"acct_1")

    assert got == []
    assert [e["reason"] for e in logs if e["event"].startswith("skipped")] == ["not a CloudEvent"]


async def test_failed_sync_result_arrives_with_its_normalized_error() -> None:
    """qbd.sync.failed arrives as SyncResultEvent with status, app id and the user's message."""
    broker = KafkaBroker()
    got: list[SyncResultEvent] = []

    @sync_results_subscriber(broker, group_id="notifier", topic="results-t")
    async def on_result(event: SyncResultEvent) -> None:
        got.append(event)

    error = NormalizedErrorData(
        type="INTEGRATION_ERROR",
        code="QBD_REQUEST_ERROR",
        message="The name is already in use",
        user_facing_message="A customer named Acme Corporation already exists.",
    )
    result = SyncResultData(
        event_id="evt_7",
        event_type="customer.upserted",
        status=SyncStatus.FAILED,
        app_id="cus_acme",
        attempts=1,
        error=error,
    )
    body = make_cloudevent(OutboundType.SYNC_FAILED, SOURCE, "acct_1", result, id="evt_7:result")
    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(body, "results-t", key=b"acct_1")

    assert [(e.type, e.companyid, e.data) for e in got] == [
        (OutboundType.SYNC_FAILED, "acct_1", result)
    ]


def test_a_subscriber_takes_one_handler() -> None:
    """Registering a second handler on one subscriber is refused with how to do it instead."""
    broker = KafkaBroker()
    register = attention_subscriber(broker, group_id="notifier")

    @register
    async def first(event: AttentionEvent) -> None:
        return None

    async def second(event: AttentionEvent) -> None:
        return None

    with pytest.raises(RuntimeError, match="create another subscriber"):
        register(second)
