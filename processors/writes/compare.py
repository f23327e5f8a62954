"""Whether QuickBooks already holds what an update sends, and whether a transaction is void.

`differs(params, record)` compares the SDK keyword arguments of an update (snake_case, ids of
references as `*_id`) with the object as Conductor returns it (API JSON: camelCase,
references as `{"id", "fullName"}` objects). Only the fields the update sends count: a
field the app leaves out is QuickBooks' business. Lists of lines are compared position by
position, lengths included (the sent lines replace the object's lines); a payment's
applications are compared as a set, by the transaction each one pays. Money and quantities
compare as decimals (`"125.0"` equals `"125.00"`), dates as ISO text, everything else as
JSON values. A field
the record does not show at all differs, so an update is written whenever in doubt:
writing the same values again is harmless, skipping a real change is not.

A voided transaction is kept by QuickBooks with every amount zero and `VOID:` in front of
its memo; the API has no voided flag, so `is_void` reads exactly that.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Final

__all__ = ["differs", "is_void"]

_SKIPPED: Final = frozenset({"id", "revision_number", "external_id"})
_CLEARS: Final = {"clear_expense_lines": "expenseLines", "clear_item_lines": "itemLines"}
_TOTALS: Final = ("totalAmount", "amountDue", "subtotal", "creditAmount")
_NUMBERS: Final = frozenset(
    ("amount", "rate", "quantity", "cost", "price", "total_amount", "payment_amount")
)
"""Parameters compared as decimals; every other value (ref numbers too) as it is."""
_VOID_PREFIX: Final = "VOID:"


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _same_value(key: str, sent: Any, held: Any) -> bool:
    if isinstance(sent, date):
        return bool(sent.isoformat() == held)
    if key in _NUMBERS:
        left, right = _number(sent), _number(held)
        if left is not None and right is not None:
            return left == right
    return bool(sent == held)


def _held(record: Mapping[str, Any], key: str) -> tuple[bool, Any]:
    """The record's value for parameter ``key``: (found, value); references by their id."""
    if key.endswith("_id"):
        ref = record.get(_camel(key.removesuffix("_id")))
        if isinstance(ref, Mapping):
            return True, ref.get("id")
        camel = _camel(key)
        if camel in record:
            return True, record[camel]
        return ref is None and _camel(key.removesuffix("_id")) in record, None
    camel = _camel(key)
    return camel in record, record.get(camel)


def _applications_differ(sent: Sequence[Mapping[str, Any]], held: Any) -> bool:
    """A payment's applications, by the transaction each pays (order does not matter)."""
    if not isinstance(held, list):
        return True
    current = {str(part.get("transactionId")): part for part in held if isinstance(part, Mapping)}
    if len(current) != len(sent):
        return True
    for part in sent:
        found = current.get(str(part.get("transaction_id")))
        amount = part.get("payment_amount")
        if found is None or not _same_value("amount", amount, found.get("amount")):
            return True
        discount = part.get("discount_amount")
        if discount is not None and not _same_value(
            "amount", discount, found.get("discountAmount")
        ):
            return True
        if part.get("apply_credits"):
            return True  # credits show only as links: write them again rather than guess
    return False


def _lines_differ(sent: Sequence[Any], held: Any) -> bool:
    if not isinstance(held, list) or len(held) != len(sent):
        return True
    return any(
        not isinstance(line, Mapping) or not isinstance(current, Mapping) or differs(line, current)
        for line, current in zip(sent, held, strict=True)
    )


def differs(params: Mapping[str, Any], record: Mapping[str, Any]) -> bool:
    """Whether writing ``params`` would change ``record`` (see the module docstring)."""
    for key, sent in params.items():
        if key in _SKIPPED:
            continue
        if key in _CLEARS:
            if sent and record.get(_CLEARS[key]):
                return True
            continue
        if key == "apply_to_transactions":
            if _applications_differ(sent, record.get("appliedToTransactions")):
                return True
            continue
        found, held = _held(record, key)
        if not found:
            return True
        if isinstance(sent, list):
            if _lines_differ(sent, held):
                return True
        elif isinstance(sent, Mapping):
            if not isinstance(held, Mapping) or differs(sent, held):
                return True
        elif not _same_value(key, sent, held):
            return True
    return False


def is_void(record: Mapping[str, Any]) -> bool:
    """Whether QuickBooks shows the transaction voided: memo ``VOID:...``, every total zero."""
    memo = record.get("memo")
    if not isinstance(memo, str) or not memo.startswith(_VOID_PREFIX):
        return False
    totals = [_number(record.get(key)) for key in _TOTALS if record.get(key) is not None]
    return all(total == 0 for total in totals)
