"""Inbound event models: every type parses, the QuickBooks rules hold, refs are declared."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from schemas import (
    DATA_MODELS,
    EXAMPLE_DATA,
    EventType,
    InvalidData,
    InvalidEnvelope,
    NotCloudEvent,
    ObjectType,
    Ref,
    ReferenceList,
    UnknownEventType,
    example_event,
    parse_event,
)


def _invoice(**data_changes: object) -> dict[str, object]:
    event = example_event(EventType.INVOICE_CREATED)
    event["data"].update(data_changes)
    return event


def _problems(event: dict[str, object]) -> str:
    with pytest.raises(InvalidData) as caught:
        parse_event(event)
    return "; ".join(caught.value.problems)


def test_every_event_type_has_a_data_model_and_an_example() -> None:
    """Every inbound type of the contract has a model and an example."""
    assert set(DATA_MODELS) == set(EventType) == set(EXAMPLE_DATA)


@pytest.mark.parametrize("event_type", list(EventType))
def test_example_of_every_type_is_accepted(event_type: EventType) -> None:
    """The shipped example of each type validates into its own model."""
    event = parse_event(example_event(event_type))

    assert event.type is event_type
    assert isinstance(event.data, DATA_MODELS[event_type])
    assert event.companyid == "acct_48291"


def test_contract_envelope_example_is_accepted() -> None:
    """The CONTRACT.md section 4 envelope parses with its attributes typed."""
    event = parse_event(example_event(EventType.INVOICE_CREATED))

    assert event.id == "evt_9f1c2a"
    assert event.envelope.source == "billing-service"
    assert event.time is not None
    assert event.time.utcoffset() is not None


def test_amounts_become_decimals_and_dates_become_dates() -> None:
    """Decimal strings keep their exact value and ISO dates become `date`."""
    data = parse_event(_invoice()).data

    assert data.lines[0].amount == Decimal("125.00")  # type: ignore[attr-defined]
    assert data.transaction_date == date(2026, 11, 24)  # type: ignore[attr-defined]


def test_float_amount_is_rejected() -> None:
    """A JSON number where an amount belongs is an error naming the field."""
    event = _invoice(lines=[{"item_id": "i", "amount": 125.0}])

    assert "data.lines.0.amount: must be a decimal string" in _problems(event)


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "1e3", "+5.00", "1,000.00", "١٢٣", ""])
def test_non_plain_decimal_strings_are_rejected(amount: str) -> None:
    """Only plain ASCII decimal strings count as amounts."""
    event = _invoice(lines=[{"item_id": "i", "amount": amount}])

    assert "data.lines.0.amount" in _problems(event)


def test_amount_with_too_many_digits_is_rejected() -> None:
    """Amounts beyond QuickBooks' 13 integer digits are refused, not rounded."""
    event = _invoice(lines=[{"item_id": "i", "amount": "12345678901234.00"}])

    assert "at most 13 digits" in _problems(event)


def test_amount_with_three_decimals_is_rejected() -> None:
    """Amounts carry at most two decimal places."""
    event = _invoice(lines=[{"item_id": "i", "amount": "1.005"}])

    assert "2 after" in _problems(event)


def test_negative_line_amount_is_accepted_as_a_discount() -> None:
    """A negative line amount is a discount line, which QuickBooks accepts."""
    event = parse_event(_invoice(lines=[{"item_id": "i", "amount": "-5.00"}]))

    assert event.data.lines[0].amount == Decimal("-5.00")  # type: ignore[attr-defined]


def test_negative_quantity_is_rejected() -> None:
    """Negative quantities are refused (returns are credit memos, not invoice lines)."""
    event = _invoice(lines=[{"item_id": "i", "quantity": -1}])

    assert "data.lines.0.quantity: must be a non-negative number" in _problems(event)


def test_quantity_accepts_numbers_and_strings() -> None:
    """Quantities may be JSON numbers or decimal strings and keep their exact value."""
    lines = [{"item_id": "i", "quantity": 1.1}, {"item_id": "i", "quantity": "2.5"}]
    data = parse_event(_invoice(lines=lines)).data

    assert [line.quantity for line in data.lines] == [Decimal("1.1"), Decimal("2.5")]  # type: ignore[attr-defined]


def test_huge_quantity_is_rejected() -> None:
    """A quantity with more than 10 integer digits is refused."""
    event = _invoice(lines=[{"item_id": "i", "quantity": 1e30}])

    assert "data.lines.0.quantity" in _problems(event)


def test_negative_payment_total_is_rejected() -> None:
    """A payment total below zero is refused."""
    event = example_event(EventType.PAYMENT_RECEIVED)
    event["data"].update(total_amount="-1.00", applied_to=[])

    assert "data.total_amount: must be a non-negative decimal string" in _problems(event)


