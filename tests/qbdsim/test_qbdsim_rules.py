"""QuickBooks' own rules: unique names, valid references, edit sequences, payments."""

from __future__ import annotations

import conductor
import pytest
from conductor import Conductor

from qbdsim import SimulatorServer

from .conftest import Refs


def test_duplicate_name_is_3100(client: Conductor, end_user: str, refs: Refs) -> None:
    """A vendor named like an existing customer is rejected: the name lists are shared."""
    with pytest.raises(conductor.InternalServerError) as caught:
        client.qbd.vendors.create(name="ACME corporation", conductor_end_user_id=end_user)

    error = caught.value.body["error"]
    assert caught.value.status_code == 502
    assert (error["type"], error["code"], error["integrationCode"]) == (
        "INTEGRATION_ERROR",
        "QBD_REQUEST_ERROR",
        "3100",
    )
    assert "already in use" in error["message"]


def test_invalid_reference_is_3140(client: Conductor, end_user: str) -> None:
    """An invoice for a customer that does not exist is rejected with 3140."""
    with pytest.raises(conductor.InternalServerError) as caught:
        client.qbd.invoices.create(
            customer_id="80000099-1234567890",
            transaction_date="2024-10-01",
            conductor_end_user_id=end_user,
        )

    error = caught.value.body["error"]
    assert error["integrationCode"] == "3140"
    assert 'Customer "80000099-1234567890"' in error["message"]


def test_stale_revision_is_3200(client: Conductor, end_user: str, refs: Refs) -> None:
    """An update with an old revisionNumber is rejected with 3200 and changes nothing."""
    customer = client.qbd.customers.retrieve(refs.customer, conductor_end_user_id=end_user)
    client.qbd.customers.update(
        customer.id,
        revision_number=customer.revision_number,
        note="first",
        conductor_end_user_id=end_user,
    )

    with pytest.raises(conductor.InternalServerError) as caught:
        client.qbd.customers.update(
            customer.id,
            revision_number=customer.revision_number,
            note="second",
            conductor_end_user_id=end_user,
        )

    assert caught.value.body["error"]["integrationCode"] == "3200"
    assert (
        client.qbd.customers.retrieve(customer.id, conductor_end_user_id=end_user).note == "first"
    )


def test_unknown_object_on_retrieve_is_not_found(client: Conductor, end_user: str) -> None:
    """Retrieving an id that is not in the file raises NotFoundError."""
    with pytest.raises(conductor.NotFoundError):
        client.qbd.invoices.retrieve("ABC-1234567890", conductor_end_user_id=end_user)


def test_payment_reduces_invoice_balance(client: Conductor, end_user: str, refs: Refs) -> None:
    """A receive-payment applied to an invoice lowers its balance and links the two."""
    invoice = client.qbd.invoices.create(
        customer_id=refs.customer,
        transaction_date="2024-10-01",
        lines=[{"amount": "100.00"}],
        conductor_end_user_id=end_user,
    )

    payment = client.qbd.receive_payments.create(
        customer_id=refs.customer,
        total_amount="40.00",
        transaction_date="2024-10-02",
        apply_to_transactions=[{"transaction_id": invoice.id, "payment_amount": "40.00"}],
        conductor_end_user_id=end_user,
    )
    after = client.qbd.invoices.retrieve(invoice.id, conductor_end_user_id=end_user)

    assert after.balance_remaining == "60.00"
    assert after.applied_amount == "40.00"
    assert after.is_paid is False
    assert [link.id for link in after.linked_transactions] == [payment.id]
    assert after.revision_number != invoice.revision_number


def test_auto_apply_pays_oldest_invoices(client: Conductor, end_user: str, refs: Refs) -> None:
    """isAutoApply pays the customer's open invoices oldest first."""
    ids = [
        client.qbd.invoices.create(
            customer_id=refs.customer,
            transaction_date="2024-10-01",
            lines=[{"amount": "30.00"}],
            conductor_end_user_id=end_user,
        ).id
        for _ in range(2)
    ]

    payment = client.qbd.receive_payments.create(
        customer_id=refs.customer,
        total_amount="45.00",
        transaction_date="2024-10-02",
        is_auto_apply=True,
        conductor_end_user_id=end_user,
    )

    balances = [
        client.qbd.invoices.retrieve(i, conductor_end_user_id=end_user).balance_remaining
        for i in ids
    ]
    assert balances == ["0.00", "15.00"]
    assert payment.unused_payment == "0.00"


def test_deleting_a_payment_restores_the_balance(
    client: Conductor, end_user: str, refs: Refs, sim: SimulatorServer
) -> None:
    """Deleting a payment puts the invoice's balance back."""
    invoice = client.qbd.invoices.create(
        customer_id=refs.customer,
        transaction_date="2024-10-01",
        lines=[{"amount": "10.00"}],
        conductor_end_user_id=end_user,
    )
    payment = client.qbd.receive_payments.create(
        customer_id=refs.customer,
        total_amount="10.00",
        transaction_date="2024-10-02",
        apply_to_transactions=[{"transaction_id": invoice.id}],
        conductor_end_user_id=end_user,
    )

    client.qbd.receive_payments.delete(payment.id, conductor_end_user_id=end_user)

    assert sim.objects(end_user, "invoices")[0]["balanceRemaining"] == "10.00"


def test_name_too_long_is_rejected(client: Conductor, end_user: str) -> None:
    """An item name over QuickBooks' 31 characters is rejected with 3070."""
    with pytest.raises(conductor.InternalServerError) as caught:
        client.qbd.service_items.create(name="x" * 32, conductor_end_user_id=end_user)

    assert caught.value.body["error"]["integrationCode"] == "3070"


def test_missing_required_field_is_a_bad_request(client: Conductor, end_user: str) -> None:
    """A create without a required field is a 400 before QuickBooks sees it."""
    with pytest.raises(conductor.BadRequestError):
        client.qbd.accounts.with_raw_response.create(
            name="x",
            account_type="",
            conductor_end_user_id=end_user,  # type: ignore[arg-type]
        )
