"""Lifecycle events (CONTRACT.md 4a): updates carry what changes, voids and deletes the id."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from schemas import (
    EventType,
    InvalidData,
    ObjectType,
    Ref,
    example_event,
    parse_event,
)

_UPDATES = {
    EventType.INVOICE_UPDATED: "invoice_id",
    EventType.SALES_RECEIPT_UPDATED: "sales_receipt_id",
    EventType.BILL_UPDATED: "bill_id",
    EventType.PURCHASE_ORDER_UPDATED: "purchase_order_id",
    EventType.CREDIT_MEMO_UPDATED: "credit_memo_id",
    EventType.PAYMENT_UPDATED: "payment_id",
}
_VOIDS = {
    EventType.INVOICE_VOIDED: "invoice_id",
    EventType.SALES_RECEIPT_VOIDED: "sales_receipt_id",
    EventType.BILL_VOIDED: "bill_id",
    EventType.CREDIT_MEMO_VOIDED: "credit_memo_id",
}
_LINES_UPDATES = [
    EventType.INVOICE_UPDATED,
    EventType.SALES_RECEIPT_UPDATED,
    EventType.PURCHASE_ORDER_UPDATED,
    EventType.CREDIT_MEMO_UPDATED,
]


def _event(event_type: EventType, **data: Any) -> dict[str, Any]:
    event = example_event(event_type)
    event["data"] = data
    return event


def _problems(event: dict[str, Any]) -> str:
    with pytest.raises(InvalidData) as caught:
        parse_event(event)
    return "; ".join(caught.value.problems)


@pytest.mark.parametrize(("event_type", "id_field"), list(_UPDATES.items()))
def test_update_with_only_the_app_id_is_valid(event_type: EventType, id_field: str) -> None:
    """An update that names only its object is valid: every other field stays as it is."""
    data = parse_event(_event(event_type, **{id_field: "x_1"})).data

    assert data.app_id == "x_1"
    assert data.model_dump(exclude_none=True, exclude_defaults=True) == {id_field: "x_1"}


@pytest.mark.parametrize("event_type", list(_UPDATES))
def test_update_has_no_refs_beyond_the_fields_it_carries(event_type: EventType) -> None:
    """An update depends only on the app ids it sends; absent fields add no dependency."""
    data = parse_event(_event(event_type, **{_UPDATES[event_type]: "x_1"})).data

    assert data.refs() == ()


def test_invoice_update_refs_are_the_new_references() -> None:
    """An update that changes the customer and the lines depends on them."""
    event = _event(
        EventType.INVOICE_UPDATED,
        invoice_id="inv_1",
        customer_id="cus_2",
        lines=[{"item_id": "item_a", "sales_tax_code_id": "tax_non"}],
    )

    assert parse_event(event).data.refs() == (
        Ref(ObjectType.CUSTOMER, "cus_2"),
        Ref(ObjectType.ITEM, "item_a"),
        Ref(ObjectType.SALES_TAX_CODE, "tax_non"),
    )


@pytest.mark.parametrize("event_type", _LINES_UPDATES)
def test_update_cannot_replace_the_lines_with_none(event_type: EventType) -> None:
    """`lines`, when present, replace the lines, so an empty list is refused."""
    event = _event(event_type, **{_UPDATES[event_type]: "x_1", "lines": []})

    assert "data.lines: List should have at least 1 item" in _problems(event)


@pytest.mark.parametrize("event_type", list(_UPDATES))
def test_update_keeps_the_create_field_caps(event_type: EventType) -> None:
    """Optional fields of an update obey the same QuickBooks caps as on create."""
    event = _event(event_type, **{_UPDATES[event_type]: "x_1", "memo": "m" * 4096})

    assert "data.memo: String should have at most 4095 characters" in _problems(event)


@pytest.mark.parametrize("event_type", list(_UPDATES))
def test_update_keeps_the_create_date_rule(event_type: EventType) -> None:
    """A transaction date on an update must still be a real YYYY-MM-DD date."""
    event = _event(event_type, **{_UPDATES[event_type]: "x_1", "transaction_date": "2026-02-30"})

    assert "data.transaction_date: must be a real calendar date" in _problems(event)


def test_update_line_amount_as_a_float_is_refused() -> None:
    """Replacement lines follow the create rules: amounts are decimal strings."""
    event = _event(
        EventType.INVOICE_UPDATED, invoice_id="i", lines=[{"item_id": "a", "amount": 1.5}]
    )

    assert "data.lines.0.amount: must be a decimal string" in _problems(event)


def test_bill_update_may_clear_one_kind_of_line() -> None:
    """An empty `expense_lines` on a bill update removes the expense lines."""
    event = _event(EventType.BILL_UPDATED, bill_id="b", expense_lines=[])

    assert parse_event(event).data.expense_lines == []  # type: ignore[attr-defined]


def test_bill_update_cannot_remove_every_line() -> None:
    """Replacing both kinds of bill line with nothing is refused."""
    event = _event(EventType.BILL_UPDATED, bill_id="b", expense_lines=[], item_lines=[])

    assert "needs at least one of expense_lines or item_lines" in _problems(event)


def test_payment_update_may_not_over_apply() -> None:
    """A payment update with a total and applications keeps the over-application rule."""
    event = _event(
        EventType.PAYMENT_UPDATED,
        payment_id="p",
        total_amount="10.00",
        applied_to=[{"invoice_id": "a", "amount": "10.01"}],
    )

    assert "more than total_amount" in _problems(event)


def test_payment_update_applications_replace_without_a_total() -> None:
    """`applied_to` alone is valid: the processor checks it against QuickBooks' total."""
    event = _event(
        EventType.PAYMENT_UPDATED, payment_id="p", applied_to=[{"invoice_id": "a", "amount": "9"}]
    )

    data = parse_event(event).data

    assert data.applied_to[0].amount == Decimal("9")  # type: ignore[attr-defined]
    assert data.total_amount is None  # type: ignore[attr-defined]


