"""Payments and credits as QuickBooks checks them: what a payer may apply, and to what.

Receive-payments apply to the customer's invoices (``applyToTransactions[]``: a
``paymentAmount``, a ``discountAmount`` with its ``discountAccountId``, and ``applyCredits``
taken from the customer's credit memos); bill check and credit-card payments do the same for
the vendor's bills with vendor credits; an invoice may take credit memos itself
(``applyCredits`` on create or update). Every application must name a transaction of the
same customer or vendor (else 3140), and may not take more than the open balance or the
remaining credit (else 3180). A discount without ``discountAccountId`` is accepted (QuickBooks
then uses the company's discount account preference).

A ``paymentAmount`` left out pays what is open after the discount and credits (a
receive-payment: at most what is left of its ``totalAmount``). A receive-payment may not
apply more than its ``totalAmount``; what it does not apply is its ``unusedPayment``. A bill
payment's ``amount`` is the sum of its payment amounts. ``unusedCredits`` stays "0.00".
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

from qbdsim._errors import request_error
from qbdsim._fields import invalid_reference, resolve
from qbdsim._ledger import ZERO, Application
from qbdsim._lines import dec
from qbdsim._resources import Resource
from qbdsim._shapes import money

if TYPE_CHECKING:
    from qbdsim._company import CompanyFile, Obj

__all__ = ["PAYERS", "SIDES", "Side", "plan_applications", "plan_invoice_credits", "txn_total"]


@dataclass(frozen=True, slots=True)
class Side:
    """The receivables or the payables side of the books."""

    target_path: str
    credit_path: str
    party: str
    target_kind: str
    credit_kind: str


_RECEIVABLE = Side("invoices", "credit-memos", "customer", "Invoice", "CreditMemo")
_PAYABLE = Side("bills", "vendor-credits", "vendor", "Bill", "VendorCredit")
SIDES: Final = {
    "receive-payments": _RECEIVABLE,
    "invoices": _RECEIVABLE,
    "bill-check-payments": _PAYABLE,
    "bill-credit-card-payments": _PAYABLE,
}
PAYERS: Final = ("receive-payments", "bill-check-payments", "bill-credit-card-payments")


def txn_total(path: str, obj: Obj) -> Decimal:
    """Return the full amount of an invoice, bill, credit memo or vendor credit."""
    if path == "invoices":
        return dec(obj.get("subtotal")) + dec(obj.get("salesTaxTotal"))
    if path == "bills":
        return dec(obj.get("amountDue"))
    if path == "vendor-credits":
        return dec(obj.get("creditAmount"))
    return dec(obj.get("totalAmount"))


def _party(side: Side, obj: Obj) -> str | None:
    ref = obj.get(side.party)
    return ref.get("id") if ref else None


def _refused(res: Resource, reason: str) -> Exception:
    return request_error(
        "3180",
        f"There was an error when saving a {res.qb_name}. QuickBooks error message: {reason}",
    )


class _Planner:
    """Builds one payer's applications, tracking what the request itself already took."""

    def __init__(self, company: CompanyFile, res: Resource, side: Side, payer: Obj) -> None:
        self.company, self.res, self.side, self.payer = company, res, side, payer
        self.taken: dict[str, Decimal] = {}  # target or credit id -> taken by this request

    def _target(self, txn_id: Any) -> tuple[Obj, Decimal]:
        side = self.side
        target = self.company.get(side.target_path, str(txn_id))
        if target is None:
            raise invalid_reference(side.target_kind, txn_id, self.res)
        if _party(side, target) != _party(side, self.payer):
            raise invalid_reference(
                side.target_kind,
                txn_id,
                self.res,
                f"The transaction belongs to another {side.party}.",
            )
        applied = self.company.ledger.applied_to(target["id"], excluding=self.payer["id"])
        open_balance = txn_total(side.target_path, target) - applied
        return target, open_balance - self.taken.get(target["id"], ZERO)

    def credit(self, entry: dict[str, Any]) -> tuple[str, Decimal]:
        side = self.side
        credit_id = entry.get("creditTransactionId")
        credit = self.company.get(side.credit_path, str(credit_id))
        if credit is None:
            raise invalid_reference(side.credit_kind, credit_id, self.res)
        if _party(side, credit) != _party(side, self.payer):
            raise invalid_reference(
                side.credit_kind,
                credit_id,
                self.res,
                f"The credit belongs to another {side.party}.",
            )
        used = self.company.ledger.used(credit["id"], excluding=self.payer["id"])
        remaining = txn_total(side.credit_path, credit) - used - self.taken.get(credit["id"], ZERO)
        amount = dec(entry.get("appliedAmount"))
        if amount > remaining:
            raise _refused(
                self.res,
                f"The credit amount {money(amount)} exceeds the remaining credit "
                f'{money(remaining)} of "{credit_id}".',
            )
        self.taken[credit["id"]] = self.taken.get(credit["id"], ZERO) + amount
        return credit["id"], amount

    def application(self, entry: dict[str, Any], budget: Decimal | None) -> Application:
        """Plan one ``applyToTransactions`` entry (``budget``: money left to pay with)."""
        target, open_balance = self._target(entry.get("transactionId"))
        credits = tuple(self.credit(c) for c in entry.get("applyCredits") or [])
        discount = dec(entry.get("discountAmount"))
        other = discount + sum((amount for _, amount in credits), ZERO)
        given = entry.get("paymentAmount")
        if given is None:
            amount = max(open_balance - other, ZERO)
            if budget is not None:
                amount = min(amount, max(budget, ZERO))
        else:
            amount = dec(given)
        if amount + other > open_balance:
            raise _refused(
                self.res,
                f"The amount applied {money(amount + other)} exceeds the open balance "
                f'{money(max(open_balance, ZERO))} of "{target["id"]}".',
            )
        self.taken[target["id"]] = self.taken.get(target["id"], ZERO) + amount + other
        return Application(
            target_id=target["id"],
            amount=amount,
            discount=discount,
            discount_account=resolve(
                self.company, "discountAccountId", entry.get("discountAccountId"), self.res
            ),
            discount_class=resolve(
                self.company, "discountClassId", entry.get("discountClassId"), self.res
            ),
            credits=credits,
        )


