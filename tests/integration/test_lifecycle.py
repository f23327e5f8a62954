"""Transactions through their whole life (issue 15): updates, voids, deletes, re-sends.

Real broker, real PostgreSQL, the simulator over HTTP. Every wait has a deadline.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from conductor import Conductor

from processors.config import Settings
from processors.devstack import DEV_SECRET_KEY
from processors.testing import (
    RunningService,
    TestStack,
    TopicReader,
    async_wait_for,
    produce,
)
from schemas import EventType
from tests.lifecycle_books import Books, event, open_books, wait_results

_LINE = {"item_id": "item_consulting", "quantity": 2, "rate": "62.50", "amount": "125.00"}


def _invoice(books: Books, **data: Any) -> dict[str, Any]:
    """The example invoice without the terms the demo company file lacks."""
    return event(books, EventType.INVOICE_CREATED, terms_id=None, **data)


async def _sync(
    settings: Settings, results: TopicReader, stream: list[dict[str, Any]]
) -> dict[str, Any]:
    """Produce ``stream`` to a running processor; the sync result of each event, by event id."""
    await produce(settings, stream)
    return await wait_results(results, stream)


async def _run(
    settings: Settings, results: TopicReader, stream: list[dict[str, Any]]
) -> dict[str, Any]:
    """Run ``stream`` through a processor; the sync result of each event, by event id."""
    async with RunningService(settings):
        return await _sync(settings, results, stream)


async def _parked(service: Any, company: str, count: int) -> bool:
    """Whether ``count`` of the company's events sit in the DLQ."""
    assert service.pool is not None
    parked: int = await service.pool.fetchval(
        "SELECT count(*) FROM dlq_index WHERE company_id = $1 AND status = 'parked'", company
    )
    return parked >= count


def _actions(found: dict[str, Any], stream: list[dict[str, Any]]) -> list[str | None]:
    return [found[item["id"]]["action"] for item in stream]


async def test_an_invoice_is_created_its_lines_corrected_then_voided(
    stack: TestStack, settings: Settings, results: TopicReader
) -> None:
    """create -> update lines -> void: one invoice, voided, each step with its action."""
    books = open_books(stack)
    lines = [{**_LINE, "quantity": 3, "amount": "187.50"}, {"item_id": "item_pipe", "quantity": 4}]
    stream = [
        _invoice(books),
        event(books, EventType.INVOICE_UPDATED, due_date=None, memo=None, lines=lines),
        event(books, EventType.INVOICE_VOIDED),
    ]

    found = await _run(settings, results, [*books.setup(), *stream])

    assert _actions(found, stream) == ["created", "updated", "voided"]
    [invoice] = books.mine("invoices")
    assert invoice["memo"].startswith("VOID:")
    assert [line["quantity"] for line in invoice["lines"]] == [3, 4]
    assert {line["amount"] for line in invoice["lines"]} == {"0.00"}
    assert found[stream[1]["id"]]["qbd_id"] == invoice["id"]


async def test_a_deleted_invoice_deleted_again_succeeds_unchanged(
    stack: TestStack, settings: Settings, results: TopicReader
) -> None:
    """create -> delete -> delete again: both deletes succeed, the second with nothing to do."""
    books = open_books(stack)
    stream = [
        _invoice(books),
        event(books, EventType.INVOICE_DELETED),
        event(books, EventType.INVOICE_DELETED),
    ]

    found = await _run(settings, results, [*books.setup(), *stream])

    assert [found[item["id"]]["status"] for item in stream] == ["synced"] * 3
    assert _actions(found, stream) == ["created", "deleted", "unchanged"]
    assert books.mine("invoices") == []


async def test_a_resent_create_with_a_new_id_and_another_amount_updates_the_one_invoice(
    stack: TestStack, settings: Settings, results: TopicReader
) -> None:
    """An outbox re-publish (new event id, corrected amount) never makes a second invoice."""
    books = open_books(stack)
    stream = [
        _invoice(books),
        _invoice(books, lines=[{**_LINE, "quantity": 4, "amount": "250.00"}]),
        _invoice(books, lines=[{**_LINE, "quantity": 4, "amount": "250.00"}]),
    ]

    found = await _run(settings, results, [*books.setup(), *stream])

    assert _actions(found, stream) == ["created", "updated", "unchanged"]
    [invoice] = books.mine("invoices")
    assert invoice["subtotal"] == "250.00"
    assert {found[item["id"]]["qbd_id"] for item in stream} == {invoice["id"]}


