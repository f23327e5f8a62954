"""The sync pipeline end to end: real broker, real PostgreSQL, the simulator over HTTP."""

from __future__ import annotations

from typing import Any

from conductor import Conductor

from processors.config import Settings
from processors.devstack import DEV_SECRET_KEY
from processors.testing import (
    RunningService,
    TestStack,
    TopicReader,
    produce,
    unique_name,
)
from schemas import EventType, example_event


def _event(event_type: EventType, company: str, **data: Any) -> dict[str, Any]:
    event = example_event(event_type, companyid=company, id=unique_name(f"evt-{event_type}"))
    event["data"].update(data)
    return event


def _mapping(company: str, object_type: str, app_id: str, qbd_id: str) -> dict[str, Any]:
    return _event(EventType.MAPPING_SET, company, object_type=object_type, app_id=app_id,
                  qbd_id=qbd_id)  # fmt: skip


def connect_company(stack: TestStack) -> tuple[str, str, dict[str, str]]:
    """A company whose end-user exists and is online, seeded with the demo company file.

    Returns the company id, its end-user id and the QuickBooks ids of its lists by name.
    """
    company = unique_name("acct")
    client = Conductor(api_key=DEV_SECRET_KEY, base_url=stack.simulator.base_url, max_retries=0)
    end_user = client.end_users.create(company_name=company, email="o@example.com",
                                       source_id=company)  # fmt: skip
    stack.simulator.connect(end_user.id)
    stack.simulator.seed(end_user.id, demo=True)
    ids = {
        obj["name"]: obj["id"]
        for kind in ("accounts", "standard-terms", "payment-methods")
        for obj in stack.simulator.objects(end_user.id, kind)
    }
    return company, end_user.id, ids


def _company_stream(company: str, ids: dict[str, str]) -> list[dict[str, Any]]:
    """Map a company's accounts and terms, then one event of every write type."""
    income = next(qbd_id for name, qbd_id in ids.items() if "Income" in name)
    expense = next(
        qbd_id for name, qbd_id in ids.items() if "Expense" in name or "Supplies" in name
    )
    bank = next(
        qbd_id for name, qbd_id in ids.items() if "Undeposited" in name or "Checking" in name
    )
    terms = next(qbd_id for name, qbd_id in ids.items() if "Net" in name)
    return [
        _event(EventType.CUSTOMER_UPSERTED, company),
        _event(EventType.VENDOR_UPSERTED, company),
        _mapping(company, "account", "acct_sales", income),
        _mapping(company, "account", "acct_supplies", expense),
        _mapping(company, "account", "acct_undeposited", bank),
        _mapping(company, "terms", "terms_net30", terms),
        _mapping(company, "payment_method", "pm_card", ids["Visa"]),
        _mapping(company, "payment_method", "pm_cash", ids["Cash"]),
        _event(EventType.ITEM_UPSERTED, company),
        _event(
            EventType.ITEM_UPSERTED,
            company,
            item_id="item_pipe",
            name="Pipe",
            kind="non_inventory",
            price="3.25",
        ),
        _event(EventType.INVOICE_CREATED, company),
        _event(EventType.PAYMENT_RECEIVED, company),
        _event(EventType.BILL_CREATED, company),
        _event(EventType.SALES_RECEIPT_CREATED, company),
        _event(EventType.PURCHASE_ORDER_CREATED, company),
    ]


async def test_every_event_type_syncs_and_reports_its_quickbooks_id(
    stack: TestStack, settings: Settings, results: TopicReader
) -> None:
    """Each write event creates its QuickBooks object and one qbd.sync.succeeded."""
    company, end_user, ids = connect_company(stack)
    stream = _company_stream(company, ids)
    async with RunningService(settings):
        await produce(settings, stream)
        events = await results.wait_for(lambda found: len(found) >= len(stream))

    by_id = {event["data"]["event_id"]: event["data"] for event in events}
    assert [e["type"] for e in events] == ["qbd.sync.succeeded"] * len(stream), events
    invoice = by_id[stream[10]["id"]]
    assert invoice["qbd_object_type"] == "qbd_invoice"
    assert invoice["app_id"] == "inv_5001"
    stored = stack.simulator.objects(end_user, "invoices")
    assert [obj["id"] for obj in stored] == [invoice["qbd_id"]]
    assert stored[0]["refNumber"] == "INV-5001"
    assert stored[0]["subtotal"] == "125.00"
    payment = stack.simulator.objects(end_user, "receive-payments")[0]
    assert payment["totalAmount"] == "125.00"
    assert payment["appliedToTransactions"][0]["transactionId"] == invoice["qbd_id"]
    for kind in ("bills", "sales-receipts", "purchase-orders"):
        assert len(stack.simulator.objects(end_user, kind)) == 1, kind
