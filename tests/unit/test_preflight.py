"""Pre-flight rules: each refuses exactly what it names, in the app's words."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from processors.preflight import (
    NAME_CAPS,
    PREFLIGHT_ERROR,
    Books,
    Rule,
    preflight_error,
    refusals,
)
from schemas import EventType, example_event, parse_event
from schemas.inbound import (
    CustomerUpserted,
    InvoiceCreated,
    PaymentReceived,
    PaymentUpdated,
    SalesLine,
    SalesReceiptUpdated,
)
from schemas.refs import EventData

NO_BOOKS = Books()


def _data(event_type: EventType, **changes: Any) -> EventData:
    raw = example_event(event_type)
    raw["data"].update(changes)
    return parse_event(raw).data


def _rules(data: EventData, books: Books = NO_BOOKS) -> list[Rule]:
    return [refusal.rule for refusal in refusals(data, books)]


def _line(**fields: Any) -> dict[str, Any]:
    return {"item_id": "item_consulting", **fields}


@pytest.mark.parametrize("event_type", list(EventType))
def test_every_example_event_passes(event_type: EventType) -> None:
    """The documented example of every event type breaks no rule."""
    data = _data(event_type)

    assert refusals(data, NO_BOOKS) == []


@pytest.mark.parametrize(("model", "cap"), list(NAME_CAPS.items()))
def test_a_name_over_the_cap_is_too_long(model: type[EventData], cap: int) -> None:
    """A list name one character over QuickBooks' cap is NAME_TOO_LONG; at the cap it passes."""
    at_cap = model.model_construct(name="n" * cap)
    over = model.model_construct(name="n" * (cap + 1))

    assert _rules(at_cap) == []
    assert _rules(over) == [Rule.NAME_TOO_LONG]


def test_a_colon_in_a_name_is_an_invalid_character() -> None:
    """QuickBooks keeps ':' for Parent:Child full names, so a name may not hold one."""
    data = _data(EventType.ITEM_UPSERTED, name="Labor:Overtime")

    found = refusals(data, NO_BOOKS)

    assert [r.rule for r in found] == [Rule.NAME_INVALID_CHARACTER]
    assert '"Labor:Overtime"' in found[0].user_facing_message
    assert "colon" in found[0].user_facing_message


def test_a_long_name_with_a_colon_breaks_both_rules() -> None:
    """Every broken rule is reported, in a fixed order."""
    data = CustomerUpserted.model_construct(name="A:" + "b" * 41)

    assert _rules(data) == [Rule.NAME_TOO_LONG, Rule.NAME_INVALID_CHARACTER]


@pytest.mark.parametrize(
    ("event_type", "cap"),
    [(EventType.INVOICE_CREATED, 11), (EventType.BILL_CREATED, 20)],
)
def test_a_ref_number_over_the_cap_is_too_long(event_type: EventType, cap: int) -> None:
    """Ref numbers are capped per transaction type (11 on invoices, 20 on bills)."""
    model = type(_data(event_type))
    fields = _data(event_type).model_dump()

    over = model.model_construct(**{**fields, "ref_number": "9" * (cap + 1)})

    assert _rules(over) == [Rule.REF_NUMBER_TOO_LONG]


@pytest.mark.parametrize(
    ("quantity", "rate", "amount"),
    [(2, "62.50", "125.00"), (3, "0.33333", "1.00"), (None, "40.00", "40.00"), (0, "5", "0.00")],
)
def test_agreeing_lines_pass(quantity: int | None, rate: str, amount: str) -> None:
    """quantity x rate equal to the amount to the cent (quantity 1 when absent) passes."""
    line = _line(rate=rate, amount=amount) | ({} if quantity is None else {"quantity": quantity})

    assert _rules(_data(EventType.INVOICE_CREATED, lines=[line])) == []


@pytest.mark.parametrize(
    ("quantity", "rate", "amount"),
    [(2, "62.50", "120.00"), (None, "40.00", "80.00"), (0, "5", "5.00"), (1, "10", "-10.00")],
)
def test_disagreeing_lines_are_refused(quantity: int | None, rate: str, amount: str) -> None:
    """A rate and amount that disagree would lose the rate in QuickBooks: refused."""
    line = _line(rate=rate, amount=amount) | ({} if quantity is None else {"quantity": quantity})

    found = refusals(_data(EventType.INVOICE_CREATED, lines=[_line(), line]), NO_BOOKS)

    assert [(r.rule, r.field) for r in found] == [(Rule.AMOUNT_RATE_MISMATCH, "lines.1")]
    assert found[0].user_facing_message.startswith("Line 2: ")


