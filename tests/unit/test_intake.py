"""Intake: every record becomes an accepted event or a one-line rejection, never an exception."""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from processors.intake import Accepted, Rejected, decode
from schemas import EventType, InvoiceCreated, example_event

_KEY = b"acct_48291"


def _bytes(event: Any) -> bytes:
    return orjson.dumps(event)


def _invoice(**data_changes: Any) -> dict[str, Any]:
    event = example_event(EventType.INVOICE_CREATED)
    event["data"].update(data_changes)
    return event


def _rejected(value: bytes | None, key: bytes | None = _KEY, **kwargs: Any) -> Rejected:
    result = decode(value, key, **kwargs)
    assert isinstance(result, Rejected), result
    return result


@pytest.mark.parametrize("event_type", list(EventType))
def test_valid_event_of_every_type_is_accepted(event_type: EventType) -> None:
    """The shipped example of each inbound type decodes to an accepted event."""
    result = decode(_bytes(example_event(event_type)), _KEY)

    assert isinstance(result, Accepted)
    assert result.event.type is event_type


def test_accepted_event_carries_typed_data() -> None:
    """An accepted invoice exposes its typed data and envelope."""
    result = decode(_bytes(example_event(EventType.INVOICE_CREATED)), _KEY)

    assert isinstance(result, Accepted)
    assert isinstance(result.event.data, InvoiceCreated)
    assert result.event.id == "evt_9f1c2a"


def test_record_without_key_is_accepted() -> None:
    """A null key is allowed: lanes are chosen by `companyid`."""
    result = decode(_bytes(example_event(EventType.SYNC_REQUESTED)), None)

    assert isinstance(result, Accepted)


def test_key_that_differs_from_companyid_is_rejected() -> None:
    """A record keyed by something other than its `companyid` is rejected with why."""
    rejected = _rejected(_bytes(example_event(EventType.SYNC_REQUESTED)), b"acct_other")

    assert rejected.kind == "key_mismatch"
    assert "must key records by companyid" in rejected.reason


def test_tombstone_is_rejected() -> None:
    """A record with no value is rejected, not crashed on."""
    rejected = _rejected(None)

    assert rejected.kind == "empty"


def test_not_json_is_rejected() -> None:
    """Bytes that are not JSON are rejected as such."""
    rejected = _rejected(b"\x00\xffnot json")

    assert rejected.kind == "not_json"
    assert rejected.reason.startswith("not JSON")


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity"])
def test_nan_and_infinity_literals_are_rejected(literal: bytes) -> None:
    """JSON extensions for NaN and Infinity are not JSON."""
    value = _bytes(_invoice()).replace(b'"quantity":2', b'"quantity":' + literal)

    assert _rejected(value).kind == "not_json"


def test_number_overflowing_a_double_is_rejected() -> None:
    """A number too large for a double is refused by the parser."""
    value = _bytes(_invoice()).replace(b'"quantity":2', b'"quantity":1e400')

    assert _rejected(value).kind == "not_json"


def test_huge_integer_quantity_is_rejected() -> None:
    """A 30-digit quantity is out of range, with the field named."""
    value = _bytes(_invoice()).replace(b'"quantity":2', b'"quantity":' + b"9" * 30)

    assert "data.lines.0.quantity" in _rejected(value).reason


def test_deep_nesting_is_rejected_without_exhausting_the_stack() -> None:
    """Deeply nested JSON hits the parser's depth limit, not Python's recursion limit."""
    value = b'{"specversion":"1.0","data":' + b"[" * 100_000 + b"]" * 100_000 + b"}"

    assert _rejected(value).kind == "not_json"


def test_json_that_is_not_an_object_is_not_a_cloudevent() -> None:
    """A JSON array (batch mode) is not a structured-mode CloudEvent."""
    rejected = _rejected(_bytes([example_event(EventType.SYNC_REQUESTED)]))

    assert rejected.kind == "not_cloudevent"


def test_missing_companyid_is_rejected() -> None:
    """An event without `companyid` is rejected naming the attribute."""
    event = example_event(EventType.INVOICE_CREATED)
    del event["companyid"]

    rejected = _rejected(_bytes(event))

    assert rejected.kind == "invalid_envelope"
    assert "companyid: Field required" in rejected.reason


def test_unknown_type_is_rejected() -> None:
    """An unknown event type is rejected with the type named."""
    rejected = _rejected(_bytes(example_event(EventType.INVOICE_CREATED) | {"type": "foo.bar"}))

    assert (rejected.kind, rejected.reason) == ("unknown_type", "unknown type 'foo.bar'")


def test_float_amount_is_rejected_with_its_location() -> None:
    """A float amount is rejected with the path to the field."""
    rejected = _rejected(_bytes(_invoice(lines=[{"item_id": "i", "amount": 12.5}])))

    assert rejected.kind == "invalid_data"
    assert "data.lines.0.amount: must be a decimal string" in rejected.reason


