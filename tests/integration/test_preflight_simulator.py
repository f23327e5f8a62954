"""Pre-flight against the simulator: it refuses exactly what QuickBooks (qbdsim) would.

Each property builds an event, plans its write as the processor does (`plan_write`), and
sends it through the official SDK to the simulator: pre-flight refuses the event if and
only if the simulator refuses the write (or silently changes what was sent).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import conductor
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from processors.devstack import DEV_SECRET_KEY
from processors.preflight import Books, Rule, refusals
from processors.testing import TestStack
from processors.writes import plan_write, required_refs
from schemas import EventType, example_event, parse_event
from schemas.inbound import (
    AccountUpserted,
    AppliedPayment,
    ClassUpserted,
    CustomerUpserted,
    InvoiceCreated,
    ItemUpserted,
    PaymentMethodUpserted,
    PaymentReceived,
    SalesLine,
    TermsUpserted,
)
from schemas.refs import EventData, Ref

_NO_BOOKS = Books()
PROPERTY = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@dataclass
class Company:
    """A simulated company file (the demo data) and the SDK client that writes to it."""

    client: conductor.Conductor
    end_user: str
    ids: dict[str, str]
    created: Any = None
    """The object the last successful `send` created."""

    def send(self, data: EventData, event_type: EventType) -> str | None:
        """Plan ``data`` as the processor would and write it: QuickBooks' code if refused."""
        event = parse_event(example_event(event_type))
        event = dataclasses.replace(event, data=data)
        resolved = {ref: self._qbd_id(ref) for ref in required_refs(event)}
        plan = plan_write(event, resolved)
        create = getattr(self.client.qbd, plan.resource).create
        try:
            self.created = create(conductor_end_user_id=self.end_user, **plan.params)
        except conductor.APIStatusError as exc:
            return str(exc.body["error"].get("integrationCode") or exc.body["error"]["code"])
        return None

    def _qbd_id(self, ref: Ref) -> str:
        return self.ids[ref.app_id]


def _company(stack: TestStack, client: conductor.Conductor, *, demo: bool = True) -> Company:
    end_user = f"end_usr_{uuid.uuid4().hex[:12]}"
    stack.simulator.connect(end_user)
    if demo:
        stack.simulator.seed(end_user, demo=True)
    ids = {
        obj["name"]: obj["id"]
        for kind in ("customers", "vendors", "service-items", "accounts")
        for obj in stack.simulator.objects(end_user, kind)
    }
    return Company(client, end_user, ids)


@pytest.fixture(scope="module")
def client(stack: TestStack) -> Iterator[conductor.Conductor]:
    """The official SDK, pointed at the session's simulator."""
    with conductor.Conductor(
        api_key=DEV_SECRET_KEY, base_url=stack.simulator.base_url, max_retries=0
    ) as sdk:
        yield sdk


@pytest.fixture(scope="module")
def books(stack: TestStack, client: conductor.Conductor) -> Company:
    """One demo company file shared by the properties that need no fresh one."""
    return _company(stack, client)


def _rules(data: EventData, books: Books = _NO_BOOKS) -> set[Rule]:
    return {refusal.rule for refusal in refusals(data, books)}


_NAMED: dict[EventType, tuple[type[EventData], dict[str, Any]]] = {
    EventType.CUSTOMER_UPSERTED: (CustomerUpserted, {"customer_id": "c"}),
    EventType.ITEM_UPSERTED: (
        ItemUpserted,
        {"item_id": "i", "kind": "service", "income_account_id": "Consulting Income"},
    ),
    EventType.CLASS_UPSERTED: (ClassUpserted, {"class_id": "k"}),
    EventType.TERMS_UPSERTED: (TermsUpserted, {"terms_id": "t", "due_days": 30}),
    EventType.ACCOUNT_UPSERTED: (AccountUpserted, {"account_id": "a", "account_type": "expense"}),
    EventType.PAYMENT_METHOD_UPSERTED: (
        PaymentMethodUpserted,
        {"payment_method_id": "p", "kind": "cash"},
    ),
}

_NAMES = st.one_of(
    st.text(st.characters(exclude_categories=("Cc", "Cs")), min_size=1, max_size=45),
    st.builds(
        lambda n, tail: "N" * n + tail,
        st.integers(25, 45),
        st.sampled_from(["", ":", "a:b", " "]),
    ),
).filter(lambda name: name.strip() != "")


@PROPERTY
@given(event_type=st.sampled_from(list(_NAMED)), name=_NAMES)
def test_names_are_refused_exactly_when_quickbooks_refuses_them(
    stack: TestStack, client: conductor.Conductor, event_type: EventType, name: str
) -> None:
    """A list name passes pre-flight iff the simulator creates it (fresh file: no clashes)."""
    model, fields = _NAMED[event_type]
    data = model.model_construct(name=name, **fields)
    company = _company(stack, client, demo=False)
    company.ids["Consulting Income"] = client.qbd.accounts.create(
        name="Consulting Income", account_type="income", conductor_end_user_id=company.end_user
    ).id

    refused_by = company.send(data, event_type)

    rules = _rules(data) & {Rule.NAME_TOO_LONG, Rule.NAME_INVALID_CHARACTER}
    assert (refused_by is not None) == bool(rules), (refused_by, rules)
    if refused_by == "3070":
        assert Rule.NAME_TOO_LONG in rules