@pytest.mark.parametrize(
    "line", [_line(quantity=3, amount="10.00"), _line(quantity=3, rate="2"), _line()]
)
def test_a_line_without_rate_or_amount_is_left_to_quickbooks(line: dict[str, Any]) -> None:
    """With rate or amount missing, QuickBooks computes the other: nothing to disagree."""
    assert _rules(_data(EventType.SALES_RECEIPT_CREATED, lines=[line])) == []


def test_lines_of_an_update_are_checked_too() -> None:
    """Replacement lines on *.updated follow the same rule."""
    line = SalesLine.model_validate(_line(quantity=1, rate="10", amount="11.00"))

    data = SalesReceiptUpdated.model_construct(sales_receipt_id="sr_1", lines=[line])

    assert _rules(data) == [Rule.AMOUNT_RATE_MISMATCH]


@pytest.mark.parametrize("model", [PaymentReceived, PaymentUpdated])
def test_a_payment_applying_more_than_its_total_is_refused(model: type[EventData]) -> None:
    """Cash applied to invoices may not exceed the payment's total."""
    applied_to = [{"invoice_id": "inv_1", "amount": "125.01"}]
    valid = _data(EventType.PAYMENT_RECEIVED, applied_to=applied_to, total_amount="200.00")
    assert isinstance(valid, PaymentReceived)

    data = model.model_construct(**{**dict(valid), "total_amount": Decimal("125.00")})

    assert _rules(data) == [Rule.TOTAL_MISMATCH]


def test_a_payment_update_without_a_total_is_not_checked_here() -> None:
    """Without total_amount the total is QuickBooks' own: nothing to compare with."""
    data = _data(EventType.PAYMENT_UPDATED, total_amount=None)

    assert _rules(data) == []


@pytest.mark.parametrize(
    ("dated", "refused"),
    [("2026-10-30", True), ("2026-10-31", True), ("2026-11-01", False)],
)
def test_dates_on_or_before_the_closing_date_are_refused(dated: str, refused: bool) -> None:
    """QuickBooks refuses changes dated on or before the closing date; later ones pass."""
    books = Books(closing_date=date(2026, 10, 31))

    rules = _rules(_data(EventType.BILL_PAYMENT_CREATED, transaction_date=dated), books)

    assert rules == ([Rule.BEFORE_CLOSING_DATE] if refused else [])


def test_the_closing_date_message_names_both_dates() -> None:
    """The user reads the record's date and the closing date, and what to do."""
    books = Books(closing_date=date(2026, 10, 31))

    found = refusals(_data(EventType.CREDIT_MEMO_CREATED, transaction_date="2026-10-01"), books)

    message = found[0].user_facing_message
    assert "credit memo is dated 2026-10-01" in message
    assert "closing date 2026-10-31" in message


def test_the_error_carries_the_first_rule_and_lists_them_all() -> None:
    """PREFLIGHT_ERROR with the first rule as code; the developer message names every one."""
    data = CustomerUpserted.model_construct(name="A:" + "b" * 41)

    error = preflight_error(refusals(data, NO_BOOKS))

    assert (error.type, error.code) == (PREFLIGHT_ERROR, "NAME_TOO_LONG")
    assert "NAME_INVALID_CHARACTER at name" in error.message
    assert "41" in error.user_facing_message


_DIGITS = st.tuples(st.integers(0, 10**9), st.integers(0, 5)).map(
    lambda pair: Decimal(pair[0]).scaleb(-pair[1])
)


@given(quantity=st.none() | _DIGITS, rate=_DIGITS, cents=st.integers(-(10**11), 10**11))
def test_a_line_is_refused_exactly_when_its_amount_is_not_quantity_times_rate(
    quantity: Decimal | None, rate: Decimal, cents: int
) -> None:
    """Over any quantity, rate and amount: refused iff amount != round(quantity x rate)."""
    amount = Decimal(cents).scaleb(-2)
    line = SalesLine.model_construct(item_id="i", quantity=quantity, rate=rate, amount=amount)
    data = InvoiceCreated.model_construct(lines=[line])
    product = (Decimal(1) if quantity is None else quantity) * rate

    refused = _rules(data) == [Rule.AMOUNT_RATE_MISMATCH]

    assert refused == (product.quantize(Decimal("0.01"), rounding="ROUND_HALF_UP") != amount)
