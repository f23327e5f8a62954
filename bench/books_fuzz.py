"""A seeded stream of plausible accounting documents, about half of them wrong. Pure.

Each company gets a setup (mappings to its demo company file, a closing date, a customer,
a vendor and two items) and then documents of every write type. A wrong document carries
exactly one `Mistake` of the kinds QuickBooks refuses or silently gets wrong:

    name_too_long   a list name over QuickBooks' cap          -> rejected at intake (schema)
    ref_too_long    a ref number over QuickBooks' cap         -> rejected at intake (schema)
    over_applied    a payment applies more than its total     -> rejected at intake (schema)
    name_colon      a list name with ':'                      -> refused by pre-flight
    amount_rate     a line whose amount is not qty x rate     -> refused by pre-flight
    closed_period   dated on or before the closing date       -> refused by pre-flight
    unmapped_ref    an app id nobody mapped or synced         -> waits for a mapping

Correct documents are built to be right by QuickBooks' rules too: unique names, dates after
the closing date, payments that fit the open balance of invoices, credit memos and bills
that synced before them. Mistakes that depend on what QuickBooks already holds (a name a
person already used, a balance paid in QuickBooks) are left out: no check before the write
can see them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, Final

__all__ = [
    "CLOSING_DATE",
    "MAPPED_NAMES",
    "Book",
    "Doc",
    "Mistake",
    "company_stream",
    "expected_end",
]

CLOSING_DATE: Final = date(2026, 6, 30)
"""Every fuzzed company's books are closed up to here (qbd-sync and the simulator alike)."""


class Mistake(StrEnum):
    """What is wrong with a fuzzed document."""

    NAME_TOO_LONG = "name_too_long"
    REF_TOO_LONG = "ref_too_long"
    OVER_APPLIED = "over_applied"
    NAME_COLON = "name_colon"
    AMOUNT_RATE = "amount_rate"
    CLOSED_PERIOD = "closed_period"
    UNMAPPED_REF = "unmapped_ref"


def expected_end(mistake: Mistake | None) -> str:
    """Where a document with ``mistake`` should end: rejected, preflight, waiting, synced."""
    if mistake is None:
        return "synced"
    if mistake in (Mistake.NAME_TOO_LONG, Mistake.REF_TOO_LONG, Mistake.OVER_APPLIED):
        return "rejected"
    if mistake is Mistake.UNMAPPED_REF:
        return "waiting"
    return "preflight"


@dataclass(frozen=True, slots=True)
class Book:
    """A company and the QuickBooks ids of its demo company file, by name."""

    company_id: str
    qbd: dict[str, str]


@dataclass(frozen=True, slots=True)
class Doc:
    """One CloudEvent of the stream and what is wrong with it (None: nothing)."""

    event: dict[str, Any]
    mistake: Mistake | None = None


_MAPPINGS: Final = [
    ("sales_tax_code", "tax", "Tax"),
    ("sales_tax_code", "non", "Non"),
    ("sales_tax_item", "state_city", "State + City Tax"),
    ("account", "sales", "Product Sales"),
    ("account", "checking", "Checking"),
    ("account", "card", "Visa Business Card"),
    ("account", "supplies", "Office Supplies"),
    ("account", "discounts", "Discounts Given"),
    ("account", "undeposited", "Undeposited Funds"),
    ("payment_method", "visa", "Visa"),
    ("payment_method", "cash", "Cash"),
]
MAPPED_NAMES: Final = tuple(name for _kind, _app_id, name in _MAPPINGS)
"""The demo company file's objects each company's setup maps (a `Book` needs their ids)."""
_ITEMS: Final = {"lamp": ("tax", Decimal("39.00")), "visit": ("non", Decimal("150.00"))}
_CAPS: Final = {"customer": 41, "vendor": 41}
_UPSERTS: Final = ("customer", "vendor", "item", "class", "terms", "account", "payment_method")
_KINDS: Final = (
    *_UPSERTS,
    "invoice",
    "invoice",
    "sales_receipt",
    "credit_memo",
    "purchase_order",
    "bill",
    "bill",
    "vendor_credit",
    "payment",
    "payment",
    "bill_payment",
    "bill_payment",
)
_APPLIES: Final[dict[str, tuple[Mistake, ...]]] = {
    "customer": (Mistake.NAME_TOO_LONG, Mistake.NAME_COLON, Mistake.UNMAPPED_REF),
    "item": (Mistake.NAME_TOO_LONG, Mistake.NAME_COLON, Mistake.UNMAPPED_REF),
    "sales": (
        Mistake.REF_TOO_LONG,
        Mistake.AMOUNT_RATE,
        Mistake.CLOSED_PERIOD,
        Mistake.UNMAPPED_REF,
    ),
    "purchase": (Mistake.REF_TOO_LONG, Mistake.CLOSED_PERIOD, Mistake.UNMAPPED_REF),
    "payment": (Mistake.OVER_APPLIED, Mistake.CLOSED_PERIOD, Mistake.UNMAPPED_REF),
    "bill_payment": (Mistake.CLOSED_PERIOD, Mistake.UNMAPPED_REF),
}
_NAME_ONLY: Final = (Mistake.NAME_TOO_LONG, Mistake.NAME_COLON)


