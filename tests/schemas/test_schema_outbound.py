"""Outbound events: the data models and the one CloudEvent builder publishers share."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest
from pydantic import ValidationError

from schemas import (
    AttentionCategory,
    AttentionData,
    EventType,
    NormalizedErrorData,
    OutboundType,
    SyncResultData,
    SyncStatus,
    make_cloudevent,
)

_WHEN = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def _failed_result() -> SyncResultData:
    error = NormalizedErrorData(
        type="INTEGRATION_ERROR",
        code="QBD_REQUEST_ERROR",
        message='QBD Request Error (3100): The name "Jane Doe" is already in use.',
        user_facing_message="A customer with that name already exists in QuickBooks.",
        http_status=502,
        integration_code="3100",
        request_id="req_1",
    )
    return SyncResultData(
        event_id="evt_1",
        event_type=EventType.CUSTOMER_UPSERTED,
        status=SyncStatus.FAILED,
        app_id="cus_1",
        attempts=1,
        error=error,
    )


def test_make_cloudevent_writes_a_structured_cloudevent() -> None:
    """The builder emits every CloudEvents attribute and the data as JSON."""
    raw = make_cloudevent(
        OutboundType.SYNC_FAILED, "qbd-sync", "acct_1", _failed_result(), id="r1", time=_WHEN
    )

    event = orjson.loads(raw)

    assert event["specversion"] == "1.0"
    assert (event["id"], event["type"], event["companyid"]) == ("r1", "qbd.sync.failed", "acct_1")
    assert event["time"] == "2026-11-24T10:00:00Z"
    assert event["data"]["error"]["integration_code"] == "3100"


def test_make_cloudevent_keeps_absent_fields_as_null() -> None:
    """Consumers see every data key, with null where there is no value."""
    event = orjson.loads(make_cloudevent("qbd.sync.failed", "qbd-sync", "c", _failed_result()))

    assert event["data"]["qbd_id"] is None


def test_make_cloudevent_generates_an_id_and_time_when_not_given() -> None:
    """Without `id` and `time` the builder fills in a fresh id and the current time."""
    first = orjson.loads(make_cloudevent("qbd.sync.failed", "qbd-sync", "c", {}))
    second = orjson.loads(make_cloudevent("qbd.sync.failed", "qbd-sync", "c", {}))

    assert first["id"] != second["id"]
    assert first["time"].endswith("Z")


def test_make_cloudevent_propagates_traceparent() -> None:
    """A `traceparent` given to the builder is set as the CloudEvents extension."""
    parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

    event = orjson.loads(make_cloudevent("t", "s", "c", None, traceparent=parent))

    assert event["traceparent"] == parent


def test_make_cloudevent_refuses_naive_time() -> None:
    """A naive `time` is a programming error, not a silently wrong timestamp."""
    with pytest.raises(ValueError, match="timezone-aware"):
        make_cloudevent("t", "s", "c", None, time=datetime(2026, 1, 1))  # noqa: DTZ001


def test_sync_result_status_is_final_only() -> None:
    """Sync results are only ever `synced` or `failed`."""
    with pytest.raises(ValidationError):
        SyncResultData(event_id="e", event_type="x", status=SyncStatus.PARKED, attempts=1)


def test_attention_data_serializes_category_and_times() -> None:
    """Attention data carries its category as a string and times as RFC 3339."""
    attention = AttentionData(
        code="QBD_CONNECTION_ERROR",
        category=AttentionCategory.CONNECTION,
        user_facing_message="Open QuickBooks Desktop on your computer.",
        event_ids=["evt_1"],
        occurrences=3,
        first_seen=_WHEN,
        last_seen=_WHEN,
    )

    data = orjson.loads(make_cloudevent("qbd.attention.needed", "qbd-sync", "c", attention))["data"]

    assert data["category"] == "connection"
    assert data["first_seen"] == "2026-11-24T10:00:00Z"
