"""Sales tax on sales transactions, and the tax lists of the demo company file."""

from __future__ import annotations

from typing import Any

import conductor
import pytest
from conductor import Conductor

from .conftest import Books


def _lines(books: Books) -> list[dict[str, Any]]:
    """A taxable product (2 x 39.00) and a non-taxable service (150.00)."""
    return [
        {"item_id": books.id("non-inventory-items", "Desk Lamp"), "quantity": 2},
        {"item_id": books.id("service-items", "Consulting Hour"), "quantity": 1},
    ]


def _invoice(client: Conductor, books: Books, **fields: Any) -> Any:
    fields.setdefault("customer_id", books.id("customers", "Acme Corporation"))
    return client.qbd.invoices.create(
        transaction_date="2024-10-01",
        lines=fields.pop("lines", _lines(books)),
        conductor_end_user_id=books.end_user,
        **fields,
    )


def test_taxable_lines_are_taxed_at_the_items_rate(client: Conductor, books: Books) -> None:
    """Only lines whose code is taxable are taxed, at the sales tax item's rate."""
    invoice = _invoice(
        client, books, sales_tax_item_id=books.id("sales-tax-items", "State Sales Tax")
    )

    assert invoice.subtotal == "228.00"
    assert invoice.sales_tax_percentage == "8.25"
    assert invoice.sales_tax_total == "6.44"
    assert invoice.balance_remaining == "234.44"
    assert [line.sales_tax_code.full_name for line in invoice.lines] == ["Tax", "Non"]


def test_no_sales_tax_item_means_no_tax(client: Conductor, books: Books) -> None:
    """Without a sales tax item (on the invoice or the customer) nothing is taxed."""
    invoice = _invoice(client, books)

    assert (invoice.sales_tax_total, invoice.balance_remaining) == ("0.00", "228.00")


def test_non_taxable_customer_code_pays_no_tax(client: Conductor, books: Books) -> None:
    """A transaction whose customer code is non-taxable has no tax on taxable lines."""
    invoice = _invoice(
        client,
        books,
        sales_tax_item_id=books.id("sales-tax-items", "State Sales Tax"),
        sales_tax_code_id=books.id("sales-tax-codes", "Non"),
    )

    assert invoice.sales_tax_total == "0.00"


def test_line_code_overrides_the_items_code(client: Conductor, books: Books) -> None:
    """A line's own sales tax code wins over its item's."""
    lines = _lines(books)
    lines[1]["sales_tax_code_id"] = books.id("sales-tax-codes", "Tax")

    invoice = _invoice(
        client, books, lines=lines, sales_tax_item_id=books.id("sales-tax-items", "State Sales Tax")
    )

    assert invoice.sales_tax_total == "18.81"


def test_customer_defaults_apply_to_new_transactions(client: Conductor, books: Books) -> None:
    """A customer's tax code and sales tax item are taken when the invoice names none."""
    customer = client.qbd.customers.create(
        name="Taxed Customer",
        sales_tax_code_id=books.id("sales-tax-codes", "Tax"),
        sales_tax_item_id=books.id("sales-tax-items", "City Sales Tax"),
        conductor_end_user_id=books.end_user,
    )

    invoice = _invoice(client, books, customer_id=customer.id, lines=[{"amount": "100.00"}])

    assert invoice.sales_tax_item.full_name == "City Sales Tax"
    assert invoice.sales_tax_total == "1.00"


def test_group_rate_is_the_sum_of_its_items(client: Conductor, books: Books) -> None:
    """A sales tax group taxes at the sum of its items' rates."""
    invoice = _invoice(
        client, books, sales_tax_item_id=books.id("sales-tax-group-items", "State + City Tax")
    )

    assert invoice.sales_tax_percentage == "9.25"
    assert invoice.sales_tax_total == "7.22"


def test_sales_receipt_total_includes_tax(client: Conductor, books: Books) -> None:
    """A sales receipt's totalAmount is its subtotal plus tax."""
    receipt = client.qbd.sales_receipts.create(
        customer_id=books.id("customers", "Acme Corporation"),
        transaction_date="2024-10-01",
        sales_tax_item_id=books.id("sales-tax-items", "State Sales Tax"),
        lines=_lines(books),
        conductor_end_user_id=books.end_user,
    )

    assert (receipt.subtotal, receipt.sales_tax_total, receipt.total_amount) == (
        "228.00",
        "6.44",
        "234.44",
    )


def test_credit_memo_credit_includes_tax(client: Conductor, books: Books) -> None:
    """A credit memo's totalAmount and creditRemaining include its tax."""
    memo = client.qbd.credit_memos.create(
        customer_id=books.id("customers", "Acme Corporation"),
        transaction_date="2024-10-01",
        sales_tax_item_id=books.id("sales-tax-items", "State Sales Tax"),
        lines=_lines(books)[:1],
        conductor_end_user_id=books.end_user,
    )

    assert (memo.total_amount, memo.credit_remaining) == ("84.44", "84.44")


def test_tax_follows_an_edit(client: Conductor, books: Books) -> None:
    """Editing the lines recomputes the tax and the balance."""
    invoice = _invoice(
        client, books, sales_tax_item_id=books.id("sales-tax-items", "State Sales Tax")
    )

    updated = client.qbd.invoices.update(
        invoice.id,
        revision_number=invoice.revision_number,
        lines=[{"id": invoice.lines[0].id, "quantity": 1}],
        conductor_end_user_id=books.end_user,
    )

    assert (updated.sales_tax_total, updated.balance_remaining) == ("3.22", "42.22")


def test_demo_books_hold_the_usual_lists(client: Conductor, books: Books) -> None:
    """The demo file has tax codes, a tax item, payment methods, terms and special items."""
    eu = books.end_user
    codes = {
        c.name: c.is_taxable for c in client.qbd.sales_tax_codes.list(conductor_end_user_id=eu).data
    }
    rates = {t.name: t.tax_rate for t in client.qbd.sales_tax_items.list(conductor_end_user_id=eu)}
    methods = [m.name for m in client.qbd.payment_methods.list(conductor_end_user_id=eu).data]
    accounts = {a.account_type for a in client.qbd.accounts.list(conductor_end_user_id=eu).data}

    assert codes == {"Tax": True, "Non": False}
    assert rates["State Sales Tax"] == "8.25"
    assert methods == ["Cash", "Check", "Visa"]
    assert {"bank", "credit_card"} <= accounts
    assert client.qbd.date_driven_terms.list(conductor_end_user_id=eu).data
    assert [d.name for d in client.qbd.discount_items.list(conductor_end_user_id=eu)] == [
        "Prompt Pay Discount"
    ]
    assert [o.name for o in client.qbd.other_charge_items.list(conductor_end_user_id=eu)] == [
        "Shipping"
    ]


def test_discount_item_takes_its_percent_of_the_line_above(client: Conductor, books: Books) -> None:
    """A discount-item line with no amount takes its rate percent off the line above."""
    lines = [*_lines(books)[1:], {"item_id": books.id("discount-items", "Prompt Pay Discount")}]

    invoice = _invoice(client, books, lines=lines)

    assert [line.amount for line in invoice.lines] == ["150.00", "-3.00"]
    assert invoice.subtotal == "147.00"


def test_tax_code_name_longer_than_3_is_3070(client: Conductor, end_user: str) -> None:
    """Sales tax code names are capped at 3 characters."""
    with pytest.raises(conductor.InternalServerError) as caught:
        client.qbd.sales_tax_codes.create(
            name="TAXX", is_taxable=True, conductor_end_user_id=end_user
        )

    assert caught.value.body["error"]["integrationCode"] == "3070"