async def test_an_accountants_memo_and_the_apps_new_lines_both_survive(
    stack: TestStack, settings: Settings, results: TopicReader
) -> None:
    """The app owns the fields it sends: a memo edited in QuickBooks stays after a line update."""
    books = open_books(stack)
    create = _invoice(books)
    update = event(
        books,
        EventType.INVOICE_UPDATED,
        due_date=None,
        memo=None,
        lines=[{**_LINE, "quantity": 1, "amount": "62.50"}],
    )

    async with RunningService(settings):
        found = await _sync(settings, results, [*books.setup(), create])
        qbd_id = found[create["id"]]["qbd_id"]
        stack.simulator.edit_object(
            books.end_user, "invoices", qbd_id, memo="Checked by the accountant"
        )
        found = await _sync(settings, results, [update])

    invoice = books.get("invoices", qbd_id)
    assert found[update["id"]]["action"] == "updated"
    assert invoice is not None
    assert invoice["memo"] == "Checked by the accountant"
    assert invoice["subtotal"] == "62.50"


async def test_an_update_of_an_invoice_deleted_in_quickbooks_fails_with_one_attention(
    stack: TestStack,
    settings: Settings,
    results: TopicReader,
    attention: TopicReader,
    db: asyncpg.Pool,
) -> None:
    """Two updates of an invoice deleted in QuickBooks: DELETED_IN_QUICKBOOKS, one attention."""
    books = open_books(stack)
    create = _invoice(books)
    updates = [event(books, EventType.INVOICE_UPDATED, memo=f"try {n}") for n in range(2)]

    async with RunningService(settings):
        found = await _sync(settings, results, [*books.setup(), create])
        qbd_id = found[create["id"]]["qbd_id"]
        stack.simulator.delete_object(books.end_user, "invoices", qbd_id)
        found = await _sync(settings, results, updates)
    await attention.drain()

    errors = [found[item["id"]]["error"] for item in updates]
    assert [found[item["id"]]["status"] for item in updates] == ["failed", "failed"]
    assert {error["code"] for error in errors} == {"DELETED_IN_QUICKBOOKS"}
    needed = [
        e["data"]
        for e in attention.events()
        if e["type"] == "qbd.attention.needed" and e["data"]["code"] == "DELETED_IN_QUICKBOOKS"
    ]
    assert len(needed) == 1
    occurrences = await db.fetchval(
        "SELECT occurrences FROM attention WHERE company_id = $1 AND code = $2",
        books.id,
        "DELETED_IN_QUICKBOOKS",
    )
    assert occurrences == 2


async def test_an_update_whose_create_failed_fails_not_synced(
    stack: TestStack, settings: Settings, results: TopicReader
) -> None:
    """A create QuickBooks refused (closed period) leaves its update nothing to change."""
    books = open_books(stack)
    stack.simulator.set_closing_date(books.end_user, "2026-12-31")
    stream = [_invoice(books), event(books, EventType.INVOICE_UPDATED)]

    found = await _run(settings, results, [*books.setup(), *stream])

    create, update = (found[item["id"]] for item in stream)
    assert create["status"] == "failed"
    assert (update["status"], update["error"]["code"]) == ("failed", "NOT_SYNCED")
    assert books.mine("invoices") == []


async def test_an_update_waits_for_its_create_and_both_go_on_when_it_can(
    stack: TestStack, settings: Settings, results: TopicReader
) -> None:
    """The create waits for its customer; the update waits for the create; in order after."""
    books = open_books(stack)
    setup = [m for m in books.setup() if m["data"]["app_id"] != "cus_1001"]
    customer = next(m for m in books.setup() if m["data"]["app_id"] == "cus_1001")
    stream = [
        _invoice(books),
        event(books, EventType.INVOICE_UPDATED, due_date=None, memo="Second thoughts"),
        event(books, EventType.INVOICE_VOIDED),
    ]

    found = await _run(settings, results, [*setup, *stream, customer])

    assert _actions(found, stream) == ["created", "updated", "voided"]
    [invoice] = books.mine("invoices")
    assert invoice["memo"] == "VOID: Second thoughts"


