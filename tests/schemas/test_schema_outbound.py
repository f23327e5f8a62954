"""Outbound events: the data models and the one CloudEvent builder publishers share."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson
import pytest
from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.v1 import http as ce_http
from pydantic import BaseModel, ValidationError

from schemas import (
    OUTBOUND_DATA_MODELS,
    AttentionCategory,
    AttentionData,
    CompanyConnectionState,
    CompanyStateData,
    EventType,
    InvoiceStatusData,
    NormalizedErrorData,
    OutboundType,
    ReferenceData,
    ReferenceList,
    SyncAction,
    SyncResultData,
    SyncStatus,
    make_cloudevent,
    parse_event,
    result_event_id,
    sync_requested,
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


def _attention(**changes: Any) -> AttentionData:
    fields: dict[str, Any] = {
        "code": "QBD_CONNECTION_ERROR",
        "category": AttentionCategory.CONNECTION,
        "user_facing_message": "Open QuickBooks Desktop on your computer.",
        "first_seen": _WHEN,
        "last_seen": _WHEN,
    }
    return AttentionData(**(fields | changes))


def _synced(**changes: Any) -> SyncResultData:
    fields: dict[str, Any] = {
        "event_id": "evt_1",
        "event_type": EventType.INVOICE_UPDATED,
        "status": SyncStatus.SYNCED,
        "app_id": "inv_1",
        "qbd_object_type": "qbd_invoice",
        "qbd_id": "123ABC-1234567890",
        "attempts": 1,
    }
    return SyncResultData(**(fields | changes))


def _data(event: bytes) -> Any:
    return orjson.loads(event)["data"]


def test_sync_result_says_what_it_did_in_quickbooks() -> None:
    """A result carries its action (`updated` here) as a string."""
    data = _data(make_cloudevent("qbd.sync.succeeded", "qbd-sync", "c", _synced(action="updated")))

    assert data["action"] == "updated"


def test_failed_result_has_no_action() -> None:
    """`action` is null when nothing happened in QuickBooks (a failure)."""
    data = _data(make_cloudevent("qbd.sync.failed", "qbd-sync", "c", _failed_result()))

    assert data["action"] is None


def test_sync_actions_are_the_contracts_six() -> None:
    """The actions are exactly those CONTRACT.md 4a lists."""
    assert {str(a) for a in SyncAction} == {
        "created",
        "updated",
        "voided",
        "deleted",
        "linked",
        "unchanged",
    }


def test_unknown_action_is_refused() -> None:
    """An action outside the contract is our bug, refused when the result is built."""
    with pytest.raises(ValidationError):
        _synced(action="archived")


def test_attention_revision_starts_at_one() -> None:
    """An attention published for the first time is revision 1."""
    assert (
        _data(make_cloudevent("qbd.attention.needed", "qbd-sync", "c", _attention()))["revision"]
        == 1
    )


def test_attention_revision_is_never_below_one() -> None:
    """A revision of 0 is refused."""
    with pytest.raises(ValidationError):
        _attention(revision=0)


def test_invoice_status_balance_is_a_plain_decimal_string() -> None:
    """`balance_remaining` is published as a decimal string, never exponent notation."""
    status = InvoiceStatusData(
        invoice_id="inv_1",
        qbd_id="123ABC-1234567890",
        balance_remaining=Decimal("1E+2"),
        is_paid=False,
        revision_number="1721172183",
    )

    data = _data(make_cloudevent(OutboundType.STATUS_INVOICE, "qbd-sync", "c", status))

    assert data == {
        "invoice_id": "inv_1",
        "qbd_id": "123ABC-1234567890",
        "balance_remaining": "100",
        "is_paid": False,
        "revision_number": "1721172183",
        "deleted": False,
    }


def test_deleted_invoice_status_carries_no_balance() -> None:
    """An invoice deleted in QuickBooks is published with `deleted` and a null balance."""
    status = InvoiceStatusData(invoice_id="i", qbd_id="q", is_paid=False, deleted=True)

    data = _data(make_cloudevent(OutboundType.STATUS_INVOICE, "qbd-sync", "c", status))

    assert (data["deleted"], data["balance_remaining"]) == (True, None)


def test_company_state_change_serializes_states_and_time() -> None:
    """A state change carries both states as strings and an RFC 3339 time."""
    change = CompanyStateData(
        state=CompanyConnectionState.ONLINE,
        previous_state=CompanyConnectionState.REPLAYING,
        user_facing_message="QuickBooks Desktop is connected.",
        at=_WHEN,
    )

    data = _data(make_cloudevent(OutboundType.COMPANY_STATE_CHANGED, "qbd-sync", "c", change))

    assert (data["state"], data["previous_state"]) == ("online", "replaying")
    assert data["at"] == "2026-11-24T10:00:00Z"


def test_company_state_change_refuses_a_naive_time() -> None:
    """`at` must carry a UTC offset."""
    with pytest.raises(ValidationError):
        CompanyStateData(state="online", previous_state="parked", at=datetime(2026, 1, 1))  # noqa: DTZ001


def test_company_connection_states_match_the_contract() -> None:
    """The wire states are unknown plus the four CONTRACT.md 5 names."""
    assert [str(s) for s in CompanyConnectionState] == [
        "unknown",
        "setup_pending",
        "online",
        "parked",
        "replaying",
    ]


def test_result_event_id_is_the_same_for_the_same_inbound_event() -> None:
    """Publishing a result twice gives it the same CloudEvent id; other events differ."""
    assert result_event_id("evt_1") == result_event_id("evt_1")
    assert result_event_id("evt_1") != result_event_id("evt_2")
    assert result_event_id("evt_1") != "evt_1"


def test_sync_requested_is_a_valid_inbound_event() -> None:
    """The shared `sync.requested` builder writes an event intake accepts."""
    event = parse_event(orjson.loads(sync_requested("acct_1", "qbd-sync-cli")))

    assert (event.type, event.companyid, event.envelope.source) == (
        EventType.SYNC_REQUESTED,
        "acct_1",
        "qbd-sync-cli",
    )


def test_sync_requested_gets_a_fresh_id_each_time() -> None:
    """Two requests are two events (the id is the idempotency key)."""
    first = orjson.loads(sync_requested("acct_1", "s"))["id"]

    assert first != orjson.loads(sync_requested("acct_1", "s"))["id"]


_SAMPLES: dict[type[BaseModel], BaseModel] = {
    SyncResultData: _failed_result(),
    AttentionData: _attention(revision=2, occurrences=5, event_ids=["evt_1"]),
    ReferenceData: ReferenceData(
        kind=ReferenceList.SALES_TAX_CODES,
        qbd_id="80000001-1234567890",
        name="Tax",
        record={"id": "80000001-1234567890", "name": "Tax", "isTaxable": True},
    ),
    InvoiceStatusData: InvoiceStatusData(
        invoice_id="inv_1", qbd_id="1-2", balance_remaining=Decimal("12.50"), is_paid=False
    ),
    CompanyStateData: CompanyStateData(state="parked", previous_state="online", at=_WHEN),
}


@pytest.mark.parametrize("out_type", list(OutboundType))
def test_every_outbound_event_parses_with_the_cloudevents_sdk(out_type: OutboundType) -> None:
    """What `make_cloudevent` writes is read by the official SDK's JSON and Kafka readers."""
    data = _SAMPLES[OUTBOUND_DATA_MODELS[out_type]]
    raw = make_cloudevent(out_type, "qbd-sync", "acct_1", data, id=result_event_id("evt_1"))
    message = ce_kafka.KafkaMessage(
        headers={"content-type": b"application/cloudevents+json"}, key=b"acct_1", value=raw
    )

    from_kafka = ce_kafka.from_kafka_event(message)
    from_http = ce_http.from_json(raw)

    assert from_kafka.get_type() == out_type
    assert from_kafka.get_extension("companyid") == "acct_1"
    assert from_kafka.get_data() == data.model_dump(mode="json")
    assert (from_http["id"], from_http.data) == ("result:evt_1", data.model_dump(mode="json"))
