"""A billing service that sends qbd-sync a day of its work, with the FastStream kit.

Start qbd-sync's embedded stack in one terminal, then run this in another, from the same
directory (it reads QBD_SYNC_KAFKA_BOOTSTRAP_SERVERS from the environment or `.env.dev`):

    .venv/bin/qbd-sync dev --env-file .env.dev
    .venv/bin/python examples/billing_service.py

What it does, per company, in the order a billing app would:

1. asks qbd-sync to connect the company (`company.connect_requested`: a setup link goes to
   the notification service; `qbd-sync dev` connects new companies by itself);
2. pulls the company's QuickBooks accounts (`reference.pull_requested`, answered on
   `qbd.reference`) and maps its own income account to the first QuickBooks income account
   (`mapping.set`), as a user would pick it in the app's settings;
3. publishes the customers and items the day needs, then the day's invoices and payments.
   One customer's name is already taken in QuickBooks: that one fails, and the notifier
   shows the user what to fix.

`python examples/billing_service.py --asyncapi` prints FastStream's AsyncAPI document of
this app instead.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI

from processors.kit import EventPublisher, ReferenceEvent, kafka_broker, reference_subscriber
from schemas import (
    AppliedPayment,
    CompanyConnectRequested,
    CustomerUpserted,
    InvoiceCreated,
    ItemKind,
    ItemUpserted,
    MappingSet,
    ObjectType,
    PaymentReceived,
    ReferenceList,
    ReferencePullRequested,
    SalesLine,
    Topic,
)

SOURCE = "billing-service"
INCOME_ACCOUNT = "acct_income"
"""The billing app's own id for its income account (mapped to a QuickBooks account)."""


@dataclass(frozen=True)
class Company:
    """One of the billing app's customers with QuickBooks Desktop, and its day of sales."""

    company_id: str
    name: str
    customers: dict[str, str]
    items: dict[str, tuple[str, ItemKind, Decimal]]
    invoices: list[tuple[str, list[tuple[str, int]]]]
    """(customer id, [(item id, quantity)]) per invoice, in the order they were written."""
    paid: list[int] = field(default_factory=list)
    """Which invoices (by position) were paid the same day."""


COMPANIES = [
    Company(
        "acct_harbor",
        "Harbor Plumbing Co",
        customers={
            "cus_rivera": "Rivera Household",
            "cus_oakview": "Oakview Apartments",
            "cus_lin": "Lin Family Dentistry",
        },
        items={
            "svc_call": ("Service call", ItemKind.SERVICE, Decimal("95.00")),
            "prd_valve": ("Brass valve 3/4in", ItemKind.NON_INVENTORY, Decimal("24.50")),
        },
        invoices=[
            ("cus_rivera", [("svc_call", 1), ("prd_valve", 2)]),
            ("cus_oakview", [("svc_call", 3)]),
            ("cus_lin", [("svc_call", 1)]),
            ("cus_oakview", [("prd_valve", 6), ("svc_call", 2)]),
        ],
        paid=[0],
    ),
    Company(
        "acct_maple",
        "Maple Street Bakery",
        customers={"cus_cafe": "Corner Cafe", "cus_school": "Elm Street School"},
        items={
            "prd_loaf": ("Sourdough loaf", ItemKind.NON_INVENTORY, Decimal("6.00")),
            "svc_catering": ("Catering setup", ItemKind.SERVICE, Decimal("120.00")),
        },
        invoices=[
            ("cus_cafe", [("prd_loaf", 40)]),
            ("cus_school", [("prd_loaf", 25), ("svc_catering", 1)]),
            ("cus_cafe", [("prd_loaf", 35)]),
        ],
        paid=[1],
    ),
    Company(
        "acct_summit",
        "Summit Dental Lab",
        # QuickBooks already has an "Acme Corporation": that upsert fails with a data error.
        customers={"cus_bright": "Brightsmile Clinic", "cus_acme": "Acme Corporation"},
        items={"svc_crown": ("Crown fabrication", ItemKind.SERVICE, Decimal("310.00"))},
        invoices=[("cus_bright", [("svc_crown", 2)]), ("cus_bright", [("svc_crown", 1)])],
    ),
]
"""A realistic day for three companies (CLI and tests use the same data)."""


def _line(item: tuple[str, ItemKind, Decimal], item_id: str, quantity: int) -> SalesLine:
    _, _, rate = item
    # Amounts go on the wire as decimal strings, never floats.
    return SalesLine(
        item_id=item_id, quantity=quantity, rate=str(rate), amount=str(rate * quantity)
    )


