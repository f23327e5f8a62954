"""Accounting detail (CONTRACT.md 4b): tax, credits and discounts, payables, lists, settings."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from schemas import (
    EventType,
    InvalidData,
    ObjectType,
    Ref,
    ReferenceList,
    example_event,
    parse_event,
)


def _with(event_type: EventType, **changes: Any) -> dict[str, Any]:
    event = example_event(event_type)
    event["data"].update(changes)
    return event


def _problems(event: dict[str, Any]) -> str:
    with pytest.raises(InvalidData) as caught:
        parse_event(event)
    return "; ".join(caught.value.problems)


def _payment(*applied: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return _with(EventType.PAYMENT_RECEIVED, applied_to=list(applied), **changes)


def test_sales_tax_references_are_refs() -> None:
    """Sales tax codes on lines and the sales tax item are dependencies of a credit memo."""
    data = parse_event(example_event(EventType.CREDIT_MEMO_CREATED)).data

    assert data.refs() == (
        Ref(ObjectType.CUSTOMER, "cus_1001"),
        Ref(ObjectType.SALES_TAX_ITEM, "tax_il_state"),
        Ref(ObjectType.ITEM, "item_consulting"),
        Ref(ObjectType.SALES_TAX_CODE, "tax_non"),
    )


def test_customer_sales_tax_code_is_a_ref() -> None:
    """A customer's sales tax code must be mapped before the customer is written."""
    data = parse_event(_with(EventType.CUSTOMER_UPSERTED, sales_tax_code_id="tax_taxable")).data

    assert data.refs() == (Ref(ObjectType.SALES_TAX_CODE, "tax_taxable"),)


@pytest.mark.parametrize(
    "event_type",
    [EventType.INVOICE_CREATED, EventType.SALES_RECEIPT_CREATED, EventType.INVOICE_UPDATED],
)
def test_sales_tax_item_is_a_ref_of_invoices_and_receipts(event_type: EventType) -> None:
    """`sales_tax_item_id` on invoices and sales receipts resolves as a sales tax item."""
    data = parse_event(_with(event_type, sales_tax_item_id="tax_il")).data

    assert Ref(ObjectType.SALES_TAX_ITEM, "tax_il") in data.refs()


def test_payment_credits_and_discount_account_are_refs() -> None:
    """A payment that applies credits depends on the credit memos and the discount account."""
    data = parse_event(example_event(EventType.PAYMENT_UPDATED)).data

    assert data.refs() == (
        Ref(ObjectType.ACCOUNT, "acct_discounts"),
        Ref(ObjectType.INVOICE, "inv_5001"),
        Ref(ObjectType.CREDIT_MEMO, "cm_7"),
    )


def test_credits_do_not_count_against_the_payment_total() -> None:
    """A zero payment that only applies a credit memo is valid (credits are not cash)."""
    event = _payment(
        {"invoice_id": "a", "amount": "0.00", "credits": [{"credit_memo_id": "c", "amount": "50"}]},
        total_amount="0.00",
    )

    data = parse_event(event).data

    assert data.applied_to[0].credits[0].amount == Decimal("50")  # type: ignore[attr-defined]


def test_the_same_invoice_twice_in_one_payment_is_refused() -> None:
    """Each invoice gets one application per payment."""
    event = _payment({"invoice_id": "a", "amount": "1"}, {"invoice_id": "a", "amount": "2"})

    assert "applied_to names the same invoice_id more than once" in _problems(event)


def test_the_same_credit_memo_twice_on_one_invoice_is_refused() -> None:
    """A credit memo is applied to an invoice once, with one amount."""
    credits = [{"credit_memo_id": "c", "amount": "1"}, {"credit_memo_id": "c", "amount": "2"}]
    event = _payment({"invoice_id": "a", "amount": "0", "credits": credits})

    assert "data.applied_to.0: credits names the same credit_memo_id" in _problems(event)


def test_discount_needs_a_discount_account() -> None:
    """A discount without the account it posts to is refused."""
    event = _payment({"invoice_id": "a", "amount": "10", "discount_amount": "1.00"})

    assert "a discount_amount needs discount_account_id" in _problems(event)


def test_discount_with_its_account_is_accepted() -> None:
    """A discount with `discount_account_id` is kept as a Decimal."""
    event = _payment(
        {"invoice_id": "a", "amount": "10", "discount_amount": "1.00"},
        discount_account_id="acct_disc",
    )

    assert parse_event(event).data.applied_to[0].discount_amount == Decimal("1.00")  # type: ignore[attr-defined]


@pytest.mark.parametrize("amount", [1.0, "-1.00", "1.001", "1e2"])
def test_credit_amounts_are_non_negative_decimal_strings(amount: object) -> None:
    """Credit amounts follow the money rules: strings, two places, never negative."""
    event = _payment(
        {"invoice_id": "a", "amount": "0", "credits": [{"credit_memo_id": "c", "amount": amount}]}
    )

    assert "data.applied_to.0.credits.0.amount" in _problems(event)


