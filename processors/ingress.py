"""Webhook ingress: ``POST /v1/events`` for upstream services that cannot produce to Kafka.

The body is one CloudEvent in either content mode of the CloudEvents HTTP binding, or a
batch:

- structured: the body is one CloudEvent JSON object, or a JSON array of them (the batch
  format); the Content-Type is not checked;
- binary: the attributes are ``ce-<name>`` headers (values percent-decoded, as the binding
  says), ``Content-Type`` is the data's media type (JSON; absent means JSON) and the body
  is ``data`` (empty for an event without data). A request is binary when it carries a
  ``ce-`` header and its Content-Type is not ``application/cloudevents...``.

Every request must carry two headers:

    X-QBD-Sync-Timestamp: <unix seconds, digits only>
    X-QBD-Sync-Signature: sha256=<hex HMAC-SHA256 of f"{timestamp}.".encode() + attributes + body>

keyed with ``QBD_SYNC_WEBHOOK_SECRET`` (the Stripe scheme). ``attributes`` is empty for a
structured request (so the structured scheme is exactly Stripe's). For a binary request it
is every ``ce-*`` header and the ``Content-Type``, as sent, one ``name:value\n`` line each
(names lower-case, lines sorted): a binary event's id, type and ``companyid`` travel in those
headers, so they are signed too and a captured request cannot be re-aimed at another
company by changing a header. The timestamp is mandatory: it is
what makes a captured request useless after ``tolerance_s`` (300 s) either way of the server
clock. Within that window a replay is harmless, because the event ``id`` is the idempotency
key downstream. ``signature_headers()`` builds both headers for a sender written in Python.

Answers, in the order they are checked (every body is JSON with a one-line ``error``):

- 413 the body is larger than ``max_body_bytes`` (Content-Length is checked before reading,
  then the bytes actually read; nothing is read unbounded), or the batch has more than
  ``max_events`` events;
- 401 a missing or malformed timestamp or signature header, a signature that does not match,
  or (checked after the signature, so only signed senders learn the server time) a
  timestamp outside the tolerance;
- 400 the body is not JSON, is an empty array, or any event is invalid by the same rules as
  records read from Kafka (``processors.intake.decode``). The whole batch is then refused and
  ``errors`` lists each invalid event as ``{index, id, kind, reason}``: a partial accept would
  leave the sender to work out which events to resend;
- 503 ``produce`` failed or timed out (broker down). Some events may have reached the broker;
  resending (re-signed) is safe because event ids are idempotency keys;
- 202 ``{"accepted": n, "ids": [...]}``, only after ``produce`` returned, that is after the
  broker acknowledged every record.

Each event becomes one record: key = its ``companyid``, value = the event as a structured
CloudEvent in compact JSON, in body order. A binary-mode request is converted to structured
mode too, rather than produced as a Kafka binary-mode record with ``ce_`` headers: every
record on the inbound topic then has one shape that any consumer (and ``kcat``) reads
whole, ``produce`` stays a list of ``(key, value)``, and HTTP's percent-encoded header
values never have to be re-encoded for Kafka. The topic, and record headers, are the
``produce`` callable's business. The secret and signatures are never logged.

"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import unquote_to_bytes

import orjson
from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from processors.intake import DEFAULT_MAX_BYTES, Accepted, Rejected, decode
from processors.logs import get_logger
from processors.responses import json_response
from schemas import (
    CLOUDEVENTS_CONTENT_TYPE,
    CONTENT_TYPE_HEADER,
    HTTP_ATTRIBUTE_PREFIX,
    KAFKA_ATTRIBUTE_PREFIX,
    structured_bytes,
)

if TYPE_CHECKING:
    from processors.metrics import Metrics

__all__ = [
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "Ingress",
    "Produce",
    "sign",
    "signature_headers",
    "signed_attributes",
]

SIGNATURE_HEADER: Final = "X-QBD-Sync-Signature"
TIMESTAMP_HEADER: Final = "X-QBD-Sync-Timestamp"
_SCHEME: Final = "sha256="
_MAX_LISTED_ERRORS: Final = 100
_CLOUDEVENTS_MEDIA_PREFIX: Final = CLOUDEVENTS_CONTENT_TYPE.split("+", 1)[0]
_HOW_TO_SIGN: Final = (
    f"send {TIMESTAMP_HEADER}: <unix seconds> and {SIGNATURE_HEADER}: sha256=<hex HMAC-SHA256 "
    "of '<timestamp>.', then (binary mode only) each ce-* and Content-Type header as a sorted "
    "'name:value\\n' line, then the raw body, keyed with QBD_SYNC_WEBHOOK_SECRET>"
)

Produce = Callable[[list[tuple[bytes, bytes]]], Awaitable[None]]
"""Writes ``(key, value)`` records to the inbound topic; returns once the broker acked all."""

_log = get_logger("ingress")


def signed_attributes(headers: Mapping[str, str]) -> bytes:
    """The part of a binary request's headers the signature covers (empty when structured)."""
    lines = {name.lower(): value for name, value in headers.items()}
    if not any(name.startswith(HTTP_ATTRIBUTE_PREFIX) for name in lines):
        return b""
    covered = sorted(
        f"{name}:{value.strip()}\n"
        for name, value in lines.items()
        if name.startswith(HTTP_ATTRIBUTE_PREFIX) or name == CONTENT_TYPE_HEADER
    )
    return "".join(covered).encode("utf-8", "replace")


