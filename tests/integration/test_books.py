"""QuickBooks-valid books end to end: sales tax, credits, payables, setup lists, pre-flight.

Real broker, real PostgreSQL, the simulator over HTTP; each test gets a fresh company file
holding the simulator's demo data (sales tax codes Tax/Non, the 8.25 % state and 1 % city
sales tax items and their group, Cash/Check/Visa, a bank and a credit-card account).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import asyncpg
import pytest
from conductor import Conductor

from processors.config import Settings
from processors.devstack import DEV_SECRET_KEY
from processors.testing import (
    RunningService,
    TestStack,
    TopicReader,
    async_wait_for,
    produce,
    unique_name,
)
from schemas import EventType


@dataclass
class Company:
    """A connected company whose file holds the demo data, and its QuickBooks ids by name."""

    id: str
    end_user: str
    qbd: dict[str, str]

    def event(self, event_type: EventType, **data: Any) -> dict[str, Any]:
        """A CloudEvent of this company with a unique id."""
        return {
            "specversion": "1.0",
            "id": unique_name(f"evt-{event_type}"),
            "type": str(event_type),
            "source": "books-test",
            "companyid": self.id,
            "data": data,
        }

    def mapping(self, object_type: str, app_id: str, qbd_name: str) -> dict[str, Any]:
        """``mapping.set`` of ``app_id`` to the QuickBooks object named ``qbd_name``."""
        return self.event(
            EventType.MAPPING_SET,
            object_type=object_type,
            app_id=app_id,
            qbd_id=self.qbd[qbd_name],
        )


_NAMED_KINDS = (
    "accounts",
    "sales-tax-codes",
    "sales-tax-items",
    "sales-tax-group-items",
    "payment-methods",
)


def _connect(stack: TestStack) -> Company:
    company = unique_name("acct")
    client = Conductor(api_key=DEV_SECRET_KEY, base_url=stack.simulator.base_url, max_retries=0)
    end_user = client.end_users.create(
        company_name=company, email="o@example.com", source_id=company
    ).id
    stack.simulator.connect(end_user)
    stack.simulator.seed(end_user, demo=True)
    qbd = {
        obj["name"]: obj["id"]
        for kind in _NAMED_KINDS
        for obj in stack.simulator.objects(end_user, kind)
    }
    return Company(company, end_user, qbd)


def _cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _sales_setup(company: Company) -> list[dict[str, Any]]:
    """Tax codes and the state + city tax group mapped; a taxable customer; two items."""
    return [
        company.mapping("sales_tax_code", "tax", "Tax"),
        company.mapping("sales_tax_code", "non", "Non"),
        company.mapping("sales_tax_item", "state_city", "State + City Tax"),
        company.mapping("account", "sales", "Product Sales"),
        company.mapping("account", "discounts", "Discounts Given"),
        company.event(
            EventType.CUSTOMER_UPSERTED,
            customer_id="cus_1",
            name=unique_name("Rivera"),
            sales_tax_code_id="tax",
        ),
        company.event(
            EventType.ITEM_UPSERTED,
            item_id="lamp",
            name=unique_name("Lamp"),
            kind="non_inventory",
            price="39.00",
            income_account_id="sales",
        ),
        company.event(
            EventType.ITEM_UPSERTED,
            item_id="visit",
            name=unique_name("Visit"),
            kind="service",
            price="150.00",
            income_account_id="sales",
        ),
    ]


def _invoice(company: Company, invoice_id: str, **data: Any) -> dict[str, Any]:
    """A taxed invoice: 2 lamps (taxable) and a visit (not taxable), state + city tax."""
    lines = [
        {"item_id": "lamp", "quantity": 2, "rate": "39.00", "sales_tax_code_id": "tax"},
        {"item_id": "visit", "quantity": 1, "rate": "150.00", "sales_tax_code_id": "non"},
    ]
    fields = {
        "invoice_id": invoice_id,
        "customer_id": "cus_1",
        "transaction_date": "2026-11-24",
        "lines": lines,
        "sales_tax_item_id": "state_city",
    }
    return company.event(EventType.INVOICE_CREATED, **(fields | data))


async def _results(reader: TopicReader, events: list[dict[str, Any]]) -> dict[str, Any]:
    """Wait for the sync result of every event; return them by event id."""
    wanted = {event["id"] for event in events}
    found = await reader.wait_for(lambda got: wanted <= {e["data"]["event_id"] for e in got})
    return {e["data"]["event_id"]: e["data"] for e in found if e["data"]["event_id"] in wanted}


def _named(stack: TestStack, company: Company, kind: str, name: str) -> dict[str, Any]:
    found = [o for o in stack.simulator.objects(company.end_user, kind) if o["name"] == name]
    assert len(found) == 1, found
    return found[0]


def _one(stack: TestStack, company: Company, kind: str) -> dict[str, Any]:
    objects = stack.simulator.objects(company.end_user, kind)
    assert len(objects) == 1, objects
    return objects[0]


def _items(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Attention items only (the topic also carries qbd.company.state_changed)."""
    return [e for e in events if e["type"].startswith("qbd.attention.")]


