"""The pre-flight fuzz (bench.preflight) in small: wrong documents never fail in QuickBooks."""

from __future__ import annotations

from bench.preflight import measure
from processors.config import Settings
from processors.testing import TestStack


async def test_fuzzed_wrong_documents_never_reach_quickbooks_to_fail(
    stack: TestStack, settings: Settings
) -> None:
    """Every seeded mistake ends where its kind says, and no write fails QuickBooks' checks."""
    report = await measure(settings, stack.simulator, companies=1, documents=80, seed=5)
    mistakes = {mistake for mistake, ends in report.ends.items() if mistake != "none"}

    assert report.unexpected == []
    assert report.failed_in_quickbooks == 0, report.data_errors
    assert report.writes > 0
    assert sum(report.ends["none"].values()) == report.ends["none"]["synced"]
    assert {"closed_period", "name_colon", "unmapped_ref"} <= mistakes
