"""Who pays what: the applications of payments and credits to invoices and bills.

A *payer* (a receive-payment, a bill payment, or an invoice applying credits when it is
created) applies money to *targets* (invoices or bills): a payment amount, a discount, and
credits taken from *credit* transactions (credit memos or vendor credits). Balances are never
stored twice: an invoice's applied amount, a credit memo's used credit and a payment's unused
amount are all read from here.

When a target shrinks (edited to a lower total, voided or deleted) QuickBooks unapplies what
no longer fits, newest payer first: payment amounts, then discounts, then credits. The money
goes back to the payer (its unused payment rises) and the credits back to their credit
transactions (their remaining credit rises).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Final

__all__ = ["ZERO", "Application", "Ledger"]

ZERO: Final = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class Application:
    """What one payer applies to one target."""

    target_id: str
    amount: Decimal = ZERO
    discount: Decimal = ZERO
    discount_account: dict[str, Any] | None = None
    discount_class: dict[str, Any] | None = None
    credits: tuple[tuple[str, Decimal], ...] = field(default=())

    @property
    def total(self) -> Decimal:
        """Everything this application takes off the target's balance."""
        return self.amount + self.discount + sum((c for _, c in self.credits), ZERO)


class Ledger:
    """Every application in one company file, by payer, indexed by target and by credit.

    Payers are ordered by their last write, which is what "newest payer first" means.
    """

    def __init__(self) -> None:
        self._by_payer: dict[str, list[Application]] = {}
        self._by_target: dict[str, dict[str, None]] = {}  # target -> payers (ordered set)
        self._by_credit: dict[str, dict[str, None]] = {}  # credit -> payers (ordered set)

    def of(self, payer_id: str) -> list[Application]:
        """Return what ``payer_id`` applies."""
        return list(self._by_payer.get(payer_id, []))

    def replace(self, payer_id: str, applications: list[Application]) -> set[str]:
        """Replace a payer's applications; return the targets and credits that changed."""
        old = self._by_payer.get(payer_id, [])
        self._set(payer_id, list(applications))
        return _ids(old) | _ids(applications)

    def into(self, target_id: str) -> list[tuple[str, Application]]:
        """Return (payer id, application) for everything applied to ``target_id``."""
        return [
            (payer, app)
            for payer in self._by_target.get(target_id, {})
            for app in self._by_payer[payer]
            if app.target_id == target_id
        ]

    def applied_to(self, target_id: str, *, excluding: str | None = None) -> Decimal:
        """Return the total taken off ``target_id`` (leaving out payer ``excluding``)."""
        return sum((app.total for payer, app in self.into(target_id) if payer != excluding), ZERO)

    def uses(self, credit_id: str) -> list[tuple[str, str, Decimal]]:
        """Return (payer id, target id, amount) for each use of credit ``credit_id``."""
        return [
            (payer, app.target_id, amount)
            for payer in self._by_credit.get(credit_id, {})
            for app in self._by_payer[payer]
            for used_id, amount in app.credits
            if used_id == credit_id
        ]

    def used(self, credit_id: str, *, excluding: str | None = None) -> Decimal:
        """Return how much of credit ``credit_id`` is used (leaving out payer ``excluding``)."""
        return sum(
            (amount for payer, _, amount in self.uses(credit_id) if payer != excluding), ZERO
        )

    def trim(self, target_id: str, limit: Decimal) -> set[str]:
        """Unapply what exceeds ``limit`` on ``target_id``; return the payers and credits hit."""
        limit = max(limit, ZERO)
        excess = self.applied_to(target_id) - limit
        touched: set[str] = set()
        if excess <= 0 and limit > 0:
            return touched
        for payer in reversed(list(self._by_target.get(target_id, {}))):
            kept = []
            for app in self._by_payer[payer]:
                if app.target_id != target_id or (excess <= 0 and limit > 0):
                    kept.append(app)
                    continue
                trimmed, excess = _shrink(app, excess)
                touched.add(payer)
                touched.update(c for c, _ in app.credits)
                if trimmed.total > 0 and limit > 0:
                    kept.append(trimmed)
            self._set(payer, kept, keep_order=True)
        return touched

    def drop_credit(self, credit_id: str) -> set[str]:
        """Unapply every use of credit ``credit_id``; return the payers and targets hit."""
        touched: set[str] = set()
        for payer in list(self._by_credit.get(credit_id, {})):
            kept = []
            for app in self._by_payer[payer]:
                credits = tuple((c, a) for c, a in app.credits if c != credit_id)
                if credits == app.credits:
                    kept.append(app)
                    continue
                touched.update((payer, app.target_id))
                app = replace(app, credits=credits)
                if app.total > 0:
                    kept.append(app)
            self._set(payer, kept, keep_order=True)
        return touched

    def forget(self, txn_id: str) -> set[str]:
        """Remove a deleted transaction from every side of the ledger; return what changed."""
        touched = self.replace(txn_id, [])
        touched |= self.trim(txn_id, ZERO)
        touched |= self.drop_credit(txn_id)
        touched.discard(txn_id)
        return touched

    def _set(
        self, payer_id: str, applications: list[Application], *, keep_order: bool = False
    ) -> None:
        for app in self._by_payer.get(payer_id, []):
            _unindex(self._by_target, app.target_id, payer_id)
            for credit_id, _ in app.credits:
                _unindex(self._by_credit, credit_id, payer_id)
        if not applications:
            self._by_payer.pop(payer_id, None)
            return
        if not keep_order:
            self._by_payer.pop(payer_id, None)
        self._by_payer[payer_id] = applications
        for app in applications:
            self._by_target.setdefault(app.target_id, {})[payer_id] = None
            for credit_id, _ in app.credits:
                self._by_credit.setdefault(credit_id, {})[payer_id] = None


def _unindex(index: dict[str, dict[str, None]], key: str, payer_id: str) -> None:
    payers = index.get(key)
    if payers is not None:
        payers.pop(payer_id, None)
        if not payers:
            del index[key]


def _ids(applications: list[Application]) -> set[str]:
    return {app.target_id for app in applications} | {
        credit for app in applications for credit, _ in app.credits
    }


def _shrink(app: Application, excess: Decimal) -> tuple[Application, Decimal]:
    """Take up to ``excess`` off ``app``: amount first, then discount, then credits."""
    amount = app.amount - min(app.amount, excess)
    excess -= app.amount - amount
    discount = app.discount - min(app.discount, excess)
    excess -= app.discount - discount
    credits = []
    for credit_id, used in reversed(app.credits):
        left = used - min(used, excess)
        excess -= used - left
        if left > 0:
            credits.append((credit_id, left))
    return replace(app, amount=amount, discount=discount, credits=tuple(reversed(credits))), excess
