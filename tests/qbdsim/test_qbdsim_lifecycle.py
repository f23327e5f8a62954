"""Updates, voids and deletes of transactions, with QuickBooks' edit sequences."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import conductor
import httpx
import pytest
from conductor import Conductor

from qbdsim import SimulatorServer

from .conftest import Books

Create = Callable[[Conductor, Books], Any]


def _invoice(client: Conductor, books: Books, amount: str = "100.00") -> Any:
    return client.qbd.invoices.create(
        customer_id=books.id("customers", "Acme Corporation"),
        transaction_date="2024-10-01",
        memo="Work",
        lines=[{"amount": amount}],
        conductor_end_user_id=books.end_user,
    )


def _bill(client: Conductor, books: Books) -> Any:
    return client.qbd.bills.create(
        vendor_id=books.id("vendors", "Staples"),
        transaction_date="2024-10-01",
        memo="Work",
        expense_lines=[{"account_id": books.id("accounts", "Office Supplies"), "amount": "40.00"}],
        item_lines=[{"item_id": books.id("non-inventory-items", "Desk Lamp"), "quantity": 1}],
        conductor_end_user_id=books.end_user,
    )


def _payment(client: Conductor, books: Books, invoice_id: str, amount: str) -> Any:
    return client.qbd.receive_payments.create(
        customer_id=books.id("customers", "Acme Corporation"),
        total_amount=amount,
        transaction_date="2024-10-05",
        apply_to_transactions=[{"transaction_id": invoice_id, "payment_amount": amount}],
        conductor_end_user_id=books.end_user,
    )


def _sales_line(books: Books) -> list[dict[str, Any]]:
    return [{"item_id": books.id("service-items", "Consulting Hour"), "quantity": 2}]


# resource attribute -> (create, the total key after a void)
VOIDABLE: dict[str, tuple[Create, str]] = {
    "invoices": (_invoice, "subtotal"),
    "sales_receipts": (
        lambda c, b: c.qbd.sales_receipts.create(
            transaction_date="2024-10-01",
            customer_id=b.id("customers", "Acme Corporation"),
            memo="Work",
            lines=_sales_line(b),
            conductor_end_user_id=b.end_user,
        ),
        "total_amount",
    ),
    "credit_memos": (
        lambda c, b: c.qbd.credit_memos.create(
            customer_id=b.id("customers", "Acme Corporation"),
            transaction_date="2024-10-01",
            memo="Work",
            lines=_sales_line(b),
            conductor_end_user_id=b.end_user,
        ),
        "total_amount",
    ),
    "bills": (_bill, "amount_due"),
    "vendor_credits": (
        lambda c, b: c.qbd.vendor_credits.create(
            vendor_id=b.id("vendors", "Staples"),
            transaction_date="2024-10-01",
            memo="Work",
            expense_lines=[{"account_id": b.id("accounts", "Office Supplies"), "amount": "9.00"}],
            conductor_end_user_id=b.end_user,
        ),
        "credit_amount",
    ),
}


def test_update_bumps_revision_and_updated_at(client: Conductor, books: Books) -> None:
    """An update returns a new revisionNumber and a later-or-equal updatedAt."""
    invoice = _invoice(client, books)

    updated = client.qbd.invoices.update(
        invoice.id,
        revision_number=invoice.revision_number,
        memo="Edited",
        conductor_end_user_id=books.end_user,
    )

    assert updated.memo == "Edited"
    assert int(updated.revision_number) > int(invoice.revision_number)
    assert updated.updated_at >= invoice.updated_at


def test_stale_revision_message_names_the_revision(client: Conductor, books: Books) -> None:
    """An update with an old revisionNumber fails with Conductor's 3200 text."""
    invoice = _invoice(client, books)
    client.qbd.invoices.update(
        invoice.id, revision_number=invoice.revision_number, conductor_end_user_id=books.end_user
    )

    with pytest.raises(conductor.InternalServerError) as caught:
        client.qbd.invoices.update(
            invoice.id,
            revision_number=invoice.revision_number,
            memo="late",
            conductor_end_user_id=books.end_user,
        )

    error = caught.value.body["error"]
    assert (error["type"], error["code"], error["integrationCode"]) == (
        "INTEGRATION_ERROR",
        "QBD_REQUEST_ERROR",
        "3200",
    )
    assert error["message"] == (
        f'QBD Request Error (3200): The provided revision number (edit sequence) "'
        f'{invoice.revision_number}" is out-of-date.'
    )


