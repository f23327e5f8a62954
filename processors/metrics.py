"""Prometheus metrics of DESIGN.md section 7, behind methods named for what happened.

Callers never touch prometheus_client: they call ``metrics.event_synced("invoice.created")``
and ``GET /metrics`` serves ``render()``. Each ``Metrics`` owns its own registry, so tests and
several processors in one process do not clash.

Cardinality is bounded on purpose, because every label value is a time series kept forever:

- counters carry ``event_type`` only, folded to ``other`` when it is not a known inbound type
  (a rejected record may claim any type); never a company id.
- rejected records are labelled by intake's ``kind`` (not_json, invalid_data, ...).
- Conductor latency is labelled by ``resource`` and ``op`` (fixed by our code) and
  ``outcome`` (``ok`` or an error class from a fixed set).
- lane depth per company is the one per-company series. Only the ``lane_depth_top_n``
  deepest lanes are exported, recomputed at scrape time, so at most N series exist at once
  however many thousand companies there are; ``qbd_sync_lanes_waiting`` counts all of them.
  A company that drops out of the top N simply stops being exported (its old series goes
  stale in Prometheus), which is what an operator looking for the hot spot wants.
"""

from __future__ import annotations

import contextlib
import heapq
from collections.abc import Iterable
from typing import TYPE_CHECKING, Final

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from schemas import EventType

if TYPE_CHECKING:
    from processors.health import Health

__all__ = ["CONDUCTOR_BUCKETS", "ERROR_CLASSES", "Metrics"]

_PREFIX: Final = "qbd_sync_"
_EVENT_TYPES: Final = frozenset(member.value for member in EventType)
_REJECT_KINDS: Final = frozenset(
    {
        "empty",
        "oversize",
        "not_json",
        "not_cloudevent",
        "invalid_envelope",
        "unknown_type",
        "invalid_data",
        "key_mismatch",
        "internal_error",
    }
)
ERROR_CLASSES: Final = frozenset(
    {"connection", "setup", "data", "configuration", "transient", "ambiguous"}
)
"""Values ``observe_conductor(..., error_class=...)`` keeps as the ``outcome`` label."""
_INGRESS_OUTCOMES: Final = frozenset(
    {
        "accepted",
        "bad_signature",
        "stale",
        "too_large",
        "invalid",
        "unavailable",
    }
)
CONDUCTOR_BUCKETS: Final = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
"""QuickBooks Desktop answers in 0.1 s to seconds; the client times out at 120 s."""


def _fold(value: str, known: frozenset[str]) -> str:
    return value if value in known else "other"


class _LaneDepthCollector(Collector):
    """Exports the deepest lanes only, computed when Prometheus scrapes."""

    def __init__(self, top_n: int) -> None:
        self.top_n = top_n
        self.depths: dict[str, int] = {}

    def collect(self) -> Iterable[Metric]:
        depth = GaugeMetricFamily(
            f"{_PREFIX}lane_depth",
            f"Events queued in a company's lane (the {self.top_n} deepest lanes only).",
            labels=["company_id"],
        )
        for company_id, value in heapq.nlargest(
            self.top_n, self.depths.items(), key=lambda item: item[1]
        ):
            depth.add_metric([company_id], value)
        waiting = GaugeMetricFamily(
            f"{_PREFIX}lanes_waiting", "Companies with at least one event queued in their lane."
        )
        waiting.add_metric([], len(self.depths))
        return [depth, waiting]


class _HealthCollector(Collector):
    """Mirrors Health into gauges at scrape time, so alerts need no second reporting path."""

    def __init__(self, health: Health) -> None:
        self.health = health

    def collect(self) -> Iterable[Metric]:
        ready = GaugeMetricFamily(f"{_PREFIX}ready", "1 when every dependency is ok.")
        ready.add_metric([], float(self.health.ready))
        halted = GaugeMetricFamily(
            f"{_PREFIX}halted", "1 while consuming is stopped because our Conductor key failed."
        )
        halted.add_metric([], float(self.health.halt_reason is not None))
        up = GaugeMetricFamily(
            f"{_PREFIX}dependency_up", "1 when the dependency is ok.", labels=["component"]
        )
        for name, state in self.health.snapshot()["components"].items():
            up.add_metric([name], float(state["ok"]))
        return [ready, halted, up]