async def test_a_payment_moved_from_two_invoices_to_one_moves_the_balances(
    stack: TestStack, settings: Settings, results: TopicReader
) -> None:
    """payment.updated replaces the applications: the invoice it left is open again."""
    books = open_books(stack)
    invoices = [_invoice(books, invoice_id=f"inv_{n}", ref_number=f"I-{n}") for n in (1, 2)]
    paid_twice = [
        {"invoice_id": "inv_1", "amount": "50.00"},
        {"invoice_id": "inv_2", "amount": "50.00"},
    ]
    stream = [
        *invoices,
        event(books, EventType.PAYMENT_RECEIVED, total_amount="100.00", applied_to=paid_twice),
        event(
            books,
            EventType.PAYMENT_UPDATED,
            total_amount="100.00",
            applied_to=[{"invoice_id": "inv_1", "amount": "100.00"}],
            discount_account_id=None,
        ),
    ]

    found = await _run(settings, results, [*books.setup(), *stream])

    assert _actions(found, stream) == ["created", "created", "created", "updated"]
    first, second = (books.get("invoices", found[i["id"]]["qbd_id"]) for i in invoices)
    assert first is not None
    assert second is not None
    assert (first["balanceRemaining"], second["balanceRemaining"]) == ("25.00", "125.00")
    [payment] = books.mine("receive-payments")
    assert [a["amount"] for a in payment["appliedToTransactions"]] == ["100.00"]


async def test_a_customer_made_inactive_is_inactive_in_quickbooks(
    stack: TestStack, settings: Settings, results: TopicReader
) -> None:
    """customer.upserted with is_active false deactivates the customer; true brings it back."""
    books = open_books(stack)
    stream = [
        event(books, EventType.CUSTOMER_UPSERTED, customer_id="cus_new", name="Leaving Ltd"),
        event(
            books,
            EventType.CUSTOMER_UPSERTED,
            customer_id="cus_new",
            name="Leaving Ltd",
            is_active=False,
        ),
    ]

    found = await _run(settings, results, stream)

    [customer] = books.mine("customers")
    assert _actions(found, stream) == ["created", "updated"]
    assert customer["isActive"] is False


def _every_kind(books: Books) -> list[dict[str, Any]]:
    """An invoice, a bill, a sales receipt, a purchase order and a payment of 100.00."""
    return [
        _invoice(books),
        event(books, EventType.BILL_CREATED),
        event(books, EventType.SALES_RECEIPT_CREATED),
        event(books, EventType.PURCHASE_ORDER_CREATED),
        event(
            books,
            EventType.PAYMENT_RECEIVED,
            total_amount="100.00",
            applied_to=[{"invoice_id": "inv_5001", "amount": "100.00"}],
        ),
    ]


async def test_bills_receipts_orders_and_payments_are_updated_and_voided(
    stack: TestStack, settings: Settings, results: TopicReader
) -> None:
    """Every *.updated and *.voided type changes its QuickBooks object as it says."""
    books = open_books(stack)
    stream = [
        event(books, EventType.BILL_UPDATED),
        event(books, EventType.SALES_RECEIPT_UPDATED),
        event(books, EventType.PURCHASE_ORDER_UPDATED),
        event(
            books,
            EventType.PAYMENT_UPDATED,
            total_amount="80.00",
            applied_to=[{"invoice_id": "inv_5001", "amount": "80.00"}],
            discount_account_id=None,
        ),
        event(books, EventType.BILL_VOIDED),
        event(books, EventType.SALES_RECEIPT_VOIDED),
    ]

    found = await _run(settings, results, [*books.setup(), *_every_kind(books), *stream])

    assert _actions(found, stream) == [*["updated"] * 4, *["voided"] * 2]
    [bill] = books.mine("bills")
    assert (bill["refNumber"], bill["memo"], bill["amountDue"]) == ("PS-88812-A", "VOID:", "0.00")
    assert [line["quantity"] for line in bill["itemLines"]] == [12]
    [receipt] = books.mine("sales-receipts")
    assert ([line["quantity"] for line in receipt["lines"]], receipt["totalAmount"]) == (
        [3],
        "0.00",
    )
    [order] = books.mine("purchase-orders")
    assert order["expectedDate"] == "2026-12-05"
    [payment] = books.mine("receive-payments")
    assert payment["totalAmount"] == "80.00"
    [invoice] = books.mine("invoices")
    assert invoice["balanceRemaining"] == "45.00"


