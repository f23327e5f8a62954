"""Seeded chaos workloads: connected companies and the events a run publishes, in order.

Every event type the processor writes today is in the mix: customers, vendors and items
(list objects), invoices, payments applied to an invoice of the same company published
earlier, bills, sales receipts and purchase orders (transactions), plus ``sync.requested``.
Transactions then live on: invoices are corrected, re-sent by an "outbox" with a new event id
(new memo and lines), voided and deleted; bills corrected and voided; receipts voided;
purchase orders corrected and deleted; payments deleted. A change only ever names an object
created earlier in the same company's stream and still there (a voided one is only deleted
after), so every event of a run can succeed; the checker computes each app object's final
state from its events (``tests.chaos.kit.final``).
Each company starts with ``mapping.set`` events that link the app ids the stream refers to
(a customer, a vendor, an item and three accounts) to the seeded demo company file; later
events may also refer to customers, vendors and items created earlier in the same stream.

The sequence stays readable in a company file: list objects are named and transactions
numbered ``{tag}-{sequence}`` (ref number and memo), and event ids end in the sequence.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

from processors.devstack import DEV_SECRET_KEY
from processors.testing import unique_name
from schemas import EventType, example_event

__all__ = [
    "LIFECYCLE",
    "WRITE_MIX",
    "ChaosCompany",
    "Workload",
    "connect_companies",
    "generate_workload",
]

WRITE_MIX: Final[dict[EventType, float]] = {
    EventType.CUSTOMER_UPSERTED: 0.08,
    EventType.VENDOR_UPSERTED: 0.06,
    EventType.ITEM_UPSERTED: 0.06,
    EventType.INVOICE_CREATED: 0.22,
    EventType.PAYMENT_RECEIVED: 0.10,
    EventType.BILL_CREATED: 0.10,
    EventType.SALES_RECEIPT_CREATED: 0.10,
    EventType.PURCHASE_ORDER_CREATED: 0.08,
    EventType.INVOICE_UPDATED: 0.04,
    EventType.INVOICE_VOIDED: 0.025,
    EventType.INVOICE_DELETED: 0.025,
    EventType.BILL_UPDATED: 0.03,
    EventType.BILL_VOIDED: 0.025,
    EventType.SALES_RECEIPT_VOIDED: 0.025,
    EventType.PURCHASE_ORDER_UPDATED: 0.025,
    EventType.PURCHASE_ORDER_DELETED: 0.025,
    EventType.PAYMENT_DELETED: 0.03,
}
"""The relative weight of each written event type in a generated workload."""

LIFECYCLE: Final[dict[EventType, EventType]] = {
    EventType.INVOICE_UPDATED: EventType.INVOICE_CREATED,
    EventType.INVOICE_VOIDED: EventType.INVOICE_CREATED,
    EventType.INVOICE_DELETED: EventType.INVOICE_CREATED,
    EventType.BILL_UPDATED: EventType.BILL_CREATED,
    EventType.BILL_VOIDED: EventType.BILL_CREATED,
    EventType.SALES_RECEIPT_VOIDED: EventType.SALES_RECEIPT_CREATED,
    EventType.PURCHASE_ORDER_UPDATED: EventType.PURCHASE_ORDER_CREATED,
    EventType.PURCHASE_ORDER_DELETED: EventType.PURCHASE_ORDER_CREATED,
    EventType.PAYMENT_DELETED: EventType.PAYMENT_RECEIVED,
}
"""Each change of an existing transaction, and the create it needs first (else made instead)."""

_RESEND: Final = 0.2  # an invoice.created that re-sends an existing invoice with a new event id

# App ids the setup maps to the seeded company file (the example events use these).
_CUSTOMER: Final = "cus_1001"
_VENDOR: Final = "ven_77"
_ITEM: Final = "item_consulting"
_INCOME: Final = "acct_sales"
_EXPENSE: Final = "acct_supplies"
_DEPOSIT: Final = "acct_undeposited"
_MAX_TAG: Final = 5  # a ref number `{tag}-{sequence:05d}` must fit QuickBooks' 11 characters


@dataclass(frozen=True, slots=True)
class ChaosCompany:
    """A connected company and the seeded QuickBooks ids its events map to."""

    id: str
    end_user: str
    customer_qbd: str
    vendor_qbd: str
    item_qbd: str
    income_account_qbd: str
    expense_account_qbd: str
    deposit_account_qbd: str


def connect_companies(simulator: Any, count: int, *, prefix: str = "chaos") -> list[ChaosCompany]:
    """Create ``count`` online end-users (sourceId = company id) seeded with the demo file."""
    from conductor import Conductor

    client = Conductor(api_key=DEV_SECRET_KEY, base_url=simulator.base_url, max_retries=0)
    companies = []
    for _ in range(count):
        company = unique_name(prefix)
        end_user = client.end_users.create(
            company_name=company, email="chaos@example.com", source_id=company
        )
        simulator.connect(end_user.id)
        simulator.seed(end_user.id, demo=True)
        accounts = simulator.objects(end_user.id, "accounts")
        companies.append(
            ChaosCompany(
                id=company,
                end_user=end_user.id,
                customer_qbd=simulator.objects(end_user.id, "customers")[0]["id"],
                vendor_qbd=simulator.objects(end_user.id, "vendors")[0]["id"],
                item_qbd=simulator.objects(end_user.id, "service-items")[0]["id"],
                income_account_qbd=_account(accounts, "income"),
                expense_account_qbd=_account(accounts, "expense"),
                deposit_account_qbd=_account(accounts, "other_current_asset"),
            )
        )
    return companies


def _account(accounts: list[dict[str, Any]], account_type: str) -> str:
    return str(next(a["id"] for a in accounts if a.get("accountType") == account_type))


@dataclass(frozen=True, slots=True)
class Workload:
    """Events for a set of companies, in the order they are (to be) published."""

    companies: tuple[ChaosCompany, ...]
    events: tuple[dict[str, Any], ...]

    def __add__(self, other: Workload) -> Workload:
        companies = {c.id: c for c in (*self.companies, *other.companies)}
        return Workload(tuple(companies.values()), (*self.events, *other.events))

    def batches(self, count: int) -> list[list[dict[str, Any]]]:
        """The events cut into ``count`` consecutive batches (to publish over time)."""
        size = max(1, -(-len(self.events) // max(1, count)))
        return [list(self.events[i : i + size]) for i in range(0, len(self.events), size)]


def _event(event_type: EventType, company: str, event_id: str, **data: Any) -> dict[str, Any]:
    event = example_event(event_type, companyid=company, id=event_id)
    event["data"].update(data)
    return event


def _setup(company: ChaosCompany, tag: str) -> list[dict[str, Any]]:
    """Map the app ids the stream refers to onto the company file's seeded objects."""
    maps = [
        ("customer", _CUSTOMER, company.customer_qbd),
        ("vendor", _VENDOR, company.vendor_qbd),
        ("item", _ITEM, company.item_qbd),
        ("account", _INCOME, company.income_account_qbd),
        ("account", _EXPENSE, company.expense_account_qbd),
        ("account", _DEPOSIT, company.deposit_account_qbd),
    ]
    return [
        _event(
            EventType.MAPPING_SET,
            company.id,
            f"{company.id}-{tag}-map{n}",
            object_type=kind,
            app_id=app_id,
            qbd_id=qbd_id,
        )
        for n, (kind, app_id, qbd_id) in enumerate(maps)
    ]


