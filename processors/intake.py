"""Intake: turn one Kafka record's bytes into a typed event, or a reason to reject it.

Pure and fast: no I/O, no logging, never raises for any input. Whatever comes back as
`Rejected` goes to `qbd.rejected` with `reason` in the `qbd-rejected-reason` header.

Choices:

- The Kafka key must equal the event's `companyid` (UTF-8) when a key is present. A
  different key means the producer partitions by something else, which breaks per-company
  order, so the record is rejected with a clear reason rather than silently re-keyed.
  A record with no key (null) is accepted: its lane is chosen by `companyid` anyway.
- A record with no value (a tombstone) is rejected: there is nothing to process.
- JSON is parsed by orjson, which refuses `NaN`/`Infinity` literals and numbers that
  overflow a double, and limits nesting depth (1024), so deep input cannot exhaust the
  stack. With duplicate keys the last one wins.
- Reasons never echo the input values (they may hold personal data), only where and what.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import orjson

from schemas import EventData, InboundEvent, InvalidEvent, parse_event

__all__ = ["DEFAULT_MAX_BYTES", "Accepted", "Rejected", "decode"]

DEFAULT_MAX_BYTES: Final = 1_048_576
_MAX_PROBLEMS: Final = 5
_MAX_REASON_CHARS: Final = 1000


@dataclass(frozen=True, slots=True)
class Accepted:
    """A record that decoded to a valid inbound event."""

    event: InboundEvent[EventData]


@dataclass(frozen=True, slots=True)
class Rejected:
    """A record that can never be processed, with why."""

    reason: str
    """One line for people and the `qbd-rejected-reason` header."""
    kind: str
    """A short label for metrics: empty, oversize, not_json, not_cloudevent,
    invalid_envelope, unknown_type, invalid_data, key_mismatch, internal_error."""


def _summary(error: InvalidEvent) -> str:
    problems = list(error.problems[:_MAX_PROBLEMS])
    if len(error.problems) > _MAX_PROBLEMS:
        problems.append(f"(+{len(error.problems) - _MAX_PROBLEMS} more)")
    text = f"{error.summary}: {'; '.join(problems)}" if problems else error.summary
    if len(text) > _MAX_REASON_CHARS:
        text = text[: _MAX_REASON_CHARS - 3] + "..."
    return text


def decode(
    value: bytes | None, key: bytes | None, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> Accepted | Rejected:
    """Decode and validate one record's value against its key; never raises."""
    if value is None:
        return Rejected("empty record: no value (tombstone)", "empty")
    if len(value) > max_bytes:
        return Rejected(f"oversize: {len(value)} bytes > max {max_bytes} bytes", "oversize")
    try:
        try:
            obj = orjson.loads(value)
        except orjson.JSONDecodeError as exc:
            return Rejected(f"not JSON: {exc}", "not_json")
        try:
            event = parse_event(obj)
        except InvalidEvent as exc:
            return Rejected(_summary(exc), exc.kind)
        if key is not None and key != event.companyid.encode():
            return Rejected(
                f"record key does not match companyid {event.companyid!r} "
                f"(key {bytes(key[:64])!r}); producers must key records by companyid",
                "key_mismatch",
            )
        return Accepted(event)
    except Exception as exc:  # noqa: BLE001 (a bug must reject one record, not stall the stream)
        return Rejected(f"internal error while decoding: {type(exc).__name__}", "internal_error")
