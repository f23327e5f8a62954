"""Plans that create transactions: invoices, payments, bills, sales receipts, purchase orders.

Transactions are only ever created (their events are `*.created`), each with the event's
`externalId`. Line fields the event leaves out are not sent, so QuickBooks fills them the
way its own UI would (for example `amount` from `quantity` x `rate`).
"""

from __future__ import annotations

from typing import Any

from processors.writes.plans import (
    ResolvedIds,
    WritePlan,
    compact,
    money,
    optional_id,
    qbd_id,
    quantity,
)
from schemas.inbound import (
    BillCreated,
    InvoiceCreated,
    PaymentReceived,
    PurchaseOrderCreated,
    SalesLine,
    SalesReceiptCreated,
)
from schemas.names import ObjectType

__all__ = [
    "plan_bill",
    "plan_invoice",
    "plan_payment",
    "plan_purchase_order",
    "plan_sales_receipt",
]


def _sales_lines(lines: list[SalesLine], ids: ResolvedIds) -> list[dict[str, Any]]:
    return [
        compact(
            item_id=qbd_id(ids, ObjectType.ITEM, line.item_id),
            quantity=quantity(line.quantity),
            rate=money(line.rate),
            amount=money(line.amount),
            description=line.description,
        )
        for line in lines
    ]


def plan_invoice(data: InvoiceCreated, ids: ResolvedIds, external_id: str) -> WritePlan:
    """Create an invoice for the customer, with its lines."""
    customer = qbd_id(ids, ObjectType.CUSTOMER, data.customer_id)
    params = compact(
        customer_id=customer,
        transaction_date=data.transaction_date,
        lines=_sales_lines(data.lines, ids),
        ref_number=data.ref_number,
        due_date=data.due_date,
        terms_id=optional_id(ids, ObjectType.TERMS, data.terms_id),
        class_id=optional_id(ids, ObjectType.CLASS, data.class_id),
        memo=data.memo,
        external_id=external_id,
    )
    return WritePlan(
        resource="invoices",
        op="create",
        params=params,
        app_object_type=ObjectType.INVOICE,
        app_id=data.invoice_id,
        object_type_label="qbd_invoice",
        external_id=external_id,
        ref_number=data.ref_number,
        party_filter={"customer_ids": [customer]},
        transaction_date=data.transaction_date,
    )


def plan_payment(data: PaymentReceived, ids: ResolvedIds, external_id: str) -> WritePlan:
    """Create a receive-payment applied to the invoices named, else auto-applied."""
    customer = qbd_id(ids, ObjectType.CUSTOMER, data.customer_id)
    applied = [
        {
            "transaction_id": qbd_id(ids, ObjectType.INVOICE, part.invoice_id),
            "payment_amount": money(part.amount),
        }
        for part in data.applied_to
    ]
    params = compact(
        customer_id=customer,
        transaction_date=data.transaction_date,
        total_amount=money(data.total_amount),
        apply_to_transactions=applied or None,
        is_auto_apply=None if applied else True,
        payment_method_id=optional_id(ids, ObjectType.PAYMENT_METHOD, data.payment_method_id),
        deposit_to_account_id=optional_id(ids, ObjectType.ACCOUNT, data.deposit_account_id),
        ref_number=data.ref_number,
        memo=data.memo,
        external_id=external_id,
    )
    return WritePlan(
        resource="receive_payments",
        op="create",
        params=params,
        app_object_type=ObjectType.PAYMENT,
        app_id=data.payment_id,
        object_type_label="qbd_receive_payment",
        external_id=external_id,
        ref_number=data.ref_number,
        party_filter={"customer_ids": [customer]},
        transaction_date=data.transaction_date,
    )


def plan_bill(data: BillCreated, ids: ResolvedIds, external_id: str) -> WritePlan:
    """Create a bill from the vendor with its expense and item lines."""
    vendor = qbd_id(ids, ObjectType.VENDOR, data.vendor_id)
    expense_lines = [
        compact(
            account_id=qbd_id(ids, ObjectType.ACCOUNT, line.account_id),
            amount=money(line.amount),
            memo=line.memo,
        )
        for line in data.expense_lines
    ]
    item_lines = [
        compact(
            item_id=qbd_id(ids, ObjectType.ITEM, line.item_id),
            quantity=quantity(line.quantity),
            cost=money(line.cost),
        )
        for line in data.item_lines
    ]
    params = compact(
        vendor_id=vendor,
        transaction_date=data.transaction_date,
        expense_lines=expense_lines or None,
        item_lines=item_lines or None,
        due_date=data.due_date,
        ref_number=data.ref_number,
        memo=data.memo,
        external_id=external_id,
    )
    return WritePlan(
        resource="bills",
        op="create",
        params=params,
        app_object_type=ObjectType.BILL,
        app_id=data.bill_id,
        object_type_label="qbd_bill",
        external_id=external_id,
        ref_number=data.ref_number,
        party_filter={"vendor_ids": [vendor]},
        transaction_date=data.transaction_date,
    )


def plan_sales_receipt(data: SalesReceiptCreated, ids: ResolvedIds, external_id: str) -> WritePlan:
    """Create a sales receipt for the customer, with its lines."""
    customer = qbd_id(ids, ObjectType.CUSTOMER, data.customer_id)
    params = compact(
        customer_id=customer,
        transaction_date=data.transaction_date,
        lines=_sales_lines(data.lines, ids),
        payment_method_id=optional_id(ids, ObjectType.PAYMENT_METHOD, data.payment_method_id),
        deposit_to_account_id=optional_id(ids, ObjectType.ACCOUNT, data.deposit_account_id),
        ref_number=data.ref_number,
        memo=data.memo,
        external_id=external_id,
    )
    return WritePlan(
        resource="sales_receipts",
        op="create",
        params=params,
        app_object_type=ObjectType.SALES_RECEIPT,
        app_id=data.sales_receipt_id,
        object_type_label="qbd_sales_receipt",
        external_id=external_id,
        ref_number=data.ref_number,
        party_filter={"customer_ids": [customer]},
        transaction_date=data.transaction_date,
    )


def plan_purchase_order(
    data: PurchaseOrderCreated, ids: ResolvedIds, external_id: str
) -> WritePlan:
    """Create a purchase order to the vendor, with its lines."""
    vendor = qbd_id(ids, ObjectType.VENDOR, data.vendor_id)
    params = compact(
        vendor_id=vendor,
        transaction_date=data.transaction_date,
        lines=_sales_lines(data.lines, ids),
        expected_date=data.expected_date,
        ref_number=data.ref_number,
        class_id=optional_id(ids, ObjectType.CLASS, data.class_id),
        memo=data.memo,
        external_id=external_id,
    )
    return WritePlan(
        resource="purchase_orders",
        op="create",
        params=params,
        app_object_type=ObjectType.PURCHASE_ORDER,
        app_id=data.purchase_order_id,
        object_type_label="qbd_purchase_order",
        external_id=external_id,
        ref_number=data.ref_number,
        party_filter={"vendor_ids": [vendor]},
        transaction_date=data.transaction_date,
    )
