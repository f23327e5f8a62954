"""Balances and links read back from the ledger onto the stored objects.

After any write that changes who pays what, every transaction it touched is recomputed:
invoices (``appliedAmount``, ``balanceRemaining``, ``isPaid``), bills (``openAmount``,
``isPaid``), credit memos (``creditRemaining``), vendor credits (``openAmount``) and payers
(``appliedToTransactions``, ``unusedPayment``). Each touched transaction other than the one
written gets a new ``revisionNumber`` and ``updatedAt``, as QuickBooks does when a payment
changes an invoice, so incremental reads (``updatedAfter``) see it.

Links: an invoice or bill lists each payer (amount: minus the payment plus discount) and each
credit applied to it (minus the credit); a credit memo or vendor credit lists the invoices or
bills it was applied to (minus the amount).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

from qbdsim._ledger import ZERO, Application
from qbdsim._payments import PAYERS, txn_total
from qbdsim._resources import RESOURCES
from qbdsim._shapes import money

if TYPE_CHECKING:
    from qbdsim._company import CompanyFile, Obj

__all__ = ["refresh"]

_TARGETS: Final = ("invoices", "bills")
_CREDITS: Final = ("credit-memos", "vendor-credits")
_BALANCED: Final = (*_TARGETS, *_CREDITS)


def _link(path: str, obj: Obj, amount: Decimal) -> dict[str, Any]:
    return {
        "id": obj["id"],
        "objectType": "qbd_linked_transaction",
        "transactionType": RESOURCES[path].txn_type,
        "transactionDate": obj.get("transactionDate"),
        "refNumber": obj.get("refNumber"),
        "amount": money(-amount),
        "linkType": "amount",
    }


def _credit_links(company: CompanyFile, app: Application) -> list[dict[str, Any]]:
    links = []
    for credit_id, amount in app.credits:
        found = company.find(_CREDITS, credit_id)
        if found is not None:
            links.append(_link(*found, amount))
    return links


def _target(company: CompanyFile, path: str, obj: Obj) -> None:
    ledger = company.ledger
    applied = ledger.applied_to(obj["id"])
    balance = txn_total(path, obj) - applied
    links = []
    for payer_id, app in ledger.into(obj["id"]):
        payer = company.find(PAYERS, payer_id)
        if payer is not None and app.amount + app.discount > 0:
            links.append(_link(*payer, app.amount + app.discount))
        links.extend(_credit_links(company, app))
    obj["linkedTransactions"] = links
    obj["isPaid"] = balance <= 0
    if path == "invoices":
        obj["appliedAmount"] = money(applied)
        obj["balanceRemaining"] = money(balance)
    else:
        obj["openAmount"] = money(balance)


def _credit(company: CompanyFile, path: str, obj: Obj) -> None:
    links = []
    for _, target_id, amount in company.ledger.uses(obj["id"]):
        found = company.find(_TARGETS, target_id)
        if found is not None:
            links.append(_link(*found, amount))
    obj["linkedTransactions"] = links
    remaining = money(txn_total(path, obj) - company.ledger.used(obj["id"]))
    obj["creditRemaining" if path == "credit-memos" else "openAmount"] = remaining


def _payer(company: CompanyFile, path: str, obj: Obj) -> None:
    applied = []
    for app in company.ledger.of(obj["id"]):
        found = company.find(_TARGETS, app.target_id)
        if found is None:
            continue
        target_path, target = found
        balance = target.get("balanceRemaining" if target_path == "invoices" else "openAmount")
        applied.append(
            {
                "transactionId": target["id"],
                "transactionType": RESOURCES[target_path].txn_type,
                "transactionDate": target.get("transactionDate"),
                "refNumber": target.get("refNumber"),
                "amount": money(app.amount),
                "balanceRemaining": balance,
                "discountAmount": money(app.discount) if app.discount else None,
                "discountAccount": app.discount_account,
                "discountClass": app.discount_class,
                "linkedTransactions": _credit_links(company, app),
            }
        )
    obj["appliedToTransactions"] = applied
    if path == "receive-payments":
        amounts = sum((app.amount for app in company.ledger.of(obj["id"])), ZERO)
        obj["unusedPayment"] = money(Decimal(obj["totalAmount"]) - amounts)


def refresh(company: CompanyFile, ids: Iterable[str], *, written: str | None = None) -> None:
    """Recompute the balances of ``ids``; stamp every one of them except ``written``."""
    wanted = set(ids)
    # Targets and credits first: a payer shows its targets' new balances.
    for paths in (_BALANCED, PAYERS):
        for txn_id in sorted(wanted):
            found = company.find(paths, txn_id)
            if found is None:
                continue
            path, stored = found
            obj = dict(stored)
            if path in _TARGETS:
                _target(company, path, obj)
            elif path in _CREDITS:
                _credit(company, path, obj)
            else:
                _payer(company, path, obj)
            if txn_id != written:
                company.stamp(obj)
            company.put(path, obj)
