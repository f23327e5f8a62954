"""Transactions: building them from a request, and what writes, voids and deletes do to others.

Kinds: sales (invoices, sales receipts, credit memos: lines with ``rate`` and sales tax),
purchase orders (lines with ``rate``, no tax), purchases (bills and vendor credits: expense
lines and item lines with ``cost``) and payers (receive-payments and bill payments).

Void (QuickBooks keeps the transaction): every line amount, the totals and the tax become
zero, the memo gets the prefix ``VOID:``, and the SDK types have no voided flag, so that is
all a reader sees. Whatever was applied to a voided invoice or bill is unapplied (the payer's
unused payment rises); a voided credit memo or vendor credit is taken back from every
invoice or bill it paid; a voided bill payment pays nothing. Voiding again changes nothing
and succeeds. Delete does the same to others and removes the transaction; it then shows in
deleted-transactions. Editing a voided transaction is allowed (QuickBooks allows it too).

Edits below what is applied: an invoice or bill edited to a total lower than the payments,
discounts and credits applied to it sheds the excess, newest payer first (see
:mod:`qbdsim._ledger`); a credit memo or vendor credit edited below what it has already paid
is taken back from everything it paid.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Final

from qbdsim._balances import refresh
from qbdsim._errors import invalid_request, request_error
from qbdsim._ledger import ZERO, Application
from qbdsim._lines import build_lines, total
from qbdsim._payments import (
    PAYERS,
    plan_applications,
    plan_invoice_credits,
    txn_total,
)
from qbdsim._resources import TERMS, Resource
from qbdsim._shapes import money
from qbdsim._tax import apply_sales_tax, default_tax_fields

if TYPE_CHECKING:
    from qbdsim._company import CompanyFile, Obj

__all__ = ["after_write", "build", "forget", "parse_date", "void"]

_RATE_LINES: Final = {
    "invoices": "qbd_invoice_line",
    "sales-receipts": "qbd_sales_receipt_line",
    "credit-memos": "qbd_credit_memo_line",
    "purchase-orders": "qbd_purchase_order_line",
}
_TAXED: Final = ("invoices", "sales-receipts", "credit-memos")
_PURCHASES: Final = ("bills", "vendor-credits")
_REF_NUMBER_MAX: Final = {"invoices": 11, "sales-receipts": 11, "credit-memos": 11}


def parse_date(key: str, value: Any) -> date:
    """Parse a request date, or raise a 400."""
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise invalid_request(f"Invalid date for `{key}`: {value!r}; expected YYYY-MM-DD.") from exc


def _due_date(company: CompanyFile, terms_ref: dict[str, Any], txn_date: date) -> date | None:
    found = company.find(TERMS, terms_ref["id"])
    if found is None:
        return None
    path, terms = found
    if path == "standard-terms":
        days = terms.get("dueDays")
        return None if days is None else txn_date + timedelta(days=int(days))
    # Date-driven: due on that day of the month, next month when it falls inside the grace.
    day = int(terms.get("dueDayOfMonth") or 1)
    grace = timedelta(days=int(terms.get("gracePeriodDays") or 0))
    year, month = txn_date.year, txn_date.month
    for _ in range(2):
        last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
        due = date(year, month, min(day, last))
        if due >= txn_date + grace:
            return due
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return due


def _header(
    company: CompanyFile, res: Resource, body: dict[str, Any], obj: Obj, *, creating: bool
) -> None:
    if "transactionDate" in body:
        txn_date = parse_date("transactionDate", body["transactionDate"])
        terms = obj.get("terms")
        if creating and terms and not body.get("dueDate"):
            due = _due_date(company, terms, txn_date)
            if due is not None:
                obj["dueDate"] = due.isoformat()
    ref_number = body.get("refNumber")
    limit = _REF_NUMBER_MAX.get(res.path, 20)
    if isinstance(ref_number, str) and len(ref_number) > limit:
        raise request_error(
            "3070", f'The string "{ref_number}" in the field "RefNumber" is too long.'
        )


def build(
    company: CompanyFile, res: Resource, body: dict[str, Any], obj: Obj, *, creating: bool
) -> list[Application] | None:
    """Fill a transaction's computed parts into ``obj``; return its planned applications."""
    path = res.path
    _header(company, res, body, obj, creating=creating)
    if path in _RATE_LINES:
        if "lines" in body or creating:
            obj["lines"] = build_lines(
                company,
                res,
                body.get("lines") or [],
                obj.get("lines") or [],
                object_type=_RATE_LINES[path],
                price_key="rate",
                purchase=path == "purchase-orders",
            )
        return _rate_totals(company, res, body, obj, creating=creating)
    if path in _PURCHASES:
        _purchase_lines(company, res, body, obj)
        return None
    if path in PAYERS:
        return plan_applications(company, res, body, obj, creating=creating)
    return None