@pytest.mark.parametrize(("event_type", "id_field"), list(_VOIDS.items()))
def test_void_reason_is_optional(event_type: EventType, id_field: str) -> None:
    """A void needs only the app id; `reason` is optional."""
    data = parse_event(_event(event_type, **{id_field: "x_1"})).data

    assert data.reason is None  # type: ignore[attr-defined]


@pytest.mark.parametrize(("event_type", "id_field"), list(_VOIDS.items()))
def test_void_reason_is_capped(event_type: EventType, id_field: str) -> None:
    """A void reason is text of at most 4095 characters."""
    event = _event(event_type, **{id_field: "x_1", "reason": "r" * 4096})

    assert "data.reason" in _problems(event)


def test_credit_memo_refuses_negative_quantities() -> None:
    """A credit memo line keeps positive quantities: the credit memo makes them a credit."""
    event = example_event(EventType.CREDIT_MEMO_CREATED)
    event["data"]["lines"][0]["quantity"] = -1

    assert "data.lines.0.quantity: must be a non-negative number" in _problems(event)


def test_delete_with_an_empty_id_is_refused() -> None:
    """A delete must name its object: a blank id is refused."""
    event = _event(EventType.INVOICE_DELETED, invoice_id=" ")

    assert "data.invoice_id: must not be blank" in _problems(event)


@pytest.mark.parametrize(
    ("event_type", "field", "length"),
    [
        (EventType.CREDIT_MEMO_CREATED, "ref_number", 12),
        (EventType.CREDIT_MEMO_UPDATED, "ref_number", 12),
        (EventType.SALES_RECEIPT_UPDATED, "ref_number", 12),
        (EventType.BILL_UPDATED, "ref_number", 21),
        (EventType.PAYMENT_UPDATED, "ref_number", 21),
        (EventType.PURCHASE_ORDER_UPDATED, "ref_number", 12),
    ],
)
def test_ref_numbers_keep_their_quickbooks_caps(
    event_type: EventType, field: str, length: int
) -> None:
    """Reference numbers are capped as QuickBooks caps them (11 or 20 characters)."""
    event = example_event(event_type)
    event["data"][field] = "R" * length

    assert f"data.{field}: String should have at most {length - 1} characters" in _problems(event)
