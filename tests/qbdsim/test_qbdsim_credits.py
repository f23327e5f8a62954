"""Credit memos and discounts applied to invoices through receive-payments."""

from __future__ import annotations

from typing import Any

import conductor
import pytest
from conductor import Conductor

from .conftest import Books

ACME = "Acme Corporation"


def _invoice(client: Conductor, books: Books, amount: str = "100.00") -> Any:
    return client.qbd.invoices.create(
        customer_id=books.id("customers", ACME),
        transaction_date="2024-10-01",
        lines=[{"amount": amount}],
        conductor_end_user_id=books.end_user,
    )


def _credit_memo(
    client: Conductor, books: Books, amount: str = "30.00", customer: str = ACME
) -> Any:
    return client.qbd.credit_memos.create(
        customer_id=books.id("customers", customer),
        transaction_date="2024-10-02",
        lines=[{"amount": amount}],
        conductor_end_user_id=books.end_user,
    )


def _pay(client: Conductor, books: Books, total: str, *applications: dict[str, Any]) -> Any:
    return client.qbd.receive_payments.create(
        customer_id=books.id("customers", ACME),
        total_amount=total,
        transaction_date="2024-10-05",
        apply_to_transactions=list(applications),
        conductor_end_user_id=books.end_user,
    )


def _retrieve(client: Conductor, books: Books, attr: str, txn_id: str) -> Any:
    return getattr(client.qbd, attr).retrieve(txn_id, conductor_end_user_id=books.end_user)


def test_credit_applied_through_a_payment_reduces_both(client: Conductor, books: Books) -> None:
    """applyCredits takes the credit off the invoice balance and the memo's creditRemaining."""
    invoice, memo = _invoice(client, books), _credit_memo(client, books)

    payment = _pay(
        client,
        books,
        "50.00",
        {
            "transaction_id": invoice.id,
            "payment_amount": "50.00",
            "apply_credits": [{"credit_transaction_id": memo.id, "applied_amount": "30.00"}],
        },
    )

    after = _retrieve(client, books, "invoices", invoice.id)
    assert after.balance_remaining == "20.00"
    assert after.applied_amount == "80.00"
    assert _retrieve(client, books, "credit_memos", memo.id).credit_remaining == "0.00"
    applied = payment.applied_to_transactions[0]
    assert [(c.id, c.amount) for c in applied.linked_transactions] == [(memo.id, "-30.00")]


def test_discount_reduces_the_invoice_balance(client: Conductor, books: Books) -> None:
    """A discount with its account comes off the invoice balance, not the payment."""
    invoice = _invoice(client, books)

    payment = _pay(
        client,
        books,
        "98.00",
        {
            "transaction_id": invoice.id,
            "payment_amount": "98.00",
            "discount_amount": "2.00",
            "discount_account_id": books.id("accounts", "Discounts Given"),
        },
    )

    after = _retrieve(client, books, "invoices", invoice.id)
    assert (after.balance_remaining, after.is_paid) == ("0.00", True)
    assert payment.unused_payment == "0.00"
    assert payment.applied_to_transactions[0].discount_account.full_name == "Discounts Given"


def test_payment_amount_left_out_pays_what_is_open(client: Conductor, books: Books) -> None:
    """Without paymentAmount the payment covers the balance left after credits."""
    invoice, memo = _invoice(client, books), _credit_memo(client, books)

    payment = _pay(
        client,
        books,
        "100.00",
        {
            "transaction_id": invoice.id,
            "apply_credits": [{"credit_transaction_id": memo.id, "applied_amount": "30.00"}],
        },
    )

    assert payment.applied_to_transactions[0].amount == "70.00"
    assert payment.unused_payment == "30.00"


def test_credit_beyond_what_remains_is_3180(client: Conductor, books: Books) -> None:
    """Taking more from a credit memo than it has left is refused."""
    invoice, memo = _invoice(client, books), _credit_memo(client, books)

    with pytest.raises(conductor.InternalServerError) as caught:
        _pay(
            client,
            books,
            "0.00",
            {
                "transaction_id": invoice.id,
                "payment_amount": "0.00",
                "apply_credits": [{"credit_transaction_id": memo.id, "applied_amount": "31.00"}],
            },
        )

    assert caught.value.body["error"]["integrationCode"] == "3180"