def _rate_totals(
    company: CompanyFile, res: Resource, body: dict[str, Any], obj: Obj, *, creating: bool
) -> list[Application] | None:
    subtotal = total(obj["lines"])
    if res.path == "purchase-orders":
        obj["totalAmount"] = money(subtotal)
        obj.setdefault("isFullyReceived", False)
        obj.setdefault("isManuallyClosed", False)
        return None
    if creating:
        default_tax_fields(company, obj)
    tax = apply_sales_tax(company, obj)
    obj["subtotal"] = money(subtotal)
    obj.setdefault("isPending", False)
    if res.path != "invoices":
        obj["totalAmount"] = money(subtotal + tax)
        if res.path == "credit-memos":
            obj["creditRemaining"] = obj["totalAmount"]
        return None
    obj["balanceRemaining"] = money(subtotal + tax)
    obj.setdefault("appliedAmount", "0.00")
    return plan_invoice_credits(company, res, body, obj)


def _purchase_lines(company: CompanyFile, res: Resource, body: dict[str, Any], obj: Obj) -> None:
    for key, object_type, price_key in (
        ("expenseLines", "qbd_expense_line", None),
        ("itemLines", "qbd_item_line", "cost"),
    ):
        clear = body.get("clearExpenseLines" if key == "expenseLines" else "clearItemLines")
        if clear:
            obj[key] = []
        elif key in body or key not in obj:
            obj[key] = build_lines(
                company,
                res,
                body.get(key) or [],
                obj.get(key) or [],
                object_type=object_type,
                price_key=price_key,
                purchase=True,
            )
    amount = money(total(obj["expenseLines"]) + total(obj["itemLines"]))
    if res.path == "bills":
        obj["amountDue"] = obj["openAmount"] = amount
        obj["isPaid"] = amount == "0.00"
        obj.setdefault("isPending", False)
    else:
        obj["creditAmount"] = obj["openAmount"] = amount


def after_write(
    company: CompanyFile, res: Resource, stored: Obj, plan: list[Application] | None
) -> None:
    """Commit a written transaction's applications and refresh everything they touch."""
    txn_id = stored["id"]
    touched = {txn_id}
    if plan is not None:
        touched |= company.ledger.replace(txn_id, plan)
    if res.path in ("invoices", "bills"):
        # A target edited below what is applied to it sheds the excess, newest payer first.
        touched |= company.ledger.trim(txn_id, txn_total(res.path, stored))
    if res.path in ("credit-memos", "vendor-credits"):
        used = company.ledger.used(txn_id)
        if used > txn_total(res.path, stored):
            touched |= company.ledger.drop_credit(txn_id)
    refresh(company, touched, written=txn_id)


def forget(company: CompanyFile, obj: Obj) -> None:
    """Undo what a deleted transaction did to the others."""
    touched = company.ledger.forget(obj["id"])
    refresh(company, touched)


def void(company: CompanyFile, res: Resource, obj: Obj) -> set[str]:
    """Zero ``obj``'s amounts; return the other transactions whose balances must follow."""
    for key in ("lines", "expenseLines", "itemLines"):
        if obj.get(key):
            obj[key] = [{**line, "amount": "0.00"} for line in obj[key]]
    obj["memo"] = f"VOID: {obj.get('memo') or ''}".rstrip()
    for key in (
        "subtotal",
        "salesTaxTotal",
        "totalAmount",
        "amountDue",
        "openAmount",
        "creditAmount",
        "creditRemaining",
        "amount",
    ):
        if obj.get(key) is not None:
            obj[key] = "0.00"
    ledger = company.ledger
    if res.path in ("invoices", "bills"):
        return ledger.trim(obj["id"], ZERO) | ledger.replace(obj["id"], [])
    if res.path in ("credit-memos", "vendor-credits"):
        return ledger.drop_credit(obj["id"])
    if res.path in PAYERS:
        return ledger.replace(obj["id"], [])
    return set()