@dataclass(slots=True)
class _Stream:
    """One company's stream being generated: what it created so far, for later references."""

    rng: random.Random
    company: str
    tag: str
    customers: list[str] = field(default_factory=lambda: [_CUSTOMER])
    vendors: list[str] = field(default_factory=lambda: [_VENDOR])
    items: list[str] = field(default_factory=lambda: [_ITEM])
    unpaid: list[tuple[str, str, Decimal]] = field(default_factory=list)  # invoice, customer, total
    # Transactions that exist (by the object type's event prefix) and those voided since.
    live: dict[str, list[str]] = field(default_factory=dict)
    voided: dict[str, list[str]] = field(default_factory=dict)
    invoice_customers: dict[str, str] = field(default_factory=dict)
    resend_rate: float = 0.0  # how often an invoice.created re-sends an existing invoice

    def next(self, seq: int, event_type: EventType) -> dict[str, Any]:
        """The event at ``seq`` of this company's stream."""
        event_id = f"{self.company}-{self.tag}-{seq:05d}"
        number = f"{self.tag}-{seq:05d}"
        app_id = f"{self.tag}_{seq:05d}"
        if event_type in LIFECYCLE:
            target = self._target(event_type)
            if target is None:
                event_type = LIFECYCLE[event_type]  # nothing to change yet: create one
            else:
                app_id = target
        if event_type is EventType.PAYMENT_RECEIVED and not self.unpaid:
            event_type = EventType.INVOICE_CREATED  # nothing to pay yet
        data = _BUILDERS[event_type](self, app_id, number)
        return _without_nulls(_event(event_type, self.company, event_id, **data))

    def _target(self, event_type: EventType) -> str | None:
        """An existing object the change can apply to (None: there is none yet)."""
        prefix, verb = str(event_type).split(".")
        choices = list(self.live.get(prefix, ()))
        if verb == "deleted":
            choices += self.voided.get(prefix, [])
        return self.rng.choice(choices) if choices else None

    def _born(self, prefix: str, app_id: str) -> None:
        self.live.setdefault(prefix, []).append(app_id)

    def _changed(self, prefix: str, app_id: str, verb: str) -> None:
        """Record a change; a changed invoice is never paid afterwards (its total moved)."""
        self.unpaid = [entry for entry in self.unpaid if entry[0] != f"inv_{app_id}"]
        if verb in ("voided", "deleted") and app_id in self.live.get(prefix, []):
            self.live[prefix].remove(app_id)
        if verb == "voided":
            self.voided.setdefault(prefix, []).append(app_id)
        if verb == "deleted" and app_id in self.voided.get(prefix, []):
            self.voided[prefix].remove(app_id)

    def _pick(self, choices: list[str]) -> str:
        return choices[0] if self.rng.random() < 0.5 else self.rng.choice(choices)

    def _money(self, low: int, high: int) -> Decimal:
        return Decimal(f"{self.rng.randint(low, high)}.{self.rng.randint(0, 99):02d}")

    def _lines(self, number: str) -> tuple[list[dict[str, Any]], Decimal]:
        lines, total = [], Decimal("0.00")
        for n in range(self.rng.randint(1, 2)):
            quantity, rate = self.rng.randint(1, 4), self._money(5, 400)
            amount = quantity * rate
            total += amount
            lines.append(
                {
                    "item_id": self._pick(self.items),
                    "quantity": quantity,
                    "rate": str(rate),
                    "amount": str(amount),
                    "description": f"Chaos line {number}/{n}",
                }
            )
        return lines, total

    def customer_upserted(self, app_id: str, number: str) -> dict[str, Any]:
        self.customers.append(f"cus_{app_id}")
        return {
            "customer_id": f"cus_{app_id}",
            "name": f"Chaos customer {number}",
            "company_name": f"Chaos {number} LLC",
        }

    def vendor_upserted(self, app_id: str, number: str) -> dict[str, Any]:
        self.vendors.append(f"ven_{app_id}")
        return {"vendor_id": f"ven_{app_id}", "name": f"Chaos vendor {number}"}

    def item_upserted(self, app_id: str, number: str) -> dict[str, Any]:
        self.items.append(f"item_{app_id}")
        return {
            "item_id": f"item_{app_id}",
            "name": f"Chaos item {number}",
            "kind": self.rng.choice(["service", "non_inventory"]),
            "price": str(self._money(1, 500)),
            "income_account_id": _INCOME,
            "description": f"Chaos item {number}",
        }

    def invoice_created(self, app_id: str, number: str) -> dict[str, Any]:
        invoices = self.live.get("invoice", [])
        if invoices and self.rng.random() < self.resend_rate:
            return self._resent_invoice(self.rng.choice(invoices), number)
        customer = self._pick(self.customers)
        lines, total = self._lines(number)
        self.unpaid.append((f"inv_{app_id}", customer, total))
        self._born("invoice", app_id)
        self.invoice_customers[app_id] = customer
        return {
            "invoice_id": f"inv_{app_id}",
            "customer_id": customer,
            "lines": lines,
            "ref_number": number,
            "memo": f"chaos {number}",
            "terms_id": None,
            "due_date": None,
        }

    def _resent_invoice(self, app_id: str, number: str) -> dict[str, Any]:
        """The app's outbox publishes an invoice again, corrected, under a new event id."""
        self._changed("invoice", app_id, "created")
        return {
            "invoice_id": f"inv_{app_id}",
            "customer_id": self.invoice_customers[app_id],
            "lines": self._lines(number)[0],
            "ref_number": number,
            "memo": f"chaos {number} re-sent",
            "terms_id": None,
            "due_date": None,
        }

    def invoice_updated(self, app_id: str, number: str) -> dict[str, Any]:
        self._changed("invoice", app_id, "updated")
        return {
            "invoice_id": f"inv_{app_id}",
            "lines": self._lines(number)[0],
            "memo": f"chaos {number} corrected",
            "due_date": None,
        }

    def invoice_voided(self, app_id: str, number: str) -> dict[str, Any]:
        self._changed("invoice", app_id, "voided")
        return {"invoice_id": f"inv_{app_id}", "reason": f"chaos {number}"}

    def invoice_deleted(self, app_id: str, number: str) -> dict[str, Any]:
        self._changed("invoice", app_id, "deleted")
        return {"invoice_id": f"inv_{app_id}"}

    def bill_updated(self, app_id: str, number: str) -> dict[str, Any]:
        self._changed("bill", app_id, "updated")
        expense = {"account_id": _EXPENSE, "amount": str(self._money(5, 900)), "memo": number}
        return {
            "bill_id": f"bill_{app_id}",
            "expense_lines": [expense],
            "item_lines": None,
            "ref_number": None,
            "memo": f"chaos {number} corrected",
        }

    def bill_voided(self, app_id: str, number: str) -> dict[str, Any]:
        self._changed("bill", app_id, "voided")
        return {"bill_id": f"bill_{app_id}", "reason": f"chaos {number}"}

    def sales_receipt_voided(self, app_id: str, number: str) -> dict[str, Any]:
        self._changed("sales_receipt", app_id, "voided")
        return {"sales_receipt_id": f"sr_{app_id}", "reason": f"chaos {number}"}

    def purchase_order_updated(self, app_id: str, number: str) -> dict[str, Any]:
        self._changed("purchase_order", app_id, "updated")
        return {"purchase_order_id": f"po_{app_id}", "memo": f"chaos {number} corrected"}

    def purchase_order_deleted(self, app_id: str, number: str) -> dict[str, Any]:
        self._changed("purchase_order", app_id, "deleted")
        return {"purchase_order_id": f"po_{app_id}"}

    def payment_deleted(self, app_id: str, number: str) -> dict[str, Any]:
        self._changed("payment", app_id, "deleted")
        return {"payment_id": f"pay_{app_id}"}

    def payment_received(self, app_id: str, number: str) -> dict[str, Any]:
        invoice, customer, total = self.unpaid.pop(self.rng.randrange(len(self.unpaid)))
        self._born("payment", app_id)
        return {
            "payment_id": f"pay_{app_id}",
            "customer_id": customer,
            "total_amount": str(total),
            "applied_to": [{"invoice_id": invoice, "amount": str(total)}],
            "payment_method_id": None,
            "deposit_account_id": _DEPOSIT,
            "ref_number": number,
            "memo": f"chaos {number}",
        }

    def bill_created(self, app_id: str, number: str) -> dict[str, Any]:
        expense = {"account_id": _EXPENSE, "amount": str(self._money(5, 900)), "memo": number}
        item_lines = []
        if self.rng.random() < 0.5:
            cost = str(self._money(1, 50))
            item_lines = [{"item_id": _ITEM, "quantity": self.rng.randint(1, 9), "cost": cost}]
        self._born("bill", app_id)
        return {
            "bill_id": f"bill_{app_id}",
            "vendor_id": self._pick(self.vendors),
            "expense_lines": [expense],
            "item_lines": item_lines,
            "ref_number": number,
            "memo": f"chaos {number}",
        }

    def sales_receipt_created(self, app_id: str, number: str) -> dict[str, Any]:
        self._born("sales_receipt", app_id)
        return {
            "sales_receipt_id": f"sr_{app_id}",
            "customer_id": self._pick(self.customers),
            "lines": self._lines(number)[0],
            "payment_method_id": None,
            "deposit_account_id": _DEPOSIT,
            "ref_number": number,
            "memo": f"chaos {number}",
        }

    def purchase_order_created(self, app_id: str, number: str) -> dict[str, Any]:
        self._born("purchase_order", app_id)
        return {
            "purchase_order_id": f"po_{app_id}",
            "vendor_id": self._pick(self.vendors),
            "lines": self._lines(number)[0],
            "ref_number": number,
            "memo": f"chaos {number}",
        }


