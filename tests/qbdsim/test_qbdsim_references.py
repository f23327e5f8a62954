"""QuickBooks-valid books: every reference checked, name rules, amounts, the closing date."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import conductor
import pytest
from conductor import Conductor

from qbdsim import SimulatorServer

from .conftest import Books

BOGUS = "80000099-1234567890"
Args = Callable[[Books], dict[str, Any]]
Setup = Callable[[Conductor, Books], dict[str, Any]]


@dataclass(frozen=True)
class Case:
    """One request carrying one bad reference."""

    attr: str
    kwargs: Setup
    kind: str
    owner: str


def _acme(b: Books) -> str:
    return b.id("customers", "Acme Corporation")


def _invoice(**extra: Any) -> Setup:
    return lambda c, b: {"customer_id": _acme(b), "transaction_date": "2024-10-01", **extra}


def _payment(**extra: Any) -> Setup:
    return lambda c, b: {
        "customer_id": _acme(b),
        "total_amount": "1.00",
        "transaction_date": "2024-10-01",
        **extra,
    }


def _discounted_payment(client: Conductor, books: Books) -> dict[str, Any]:
    invoice = client.qbd.invoices.create(
        customer_id=_acme(books),
        transaction_date="2024-10-01",
        lines=[{"amount": "10.00"}],
        conductor_end_user_id=books.end_user,
    )
    application = {
        "transaction_id": invoice.id,
        "discount_amount": "1.00",
        "discount_account_id": BOGUS,
    }
    return _payment(apply_to_transactions=[application])(client, books)


def _staples(b: Books) -> str:
    return b.id("vendors", "Staples")


INVALID: dict[str, Case] = {
    "invoice customer": Case(
        "invoices",
        lambda c, b: {"customer_id": BOGUS, "transaction_date": "2024-10-01"},
        "Customer",
        "Invoice",
    ),
    "invoice line item": Case("invoices", _invoice(lines=[{"item_id": BOGUS}]), "Item", "Invoice"),
    "invoice class": Case("invoices", _invoice(class_id=BOGUS), "Class", "Invoice"),
    "invoice terms": Case("invoices", _invoice(terms_id=BOGUS), "Terms", "Invoice"),
    "invoice tax item": Case(
        "invoices", _invoice(sales_tax_item_id=BOGUS), "ItemSalesTax", "Invoice"
    ),
    "invoice line tax code": Case(
        "invoices",
        _invoice(lines=[{"amount": "1.00", "sales_tax_code_id": BOGUS}]),
        "SalesTaxCode",
        "Invoice",
    ),
    "invoice customer message": Case(
        "invoices", _invoice(customer_message_id=BOGUS), "CustomerMsg", "Invoice"
    ),
    "invoice sales rep": Case(
        "invoices", _invoice(sales_representative_id=BOGUS), "SalesRep", "Invoice"
    ),
    "payment method": Case(
        "receive_payments", _payment(payment_method_id=BOGUS), "PaymentMethod", "ReceivePayment"
    ),
    "deposit account": Case(
        "receive_payments", _payment(deposit_to_account_id=BOGUS), "Account", "ReceivePayment"
    ),
    "applied invoice": Case(
        "receive_payments",
        _payment(apply_to_transactions=[{"transaction_id": "ABC-1234567890"}]),
        "Invoice",
        "ReceivePayment",
    ),
    "discount account": Case("receive_payments", _discounted_payment, "Account", "ReceivePayment"),
    "receipt payment method": Case(
        "sales_receipts",
        lambda c, b: {"transaction_date": "2024-10-01", "payment_method_id": BOGUS},
        "PaymentMethod",
        "SalesReceipt",
    ),
    "bill expense account": Case(
        "bills",
        lambda c, b: {
            "vendor_id": _staples(b),
            "transaction_date": "2024-10-01",
            "expense_lines": [{"account_id": BOGUS, "amount": "1.00"}],
        },
        "Account",
        "Bill",
    ),
    "customer tax code": Case(
        "customers",
        lambda c, b: {"name": "Taxless", "sales_tax_code_id": BOGUS},
        "SalesTaxCode",
        "Customer",
    ),
    "item tax code": Case(
        "service_items",
        lambda c, b: {"name": "Taxless", "sales_tax_code_id": BOGUS},
        "SalesTaxCode",
        "ItemService",
    ),
    "item posting account": Case(
        "service_items",
        lambda c, b: {"name": "Orphan", "sales_or_purchase_details": {"posting_account_id": BOGUS}},
        "Account",
        "ItemService",
    ),
    "tax code's tax item": Case(
        "sales_tax_codes",
        lambda c, b: {"name": "OUT", "is_taxable": True, "sales_tax_item_id": BOGUS},
        "ItemSalesTax",
        "SalesTaxCode",
    ),
    "bill payment bank account": Case(
        "bill_check_payments",
        lambda c, b: {
            "vendor_id": _staples(b),
            "transaction_date": "2024-10-01",
            "bank_account_id": BOGUS,
            "apply_to_transactions": [{"transaction_id": "ABC-1"}],
        },
        "Account",
        "BillPaymentCheck",
    ),
}


@pytest.mark.parametrize("name", sorted(INVALID))
def test_every_reference_is_checked(name: str, client: Conductor, books: Books) -> None:
    """An id that is not in the company file is QuickBooks' 3140, naming the kind and the id."""
    case = INVALID[name]
    kwargs = case.kwargs(client, books)

    with pytest.raises(conductor.InternalServerError) as caught:
        getattr(client.qbd, case.attr).create(**kwargs, conductor_end_user_id=books.end_user)

    error = caught.value.body["error"]
    assert (error["code"], error["integrationCode"]) == ("QBD_REQUEST_ERROR", "3140")
    assert f"There is an invalid reference to QuickBooks {case.kind} " in error["message"]
    assert f"in the {case.owner}." in error["message"]