def test_negative_discount_is_refused() -> None:
    """A discount amount below zero is refused."""
    event = _payment(
        {"invoice_id": "a", "amount": "1", "discount_amount": "-1"}, discount_account_id="d"
    )

    assert "data.applied_to.0.discount_amount: must be a non-negative" in _problems(event)


def test_bill_payment_method_is_check_or_credit_card() -> None:
    """A bill payment is a check or a credit-card payment, nothing else."""
    event = _with(EventType.BILL_PAYMENT_CREATED, method="cash")

    assert "data.method: Input should be 'check' or 'credit_card'" in _problems(event)


def test_bill_payment_needs_an_application() -> None:
    """A bill payment must apply to at least one bill."""
    event = _with(EventType.BILL_PAYMENT_CREATED, applied_to=[])

    assert "data.applied_to: List should have at least 1 item" in _problems(event)


def test_bill_payment_of_nothing_is_refused() -> None:
    """Applications that add up to zero pay nothing and are refused."""
    event = _with(EventType.BILL_PAYMENT_CREATED, applied_to=[{"bill_id": "b", "amount": "0"}])

    assert "applied_to amounts add up to zero" in _problems(event)


def test_the_same_bill_twice_in_one_payment_is_refused() -> None:
    """Each bill gets one application per bill payment."""
    applied = [{"bill_id": "b", "amount": "1"}, {"bill_id": "b", "amount": "1"}]

    assert "names the same bill_id more than once" in _problems(
        _with(EventType.BILL_PAYMENT_CREATED, applied_to=applied)
    )


def test_bill_payment_refs_are_vendor_account_and_bills() -> None:
    """A bill payment depends on its vendor, the paying account and the bills."""
    data = parse_event(example_event(EventType.BILL_PAYMENT_CREATED)).data

    assert data.refs() == (
        Ref(ObjectType.VENDOR, "ven_77"),
        Ref(ObjectType.ACCOUNT, "acct_checking"),
        Ref(ObjectType.BILL, "bill_301"),
    )


def test_vendor_credit_needs_a_line() -> None:
    """A vendor credit needs at least one expense or item line."""
    event = _with(EventType.VENDOR_CREDIT_CREATED, item_lines=[], expense_lines=[])

    assert "needs at least one of expense_lines or item_lines" in _problems(event)


def test_vendor_credit_ref_number_is_capped_at_20() -> None:
    """Vendor credit reference numbers are capped at QuickBooks' 20 characters."""
    event = _with(EventType.VENDOR_CREDIT_CREATED, ref_number="R" * 21)

    assert "data.ref_number: String should have at most 20 characters" in _problems(event)


def test_bill_payment_ref_number_is_capped_at_11() -> None:
    """Bill payment reference numbers (check numbers) are capped at 11 characters."""
    event = _with(EventType.BILL_PAYMENT_CREATED, ref_number="1" * 12)

    assert "data.ref_number: String should have at most 11 characters" in _problems(event)


@pytest.mark.parametrize(
    "event_type",
    [
        EventType.CLASS_UPSERTED,
        EventType.TERMS_UPSERTED,
        EventType.ACCOUNT_UPSERTED,
        EventType.PAYMENT_METHOD_UPSERTED,
    ],
)
def test_list_names_are_capped_at_31(event_type: EventType) -> None:
    """Class, terms, account and payment method names are capped at 31 characters."""
    assert "data.name: String should have at most 31 characters" in _problems(
        _with(event_type, name="n" * 32)
    )


@pytest.mark.parametrize(
    "event_type",
    [
        EventType.CUSTOMER_UPSERTED,
        EventType.VENDOR_UPSERTED,
        EventType.ITEM_UPSERTED,
        EventType.CLASS_UPSERTED,
        EventType.TERMS_UPSERTED,
        EventType.ACCOUNT_UPSERTED,
        EventType.PAYMENT_METHOD_UPSERTED,
    ],
)
def test_upserts_are_active_unless_told(event_type: EventType) -> None:
    """`is_active` defaults to true and takes a JSON false."""
    active = parse_event(example_event(event_type)).data
    inactive = parse_event(_with(event_type, is_active=False)).data

    assert (active.is_active, inactive.is_active) == (True, False)  # type: ignore[attr-defined]


@pytest.mark.parametrize("value", ["false", 0, None])
def test_is_active_takes_only_json_booleans(value: object) -> None:
    """`"false"`, 0 or null are not booleans: refused rather than guessed."""
    assert "data.is_active" in _problems(_with(EventType.CUSTOMER_UPSERTED, is_active=value))


