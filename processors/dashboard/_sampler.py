"""Throughput for the dashboard chart: the event counters sampled in memory at an interval.

Prometheus keeps the real history; this ring of recent samples only lets the dashboard draw
a small chart without a time-series database. Each instance samples its own counters.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import pairwise
from typing import Final

from prometheus_client.registry import Collector

__all__ = ["COUNTERS", "Rate", "ThroughputSampler", "counter_totals"]

COUNTERS: Final = ("consumed", "synced", "failed", "parked", "replayed", "rejected")
"""Event counters the dashboard shows (``qbd_sync_events_<name>_total``, summed over labels)."""


def counter_totals(counters: Iterable[Collector]) -> dict[str, float]:
    """Each of ``COUNTERS`` summed over its labels, read from the counters themselves.

    Only those six are collected (``Metrics.event_counters``), not the whole registry: the
    Conductor histogram and the lane-depth collector would cost far more every sample.
    """
    names = {f"qbd_sync_events_{name}_total": name for name in COUNTERS}
    totals = dict.fromkeys(COUNTERS, 0.0)
    for family in (family for counter in counters for family in counter.collect()):
        for sample in family.samples:
            name = names.get(sample.name)
            if name is not None:
                totals[name] += sample.value
    return totals


@dataclass(frozen=True, slots=True)
class Rate:
    """Events per second of each counter between two samples, ending at ``at`` (unix time)."""

    at: float
    per_s: dict[str, float]

    @property
    def problems_per_s(self) -> float:
        """Failed, parked and rejected events per second: the chart's error line."""
        return sum(self.per_s[name] for name in ("failed", "parked", "rejected"))


class ThroughputSampler:
    """Keeps the last ``keep`` samples of the counters and turns them into rates."""

    def __init__(
        self,
        read: Callable[[], dict[str, float]],
        *,
        interval_s: float = 5.0,
        keep: int = 120,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.interval_s = interval_s
        self._read = read
        self._clock = clock
        self._samples: deque[tuple[float, dict[str, float]]] = deque(maxlen=keep + 1)

    def sample(self) -> None:
        """Take one sample now."""
        self._samples.append((self._clock(), self._read()))

    def totals(self) -> dict[str, float]:
        """The counters as they stand now."""
        return self._read()

    def rates(self) -> list[Rate]:
        """Rates between consecutive samples, oldest first."""
        samples = list(self._samples)
        rates = []
        for (start, before), (end, after) in pairwise(samples):
            span = max(end - start, 1e-9)
            per_s = {name: max(0.0, after[name] - before[name]) / span for name in COUNTERS}
            rates.append(Rate(end, per_s))
        return rates
