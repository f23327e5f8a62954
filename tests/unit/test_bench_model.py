"""The bench's arithmetic: the ideal bound, throughput windows and ratios."""

from __future__ import annotations

import math

import pytest

from bench.model import LatencyModel, Window, ideal_rate, ratio, window_of
from bench.runner import QUICK


def test_ideal_rate_is_the_per_company_sum_when_companies_are_few() -> None:
    """Ten companies at 250 ms with 64 slots: each gives 4 events/s, 40 in all."""
    rate = ideal_rate([0.25] * 10, concurrency=64)

    assert rate == pytest.approx(40.0)


def test_ideal_rate_is_capped_by_concurrency_over_mean_latency() -> None:
    """1,000 companies at 275 ms with 64 slots: 64 / 0.275, not 1,000 / 0.275."""
    rate = ideal_rate([0.275] * 1_000, concurrency=64)

    assert rate == pytest.approx(64 / 0.275)


def test_ideal_rate_sums_unequal_companies() -> None:
    """One fast and one slow company add their own rates."""
    rate = ideal_rate([0.1, 2.0], concurrency=64)

    assert rate == pytest.approx(10.5)


def test_ideal_rate_rejects_nonsense() -> None:
    """No companies, zero latency or no concurrency is an error, not infinity."""
    for latencies, concurrency in (([], 1), ([0.0], 1), ([0.1], 0)):
        with pytest.raises(ValueError, match=r"need at least|positive"):
            ideal_rate(latencies, concurrency)


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