def test_account_type_must_be_a_quickbooks_account_type() -> None:
    """An account type QuickBooks does not know is refused."""
    assert "data.account_type" in _problems(_with(EventType.ACCOUNT_UPSERTED, account_type="cash"))


def test_account_number_is_capped_at_7() -> None:
    """Account numbers are capped at QuickBooks' 7 characters."""
    assert "data.number: String should have at most 7 characters" in _problems(
        _with(EventType.ACCOUNT_UPSERTED, number="12345678")
    )


def test_payment_method_kind_is_optional_but_known() -> None:
    """A payment method without `kind` is valid; an unknown kind is refused."""
    event = example_event(EventType.PAYMENT_METHOD_UPSERTED)
    del event["data"]["kind"]

    assert parse_event(event).data.kind is None  # type: ignore[attr-defined]
    assert "data.kind" in _problems(_with(EventType.PAYMENT_METHOD_UPSERTED, kind="bitcoin"))


@pytest.mark.parametrize("percent", ["0", "2.5", "100", "100.00000", "99.99999"])
def test_terms_discount_percent_from_0_to_100_is_accepted(percent: str) -> None:
    """A discount percentage is a decimal string from 0 to 100."""
    data = parse_event(_with(EventType.TERMS_UPSERTED, discount_percent=percent)).data

    assert data.discount_percent == Decimal(percent)  # type: ignore[attr-defined]


@pytest.mark.parametrize("percent", ["100.01", "101", "-1", "2.123456", 2.5, "2%"])
def test_terms_discount_percent_outside_the_rule_is_refused(percent: object) -> None:
    """Percentages above 100, negative, too precise, JSON numbers or with % are refused."""
    assert "data.discount_percent: must be a percentage from 0 to 100" in _problems(
        _with(EventType.TERMS_UPSERTED, discount_percent=percent)
    )


def test_terms_discount_needs_both_days_and_percent() -> None:
    """An early-payment discount needs how long it lasts as well as how much it is."""
    event = _with(EventType.TERMS_UPSERTED, discount_days=None)

    assert "discount_days and discount_percent must be given together" in _problems(event)


@pytest.mark.parametrize("days", [-1, 1000, 1.5, "30"])
def test_terms_days_are_whole_days_up_to_999(days: object) -> None:
    """Due days are whole numbers from 0 to 999, given as JSON integers."""
    assert "data.due_days" in _problems(_with(EventType.TERMS_UPSERTED, due_days=days))


def test_closing_date_is_a_date() -> None:
    """`company.settings_updated` carries the closing date as a date."""
    data = parse_event(example_event(EventType.COMPANY_SETTINGS_UPDATED)).data

    assert data.closing_date == date(2026, 10, 31)  # type: ignore[attr-defined]


def test_closing_date_null_removes_it() -> None:
    """A null closing date is valid: it removes the closing date."""
    data = parse_event(_with(EventType.COMPANY_SETTINGS_UPDATED, closing_date=None)).data

    assert data.closing_date is None  # type: ignore[attr-defined]


@pytest.mark.parametrize("value", ["2026-10-31T00:00:00Z", "31/10/2026", 20261031])
def test_closing_date_must_be_an_iso_date(value: object) -> None:
    """A closing date other than YYYY-MM-DD is refused."""
    assert "data.closing_date: must be a real calendar date" in _problems(
        _with(EventType.COMPANY_SETTINGS_UPDATED, closing_date=value)
    )


def test_reference_pull_takes_the_new_lists_and_invoice_status() -> None:
    """Sales tax, payment methods, more terms and items, and invoice status can be pulled."""
    wanted = [
        "sales_tax_codes",
        "sales_tax_items",
        "payment_methods",
        "date_driven_terms",
        "other_charge_items",
        "discount_items",
        "invoice_status",
    ]

    data = parse_event(_with(EventType.REFERENCE_PULL_REQUESTED, object_types=wanted)).data

    assert data.object_types == [ReferenceList(name) for name in wanted]  # type: ignore[attr-defined]


def test_reference_pull_of_an_unknown_list_is_refused() -> None:
    """A list qbd-sync cannot pull is refused with its position."""
    event = _with(EventType.REFERENCE_PULL_REQUESTED, object_types=["customers", "employees"])

    assert "data.object_types.1" in _problems(event)


@pytest.mark.parametrize(
    "object_type",
    ["sales_tax_code", "sales_tax_item", "credit_memo", "bill_payment", "vendor_credit"],
)
def test_mapping_set_accepts_the_new_object_types(object_type: str) -> None:
    """A user can map the new kinds of app object to QuickBooks objects."""
    data = parse_event(_with(EventType.MAPPING_SET, object_type=object_type)).data

    assert data.object_type == ObjectType(object_type)  # type: ignore[attr-defined]