def test_update_without_lines_keeps_them(client: Conductor, books: Books) -> None:
    """An update that carries no lines keeps every line and the totals."""
    invoice = _invoice(client, books)

    updated = client.qbd.invoices.update(
        invoice.id,
        revision_number=invoice.revision_number,
        memo="Edited",
        conductor_end_user_id=books.end_user,
    )

    assert [line.id for line in updated.lines] == [line.id for line in invoice.lines]
    assert updated.balance_remaining == "100.00"


def test_bill_clear_expense_lines_keeps_item_lines(client: Conductor, books: Books) -> None:
    """clearExpenseLines removes the expense lines only; amountDue follows."""
    bill = _bill(client, books)

    updated = client.qbd.bills.update(
        bill.id,
        revision_number=bill.revision_number,
        clear_expense_lines=True,
        conductor_end_user_id=books.end_user,
    )

    assert updated.expense_lines == []
    assert [line.id for line in updated.item_lines] == [bill.item_lines[0].id]
    assert updated.amount_due == "39.00"


def test_bill_item_lines_are_replaced(client: Conductor, books: Books) -> None:
    """Item lines sent with an id are kept, '-1' adds one, and the rest go."""
    bill = _bill(client, books)
    kept = bill.item_lines[0].id

    updated = client.qbd.bills.update(
        bill.id,
        revision_number=bill.revision_number,
        item_lines=[{"id": kept, "quantity": 2}, {"id": "-1", "amount": "5.00"}],
        conductor_end_user_id=books.end_user,
    )

    assert [line.amount for line in updated.item_lines] == ["78.00", "5.00"]
    assert updated.item_lines[0].id == kept
    assert updated.amount_due == "123.00"


@pytest.mark.parametrize("attr", sorted(VOIDABLE))
def test_void_zeroes_amounts_and_marks_the_memo(attr: str, client: Conductor, books: Books) -> None:
    """A voided transaction stays, with zero amounts and a 'VOID:' memo."""
    create, total_key = VOIDABLE[attr]
    resource = getattr(client.qbd, attr)
    created = create(client, books)

    voided = resource.void(created.id, conductor_end_user_id=books.end_user)
    fetched = resource.retrieve(created.id, conductor_end_user_id=books.end_user)

    lines = fetched.lines if hasattr(fetched, "lines") else fetched.expense_lines
    assert voided.voided is True
    assert getattr(fetched, total_key) == "0.00"
    assert {line.amount for line in lines} == {"0.00"}
    assert fetched.memo == "VOID: Work"


def test_voiding_twice_changes_nothing(client: Conductor, books: Books) -> None:
    """A second void succeeds and leaves the revision as the first void left it."""
    invoice = _invoice(client, books)
    first = client.qbd.invoices.void(invoice.id, conductor_end_user_id=books.end_user)

    second = client.qbd.invoices.void(invoice.id, conductor_end_user_id=books.end_user)

    fetched = client.qbd.invoices.retrieve(invoice.id, conductor_end_user_id=books.end_user)
    assert second.voided is True
    assert second.updated_at == first.updated_at
    assert fetched.memo == "VOID: Work"


@pytest.mark.parametrize("path", ["purchase-orders", "receive-payments"])
def test_types_without_void_have_no_void_route(path: str, client: Conductor, books: Books) -> None:
    """Purchase orders and receive-payments have no void endpoint, as in the SDK."""
    with pytest.raises(conductor.NotFoundError):
        client.post(
            f"/quickbooks-desktop/{path}/1A1-1700000000/void",
            cast_to=httpx.Response,
            options={"headers": {"Conductor-End-User-Id": books.end_user}},
        )


def test_second_delete_is_3120(client: Conductor, books: Books) -> None:
    """Deleting a transaction that is already gone is QuickBooks' 'cannot be found'."""
    invoice = _invoice(client, books)
    client.qbd.invoices.delete(invoice.id, conductor_end_user_id=books.end_user)

    with pytest.raises(conductor.InternalServerError) as caught:
        client.qbd.invoices.delete(invoice.id, conductor_end_user_id=books.end_user)

    error = caught.value.body["error"]
    assert error["integrationCode"] == "3120"
    assert "cannot be found" in error["message"]


def test_voiding_an_invoice_unapplies_its_payment(client: Conductor, books: Books) -> None:
    """A payment applied to a voided invoice becomes unused payment, with a new revision."""
    invoice = _invoice(client, books)
    payment = _payment(client, books, invoice.id, "60.00")

    client.qbd.invoices.void(invoice.id, conductor_end_user_id=books.end_user)

    after = client.qbd.receive_payments.retrieve(payment.id, conductor_end_user_id=books.end_user)
    assert payment.unused_payment == "0.00"
    assert after.unused_payment == "60.00"
    assert after.applied_to_transactions == []
    assert after.revision_number != payment.revision_number


