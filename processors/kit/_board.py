"""`AttentionBoard`: what a notifier shows each company now, from the attention events.

The update rule (qbd-sync keeps at most one open attention per company and code):

- `qbd.attention.needed` for a code with nothing open opens it; for a code already open it
  replaces what is shown (the message, the setup link, `occurrences`, `last_seen`): repeats
  of the same cause raise `occurrences` and never open a second item.
- `qbd.connection.setup_link` is a needed event for the code `SETUP_LINK`: a newer link
  replaces the older one.
- `qbd.attention.resolved` closes the item; the company needs no message for it any more.

In memory and per process: a notifier that restarts rebuilds the board by reading the
topic from the start (a new consumer group, or `auto_offset_reset="earliest"`).
"""

from __future__ import annotations

from enum import StrEnum

from processors.kit._received import AttentionEvent
from schemas import AttentionData, OutboundType

__all__ = ["AttentionBoard", "BoardChange"]


class BoardChange(StrEnum):
    """What one event did to the board."""

    OPENED = "opened"
    UPDATED = "updated"
    RESOLVED = "resolved"
    UNCHANGED = "unchanged"
    """A resolved event for an item that was not open (already closed, or seen before)."""


class AttentionBoard:
    """Open attention items per company and code: what to show each company now."""

    def __init__(self) -> None:
        self._open: dict[str, dict[str, AttentionData]] = {}

    def apply(self, event: AttentionEvent) -> BoardChange:
        """Apply one attention event and say what it changed."""
        items = self._open.setdefault(event.companyid, {})
        code = event.data.code
        if event.type is OutboundType.ATTENTION_RESOLVED:
            closed = items.pop(code, None)
            if not items:
                del self._open[event.companyid]
            return BoardChange.UNCHANGED if closed is None else BoardChange.RESOLVED
        change = BoardChange.UPDATED if code in items else BoardChange.OPENED
        items[code] = event.data
        return change

    def shown(self, company_id: str) -> list[AttentionData]:
        """The company's open items, oldest first: what its users should see now."""
        items = self._open.get(company_id, {}).values()
        return sorted(items, key=lambda data: (data.first_seen, data.code))

    def item(self, company_id: str, code: str) -> AttentionData | None:
        """The open item of `code` for the company, or None when nothing is open."""
        return self._open.get(company_id, {}).get(code)

    def companies(self) -> list[str]:
        """Companies with at least one open item, sorted."""
        return sorted(self._open)