# SDK resource -> (create kwargs besides the name, name cap)
NAME_CAPS: dict[str, tuple[Args, int]] = {
    "customers": (lambda b: {}, 41),
    "vendors": (lambda b: {}, 41),
    "service_items": (lambda b: {}, 31),
    "classes": (lambda b: {}, 31),
    "standard_terms": (lambda b: {}, 31),
    "accounts": (lambda b: {"account_type": "expense"}, 31),
    "payment_methods": (lambda b: {"payment_method_type": "cash"}, 31),
    "sales_tax_codes": (lambda b: {"is_taxable": True}, 3),
}


@pytest.mark.parametrize("attr", sorted(NAME_CAPS))
def test_name_at_the_cap_is_accepted(attr: str, client: Conductor, books: Books) -> None:
    """A name exactly as long as its list allows is accepted."""
    args, cap = NAME_CAPS[attr]

    created = getattr(client.qbd, attr).create(
        name="Z" * cap, **args(books), conductor_end_user_id=books.end_user
    )

    assert created.name == "Z" * cap


@pytest.mark.parametrize("attr", sorted(NAME_CAPS))
def test_name_over_the_cap_is_3070(attr: str, client: Conductor, books: Books) -> None:
    """A name one character over its list's cap is QuickBooks' 'too long' (3070)."""
    args, cap = NAME_CAPS[attr]

    with pytest.raises(conductor.InternalServerError) as caught:
        getattr(client.qbd, attr).create(
            name="Z" * (cap + 1), **args(books), conductor_end_user_id=books.end_user
        )

    assert caught.value.body["error"]["integrationCode"] == "3070"


@pytest.mark.parametrize("attr", ["vendors", "customers", "payment_methods"])
def test_colon_in_a_name_is_refused(attr: str, client: Conductor, books: Books) -> None:
    """A colon is QuickBooks' level separator, so no name may contain one (3180)."""
    args = NAME_CAPS[attr][0]

    with pytest.raises(conductor.InternalServerError) as caught:
        getattr(client.qbd, attr).create(
            name="Parts: East", **args(books), conductor_end_user_id=books.end_user
        )

    error = caught.value.body["error"]
    assert error["integrationCode"] == "3180"
    assert "colon" in error["message"]


