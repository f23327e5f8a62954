"""A kill counts as mid-write only when the simulator log shows a write cut by it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.chaos.kit import writes_cut

_SIGNALLED = 1_800_000_000.0
_DEAD = _SIGNALLED + 0.004


def _entry(start: float, finish: float, **fields: Any) -> dict[str, Any]:
    """A simulator log entry for a request that ran from ``start`` to ``finish`` (seconds)."""

    def stamp(seconds: float) -> str:
        return datetime.fromtimestamp(_SIGNALLED + seconds, UTC).isoformat(timespec="milliseconds")

    return {
        "method": "POST",
        "path": "/v1/quickbooks-desktop/invoices",
        "end_user_id": "end_usr_a",
        "status": 200,
        "started_at": stamp(start),
        "finished_at": stamp(finish),
        **fields,
    }


def test_a_write_sent_before_the_kill_and_answered_after_death_is_cut() -> None:
    """Started before the signal, finished after the process was dead: the answer was lost."""
    cut = _entry(-0.120, 0.090)

    assert writes_cut([cut], {"end_usr_a"}, signalled_at=_SIGNALLED, dead_at=_DEAD) == [cut]


def test_writes_done_before_or_started_after_the_kill_are_not_cut() -> None:
    """A write answered before the kill, or sent after it, was not in flight at the kill."""
    log = [_entry(-0.300, -0.100), _entry(0.050, 0.200), _entry(-0.100, 0.002)]

    assert writes_cut(log, {"end_usr_a"}, signalled_at=_SIGNALLED, dead_at=_DEAD) == []


def test_reads_other_companies_and_conductor_calls_are_not_writes_in_flight() -> None:
    """Only QuickBooks writes to the companies aimed at count."""
    log = [
        _entry(-0.1, 0.1, method="GET", path="/v1/quickbooks-desktop/health-check"),
        _entry(-0.1, 0.1, end_user_id="end_usr_b"),
        _entry(-0.1, 0.1, path="/v1/auth-sessions"),
    ]

    assert writes_cut(log, {"end_usr_a"}, signalled_at=_SIGNALLED, dead_at=_DEAD) == []
