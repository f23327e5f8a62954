"""``qbd-sync demo`` (what ``make run`` runs): the whole product on the embedded stack.

Starts the broker, PostgreSQL, the Conductor simulator (with a demo company file per
end-user) and the processor; connects three companies; feeds a realistic stream (customers,
items, invoices, a payment that arrives before its invoice, bills, sales receipts, purchase
orders, a taxed invoice, a credit memo applied to it, a bill paid by check, a duplicate-name
customer, an invoice for an unmapped customer, an invoice dated in a closed period, one
record that is not JSON); takes one company's QuickBooks offline and brings it back with
"Sync now"; then changes the books after the fact (an invoice corrected, a receipt voided, a
duplicate re-send absorbed, a payment entered in QuickBooks read back); then prints what
happened and checks the counts against the simulator's company files.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from decimal import Decimal
from typing import Any

from processors.db import connect_pool
from processors.demo_changes import change_the_books
from processors.devstack import DevStack, run_coroutine
from processors.dlq_index import DlqIndex
from processors.errors import QbdSyncError
from processors.ledger import Ledger
from processors.logs import configure_logging
from processors.testing import RunningService, TopicReader, async_wait_for, produce
from schemas import EventType, OutboundType

__all__ = ["run_demo"]

_COMPANIES = [
    ("acct_northwind", "Northwind Plumbing"),
    ("acct_bluebird", "Bluebird Bakery"),
    ("acct_cedar", "Cedar Dental"),
]
_OFFLINE = "acct_cedar"
_PER_COMPANY = 26  # events each company's stream ends with (synced, failed or waiting)
_CHANGED = "acct_northwind"


def _say(text: str = "") -> None:
    print(text, flush=True)  # noqa: T201 - the demo's output is for people


def _event(kind: EventType, company: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": f"evt_{uuid.uuid4().hex[:12]}",
        "type": str(kind),
        "source": "demo-billing-service",
        "time": "2026-11-24T10:00:00Z",
        "companyid": company,
        "data": data,
    }


def _stream(company: str, ids: dict[str, str], n: int) -> list[dict[str, Any]]:
    """One company's business events, in the order an app would publish them."""
    line = {"item_id": "svc_consult", "quantity": 2, "rate": "150.00", "amount": "300.00"}
    return [
        _event(
            EventType.MAPPING_SET,
            company,
            {"object_type": "account", "app_id": "income", "qbd_id": ids["Consulting Income"]},
        ),
        _event(
            EventType.MAPPING_SET,
            company,
            {"object_type": "account", "app_id": "supplies", "qbd_id": ids["Office Supplies"]},
        ),
        _event(
            EventType.MAPPING_SET,
            company,
            {"object_type": "account", "app_id": "undeposited", "qbd_id": ids["Undeposited Funds"]},
        ),
        _event(
            EventType.MAPPING_SET,
            company,
            {"object_type": "terms", "app_id": "net30", "qbd_id": ids["Net 30"]},
        ),
        _event(
            EventType.CUSTOMER_UPSERTED,
            company,
            {
                "customer_id": "cus_1",
                "name": f"Rivera Household {n}",
                "email": "m@rivera.example",
                "billing_address": {"line1": "12 Elm St", "city": "Springfield", "state": "IL"},
            },
        ),
        _event(
            EventType.VENDOR_UPSERTED,
            company,
            {"vendor_id": "ven_1", "name": f"Pipe Supply Co {n}"},
        ),
        _event(
            EventType.ITEM_UPSERTED,
            company,
            {
                "item_id": "svc_consult",
                "name": f"Site visit {n}",
                "kind": "service",
                "price": "150.00",
                "income_account_id": "income",
            },
        ),
        _event(
            EventType.ITEM_UPSERTED,
            company,
            {
                "item_id": "prd_valve",
                "name": f"Brass valve {n}",
                "kind": "non_inventory",
                "price": "24.00",
                "income_account_id": "income",
            },
        ),
        # The payment arrives before its invoice: it waits, then applies by itself.
        _event(
            EventType.PAYMENT_RECEIVED,
            company,
            {
                "payment_id": "pay_1",
                "customer_id": "cus_1",
                "transaction_date": "2026-11-26",
                "total_amount": "300.00",
                "applied_to": [{"invoice_id": "inv_1", "amount": "300.00"}],
                "deposit_account_id": "undeposited",
                "ref_number": "CHK-1001",
            },
        ),
        _event(
            EventType.INVOICE_CREATED,
            company,
            {
                "invoice_id": "inv_1",
                "customer_id": "cus_1",
                "transaction_date": "2026-11-24",
                "ref_number": "INV-1",
                "terms_id": "net30",
                "lines": [line],
            },
        ),
        _event(
            EventType.INVOICE_CREATED,
            company,
            {
                "invoice_id": "inv_2",
                "customer_id": "cus_1",
                "transaction_date": "2026-11-25",
                "ref_number": "INV-2",
                "lines": [
                    line,
                    {"item_id": "prd_valve", "quantity": 3, "rate": "24.00", "amount": "72.00"},
                ],
            },
        ),
        _event(
            EventType.BILL_CREATED,
            company,
            {
                "bill_id": "bill_1",
                "vendor_id": "ven_1",
                "transaction_date": "2026-11-20",
                "ref_number": "PS-881",
                "expense_lines": [
                    {"account_id": "supplies", "amount": "48.10", "memo": "Fittings"}
                ],
            },
        ),
        _event(
            EventType.SALES_RECEIPT_CREATED,
            company,
            {
                "sales_receipt_id": "sr_1",
                "customer_id": "cus_1",
                "transaction_date": "2026-11-25",
                "deposit_account_id": "undeposited",
                "ref_number": "SR-1",
                "lines": [line],
            },
        ),
        _event(
            EventType.PURCHASE_ORDER_CREATED,
            company,
            {
                "purchase_order_id": "po_1",
                "vendor_id": "ven_1",
                "transaction_date": "2026-11-21",
                "ref_number": "PO-1",
                "lines": [
                    {"item_id": "prd_valve", "quantity": 50, "rate": "20.00", "amount": "1000.00"}
                ],
            },
        ),
        # QuickBooks already has a customer of this name: a data error the user must fix.
        _event(
            EventType.CUSTOMER_UPSERTED,
            company,
            {"customer_id": "cus_dup", "name": "Acme Corporation"},
        ),
        # Nobody mapped this customer yet: the invoice waits and the user is told what to map.
        _event(
            EventType.INVOICE_CREATED,
            company,
            {
                "invoice_id": "inv_walkin",
                "customer_id": "cus_walkin",
                "transaction_date": "2026-11-25",
                "lines": [line],
            },
        ),
        *_books(company, ids),
    ]


