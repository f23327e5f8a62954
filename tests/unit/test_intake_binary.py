"""Intake in both CloudEvents Kafka content modes, fed by the official cloudevents SDK.

Each SDK flavour (the current `cloudevents.core` bindings and the classic `cloudevents.v1`
API that earlier SDK releases shipped as `cloudevents.kafka`) produces a KafkaMessage
(headers, key, value); intake must accept what they produce and reject, with the
structured-mode reason, what is wrong.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
import pytest
from cloudevents.core.bindings import kafka as core_kafka
from cloudevents.core.v1.event import CloudEvent as CoreEvent
from cloudevents.v1 import kafka as v1_kafka
from cloudevents.v1.http import CloudEvent as V1Event
from hypothesis import given
from hypothesis import strategies as st

from processors.intake import Accepted, Rejected, decode
from schemas import DlqHeader, EventType, example_event, structured_bytes, sync_requested

_KEY = b"acct_48291"
_ATTRIBUTES = ("specversion", "id", "type", "source", "time", "companyid")


def _core(event: dict[str, Any], *, binary: bool, **extra: Any) -> Any:
    attributes = {name: event[name] for name in _ATTRIBUTES if name in event} | extra
    if "time" in attributes:
        attributes["time"] = datetime.fromisoformat(attributes["time"])
    ce = CoreEvent(attributes, event.get("data"))
    convert = core_kafka.to_binary_event if binary else core_kafka.to_structured_event
    return convert(ce, key_mapper=lambda e: e.get_extension("companyid"))


def _v1(event: dict[str, Any], *, binary: bool, **extra: Any) -> Any:
    attributes = {name: event[name] for name in _ATTRIBUTES if name in event} | extra
    if binary:  # the classic SDK's binary mode needs a datacontenttype
        attributes.setdefault("datacontenttype", "application/json")
    ce = V1Event(attributes, event.get("data"))
    convert = v1_kafka.to_binary if binary else v1_kafka.to_structured
    return convert(ce, key_mapper=lambda e: e["companyid"])


_PRODUCERS = {"core": _core, "v1": _v1}


def _decode(message: Any, **kwargs: Any) -> Accepted | Rejected:
    key = message.key.encode() if isinstance(message.key, str) else message.key
    return decode(message.value, key, headers=message.headers, **kwargs)


def _same_event(a: Accepted | Rejected, b: Accepted | Rejected) -> None:
    assert isinstance(a, Accepted), a
    assert isinstance(b, Accepted), b
    for name in ("id", "type", "source", "companyid", "time", "data"):
        assert getattr(a.event.envelope, name) == getattr(b.event.envelope, name), name
    assert a.event.data == b.event.data


def _binary_headers(event_type: EventType = EventType.INVOICE_CREATED) -> dict[str, bytes]:
    return dict(_core(example_event(event_type), binary=True).headers)


def _value(event_type: EventType = EventType.INVOICE_CREATED) -> bytes:
    return orjson.dumps(example_event(event_type)["data"])


@pytest.mark.parametrize("producer", list(_PRODUCERS))
@pytest.mark.parametrize("event_type", list(EventType))
def test_binary_mode_gives_the_same_event_as_structured(
    producer: str, event_type: EventType
) -> None:
    """An SDK binary-mode record of every type decodes to the event structured mode gives."""
    event = example_event(event_type)

    binary = _decode(_PRODUCERS[producer](event, binary=True))
    structured = decode(orjson.dumps(event), _KEY)

    _same_event(binary, structured)
    assert isinstance(binary, Accepted)
    assert binary.binary


@pytest.mark.parametrize("producer", list(_PRODUCERS))
@pytest.mark.parametrize("event_type", [EventType.INVOICE_CREATED, EventType.SYNC_REQUESTED])
def test_sdk_structured_mode_is_accepted(producer: str, event_type: EventType) -> None:
    """An SDK structured-mode record decodes to the same event and is not marked binary."""
    event = example_event(event_type)

    result = _decode(_PRODUCERS[producer](event, binary=False))

    _same_event(result, decode(orjson.dumps(event), _KEY))
    assert isinstance(result, Accepted)
    assert not result.binary


@pytest.mark.parametrize("producer", list(_PRODUCERS))
def test_binary_mode_with_a_json_content_type_is_accepted(producer: str) -> None:
    """`datacontenttype` becomes the `content-type` header, and JSON is what intake reads."""
    event = example_event(EventType.INVOICE_CREATED)
    message = _PRODUCERS[producer](event, binary=True, datacontenttype="application/json")

    result = _decode(message)

    assert message.headers["content-type"] == b"application/json"
    assert isinstance(result, Accepted)
    assert result.event.envelope.datacontenttype == "application/json"


def test_classic_sdk_structured_mode_with_a_json_content_type_is_structured() -> None:
    """The classic SDK moves datacontenttype to the header in structured mode; still accepted."""
    message = _v1(
        example_event(EventType.INVOICE_CREATED), binary=False, datacontenttype="application/json"
    )

    result = _decode(message)

    assert isinstance(result, Accepted)
    assert not result.binary


@pytest.mark.parametrize(
    ("attribute", "header"),
    [
        ("id", "ce_id"),
        ("specversion", "ce_specversion"),
        ("companyid", "ce_companyid"),
        ("source", "ce_source"),
        ("type", "ce_type"),
    ],
)
def test_missing_attribute_is_rejected_as_in_structured_mode(attribute: str, header: str) -> None:
    """A binary record without a required header gets the reason and kind of structured mode."""
    headers = _binary_headers()
    del headers[header]
    structured = example_event(EventType.INVOICE_CREATED)
    del structured[attribute]

    binary = decode(_value(), _KEY, headers=headers)
    expected = decode(orjson.dumps(structured), _KEY)

    assert isinstance(binary, Rejected)
    assert (binary.kind, binary.reason) == (expected.kind, expected.reason)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("header", "value", "attribute"),
    [
        ("ce_time", b"2026-11-24T10:00:00", "time"),
        ("ce_specversion", b"0.3", "specversion"),
        ("ce_type", b"foo.bar", "type"),
        ("ce_id", b" ", "id"),
    ],
)
def test_bad_attribute_is_rejected_as_in_structured_mode(
    header: str, value: bytes, attribute: str
) -> None:
    """A wrong attribute value is rejected with the reason a structured event gets."""
    headers = _binary_headers() | {header: value}
    structured = example_event(EventType.INVOICE_CREATED) | {attribute: value.decode()}

    binary = decode(_value(), _KEY, headers=headers)
    expected = decode(orjson.dumps(structured), _KEY)

    assert isinstance(binary, Rejected)
    assert (binary.kind, binary.reason) == (expected.kind, expected.reason)  # type: ignore[union-attr]


def test_invalid_data_is_rejected_as_in_structured_mode() -> None:
    """A float amount in binary data is named at the same location as in structured mode."""
    event = example_event(EventType.INVOICE_CREATED)
    event["data"]["lines"][0]["amount"] = 125.0

    binary = _decode(_core(event, binary=True))
    expected = decode(orjson.dumps(event), _KEY)

    assert isinstance(binary, Rejected)
    assert (binary.kind, binary.reason) == (expected.kind, expected.reason)  # type: ignore[union-attr]
    assert "data.lines.0.amount: must be a decimal string" in binary.reason


def test_binary_value_that_is_not_json_is_rejected() -> None:
    """Binary data that is not JSON is rejected as not JSON."""
    result = decode(b"<invoice/>", _KEY, headers=_binary_headers())

    assert isinstance(result, Rejected)
    assert result.kind == "not_json"


def test_binary_data_of_another_media_type_is_rejected() -> None:
    """Binary data declared as XML is refused with the structured-mode datacontenttype reason."""
    headers = _binary_headers() | {"content-type": b"application/xml"}
    structured = example_event(EventType.INVOICE_CREATED) | {"datacontenttype": "application/xml"}

    binary = decode(b"<invoice/>", _KEY, headers=headers)
    expected = decode(orjson.dumps(structured), _KEY)

    assert isinstance(binary, Rejected)
    assert (binary.kind, binary.reason) == (expected.kind, expected.reason)  # type: ignore[union-attr]


def test_header_that_is_not_utf8_is_rejected() -> None:
    """An attribute header that is not UTF-8 is rejected, naming the header."""
    result = decode(_value(), _KEY, headers=_binary_headers() | {"ce_source": b"\xff\xfe"})

    assert isinstance(result, Rejected)
    assert (result.kind, result.reason) == (
        "invalid_envelope",
        "invalid CloudEvent envelope: 'ce_source' header is not UTF-8",
    )


@pytest.mark.parametrize("value", [None, b""])
def test_binary_event_without_data_is_accepted(value: bytes | None) -> None:
    """In binary mode no value means no data, which `sync.requested` allows."""
    result = decode(value, _KEY, headers=_binary_headers(EventType.SYNC_REQUESTED))

    assert isinstance(result, Accepted)
    assert result.event.type is EventType.SYNC_REQUESTED


def test_binary_event_without_data_of_a_type_that_needs_it_is_rejected() -> None:
    """A binary invoice with no value lacks its data, as a structured one without `data`."""
    result = decode(None, _KEY, headers=_binary_headers())

    assert isinstance(result, Rejected)
    assert result.reason.startswith("invalid data for invoice.created: data.invoice_id")


def test_binary_key_that_differs_from_companyid_is_rejected() -> None:
    """The key rule holds in binary mode: the key must equal `ce_companyid`."""
    result = decode(_value(), b"acct_other", headers=_binary_headers())

    assert isinstance(result, Rejected)
    assert result.kind == "key_mismatch"


@pytest.mark.parametrize(
    "content_type", [b"application/cloudevents+avro", b"application/cloudevents-batch+json"]
)
def test_other_cloudevents_formats_are_rejected(content_type: bytes) -> None:
    """Only the JSON event format is read; batch and other formats are refused with why."""
    value = orjson.dumps(example_event(EventType.SYNC_REQUESTED))

    result = decode(value, _KEY, headers=[("content-type", content_type)])

    assert isinstance(result, Rejected)
    assert result.kind == "not_cloudevent"
    assert "unsupported CloudEvents format" in result.reason


def test_structured_content_type_wins_over_stray_ce_headers() -> None:
    """With the structured content type, `ce_` headers are ignored and the value rules."""
    headers = [
        ("content-type", b"application/cloudevents+json; charset=UTF-8"),
        ("ce_id", b"from-a-header"),
    ]

    result = decode(orjson.dumps(example_event(EventType.SYNC_REQUESTED)), _KEY, headers=headers)

    assert isinstance(result, Accepted)
    assert result.event.id == "evt_9f1c2a"


def test_unrelated_headers_keep_structured_mode() -> None:
    """Tracing and other headers without the `ce_` prefix do not switch to binary mode."""
    headers = [("traceparent", b"00-abc-def-01"), ("content-type", b"application/json")]

    result = decode(orjson.dumps(example_event(EventType.SYNC_REQUESTED)), _KEY, headers=headers)

    assert isinstance(result, Accepted)
    assert not result.binary


def test_header_names_are_matched_case_insensitively() -> None:
    """`CE_ID` and `Content-Type` are read like `ce_id` and `content-type`."""
    headers = {name.upper(): value for name, value in _binary_headers().items()}

    result = decode(_value(), _KEY, headers=headers | {"Content-Type": b"application/json"})

    assert isinstance(result, Accepted)
    assert result.event.id == "evt_9f1c2a"


def test_repeated_header_keeps_its_last_value() -> None:
    """A header sent twice counts once, with its last value."""
    headers = [*_binary_headers().items(), ("ce_id", b"second")]

    result = decode(_value(), _KEY, headers=headers)

    assert isinstance(result, Accepted)
    assert result.event.id == "second"


def test_header_with_a_null_value_counts_as_absent() -> None:
    """A `ce_subject` header with no value leaves the attribute out."""
    headers = [*_binary_headers().items(), ("ce_subject", None)]

    result = decode(_value(), _KEY, headers=headers)

    assert isinstance(result, Accepted)
    assert result.event.envelope.subject is None


def test_binary_size_counts_the_attribute_headers() -> None:
    """The size limit covers the value and the `ce_` headers of a binary record."""
    headers = _binary_headers() | {"ce_note": b"x" * 2000}

    result = decode(_value(), _KEY, headers=headers, max_bytes=2000)

    assert isinstance(result, Rejected)
    assert result.kind == "oversize"


@pytest.mark.parametrize("event_type", list(EventType))
def test_structured_bytes_of_a_binary_event_decodes_to_the_same_event(
    event_type: EventType,
) -> None:
    """What the processor stores for a binary event decodes later, without headers, alike."""
    first = _decode(_core(example_event(event_type), binary=True, traceparent="00-a-b-01"))
    assert isinstance(first, Accepted)

    again = decode(structured_bytes(first.event), None)

    assert isinstance(again, Accepted)
    assert again.event == first.event


def test_parked_binary_record_decodes_with_its_dlq_headers() -> None:
    """Replay decodes a parked binary record with the headers the DLQ added beside `ce_`."""
    message = _core(example_event(EventType.INVOICE_CREATED), binary=True)
    parked = [*message.headers.items(), *((str(name), b"1") for name in DlqHeader)]

    replayed = decode(message.value, _KEY, headers=parked)

    _same_event(replayed, _decode(message))


def test_shared_sync_requested_builder_is_accepted() -> None:
    """`schemas.sync_requested` writes a record intake accepts under the company's key."""
    result = decode(sync_requested("acct_48291", "qbd-sync"), _KEY)

    assert isinstance(result, Accepted)
    assert result.event.type is EventType.SYNC_REQUESTED


_HEADERS = st.lists(
    st.tuples(
        st.sampled_from(["ce_id", "ce_type", "ce_specversion", "content-type", "ce_time", "x"])
        | st.text(max_size=12),
        st.none() | st.binary(max_size=40) | st.sampled_from([b"1.0", b"invoice.created"]),
    ),
    max_size=8,
)


@given(st.none() | st.binary(max_size=512), st.none() | st.binary(max_size=16), _HEADERS)
def test_decode_never_raises_on_arbitrary_headers(
    value: bytes | None, key: bytes | None, headers: list[tuple[str, bytes | None]]
) -> None:
    """Any headers, value and key decode to Accepted or Rejected without an internal error."""
    result = decode(value, key, headers=headers)

    assert getattr(result, "kind", "") != "internal_error"
