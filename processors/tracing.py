"""Optional OpenTelemetry tracing (off by default): one span per event, continuing the
producer's trace from the CloudEvents ``traceparent`` extension.

qbd-sync only uses the OpenTelemetry API; the SDK and exporter are the operator's choice,
for example ``opentelemetry-instrument qbd-sync run`` with the usual ``OTEL_*`` variables.
With tracing off (``QBD_SYNC_TRACING=false``) nothing is imported or recorded.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from schemas import EventData, InboundEvent

__all__ = ["Tracing"]


class Tracing:
    """Starts a span per event when enabled; a no-op otherwise."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        self._tracer: Any = None
        self._propagator: Any = None
        if enabled:
            from opentelemetry import trace
            from opentelemetry.trace.propagation.tracecontext import (
                TraceContextTextMapPropagator,
            )

            self._tracer = trace.get_tracer("qbd-sync")
            self._propagator = TraceContextTextMapPropagator()

    @contextlib.contextmanager
    def span(self, event: InboundEvent[EventData], company_id: str) -> Iterator[Any]:
        """A span for processing ``event``, child of its ``traceparent`` when it has one."""
        if not self.enabled:
            yield None
            return
        carrier = {"traceparent": event.traceparent} if event.traceparent else {}
        parent = self._propagator.extract(carrier)
        attributes = {
            "messaging.system": "kafka",
            "messaging.message.id": event.id,
            "cloudevents.event_type": str(event.type),
            "qbd_sync.company_id": company_id,
        }
        with self._tracer.start_as_current_span(
            f"qbd-sync process {event.type}", context=parent, attributes=attributes
        ) as current:
            yield current

    def traceparent(self, fallback: str | None) -> str | None:
        """The current span's ``traceparent`` (for outbound events), else ``fallback``."""
        if not self.enabled:
            return fallback
        carrier: dict[str, str] = {}
        self._propagator.inject(carrier)
        return carrier.get("traceparent", fallback)