def test_mismatched_amount_wins_over_the_rate(client: Conductor, books: Books) -> None:
    """With quantity, rate and an amount that disagrees, QuickBooks keeps the amount."""
    invoice = client.qbd.invoices.create(
        customer_id=_acme(books),
        transaction_date="2024-10-01",
        lines=[{"quantity": 3, "rate": "10.00", "amount": "20.00"}],
        conductor_end_user_id=books.end_user,
    )

    line = invoice.lines[0]
    assert (line.quantity, line.rate, line.amount) == (3, "6.66667", "20.00")
    assert invoice.subtotal == "20.00"


def test_matching_amount_keeps_the_rate(client: Conductor, books: Books) -> None:
    """When amount is quantity x rate to the cent, the rate is kept as sent."""
    invoice = client.qbd.invoices.create(
        customer_id=_acme(books),
        transaction_date="2024-10-01",
        lines=[{"quantity": 3, "rate": "3.3333", "amount": "10.00"}],
        conductor_end_user_id=books.end_user,
    )

    assert (invoice.lines[0].rate, invoice.lines[0].amount) == ("3.3333", "10.00")


def test_transaction_on_the_closing_date_is_refused(
    client: Conductor, books: Books, sim: SimulatorServer
) -> None:
    """A transaction dated on the closing date cannot be added."""
    sim.set_closing_date(books.end_user, "2024-09-30")

    with pytest.raises(conductor.InternalServerError) as caught:
        client.qbd.invoices.create(
            customer_id=_acme(books),
            transaction_date="2024-09-30",
            conductor_end_user_id=books.end_user,
        )

    error = caught.value.body["error"]
    assert error["integrationCode"] == "3180"
    assert "closing date 2024-09-30" in error["message"]


def test_transaction_after_the_closing_date_is_accepted(
    client: Conductor, books: Books, sim: SimulatorServer
) -> None:
    """A transaction dated the day after the closing date is added."""
    sim.set_closing_date(books.end_user, "2024-09-30")

    invoice = client.qbd.invoices.create(
        customer_id=_acme(books),
        transaction_date="2024-10-01",
        conductor_end_user_id=books.end_user,
    )

    assert str(invoice.transaction_date) == "2024-10-01"


def test_closed_transaction_cannot_be_changed(
    client: Conductor, books: Books, sim: SimulatorServer
) -> None:
    """Once its period is closed, a transaction cannot be edited, voided or deleted (3170)."""
    eu = books.end_user
    invoice = client.qbd.invoices.create(
        customer_id=_acme(books), transaction_date="2024-09-15", conductor_end_user_id=eu
    )
    sim.set_closing_date(eu, "2024-09-30")

    codes = []
    for attempt in (
        lambda: client.qbd.invoices.update(
            invoice.id, revision_number=invoice.revision_number, memo="x", conductor_end_user_id=eu
        ),
        lambda: client.qbd.invoices.void(invoice.id, conductor_end_user_id=eu),
        lambda: client.qbd.invoices.delete(invoice.id, conductor_end_user_id=eu),
    ):
        with pytest.raises(conductor.InternalServerError) as caught:
            attempt()
        codes.append(caught.value.body["error"]["integrationCode"])

    assert codes == ["3170", "3170", "3170"]


def test_clearing_the_closing_date_opens_the_period(
    client: Conductor, books: Books, sim: SimulatorServer
) -> None:
    """A null closing date lets old transactions in again."""
    sim.set_closing_date(books.end_user, "2024-09-30")
    sim.set_closing_date(books.end_user, None)

    invoice = client.qbd.invoices.create(
        customer_id=_acme(books),
        transaction_date="2024-01-01",
        conductor_end_user_id=books.end_user,
    )

    assert str(invoice.transaction_date) == "2024-01-01"