def test_credit_of_another_customer_is_3140(client: Conductor, books: Books) -> None:
    """A credit memo of another customer is an invalid reference in the payment."""
    invoice = _invoice(client, books)
    memo = _credit_memo(client, books, customer="Foxglove Bakery")

    with pytest.raises(conductor.InternalServerError) as caught:
        _pay(
            client,
            books,
            "0.00",
            {
                "transaction_id": invoice.id,
                "payment_amount": "0.00",
                "apply_credits": [{"credit_transaction_id": memo.id, "applied_amount": "1.00"}],
            },
        )

    error = caught.value.body["error"]
    assert error["integrationCode"] == "3140"
    assert f'QuickBooks CreditMemo "{memo.id}" in the ReceivePayment' in error["message"]


def test_applications_beyond_the_balance_are_3180(client: Conductor, books: Books) -> None:
    """Payment plus discount above the open balance is refused."""
    invoice = _invoice(client, books)

    with pytest.raises(conductor.InternalServerError) as caught:
        _pay(
            client,
            books,
            "100.00",
            {"transaction_id": invoice.id, "payment_amount": "100.00", "discount_amount": "1.00"},
        )

    assert caught.value.body["error"]["integrationCode"] == "3180"


def test_voiding_a_credit_memo_takes_its_credit_back(client: Conductor, books: Books) -> None:
    """A voided credit memo no longer pays the invoice it was applied to."""
    invoice, memo = _invoice(client, books), _credit_memo(client, books)
    _pay(
        client,
        books,
        "0.00",
        {
            "transaction_id": invoice.id,
            "payment_amount": "0.00",
            "apply_credits": [{"credit_transaction_id": memo.id, "applied_amount": "30.00"}],
        },
    )

    client.qbd.credit_memos.void(memo.id, conductor_end_user_id=books.end_user)

    assert _retrieve(client, books, "invoices", invoice.id).balance_remaining == "100.00"


def test_deleting_the_payment_gives_the_credit_back(client: Conductor, books: Books) -> None:
    """Deleting a payment restores both the invoice balance and the memo's credit."""
    invoice, memo = _invoice(client, books), _credit_memo(client, books)
    payment = _pay(
        client,
        books,
        "10.00",
        {
            "transaction_id": invoice.id,
            "payment_amount": "10.00",
            "apply_credits": [{"credit_transaction_id": memo.id, "applied_amount": "30.00"}],
        },
    )

    client.qbd.receive_payments.delete(payment.id, conductor_end_user_id=books.end_user)

    assert _retrieve(client, books, "invoices", invoice.id).balance_remaining == "100.00"
    assert _retrieve(client, books, "credit_memos", memo.id).credit_remaining == "30.00"


def test_invoice_applies_credit_memos_itself(client: Conductor, books: Books) -> None:
    """applyCredits on invoice create takes the credit off the new invoice."""
    memo = _credit_memo(client, books)

    invoice = client.qbd.invoices.create(
        customer_id=books.id("customers", ACME),
        transaction_date="2024-10-03",
        lines=[{"amount": "100.00"}],
        apply_credits=[{"credit_transaction_id": memo.id, "applied_amount": "25.00"}],
        conductor_end_user_id=books.end_user,
    )

    assert invoice.balance_remaining == "75.00"
    assert _retrieve(client, books, "credit_memos", memo.id).credit_remaining == "5.00"


def test_credit_memo_round_trips(client: Conductor, books: Books) -> None:
    """Credit memos can be created, listed, updated and deleted."""
    memo = _credit_memo(client, books)

    updated = client.qbd.credit_memos.update(
        memo.id,
        revision_number=memo.revision_number,
        lines=[{"id": memo.lines[0].id, "amount": "45.00"}],
        conductor_end_user_id=books.end_user,
    )
    listed = [m.id for m in client.qbd.credit_memos.list(conductor_end_user_id=books.end_user)]
    deleted = client.qbd.credit_memos.delete(memo.id, conductor_end_user_id=books.end_user)

    assert (updated.total_amount, updated.credit_remaining) == ("45.00", "45.00")
    assert listed == [memo.id]
    assert deleted.deleted is True
