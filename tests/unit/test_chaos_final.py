"""The final state the chaos checker expects of each transaction, from its events alone."""

from __future__ import annotations

from typing import Any

from schemas import EventType
from tests.chaos.kit.final import expected, held

_KEY = ("acct", "invoice", "inv_1")


def _event(n: int, event_type: EventType, **data: Any) -> dict[str, Any]:
    return {"id": f"e{n}", "type": str(event_type), "companyid": "acct", "data": data}


def _line(amount: str) -> dict[str, Any]:
    return {"item_id": "item", "amount": amount}


def _invoice(n: int, memo: str, *amounts: str) -> dict[str, Any]:
    lines = [_line(a) for a in amounts]
    return _event(n, EventType.INVOICE_CREATED, invoice_id="inv_1", memo=memo, lines=lines)


def test_a_created_invoice_shows_its_memo_and_line_total() -> None:
    """The create sets memo and total (the sum of its line amounts)."""
    final = expected([_invoice(1, "first", "10.00", "2.50")])[_KEY]

    assert final.state == {"memo": "first", "total": "12.50"}
    assert final.event_ids == ("e1",)


def test_a_resent_create_replaces_memo_and_lines() -> None:
    """A re-send with a new event id is the whole invoice again."""
    final = expected([_invoice(1, "first", "10.00"), _invoice(2, "again", "99.00")])[_KEY]

    assert final.state == {"memo": "again", "total": "99.00"}
    assert final.event_ids == ("e1", "e2")


def test_an_update_changes_only_what_it_carries() -> None:
    """A memo-only update keeps the total; a lines update keeps the memo."""
    memo = _event(2, EventType.INVOICE_UPDATED, invoice_id="inv_1", memo="fixed")
    lines = _event(3, EventType.INVOICE_UPDATED, invoice_id="inv_1", lines=[_line("7.00")])

    only_memo = expected([_invoice(1, "first", "10.00"), memo])[_KEY]
    only_lines = expected([_invoice(1, "first", "10.00"), lines])[_KEY]

    assert only_memo.state == {"memo": "fixed", "total": "10.00"}
    assert only_lines.state == {"memo": "first", "total": "7.00"}


def test_a_void_zeroes_the_total_and_marks_the_memo() -> None:
    """QuickBooks keeps a voided transaction: total 0.00, memo "VOID: ..."."""
    void = _event(2, EventType.INVOICE_VOIDED, invoice_id="inv_1", reason="oops")

    final = expected([_invoice(1, "first", "10.00"), void])[_KEY]

    assert final.state == {"memo": "VOID: first", "total": "0.00"}


def test_a_delete_leaves_nothing() -> None:
    """After a delete the app object must have no QuickBooks object."""
    delete = _event(2, EventType.INVOICE_DELETED, invoice_id="inv_1")

    assert expected([_invoice(1, "first", "10.00"), delete])[_KEY].gone


def test_a_bill_update_replaces_its_expense_lines_and_keeps_its_item_lines() -> None:
    """Bill expense lines and item lines (quantity x cost) are replaced separately."""
    create = _event(
        1,
        EventType.BILL_CREATED,
        bill_id="b",
        expense_lines=[{"account_id": "a", "amount": "40.00"}],
        item_lines=[{"item_id": "i", "quantity": 3, "cost": "2.50"}],
    )
    update = _event(
        2, EventType.BILL_UPDATED, bill_id="b", expense_lines=[{"account_id": "a", "amount": "5"}]
    )

    final = expected([create, update])[("acct", "bill", "b")]

    assert final.state == {"memo": None, "total": "12.50"}


def test_list_objects_and_control_events_have_no_final_state_here() -> None:
    """Only transactions are tracked; customers, mappings and syncs are left out."""
    events = [
        _event(1, EventType.CUSTOMER_UPSERTED, customer_id="c", name="C"),
        _event(2, EventType.SYNC_REQUESTED),
    ]

    assert expected(events) == {}


def test_held_reads_the_total_each_list_keeps() -> None:
    """Invoices keep their total as subtotal, bills as amountDue, the rest as totalAmount."""
    assert held("invoices", {"memo": "m", "subtotal": "5.0"}) == {"memo": "m", "total": "5.00"}
    assert held("bills", {"memo": None, "amountDue": "1"}) == {"memo": None, "total": "1.00"}
    assert held("receive-payments", {"totalAmount": "3.10"})["total"] == "3.10"


def test_a_line_without_an_amount_counts_quantity_times_rate() -> None:
    """The amount is optional: QuickBooks computes quantity x rate (the hostile run's null)."""
    line = {"item_id": "item", "quantity": 3, "rate": "12.345", "amount": None}
    invoice = _event(1, EventType.INVOICE_CREATED, invoice_id="inv_1", memo="m", lines=[line])

    final = expected([invoice])[_KEY]

    assert final.state == {"memo": "m", "total": "37.04"}
