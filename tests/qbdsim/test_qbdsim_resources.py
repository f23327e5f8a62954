"""The list and transaction types added for QuickBooks-valid books, through the SDK."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from conductor import Conductor

from qbdsim import RESOURCES, SimulatorServer

from .conftest import Books

# create kwargs from the demo books and the id of an open bill
Args = Callable[[Books, str], dict[str, Any]]


def _staples(b: Books) -> str:
    return b.id("vendors", "Staples")


def _expense(b: Books, amount: str) -> list[dict[str, Any]]:
    return [{"account_id": b.id("accounts", "Office Supplies"), "amount": amount}]


# SDK resource -> (API path, create kwargs, update kwargs or None when the SDK has no update)
CASES: dict[str, tuple[str, Args, dict[str, Any] | None]] = {
    "sales_tax_codes": (
        "sales-tax-codes",
        lambda b, bill: {"name": "EXM", "is_taxable": False, "description": "Exempt"},
        {"description": "Exempt sales"},
    ),
    "sales_tax_items": (
        "sales-tax-items",
        lambda b, bill: {"name": "County Tax", "tax_rate": "0.5", "tax_vendor_id": _staples(b)},
        {"tax_rate": "0.75"},
    ),
    "sales_tax_group_items": (
        "sales-tax-group-items",
        lambda b, bill: {
            "name": "All Taxes",
            "sales_tax_item_ids": [b.id("sales-tax-items", "State Sales Tax")],
        },
        {"description": "State only"},
    ),
    "payment_methods": (
        "payment-methods",
        lambda b, bill: {"name": "Wire", "payment_method_type": "other"},
        None,
    ),
    "date_driven_terms": (
        "date-driven-terms",
        lambda b, bill: {"name": "Due 1st", "due_day_of_month": 1, "grace_period_days": 5},
        None,
    ),
    "other_charge_items": (
        "other-charge-items",
        lambda b, bill: {
            "name": "Handling",
            "sales_or_purchase_details": {
                "posting_account_id": b.id("accounts", "Shipping Income"),
                "price": "4.5",
            },
        },
        {"name": "Handling Fee"},
    ),
    "discount_items": (
        "discount-items",
        lambda b, bill: {
            "name": "Loyalty",
            "account_id": b.id("accounts", "Discounts Given"),
            "discount_rate": "5",
        },
        {"discount_rate": "7.50"},
    ),
    "credit_memos": (
        "credit-memos",
        lambda b, bill: {
            "customer_id": b.id("customers", "Acme Corporation"),
            "transaction_date": "2024-10-01",
            "lines": [{"amount": "12.00"}],
        },
        {"memo": "Returned goods"},
    ),
    "vendor_credits": (
        "vendor-credits",
        lambda b, bill: {
            "vendor_id": _staples(b),
            "transaction_date": "2024-10-01",
            "expense_lines": _expense(b, "8.00"),
        },
        {"memo": "Refund"},
    ),
    "bill_check_payments": (
        "bill-check-payments",
        lambda b, bill: {
            "vendor_id": _staples(b),
            "transaction_date": "2024-10-01",
            "bank_account_id": b.id("accounts", "Checking"),
            "apply_to_transactions": [{"transaction_id": bill}],
        },
        {"memo": "Check 1001"},
    ),
    "bill_credit_card_payments": (
        "bill-credit-card-payments",
        lambda b, bill: {
            "vendor_id": _staples(b),
            "transaction_date": "2024-10-01",
            "credit_card_account_id": b.id("accounts", "Visa Business Card"),
            "apply_to_transactions": [{"transaction_id": bill}],
        },
        None,
    ),
}


@pytest.fixture
def bill(client: Conductor, books: Books) -> str:
    """An open bill of Staples for 30.00."""
    created = client.qbd.bills.create(
        vendor_id=_staples(books),
        transaction_date="2024-09-01",
        expense_lines=_expense(books, "30.00"),
        conductor_end_user_id=books.end_user,
    )
    return str(created.id)


@pytest.mark.parametrize("attr", sorted(CASES))
def test_create_retrieve_list(
    attr: str, client: Conductor, books: Books, bill: str, sim: SimulatorServer
) -> None:
    """Each new type is created, retrieved and listed with its SDK path and shape."""
    path, args, _ = CASES[attr]
    resource = getattr(client.qbd, attr)

    created = resource.create(**args(books, bill), conductor_end_user_id=books.end_user)
    fetched = resource.retrieve(created.id, conductor_end_user_id=books.end_user)
    listed = resource.list(conductor_end_user_id=books.end_user)

    ids = [o.id for o in (listed.data if hasattr(listed, "data") else listed)]
    assert fetched.id == created.id
    assert created.id in ids
    assert created.object_type == RESOURCES[path].object_type
    assert sim.objects(books.end_user, path)[-1]["id"] == created.id


@pytest.mark.parametrize("attr", sorted(a for a, case in CASES.items() if case[2] is not None))
def test_update(attr: str, client: Conductor, books: Books, bill: str) -> None:
    """Each new updatable type takes an update with its revision number."""
    _, args, changes = CASES[attr]
    assert changes is not None
    resource = getattr(client.qbd, attr)
    created = resource.create(**args(books, bill), conductor_end_user_id=books.end_user)

    updated = resource.update(
        created.id,
        revision_number=created.revision_number,
        **changes,
        conductor_end_user_id=books.end_user,
    )

    key, value = next(iter(changes.items()))
    assert getattr(updated, key) == value
    assert updated.revision_number != created.revision_number


@pytest.mark.parametrize("attr", sorted(CASES))
def test_response_carries_every_sdk_key(
    attr: str, client: Conductor, books: Books, bill: str
) -> None:
    """The JSON of each new type has every key its SDK model declares."""
    path, args, _ = CASES[attr]
    resource = getattr(client.qbd, attr)

    response = resource.with_raw_response.create(
        **args(books, bill), conductor_end_user_id=books.end_user
    )

    model = RESOURCES[path].model
    keys = {field.alias or name for name, field in model.model_fields.items()}
    assert set(response.http_response.json()) == keys


def test_date_driven_terms_set_the_due_date(client: Conductor, books: Books) -> None:
    """An invoice on date-driven terms is due on that day of the next month past the grace."""
    terms = client.qbd.date_driven_terms.create(
        name="Due 10th",
        due_day_of_month=10,
        grace_period_days=5,
        conductor_end_user_id=books.end_user,
    )

    invoice = client.qbd.invoices.create(
        customer_id=books.id("customers", "Acme Corporation"),
        transaction_date="2024-10-07",
        terms_id=terms.id,
        conductor_end_user_id=books.end_user,
    )

    assert str(invoice.due_date) == "2024-11-10"


def test_payment_methods_filter_by_type(client: Conductor, books: Books) -> None:
    """paymentMethodType narrows the payment methods list."""
    listed = client.qbd.payment_methods.list(
        payment_method_type="visa", conductor_end_user_id=books.end_user
    )

    assert [m.name for m in listed.data] == ["Visa"]
