"""What changes in QuickBooks itself, and how incremental reads of invoices see it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import conductor
import httpx
import pytest
from conductor import Conductor

from qbdsim import SimulatorServer

from .conftest import Books


def _invoice(client: Conductor, books: Books, ref: str, amount: str = "100.00") -> Any:
    return client.qbd.invoices.create(
        customer_id=books.id("customers", "Acme Corporation"),
        transaction_date="2024-10-01",
        ref_number=ref,
        lines=[{"amount": amount}],
        conductor_end_user_id=books.end_user,
    )


def _pay(client: Conductor, books: Books, invoice_id: str, amount: str) -> Any:
    return client.qbd.receive_payments.create(
        customer_id=books.id("customers", "Acme Corporation"),
        total_amount=amount,
        transaction_date="2024-10-05",
        apply_to_transactions=[{"transaction_id": invoice_id, "payment_amount": amount}],
        conductor_end_user_id=books.end_user,
    )


def test_edit_in_quickbooks_bumps_the_revision(
    client: Conductor, books: Books, sim: SimulatorServer
) -> None:
    """An out-of-band edit changes the fields and makes the app's revision stale (3200)."""
    invoice = _invoice(client, books, "INV-1")

    edited = sim.edit_object(books.end_user, "invoices", invoice.id, memo="Fixed by accountant")

    with pytest.raises(conductor.InternalServerError) as caught:
        client.qbd.invoices.update(
            invoice.id,
            revision_number=invoice.revision_number,
            memo="app",
            conductor_end_user_id=books.end_user,
        )
    assert edited["memo"] == "Fixed by accountant"
    assert edited["revisionNumber"] != invoice.revision_number
    assert edited["updatedAt"] >= invoice.updated_at
    assert caught.value.body["error"]["integrationCode"] == "3200"


def test_edit_in_quickbooks_recomputes_totals(
    client: Conductor, books: Books, sim: SimulatorServer
) -> None:
    """Lines edited in QuickBooks change the invoice's balance like an API update would."""
    invoice = _invoice(client, books, "INV-1")

    sim.edit_object(
        books.end_user,
        "invoices",
        invoice.id,
        lines=[{"id": invoice.lines[0].id, "amount": "40.00"}],
    )

    fetched = client.qbd.invoices.retrieve(invoice.id, conductor_end_user_id=books.end_user)
    assert fetched.balance_remaining == "40.00"


def test_delete_in_quickbooks_shows_in_deleted_transactions(
    client: Conductor, books: Books, sim: SimulatorServer
) -> None:
    """An invoice deleted out of band is gone and listed as a deleted invoice."""
    invoice = _invoice(client, books, "INV-1")

    sim.delete_object(books.end_user, "invoices", invoice.id)

    listed = client.qbd.deleted_transactions.list(
        transaction_types=["invoice"], conductor_end_user_id=books.end_user
    )
    with pytest.raises(conductor.NotFoundError):
        client.qbd.invoices.retrieve(invoice.id, conductor_end_user_id=books.end_user)
    assert [(d.id, d.transaction_type, d.ref_number) for d in listed.data] == [
        (invoice.id, "invoice", "INV-1")
    ]


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_control_edit_of_unknown_id_is_404(method: str, books: Books, sim: SimulatorServer) -> None:
    """Editing or deleting an id the company file does not hold is a 404 naming it."""
    url = f"{sim.control_url}/companies/{books.end_user}/objects/invoices/NOPE-1"

    response = httpx.request(method, url, json={"fields": {"memo": "x"}})

    assert response.status_code == 404
    assert "NOPE-1" in response.json()["error"]["message"]


def _create(client: Conductor, books: Books, attr: str) -> Any:
    """Create one transaction of the SDK resource ``attr`` with refNumber R-1."""
    if attr == "invoices":
        return _invoice(client, books, "R-1")
    if attr == "receive_payments":
        return client.qbd.receive_payments.create(
            customer_id=books.id("customers", "Acme Corporation"),
            total_amount="1.00",
            transaction_date="2024-10-01",
            ref_number="R-1",
            conductor_end_user_id=books.end_user,
        )
    resource = getattr(client.qbd, attr)
    return resource.create(
        transaction_date="2024-10-01", ref_number="R-1", conductor_end_user_id=books.end_user
    )