def _books(company: str, ids: dict[str, str]) -> list[dict[str, Any]]:
    """Sales tax, a credit memo applied to an invoice, a bill paid by check, a closed period."""
    mapped = [
        ("sales_tax_code", "tax", "Tax"),
        ("sales_tax_code", "non", "Non"),
        ("sales_tax_item", "state_city", "State + City Tax"),
        ("account", "checking", "Checking"),
    ]
    valves = {"item_id": "prd_valve", "quantity": 3, "rate": "24.00", "sales_tax_code_id": "tax"}
    visit = {"item_id": "svc_consult", "quantity": 1, "rate": "150.00", "sales_tax_code_id": "non"}
    returned = {**valves, "quantity": 1}
    return [
        *(
            _event(
                EventType.MAPPING_SET,
                company,
                {"object_type": kind, "app_id": app_id, "qbd_id": ids[name]},
            )
            for kind, app_id, name in mapped
        ),
        # Taxable valves and a non-taxable visit, at the state + city rate (9.25 %).
        _event(
            EventType.INVOICE_CREATED,
            company,
            {
                "invoice_id": "inv_3",
                "customer_id": "cus_1",
                "transaction_date": "2026-11-26",
                "ref_number": "INV-3",
                "sales_tax_item_id": "state_city",
                "lines": [valves, visit],
            },
        ),
        # One valve comes back: a credit memo, applied to the invoice by a zero payment.
        _event(
            EventType.CREDIT_MEMO_CREATED,
            company,
            {
                "credit_memo_id": "cm_1",
                "customer_id": "cus_1",
                "transaction_date": "2026-11-27",
                "ref_number": "CM-1",
                "sales_tax_item_id": "state_city",
                "lines": [returned],
            },
        ),
        _event(
            EventType.PAYMENT_RECEIVED,
            company,
            {
                "payment_id": "pay_credit",
                "customer_id": "cus_1",
                "transaction_date": "2026-11-27",
                "total_amount": "0.00",
                "applied_to": [
                    {
                        "invoice_id": "inv_3",
                        "amount": "0.00",
                        "credits": [{"credit_memo_id": "cm_1", "amount": "26.22"}],
                    }
                ],
            },
        ),
        _event(
            EventType.BILL_PAYMENT_CREATED,
            company,
            {
                "bill_payment_id": "bp_1",
                "vendor_id": "ven_1",
                "transaction_date": "2026-11-28",
                "method": "check",
                "account_id": "checking",
                "ref_number": "1001",
                "applied_to": [{"bill_id": "bill_1", "amount": "48.10"}],
            },
        ),
        # The accountant closed October: a late October invoice fails before QuickBooks.
        _event(EventType.COMPANY_SETTINGS_UPDATED, company, {"closing_date": "2026-10-31"}),
        _event(
            EventType.INVOICE_CREATED,
            company,
            {
                "invoice_id": "inv_october",
                "customer_id": "cus_1",
                "transaction_date": "2026-10-15",
                "lines": [{"item_id": "svc_consult", "quantity": 1, "rate": "150.00"}],
            },
        ),
    ]


