"""The bench's arithmetic, kept pure so a unit test can check it: bounds, rates, ratios."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = [
    "LatencyModel",
    "Window",
    "ideal_rate",
    "ratio",
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


def ideal_rate(mean_latencies_s: Sequence[float], concurrency: int) -> float:
    """Events per second no processor can beat (DESIGN.md section 8).

    Each company serves one request at a time, so company ``c`` gives at most
    ``1 / latency_c``; at most ``concurrency`` requests run at once, each for the mean latency.
    The bound is ``min(sum(1 / latency_c), concurrency / mean latency)``.
    """
    if not mean_latencies_s or concurrency < 1:
        raise ValueError("need at least one company and a concurrency of at least 1")
    if any(latency <= 0 for latency in mean_latencies_s):
        raise ValueError("mean latencies must be positive")
    per_company = sum(1 / latency for latency in mean_latencies_s)
    mean = sum(mean_latencies_s) / len(mean_latencies_s)
    return min(per_company, concurrency / mean)


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
