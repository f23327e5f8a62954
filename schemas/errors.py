"""Why an inbound record is not a valid qbd-sync event.

    InvalidEvent            the record can never be processed (goes to qbd.rejected)
    ├── NotCloudEvent       not a JSON object with `specversion`
    ├── InvalidEnvelope     a CloudEvent whose attributes break the contract
    ├── UnknownEventType    a valid envelope whose `type` qbd-sync does not know
    └── InvalidData         `data` does not match the model of its type

`problems` lists each error as `"location: message"` (for example
`data.lines.0.amount: must be a decimal string like "125.00", not a JSON number`),
never the offending value, so reasons are safe to log and put in record headers.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from pydantic import ValidationError

from schemas.fields import friendly_message

__all__ = [
    "InvalidData",
    "InvalidEnvelope",
    "InvalidEvent",
    "NotCloudEvent",
    "UnknownEventType",
    "problems_of",
]


def problems_of(error: ValidationError, prefix: str = "") -> tuple[str, ...]:
    """Each pydantic error as `"dotted.location: message"`, without input values."""
    problems = []
    for detail in error.errors(include_url=False, include_input=False):
        location = ".".join(str(part) for part in (prefix, *detail["loc"]) if part != "")
        message = friendly_message(detail)
        problems.append(f"{location}: {message}" if location else message)
    return tuple(problems)


class InvalidEvent(ValueError):
    """Base: an inbound record that can never be processed."""

    kind: ClassVar[str] = "invalid"
    """A short machine-readable label (metrics, logs)."""

    def __init__(self, summary: str, problems: Iterable[str] = ()) -> None:
        self.summary = summary
        self.problems = tuple(problems)
        super().__init__("; ".join((summary, *self.problems)) if self.problems else summary)


class NotCloudEvent(InvalidEvent):
    """The JSON is not a CloudEvent at all."""

    kind = "not_cloudevent"


class InvalidEnvelope(InvalidEvent):
    """The CloudEvent attributes break the contract (missing companyid, bad time...)."""

    kind = "invalid_envelope"


class UnknownEventType(InvalidEvent):
    """The event `type` is not one qbd-sync handles."""

    kind = "unknown_type"

    def __init__(self, event_type: str) -> None:
        self.event_type = event_type
        super().__init__(f"unknown type {event_type!r}")


class InvalidData(InvalidEvent):
    """The event `data` does not match its type's model."""

    kind = "invalid_data"