async def test_a_taxed_invoice_totals_what_the_simulator_computes(
    stack: TestStack, settings: Settings, results: TopicReader
) -> None:
    """Line tax codes and the invoice's tax item reach QuickBooks: taxable lines are taxed."""
    company = _connect(stack)
    stream = [*_sales_setup(company), _invoice(company, "inv_1")]
    async with RunningService(settings):
        await produce(settings, stream)
        found = await _results(results, stream)
    invoice = _one(stack, company, "invoices")
    customer = next(
        c for c in stack.simulator.objects(company.end_user, "customers") if c.get("externalId")
    )
    rate = Decimal("8.25") + Decimal("1.00")
    tax = _cents(Decimal("78.00") * rate / 100)

    assert {r["status"] for r in found.values()} == {"synced"}
    assert customer["salesTaxCode"]["id"] == company.qbd["Tax"]
    assert invoice["salesTaxItem"]["id"] == company.qbd["State + City Tax"]
    assert [line["salesTaxCode"]["id"] for line in invoice["lines"]] == [
        company.qbd["Tax"],
        company.qbd["Non"],
    ]
    assert (invoice["subtotal"], invoice["salesTaxPercentage"]) == ("228.00", "9.25")
    assert Decimal(invoice["salesTaxTotal"]) == tax == Decimal("7.22")
    assert Decimal(invoice["balanceRemaining"]) == Decimal("228.00") + tax


async def test_a_credit_memo_is_applied_to_an_invoice_by_a_payment(
    stack: TestStack, settings: Settings, results: TopicReader
) -> None:
    """A taxed credit memo, then a zero payment applying it: the invoice's balance drops."""
    company = _connect(stack)
    credit_memo = company.event(
        EventType.CREDIT_MEMO_CREATED,
        credit_memo_id="cm_1",
        customer_id="cus_1",
        transaction_date="2026-11-26",
        ref_number="CM-1",
        sales_tax_item_id="state_city",
        lines=[{"item_id": "lamp", "quantity": 1, "rate": "39.00", "sales_tax_code_id": "tax"}],
    )
    credit = company.event(
        EventType.PAYMENT_RECEIVED,
        payment_id="pay_credit",
        customer_id="cus_1",
        transaction_date="2026-11-27",
        total_amount="0.00",
        applied_to=[
            {
                "invoice_id": "inv_1",
                "amount": "0.00",
                "credits": [{"credit_memo_id": "cm_1", "amount": "42.61"}],
            }
        ],
    )
    stream = [*_sales_setup(company), _invoice(company, "inv_1"), credit_memo, credit]
    async with RunningService(settings):
        await produce(settings, stream)
        found = await _results(results, stream)
    memo = _one(stack, company, "credit-memos")
    invoice = _one(stack, company, "invoices")

    assert {r["status"] for r in found.values()} == {"synced"}
    assert found[credit_memo["id"]]["qbd_object_type"] == "qbd_credit_memo"
    assert (memo["totalAmount"], memo["salesTaxTotal"], memo["refNumber"]) == (
        "42.61",
        "3.61",
        "CM-1",
    )
    assert memo["creditRemaining"] == "0.00"
    assert invoice["balanceRemaining"] == "192.61"


