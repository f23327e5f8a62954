"""Plans that create customer credits: credit memos (returns, refunds, credits on account).

A credit memo has the lines of an invoice, taxed the same way (`sales_tax_item_id` on the
memo, `sales_tax_code_id` on lines). Its quantities stay positive: the credit memo itself
is what makes them a credit. It is applied to invoices by a payment
(`payment.received` with `applied_to[].credits`, see `transactions.payment_applications`).
"""

from __future__ import annotations

from processors.writes.lines import sales_lines
from processors.writes.plans import (
    ResolvedIds,
    WritePlan,
    compact,
    optional_id,
    qbd_id,
    transaction_create,
)
from schemas.inbound import CreditMemoCreated
from schemas.names import ObjectType

__all__ = ["plan_credit_memo"]


def plan_credit_memo(data: CreditMemoCreated, ids: ResolvedIds, external_id: str) -> WritePlan:
    """Create a credit memo for the customer, with its lines and sales tax item."""
    customer = qbd_id(ids, ObjectType.CUSTOMER, data.customer_id)
    params = compact(
        customer_id=customer,
        transaction_date=data.transaction_date,
        lines=sales_lines(data.lines, ids),
        ref_number=data.ref_number,
        memo=data.memo,
        sales_tax_item_id=optional_id(ids, ObjectType.SALES_TAX_ITEM, data.sales_tax_item_id),
        external_id=external_id,
    )
    return transaction_create(
        resource="credit_memos",
        object_type=ObjectType.CREDIT_MEMO,
        app_id=data.credit_memo_id,
        params=params,
        external_id=external_id,
        ref_number=data.ref_number,
        transaction_date=data.transaction_date,
        customer_ids=[customer],
    )
