"""Optional OpenTelemetry tracing: spans continue the producer's trace; off means no spans."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from processors.tracing import Tracing
from schemas import EventType, example_event, parse_event

_TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
_PARENT = f"00-{_TRACE_ID}-00f067aa0ba902b7-01"

_EXPORTER = InMemorySpanExporter()
_PROVIDER = TracerProvider()
_PROVIDER.add_span_processor(SimpleSpanProcessor(_EXPORTER))
trace.set_tracer_provider(_PROVIDER)  # once per process: OpenTelemetry allows one provider


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """The spans finished during the test."""
    _EXPORTER.clear()
    yield _EXPORTER
    _EXPORTER.clear()


def _event(traceparent: str | None) -> object:
    raw = example_event(EventType.INVOICE_CREATED)
    if traceparent:
        raw["traceparent"] = traceparent
    return parse_event(raw)


def test_span_continues_the_inbound_trace(spans: InMemorySpanExporter) -> None:
    """An event with a traceparent is processed in a child span of the producer's trace."""
    tracing = Tracing(enabled=True)
    event = _event(_PARENT)

    with tracing.span(event, "acct_1"):  # type: ignore[arg-type]
        outbound = tracing.traceparent(None)

    (span,) = spans.get_finished_spans()
    assert format(span.context.trace_id, "032x") == _TRACE_ID
    assert span.parent is not None
    assert format(span.parent.span_id, "016x") == "00f067aa0ba902b7"
    assert span.attributes["qbd_sync.company_id"] == "acct_1"
    assert outbound is not None
    assert outbound.split("-")[1] == _TRACE_ID
    assert outbound.split("-")[2] == format(span.context.span_id, "016x")


def test_tracing_off_records_nothing_and_passes_traceparent_through(
    spans: InMemorySpanExporter,
) -> None:
    """With tracing off no span is recorded and outbound events keep the inbound traceparent."""
    tracing = Tracing(enabled=False)

    with tracing.span(_event(_PARENT), "acct_1"):  # type: ignore[arg-type]
        outbound = tracing.traceparent(_PARENT)

    assert spans.get_finished_spans() == ()
    assert outbound == _PARENT
