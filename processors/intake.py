"""Intake: turn one Kafka record into a typed event, or a reason to reject it.

Pure and fast: no I/O, no logging, never raises for any input. Whatever comes back as
`Rejected` goes to `qbd.rejected` with `reason` in the `qbd-rejected-reason` header.

Both content modes of the CloudEvents Kafka protocol binding are read, with the same
validation and the same rejection reasons:

- structured: the value is the whole event as JSON. This is the mode when the
  `content-type` header is `application/cloudevents+json` (any parameters), and also when
  there is no `content-type` and no `ce_` header at all, as every producer before binary
  support wrote records. Any `ce_` headers beside a structured value are ignored (the
  binding allows them; the value is authoritative).
- binary: the attributes are `ce_<name>` headers (UTF-8, names matched case-insensitively,
  as the official SDKs read them), `content-type` is the `datacontenttype` and must be
  JSON when present, and the value is `data`. A binary record with no value (or an empty
  one) is an event without `data`, as the binding defines it. This is the mode when a
  `ce_` header is present and `content-type` is not a CloudEvents media type. The
  attributes are then validated exactly like a structured event's, so a record missing
  `ce_id` is rejected with the reason a structured event missing `id` gets.

Other choices:

- The Kafka key must equal the event's `companyid` (UTF-8) when a key is present. A
  different key means the producer partitions by something else, which breaks per-company
  order, so the record is rejected with a clear reason rather than silently re-keyed.
  A record with no key (null) is accepted: its lane is chosen by `companyid` anyway.
- A structured record with no value (a tombstone) is rejected: there is nothing to process.
- `application/cloudevents+<other>` (Avro, Protobuf) and the batch format are rejected:
  qbd-sync reads the JSON event format only, and the Kafka binding has no batch mode.
- A header that appears twice counts once, with its last value, as JSON duplicate keys do;
  a header with a null value counts as absent.
- Size: the value (plus the `ce_` header values in binary mode) must fit in `max_bytes`.
- JSON is parsed by orjson, which refuses `NaN`/`Infinity` literals and numbers that
  overflow a double, and limits nesting depth (1024), so deep input cannot exhaust the
  stack. With duplicate keys the last one wins.
- Reasons never echo the input values (they may hold personal data), only where and what.

An event that came in binary mode cannot be kept as its value alone: where the processor
keeps raw bytes to decode later without the headers, it stores
`schemas.structured_bytes(accepted.event)` when `accepted.binary` is true, which decodes
to the same event.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import orjson

from schemas import (
    CONTENT_TYPE_HEADER,
    KAFKA_ATTRIBUTE_PREFIX,
    EventData,
    InboundEvent,
    InvalidEvent,
    is_json_media_type,
    parse_event,
)

__all__ = ["DEFAULT_MAX_BYTES", "Accepted", "Headers", "Rejected", "decode"]

DEFAULT_MAX_BYTES: Final = 1_048_576
_MAX_PROBLEMS: Final = 5
_MAX_REASON_CHARS: Final = 1000
_CLOUDEVENTS_MEDIA_PREFIX: Final = "application/cloudevents"
_STRUCTURED_JSON: Final = "application/cloudevents+json"
_PREFIX_LENGTH: Final = len(KAFKA_ATTRIBUTE_PREFIX)

Headers = Iterable[tuple[str, bytes | None]] | Mapping[str, bytes | None]
"""Kafka record headers: aiokafka's `(name, value)` pairs, or a mapping of them."""


@dataclass(frozen=True, slots=True)
class Accepted:
    """A record that decoded to a valid inbound event."""

    event: InboundEvent[EventData]
    binary: bool = False
    """True when the event came in binary content mode (its value is only `data`)."""


@dataclass(frozen=True, slots=True)
class Rejected:
    """A record that can never be processed, with why."""

    reason: str
    """One line for people and the `qbd-rejected-reason` header."""
    kind: str
    """A short label for metrics: empty, oversize, not_json, not_cloudevent,
    invalid_envelope, unknown_type, invalid_data, key_mismatch, internal_error."""