def test_over_applied_payment_is_rejected() -> None:
    """Applied amounts may not add up to more than the payment total."""
    event = example_event(EventType.PAYMENT_RECEIVED)
    event["data"]["applied_to"] = [
        {"invoice_id": "a", "amount": "100.00"},
        {"invoice_id": "b", "amount": "100.00"},
    ]

    assert "more than total_amount" in _problems(event)


def test_bill_without_lines_is_rejected() -> None:
    """A bill needs at least one expense or item line."""
    event = example_event(EventType.BILL_CREATED)
    event["data"].update(expense_lines=[], item_lines=[])

    assert "needs at least one of expense_lines or item_lines" in _problems(event)


def test_empty_invoice_lines_are_rejected() -> None:
    """An invoice needs at least one line."""
    assert "data.lines" in _problems(_invoice(lines=[]))


@pytest.mark.parametrize("value", ["2026-02-30", "2026-11-24T00:00:00Z", "24/11/2026", 20261124])
def test_dates_other_than_real_iso_dates_are_rejected(value: object) -> None:
    """Dates must be real calendar dates written YYYY-MM-DD."""
    assert "data.transaction_date: must be a real calendar date" in _problems(
        _invoice(transaction_date=value)
    )


def test_customer_name_longer_than_41_is_rejected() -> None:
    """Customer names are capped at QuickBooks' 41 characters."""
    event = example_event(EventType.CUSTOMER_UPSERTED)
    event["data"]["name"] = "x" * 42

    assert "data.name: String should have at most 41 characters (QuickBooks limit)" in _problems(
        event
    )


def test_item_name_longer_than_31_is_rejected() -> None:
    """Item names are capped at QuickBooks' 31 characters."""
    event = example_event(EventType.ITEM_UPSERTED)
    event["data"]["name"] = "x" * 32

    assert "at most 31 characters" in _problems(event)


def test_invoice_ref_number_longer_than_11_is_rejected() -> None:
    """Invoice reference numbers are capped at 11 characters."""
    assert "data.ref_number" in _problems(_invoice(ref_number="INV-0000001X"))


def test_memo_longer_than_4095_is_rejected() -> None:
    """Memos are capped at 4095 characters."""
    assert "data.memo" in _problems(_invoice(memo="m" * 4096))


def test_unicode_names_are_accepted() -> None:
    """Names may use any script, accents and emoji."""
    event = example_event(EventType.CUSTOMER_UPSERTED)
    event["data"]["name"] = "Zoë Łukasz 山田 🚰"

    assert parse_event(event).data.name == "Zoë Łukasz 山田 🚰"  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", ["bad\x00name", "tab\tname", "new\nline", "c1\x85ctl", "   "])
def test_control_characters_and_blank_names_are_rejected(name: str) -> None:
    """Control characters (and blank text) never reach QuickBooks."""
    event = example_event(EventType.CUSTOMER_UPSERTED)
    event["data"]["name"] = name

    assert "data.name: must not be blank or contain control characters" in _problems(event)


def test_memo_may_span_lines() -> None:
    """Multi-line text fields accept newlines and tabs."""
    memo = parse_event(_invoice(memo="line one\n\tline two")).data.memo  # type: ignore[attr-defined]

    assert memo == "line one\n\tline two"


def test_unknown_data_fields_are_kept_but_ignored() -> None:
    """Fields the model does not know survive in `model_extra`."""
    data = parse_event(_invoice(crm_owner="sam")).data

    assert data.model_extra == {"crm_owner": "sam"}


def test_missing_required_field_is_named() -> None:
    """A missing required field is reported with its location."""
    event = _invoice()
    del event["data"]["customer_id"]  # type: ignore[attr-defined]

    assert "data.customer_id: Field required" in _problems(event)


def test_invoice_refs_list_every_dependency_once() -> None:
    """`refs()` lists the customer, terms and each distinct item, in field order."""
    lines = [{"item_id": "a"}, {"item_id": "b"}, {"item_id": "a"}]
    data = parse_event(_invoice(lines=lines, class_id="cls_1")).data

    assert data.refs() == (
        Ref(ObjectType.CUSTOMER, "cus_1001"),
        Ref(ObjectType.TERMS, "terms_net30"),
        Ref(ObjectType.CLASS, "cls_1"),
        Ref(ObjectType.ITEM, "a"),
        Ref(ObjectType.ITEM, "b"),
    )


