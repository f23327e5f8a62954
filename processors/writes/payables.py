"""Plans for accounts payable after the bill: paying bills, and credits from vendors.

`bill_payment.created` pays one vendor's bills from a bank account (`method: check`, a
QuickBooks bill check payment) or a credit-card account (`method: credit_card`, a bill
credit-card payment). Each bill it names is a required ref, so the payment waits until the
bill has synced, as a customer payment waits for its invoice.

`bill_payment.deleted` deletes the payment from the resource its kind lives in, which the
Syncer reads from the ledger row that wrote it (`BILL_PAYMENT_KINDS`): the event names only
the app's id, and the two kinds are two SDK resources.

`vendor_credit.created` has a bill's expense and item lines.
"""

from __future__ import annotations

from typing import Final

from processors.writes.lines import expense_lines, item_lines
from processors.writes.plans import (
    ResolvedIds,
    WritePlan,
    compact,
    money,
    qbd_id,
    transaction_create,
)
from schemas.inbound import (
    BillPaymentCreated,
    VendorCreditCreated,
)
from schemas.names import BillPaymentMethod, ObjectType

__all__ = [
    "BILL_PAYMENT_KINDS",
    "BILL_PAYMENT_RESOURCES",
    "plan_bill_payment",
    "plan_vendor_credit",
]

BILL_PAYMENT_RESOURCES: Final[dict[BillPaymentMethod, tuple[str, str]]] = {
    BillPaymentMethod.CHECK: ("bill_check_payments", "bank_account_id"),
    BillPaymentMethod.CREDIT_CARD: ("bill_credit_card_payments", "credit_card_account_id"),
}
"""Per payment method: the SDK resource, and the parameter naming the account paid from."""

BILL_PAYMENT_KINDS: Final[dict[str, str]] = {
    "qbd_bill_check_payment": "bill_check_payments",
    "qbd_bill_credit_card_payment": "bill_credit_card_payments",
}
"""The SDK resource of each QuickBooks ``objectType`` a bill payment can be."""


def plan_bill_payment(data: BillPaymentCreated, ids: ResolvedIds, external_id: str) -> WritePlan:
    """Pay the vendor's bills by check or credit card."""
    vendor = qbd_id(ids, ObjectType.VENDOR, data.vendor_id)
    resource, account_param = BILL_PAYMENT_RESOURCES[data.method]
    applied = [
        {
            "transaction_id": qbd_id(ids, ObjectType.BILL, part.bill_id),
            "payment_amount": money(part.amount),
        }
        for part in data.applied_to
    ]
    params = compact(
        vendor_id=vendor,
        transaction_date=data.transaction_date,
        apply_to_transactions=applied,
        ref_number=data.ref_number,
        memo=data.memo,
        external_id=external_id,
    )
    params[account_param] = qbd_id(ids, ObjectType.ACCOUNT, data.account_id)
    return transaction_create(
        resource=resource,
        object_type=ObjectType.BILL_PAYMENT,
        app_id=data.bill_payment_id,
        params=params,
        external_id=external_id,
        ref_number=data.ref_number,
        transaction_date=data.transaction_date,
        vendor_ids=[vendor],
    )


def plan_vendor_credit(data: VendorCreditCreated, ids: ResolvedIds, external_id: str) -> WritePlan:
    """Record a credit from the vendor, with its expense and item lines."""
    vendor = qbd_id(ids, ObjectType.VENDOR, data.vendor_id)
    params = compact(
        vendor_id=vendor,
        transaction_date=data.transaction_date,
        expense_lines=expense_lines(data.expense_lines, ids) or None,
        item_lines=item_lines(data.item_lines, ids) or None,
        ref_number=data.ref_number,
        memo=data.memo,
        external_id=external_id,
    )
    return transaction_create(
        resource="vendor_credits",
        object_type=ObjectType.VENDOR_CREDIT,
        app_id=data.vendor_credit_id,
        params=params,
        external_id=external_id,
        ref_number=data.ref_number,
        transaction_date=data.transaction_date,
        vendor_ids=[vendor],
    )