_BUILDERS: Final = {
    EventType.CUSTOMER_UPSERTED: _Stream.customer_upserted,
    EventType.VENDOR_UPSERTED: _Stream.vendor_upserted,
    EventType.ITEM_UPSERTED: _Stream.item_upserted,
    EventType.INVOICE_CREATED: _Stream.invoice_created,
    EventType.PAYMENT_RECEIVED: _Stream.payment_received,
    EventType.BILL_CREATED: _Stream.bill_created,
    EventType.SALES_RECEIPT_CREATED: _Stream.sales_receipt_created,
    EventType.PURCHASE_ORDER_CREATED: _Stream.purchase_order_created,
    EventType.INVOICE_UPDATED: _Stream.invoice_updated,
    EventType.INVOICE_VOIDED: _Stream.invoice_voided,
    EventType.INVOICE_DELETED: _Stream.invoice_deleted,
    EventType.BILL_UPDATED: _Stream.bill_updated,
    EventType.BILL_VOIDED: _Stream.bill_voided,
    EventType.SALES_RECEIPT_VOIDED: _Stream.sales_receipt_voided,
    EventType.PURCHASE_ORDER_UPDATED: _Stream.purchase_order_updated,
    EventType.PURCHASE_ORDER_DELETED: _Stream.purchase_order_deleted,
    EventType.PAYMENT_DELETED: _Stream.payment_deleted,
}


