"""Transaction lines with mapped ids: the one place each kind of line is built."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from processors.writes.plans import ResolvedIds, compact, money, optional_id, qbd_id, quantity
from schemas.inbound import BillItemLine, ExpenseLine, SalesLine
from schemas.names import ObjectType

__all__ = ["expense_lines", "item_lines", "sales_lines"]


def sales_lines(lines: Sequence[SalesLine], ids: ResolvedIds) -> list[dict[str, Any]]:
    """Invoice, sales receipt, credit memo or purchase order lines with mapped ids."""
    return [
        compact(
            item_id=qbd_id(ids, ObjectType.ITEM, line.item_id),
            quantity=quantity(line.quantity),
            rate=money(line.rate),
            amount=money(line.amount),
            description=line.description,
            sales_tax_code_id=optional_id(ids, ObjectType.SALES_TAX_CODE, line.sales_tax_code_id),
        )
        for line in lines
    ]


def expense_lines(lines: Sequence[ExpenseLine], ids: ResolvedIds) -> list[dict[str, Any]]:
    """Bill or vendor-credit lines that post to accounts, with mapped ids."""
    return [
        compact(
            account_id=qbd_id(ids, ObjectType.ACCOUNT, line.account_id),
            amount=money(line.amount),
            memo=line.memo,
        )
        for line in lines
    ]


def item_lines(lines: Sequence[BillItemLine], ids: ResolvedIds) -> list[dict[str, Any]]:
    """Bill or vendor-credit item lines, with mapped ids."""
    return [
        compact(
            item_id=qbd_id(ids, ObjectType.ITEM, line.item_id),
            quantity=quantity(line.quantity),
            cost=money(line.cost),
        )
        for line in lines
    ]
