"""A validated inbound event: envelope plus typed data, how to build one and write it back.

`parse_event` takes the event as a JSON object (structured content mode, or the attributes
and data that `processors.intake` gathers from a binary-mode record); `structured_bytes`
writes any accepted event back in structured mode, so a record that arrived in binary mode
can be stored as one value and decoded later without its headers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import ValidationError

from schemas.envelope import Envelope
from schemas.errors import (
    InvalidData,
    InvalidEnvelope,
    NotCloudEvent,
    UnknownEventType,
    problems_of,
)
from schemas.inbound import DATA_MODELS
from schemas.names import EventType
from schemas.refs import EventData

__all__ = ["InboundEvent", "parse_event", "structured_bytes"]

DataT = TypeVar("DataT", bound=EventData, covariant=True)

_EVENT_TYPES: dict[str, EventType] = {member.value: member for member in EventType}


@dataclass(frozen=True, slots=True)
class InboundEvent(Generic[DataT]):
    """An inbound CloudEvent whose envelope and `data` are both validated."""

    envelope: Envelope
    type: EventType
    data: DataT

    @property
    def id(self) -> str:
        """The event id: the idempotency key."""
        return self.envelope.id

    @property
    def companyid(self) -> str:
        """The app's id of the QuickBooks company file."""
        return self.envelope.companyid

    @property
    def time(self) -> datetime | None:
        """When the event happened, if the producer said."""
        return self.envelope.time

    @property
    def traceparent(self) -> str | None:
        """The W3C trace context extension, for propagation to outbound events."""
        return self.envelope.traceparent


def parse_event(obj: Any) -> InboundEvent[EventData]:
    """Validate a decoded JSON value as an inbound event; raise `InvalidEvent` if it is not."""
    if not isinstance(obj, Mapping) or "specversion" not in obj:
        raise NotCloudEvent("not a CloudEvent: expected a JSON object with specversion")
    try:
        envelope = Envelope.model_validate(obj)
    except ValidationError as exc:
        raise InvalidEnvelope("invalid CloudEvent envelope", problems_of(exc)) from None
    event_type = _EVENT_TYPES.get(envelope.type)
    if event_type is None:
        raise UnknownEventType(envelope.type)
    model = DATA_MODELS[event_type]
    raw = {} if envelope.data is None else envelope.data
    try:
        data = model.model_validate(raw)
    except ValidationError as exc:
        raise InvalidData(f"invalid data for {event_type}", problems_of(exc, "data")) from None
    return InboundEvent(envelope=envelope, type=event_type, data=data)


def structured_bytes(event: InboundEvent[EventData]) -> bytes:
    """The event as a structured-mode CloudEvent (JSON bytes) that parses back to itself.

    Attributes the producer sent are written as they were parsed (`time` in RFC 3339),
    extension attributes included; attributes it left out stay out; `data` is the JSON
    it carried, before validation.
    """
    return event.envelope.model_dump_json(exclude_unset=True).encode()