def test_payment_refs_include_the_invoices_it_applies_to() -> None:
    """A payment depends on its customer, method, deposit account and invoices."""
    data = parse_event(example_event(EventType.PAYMENT_RECEIVED)).data

    assert data.refs() == (
        Ref(ObjectType.CUSTOMER, "cus_1001"),
        Ref(ObjectType.PAYMENT_METHOD, "pm_card"),
        Ref(ObjectType.ACCOUNT, "acct_undeposited"),
        Ref(ObjectType.INVOICE, "inv_5001"),
    )


def test_bill_refs_cover_expense_and_item_lines() -> None:
    """A bill depends on its vendor, expense accounts and items."""
    data = parse_event(example_event(EventType.BILL_CREATED)).data

    assert data.refs() == (
        Ref(ObjectType.VENDOR, "ven_77"),
        Ref(ObjectType.ACCOUNT, "acct_supplies"),
        Ref(ObjectType.ITEM, "item_pipe"),
    )


@pytest.mark.parametrize(
    ("event_type", "object_type", "app_id"),
    [
        (EventType.CUSTOMER_UPSERTED, ObjectType.CUSTOMER, "cus_1001"),
        (EventType.ITEM_UPSERTED, ObjectType.ITEM, "item_consulting"),
        (EventType.INVOICE_CREATED, ObjectType.INVOICE, "inv_5001"),
        (EventType.PAYMENT_RECEIVED, ObjectType.PAYMENT, "pay_9001"),
        (EventType.SALES_RECEIPT_CREATED, ObjectType.SALES_RECEIPT, "sr_12"),
        (EventType.PURCHASE_ORDER_CREATED, ObjectType.PURCHASE_ORDER, "po_44"),
    ],
)
def test_app_id_is_the_events_own_object(
    event_type: EventType, object_type: ObjectType, app_id: str
) -> None:
    """`app_id` and `OBJECT_TYPE` name the object the event creates or updates."""
    data = parse_event(example_event(event_type)).data

    assert (data.OBJECT_TYPE, data.app_id) == (object_type, app_id)


def test_mapping_set_app_id_is_the_mapped_object() -> None:
    """For `mapping.set`, `app_id` is the app id being mapped (wire name `app_id`)."""
    data = parse_event(example_event(EventType.MAPPING_SET)).data

    assert data.app_id == "acct_sales"
    assert data.refs() == ()


def test_sync_requested_needs_no_data() -> None:
    """`sync.requested` is valid with no `data` at all."""
    event = example_event(EventType.SYNC_REQUESTED)
    del event["data"]

    assert parse_event(event).data.app_id is None


def test_reference_pull_defaults_to_the_contracts_six_lists() -> None:
    """Without `object_types`, a reference pull asks for the six lists CONTRACT.md names."""
    event = example_event(EventType.REFERENCE_PULL_REQUESTED)
    event["data"] = {}

    assert parse_event(event).data.object_types == [  # type: ignore[attr-defined]
        ReferenceList.CUSTOMERS,
        ReferenceList.VENDORS,
        ReferenceList.ITEMS,
        ReferenceList.ACCOUNTS,
        ReferenceList.CLASSES,
        ReferenceList.TERMS,
    ]


def test_missing_companyid_is_an_envelope_error() -> None:
    """An event without `companyid` is refused before its data is read."""
    event = example_event(EventType.INVOICE_CREATED)
    del event["companyid"]

    with pytest.raises(InvalidEnvelope, match="companyid: Field required"):
        parse_event(event)


def test_wrong_specversion_is_an_envelope_error() -> None:
    """Only CloudEvents 1.0 is accepted."""
    event = example_event(EventType.INVOICE_CREATED) | {"specversion": "0.3"}

    with pytest.raises(InvalidEnvelope, match="specversion"):
        parse_event(event)


def test_time_without_offset_is_an_envelope_error() -> None:
    """CloudEvents `time` must carry a UTC offset (RFC 3339)."""
    event = example_event(EventType.INVOICE_CREATED) | {"time": "2026-11-24T10:00:00"}

    with pytest.raises(InvalidEnvelope, match="UTC offset"):
        parse_event(event)


def test_unknown_extension_attributes_are_kept() -> None:
    """Extension attributes survive on the envelope and change nothing."""
    event = parse_event(example_event(EventType.SYNC_REQUESTED) | {"tenant": "eu"})

    assert event.envelope.model_extra == {"tenant": "eu"}


def test_unknown_type_is_named() -> None:
    """An unknown `type` is refused with the type in the message."""
    event = example_event(EventType.INVOICE_CREATED) | {"type": "foo.bar"}

    with pytest.raises(UnknownEventType, match=r"unknown type 'foo\.bar'"):
        parse_event(event)


def test_json_array_is_not_a_cloudevent() -> None:
    """A JSON value that is not an object with `specversion` is not a CloudEvent."""
    with pytest.raises(NotCloudEvent):
        parse_event([example_event(EventType.INVOICE_CREATED)])
