"""AttentionBoard: one open item per company and code, from attention events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from processors.kit import AttentionBoard, AttentionEvent, BoardChange
from schemas import AttentionCategory, AttentionData, OutboundType

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def _event(
    kind: OutboundType, company: str = "acct_1", code: str = "QBD_CONNECTION_ERROR", **data: Any
) -> AttentionEvent:
    fields: dict[str, Any] = {
        "code": code,
        "category": AttentionCategory.CONNECTION,
        "user_facing_message": "QuickBooks Desktop is not running.",
        "first_seen": T0,
        "last_seen": T0,
        **data,
    }
    return AttentionEvent(
        specversion="1.0",
        id=f"att-{kind}-{code}",
        type=kind,
        source="qbd-sync",
        time=T0,
        companyid=company,
        data=AttentionData(**fields),
    )


def test_needed_opens_an_item_for_the_company_and_code() -> None:
    """The first needed event opens the item; the company now shows its message."""
    board = AttentionBoard()

    change = board.apply(_event(OutboundType.ATTENTION_NEEDED))

    assert change is BoardChange.OPENED
    assert [item.user_facing_message for item in board.shown("acct_1")] == [
        "QuickBooks Desktop is not running."
    ]


def test_a_repeat_replaces_the_message_and_counts_without_a_second_item() -> None:
    """A needed event for an open code updates what is shown; there is still one item."""
    board = AttentionBoard()
    board.apply(_event(OutboundType.ATTENTION_NEEDED))

    change = board.apply(
        _event(
            OutboundType.ATTENTION_NEEDED,
            occurrences=4,
            user_facing_message="A dialog is open in QuickBooks.",
            last_seen=T0 + timedelta(minutes=5),
        )
    )

    assert change is BoardChange.UPDATED
    shown = board.shown("acct_1")
    assert [(i.user_facing_message, i.occurrences) for i in shown] == [
        ("A dialog is open in QuickBooks.", 4)
    ]


def test_resolved_closes_the_item() -> None:
    """After resolved, the company has nothing to show and is off the board."""
    board = AttentionBoard()
    board.apply(_event(OutboundType.ATTENTION_NEEDED))

    change = board.apply(_event(OutboundType.ATTENTION_RESOLVED))

    assert change is BoardChange.RESOLVED
    assert board.shown("acct_1") == []
    assert board.companies() == []


def test_resolved_for_nothing_open_changes_nothing() -> None:
    """A resolved event for a code that is not open (a redelivery) is UNCHANGED."""
    board = AttentionBoard()

    assert board.apply(_event(OutboundType.ATTENTION_RESOLVED)) is BoardChange.UNCHANGED
    assert board.companies() == []


def test_a_newer_setup_link_replaces_the_older_one() -> None:
    """Two setup links for a company: the board shows only the newest link."""
    board = AttentionBoard()
    link = {"code": "SETUP_LINK", "category": AttentionCategory.SETUP}
    board.apply(_event(OutboundType.CONNECTION_SETUP_LINK, auth_flow_url="https://a/1", **link))

    board.apply(_event(OutboundType.CONNECTION_SETUP_LINK, auth_flow_url="https://a/2", **link))

    item = board.item("acct_1", "SETUP_LINK")
    assert item is not None
    assert item.auth_flow_url == "https://a/2"
    assert len(board.shown("acct_1")) == 1


def test_companies_and_codes_are_kept_apart() -> None:
    """Items of different companies and codes never replace each other."""
    board = AttentionBoard()
    board.apply(_event(OutboundType.ATTENTION_NEEDED, company="acct_1"))
    board.apply(_event(OutboundType.ATTENTION_NEEDED, company="acct_2"))
    board.apply(
        _event(
            OutboundType.ATTENTION_NEEDED,
            company="acct_2",
            code="QBD_REQUEST_ERROR",
            category=AttentionCategory.DATA,
        )
    )

    board.apply(_event(OutboundType.ATTENTION_RESOLVED, company="acct_2"))

    assert board.companies() == ["acct_1", "acct_2"]
    assert [item.code for item in board.shown("acct_2")] == ["QBD_REQUEST_ERROR"]
    assert [item.code for item in board.shown("acct_1")] == ["QBD_CONNECTION_ERROR"]