async def test_bills_receipts_orders_and_payments_are_deleted(
    stack: TestStack, settings: Settings, results: TopicReader
) -> None:
    """Every *.deleted type removes its object; QuickBooks lists each as deleted."""
    books = open_books(stack)
    stream = [
        event(books, EventType.PAYMENT_DELETED),
        event(books, EventType.BILL_DELETED),
        event(books, EventType.SALES_RECEIPT_DELETED),
        event(books, EventType.PURCHASE_ORDER_DELETED),
        event(books, EventType.INVOICE_DELETED),
    ]

    found = await _run(settings, results, [*books.setup(), *_every_kind(books), *stream])

    assert _actions(found, stream) == ["deleted"] * 5
    kinds = ("invoices", "bills", "sales-receipts", "purchase-orders", "receive-payments")
    assert {kind: books.mine(kind) for kind in kinds} == {kind: [] for kind in kinds}


async def test_an_update_parked_behind_its_create_replays_after_it(
    stack: TestStack, settings: Settings, results: TopicReader
) -> None:
    """The company is offline: create and update park in order and replay in order."""
    books = open_books(stack)
    stream = [_invoice(books), event(books, EventType.INVOICE_UPDATED, memo="Parked too")]
    sync = event(books, EventType.SYNC_REQUESTED)

    async with RunningService(settings) as service:
        await _sync(settings, results, books.setup())
        stack.simulator.set_state(books.end_user, "offline")
        await produce(settings, stream)
        await async_wait_for(
            lambda: _parked(service, books.id, 2), timeout=60, what="both events parked"
        )
        stack.simulator.connect(books.end_user)
        await produce(settings, [sync])
        found = await wait_results(results, stream)

    assert _actions(found, stream) == ["created", "updated"]
    [invoice] = books.mine("invoices")
    assert invoice["memo"] == "Parked too"


async def test_a_credit_memo_made_in_quickbooks_and_mapped_is_updated_voided_deleted(
    stack: TestStack, settings: Settings, results: TopicReader
) -> None:
    """Lifecycle events reach an object the user linked with mapping.set, not only our own."""
    books = open_books(stack)
    client = Conductor(api_key=DEV_SECRET_KEY, base_url=stack.simulator.base_url, max_retries=0)
    item = books.objects("service-items")[0]["id"]
    memo = client.qbd.credit_memos.create(
        conductor_end_user_id=books.end_user,
        customer_id=books.objects("customers")[0]["id"],
        transaction_date="2026-11-28",
        lines=[{"item_id": item, "quantity": 1, "rate": "62.50"}],
    )
    link = event(
        books, EventType.MAPPING_SET, object_type="credit_memo", app_id="cm_7", qbd_id=memo.id
    )
    lines = [{"item_id": "item_consulting", "quantity": 2, "rate": "62.50", "amount": "125.00"}]
    stream = [
        event(books, EventType.CREDIT_MEMO_UPDATED, lines=lines),
        event(books, EventType.CREDIT_MEMO_VOIDED),
    ]

    delete = event(books, EventType.CREDIT_MEMO_DELETED)

    async with RunningService(settings):
        found = await _sync(settings, results, [*books.setup(), link, *stream])
        voided = books.get("credit-memos", memo.id)
        deleted = await _sync(settings, results, [delete])

    assert [found[item["id"]]["action"] for item in stream] == ["updated", "voided"]
    assert voided is not None
    assert (voided["totalAmount"], [line["quantity"] for line in voided["lines"]]) == ("0.00", [2])
    assert deleted[delete["id"]]["action"] == "deleted"
    assert books.get("credit-memos", memo.id) is None


async def test_a_void_waits_behind_an_update_of_the_same_invoice_that_waits(
    stack: TestStack, settings: Settings, results: TopicReader
) -> None:
    """Order per app object: the update waits for a new item, the void waits behind it."""
    books = open_books(stack)
    create = _invoice(books)
    item = books.objects("non-inventory-items")[-1]["id"]
    new_line = {"item_id": "item_new", "quantity": 1, "rate": "10.00", "amount": "10.00"}
    update = event(books, EventType.INVOICE_UPDATED, due_date=None, lines=[_LINE, new_line])
    void = event(books, EventType.INVOICE_VOIDED)
    link = event(books, EventType.MAPPING_SET, object_type="item", app_id="item_new", qbd_id=item)

    found = await _run(settings, results, [*books.setup(), create, update, void, link])

    assert _actions(found, [create, update, void]) == ["created", "updated", "voided"]
    [invoice] = books.mine("invoices")
    assert invoice["memo"].startswith("VOID:")
    assert [line["item"]["id"] for line in invoice["lines"]][-1] == item