class BillingService:
    """The billing app's side of qbd-sync: what it publishes and the reference it reads."""

    def __init__(
        self,
        broker: KafkaBroker,
        *,
        events_topic: str = Topic.EVENTS,
        reference_topic: str = Topic.REFERENCE,
    ) -> None:
        self.events = EventPublisher(broker, source=SOURCE, topic=events_topic)
        self.income_accounts: dict[str, str] = {}
        self._wanted: set[str] = set()
        self._mapped = asyncio.Event()

        @reference_subscriber(broker, group_id=None, topic=reference_topic)
        async def on_reference(event: ReferenceEvent) -> None:
            """Remember each company's first QuickBooks income account.

            The topic is read from the start: a pull publishes only what changed since the
            last one, so accounts an earlier pull found are older records of the topic.
            """
            if event.data.record.get("accountType") == "income":
                self.income_accounts.setdefault(event.companyid, event.data.qbd_id)
                self._check_mapped()

    def _check_mapped(self) -> None:
        if self._wanted and self._wanted <= set(self.income_accounts):
            self._mapped.set()

    async def connect(self, companies: list[Company]) -> None:
        """Ask qbd-sync to connect each company (it answers with a setup link)."""
        for company in companies:
            data = CompanyConnectRequested(
                company_name=company.name, email=f"books@{company.company_id}.example"
            )
            await self.events.publish(company.company_id, data)

    async def map_income_accounts(self, companies: list[Company], timeout: float = 60) -> None:
        """Pull each company's accounts and map the app's income account to one of them."""
        pull = ReferencePullRequested(object_types=[ReferenceList.ACCOUNTS])
        self._wanted = {company.company_id for company in companies}
        for company in companies:
            await self.events.publish(company.company_id, pull)
        self._check_mapped()  # an earlier pull's records may all have been read already
        await asyncio.wait_for(self._mapped.wait(), timeout)
        for company in companies:
            mapping = MappingSet(
                object_type=ObjectType.ACCOUNT,
                mapped_app_id=INCOME_ACCOUNT,
                qbd_id=self.income_accounts[company.company_id],
            )
            await self.events.publish(company.company_id, mapping)

    async def publish_day(self, companies: list[Company], day: date) -> list[str]:
        """Customers and items first, then invoices and payments; return the event ids."""
        sent: list[str] = []
        for company in companies:
            publish = self.events.publish
            cid = company.company_id
            for customer_id, name in company.customers.items():
                sent.append(
                    await publish(cid, CustomerUpserted(customer_id=customer_id, name=name))
                )
            for item_id, (name, kind, price) in company.items.items():
                item = ItemUpserted(
                    item_id=item_id,
                    name=name,
                    kind=kind,
                    price=str(price),
                    income_account_id=INCOME_ACCOUNT,
                )
                sent.append(await publish(cid, item))
            for number, (customer_id, lines) in enumerate(company.invoices, start=1):
                invoice_id = f"inv_{day:%Y%m%d}_{number:03d}"
                invoice = InvoiceCreated(
                    invoice_id=invoice_id,
                    customer_id=customer_id,
                    transaction_date=day.isoformat(),
                    ref_number=f"{day:%m%d}-{number:03d}",
                    lines=[_line(company.items[item], item, qty) for item, qty in lines],
                )
                # A stable id per invoice: publishing the same invoice again is harmless.
                sent.append(await publish(cid, invoice, id=f"{SOURCE}:{cid}:{invoice_id}"))
                if number - 1 in company.paid:
                    total = sum((line.amount or Decimal(0) for line in invoice.lines), Decimal(0))
                    payment = PaymentReceived(
                        payment_id=f"pay_{invoice_id}",
                        customer_id=customer_id,
                        transaction_date=day.isoformat(),
                        total_amount=str(total),
                        applied_to=[AppliedPayment(invoice_id=invoice_id, amount=str(total))],
                    )
                    sent.append(await publish(cid, payment, id=f"{SOURCE}:{cid}:pay:{invoice_id}"))
        return sent


def specification() -> dict[str, Any]:
    """FastStream's AsyncAPI 3 document of this app."""
    broker = KafkaBroker()
    BillingService(broker)
    document = AsyncAPI(broker, title="billing-service", schema_version="3.0.0")
    result: dict[str, Any] = json.loads(document.to_specification().to_json())
    return result


async def main(companies: list[Company]) -> None:
    """Connect, map and publish a day of work for `companies`, then stop."""
    logging.basicConfig(level=logging.WARNING)  # FastStream's errors, not a line per record
    broker = kafka_broker(logger=logging.getLogger("billing-service"))
    billing = BillingService(broker)
    async with broker:
        await broker.start()
        await billing.connect(companies)
        print(f"asked qbd-sync to connect {len(companies)} companies")
        await billing.map_income_accounts(companies)
        for company in companies:
            print(
                f"{company.company_id}: income account -> QuickBooks "
                f"{billing.income_accounts[company.company_id]}"
            )
        sent = await billing.publish_day(companies, datetime.now(UTC).date())
        print(f"published {len(sent)} events to {billing.events.topic}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--asyncapi", action="store_true", help="print the AsyncAPI document")
    args = parser.parse_args()
    if args.asyncapi:
        json.dump(specification(), sys.stdout, indent=2)
    else:
        asyncio.run(main(COMPANIES))
