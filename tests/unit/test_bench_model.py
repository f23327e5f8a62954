"""The bench's arithmetic: the physical bound, throughput windows and ratios."""

from __future__ import annotations

import math

import pytest

from bench.model import (
    LatencyModel,
    Window,
    latency_bound,
    makespan_bound,
    physical_bound,
    ratio,
    timing_of,
    window_of,
)
from bench.runner import QUICK


def test_latency_bound_is_the_per_company_sum() -> None:
    """Ten companies at 250 ms: each gives 4 events/s, 40 in all."""
    rate = latency_bound([0.25] * 10)

    assert rate == pytest.approx(40.0)


def test_latency_bound_ignores_our_own_concurrency() -> None:
    """1,000 companies at 275 ms allow 1,000 / 0.275 events/s: no setting of ours caps it."""
    rate = latency_bound([0.275] * 1_000)

    assert rate == pytest.approx(1_000 / 0.275)


def test_latency_bound_sums_unequal_companies() -> None:
    """One fast and one slow company add their own rates."""
    rate = latency_bound([0.1, 2.0])

    assert rate == pytest.approx(10.5)


def test_latency_bound_rejects_nonsense() -> None:
    """No companies or zero latency is an error, not infinity."""
    for latencies in ([], [0.0]):
        with pytest.raises(ValueError, match=r"need at least|positive"):
            latency_bound(latencies)


def test_makespan_of_one_company_is_its_writes_one_after_another() -> None:
    """One company, 6 writes at a fixed 3 s: 18 s, exactly."""
    seconds = makespan_bound(LatencyModel(3000, 3000), companies=1, per_company=6)

    assert seconds == pytest.approx(18.0)


def test_makespan_of_many_companies_is_their_slowest() -> None:
    """1,000 companies x 6 writes at 2-4 s last longer than the mean 18 s (the slowest
    company's sum, about 18 + 3 standard deviations of sqrt(6 x 1/3) s), but not 6 x 4 s."""
    seconds = makespan_bound(LatencyModel(2000, 4000), companies=1_000, per_company=6)

    assert 21.0 < seconds < 24.0


def test_makespan_tends_to_the_steady_state_bound_for_long_runs() -> None:
    """Ten companies x 2,000 writes at 50-500 ms: within 3 % of 2,000 x the mean latency."""
    seconds = makespan_bound(LatencyModel(50, 500), companies=10, per_company=2_000, trials=4)

    assert seconds == pytest.approx(2_000 * 0.275, rel=0.03)


def test_physical_bound_is_the_lower_of_latency_and_cpu() -> None:
    """QuickBooks allows 333 ev/s; a CPU that allows 200 makes 200 the bound, 900 does not."""
    assert physical_bound(333.0, 200.0) == 200.0
    assert physical_bound(333.0, 900.0) == 333.0
    assert physical_bound(333.0, None) == 333.0
    with pytest.raises(ValueError, match="positive"):
        physical_bound(0.0, 1.0)


def test_latency_model_mean_is_the_middle_of_the_range_in_seconds() -> None:
    """50-500 ms has a mean of 275 ms; its simulator body is the range."""
    model = LatencyModel(50, 500)

    assert model.mean_s == pytest.approx(0.275)
    assert model.label == "50-500ms"
    assert model.faults() == {"latency_ms": [50, 500]}


def test_window_spans_first_start_to_last_finish() -> None:
    """Three calls between 10:00:00.000 and 10:00:02.000 run at 1.5 calls/s."""
    entries = [
        {
            "started_at": "2026-01-01T10:00:00.000+00:00",
            "finished_at": "2026-01-01T10:00:01.000+00:00",
        },
        {
            "started_at": "2026-01-01T10:00:00.500+00:00",
            "finished_at": "2026-01-01T10:00:02.000+00:00",
        },
        {
            "started_at": "2026-01-01T10:00:01.000+00:00",
            "finished_at": "2026-01-01T10:00:01.500+00:00",
        },
    ]

    window = window_of(entries)

    assert window == Window(3, 2.0)
    assert window.rate == pytest.approx(1.5)


def test_timing_splits_a_run_into_writes_gaps_and_its_busiest_company() -> None:
    """Company a writes 1 s + 2 s with 0.5 s between; b one 1.5 s write: a is the busiest."""

    def write(company: str, start: float, end: float) -> dict[str, str]:
        return {
            "end_user_id": company,
            "started_at": f"2026-01-01T10:00:{start:06.3f}+00:00",
            "finished_at": f"2026-01-01T10:00:{end:06.3f}+00:00",
        }

    timing = timing_of([write("a", 0, 1), write("b", 0, 1.5), write("a", 1.5, 3.5)])

    assert timing["write_s"] == pytest.approx(1.5)
    assert timing["gap_s"] == pytest.approx(0.5)
    assert timing["busiest_s"] == pytest.approx(3.0)
    # a: 3.0 s of writes over 3.5 s; b has one write, so no span of its own.
    assert timing["busy_min"] == pytest.approx(3.0 / 3.5)
    assert timing["busy_median"] == pytest.approx(3.0 / 3.5)


def test_busy_share_is_per_company_and_its_worst_is_kept() -> None:
    """Two companies: one never idle between writes (1.0), one idle a third of its span."""

    def write(company: str, start: float, end: float) -> dict[str, str]:
        return {
            "end_user_id": company,
            "started_at": f"2026-01-01T10:00:{start:06.3f}+00:00",
            "finished_at": f"2026-01-01T10:00:{end:06.3f}+00:00",
        }

    spans = [write("a", 0, 1), write("a", 1, 2), write("b", 5, 6), write("b", 7, 8)]
    timing = timing_of(spans)

    assert timing["busy_min"] == pytest.approx(2.0 / 3.0)
    assert timing["busy_median"] == pytest.approx((1.0 + 2.0 / 3.0) / 2)


def test_busy_share_is_left_out_when_no_company_wrote_twice() -> None:
    """One write per company has no span: no key, rather than a NaN the JSON cannot hold."""
    once = [
        {
            "end_user_id": company,
            "started_at": "2026-01-01T10:00:00.000+00:00",
            "finished_at": "2026-01-01T10:00:01.000+00:00",
        }
        for company in ("a", "b")
    ]

    assert "busy_min" not in timing_of(once)


def test_empty_window_and_zero_denominator_are_nan() -> None:
    """Nothing measured gives NaN, never a division error or a fake zero."""
    assert window_of([]) == Window(0, 0.0)
    assert math.isnan(Window(0, 0.0).rate)
    assert math.isnan(ratio(1.0, 0.0))
    assert ratio(3.0, 2.0) == 1.5


def test_events_per_company_fills_the_target_time_at_the_expected_rate() -> None:
    """At min(ideal, CPU rate) for ``seconds``, split over companies, at least two each."""
    assert QUICK.events_per_company(ideal=36.0, companies=10) == round(36 * QUICK.seconds / 10)
    assert QUICK.events_per_company(ideal=25_600.0, companies=100) == max(
        2, round(QUICK.cpu_rate * QUICK.seconds / 100)
    )