class Metrics:
    """The processor's metrics, in a registry of their own."""

    def __init__(self, *, lane_depth_top_n: int = 20, health: Health | None = None) -> None:
        if lane_depth_top_n < 1:
            raise ValueError("lane_depth_top_n must be at least 1")
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        by_type = ["event_type"]
        self._consumed = Counter(
            f"{_PREFIX}events_consumed", "Inbound events read.", by_type, registry=r
        )
        self._synced = Counter(
            f"{_PREFIX}events_synced", "Events written to QuickBooks.", by_type, registry=r
        )
        self._failed = Counter(
            f"{_PREFIX}events_failed", "Events QuickBooks refused for good.", by_type, registry=r
        )
        self._parked = Counter(
            f"{_PREFIX}events_parked", "Events parked in the DLQ.", by_type, registry=r
        )
        self._replayed = Counter(
            f"{_PREFIX}events_replayed", "Parked events run again.", by_type, registry=r
        )
        self._rejected = Counter(
            f"{_PREFIX}events_rejected", "Records sent to qbd.rejected.", ["kind"], registry=r
        )
        self._in_flight = Gauge(f"{_PREFIX}in_flight", "Events held in memory.", registry=r)
        self._conductor = Histogram(
            f"{_PREFIX}conductor_request_seconds",
            "Conductor API call latency.",
            ["resource", "op", "outcome"],
            buckets=CONDUCTOR_BUCKETS,
            registry=r,
        )
        self._lag = Gauge(
            f"{_PREFIX}consumer_lag",
            "Records on an assigned partition not yet in an end state: from the oldest unfinished "
            "(or next unfetched) offset up to the high-water mark of the last fetch.",
            ["topic", "partition"],
            registry=r,
        )
        self._attention = Gauge(
            f"{_PREFIX}attention_open", "Open needs-attention items.", registry=r
        )
        self._commits = Counter(f"{_PREFIX}commits", "Offset commits made.", registry=r)
        self._ingress = Counter(
            f"{_PREFIX}ingress_requests",
            "POST /v1/events requests by outcome.",
            ["outcome"],
            registry=r,
        )
        self._ingress_events = Counter(
            f"{_PREFIX}ingress_events", "Events accepted by POST /v1/events.", registry=r
        )
        self._lanes = _LaneDepthCollector(lane_depth_top_n)
        r.register(self._lanes)
        if health is not None:
            r.register(_HealthCollector(health))

    def event_counters(self) -> tuple[Counter, ...]:
        """The event counters the dashboard charts (consumed, synced, failed, parked,
        replayed, rejected), to read without collecting the whole registry."""
        return (
            self._consumed,
            self._synced,
            self._failed,
            self._parked,
            self._replayed,
            self._rejected,
        )

    # Event outcomes (one call per event reaching that point)

    def event_consumed(self, event_type: str) -> None:
        """An inbound event was read and decoded."""
        self._consumed.labels(_fold(event_type, _EVENT_TYPES)).inc()

    def event_synced(self, event_type: str) -> None:
        """An event's QuickBooks write succeeded (or an earlier write was adopted)."""
        self._synced.labels(_fold(event_type, _EVENT_TYPES)).inc()

    def event_failed(self, event_type: str) -> None:
        """An event ended as failed (QuickBooks refused the data)."""
        self._failed.labels(_fold(event_type, _EVENT_TYPES)).inc()

    def event_parked(self, event_type: str) -> None:
        """An event was parked in the DLQ."""
        self._parked.labels(_fold(event_type, _EVENT_TYPES)).inc()

    def event_replayed(self, event_type: str) -> None:
        """A parked event was taken from the DLQ and run again."""
        self._replayed.labels(_fold(event_type, _EVENT_TYPES)).inc()

    def record_rejected(self, kind: str) -> None:
        """A record went to qbd.rejected; ``kind`` is ``intake.Rejected.kind``."""
        self._rejected.labels(_fold(kind, _REJECT_KINDS)).inc()

    # Engine state (set whenever it changes, or periodically)

    def set_in_flight(self, count: int) -> None:
        """Events currently held in memory."""
        self._in_flight.set(count)

    def set_lane_depth(self, company_id: str, depth: int) -> None:
        """Events queued in ``company_id``'s lane; 0 forgets the lane."""
        if depth > 0:
            self._lanes.depths[company_id] = depth
        else:
            self._lanes.depths.pop(company_id, None)

    def set_lane_depths(self, depths: dict[str, int]) -> None:
        """Events queued per company lane, replacing every earlier value."""
        self._lanes.depths = {company: depth for company, depth in depths.items() if depth > 0}

    def set_consumer_lag(self, topic: str, partition: int, lag: int) -> None:
        """Records of one assigned partition not yet in an end state (see the engine)."""
        self._lag.labels(topic, str(partition)).set(max(0, lag))

    def forget_partition(self, topic: str, partition: int) -> None:
        """Stop exporting lag for a partition this instance no longer owns."""
        with contextlib.suppress(KeyError):
            self._lag.remove(topic, str(partition))

    def set_attention_open(self, count: int) -> None:
        """Open needs-attention items (all companies)."""
        self._attention.set(count)

    def offsets_committed(self, commits: int = 1) -> None:
        """An offset commit succeeded."""
        self._commits.inc(commits)

    # Conductor and ingress

    def observe_conductor(
        self, resource: str, op: str, seconds: float, ok: bool, *, error_class: str | None = None
    ) -> None:
        """One Conductor call took ``seconds``; ``error_class`` is the outcome class on failure."""
        outcome = "ok" if ok else _fold(error_class or "error", ERROR_CLASSES | {"error"})
        self._conductor.labels(resource, op, outcome).observe(seconds)

    def ingress_request(self, outcome: str, events: int = 0) -> None:
        """A ``POST /v1/events`` request ended with ``outcome``; ``events`` were accepted."""
        self._ingress.labels(_fold(outcome, _INGRESS_OUTCOMES)).inc()
        if events:
            self._ingress_events.inc(events)

    def render(self) -> tuple[bytes, str]:
        """The Prometheus text exposition and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