def test_deleting_an_invoice_unapplies_its_payment(client: Conductor, books: Books) -> None:
    """A payment applied to a deleted invoice becomes unused payment."""
    invoice = _invoice(client, books)
    payment = _payment(client, books, invoice.id, "100.00")

    client.qbd.invoices.delete(invoice.id, conductor_end_user_id=books.end_user)

    after = client.qbd.receive_payments.retrieve(payment.id, conductor_end_user_id=books.end_user)
    assert after.unused_payment == "100.00"


def test_payment_update_moves_the_application(client: Conductor, books: Books) -> None:
    """Re-applying a payment to another invoice restores the first invoice's balance."""
    first, second = _invoice(client, books), _invoice(client, books, "80.00")
    payment = _payment(client, books, first.id, "50.00")

    client.qbd.receive_payments.update(
        payment.id,
        revision_number=payment.revision_number,
        apply_to_transactions=[{"transaction_id": second.id, "payment_amount": "50.00"}],
        conductor_end_user_id=books.end_user,
    )

    get = client.qbd.invoices.retrieve
    assert get(first.id, conductor_end_user_id=books.end_user).balance_remaining == "100.00"
    assert get(second.id, conductor_end_user_id=books.end_user).balance_remaining == "30.00"


def test_invoice_edited_below_its_payment_sheds_the_excess(client: Conductor, books: Books) -> None:
    """Lowering a paid invoice's total leaves it paid and the excess unused on the payment."""
    invoice = _invoice(client, books)
    payment = _payment(client, books, invoice.id, "100.00")
    current = client.qbd.invoices.retrieve(invoice.id, conductor_end_user_id=books.end_user)

    updated = client.qbd.invoices.update(
        invoice.id,
        revision_number=current.revision_number,
        lines=[{"id": current.lines[0].id, "amount": "70.00"}],
        conductor_end_user_id=books.end_user,
    )

    after = client.qbd.receive_payments.retrieve(payment.id, conductor_end_user_id=books.end_user)
    assert (updated.balance_remaining, updated.is_paid) == ("0.00", True)
    assert after.unused_payment == "30.00"


@pytest.mark.parametrize(
    ("attr", "path", "create_args"),
    [
        ("customers", "customers", {"name": "Gone Fishing"}),
        ("vendors", "vendors", {"name": "Old Supplier"}),
        ("service_items", "service-items", {"name": "Old Service"}),
    ],
)
def test_inactive_objects_follow_the_status_filter(
    attr: str, path: str, create_args: dict[str, Any], client: Conductor, end_user: str
) -> None:
    """isActive=false on create hides an object from status=active and shows it in inactive."""
    resource = getattr(client.qbd, attr)
    created = resource.create(**create_args, is_active=False, conductor_end_user_id=end_user)

    def names(status: str) -> list[str]:
        return [o.name for o in resource.list(status=status, conductor_end_user_id=end_user)]

    assert created.is_active is False
    assert names("active") == []
    assert names("inactive") == [create_args["name"]]
    assert names("all") == [create_args["name"]]


def test_update_reactivates_an_object(client: Conductor, end_user: str) -> None:
    """isActive=true on update makes an inactive customer active again."""
    customer = client.qbd.customers.create(
        name="Gone Fishing", is_active=False, conductor_end_user_id=end_user
    )

    updated = client.qbd.customers.update(
        customer.id,
        revision_number=customer.revision_number,
        is_active=True,
        conductor_end_user_id=end_user,
    )

    listed = client.qbd.customers.list(status="active", conductor_end_user_id=end_user)
    assert updated.is_active is True
    assert [c.id for c in listed] == [customer.id]


def test_deleted_objects_are_gone_from_the_file(
    client: Conductor, books: Books, sim: SimulatorServer
) -> None:
    """A deleted purchase order is no longer in the company file."""
    order = client.qbd.purchase_orders.create(
        vendor_id=books.id("vendors", "Staples"),
        transaction_date="2024-10-01",
        conductor_end_user_id=books.end_user,
    )

    deleted = client.qbd.purchase_orders.delete(order.id, conductor_end_user_id=books.end_user)

    assert deleted.deleted is True
    assert sim.objects(books.end_user, "purchase-orders") == []
