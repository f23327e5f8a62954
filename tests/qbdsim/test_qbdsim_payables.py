"""Bills paid by check or credit card, and vendor credits applied to them."""

from __future__ import annotations

from typing import Any

import conductor
import pytest
from conductor import Conductor

from .conftest import Books


def _bill(client: Conductor, books: Books, vendor: str = "Staples", amount: str = "100.00") -> Any:
    return client.qbd.bills.create(
        vendor_id=books.id("vendors", vendor),
        transaction_date="2024-10-01",
        expense_lines=[{"account_id": books.id("accounts", "Office Supplies"), "amount": amount}],
        conductor_end_user_id=books.end_user,
    )


def _check(client: Conductor, books: Books, *applications: dict[str, Any]) -> Any:
    return client.qbd.bill_check_payments.create(
        vendor_id=books.id("vendors", "Staples"),
        transaction_date="2024-10-10",
        bank_account_id=books.id("accounts", "Checking"),
        apply_to_transactions=list(applications),
        conductor_end_user_id=books.end_user,
    )


def _bill_now(client: Conductor, books: Books, bill_id: str) -> Any:
    return client.qbd.bills.retrieve(bill_id, conductor_end_user_id=books.end_user)


def test_check_payment_lowers_the_open_amount(client: Conductor, books: Books) -> None:
    """A partial check payment leaves the rest open; amountDue stays the bill's total."""
    bill = _bill(client, books)

    payment = _check(client, books, {"transaction_id": bill.id, "payment_amount": "40.00"})

    after = _bill_now(client, books, bill.id)
    assert (after.amount_due, after.open_amount, after.is_paid) == ("100.00", "60.00", False)
    assert payment.amount == "40.00"
    assert payment.applied_to_transactions[0].balance_remaining == "60.00"
    assert [link.id for link in after.linked_transactions] == [payment.id]


def test_credit_card_payment_without_amount_pays_in_full(client: Conductor, books: Books) -> None:
    """A credit-card payment that names no amount pays the bill's whole open amount."""
    bill = _bill(client, books)

    payment = client.qbd.bill_credit_card_payments.create(
        vendor_id=books.id("vendors", "Staples"),
        transaction_date="2024-10-10",
        credit_card_account_id=books.id("accounts", "Visa Business Card"),
        apply_to_transactions=[{"transaction_id": bill.id}],
        conductor_end_user_id=books.end_user,
    )

    after = _bill_now(client, books, bill.id)
    assert payment.amount == "100.00"
    assert (after.open_amount, after.is_paid) == ("0.00", True)


def test_vendor_credit_applied_with_a_payment(client: Conductor, books: Books) -> None:
    """A vendor credit taken with a bill payment lowers the bill and the credit's openAmount."""
    bill = _bill(client, books)
    credit = client.qbd.vendor_credits.create(
        vendor_id=books.id("vendors", "Staples"),
        transaction_date="2024-10-02",
        expense_lines=[{"account_id": books.id("accounts", "Office Supplies"), "amount": "25.00"}],
        conductor_end_user_id=books.end_user,
    )

    _check(
        client,
        books,
        {
            "transaction_id": bill.id,
            "payment_amount": "75.00",
            "apply_credits": [{"credit_transaction_id": credit.id, "applied_amount": "25.00"}],
        },
    )

    after_credit = client.qbd.vendor_credits.retrieve(
        credit.id, conductor_end_user_id=books.end_user
    )
    assert _bill_now(client, books, bill.id).is_paid is True
    assert (after_credit.credit_amount, after_credit.open_amount) == ("25.00", "0.00")


def test_paying_more_than_is_open_is_3180(client: Conductor, books: Books) -> None:
    """A bill payment above the bill's open amount is refused."""
    bill = _bill(client, books)

    with pytest.raises(conductor.InternalServerError) as caught:
        _check(client, books, {"transaction_id": bill.id, "payment_amount": "100.01"})

    assert caught.value.body["error"]["integrationCode"] == "3180"


def test_bill_of_another_vendor_is_3140(client: Conductor, books: Books) -> None:
    """Paying another vendor's bill is an invalid reference."""
    bill = _bill(client, books, vendor="Northwind Traders")

    with pytest.raises(conductor.InternalServerError) as caught:
        _check(client, books, {"transaction_id": bill.id, "payment_amount": "1.00"})

    error = caught.value.body["error"]
    assert error["integrationCode"] == "3140"
    assert f'QuickBooks Bill "{bill.id}" in the BillPaymentCheck' in error["message"]


def test_voiding_a_payment_reopens_the_bill(client: Conductor, books: Books) -> None:
    """A voided check payment pays nothing: the bill is open again."""
    bill = _bill(client, books)
    payment = _check(client, books, {"transaction_id": bill.id, "payment_amount": "100.00"})

    client.qbd.bill_check_payments.void(payment.id, conductor_end_user_id=books.end_user)

    voided = client.qbd.bill_check_payments.retrieve(
        payment.id, conductor_end_user_id=books.end_user
    )
    assert (voided.amount, voided.applied_to_transactions) == ("0.00", [])
    assert _bill_now(client, books, bill.id).open_amount == "100.00"


def test_deleting_a_payment_reopens_the_bill(client: Conductor, books: Books) -> None:
    """A deleted credit-card payment no longer pays the bill, and is listed as deleted."""
    bill = _bill(client, books)
    payment = client.qbd.bill_credit_card_payments.create(
        vendor_id=books.id("vendors", "Staples"),
        transaction_date="2024-10-10",
        credit_card_account_id=books.id("accounts", "Visa Business Card"),
        apply_to_transactions=[{"transaction_id": bill.id}],
        conductor_end_user_id=books.end_user,
    )

    client.qbd.bill_credit_card_payments.delete(payment.id, conductor_end_user_id=books.end_user)

    deleted = client.qbd.deleted_transactions.list(
        transaction_types=["bill_payment_credit_card"], conductor_end_user_id=books.end_user
    )
    assert _bill_now(client, books, bill.id).open_amount == "100.00"
    assert [d.id for d in deleted.data] == [payment.id]


def test_check_payment_update_reapplies(client: Conductor, books: Books) -> None:
    """Updating a check payment's applications changes what it pays and its amount."""
    bill = _bill(client, books)
    payment = _check(client, books, {"transaction_id": bill.id, "payment_amount": "40.00"})

    updated = client.qbd.bill_check_payments.update(
        payment.id,
        revision_number=payment.revision_number,
        apply_to_transactions=[{"transaction_id": bill.id, "payment_amount": "90.00"}],
        conductor_end_user_id=books.end_user,
    )

    assert updated.amount == "90.00"
    assert _bill_now(client, books, bill.id).open_amount == "10.00"


def test_voiding_a_bill_unapplies_its_payment(client: Conductor, books: Books) -> None:
    """A voided bill drops out of the payments applied to it."""
    bill = _bill(client, books)
    payment = _check(client, books, {"transaction_id": bill.id, "payment_amount": "40.00"})

    client.qbd.bills.void(bill.id, conductor_end_user_id=books.end_user)

    after = client.qbd.bill_check_payments.retrieve(
        payment.id, conductor_end_user_id=books.end_user
    )
    assert after.applied_to_transactions == []
    assert after.revision_number != payment.revision_number