def test_wrong_types_are_rejected() -> None:
    """A field of the wrong JSON type is rejected with its location."""
    rejected = _rejected(_bytes(_invoice(customer_id=42)))

    assert "data.customer_id" in rejected.reason


def test_negative_quantity_is_rejected() -> None:
    """A negative quantity is rejected."""
    rejected = _rejected(_bytes(_invoice(lines=[{"item_id": "i", "quantity": -3}])))

    assert "data.lines.0.quantity" in rejected.reason


def test_ten_megabyte_record_is_rejected_before_parsing() -> None:
    """A 10 MB record is rejected as oversize with its size."""
    value = b'{"pad":"' + b"x" * 10_000_000 + b'"}'

    rejected = _rejected(value)

    assert rejected.kind == "oversize"
    assert rejected.reason == f"oversize: {len(value)} bytes > max 1048576 bytes"


def test_max_bytes_is_configurable() -> None:
    """The size limit is a parameter."""
    rejected = _rejected(_bytes(example_event(EventType.INVOICE_CREATED)), max_bytes=100)

    assert rejected.kind == "oversize"


def test_unicode_names_are_accepted() -> None:
    """Names in any script are accepted."""
    event = example_event(EventType.CUSTOMER_UPSERTED)
    event["data"]["name"] = "Ørsted Ünal 李雷"

    assert isinstance(decode(_bytes(event), _KEY), Accepted)


def test_control_characters_in_names_are_rejected() -> None:
    """A control character in a name is rejected."""
    event = example_event(EventType.CUSTOMER_UPSERTED)
    event["data"]["name"] = "Bell\x07Co"

    assert (
        "data.name: must not be blank or contain control characters"
        in _rejected(_bytes(event)).reason
    )


def test_duplicate_keys_keep_the_last_value() -> None:
    """With a duplicated key the last value wins, as in most JSON parsers."""
    value = _bytes(example_event(EventType.SYNC_REQUESTED)).replace(
        b'"id":"evt_9f1c2a"', b'"id":"first","id":"last"'
    )

    result = decode(value, _KEY)

    assert isinstance(result, Accepted)
    assert result.event.id == "last"


def test_reason_never_echoes_input_values() -> None:
    """Rejection reasons name fields, not their (possibly personal) contents."""
    event = example_event(EventType.CUSTOMER_UPSERTED)
    event["data"]["email"] = "secret\x00@example.com"

    assert "secret" not in _rejected(_bytes(event)).reason


def test_many_errors_are_summarised_on_one_bounded_line() -> None:
    """Many problems give one line listing the first few and a count of the rest."""
    lines = [{"item_id": "", "amount": 1.0} for _ in range(50)]

    reason = _rejected(_bytes(_invoice(lines=lines))).reason

    assert "more)" in reason
    assert "\n" not in reason
    assert len(reason) <= 1000


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)  # what orjson can write
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=25,
)


@given(st.binary(max_size=2048), st.none() | st.binary(max_size=32))
def test_decode_never_raises_on_arbitrary_bytes(value: bytes, key: bytes | None) -> None:
    """Any bytes decode to Accepted or Rejected, never an exception."""
    result = decode(value, key)

    assert isinstance(result, Accepted | Rejected)
    assert getattr(result, "kind", "") != "internal_error"


@given(_JSON)
def test_decode_never_raises_on_arbitrary_json(value: Any) -> None:
    """Any JSON document decodes to Accepted or Rejected without an internal error."""
    result = decode(orjson.dumps(value), None)

    assert getattr(result, "kind", "") != "internal_error"


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(list(EventType)),
    st.dictionaries(st.text(max_size=20), _JSON, max_size=6),
    st.booleans(),
)
def test_decode_never_raises_on_arbitrary_data_of_known_types(
    event_type: EventType, junk: dict[str, Any], replace: bool
) -> None:
    """Arbitrary fields over (or instead of) a valid example never cause an internal error."""
    event = example_event(event_type)
    event["data"] = junk if replace else {**copy.deepcopy(event["data"]), **junk}

    result = decode(orjson.dumps(event), _KEY)

    assert getattr(result, "kind", "") != "internal_error"


@given(st.text(max_size=60))
def test_decode_never_raises_on_arbitrary_names(name: str) -> None:
    """Any Unicode text as a customer name is accepted or rejected cleanly."""
    event = example_event(EventType.CUSTOMER_UPSERTED)
    event["data"]["name"] = name

    try:
        value = orjson.dumps(event)
    except orjson.JSONEncodeError:  # lone surrogates cannot even be encoded as JSON
        return
    result = decode(value, _KEY)

    assert getattr(result, "kind", "") != "internal_error"
