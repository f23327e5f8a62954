"""Plans that create transactions: invoices, payments, bills, sales receipts, purchase orders.

Transactions are only ever created (their events are `*.created`), each with the event's
`externalId`. Line fields the event leaves out are not sent, so QuickBooks fills them the
way its own UI would (for example `amount` from `quantity` x `rate`).
"""

from __future__ import annotations

from typing import Any

from processors.writes.lines import expense_lines, item_lines, sales_lines
from processors.writes.plans import (
    ResolvedIds,
    WritePlan,
    compact,
    money,
    optional_id,
    qbd_id,
    transaction_create,
)
from schemas.inbound import (
    BillCreated,
    InvoiceCreated,
    PaymentReceived,
    PurchaseOrderCreated,
    SalesReceiptCreated,
)
from schemas.names import ObjectType

__all__ = [
    "payment_applications",
    "plan_bill",
    "plan_invoice",
    "plan_payment",
    "plan_purchase_order",
    "plan_sales_receipt",
]


def _created(
    resource: str,
    object_type: ObjectType,
    app_id: str,
    params: dict[str, Any],
    external_id: str,
    data: Any,
    **party_filter: list[str],
) -> WritePlan:
    """The create plan of one transaction whose event carries a ref number and a date."""
    return transaction_create(
        resource=resource,
        object_type=object_type,
        app_id=app_id,
        params=params,
        external_id=external_id,
        ref_number=data.ref_number,
        transaction_date=data.transaction_date,
        **party_filter,
    )


def plan_invoice(data: InvoiceCreated, ids: ResolvedIds, external_id: str) -> WritePlan:
    """Create an invoice for the customer, with its lines."""
    customer = qbd_id(ids, ObjectType.CUSTOMER, data.customer_id)
    params = compact(
        customer_id=customer,
        transaction_date=data.transaction_date,
        lines=sales_lines(data.lines, ids),
        ref_number=data.ref_number,
        due_date=data.due_date,
        terms_id=optional_id(ids, ObjectType.TERMS, data.terms_id),
        class_id=optional_id(ids, ObjectType.CLASS, data.class_id),
        memo=data.memo,
        sales_tax_item_id=optional_id(ids, ObjectType.SALES_TAX_ITEM, data.sales_tax_item_id),
        external_id=external_id,
    )
    return _created(
        "invoices",
        ObjectType.INVOICE,
        data.invoice_id,
        params,
        external_id,
        data,
        customer_ids=[customer],
    )


def payment_applications(data: PaymentReceived, ids: ResolvedIds) -> list[dict[str, Any]]:
    """What a payment applies to each invoice: cash, a discount, and credit memos.

    The event's one `discount_account_id` goes on every application that takes a discount.
    """
    discount_account = optional_id(ids, ObjectType.ACCOUNT, data.discount_account_id)
    return [
        compact(
            transaction_id=qbd_id(ids, ObjectType.INVOICE, part.invoice_id),
            payment_amount=money(part.amount),
            discount_amount=money(part.discount_amount) if part.discount_amount else None,
            discount_account_id=discount_account if part.discount_amount else None,
            apply_credits=[
                {
                    "credit_transaction_id": qbd_id(
                        ids, ObjectType.CREDIT_MEMO, credit.credit_memo_id
                    ),
                    "applied_amount": money(credit.amount),
                }
                for credit in part.credits
            ]
            or None,
        )
        for part in data.applied_to
    ]


def plan_payment(data: PaymentReceived, ids: ResolvedIds, external_id: str) -> WritePlan:
    """Create a receive-payment applied to the invoices named, else auto-applied."""
    customer = qbd_id(ids, ObjectType.CUSTOMER, data.customer_id)
    applied = payment_applications(data, ids)
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
    return _created(
        "receive_payments",
        ObjectType.PAYMENT,
        data.payment_id,
        params,
        external_id,
        data,
        customer_ids=[customer],
    )


def plan_bill(data: BillCreated, ids: ResolvedIds, external_id: str) -> WritePlan:
    """Create a bill from the vendor with its expense and item lines."""
    vendor = qbd_id(ids, ObjectType.VENDOR, data.vendor_id)
    params = compact(
        vendor_id=vendor,
        transaction_date=data.transaction_date,
        expense_lines=expense_lines(data.expense_lines, ids) or None,
        item_lines=item_lines(data.item_lines, ids) or None,
        due_date=data.due_date,
        ref_number=data.ref_number,
        memo=data.memo,
        external_id=external_id,
    )
    return _created(
        "bills", ObjectType.BILL, data.bill_id, params, external_id, data, vendor_ids=[vendor]
    )


def plan_sales_receipt(data: SalesReceiptCreated, ids: ResolvedIds, external_id: str) -> WritePlan:
    """Create a sales receipt for the customer, with its lines."""
    customer = qbd_id(ids, ObjectType.CUSTOMER, data.customer_id)
    params = compact(
        customer_id=customer,
        transaction_date=data.transaction_date,
        lines=sales_lines(data.lines, ids),
        payment_method_id=optional_id(ids, ObjectType.PAYMENT_METHOD, data.payment_method_id),
        deposit_to_account_id=optional_id(ids, ObjectType.ACCOUNT, data.deposit_account_id),
        ref_number=data.ref_number,
        memo=data.memo,
        sales_tax_item_id=optional_id(ids, ObjectType.SALES_TAX_ITEM, data.sales_tax_item_id),
        external_id=external_id,
    )
    return _created(
        "sales_receipts",
        ObjectType.SALES_RECEIPT,
        data.sales_receipt_id,
        params,
        external_id,
        data,
        customer_ids=[customer],
    )


def plan_purchase_order(
    data: PurchaseOrderCreated, ids: ResolvedIds, external_id: str
) -> WritePlan:
    """Create a purchase order to the vendor, with its lines."""
    vendor = qbd_id(ids, ObjectType.VENDOR, data.vendor_id)
    params = compact(
        vendor_id=vendor,
        transaction_date=data.transaction_date,
        lines=sales_lines(data.lines, ids),
        expected_date=data.expected_date,
        ref_number=data.ref_number,
        class_id=optional_id(ids, ObjectType.CLASS, data.class_id),
        memo=data.memo,
        external_id=external_id,
    )
    return _created(
        "purchase_orders",
        ObjectType.PURCHASE_ORDER,
        data.purchase_order_id,
        params,
        external_id,
        data,
        vendor_ids=[vendor],
    )