class _Refused(Exception):
    def __init__(self, reason: str, kind: str) -> None:
        super().__init__(reason)
        self.rejected = Rejected(reason, kind)


def _summary(error: InvalidEvent) -> str:
    problems = list(error.problems[:_MAX_PROBLEMS])
    if len(error.problems) > _MAX_PROBLEMS:
        problems.append(f"(+{len(error.problems) - _MAX_PROBLEMS} more)")
    text = f"{error.summary}: {'; '.join(problems)}" if problems else error.summary
    if len(text) > _MAX_REASON_CHARS:
        text = text[: _MAX_REASON_CHARS - 3] + "..."
    return text


def _text(name: str, value: bytes) -> str:
    try:
        return value.decode()
    except UnicodeDecodeError:
        raise _Refused(
            f"invalid CloudEvent envelope: {name[:64]!r} header is not UTF-8", "invalid_envelope"
        ) from None


def _binary_attributes(headers: Headers | None) -> tuple[dict[str, str], str | None, int] | None:
    """The `ce_` attributes, content type and header bytes of a binary-mode record.

    None when the record is in structured mode.
    """
    if not headers:
        return None
    raw: dict[str, bytes] = {}
    content_type: bytes | None = None
    for name, value in headers.items() if isinstance(headers, Mapping) else headers:
        lowered = name.lower()
        if lowered == CONTENT_TYPE_HEADER:
            content_type = value
        elif lowered.startswith(KAFKA_ATTRIBUTE_PREFIX):
            if value is None:
                raw.pop(lowered, None)
            else:
                raw[lowered] = value
    media = None if content_type is None else _text(CONTENT_TYPE_HEADER, content_type)
    if media is not None and media.lower().startswith(_CLOUDEVENTS_MEDIA_PREFIX):
        if media.split(";", 1)[0].strip().lower() != _STRUCTURED_JSON:
            raise _Refused(
                f"unsupported CloudEvents format {media[:64]!r}: send structured mode as "
                f"{_STRUCTURED_JSON}, or binary mode (the Kafka binding has no batch mode)",
                "not_cloudevent",
            )
        return None
    if not raw:
        return None
    attributes = {name[_PREFIX_LENGTH:]: _text(name, value) for name, value in raw.items()}
    return attributes, media, sum(len(value) for value in raw.values())


def _json(value: bytes) -> Any:
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise _Refused(f"not JSON: {exc}", "not_json") from None


def _binary_event(
    value: bytes | None, attributes: dict[str, str], content_type: str | None
) -> dict[str, Any]:
    """The event a binary-mode record stands for, shaped as a structured one."""
    event: dict[str, Any] = {**attributes}
    event.pop("data", None)  # `data` is never a header; the value is the data
    if content_type is not None:
        event["datacontenttype"] = content_type
    if value and (content_type is None or is_json_media_type(content_type)):
        event["data"] = _json(value)
    return event


def decode(
    value: bytes | None,
    key: bytes | None,
    *,
    headers: Headers | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Accepted | Rejected:
    """Decode and validate one record (value, key and headers); never raises."""
    try:
        binary = _binary_attributes(headers)
        if binary is None:
            if value is None:
                return Rejected("empty record: no value (tombstone)", "empty")
            if len(value) > max_bytes:
                return Rejected(f"oversize: {len(value)} bytes > max {max_bytes} bytes", "oversize")
            obj = _json(value)
        else:
            attributes, content_type, header_bytes = binary
            size = len(value or b"") + header_bytes
            if size > max_bytes:
                return Rejected(f"oversize: {size} bytes > max {max_bytes} bytes", "oversize")
            obj = _binary_event(value, attributes, content_type)
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
        return Accepted(event, binary=binary is not None)
    except _Refused as refused:
        return refused.rejected
    except Exception as exc:  # noqa: BLE001 (a bug must reject one record, not stall the stream)
        return Rejected(f"internal error while decoding: {type(exc).__name__}", "internal_error")