async def test_a_payment_takes_a_discount_into_its_discount_account(
    stack: TestStack, settings: Settings, results: TopicReader
) -> None:
    """discount_amount comes off the invoice, posted to discount_account_id."""
    company = _connect(stack)
    payment = company.event(
        EventType.PAYMENT_RECEIVED,
        payment_id="pay_1",
        customer_id="cus_1",
        transaction_date="2026-11-30",
        total_amount="230.00",
        applied_to=[{"invoice_id": "inv_1", "amount": "230.00", "discount_amount": "5.22"}],
        discount_account_id="discounts",
    )
    stream = [*_sales_setup(company), _invoice(company, "inv_1"), payment]
    async with RunningService(settings):
        await produce(settings, stream)
        found = await _results(results, stream)
    applied = _one(stack, company, "receive-payments")["appliedToTransactions"][0]

    assert found[payment["id"]]["status"] == "synced"
    assert (applied["amount"], applied["discountAmount"]) == ("230.00", "5.22")
    assert applied["discountAccount"]["id"] == company.qbd["Discounts Given"]
    assert _one(stack, company, "invoices")["balanceRemaining"] == "0.00"


def _payables_setup(company: Company) -> list[dict[str, Any]]:
    return [
        company.mapping("account", "checking", "Checking"),
        company.mapping("account", "card", "Visa Business Card"),
        company.mapping("account", "supplies", "Office Supplies"),
        company.event(EventType.VENDOR_UPSERTED, vendor_id="ven_1", name=unique_name("Pipes")),
    ]


def _bill(company: Company, bill_id: str, amount: str) -> dict[str, Any]:
    return company.event(
        EventType.BILL_CREATED,
        bill_id=bill_id,
        vendor_id="ven_1",
        transaction_date="2026-11-20",
        expense_lines=[{"account_id": "supplies", "amount": amount}],
    )


async def test_a_bill_payment_waits_for_its_bill_then_pays_it_by_check(
    stack: TestStack,
    settings: Settings,
    results: TopicReader,
    attention: TopicReader,
    db: asyncpg.Pool,
) -> None:
    """Published before its bill, the check waits (asking the user nothing), then pays it."""
    company = _connect(stack)
    check = company.event(
        EventType.BILL_PAYMENT_CREATED,
        bill_payment_id="bp_1",
        vendor_id="ven_1",
        transaction_date="2026-12-01",
        method="check",
        account_id="checking",
        applied_to=[{"bill_id": "bill_1", "amount": "48.10"}],
        ref_number="1042",
    )
    bill = _bill(company, "bill_1", "48.10")
    async with RunningService(settings):
        await produce(settings, [*_payables_setup(company), check])

        async def waits() -> bool:
            status = await db.fetchval("SELECT status FROM ledger WHERE event_id = $1", check["id"])
            return bool(status == "waiting_dependency")

        await async_wait_for(waits, what="the bill payment to wait for its bill")
        await produce(settings, [bill])
        found = await _results(results, [check, bill])
    await attention.drain()
    paid = _one(stack, company, "bill-check-payments")

    assert found[check["id"]]["qbd_object_type"] == "qbd_bill_check_payment"
    assert paid["bankAccount"]["id"] == company.qbd["Checking"]
    assert paid["refNumber"] == "1042"
    assert paid["appliedToTransactions"][0]["transactionId"] == found[bill["id"]]["qbd_id"]
    assert _one(stack, company, "bills")["isPaid"] is True
    assert [e["data"]["code"] for e in _items(attention.events())] == []


async def test_a_bill_paid_by_credit_card_is_a_credit_card_payment(
    stack: TestStack, settings: Settings, results: TopicReader
) -> None:
    """method credit_card pays the bill from the credit-card account."""
    company = _connect(stack)
    card = company.event(
        EventType.BILL_PAYMENT_CREATED,
        bill_payment_id="bp_2",
        vendor_id="ven_1",
        transaction_date="2026-12-01",
        method="credit_card",
        account_id="card",
        applied_to=[{"bill_id": "bill_2", "amount": "20.00"}],
    )
    stream = [*_payables_setup(company), _bill(company, "bill_2", "50.00"), card]
    async with RunningService(settings):
        await produce(settings, stream)
        found = await _results(results, stream)
    paid = _one(stack, company, "bill-credit-card-payments")

    assert found[card["id"]]["status"] == "synced"
    assert paid["creditCardAccount"]["id"] == company.qbd["Visa Business Card"]
    assert _one(stack, company, "bills")["openAmount"] == "30.00"


