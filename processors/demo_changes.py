"""The demo's last step: the books change after the fact, in both directions (issue 15).

The app corrects an invoice, voids a sales receipt and its outbox re-publishes an invoice
with a new event id (absorbed: still one invoice); then a bookkeeper enters a payment in
QuickBooks itself and a status pull reads it back as ``qbd.status.invoice``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from processors.config import Settings
from processors.testing import TopicReader, produce
from schemas import EventType, ReferenceList

__all__ = ["EventMaker", "change_the_books"]

EventMaker = Callable[[EventType, str, dict[str, Any]], dict[str, Any]]
"""The demo's event builder: ``make(type, companyid, data)`` with a fresh event id."""

_STATUS: Final = "qbd.status.invoice"
# inv_1 exactly as the demo stream creates it: a re-send of it changes nothing.
_INV_1: Final = {
    "invoice_id": "inv_1",
    "customer_id": "cus_1",
    "transaction_date": "2026-11-24",
    "ref_number": "INV-1",
    "terms_id": "net30",
    "lines": [{"item_id": "svc_consult", "quantity": 2, "rate": "150.00", "amount": "300.00"}],
}


def _say(text: str = "") -> None:
    print(text, flush=True)  # noqa: T201 - the demo's output is for people


def _changes(make: EventMaker, company: str) -> list[dict[str, Any] | bytes]:
    valves = {"item_id": "prd_valve", "quantity": 5, "rate": "24.00", "amount": "120.00"}
    return [
        make(EventType.INVOICE_UPDATED, company, {"invoice_id": "inv_2", "lines": [valves]}),
        make(
            EventType.SALES_RECEIPT_VOIDED,
            company,
            {"sales_receipt_id": "sr_1", "reason": "Card charge reversed"},
        ),
        # The billing service's outbox publishes inv_1 again, with a new event id.
        make(EventType.INVOICE_CREATED, company, dict(_INV_1)),
    ]


def _is_status(event: dict[str, Any], invoice_id: str) -> bool:
    return bool(event["type"] == _STATUS and event["data"]["invoice_id"] == invoice_id)


def _invoices(sim: Any, end_user: str) -> list[dict[str, Any]]:
    """The company's invoices that qbd-sync wrote (tagged with an ``externalId``)."""
    return [obj for obj in sim.objects(end_user, "invoices") if obj.get("externalId")]


def _pay_in_quickbooks(settings: Settings, sim: Any, end_user: str, invoice: Any) -> None:
    from conductor import Conductor

    client = Conductor(
        api_key=settings.secret("conductor_secret_key"), base_url=sim.base_url, max_retries=0
    )
    client.qbd.receive_payments.create(
        conductor_end_user_id=end_user,
        customer_id=invoice["customer"]["id"],
        transaction_date="2026-12-02",
        total_amount="100.00",
        apply_to_transactions=[{"transaction_id": invoice["id"], "payment_amount": "100.00"}],
    )


async def change_the_books(
    settings: Settings,
    sim: Any,
    company: str,
    end_user: str,
    *,
    results: TopicReader,
    reference: TopicReader,
    make_event: EventMaker,
) -> bool:
    """Run the step for one company; whether everything came out as expected."""
    changes = _changes(make_event, company)
    before = _invoices(sim, end_user)
    await produce(settings, changes)
    ids = {change["id"] for change in changes if isinstance(change, dict)}
    done = await results.wait_for(
        lambda evs: ids <= {e["data"]["event_id"] for e in evs}, timeout=60
    )
    by_id = {e["data"]["event_id"]: e["data"] for e in done}
    labels = ["inv_2 corrected", "sr_1 voided", "inv_1 re-sent with a new event id"]
    actions = [by_id[change["id"]]["action"] for change in changes if isinstance(change, dict)]
    for label, action in zip(labels, actions, strict=True):
        _say(f"   {label}: {action}")
    invoices = _invoices(sim, end_user)
    _say(f"   still {len(invoices)} invoices in QuickBooks (the re-send made no second one)")
    inv_2 = next(obj for obj in invoices if obj["refNumber"] == "INV-2")
    _pay_in_quickbooks(settings, sim, end_user, inv_2)
    _say("   the bookkeeper enters a 100.00 payment for INV-2 in QuickBooks itself")
    pull = make_event(
        EventType.REFERENCE_PULL_REQUESTED,
        company,
        {"object_types": [ReferenceList.INVOICE_STATUS]},
    )
    await produce(settings, [pull])
    events = await reference.wait_for(
        lambda evs: any(_is_status(e, "inv_2") for e in evs), timeout=60
    )
    for event in events:
        if event["type"] == _STATUS:
            data = event["data"]
            _say(
                f"   read back: {_STATUS} {data['invoice_id']} balance "
                f"{data['balance_remaining']} (paid: {data['is_paid']})"
            )
    status = next(e["data"] for e in events if _is_status(e, "inv_2"))
    return (
        actions == ["updated", "voided", "unchanged"]
        and len(invoices) == len(before)
        and (status["invoice_id"], status["balance_remaining"]) == ("inv_2", "20.00")
    )