def _without_nulls(event: dict[str, Any]) -> dict[str, Any]:
    """Drop example fields set to None (a reference the company file has no object for)."""
    event["data"] = {key: value for key, value in event["data"].items() if value is not None}
    return event


def generate_workload(
    companies: Sequence[ChaosCompany],
    events_per_company: int,
    *,
    seed: int,
    sync_requested_rate: float = 0.0,
    setup: bool = True,
    tag: str = "w",
    types: Collection[EventType] | None = None,
) -> Workload:
    """A seeded stream: per company its mappings (if ``setup``), then ``events_per_company``
    events, companies interleaved at random as independent producers would publish them.

    ``types`` narrows the written event types (default: all of ``WRITE_MIX``); a payment
    needs an earlier invoice, so payments alone are refused, and a change of a transaction
    is only kept with the create it needs. Invoices are re-sent (an ``invoice.created`` of
    an existing invoice, new event id) only when ``invoice.updated`` is in the mix too.
    """
    if len(tag) > _MAX_TAG:
        raise ValueError(f"tag {tag!r} is longer than {_MAX_TAG} characters")
    mix = {t: w for t, w in WRITE_MIX.items() if types is None or t in types}
    if not mix or set(mix) == {EventType.PAYMENT_RECEIVED}:
        raise ValueError(f"no workload can be made of {types!r}")
    if EventType.INVOICE_CREATED not in mix:
        mix.pop(EventType.PAYMENT_RECEIVED, None)
    for change, create in LIFECYCLE.items():
        if create not in mix:
            mix.pop(change, None)
    if not mix:
        raise ValueError(f"no workload can be made of {types!r}")
    rng = random.Random(seed)
    queues: dict[str, list[dict[str, Any]]] = {}
    for company in companies:
        resend = _RESEND if EventType.INVOICE_UPDATED in mix else 0.0
        stream = _Stream(rng, company.id, tag, resend_rate=resend)
        queue = queues[company.id] = []
        for seq in range(events_per_company):
            if rng.random() < sync_requested_rate:
                event_id = f"{company.id}-{tag}-{seq:05d}"
                queue.append(_event(EventType.SYNC_REQUESTED, company.id, event_id))
                continue
            event_type = rng.choices(list(mix), weights=list(mix.values()))[0]
            queue.append(stream.next(seq, event_type))
    events = [e for c in companies for e in _setup(c, tag)] if setup else []
    while any(queues.values()):
        company_id = rng.choice([name for name, queue in queues.items() if queue])
        events.append(queues[company_id].pop(0))
    return Workload(tuple(companies), tuple(events))