@pytest.mark.parametrize(
    ("method", "account", "kind"),
    [
        ("check", "checking", "bill-check-payments"),
        ("credit_card", "card", "bill-credit-card-payments"),
    ],
)
async def test_a_deleted_bill_payment_is_deleted_from_its_kind_and_the_bill_is_open_again(
    stack: TestStack,
    settings: Settings,
    results: TopicReader,
    db: asyncpg.Pool,
    method: str,
    account: str,
    kind: str,
) -> None:
    """bill_payment.deleted finds the payment's kind from our write of it and deletes it there."""
    company = _connect(stack)
    payment = company.event(
        EventType.BILL_PAYMENT_CREATED,
        bill_payment_id="bp_del",
        vendor_id="ven_1",
        transaction_date="2026-12-01",
        method=method,
        account_id=account,
        applied_to=[{"bill_id": "bill_del", "amount": "25.00"}],
    )
    paid = [*_payables_setup(company), _bill(company, "bill_del", "25.00"), payment]
    deleted = company.event(EventType.BILL_PAYMENT_DELETED, bill_payment_id="bp_del")
    async with RunningService(settings):
        await produce(settings, paid)
        await _results(results, paid)
        assert len(stack.simulator.objects(company.end_user, kind)) == 1
        await produce(settings, [deleted])
        found = await _results(results, [deleted])

    assert (found[deleted["id"]]["status"], found[deleted["id"]]["action"]) == (
        "synced",
        "deleted",
    )
    assert found[deleted["id"]]["qbd_object_type"] == f"qbd_{kind.replace('-', '_')[:-1]}"
    assert stack.simulator.objects(company.end_user, kind) == []
    assert _one(stack, company, "bills")["isPaid"] is False
    state = await db.fetchval(
        "SELECT state FROM mappings WHERE company_id = $1 AND object_type = 'bill_payment'",
        company.id,
    )
    assert state == "deleted"


async def test_a_linked_bill_payment_of_unknown_kind_fails_its_delete_with_the_reason(
    stack: TestStack, settings: Settings, results: TopicReader
) -> None:
    """Linked by mapping.set (never written by us): no kind to delete from, so it fails."""
    company = _connect(stack)
    linked = company.event(
        EventType.MAPPING_SET, object_type="bill_payment", app_id="bp_linked", qbd_id="9-99"
    )
    deleted = company.event(EventType.BILL_PAYMENT_DELETED, bill_payment_id="bp_linked")
    async with RunningService(settings):
        await produce(settings, [linked, deleted])
        found = await _results(results, [linked, deleted])

    error = found[deleted["id"]]["error"]
    assert found[deleted["id"]]["status"] == "failed"
    assert error["code"] == "UNKNOWN_OBJECT_KIND"
    assert "Delete it in QuickBooks" in error["user_facing_message"]


async def test_a_vendor_credit_is_recorded_with_its_lines(
    stack: TestStack, settings: Settings, results: TopicReader
) -> None:
    """vendor_credit.created records the vendor's credit with its expense lines."""
    company = _connect(stack)
    credit = company.event(
        EventType.VENDOR_CREDIT_CREATED,
        vendor_credit_id="vc_1",
        vendor_id="ven_1",
        transaction_date="2026-11-26",
        ref_number="RMA-1",
        expense_lines=[{"account_id": "supplies", "amount": "12.40", "memo": "Returned"}],
    )
    stream = [*_payables_setup(company), credit]
    async with RunningService(settings):
        await produce(settings, stream)
        found = await _results(results, stream)
    stored = _one(stack, company, "vendor-credits")

    assert found[credit["id"]]["qbd_object_type"] == "qbd_vendor_credit"
    assert (stored["creditAmount"], stored["refNumber"]) == ("12.40", "RMA-1")
    assert stored["vendor"]["id"] == found[stream[3]["id"]]["qbd_id"]