@pytest.mark.parametrize(
    ("attr", "txn_type"),
    [
        ("invoices", "invoice"),
        ("receive_payments", "receive_payment"),
        ("sales_receipts", "sales_receipt"),
        ("purchase_orders", "purchase_order"),
    ],
)
def test_deleted_transactions_carry_their_type(
    attr: str, txn_type: str, client: Conductor, books: Books
) -> None:
    """Each deleted transaction is listed under its own transactionType only."""
    eu = books.end_user
    created = _create(client, books, attr)

    getattr(client.qbd, attr).delete(created.id, conductor_end_user_id=eu)

    def listed(types: list[Any]) -> list[str]:
        result = client.qbd.deleted_transactions.list(
            transaction_types=types, conductor_end_user_id=eu
        )
        return [d.id for d in result.data]

    others = [t for t in ("invoice", "bill", "receive_payment") if t != txn_type]
    assert listed([txn_type]) == [created.id]
    assert listed(others) == []


def test_deleted_transactions_filter_by_time(client: Conductor, books: Books) -> None:
    """deletedAfter in the future finds nothing; deletedBefore today finds the deletion."""
    invoice = _invoice(client, books, "INV-1")
    client.qbd.invoices.delete(invoice.id, conductor_end_user_id=books.end_user)
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()

    later = client.qbd.deleted_transactions.list(
        transaction_types=["invoice"], deleted_after=tomorrow, conductor_end_user_id=books.end_user
    )
    earlier = client.qbd.deleted_transactions.list(
        transaction_types=["invoice"], deleted_before=tomorrow, conductor_end_user_id=books.end_user
    )

    assert later.data == []
    assert [d.id for d in earlier.data] == [invoice.id]


def test_payment_entered_in_quickbooks_shows_in_updated_after(
    client: Conductor, books: Books
) -> None:
    """A payment made in QuickBooks changes the invoice, which updatedAfter then returns."""
    invoice = _invoice(client, books, "INV-1")
    other = _invoice(client, books, "INV-2")
    since = client.qbd.invoices.retrieve(other.id, conductor_end_user_id=books.end_user).updated_at

    _pay(client, books, invoice.id, "100.00")

    changed = client.qbd.invoices.list(updated_after=since, conductor_end_user_id=books.end_user)
    paid = next(i for i in changed if i.id == invoice.id)
    assert (paid.balance_remaining, paid.is_paid) == ("0.00", True)
    assert paid.revision_number != invoice.revision_number


def test_read_back_by_ids_and_ref_numbers(client: Conductor, books: Books) -> None:
    """ids[] and refNumbers[] each select exactly the invoices they name."""
    first, second = _invoice(client, books, "INV-1"), _invoice(client, books, "INV-2")
    _invoice(client, books, "INV-3")

    by_ids = client.qbd.invoices.list(ids=[second.id], conductor_end_user_id=books.end_user)
    by_refs = client.qbd.invoices.list(
        ref_numbers=["INV-1", "INV-2"], conductor_end_user_id=books.end_user
    )

    assert [i.id for i in by_ids] == [second.id]
    assert [i.id for i in by_refs] == [first.id, second.id]


def test_read_back_by_customer_and_payment_status(client: Conductor, books: Books) -> None:
    """customerIds[] with paymentStatus splits a customer's invoices into paid and not paid."""
    paid, open_ = _invoice(client, books, "INV-1"), _invoice(client, books, "INV-2")
    _pay(client, books, paid.id, "100.00")
    customer = books.id("customers", "Acme Corporation")

    def ids(status: Any) -> list[str]:
        found = client.qbd.invoices.list(
            customer_ids=[customer], payment_status=status, conductor_end_user_id=books.end_user
        )
        return [i.id for i in found]

    assert ids("paid") == [paid.id]
    assert ids("not_paid") == [open_.id]
    assert ids("all") == [paid.id, open_.id]


def test_linked_transactions_are_opt_in_on_list(client: Conductor, books: Books) -> None:
    """includeLinkedTransactions shows the payment links; without it the list leaves them out."""
    invoice = _invoice(client, books, "INV-1")
    payment = _pay(client, books, invoice.id, "30.00")

    plain = client.qbd.invoices.list(conductor_end_user_id=books.end_user)
    linked = client.qbd.invoices.list(
        include_linked_transactions=True, conductor_end_user_id=books.end_user
    )

    assert next(iter(plain)).linked_transactions == []
    link = next(iter(linked)).linked_transactions[0]
    assert (link.id, link.transaction_type, link.amount) == (
        payment.id,
        "receive_payment",
        "-30.00",
    )


def test_invoice_pages_follow_the_cursor(client: Conductor, books: Books) -> None:
    """Invoices page with limit and cursor; every invoice comes back once."""
    made = [_invoice(client, books, f"INV-{n}").id for n in range(7)]

    first = client.qbd.invoices.list(limit=3, conductor_end_user_id=books.end_user)
    every = [i.id for i in client.qbd.invoices.list(limit=3, conductor_end_user_id=books.end_user)]

    assert first.next_cursor is not None
    assert len(first.data) == 3
    assert every == made
