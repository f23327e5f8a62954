"""When the invoice status read-back publishes: only what changed, never the app's own writes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from processors.mappings import Mapping
from processors.pipeline.readback import changed
from processors.status_book import InvoiceStatus
from processors.writes import ObjectState

_MAPPING = Mapping("acct", "invoice", "inv_1", "1A5-1", "1700000010", "sync", ObjectState.ACTIVE)


def _status(balance: str = "125.00", *, paid: bool = False, revision: str = "1700000010") -> Any:
    return InvoiceStatus("1A5-1", "inv_1", Decimal(balance), paid, revision)


def test_a_fresh_invoice_as_the_app_wrote_it_is_not_published() -> None:
    """First seen, same revision as the app's last write, nothing applied: no event."""
    assert not changed(_status(), None, _MAPPING)


def test_a_first_seen_invoice_with_a_payment_applied_is_published() -> None:
    """First seen but something paid it since the app's write: the app must learn it."""
    assert changed(_status("25.00"), None, _MAPPING, applied=Decimal("100.00"))


def test_a_first_seen_invoice_edited_in_quickbooks_is_published() -> None:
    """First seen with a revision the app's write did not leave: an edit in QuickBooks."""
    assert changed(_status(revision="1700000099"), None, _MAPPING)


def test_a_new_balance_or_paid_state_is_published() -> None:
    """Balance or paid state differing from the last pull is a change."""
    seen = _status()

    assert changed(_status("0.00", paid=True, revision="1700000099"), seen, _MAPPING)
    assert changed(_status(paid=True), seen, _MAPPING)


def test_a_revision_the_app_itself_left_is_not_published() -> None:
    """The app's own update moved the revision: its sync result already told it."""
    seen = _status(revision="1700000001")

    assert not changed(_status(revision="1700000010"), seen, _MAPPING)
    assert changed(_status(revision="1700000011"), seen, _MAPPING)


def test_nothing_changed_is_not_published() -> None:
    """Seen before exactly like this: no event."""
    assert not changed(_status(), _status(), _MAPPING)