@dataclass
class _Open:
    """Documents of the stream that later documents may pay or apply."""

    invoices: list[tuple[str, Decimal]] = field(default_factory=list)
    credit_memos: list[tuple[str, Decimal]] = field(default_factory=list)
    bills: list[tuple[str, Decimal]] = field(default_factory=list)


class _Stream:
    """Builds one company's documents from one random generator."""

    def __init__(self, book: Book, rng: random.Random) -> None:
        self.book, self.rng, self.open = book, rng, _Open()
        self.serial = 0

    def event(self, event_type: str, data: dict[str, Any]) -> dict[str, Any]:
        self.serial += 1
        return {
            "specversion": "1.0",
            "id": f"fz-{self.book.company_id}-{self.serial:05d}",
            "type": event_type,
            "source": "bench-preflight",
            "companyid": self.book.company_id,
            "data": data,
        }

    def app_id(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}_{self.serial:05d}"

    def name(self, word: str, mistake: Mistake | None, cap: int) -> str:
        if mistake is Mistake.NAME_TOO_LONG:
            return "N" * (cap + self.rng.randint(1, 9))
        suffix = f"{self.rng.randrange(16**6):06x}"
        return f"{word}:{suffix}" if mistake is Mistake.NAME_COLON else f"{word} {suffix}"

    def day(self, mistake: Mistake | None) -> str:
        if mistake is Mistake.CLOSED_PERIOD:
            return (CLOSING_DATE - timedelta(days=self.rng.randint(0, 150))).isoformat()
        return (CLOSING_DATE + timedelta(days=self.rng.randint(1, 150))).isoformat()

    def ref(self, mistake: Mistake | None, cap: int) -> str | None:
        if mistake is Mistake.REF_TOO_LONG:
            return "R" * (cap + self.rng.randint(1, 5))
        return f"R{self.rng.randrange(10**6):06d}" if self.rng.random() < 0.7 else None

    def money(self, low: int, high: int) -> Decimal:
        return Decimal(self.rng.randint(low * 100, high * 100)).scaleb(-2)

    # ----- setup -------------------------------------------------------------------

    def setup(self) -> list[Doc]:
        events = [
            self.event("company.settings_updated", {"closing_date": CLOSING_DATE.isoformat()}),
            *(
                self.event(
                    "mapping.set",
                    {"object_type": kind, "app_id": app_id, "qbd_id": self.book.qbd[name]},
                )
                for kind, app_id, name in _MAPPINGS
            ),
            self.event(
                "customer.upserted",
                {"customer_id": "cus", "name": self.name("Customer", None, 41)},
            ),
            self.event(
                "vendor.upserted", {"vendor_id": "ven", "name": self.name("Vendor", None, 41)}
            ),
        ]
        for item_id, (_code, price) in _ITEMS.items():
            kind = "non_inventory" if item_id == "lamp" else "service"
            data = {"item_id": item_id, "name": self.name(item_id.title(), None, 31)}
            data |= {"kind": kind, "price": str(price), "income_account_id": "sales"}
            events.append(self.event("item.upserted", data))
        return [Doc(event) for event in events]

    # ----- documents ---------------------------------------------------------------

    def document(self, kind: str, mistake_rate: float) -> Doc:
        family = {"invoice": "sales", "sales_receipt": "sales", "credit_memo": "sales"}
        family |= {"purchase_order": "sales", "bill": "purchase", "vendor_credit": "purchase"}
        applies = _APPLIES.get(family.get(kind, kind), _NAME_ONLY)
        mistake = self.rng.choice(applies) if self.rng.random() < mistake_rate else None
        if kind in _UPSERTS:
            return self.upsert(kind, mistake)
        if family.get(kind) == "sales":
            return self.sale(kind, mistake)
        if family.get(kind) == "purchase":
            return self.purchase(kind, mistake)
        if kind == "payment":
            return self.payment(mistake)
        return self.bill_payment(mistake)

    def upsert(self, kind: str, mistake: Mistake | None) -> Doc:
        cap = _CAPS.get(kind, 31)
        data: dict[str, Any] = {f"{kind}_id": self.app_id(kind)}
        data["name"] = self.name(kind.replace("_", " ").title(), mistake, cap)
        if kind == "customer":
            data["sales_tax_code_id"] = "tax_nowhere" if mistake is Mistake.UNMAPPED_REF else "tax"
        elif kind == "item":
            data |= {"kind": self.rng.choice(["service", "non_inventory"]), "price": "12.50"}
            unmapped = mistake is Mistake.UNMAPPED_REF
            data["income_account_id"] = "acct_nowhere" if unmapped else "sales"
        elif kind == "terms":
            data["due_days"] = self.rng.choice([7, 15, 30, 45, 60])
        elif kind == "account":
            data |= {"account_type": self.rng.choice(["income", "expense", "bank"])}
        elif kind == "payment_method":
            data["kind"] = self.rng.choice(["cash", "check", "visa", "other"])
        return Doc(self.event(f"{kind}.upserted", data), mistake)

    def lines(self, mistake: Mistake | None, *, taxed: bool) -> tuple[list[Any], Decimal]:
        lines, total = [], Decimal(0)
        for _ in range(self.rng.randint(1, 3)):
            item_id = self.rng.choice(list(_ITEMS))
            code, price = _ITEMS[item_id]
            quantity = self.rng.randint(1, 5)
            rate = price if self.rng.random() < 0.5 else self.money(1, 400)
            line: dict[str, Any] = {"item_id": item_id, "quantity": quantity, "rate": str(rate)}
            if self.rng.random() < 0.6:
                line["amount"] = str(quantity * rate)
            line["sales_tax_code_id"] = code if taxed else "non"
            lines.append(line)
            total += quantity * rate
        if mistake is Mistake.AMOUNT_RATE:
            wrong = lines[-1]
            exact = Decimal(wrong["rate"]) * wrong["quantity"]
            wrong["amount"] = str(exact + self.money(1, 20) * self.rng.choice([1, -1]))
        if mistake is Mistake.UNMAPPED_REF:
            lines[0]["item_id"] = "item_nowhere"
        return lines, total

    def sale(self, kind: str, mistake: Mistake | None) -> Doc:
        app_id = self.app_id(kind)
        taxed = kind != "credit_memo" and kind != "purchase_order"
        lines, total = self.lines(mistake, taxed=taxed)
        party = ("vendor_id", "ven") if kind == "purchase_order" else ("customer_id", "cus")
        data: dict[str, Any] = {f"{kind}_id": app_id, party[0]: party[1], "lines": lines}
        data["transaction_date"] = self.day(mistake)
        ref = self.ref(mistake, 11)
        if ref is not None:
            data["ref_number"] = ref
        if kind != "purchase_order" and self.rng.random() < 0.7:
            data["sales_tax_item_id"] = "state_city"
        if kind == "sales_receipt":
            data |= {"payment_method_id": "cash", "deposit_account_id": "undeposited"}
        if mistake is None and kind == "invoice":
            self.open.invoices.append((app_id, total))
        if mistake is None and kind == "credit_memo":
            self.open.credit_memos.append((app_id, total))
        return Doc(self.event(f"{kind}.created", data), mistake)

    def purchase(self, kind: str, mistake: Mistake | None) -> Doc:
        app_id = self.app_id(kind)
        amount = self.money(5, 900)
        account = "acct_nowhere" if mistake is Mistake.UNMAPPED_REF else "supplies"
        data: dict[str, Any] = {f"{kind}_id": app_id, "vendor_id": "ven"}
        data["transaction_date"] = self.day(mistake)
        data["expense_lines"] = [{"account_id": account, "amount": str(amount)}]
        ref = self.ref(mistake, 20)
        if ref is not None:
            data["ref_number"] = ref
        if mistake is None and kind == "bill":
            self.open.bills.append((app_id, amount))
        return Doc(self.event(f"{kind}.created", data), mistake)

    def payment(self, mistake: Mistake | None) -> Doc:
        data: dict[str, Any] = {"payment_id": self.app_id("payment"), "customer_id": "cus"}
        data |= {"transaction_date": self.day(mistake), "deposit_account_id": "undeposited"}
        data["payment_method_id"] = "pm_nowhere" if mistake is Mistake.UNMAPPED_REF else "visa"
        invoices = self.open.invoices
        if mistake is None and self.rng.random() < 0.4:
            credit = self.credit(data)
            if credit is not None:
                return credit
        if not invoices:
            total = self.money(10, 90)
            data["total_amount"] = str(total)  # auto-applied to what the customer owes
            if mistake is Mistake.OVER_APPLIED:
                data["applied_to"] = [{"invoice_id": "inv_any", "amount": str(total + 1)}]
            return Doc(self.event("payment.received", data), mistake)
        invoice_id, subtotal = invoices.pop(0) if mistake is None else invoices[0]
        discount = self.money(0, 5) if self.rng.random() < 0.3 else Decimal(0)
        discount = min(discount, (subtotal / 2).quantize(Decimal("0.01")))
        amount = subtotal - discount
        part: dict[str, Any] = {"invoice_id": invoice_id, "amount": str(amount)}
        if discount:
            part["discount_amount"] = str(discount)
            data["discount_account_id"] = "discounts"
        data["applied_to"] = [part]
        over = mistake is Mistake.OVER_APPLIED
        data["total_amount"] = str(amount - Decimal("0.01") if over else amount)
        return Doc(self.event("payment.received", data), mistake)

    def credit(self, data: dict[str, Any]) -> Doc | None:
        """A zero payment applying the oldest credit memo to an invoice it fits (if any)."""
        if not self.open.credit_memos:
            return None
        memo_id, credit = self.open.credit_memos[0]
        fits = [i for i, (_, subtotal) in enumerate(self.open.invoices) if subtotal >= credit]
        if not fits:
            return None
        self.open.credit_memos.pop(0)
        invoice_id, _ = self.open.invoices.pop(fits[0])
        credits = [{"credit_memo_id": memo_id, "amount": str(credit)}]
        applied = {"invoice_id": invoice_id, "amount": "0.00", "credits": credits}
        data |= {"total_amount": "0.00", "applied_to": [applied]}
        return Doc(self.event("payment.received", data))

    def bill_payment(self, mistake: Mistake | None) -> Doc:
        if not self.open.bills:
            return self.purchase("bill", mistake)
        bill_id, total = self.open.bills.pop(0) if mistake is None else self.open.bills[0]
        method = self.rng.choice(["check", "credit_card"])
        account = {"check": "checking", "credit_card": "card"}[method]
        if mistake is Mistake.UNMAPPED_REF:
            account = "acct_nowhere"
        amount = total if self.rng.random() < 0.7 else (total / 2).quantize(Decimal("0.01"))
        data: dict[str, Any] = {"bill_payment_id": self.app_id("bill_payment"), "vendor_id": "ven"}
        data |= {"transaction_date": self.day(mistake), "method": method, "account_id": account}
        data["applied_to"] = [{"bill_id": bill_id, "amount": str(max(amount, Decimal("0.01")))}]
        return Doc(self.event("bill_payment.created", data), mistake)


def company_stream(
    book: Book, *, seed: int, documents: int, mistake_rate: float = 0.5
) -> list[Doc]:
    """The company's setup, then ``documents`` documents, each wrong with ``mistake_rate``.

    The documents depend on ``seed`` only (not on the company id), so a run repeats exactly.
    """
    rng = random.Random(seed)
    stream = _Stream(book, rng)
    docs = stream.setup()
    for _ in range(documents):
        docs.append(stream.document(rng.choice(_KINDS), mistake_rate))
    return docs
