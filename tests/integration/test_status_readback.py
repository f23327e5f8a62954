"""Invoice status read back from QuickBooks: ``qbd.status.invoice`` (issue 15).

Real broker, real PostgreSQL, the simulator over HTTP. A pull is asked for with
``reference.pull_requested`` (``invoice_status``) and is done when its sync result arrives.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from conductor import Conductor

from processors.config import Settings
from processors.devstack import DEV_SECRET_KEY
from processors.testing import RunningService, TestStack, TopicReader, produce
from schemas import EventType
from tests.lifecycle_books import Books, event, open_books, wait_results

_STATUS = "qbd.status.invoice"


def _pull(books: Books) -> dict[str, Any]:
    return event(books, EventType.REFERENCE_PULL_REQUESTED, object_types=["invoice_status"])


def _invoice(books: Books, **data: Any) -> dict[str, Any]:
    return event(books, EventType.INVOICE_CREATED, terms_id=None, **data)


def _status_of(event: dict[str, Any], books: Books) -> bool:
    """A status event about the company (the timer also pulls other tests' companies)."""
    return bool(event["type"] == _STATUS and event["companyid"] == books.id)


async def _statuses(reference: TopicReader, books: Books) -> list[dict[str, Any]]:
    await reference.drain()
    return [e["data"] for e in reference.events() if _status_of(e, books)]


async def _synced(settings: Settings, results: TopicReader, stream: list[dict[str, Any]]) -> Any:
    await produce(settings, stream)
    return await wait_results(results, stream)


def _pay_in_quickbooks(stack: TestStack, books: Books, invoice: str, amount: str) -> None:
    """A payment someone enters in QuickBooks itself (not through qbd-sync)."""
    client = Conductor(api_key=DEV_SECRET_KEY, base_url=stack.simulator.base_url, max_retries=0)
    customer = books.objects("customers")[0]["id"]
    client.qbd.receive_payments.create(
        conductor_end_user_id=books.end_user,
        customer_id=customer,
        transaction_date="2026-12-01",
        total_amount=amount,
        apply_to_transactions=[{"transaction_id": invoice, "payment_amount": amount}],
    )


async def test_a_payment_entered_in_quickbooks_is_read_back_once(
    stack: TestStack, settings: Settings, results: TopicReader, reader: Any
) -> None:
    """The first pull finds the fresh invoice as synced; after a payment, exactly one status."""
    books = open_books(stack)
    reference = reader(settings, settings.reference_topic)
    create = _invoice(books)

    async with RunningService(settings):
        found = await _synced(settings, results, [*books.setup(), create, _pull(books)])
        before = await _statuses(reference, books)
        _pay_in_quickbooks(stack, books, found[create["id"]]["qbd_id"], "100.00")
        await _synced(settings, results, [_pull(books)])
        after_payment = await _statuses(reference, books)
        await _synced(settings, results, [_pull(books)])
        after_nothing = await _statuses(reference, books)

    assert before == []
    assert len(after_payment) == 1
    status = after_payment[0]
    assert (status["invoice_id"], status["qbd_id"]) == ("inv_5001", found[create["id"]]["qbd_id"])
    assert (status["balance_remaining"], status["is_paid"], status["deleted"]) == (
        "25.00",
        False,
        False,
    )
    assert after_nothing == after_payment


async def test_an_invoice_deleted_in_quickbooks_is_read_back_once(
    stack: TestStack, settings: Settings, results: TopicReader, reader: Any
) -> None:
    """A deletion made in QuickBooks: one status with deleted true, then nothing more."""
    books = open_books(stack)
    reference = reader(settings, settings.reference_topic)
    create = _invoice(books)

    async with RunningService(settings):
        found = await _synced(settings, results, [*books.setup(), create])
        qbd_id = found[create["id"]]["qbd_id"]
        stack.simulator.delete_object(books.end_user, "invoices", qbd_id)
        await _synced(settings, results, [_pull(books)])
        first = await _statuses(reference, books)
        await _synced(settings, results, [_pull(books)])
        second = await _statuses(reference, books)

    assert first == [
        {
            "invoice_id": "inv_5001",
            "qbd_id": qbd_id,
            "balance_remaining": None,
            "is_paid": False,
            "revision_number": None,
            "deleted": True,
        }
    ]
    assert second == first


async def test_the_apps_own_changes_are_not_read_back(
    stack: TestStack, settings: Settings, results: TopicReader, reader: Any
) -> None:
    """An update and a delete made by the app itself come back as sync results only."""
    books = open_books(stack)
    reference = reader(settings, settings.reference_topic)
    stream = [
        _invoice(books),
        _invoice(books, invoice_id="inv_2", ref_number="I-2"),
        _pull(books),
        event(books, EventType.INVOICE_UPDATED, memo="Changed by the app"),
        event(books, EventType.INVOICE_DELETED, invoice_id="inv_2"),
        _pull(books),
    ]

    async with RunningService(settings):
        await _synced(settings, results, [*books.setup(), *stream])
        statuses = await _statuses(reference, books)

    assert statuses == []


async def test_a_pull_that_finds_nothing_new_costs_two_list_calls(
    stack: TestStack, settings: Settings, results: TopicReader
) -> None:
    """Nothing changed: one list of invoices, one of deleted invoices, nothing else."""
    books = open_books(stack)

    async with RunningService(settings):
        await _synced(settings, results, [*books.setup(), _invoice(books), _pull(books)])
        start = len(stack.simulator.log())
        await _synced(settings, results, [_pull(books)])
        calls = [
            (entry["method"], entry["path"].rsplit("/", 1)[-1])
            for entry in stack.simulator.log()[start:]
            if entry["end_user_id"] == books.end_user
        ]

    assert sorted(calls) == [("GET", "deleted-transactions"), ("GET", "invoices")]


async def test_the_status_timer_reads_back_without_being_asked(
    stack: TestStack, settings: Settings, results: TopicReader, reader: Any
) -> None:
    """With QBD_SYNC_STATUS_POLL_INTERVAL set, a QuickBooks payment comes back by itself."""
    books = open_books(stack)
    reference = reader(settings, settings.reference_topic)
    create = _invoice(books)
    polling = settings.model_copy(update={"status_poll_interval": timedelta(seconds=0.5)})

    async with RunningService(polling):
        found = await _synced(polling, results, [*books.setup(), create])
        _pay_in_quickbooks(stack, books, found[create["id"]]["qbd_id"], "125.00")
        events = await reference.wait_for(
            lambda seen: any(_status_of(e, books) for e in seen), timeout=60
        )

    [status] = [e["data"] for e in events if _status_of(e, books)]
    assert (status["balance_remaining"], status["is_paid"]) == ("0.00", True)


async def test_an_edit_in_quickbooks_is_read_back_even_after_an_unchanged_re_send(
    stack: TestStack, settings: Settings, results: TopicReader, reader: Any
) -> None:
    """A re-send that wrote nothing does not make an accountant's edit look like the app's."""
    books = open_books(stack)
    reference = reader(settings, settings.reference_topic)
    create = _invoice(books)

    async with RunningService(settings):
        found = await _synced(settings, results, [*books.setup(), create, _pull(books)])
        qbd_id = found[create["id"]]["qbd_id"]
        edited = stack.simulator.edit_object(
            books.end_user, "invoices", qbd_id, purchaseOrderNumber="PO-77"
        )
        resend = _invoice(books)
        resent = await _synced(settings, results, [resend, _pull(books)])
        statuses = await _statuses(reference, books)

    assert resent[resend["id"]]["action"] == "unchanged"
    assert [s["revision_number"] for s in statuses] == [edited["revisionNumber"]]
