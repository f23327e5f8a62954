"""Transaction rules: lines and totals, payments applied to invoices, voids and deletes."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

from qbdsim._errors import invalid_request, request_error
from qbdsim._resources import Resource
from qbdsim._shapes import money, parse_money

if TYPE_CHECKING:
    from qbdsim._company import CompanyFile, Obj

__all__ = ["after_delete", "after_write", "build", "void"]

_ZERO: Final = Decimal("0.00")
_LINE_TYPES: Final = {
    "invoices": "qbd_invoice_line",
    "sales-receipts": "qbd_sales_receipt_line",
    "purchase-orders": "qbd_purchase_order_line",
}
_REF_NUMBER_MAX: Final = {"invoices": 11, "sales-receipts": 11, "purchase-orders": 11}


def _dec(value: Any) -> Decimal:
    return _ZERO if value is None else parse_money(value)


def _parse_date(key: str, value: Any) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise invalid_request(f"Invalid date for `{key}`: {value!r}; expected YYYY-MM-DD.") from exc


def _item_price(company: CompanyFile, item_ref: dict[str, Any] | None, *, purchase: bool) -> Any:
    if not item_ref:
        return None
    found = company.find(("service-items", "non-inventory-items"), item_ref["id"])
    if found is None:
        return None
    item = found[1]
    both = item.get("salesAndPurchaseDetails")
    if both:
        return both.get("purchaseCost" if purchase else "salesPrice")
    single = item.get("salesOrPurchaseDetails")
    return single.get("price") if single else None


def _build_lines(
    company: CompanyFile,
    res: Resource,
    given: list[dict[str, Any]],
    existing: list[Obj],
    *,
    object_type: str,
    price_key: str,
) -> list[Obj]:
    """Build lines; on update ``given`` replaces the list, keeping lines sent with their ``id``."""
    by_id = {line["id"]: line for line in existing}
    lines: list[Obj] = []
    for line_in in given:
        line_id = line_in.get("id")
        if line_id and line_id != "-1":
            if line_id not in by_id:
                raise request_error(
                    "3120", f'Object "{line_id}" specified in the request cannot be found.'
                )
            line: Obj = dict(by_id[line_id])
        else:
            line = {"id": company.new_line_id(), "objectType": object_type, "customFields": []}
        company.apply_fields(res, {k: v for k, v in line_in.items() if k != "id"}, line)
        is_new = line_id in (None, "-1")
        if is_new and not {"quantity", price_key, "amount"} & line_in.keys():
            line["quantity"] = 1
        if is_new and line.get(price_key) is None and "amount" not in line_in and line.get("item"):
            price = _item_price(company, line.get("item"), purchase=price_key == "cost")
            line[price_key] = money(_dec(price))
        quantity = line.get("quantity")
        price = line.get(price_key)
        if "amount" not in line_in and quantity is not None and price is not None:
            line["amount"] = money(Decimal(str(quantity)) * _dec(price))
        elif price is None and quantity and line.get("amount") is not None:
            line[price_key] = money(_dec(line["amount"]) / Decimal(str(quantity)))
        line.setdefault("amount", "0.00")
        lines.append(line)
    return lines


def _total(lines: list[Obj]) -> Decimal:
    return sum((_dec(line.get("amount")) for line in lines), _ZERO)


def build(
    company: CompanyFile, res: Resource, body: dict[str, Any], obj: Obj, *, creating: bool
) -> None:
    """Fill the computed parts of a transaction (lines, totals, applications) into ``obj``."""
    path = res.path
    if "transactionDate" in body:
        txn_date = _parse_date("transactionDate", body["transactionDate"])
        terms = obj.get("terms")
        if creating and terms and not body.get("dueDate"):
            term = company.get("standard-terms", terms["id"])
            if term and term.get("dueDays") is not None:
                obj["dueDate"] = (txn_date + timedelta(days=int(term["dueDays"]))).isoformat()
    ref_number = body.get("refNumber")
    limit = _REF_NUMBER_MAX.get(path, 20)
    if isinstance(ref_number, str) and len(ref_number) > limit:
        raise request_error(
            "3070", f'The string "{ref_number}" in the field "RefNumber" is too long.'
        )
    if path in _LINE_TYPES:
        price_key = "rate"
        if "lines" in body or creating:
            obj["lines"] = _build_lines(
                company,
                res,
                body.get("lines") or [],
                obj.get("lines") or [],
                object_type=_LINE_TYPES[path],
                price_key=price_key,
            )
        subtotal = _total(obj["lines"])
        if path == "purchase-orders":
            obj["totalAmount"] = money(subtotal)
            obj.setdefault("isFullyReceived", False)
            obj.setdefault("isManuallyClosed", False)
            return
        obj["subtotal"] = money(subtotal)
        obj["salesTaxTotal"] = "0.00"
        obj["salesTaxPercentage"] = "0.00"
        obj.setdefault("isPending", False)
        if path == "sales-receipts":
            obj["totalAmount"] = money(subtotal)
        else:
            _set_invoice_balance(company, obj)
    elif path == "bills":
        _build_bill(company, res, body, obj)
    elif path == "receive-payments":
        _build_payment(company, res, body, obj, creating=creating)


def _build_bill(company: CompanyFile, res: Resource, body: dict[str, Any], obj: Obj) -> None:
    for key, object_type, price_key in (
        ("expenseLines", "qbd_expense_line", "amount"),
        ("itemLines", "qbd_item_line", "cost"),
    ):
        clear = body.get("clearExpenseLines" if key == "expenseLines" else "clearItemLines")
        if clear:
            obj[key] = []
        elif key in body or key not in obj:
            obj[key] = _build_lines(
                company,
                res,
                body.get(key) or [],
                obj.get(key) or [],
                object_type=object_type,
                price_key=price_key,
            )
    amount_due = _total(obj["expenseLines"]) + _total(obj["itemLines"])
    obj["amountDue"] = money(amount_due)
    obj["openAmount"] = money(amount_due)
    obj["isPaid"] = amount_due <= 0
    obj.setdefault("isPending", False)


def _set_invoice_balance(company: CompanyFile, invoice: Obj) -> None:
    applications = company.applied.get(invoice["id"], {})
    applied = sum(applications.values(), _ZERO)
    balance = _dec(invoice["subtotal"]) + _dec(invoice.get("salesTaxTotal")) - applied
    invoice["appliedAmount"] = money(applied)
    invoice["balanceRemaining"] = money(balance)
    invoice["isPaid"] = balance <= 0
    links = []
    for payment_id, amount in applications.items():
        payment = company.get("receive-payments", payment_id)
        links.append(
            {
                "id": payment_id,
                "objectType": "qbd_linked_transaction",
                "transactionType": "receive_payment",
                "transactionDate": payment["transactionDate"] if payment else None,
                "refNumber": payment.get("refNumber") if payment else None,
                "amount": money(-amount),
                "linkType": "amount",
            }
        )
    invoice["linkedTransactions"] = links


def _build_payment(
    company: CompanyFile, res: Resource, body: dict[str, Any], obj: Obj, *, creating: bool
) -> None:
    total = _dec(obj.get("totalAmount"))
    customer_id = (obj.get("customer") or {}).get("id")
    previous = {} if creating else company.applications_of(obj["id"])
    if not creating and "applyToTransactions" not in body and not body.get("isAutoApply"):
        plan = previous
    else:
        plan = _plan_applications(company, res, body, obj, customer_id, total, previous)
    applied_total = sum(plan.values(), _ZERO)
    if applied_total > total:
        raise request_error(
            "3180",
            "There was an error when saving a ReceivePayment. QuickBooks error message: The "
            "amounts applied exceed the total amount of the payment.",
        )
    obj["unusedPayment"] = money(total - applied_total)
    obj["unusedCredits"] = "0.00"
    company.pending_plan = plan


def _plan_applications(
    company: CompanyFile,
    res: Resource,
    body: dict[str, Any],
    obj: Obj,
    customer_id: str | None,
    total: Decimal,
    previous: dict[str, Decimal],
) -> dict[str, Decimal]:
    def open_balance(invoice: Obj) -> Decimal:
        return _dec(invoice["balanceRemaining"]) + previous.get(invoice["id"], _ZERO)

    plan: dict[str, Decimal] = {}
    if body.get("isAutoApply"):
        remaining = total
        for candidate in company.all("invoices"):
            if remaining <= 0:
                break
            if (candidate.get("customer") or {}).get("id") != customer_id:
                continue
            amount = min(open_balance(candidate), remaining)
            if amount > 0:
                plan[candidate["id"]] = amount
                remaining -= amount
        return plan
    remaining = total
    for application in body.get("applyToTransactions") or []:
        txn_id = application.get("transactionId")
        invoice = company.get("invoices", str(txn_id))
        if invoice is None:
            raise request_error(
                "3120", f'Object "{txn_id}" specified in the request cannot be found.'
            )
        if (invoice.get("customer") or {}).get("id") != customer_id:
            raise request_error(
                "3140",
                f'There is an invalid reference to QuickBooks Invoice "{txn_id}" in the '
                f"{res.qb_name}. QuickBooks error message: The transaction belongs to another "
                "customer.",
            )
        balance = open_balance(invoice)
        given = application.get("paymentAmount")
        amount = min(balance, remaining) if given is None else _dec(given)
        if amount > balance:
            raise request_error(
                "3180",
                "There was an error when saving a ReceivePayment. QuickBooks error message: "
                f'The payment amount {money(amount)} exceeds the open balance of "{txn_id}".',
            )
        plan[invoice["id"]] = plan.get(invoice["id"], _ZERO) + amount
        remaining -= amount
    return plan


def after_write(company: CompanyFile, res: Resource, stored: Obj) -> None:
    """Propagate a committed transaction write to the objects it affects."""
    if res.path != "receive-payments":
        return
    pending, company.pending_plan = company.pending_plan, None
    plan = company.applications_of(stored["id"]) if pending is None else pending
    touched = company.set_applications(stored["id"], plan)
    applied = []
    for invoice_id in touched:
        invoice = company.get("invoices", invoice_id)
        if invoice is None:
            continue
        _set_invoice_balance(company, invoice)
        company.stamp(invoice)
        if invoice_id in plan:
            applied.append(
                {
                    "transactionId": invoice_id,
                    "transactionType": "invoice",
                    "transactionDate": invoice["transactionDate"],
                    "refNumber": invoice.get("refNumber"),
                    "amount": money(plan[invoice_id]),
                    "balanceRemaining": invoice["balanceRemaining"],
                    "discountAmount": None,
                    "discountAccount": None,
                    "discountClass": None,
                    "linkedTransactions": [],
                }
            )
    stored["appliedToTransactions"] = applied


def after_delete(company: CompanyFile, res: Resource, obj: Obj) -> None:
    """Undo what a deleted transaction did to other objects."""
    if res.path == "receive-payments":
        for invoice_id in company.set_applications(obj["id"], {}):
            invoice = company.get("invoices", invoice_id)
            if invoice is not None:
                _set_invoice_balance(company, invoice)
                company.stamp(invoice)
    elif res.path == "invoices":
        company.applied.pop(obj["id"], None)


def void(company: CompanyFile, res: Resource, obj: Obj) -> None:
    """Zero a transaction's amounts the way QuickBooks voids it."""
    if not res.voidable:
        raise invalid_request(f"A {res.object_type} cannot be voided.", status=404)
    for key in ("lines", "expenseLines", "itemLines"):
        if obj.get(key):
            obj[key] = [{**line, "amount": "0.00"} for line in obj[key]]
    obj["memo"] = f"VOID: {obj.get('memo') or ''}".rstrip()
    for key in ("subtotal", "totalAmount", "amountDue", "openAmount"):
        if obj.get(key) is not None:
            obj[key] = "0.00"
    if res.path == "invoices":
        _set_invoice_balance(company, obj)
