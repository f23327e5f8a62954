"""Create, retrieve, list and update every object type through the official SDK."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from conductor import Conductor

from qbdsim import SimulatorServer

from .conftest import Refs

LIST_ID = re.compile(r"^[0-9A-F]{8}-\d{10}$")
TXN_ID = re.compile(r"^[0-9A-F]+-\d{10}$")

CreateArgs = Callable[[Refs], dict[str, Any]]

# resource attribute -> (API path, create kwargs, update kwargs, field the update changes)
CASES: dict[str, tuple[str, CreateArgs, dict[str, Any], str]] = {
    "customers": (
        "customers",
        lambda r: {"name": "Brightwater Dental", "email": "office@bw.example"},
        {"email": "new@bw.example"},
        "email",
    ),
    "vendors": ("vendors", lambda r: {"name": "Northwind"}, {"company_name": "NW"}, "company_name"),
    "service_items": (
        "service-items",
        lambda r: {
            "name": "Training",
            "sales_or_purchase_details": {"posting_account_id": r.income_account, "price": "45"},
        },
        {"name": "Training Day"},
        "name",
    ),
    "non_inventory_items": (
        "non-inventory-items",
        lambda r: {
            "name": "Paper",
            "sales_or_purchase_details": {"posting_account_id": r.income_account, "price": "9"},
        },
        {"name": "Printer Paper"},
        "name",
    ),
    "accounts": (
        "accounts",
        lambda r: {"name": "Checking", "account_type": "bank"},
        {"description": "Main bank"},
        "description",
    ),
    "classes": ("classes", lambda r: {"name": "Wholesale"}, {"name": "Wholesale US"}, "name"),
    "invoices": (
        "invoices",
        lambda r: {
            "customer_id": r.customer,
            "transaction_date": "2024-10-01",
            "lines": [{"item_id": r.item, "quantity": 2, "rate": "10.00"}],
        },
        {"memo": "updated"},
        "memo",
    ),
    "receive_payments": (
        "receive-payments",
        lambda r: {
            "customer_id": r.customer,
            "total_amount": "5.00",
            "transaction_date": "2024-10-02",
        },
        {"memo": "updated"},
        "memo",
    ),
    "bills": (
        "bills",
        lambda r: {
            "vendor_id": r.vendor,
            "transaction_date": "2024-10-01",
            "expense_lines": [{"account_id": r.expense_account, "amount": "50.00"}],
        },
        {"memo": "updated"},
        "memo",
    ),
    "sales_receipts": (
        "sales-receipts",
        lambda r: {
            "customer_id": r.customer,
            "transaction_date": "2024-10-01",
            "lines": [{"item_id": r.item, "quantity": 1}],
        },
        {"memo": "updated"},
        "memo",
    ),
    "purchase_orders": (
        "purchase-orders",
        lambda r: {
            "vendor_id": r.vendor,
            "transaction_date": "2024-10-01",
            "lines": [{"item_id": r.item, "quantity": 3, "rate": "2.50"}],
        },
        {"memo": "updated"},
        "memo",
    ),
}


@pytest.mark.parametrize("attr", sorted(CASES))
def test_create_retrieve_list_update(
    attr: str, client: Conductor, end_user: str, refs: Refs, sim: SimulatorServer
) -> None:
    """Every object type round-trips through create, retrieve, list and update."""
    path, create_args, update_args, changed = CASES[attr]
    resource = getattr(client.qbd, attr)

    created = resource.create(**create_args(refs), conductor_end_user_id=end_user)
    fetched = resource.retrieve(created.id, conductor_end_user_id=end_user)
    listed = resource.list(conductor_end_user_id=end_user)
    listed_ids = [o.id for o in (listed.data if hasattr(listed, "data") else listed)]
    updated = resource.update(
        created.id,
        revision_number=created.revision_number,
        **update_args,
        conductor_end_user_id=end_user,
    )

    id_format = (
        TXN_ID
        if path in ("invoices", "receive-payments", "bills", "sales-receipts", "purchase-orders")
        else LIST_ID
    )
    assert id_format.match(created.id)
    assert fetched.id == created.id
    assert created.id in listed_ids
    assert getattr(updated, changed) == next(iter(update_args.values()))
    assert updated.revision_number != created.revision_number
    assert sim.objects(end_user, path)[-1]["revisionNumber"] == updated.revision_number


def test_standard_terms_create_retrieve_list(client: Conductor, end_user: str) -> None:
    """Standard terms can be created, retrieved and listed (QuickBooks has no update)."""
    terms = client.qbd.standard_terms.create(
        name="Net 15", due_days=15, conductor_end_user_id=end_user
    )

    fetched = client.qbd.standard_terms.retrieve(terms.id, conductor_end_user_id=end_user)
    listed = client.qbd.standard_terms.list(conductor_end_user_id=end_user)

    assert fetched.due_days == 15
    assert [t.name for t in listed.data] == ["Net 15"]


def test_response_carries_every_sdk_key(client: Conductor, end_user: str, refs: Refs) -> None:
    """Responses emit every key of the SDK model, null when there is no value."""
    response = client.qbd.invoices.with_raw_response.create(
        customer_id=refs.customer, transaction_date="2024-10-01", conductor_end_user_id=end_user
    )

    body = response.http_response.json()
    assert body["objectType"] == "qbd_invoice"
    assert {"memo", "dueDate", "externalId", "lines", "linkedTransactions"} <= body.keys()
    assert body["memo"] is None


def test_invoice_totals_come_from_lines(client: Conductor, end_user: str, refs: Refs) -> None:
    """Line amounts are quantity x rate (or the item price) and the subtotal is their sum."""
    invoice = client.qbd.invoices.create(
        customer_id=refs.customer,
        transaction_date="2024-10-01",
        lines=[{"item_id": refs.item, "quantity": 2, "rate": "10.00"}, {"item_id": refs.item}],
        conductor_end_user_id=end_user,
    )

    assert [line.amount for line in invoice.lines] == ["20.00", "150.00"]
    assert invoice.subtotal == "170.00"
    assert invoice.balance_remaining == "170.00"


def test_terms_set_the_due_date(client: Conductor, end_user: str, refs: Refs) -> None:
    """An invoice with Net 30 terms and no due date is due 30 days after its date."""
    invoice = client.qbd.invoices.create(
        customer_id=refs.customer,
        transaction_date="2024-10-01",
        terms_id=refs.terms,
        conductor_end_user_id=end_user,
    )

    assert str(invoice.due_date) == "2024-10-31"


def test_invoice_update_replaces_lines(client: Conductor, end_user: str, refs: Refs) -> None:
    """Sending lines on update keeps lines sent with their id, adds '-1' lines, drops the rest."""
    invoice = client.qbd.invoices.create(
        customer_id=refs.customer,
        transaction_date="2024-10-01",
        lines=[{"amount": "10.00"}, {"amount": "20.00"}],
        conductor_end_user_id=end_user,
    )
    kept = invoice.lines[0].id

    updated = client.qbd.invoices.update(
        invoice.id,
        revision_number=invoice.revision_number,
        lines=[{"id": kept}, {"id": "-1", "amount": "5.00"}],
        conductor_end_user_id=end_user,
    )

    assert [line.amount for line in updated.lines] == ["10.00", "5.00"]
    assert updated.lines[0].id == kept
    assert updated.subtotal == "15.00"


def test_void_zeroes_an_invoice(client: Conductor, end_user: str, refs: Refs) -> None:
    """Voiding keeps the invoice in the file with zero amounts."""
    invoice = client.qbd.invoices.create(
        customer_id=refs.customer,
        transaction_date="2024-10-01",
        lines=[{"amount": "10.00"}],
        conductor_end_user_id=end_user,
    )

    voided = client.qbd.invoices.void(invoice.id, conductor_end_user_id=end_user)
    fetched = client.qbd.invoices.retrieve(invoice.id, conductor_end_user_id=end_user)

    assert voided.voided is True
    assert fetched.subtotal == "0.00"


def test_delete_removes_a_transaction(
    client: Conductor, end_user: str, refs: Refs, sim: SimulatorServer
) -> None:
    """Deleting a bill removes it from the company file."""
    bill = client.qbd.bills.create(
        vendor_id=refs.vendor, transaction_date="2024-10-01", conductor_end_user_id=end_user
    )

    deleted = client.qbd.bills.delete(bill.id, conductor_end_user_id=end_user)

    assert deleted.deleted is True
    assert sim.objects(end_user, "bills") == []


def test_end_users_create_retrieve_list_delete(client: Conductor) -> None:
    """End users can be created, retrieved, listed and deleted."""
    user = client.end_users.create(company_name="Acme", email="a@acme.example", source_id="acme")

    fetched = client.end_users.retrieve(user.id)
    listed = client.end_users.list()
    deleted = client.end_users.delete(user.id)

    assert user.id.startswith("end_usr_")
    assert fetched.source_id == "acme"
    assert [u.id for u in listed.data] == [user.id]
    assert deleted.deleted is True


def test_auth_flow_url_connects_the_company(client: Conductor, sim: SimulatorServer) -> None:
    """Opening an auth session's authFlowUrl finishes setup: the company goes online."""
    user = client.end_users.create(company_name="Acme", email="a@acme.example", source_id="acme")
    session = client.auth_sessions.create(publishable_key="pk_test_x", end_user_id=user.id)

    httpx.get(session.auth_flow_url).raise_for_status()

    assert client.qbd.health_check(conductor_end_user_id=user.id).status == "ok"
