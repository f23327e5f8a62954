"""Unknown outcomes of every lifecycle write: look before writing again, end in one state.

Each test syncs an invoice (or a payment), then makes the next QuickBooks write commit but
lose its answer (the simulator's ``ambiguous_next``: the connection drops, or the answer
hangs past the client timeout), and checks that the change ends synced, exactly once, and
that the company file holds exactly the final state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from processors.config import Settings
from processors.testing import RunningService, TestStack, TopicReader, produce
from schemas import EventType
from tests.lifecycle_books import Books, event, open_books, wait_results

_MODES = {
    "drop": {"ambiguous_mode": "drop"},
    "hang": {"ambiguous_mode": "hang", "ambiguous_hang_s": 4.0},
}


@dataclass(frozen=True)
class _Change:
    """One lifecycle write: the event, the request path it sends, what must be true after."""

    name: str
    build: Callable[[Books], dict[str, Any]]
    method: str
    suffix: str
    action: str
    holds: Callable[[Books], bool]


def _only_invoice(books: Books) -> dict[str, Any] | None:
    mine = books.mine("invoices")
    return mine[0] if len(mine) == 1 else None


def _memo_is(memo: str) -> Callable[[Books], bool]:
    def holds(books: Books) -> bool:
        invoice = _only_invoice(books)
        return invoice is not None and invoice["memo"] == memo

    return holds


_CHANGES = [
    _Change(
        "update",
        lambda books: event(books, EventType.INVOICE_UPDATED, memo="After the timeout"),
        "POST",
        "",
        "updated",
        _memo_is("After the timeout"),
    ),
    _Change(
        "resent-create",
        lambda books: event(
            books, EventType.INVOICE_CREATED, terms_id=None, memo="Re-sent with a new id"
        ),
        "POST",
        "",
        "updated",
        _memo_is("Re-sent with a new id"),
    ),
    _Change(
        "void",
        lambda books: event(books, EventType.INVOICE_VOIDED),
        "POST",
        "/void",
        "voided",
        lambda books: (_only_invoice(books) or {}).get("balanceRemaining") == "0.00",
    ),
    _Change(
        "delete",
        lambda books: event(books, EventType.INVOICE_DELETED),
        "DELETE",
        "",
        "deleted",
        lambda books: books.mine("invoices") == [],
    ),
]


def _writes(
    stack: TestStack, books: Books, qbd_id: str, method: str, suffix: str, kind: str = "invoices"
) -> list[Any]:
    """The simulator's log of the write requests sent for one object."""
    path = f"/{kind}/{qbd_id}{suffix}"
    return [
        entry
        for entry in stack.simulator.log()
        if entry["end_user_id"] == books.end_user
        and entry["method"] == method
        and entry["path"].endswith(path)
    ]


@pytest.mark.parametrize("mode", sorted(_MODES))
@pytest.mark.parametrize("change", _CHANGES, ids=[c.name for c in _CHANGES])
async def test_a_lifecycle_write_whose_answer_is_lost_lands_exactly_once(
    stack: TestStack,
    settings: Settings,
    results: TopicReader,
    faults: Any,
    change: _Change,
    mode: str,
) -> None:
    """The write committed but its answer was lost: synced once, no second write, final state."""
    books = open_books(stack)
    create = event(books, EventType.INVOICE_CREATED, terms_id=None)
    settings = settings.model_copy(update={"conductor_timeout": 1.5})
    lifecycle = change.build(books)

    async with RunningService(settings):
        await produce(settings, [*books.setup(), create])
        created = await wait_results(results, [create])
        faults.set_faults(ambiguous_next=1, **_MODES[mode])
        await produce(settings, [lifecycle])
        found = await wait_results(results, [lifecycle])

    qbd_id = created[create["id"]]["qbd_id"]
    writes = _writes(stack, books, qbd_id, change.method, change.suffix)
    result = found[lifecycle["id"]]
    assert (result["status"], result["action"], result["qbd_id"]) == (
        "synced",
        change.action,
        qbd_id,
    )
    assert [entry["ambiguous"] for entry in writes] == [True]
    assert change.holds(books)
    assert len([r for r in results.events() if r["data"]["event_id"] == lifecycle["id"]]) == 1


@pytest.mark.parametrize("mode", sorted(_MODES))
async def test_a_payment_update_whose_answer_is_lost_moves_the_money_once(
    stack: TestStack, settings: Settings, results: TopicReader, faults: Any, mode: str
) -> None:
    """payment.updated after a lost answer: one payment, applied as the update says."""
    books = open_books(stack)
    stream = [
        event(books, EventType.INVOICE_CREATED, terms_id=None),
        event(
            books,
            EventType.PAYMENT_RECEIVED,
            total_amount="100.00",
            applied_to=[{"invoice_id": "inv_5001", "amount": "100.00"}],
        ),
    ]
    update = event(
        books,
        EventType.PAYMENT_UPDATED,
        total_amount="40.00",
        applied_to=[{"invoice_id": "inv_5001", "amount": "40.00"}],
        discount_account_id=None,
    )
    settings = settings.model_copy(update={"conductor_timeout": 1.5})

    async with RunningService(settings):
        await produce(settings, [*books.setup(), *stream])
        await wait_results(results, stream)
        faults.set_faults(ambiguous_next=1, **_MODES[mode])
        await produce(settings, [update])
        found = await wait_results(results, [update])

    [payment] = books.mine("receive-payments")
    [invoice] = books.mine("invoices")
    assert (found[update["id"]]["status"], found[update["id"]]["action"]) == ("synced", "updated")
    assert (payment["totalAmount"], invoice["balanceRemaining"]) == ("40.00", "85.00")
    updates = _writes(stack, books, payment["id"], "POST", "", kind="receive-payments")
    assert [entry["ambiguous"] for entry in updates] == [True]
