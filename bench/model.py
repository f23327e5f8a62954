"""The bench's arithmetic, kept pure so a unit test can check it: bounds, rates, ratios."""

from __future__ import annotations

import itertools
import random
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = [
    "LatencyModel",
    "Window",
    "latency_bound",
    "makespan_bound",
    "physical_bound",
    "ratio",
    "timing_of",
    "window_of",
]


@dataclass(frozen=True, slots=True)
class LatencyModel:
    """A per-request latency drawn uniformly from ``[low_ms, high_ms]`` by the simulator."""

    low_ms: float
    high_ms: float

    @property
    def mean_s(self) -> float:
        """Mean latency of one request, in seconds."""
        return (self.low_ms + self.high_ms) / 2000

    @property
    def label(self) -> str:
        """``50-500ms``."""
        return f"{self.low_ms:g}-{self.high_ms:g}ms"

    def faults(self) -> dict[str, Any]:
        """The simulator's ``/_sim/faults`` body for this model."""
        return {"latency_ms": [self.low_ms, self.high_ms]}


def latency_bound(mean_latencies_s: Sequence[float]) -> float:
    """Events per second QuickBooks itself allows in steady state (DESIGN.md section 8).

    Each company file serves one request at a time, so company ``c`` gives at most
    ``1 / latency_c``: the bound is ``sum(1 / latency_c)`` over the companies with work. No
    setting of ours (concurrency, pool sizes) is part of it.
    """
    _check(mean_latencies_s)
    return sum(1 / latency for latency in mean_latencies_s)


def makespan_bound(
    model: LatencyModel, companies: int, per_company: int, *, trials: int = 64, seed: int = 16
) -> float:
    """Expected seconds from the first write to the last when every company starts at once and
    never waits between its writes: ``E[max over companies of the sum of its latencies]``.

    This is ``latency_bound`` over a finite run: as companies finish, fewer have work, and
    the run lasts as long as its slowest company. A Monte Carlo mean over ``trials`` draws of
    the simulator's uniform latency (seeded, so the bench is repeatable).
    """
    if companies < 1 or per_company < 1 or trials < 1:
        raise ValueError("need at least one company, one event each and one trial")
    draw = random.Random(seed).uniform
    low, high = model.low_ms / 1000, model.high_ms / 1000
    total = 0.0
    for _ in range(trials):
        total += max(sum(draw(low, high) for _ in range(per_company)) for _ in range(companies))
    return total / trials


def physical_bound(latency_rate: float, cpu_rate: float | None) -> float:
    """``min(latency bound, CPU bound)``: the CPU bound is the rate of a bare consume ->
    conductor-py call -> produce loop at the same concurrency on the same machine (None: the
    CPU bound was not measured, the latency bound stands alone)."""
    if latency_rate <= 0 or (cpu_rate is not None and cpu_rate <= 0):
        raise ValueError("bounds must be positive")
    return latency_rate if cpu_rate is None else min(latency_rate, cpu_rate)


def _check(mean_latencies_s: Sequence[float]) -> None:
    if not mean_latencies_s:
        raise ValueError("need at least one company")
    if any(latency <= 0 for latency in mean_latencies_s):
        raise ValueError("mean latencies must be positive")


def ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator``, or NaN when the denominator is zero (nothing measured)."""
    return numerator / denominator if denominator else float("nan")


@dataclass(frozen=True, slots=True)
class Window:
    """Completed calls and the wall time from the first one's start to the last one's end."""

    calls: int
    seconds: float

    @property
    def rate(self) -> float:
        """Calls per second over the window."""
        return ratio(self.calls, self.seconds)


def _stamp(value: str) -> float:
    return datetime.fromisoformat(value).timestamp()


def window_of(entries: Iterable[dict[str, Any]]) -> Window:
    """The window of simulator log entries (``started_at`` / ``finished_at`` ISO stamps)."""
    starts: list[float] = []
    ends: list[float] = []
    for entry in entries:
        starts.append(_stamp(entry["started_at"]))
        ends.append(_stamp(entry["finished_at"]))
    if not starts:
        return Window(0, 0.0)
    return Window(len(starts), max(ends) - min(starts))


def timing_of(entries: Iterable[dict[str, Any]]) -> dict[str, float]:
    """Where a run's time went, per company, from simulator log entries of its writes.

    ``write_s``: mean time QuickBooks (the simulator) took per write, as it logged it (more
    than the drawn latency when its machine is loaded). ``gap_s``: mean time a company sat
    idle between the end of one write and the start of its next, whatever held it (our
    processing, fetching, the CPU); ``first_gap_s`` the same after each company's first write
    (where a company's first contact is recorded). ``busiest_s``: the longest sum of one
    company's write times, the shortest the run could have lasted with the latencies it drew.
    ``busy_min`` / ``busy_median``: per company with two writes or more, the share of its
    time from first write to last that QuickBooks was busy with it (its writes' sum over that
    span): the company's rate against its own bound, one request at a time.
    """
    by_company: dict[str, list[tuple[float, float]]] = {}
    for entry in entries:
        span = (_stamp(entry["started_at"]), _stamp(entry["finished_at"]))
        by_company.setdefault(str(entry["end_user_id"]), []).append(span)
    writes: list[float] = []
    gaps: list[float] = []
    first_gaps: list[float] = []
    busy: list[float] = []
    busiest = 0.0
    for spans in by_company.values():
        spans.sort()
        durations = [end - start for start, end in spans]
        writes.extend(durations)
        own = sum(durations)
        busiest = max(busiest, own)
        if len(spans) > 1:
            busy.append(ratio(own, max(end for _, end in spans) - spans[0][0]))
        between = [nxt[0] - cur[1] for cur, nxt in itertools.pairwise(spans)]
        gaps.extend(between)
        first_gaps.extend(between[:1])
    return {
        "write_s": ratio(sum(writes), len(writes)),
        "gap_s": ratio(sum(gaps), len(gaps)) if gaps else 0.0,
        "first_gap_s": ratio(sum(first_gaps), len(first_gaps)) if first_gaps else 0.0,
        "busiest_s": busiest,
        # Left out when no company wrote twice (no span to measure; JSON has no NaN).
        **({"busy_min": min(busy), "busy_median": statistics.median(busy)} if busy else {}),
    }