def _invoice(**fields: Any) -> InvoiceCreated:
    """An invoice for Acme of one consulting hour, with ``fields`` changed."""
    line = SalesLine.model_construct(item_id="Consulting Hour", quantity=Decimal(1))
    defaults: dict[str, Any] = {
        "invoice_id": "inv",
        "customer_id": "Acme Corporation",
        "transaction_date": date(2026, 11, 2),
        "lines": [line],
    }
    return InvoiceCreated.model_construct(**(defaults | fields))


_DATES = st.dates(date(2025, 1, 1), date(2027, 12, 31))
_PRICE = st.tuples(st.integers(0, 10**7), st.integers(0, 5)).map(
    lambda pair: Decimal(pair[0]).scaleb(-pair[1])
)


@st.composite
def _lines(draw: st.DrawFn) -> SalesLine:
    quantity = draw(st.none() | _PRICE)
    rate = draw(st.none() | _PRICE)
    agreeing = (Decimal(1) if quantity is None else quantity) * (rate or 0)
    amount = draw(
        st.none()
        | st.just(agreeing.quantize(Decimal("0.01"), rounding="ROUND_HALF_UP"))
        | st.integers(-(10**9), 10**9).map(lambda cents: Decimal(cents).scaleb(-2))
    )
    return SalesLine.model_construct(
        item_id="Consulting Hour", quantity=quantity, rate=rate, amount=amount
    )


def _number(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


@PROPERTY
@given(line=_lines())
def test_lines_are_refused_exactly_when_quickbooks_would_not_keep_them(
    books: Company, line: SalesLine
) -> None:
    """A line passes iff QuickBooks keeps every number sent, and rate and amount sent agree."""
    data = _invoice(lines=[line])

    assert books.send(data, EventType.INVOICE_CREATED) is None
    kept = books.created.lines[0]
    sent = {"quantity": line.quantity, "rate": line.rate, "amount": line.amount}
    stored = {key: _number(getattr(kept, key)) for key in sent}
    as_sent = all(stored[key] == value for key, value in sent.items() if value is not None)
    quantity = Decimal(1) if stored["quantity"] is None else stored["quantity"]
    agrees = (
        line.rate is None
        or line.amount is None
        or (quantity * (stored["rate"] or 0)).quantize(Decimal("0.01"), "ROUND_HALF_UP")
        == stored["amount"]
    )
    assert (Rule.AMOUNT_RATE_MISMATCH not in _rules(data)) == (as_sent and agrees), (sent, stored)


@PROPERTY
@given(closing=_DATES, dated=_DATES)
def test_dates_are_refused_exactly_when_the_period_is_closed(
    stack: TestStack, books: Company, closing: date, dated: date
) -> None:
    """With the same closing date, pre-flight and QuickBooks refuse the same dates."""
    stack.simulator.set_closing_date(books.end_user, closing.isoformat())
    data = _invoice(transaction_date=dated)
    try:
        refused_by = books.send(data, EventType.INVOICE_CREATED)
    finally:
        stack.simulator.set_closing_date(books.end_user, None)

    closed = Rule.BEFORE_CLOSING_DATE in _rules(data, Books(closing_date=closing))
    assert (refused_by is not None) == closed, refused_by


@PROPERTY
@given(length=st.integers(1, 25))
def test_invoice_ref_numbers_are_refused_exactly_when_too_long(books: Company, length: int) -> None:
    """QuickBooks keeps 11 characters of an invoice number; pre-flight refuses the 12th."""
    data = _invoice(ref_number="7" * length)

    refused_by = books.send(data, EventType.INVOICE_CREATED)

    assert (refused_by == "3070") == (Rule.REF_NUMBER_TOO_LONG in _rules(data))


@pytest.fixture(scope="module")
def big_invoice(books: Company) -> str:
    """An invoice of 100,000,000.00 for Acme, to apply payments to."""
    line = SalesLine.model_construct(
        item_id="Consulting Hour", quantity=Decimal(1), rate=Decimal(10**8)
    )
    data = _invoice(invoice_id="inv_big", lines=[line])
    assert books.send(data, EventType.INVOICE_CREATED) is None
    books.ids["inv_big"] = books.created.id
    return str(books.created.id)


_CENTS = st.integers(0, 10**6).map(lambda cents: Decimal(cents).scaleb(-2))


@PROPERTY
@given(applied=_CENTS, total=_CENTS)
def test_payments_are_refused_exactly_when_they_apply_more_than_their_total(
    books: Company, big_invoice: str, applied: Decimal, total: Decimal
) -> None:
    """Cash applied beyond the payment's total: refused by both, and nothing else is."""
    part = AppliedPayment.model_construct(invoice_id="inv_big", amount=applied, credits=[])
    data = PaymentReceived.model_construct(
        payment_id="pay",
        customer_id="Acme Corporation",
        transaction_date=date(2026, 11, 3),
        total_amount=total,
        applied_to=[part],
    )

    refused_by = books.send(data, EventType.PAYMENT_RECEIVED)

    assert (refused_by is not None) == (Rule.TOTAL_MISMATCH in _rules(data)), refused_by
