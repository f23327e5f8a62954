"""The final state each app object must have in QuickBooks after a run (pure, no I/O).

A transaction's final state follows from its events in publish order: the create sets its
memo and lines, a re-sent create replaces them, an update changes what it carries (bill
expense lines replace the expense lines, item lines stay), a void zeroes the amounts and
puts ``VOID:`` in front of the memo, a delete removes it. ``expected`` computes that per app
object; ``held`` reads the same two things, memo and total, from an object as the simulator
returns it, so the checker can compare them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Final

__all__ = ["KINDS", "AppObject", "Expected", "expected", "held"]

AppObject = tuple[str, str, str]
"""(company id, the event type's prefix, app id), e.g. ``("acct", "invoice", "inv_1")``."""

KINDS: Final[dict[str, tuple[str, str]]] = {
    "invoice": ("invoice_id", "invoices"),
    "bill": ("bill_id", "bills"),
    "sales_receipt": ("sales_receipt_id", "sales-receipts"),
    "purchase_order": ("purchase_order_id", "purchase-orders"),
    "payment": ("payment_id", "receive-payments"),
}
"""Transactions whose final state is checked: their id field and their simulator list."""

_TOTALS: Final = {
    "invoices": "subtotal",
    "bills": "amountDue",
    "sales-receipts": "totalAmount",
    "purchase-orders": "totalAmount",
    "receive-payments": "totalAmount",
}
_ZERO: Final = Decimal("0.00")
_CENT: Final = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Expected:
    """What one app object must look like in QuickBooks once every event of it synced."""

    kind: str
    event_ids: tuple[str, ...]
    gone: bool = False
    memo: str | None = None
    lines_total: Decimal = _ZERO
    item_lines_total: Decimal = _ZERO
    voided: bool = False

    @property
    def state(self) -> dict[str, str | None]:
        """The memo and total QuickBooks must show (``held`` of the object must equal it)."""
        total = _ZERO if self.voided else self.lines_total + self.item_lines_total
        memo = f"VOID: {self.memo or ''}".rstrip() if self.voided else self.memo
        return {"memo": memo, "total": f"{total:.2f}"}


def _amounts(lines: Iterable[Mapping[str, Any]]) -> Decimal:
    return sum((_amount(line) for line in lines), _ZERO)


def _amount(line: Mapping[str, Any]) -> Decimal:
    """A line's amount; without one (it is optional), quantity x rate, as QuickBooks does."""
    if line.get("amount") is not None:
        return Decimal(str(line["amount"]))
    quantity, rate = line.get("quantity"), line.get("rate")
    if quantity is None or rate is None:
        return _ZERO
    return (Decimal(str(quantity)) * Decimal(str(rate))).quantize(_CENT, ROUND_HALF_UP)


def _costs(lines: Iterable[Mapping[str, Any]]) -> Decimal:
    """Bill item lines: quantity x cost (QuickBooks computes the amount)."""
    return sum(
        (Decimal(str(line.get("quantity", 1))) * Decimal(str(line["cost"])) for line in lines),
        _ZERO,
    )


def _apply(before: Expected | None, verb: str, kind: str, event: Mapping[str, Any]) -> Expected:
    data = event["data"]
    ids = (*(before.event_ids if before else ()), event["id"])
    if before is None or verb in ("created", "received"):
        memo = data.get("memo")
        if kind == "bills":
            lines = _amounts(data.get("expense_lines", []))
            items = _costs(data.get("item_lines", []))
            return Expected(kind, ids, memo=memo, lines_total=lines, item_lines_total=items)
        total = Decimal(data["total_amount"]) if "total_amount" in data else _amounts(data["lines"])
        return Expected(kind, ids, memo=memo, lines_total=total)
    if verb == "voided":
        return replace(before, event_ids=ids, voided=True)
    if verb == "deleted":
        return replace(before, event_ids=ids, gone=True)
    after = replace(before, event_ids=ids, memo=data.get("memo", before.memo))
    if "lines" in data:
        after = replace(after, lines_total=_amounts(data["lines"]))
    if "expense_lines" in data:
        after = replace(after, lines_total=_amounts(data["expense_lines"]))
    if "item_lines" in data:
        after = replace(after, item_lines_total=_costs(data["item_lines"]))
    return after


def expected(events: Iterable[Mapping[str, Any]]) -> dict[AppObject, Expected]:
    """The final state of every transaction the events create, by app object."""
    finals: dict[AppObject, Expected] = {}
    for event in events:
        prefix, _, verb = str(event.get("type", "")).partition(".")
        if prefix not in KINDS:
            continue
        id_field, kind = KINDS[prefix]
        key = (str(event["companyid"]), prefix, str(event["data"][id_field]))
        finals[key] = _apply(finals.get(key), verb, kind, event)
    return finals


def held(kind: str, obj: Mapping[str, Any]) -> dict[str, str | None]:
    """The memo and total of an object as the simulator returns it (API JSON)."""
    total = obj.get(_TOTALS.get(kind, "totalAmount"))
    return {
        "memo": obj.get("memo"),
        "total": None if total is None else f"{Decimal(str(total)):.2f}",
    }