async def _at_least(reader: TopicReader, count: int) -> bool:
    return len(await reader.poll()) >= count


class _Demo:
    def __init__(self, stack: DevStack) -> None:
        self.stack = stack
        self.settings = stack.settings(http_port=0, catchup_interval="1h")
        self.sim = stack.simulator
        self.end_users: dict[str, str] = {}

    async def ledger(self) -> dict[str, Counter[str]]:
        pool = await connect_pool(self.stack.postgres.dsn, min_size=1, max_size=1)
        try:
            statuses = await Ledger(pool).counts_by_company()
            replays = await DlqIndex(pool).replayed_counts()
        finally:
            await pool.close()
        counts: dict[str, Counter[str]] = {}
        for (company, status), n in statuses.items():
            counts.setdefault(company, Counter())[status] += n
        for company, n in replays.items():
            counts.setdefault(company, Counter())["parked then replayed"] += n
        return counts

    async def run(self) -> bool:
        attention = TopicReader(self.settings, self.settings.needs_attention_topic)
        results = TopicReader(self.settings, self.settings.sync_results_topic)
        rejected = TopicReader(self.settings, self.settings.rejected_topic)
        reference = TopicReader(self.settings, self.settings.reference_topic)
        try:
            async with RunningService(self.settings):
                await self._script(attention, results, rejected)
                _say(f"\n5. The books change after the fact ({_CHANGED})")
                changed = await change_the_books(
                    self.settings,
                    self.sim,
                    _CHANGED,
                    self.end_users[_CHANGED],
                    results=results,
                    reference=reference,
                    make_event=_event,
                )
                await results.poll()
                return await self._summary(attention, results, rejected) and changed
        finally:
            for reader in (attention, results, rejected, reference):
                await reader.close()

    async def _script(
        self, attention: TopicReader, results: TopicReader, rejected: TopicReader
    ) -> None:
        _say("1. Connecting three companies (company.connect_requested -> setup links)")
        await produce(
            self.settings,
            [
                _event(
                    EventType.COMPANY_CONNECT_REQUESTED,
                    company,
                    {"company_name": name, "email": "owner@example.com"},
                )
                for company, name in _COMPANIES
            ],
        )
        links = await attention.wait_for(
            lambda evs: len(_setup_links(evs)) >= len(_COMPANIES), timeout=90
        )
        for event in _setup_links(links):
            _say(f"   {event['companyid']}: setup link {event['data']['auth_flow_url']}")
        self.end_users = self._end_users()
        self.sim.set_state(self.end_users[_OFFLINE], "offline")
        _say(f"2. {_OFFLINE}'s QuickBooks machine is switched off")

        stream: list[dict[str, Any] | bytes] = []
        for n, (company, _) in enumerate(_COMPANIES):
            stream.extend(_stream(company, self._list_ids(company), n))
        stream.insert(5, b"this is not JSON {")
        _say(f"3. Publishing {len(stream)} records to {self.settings.input_topics[0]}")
        started = time.monotonic()
        await produce(self.settings, stream, key=b"acct_northwind")

        async def settled() -> bool:
            counts = await self.ledger()
            cedar = counts.get(_OFFLINE, Counter())
            others = [counts.get(c, Counter()) for c, _ in _COMPANIES if c != _OFFLINE]
            return cedar["parked"] >= 10 and all(
                c["synced"] + c["failed"] + c["waiting_dependency"] >= _PER_COMPANY for c in others
            )

        await async_wait_for(settled, timeout=120, what="the stream to settle")
        _say(f"   settled in {time.monotonic() - started:.1f} s")
        self.sim.set_state(self.end_users[_OFFLINE], "online")
        _say(f"4. {_OFFLINE} is back online; the user presses Sync now (sync.requested)")
        await produce(self.settings, [_event(EventType.SYNC_REQUESTED, _OFFLINE, {})])

        async def replayed() -> bool:
            counts = (await self.ledger()).get(_OFFLINE, Counter())
            return counts["parked"] == 0 and counts["synced"] >= 12

        await async_wait_for(replayed, timeout=120, what="the replay")
        await attention.wait_for(
            lambda evs: any(
                e["type"] == OutboundType.ATTENTION_RESOLVED and e["companyid"] == _OFFLINE
                for e in evs
            ),
            timeout=60,
        )
        await results.poll()
        await async_wait_for(lambda: _at_least(rejected, 1), timeout=30, what="the rejected record")
        await attention.poll()

    def _end_users(self) -> dict[str, str]:
        from conductor import Conductor

        client = Conductor(
            api_key=self.settings.secret("conductor_secret_key"),
            base_url=self.sim.base_url,
            max_retries=0,
        )
        return {user.source_id: user.id for user in client.end_users.list().data}

    def _list_ids(self, company: str) -> dict[str, str]:
        end_user = self.end_users[company]
        return {
            obj["name"]: obj["id"]
            for kind in (
                "accounts",
                "standard-terms",
                "sales-tax-codes",
                "sales-tax-items",
                "sales-tax-group-items",
            )
            for obj in self.sim.objects(end_user, kind)
        }

    def _books(self, company: str) -> bool:
        """Print the taxed invoice, the credit applied to it and the bill paid by check."""
        end_user = self.end_users[company]
        invoices = self.sim.objects(end_user, "invoices")
        invoice = next((i for i in invoices if i.get("refNumber") == "INV-3"), None)
        memos = self.sim.objects(end_user, "credit-memos")
        checks = self.sim.objects(end_user, "bill-check-payments")
        if invoice is None or len(memos) != 1 or len(checks) != 1:
            _say(f"  {company}: the taxed invoice, credit memo or bill payment is missing")
            return False
        memo, check = memos[0], checks[0]
        bill_id = check["appliedToTransactions"][0]["transactionId"]
        bill = next(b for b in self.sim.objects(end_user, "bills") if b["id"] == bill_id)
        total = Decimal(invoice["subtotal"]) + Decimal(invoice["salesTaxTotal"])
        balance = total - Decimal(memo["totalAmount"])
        _say(f"  books of {company} in QuickBooks:")
        _say(
            f"      taxed invoice INV-3: {invoice['subtotal']} + sales tax "
            f"{invoice['salesTaxTotal']} ({invoice['salesTaxPercentage']} %) = {total}"
        )
        _say(
            f"      credit memo {memo['refNumber']} of {memo['totalAmount']} applied to INV-3: "
            f"balance {invoice['balanceRemaining']}"
        )
        _say(
            f"      bill {bill['refNumber']} paid by check {check['refNumber']} from "
            f"{check['bankAccount']['fullName']}: {check['amount']} (paid: {bill['isPaid']})"
        )
        return Decimal(invoice["balanceRemaining"]) == balance and bool(bill["isPaid"])

    async def _summary(
        self, attention: TopicReader, results: TopicReader, rejected: TopicReader
    ) -> bool:
        counts = await self.ledger()
        outcome = Counter(event["type"] for event in results.events())
        _say("\nWhat happened")
        _say(f"  sync results: {dict(outcome)}")
        ok = True
        for company, name in _COMPANIES:
            status = counts.get(company, Counter())
            end_user = self.end_users[company]
            created = sum(
                1
                for kind in (
                    "customers",
                    "vendors",
                    "service-items",
                    "non-inventory-items",
                    "invoices",
                    "receive-payments",
                    "bills",
                    "sales-receipts",
                    "purchase-orders",
                    "credit-memos",
                    "bill-check-payments",
                )
                for obj in self.sim.objects(end_user, kind)
                if obj.get("externalId")
            )
            synced_writes = sum(
                1
                for e in results.events()
                if e["companyid"] == company and e["data"]["action"] == "created"
            )
            match = "matches" if created == synced_writes else "DOES NOT MATCH"
            ok &= created == synced_writes
            _say(
                f"  {company} ({name}): " + ", ".join(f"{k} {v}" for k, v in sorted(status.items()))
            )
            _say(
                f"      QuickBooks objects created: {created} ({match} the {synced_writes} "
                "synced creates)"
            )
        ok &= self._books(_COMPANIES[0][0])
        _say("  needs-attention (what the app shows its users):")
        for event in attention.events():
            data = event["data"]
            if event["type"] == OutboundType.COMPANY_STATE_CHANGED:
                _say(
                    f"    [state] {event['companyid']} {data['previous_state']} -> "
                    f"{data['state']}: {(data['user_facing_message'] or '')[:100]}"
                )
                continue
            _say(
                f"    [{event['type'].rsplit('.', 1)[-1]}] {event['companyid']} {data['code']} "
                f"({data['category']}, x{data['occurrences']}): {data['user_facing_message'][:110]}"
            )
        for record in rejected.records:
            reason = dict(record.headers).get("qbd-rejected-reason", b"").decode()
            _say(f"  rejected: {reason}")
        parked = sum(1 for e in attention.events() if e["data"].get("category") == "connection")
        ok &= parked >= 1 and len(rejected.records) == 1
        return ok


def _setup_links(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == OutboundType.CONNECTION_SETUP_LINK]


def run_demo() -> None:
    """Run the demo; raise QbdSyncError if what happened does not add up."""
    started = time.monotonic()
    configure_logging("warning")
    _say("Starting the embedded stack (Tansu broker, PostgreSQL, Conductor simulator)...")
    with DevStack(partitions=12, seed_demo=True, auto_connect=True) as stack:
        _say(f"   ready in {time.monotonic() - started:.1f} s")
        ok = run_coroutine(_Demo(stack).run())
    _say(f"\nStack stopped cleanly; demo took {time.monotonic() - started:.1f} s.")
    if not ok:
        raise QbdSyncError("the demo's counts did not match the simulator (see above)")
