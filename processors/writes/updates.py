"""What each `*.updated` event carries, as the SDK update's keyword arguments.

Fields the event leaves out (or sends as null) are left out, so QuickBooks keeps them;
lists of lines, when present, replace the lines (`processors.writes.lifecycle` gives each
sent line the id it keeps). A bill's empty `expense_lines` or `item_lines` clears that kind
of line; a payment's `applied_to` replaces every application.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final

from processors.writes.lines import expense_lines, item_lines, sales_lines
from processors.writes.plans import ResolvedIds, compact, money, optional_id, qbd_id
from schemas.inbound import (
    AppliedPayment,
    BillUpdated,
    CreditMemoUpdated,
    InvoiceUpdated,
    PaymentUpdated,
    PurchaseOrderUpdated,
    SalesLine,
    SalesReceiptUpdated,
)
from schemas.names import ObjectType
from schemas.refs import EventData

__all__ = ["UPDATE_FIELDS"]


def _maybe_lines(lines: Sequence[SalesLine] | None, ids: ResolvedIds) -> Any:
    return None if lines is None else sales_lines(lines, ids)


def _invoice(data: InvoiceUpdated, ids: ResolvedIds) -> dict[str, Any]:
    return compact(
        customer_id=optional_id(ids, ObjectType.CUSTOMER, data.customer_id),
        transaction_date=data.transaction_date,
        lines=_maybe_lines(data.lines, ids),
        ref_number=data.ref_number,
        due_date=data.due_date,
        terms_id=optional_id(ids, ObjectType.TERMS, data.terms_id),
        class_id=optional_id(ids, ObjectType.CLASS, data.class_id),
        memo=data.memo,
        sales_tax_item_id=optional_id(ids, ObjectType.SALES_TAX_ITEM, data.sales_tax_item_id),
    )


def _sales_receipt(data: SalesReceiptUpdated, ids: ResolvedIds) -> dict[str, Any]:
    return compact(
        customer_id=optional_id(ids, ObjectType.CUSTOMER, data.customer_id),
        transaction_date=data.transaction_date,
        lines=_maybe_lines(data.lines, ids),
        payment_method_id=optional_id(ids, ObjectType.PAYMENT_METHOD, data.payment_method_id),
        deposit_to_account_id=optional_id(ids, ObjectType.ACCOUNT, data.deposit_account_id),
        ref_number=data.ref_number,
        memo=data.memo,
        sales_tax_item_id=optional_id(ids, ObjectType.SALES_TAX_ITEM, data.sales_tax_item_id),
    )


def _credit_memo(data: CreditMemoUpdated, ids: ResolvedIds) -> dict[str, Any]:
    return compact(
        customer_id=optional_id(ids, ObjectType.CUSTOMER, data.customer_id),
        transaction_date=data.transaction_date,
        lines=_maybe_lines(data.lines, ids),
        ref_number=data.ref_number,
        memo=data.memo,
        sales_tax_item_id=optional_id(ids, ObjectType.SALES_TAX_ITEM, data.sales_tax_item_id),
    )


def _bill(data: BillUpdated, ids: ResolvedIds) -> dict[str, Any]:
    expense = data.expense_lines
    items = data.item_lines
    return compact(
        vendor_id=optional_id(ids, ObjectType.VENDOR, data.vendor_id),
        transaction_date=data.transaction_date,
        expense_lines=expense_lines(expense, ids) if expense else None,
        clear_expense_lines=True if expense == [] else None,
        item_lines=item_lines(items, ids) if items else None,
        clear_item_lines=True if items == [] else None,
        due_date=data.due_date,
        ref_number=data.ref_number,
        memo=data.memo,
    )


def _purchase_order(data: PurchaseOrderUpdated, ids: ResolvedIds) -> dict[str, Any]:
    return compact(
        vendor_id=optional_id(ids, ObjectType.VENDOR, data.vendor_id),
        transaction_date=data.transaction_date,
        lines=_maybe_lines(data.lines, ids),
        expected_date=data.expected_date,
        ref_number=data.ref_number,
        class_id=optional_id(ids, ObjectType.CLASS, data.class_id),
        memo=data.memo,
    )


def _application(
    part: AppliedPayment, ids: ResolvedIds, discount_account: str | None
) -> dict[str, Any]:
    credits = [
        {
            "credit_transaction_id": qbd_id(ids, ObjectType.CREDIT_MEMO, credit.credit_memo_id),
            "applied_amount": money(credit.amount),
        }
        for credit in part.credits
    ]
    return compact(
        transaction_id=qbd_id(ids, ObjectType.INVOICE, part.invoice_id),
        payment_amount=money(part.amount),
        discount_amount=money(part.discount_amount),
        discount_account_id=discount_account if part.discount_amount else None,
        apply_credits=credits or None,
    )


def _payment(data: PaymentUpdated, ids: ResolvedIds) -> dict[str, Any]:
    discount_account = optional_id(ids, ObjectType.ACCOUNT, data.discount_account_id)
    applied = data.applied_to
    return compact(
        customer_id=optional_id(ids, ObjectType.CUSTOMER, data.customer_id),
        transaction_date=data.transaction_date,
        total_amount=money(data.total_amount),
        apply_to_transactions=None
        if applied is None
        else [_application(part, ids, discount_account) for part in applied],
        payment_method_id=optional_id(ids, ObjectType.PAYMENT_METHOD, data.payment_method_id),
        deposit_to_account_id=optional_id(ids, ObjectType.ACCOUNT, data.deposit_account_id),
        ref_number=data.ref_number,
        memo=data.memo,
    )


UPDATE_FIELDS: Final[dict[type[EventData], Callable[[Any, ResolvedIds], dict[str, Any]]]] = {
    InvoiceUpdated: _invoice,
    SalesReceiptUpdated: _sales_receipt,
    BillUpdated: _bill,
    PurchaseOrderUpdated: _purchase_order,
    PaymentUpdated: _payment,
    CreditMemoUpdated: _credit_memo,
}
"""The update keyword arguments of each `*.updated` model, from the event and resolved ids."""