async def test_setup_lists_are_created_and_mapped_for_later_events(
    stack: TestStack, settings: Settings, results: TopicReader, db: asyncpg.Pool
) -> None:
    """Class, terms, account and payment method upserts create them; an invoice then uses them."""
    company = _connect(stack)
    lists = [
        company.event(EventType.CLASS_UPSERTED, class_id="cls_1", name="Residential Jobs"),
        company.event(
            EventType.TERMS_UPSERTED,
            terms_id="net45",
            name="Net 45",
            due_days=45,
            discount_days=10,
            discount_percent="1.5",
        ),
        company.event(
            EventType.ACCOUNT_UPSERTED,
            account_id="fees",
            name="Service Fees",
            account_type="income",
            number="4300",
        ),
        company.event(
            EventType.PAYMENT_METHOD_UPSERTED, payment_method_id="pm_zelle", name="Zelle"
        ),
    ]
    invoice = _invoice(company, "inv_1", class_id="cls_1", terms_id="net45")
    stream = [*_sales_setup(company), *lists, invoice]
    async with RunningService(settings):
        await produce(settings, stream)
        found = await _results(results, stream)
    mapped = await db.fetch(
        "SELECT object_type, app_id, qbd_id FROM mappings WHERE company_id = $1", company.id
    )
    by_app = {row["app_id"]: row["qbd_id"] for row in mapped}
    created = {
        kind: _named(stack, company, kind, name)
        for kind, name in [
            ("classes", "Residential Jobs"),
            ("standard-terms", "Net 45"),
            ("accounts", "Service Fees"),
            ("payment-methods", "Zelle"),
        ]
    }
    stored = _one(stack, company, "invoices")

    assert {r["status"] for r in found.values()} == {"synced"}
    assert by_app["cls_1"] == created["classes"]["id"]
    assert by_app["net45"] == created["standard-terms"]["id"]
    assert (created["standard-terms"]["dueDays"], created["standard-terms"]["discountDays"]) == (
        45,
        10,
    )
    assert (created["accounts"]["accountType"], created["accounts"]["accountNumber"]) == (
        "income",
        "4300",
    )
    assert created["payment-methods"]["paymentMethodType"] == "other"
    assert by_app["pm_zelle"] == created["payment-methods"]["id"]
    assert (stored["class"]["id"], stored["terms"]["id"]) == (by_app["cls_1"], by_app["net45"])
    assert stored["dueDate"] == "2027-01-08"


async def test_a_mapped_class_is_renamed_and_deactivated(
    stack: TestStack, settings: Settings, results: TopicReader
) -> None:
    """A second class.upserted for the same app id updates the class QuickBooks holds."""
    company = _connect(stack)
    first = company.event(EventType.CLASS_UPSERTED, class_id="cls_1", name="Retail Jobs")
    second = company.event(
        EventType.CLASS_UPSERTED, class_id="cls_1", name="Retail Work", is_active=False
    )
    async with RunningService(settings):
        await produce(settings, [first, second])
        found = await _results(results, [first, second])
    named = [
        c for c in stack.simulator.objects(company.end_user, "classes") if "Retail " in c["name"]
    ]

    assert found[second["id"]]["qbd_id"] == found[first["id"]]["qbd_id"]
    assert [(c["name"], c["isActive"]) for c in named] == [("Retail Work", False)]


async def test_mapped_terms_cannot_be_changed_and_say_so(
    stack: TestStack, settings: Settings, results: TopicReader, attention: TopicReader
) -> None:
    """QuickBooks' API cannot update terms: the second upsert fails with LIST_NOT_UPDATABLE."""
    company = _connect(stack)
    first = company.event(EventType.TERMS_UPSERTED, terms_id="t1", name="Net 21", due_days=21)
    second = company.event(EventType.TERMS_UPSERTED, terms_id="t1", name="Net 21", due_days=28)
    async with RunningService(settings):
        await produce(settings, [first, second])
        found = await _results(results, [first, second])
    await attention.drain()
    terms = _named(stack, company, "standard-terms", "Net 21")

    assert found[first["id"]]["status"] == "synced"
    assert found[second["id"]]["error"]["code"] == "LIST_NOT_UPDATABLE"
    assert terms["dueDays"] == 21
    assert [e["data"]["code"] for e in _items(attention.events())] == ["LIST_NOT_UPDATABLE"]