def _auto_apply(company: CompanyFile, payer: Obj, total: Decimal) -> list[Application]:
    """Pay the customer's open invoices oldest first, as ``isAutoApply`` does."""
    apps, remaining = [], total
    customer_id = _party(_RECEIVABLE, payer)
    for invoice in company.all("invoices"):
        if remaining <= 0:
            break
        if _party(_RECEIVABLE, invoice) != customer_id:
            continue
        applied = company.ledger.applied_to(invoice["id"], excluding=payer["id"])
        amount = min(txn_total("invoices", invoice) - applied, remaining)
        if amount > 0:
            apps.append(Application(target_id=invoice["id"], amount=amount))
            remaining -= amount
    return apps


def plan_applications(
    company: CompanyFile, res: Resource, body: dict[str, Any], obj: Obj, *, creating: bool
) -> list[Application] | None:
    """Plan a payer's applications (None: an update that leaves them as they are)."""
    side = SIDES[res.path]
    receiving = res.path == "receive-payments"
    total = dec(obj.get("totalAmount")) if receiving else None
    apps: list[Application] | None
    if not creating and "applyToTransactions" not in body and not body.get("isAutoApply"):
        apps = None
        applied = sum((a.amount for a in company.ledger.of(obj["id"])), ZERO)
    else:
        if receiving and body.get("isAutoApply"):
            assert total is not None
            apps = _auto_apply(company, obj, total)
        else:
            planner = _Planner(company, res, side, obj)
            apps = []
            for entry in body.get("applyToTransactions") or []:
                budget = None if total is None else total - sum((a.amount for a in apps), ZERO)
                apps.append(planner.application(entry, budget))
        applied = sum((a.amount for a in apps), ZERO)
    if total is not None:
        if applied > total:
            raise _refused(res, "The amounts applied exceed the total amount of the payment.")
        obj["unusedPayment"] = money(total - applied)
        obj["unusedCredits"] = "0.00"
    else:
        obj["amount"] = money(applied)
    return apps


def plan_invoice_credits(
    company: CompanyFile, res: Resource, body: dict[str, Any], obj: Obj
) -> list[Application] | None:
    """Plan the credit memos an invoice applies to itself (None: keep what it has)."""
    if "applyCredits" not in body:
        return None
    planner = _Planner(company, res, _RECEIVABLE, obj)
    credits = tuple(planner.credit(entry) for entry in body.get("applyCredits") or [])
    taken = sum((amount for _, amount in credits), ZERO)
    open_balance = txn_total("invoices", obj) - company.ledger.applied_to(
        obj["id"], excluding=obj["id"]
    )
    if taken > open_balance:
        raise _refused(res, "The credits applied exceed the balance of the invoice.")
    return [Application(target_id=obj["id"], credits=credits)] if credits else []