def sign(
    secret: str, body: bytes, timestamp: int | str, *, headers: Mapping[str, str] | None = None
) -> str:
    """The ``X-QBD-Sync-Signature`` of ``body`` (and its ``ce-*`` headers) at ``timestamp``."""
    message = f"{timestamp}.".encode() + signed_attributes(headers or {}) + body
    return _SCHEME + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_headers(
    secret: str,
    body: bytes,
    *,
    timestamp: int | None = None,
    headers: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Both headers a sender needs, signed now unless ``timestamp`` is given.

    For a binary-mode request pass the ``ce-*`` and ``Content-Type`` headers it will carry.
    """
    stamp = int(time.time()) if timestamp is None else timestamp
    return {
        TIMESTAMP_HEADER: str(stamp),
        SIGNATURE_HEADER: sign(secret, body, stamp, headers=headers),
    }


class _Refused(Exception):
    """Ends a request early with an error answer."""

    def __init__(
        self, status: int, outcome: str, error: str, errors: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(error)
        self.status = status
        self.outcome = outcome
        self.body: dict[str, Any] = {"error": error}
        if errors is not None:
            self.body["errors"] = errors


def _error(index: int, claimed: Any, result: Rejected) -> dict[str, Any]:
    if isinstance(claimed, bytes):
        claimed = claimed.decode(errors="replace")
    return {
        "index": index,
        "id": claimed if isinstance(claimed, str) else None,
        "kind": result.kind,
        "reason": result.reason,
    }


def _kafka_name(http_name: str) -> str:
    return KAFKA_ATTRIBUTE_PREFIX + http_name[len(HTTP_ATTRIBUTE_PREFIX) :]


def _binary_headers(headers: Headers) -> list[tuple[str, bytes]] | None:
    """A binary-mode request's attributes as Kafka binary-mode headers, or None.

    HTTP header values are percent-decoded (the HTTP binding encodes them; Kafka's does
    not), so intake validates them exactly as it validates a Kafka record.
    """
    content_type = headers.get(CONTENT_TYPE_HEADER)
    if content_type is not None and content_type.lower().startswith(_CLOUDEVENTS_MEDIA_PREFIX):
        return None
    attributes = [
        (_kafka_name(name), unquote_to_bytes(value.encode("latin-1")))
        for name, value in headers.items()
        if name.startswith(HTTP_ATTRIBUTE_PREFIX)
    ]
    if not attributes:
        return None
    if content_type is not None:
        attributes.append((CONTENT_TYPE_HEADER, content_type.encode("latin-1")))
    return attributes


class Ingress:
    """Verifies, validates and forwards signed CloudEvents posted over HTTP."""

    def __init__(
        self,
        secret: str,
        produce: Produce,
        *,
        max_body_bytes: int = 5 * 1_048_576,
        max_event_bytes: int = DEFAULT_MAX_BYTES,
        max_events: int = 1000,
        tolerance_s: float = 300.0,
        produce_timeout_s: float = 30.0,
        metrics: Metrics | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not secret:
            raise ValueError("the webhook secret must not be empty")
        self._secret = secret
        self._produce = produce
        self.max_body_bytes = max_body_bytes
        self.max_event_bytes = max_event_bytes
        self.max_events = max_events
        self.tolerance_s = tolerance_s
        self.produce_timeout_s = produce_timeout_s
        self._metrics = metrics
        self._clock = clock

    def __repr__(self) -> str:
        return f"Ingress(max_body_bytes={self.max_body_bytes}, tolerance_s={self.tolerance_s})"

    async def endpoint(self, request: Request) -> Response:
        """The Starlette endpoint of ``POST /v1/events``."""
        try:
            body = await self._read_body(request)
            self._verify(request, body)
            records, ids = self._records(request.headers, body)
            await self._forward(records)
        except _Refused as refused:
            self._count(refused.outcome)
            _log.info(
                "ingress_refused",
                status=refused.status,
                outcome=refused.outcome,
                error=refused.body["error"],
                client=request.client.host if request.client else None,
            )
            headers = {"Retry-After": "5"} if refused.status == 503 else None
            return json_response(refused.status, refused.body, headers)
        self._count("accepted", len(ids))
        _log.info("ingress_accepted", events=len(ids))
        return json_response(202, {"accepted": len(ids), "ids": ids})

    async def _read_body(self, request: Request) -> bytes:
        limit = self.max_body_bytes
        too_large = f"body is larger than the limit of {limit} bytes; send smaller batches"
        declared = request.headers.get("content-length")
        if declared is not None:
            if not declared.isdigit():
                raise _Refused(400, "invalid", "Content-Length is not a number")
            if int(declared) > limit:
                raise _Refused(413, "too_large", too_large)
        body = bytearray()
        try:
            async for chunk in request.stream():
                body += chunk
                if len(body) > limit:
                    raise _Refused(413, "too_large", too_large)
        except ClientDisconnect:
            raise _Refused(400, "invalid", "client disconnected before the body ended") from None
        return bytes(body)

    def _verify(self, request: Request, body: bytes) -> None:
        stamp = request.headers.get(TIMESTAMP_HEADER)
        given = request.headers.get(SIGNATURE_HEADER)
        if stamp is None:
            raise _Refused(
                401, "bad_signature", f"missing {TIMESTAMP_HEADER} header: {_HOW_TO_SIGN}"
            )
        stamp = stamp.strip()
        if not stamp.isascii() or not stamp.isdigit() or len(stamp) > 12:
            raise _Refused(
                401, "bad_signature", f"{TIMESTAMP_HEADER} must be unix seconds (digits only)"
            )
        if given is None:
            raise _Refused(
                401, "bad_signature", f"missing {SIGNATURE_HEADER} header: {_HOW_TO_SIGN}"
            )
        given = given.strip()
        if not given.startswith(_SCHEME):
            raise _Refused(
                401, "bad_signature", f"{SIGNATURE_HEADER} must look like sha256=<hex digest>"
            )
        expected = sign(self._secret, body, stamp, headers=request.headers).encode()
        if not hmac.compare_digest(expected, given.lower().encode("utf-8", "replace")):
            raise _Refused(
                401,
                "bad_signature",
                f"{SIGNATURE_HEADER} does not match the body (and ce- headers); {_HOW_TO_SIGN}",
            )
        skew = self._clock() - int(stamp)
        if abs(skew) > self.tolerance_s:
            when = f"{int(skew)} s old" if skew > 0 else f"{int(-skew)} s in the future"
            raise _Refused(
                401,
                "stale",
                f"{TIMESTAMP_HEADER} is {when}; requests more than {self.tolerance_s:g} s from "
                "the server clock are refused as possible replays (sign each request when "
                "sending it and check the sender's clock)",
            )

    def _records(
        self, headers: Headers, body: bytes
    ) -> tuple[list[tuple[bytes, bytes]], list[str]]:
        binary = _binary_headers(headers)
        if binary is not None:
            return self._binary_record(binary, body)
        try:
            parsed = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise _Refused(400, "invalid", f"body is not JSON: {exc}") from None
        events = parsed if isinstance(parsed, list) else [parsed]
        if not events:
            raise _Refused(400, "invalid", "empty batch: send one CloudEvent or a non-empty array")
        if len(events) > self.max_events:
            raise _Refused(
                413,
                "too_large",
                f"batch of {len(events)} events is over the limit of {self.max_events}; split it",
            )
        records: list[tuple[bytes, bytes]] = []
        ids: list[str] = []
        errors: list[dict[str, Any]] = []
        for index, obj in enumerate(events):
            value = orjson.dumps(obj)
            result = decode(value, None, max_bytes=self.max_event_bytes)
            if isinstance(result, Accepted):
                records.append((result.event.companyid.encode(), value))
                ids.append(result.event.id)
                continue
            claimed = obj.get("id") if isinstance(obj, dict) else None
            errors.append(_error(index, claimed, result))
        if errors:
            raise _Refused(
                400,
                "invalid",
                f"{len(errors)} of {len(events)} events are invalid; none was accepted",
                errors[:_MAX_LISTED_ERRORS],
            )
        return records, ids

    def _binary_record(
        self, headers: list[tuple[str, bytes]], body: bytes
    ) -> tuple[list[tuple[bytes, bytes]], list[str]]:
        result = decode(body, None, headers=headers, max_bytes=self.max_event_bytes)
        if isinstance(result, Accepted):
            event = result.event
            return [(event.companyid.encode(), structured_bytes(event))], [event.id]
        claimed = dict(headers).get(_kafka_name(f"{HTTP_ATTRIBUTE_PREFIX}id"))
        error = _error(0, claimed, result)
        raise _Refused(400, "invalid", "1 of 1 events is invalid; none was accepted", [error])

    async def _forward(self, records: list[tuple[bytes, bytes]]) -> None:
        try:
            async with asyncio.timeout(self.produce_timeout_s):
                await self._produce(records)
        except Exception as exc:  # noqa: BLE001 (any broker failure is a 503 the sender can retry)
            _log.warning("ingress_produce_failed", error=type(exc).__name__, events=len(records))
            raise _Refused(
                503,
                "unavailable",
                f"the broker did not acknowledge the events ({type(exc).__name__}); retry later "
                "with a fresh signature (event ids make a resend safe)",
            ) from None

    def _count(self, outcome: str, events: int = 0) -> None:
        if self._metrics is not None:
            self._metrics.ingress_request(outcome, events)