async def test_an_unmapped_payment_method_waits_with_an_attention_naming_it(
    stack: TestStack,
    settings: Settings,
    results: TopicReader,
    attention: TopicReader,
) -> None:
    """A sales receipt paid by an unknown payment method waits; creating it releases the wait."""
    company = _connect(stack)
    receipt = company.event(
        EventType.SALES_RECEIPT_CREATED,
        sales_receipt_id="sr_1",
        customer_id="cus_1",
        transaction_date="2026-11-25",
        payment_method_id="pm_venmo",
        lines=[{"item_id": "visit", "quantity": 1, "rate": "150.00"}],
    )
    method = company.event(
        EventType.PAYMENT_METHOD_UPSERTED, payment_method_id="pm_venmo", name="Venmo"
    )
    setup = _sales_setup(company)
    async with RunningService(settings):
        await produce(settings, [*setup, receipt])
        needed = await attention.wait_for(
            lambda got: any(e["type"] == "qbd.attention.needed" for e in got)
        )
        await produce(settings, [method])
        found = await _results(results, [*setup, receipt, method])
        resolved = await attention.wait_for(
            lambda got: any(e["type"] == "qbd.attention.resolved" for e in got)
        )
    stored = _one(stack, company, "sales-receipts")

    needed = [e for e in needed if e["type"] == "qbd.attention.needed"]
    assert needed[0]["data"]["code"] == "MAPPING_NEEDED:payment_method:pm_venmo"
    assert "pm_venmo" in needed[0]["data"]["user_facing_message"]
    assert needed[0]["data"]["event_ids"] == [receipt["id"]]
    assert found[receipt["id"]]["status"] == "synced"
    assert stored["paymentMethod"]["id"] == found[method["id"]]["qbd_id"]
    resolved = [e for e in resolved if e["type"] == "qbd.attention.resolved"]
    assert resolved[-1]["data"]["code"] == "MAPPING_NEEDED:payment_method:pm_venmo"


async def test_a_transaction_in_a_closed_period_fails_before_reaching_quickbooks(
    stack: TestStack, settings: Settings, results: TopicReader, attention: TopicReader
) -> None:
    """After company.settings_updated, an invoice dated in the closed period fails pre-flight."""
    company = _connect(stack)
    closing = company.event(EventType.COMPANY_SETTINGS_UPDATED, closing_date="2026-10-31")
    late = _invoice(company, "inv_ok", transaction_date="2026-11-01")
    closed = _invoice(company, "inv_closed", transaction_date="2026-10-31")
    stream = [*_sales_setup(company), closing, closed, late]
    async with RunningService(settings):
        await produce(settings, stream)
        found = await _results(results, stream)
    await attention.drain()
    posted = [
        e
        for e in stack.simulator.log()
        if e["end_user_id"] == company.end_user
        and e["method"] == "POST"
        and e["path"].endswith("/invoices")
    ]
    error = found[closed["id"]]["error"]

    assert found[closing["id"]]["status"] == "synced"
    assert (error["type"], error["code"]) == ("PREFLIGHT_ERROR", "BEFORE_CLOSING_DATE")
    assert "2026-10-31" in error["user_facing_message"]
    assert found[late["id"]]["status"] == "synced"
    assert len(posted) == 1
    assert [(e["data"]["code"], e["data"]["category"]) for e in _items(attention.events())] == [
        ("BEFORE_CLOSING_DATE", "data")
    ]


async def test_a_class_create_with_a_lost_answer_is_adopted_by_name(
    stack: TestStack, settings: Settings, results: TopicReader, faults: Any
) -> None:
    """Classes take no externalId: after a dropped answer the class is found by name, once."""
    company = _connect(stack)
    upsert = company.event(EventType.CLASS_UPSERTED, class_id="cls_1", name="Warranty Work")
    faults.set_faults(ambiguous_next=1, ambiguous_mode="drop")
    async with RunningService(settings):
        await produce(settings, [upsert])
        found = await _results(results, [upsert])
    named = _named(stack, company, "classes", "Warranty Work")
    creates = [
        e["ambiguous"]
        for e in stack.simulator.log()
        if e["end_user_id"] == company.end_user and e["method"] == "POST"
    ]

    assert found[upsert["id"]]["status"] == "synced"
    assert named["id"] == found[upsert["id"]]["qbd_id"]
    assert creates == [True]
