"""One classification of every failure, and one policy that decides what happens next.

``normalize`` turns any exception from a Conductor call into a ``NormalizedError`` (the SDK's
status errors, its timeout and connection errors, raw httpx transport errors, anything else).
``classify`` maps it to an ``OutcomeClass`` of DESIGN.md section 5 and says whether a write
may have been applied. ``OutcomePolicy.decide`` turns that into a ``Decision``. All pure.

Failures that are not Conductor answers get type ``INTERNAL_ERROR`` and one of these codes:
``CONNECT_ERROR``, ``POOL_TIMEOUT`` (the request was never sent), ``CONNECT_TIMEOUT``,
``REQUEST_TIMEOUT``, ``CONNECTION_LOST`` (it may have been), ``UNEXPECTED`` (anything else).
"""

from __future__ import annotations

import email.utils
import math
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Literal

import asyncpg
import conductor
import httpx

from processors.backoff import Backoff
from processors.errors import DependencyUnavailable, LaneSignal
from processors.health import Component

__all__ = [
    "Action",
    "Classification",
    "Decision",
    "NormalizedError",
    "Outcome",
    "OutcomeClass",
    "OutcomePolicy",
    "Phase",
    "classify",
    "is_outage",
    "normalize",
    "outage",
]

Phase = Literal["read", "write"]

_INTEGRATION_ERROR = "INTEGRATION_ERROR"
_CONNECTION_ERROR = "INTEGRATION_CONNECTION_ERROR"
_INVALID_REQUEST = "INVALID_REQUEST_ERROR"
_AUTHENTICATION = "AUTHENTICATION_ERROR"
_PERMISSION = "PERMISSION_ERROR"
_INTERNAL = "INTERNAL_ERROR"
_NOT_SET_UP = "INTEGRATION_CONNECTION_NOT_SET_UP"
_NOT_ACTIVE = "INTEGRATION_CONNECTION_NOT_ACTIVE"
_STALE_REVISION = "3200"  # QuickBooks: "the provided edit sequence is out-of-date"

_CONNECT_ERROR = "CONNECT_ERROR"
_CONNECT_TIMEOUT = "CONNECT_TIMEOUT"
_POOL_TIMEOUT = "POOL_TIMEOUT"
_REQUEST_TIMEOUT = "REQUEST_TIMEOUT"
_CONNECTION_LOST = "CONNECTION_LOST"
_UNEXPECTED = "UNEXPECTED"
# A connect timeout is not proof that nothing was sent: the SDK's aiohttp transport (the one
# qbd-sync uses, see gateway.py) reports a server disconnecting mid-request as
# httpx.ConnectTimeout. A lookup before the next write costs one list call; a wrong "never
# sent" would cost a duplicate in QuickBooks.
_NEVER_SENT = frozenset({_CONNECT_ERROR, _POOL_TIMEOUT})
# Transport errors raised before any byte of the request left this process.
_REFUSED_BEFORE_SENDING = (
    httpx.ConnectError,
    httpx.ProxyError,
    httpx.UnsupportedProtocol,
    httpx.LocalProtocolError,
)

_UNREACHABLE_MESSAGE = "We could not reach QuickBooks Desktop. We will try again shortly."
_INTERNAL_MESSAGE = "An internal server error occurred. Please try again later."
_MAX_MESSAGE = 2000  # a proxy's HTML error page must not end up whole in every result event


class OutcomeClass(StrEnum):
    """What kind of failure this is (DESIGN.md section 5)."""

    CONNECTION = "connection"  # the company's QuickBooks is unreachable: park
    SETUP = "setup"  # the company never finished the auth flow: park, send the link
    DATA = "data"  # QuickBooks or Conductor rejected the data: final failure
    STALE_REVISION = "stale_revision"  # an update lost a race: refetch and retry once
    CONFIGURATION = "configuration"  # our own API key is wrong: stop consuming
    FORBIDDEN = "forbidden"  # a 403 on one company's call: park that company (configuration)
    TRANSIENT = "transient"  # try again later


class Action(StrEnum):
    """What the engine does with the event next."""

    RETRY = "retry"
    REFETCH_AND_RETRY = "refetch_and_retry"
    PARK = "park"
    FAIL = "fail"
    HALT = "halt"


@dataclass(frozen=True, slots=True)
class NormalizedError:
    """Any failure in the shape of a Conductor error, as it goes into results and logs."""

    type: str
    code: str
    message: str
    user_facing_message: str
    http_status: int | None = None
    integration_code: str | None = None
    request_id: str | None = None
    retry_after: float | None = None

    def as_dict(self) -> dict[str, object]:
        """The fields as a JSON-ready dict (snake_case keys)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, stored: Mapping[str, object]) -> NormalizedError:
        """A NormalizedError back from ``as_dict()`` JSON (the ledger, a company row)."""
        status = stored.get("http_status")
        retry_after = stored.get("retry_after")
        return cls(
            type=str(stored.get("type") or ""),
            code=str(stored.get("code") or ""),
            message=str(stored.get("message") or ""),
            user_facing_message=str(stored.get("user_facing_message") or ""),
            http_status=status if isinstance(status, int) else None,
            integration_code=_text(stored.get("integration_code")),
            request_id=_text(stored.get("request_id")),
            retry_after=float(retry_after) if isinstance(retry_after, int | float) else None,
        )


@dataclass(frozen=True, slots=True)
class Classification:
    """The class of a failure, and whether a write may have been applied anyway."""

    kind: OutcomeClass
    ambiguous: bool


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do next: the action, how long to wait, and whether to look up before writing."""

    action: Action
    kind: OutcomeClass
    delay: float = 0.0
    reconcile: bool = False  # the write may have landed: the ledger looks it up first
    attention: str | None = None  # the needs-attention category, when the user must know


def normalize(exc: BaseException, *, now: float | None = None) -> NormalizedError:
    """Normalize any exception raised around a Conductor call; never raises."""
    if isinstance(exc, conductor.APIStatusError):
        return _from_status(exc, now)
    if isinstance(exc, conductor.APIConnectionError):
        cause = exc.__cause__
        if isinstance(cause, httpx.TransportError | TimeoutError):
            return _from_transport(cause)
        return _from_transport(exc)
    if isinstance(exc, httpx.TransportError | TimeoutError):
        return _from_transport(exc)
    return NormalizedError(
        type=_INTERNAL,
        code=_UNEXPECTED,
        message=_describe(exc),
        user_facing_message=_INTERNAL_MESSAGE,
    )


# What each outage is waiting on; the engine waits these out (never fails the event) and
# reports the dependency to readiness meanwhile.
_DATABASE_AWAY: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,  # 08xxx: the connection broke or could not be made
    asyncpg.InterfaceError,  # the client side of a broken connection
    asyncpg.exceptions.OperatorInterventionError,  # 57xxx: shutting down, restarting
    asyncpg.exceptions.SerializationError,  # 40001: retry the transaction
    asyncpg.exceptions.DeadlockDetectedError,  # 40P01: retry the transaction
    asyncpg.exceptions.InsufficientResourcesError,  # 53xxx: too many connections, disk full
    # Bare socket errors and timeouts while work runs come from asyncpg connecting: Kafka
    # errors are wrapped as DependencyUnavailable and Conductor's are the SDK's own types.
    OSError,
    TimeoutError,
)
_CONDUCTOR_AWAY: tuple[type[BaseException], ...] = (
    conductor.APIConnectionError,  # transport errors and timeouts, as the SDK raises them
    httpx.TransportError,
)


def outage(exc: BaseException) -> Component | None:
    """The dependency ``exc`` says is away for a while (wait it out), or None.

    Only these are outages: PostgreSQL unable to serve (connection, restart, serialization
    failure, deadlock, too many connections), the broker away (``DependencyUnavailable``,
    raised at the Kafka edge), and Conductor answers that say "not now": transport errors,
    5xx, 408, 429 and connection-type errors (the classes the policy retries or parks).
    Every other Conductor answer (a 4xx, QuickBooks rejecting the data) is final;
    anything else raised again and again by one event is a bug: after a few tries the event
    ends ``failed`` so its lane and partition move on.
    """
    if isinstance(exc, DependencyUnavailable):
        return "broker"
    if isinstance(exc, _CONDUCTOR_AWAY):
        return "conductor"
    if isinstance(exc, conductor.APIStatusError):
        return "conductor" if _not_now(normalize(exc)) else None
    if isinstance(exc, _DATABASE_AWAY):
        return "database"
    return None


def is_outage(exc: BaseException) -> bool:
    """Whether an unexpected exception is a dependency away for a while (wait it out)."""
    return outage(exc) is not None


def _not_now(err: NormalizedError) -> bool:
    """Whether a Conductor answer means "try later" (or "unreachable now") rather than "no"."""
    return _kind(err) in (OutcomeClass.TRANSIENT, OutcomeClass.CONNECTION, OutcomeClass.SETUP)


def classify(err: NormalizedError, *, phase: Phase) -> Classification:
    """Classify a normalized error of a read or a write."""
    kind = _kind(err)
    return Classification(kind, ambiguous=phase == "write" and _may_have_applied(err, kind))


class Outcome(LaneSignal):
    """A call ended without the wanted answer: what the policy decided, why, after how many."""

    def __init__(self, decision: Decision, error: NormalizedError, attempts: int) -> None:
        super().__init__(error.code)
        self.decision = decision
        self.error = error
        self.attempts = attempts


@dataclass(frozen=True, slots=True)
class OutcomePolicy:
    """Decides retry, refetch, park, fail or halt; the only place that does."""

    backoff: Backoff = field(default_factory=Backoff)
    max_attempts: int = 5  # transient failures in a row before the company is parked
    max_refetches: int = 1  # stale-revision refetches before it is a data failure
    max_retry_after: float = 300.0  # a larger Retry-After is clamped to this
    draw: Callable[[], float] = field(default=random.random, compare=False, repr=False)

    def decide(
        self, err: NormalizedError, *, phase: Phase, attempt: int, refetches: int = 0
    ) -> Decision:
        """Decide after failed attempt ``attempt`` (1-based), ``refetches`` refetches so far."""
        if attempt < 1:
            raise ValueError(f"attempt is 1-based, not {attempt}")
        classification = classify(err, phase=phase)
        kind, ambiguous = classification.kind, classification.ambiguous
        if kind is OutcomeClass.TRANSIENT:
            if attempt >= self.max_attempts:
                return Decision(Action.PARK, kind, reconcile=ambiguous, attention="connection")
            delay = self.backoff.delay(attempt, self.draw())
            if err.retry_after is not None:
                delay = max(delay, min(err.retry_after, self.max_retry_after))
            return Decision(Action.RETRY, kind, delay=delay, reconcile=ambiguous)
        if kind is OutcomeClass.STALE_REVISION:
            if refetches < self.max_refetches:
                return Decision(Action.REFETCH_AND_RETRY, kind)
            return Decision(Action.FAIL, kind, attention="data")
        action = _FINAL_ACTIONS[kind]
        attention = "configuration" if kind is OutcomeClass.FORBIDDEN else kind.value
        return Decision(action, kind, reconcile=ambiguous, attention=attention)


_FINAL_ACTIONS = {
    OutcomeClass.CONNECTION: Action.PARK,
    OutcomeClass.SETUP: Action.PARK,
    OutcomeClass.DATA: Action.FAIL,
    OutcomeClass.CONFIGURATION: Action.HALT,
    OutcomeClass.FORBIDDEN: Action.PARK,
}


def _kind(err: NormalizedError) -> OutcomeClass:
    status = err.http_status
    if err.type == _AUTHENTICATION or status == 401:
        return OutcomeClass.CONFIGURATION
    # A 403 answers one company's call (that end-user's access is refused): the company's
    # problem, parked with a `configuration` attention. Whoever parks it first asks
    # `ConductorGateway.key_works`: only a refused key halts everything (issue 19).
    if err.type == _PERMISSION or status == 403:
        return OutcomeClass.FORBIDDEN
    if err.code == _NOT_SET_UP:
        return OutcomeClass.SETUP
    if err.type == _CONNECTION_ERROR or err.code == _NOT_ACTIVE:
        return OutcomeClass.CONNECTION
    if status in (408, 429) or "TIMEOUT" in err.code:
        return OutcomeClass.TRANSIENT
    if err.type == _INTEGRATION_ERROR and err.integration_code == _STALE_REVISION:
        return OutcomeClass.STALE_REVISION
    if err.type in (_INTEGRATION_ERROR, _INVALID_REQUEST):
        return OutcomeClass.DATA
    if status is not None and 400 <= status < 500:
        # Any other 4xx, whatever its type, is a final "no": retrying it would stall the
        # company's lane (issue 14). Only connection-type errors, 408 and 429 wait.
        return OutcomeClass.DATA
    return OutcomeClass.TRANSIENT


def _may_have_applied(err: NormalizedError, kind: OutcomeClass) -> bool:
    if err.code in _NEVER_SENT:
        return False
    if "TIMEOUT" in err.code or err.code in (_CONNECTION_LOST, _UNEXPECTED):
        return True
    # A typed rejection (data, connection, setup, auth) is a definite "not written"; an
    # untyped or internal 5xx may come after QuickBooks saved the object.
    return kind is OutcomeClass.TRANSIENT and err.http_status is not None and err.http_status >= 500


def _from_status(exc: conductor.APIStatusError, now: float | None) -> NormalizedError:
    status = exc.status_code
    headers = exc.response.headers
    fields = _error_fields(exc.body)
    type_ = _text(fields.get("type")) or _type_for_status(status)
    return NormalizedError(
        type=type_,
        code=_text(fields.get("code")) or f"HTTP_{status}",
        message=_clip(_text(fields.get("message")) or exc.message),
        user_facing_message=_clip(
            _text(fields.get("userFacingMessage")) or _default_user_message(type_)
        ),
        http_status=status,
        integration_code=_integration_code(fields.get("integrationCode")),
        request_id=(
            _text(fields.get("requestId"))
            or _text(headers.get("request-id"))
            or _text(headers.get("conductor-request-id"))
        ),
        retry_after=_retry_after(headers, now),
    )


def _from_transport(exc: BaseException) -> NormalizedError:
    if isinstance(exc, httpx.ConnectTimeout):
        code = _CONNECT_TIMEOUT
    elif isinstance(exc, httpx.PoolTimeout):
        code = _POOL_TIMEOUT
    elif isinstance(exc, httpx.TimeoutException | TimeoutError | conductor.APITimeoutError):
        code = _REQUEST_TIMEOUT
    elif isinstance(exc, _REFUSED_BEFORE_SENDING):
        code = _CONNECT_ERROR
    else:
        code = _CONNECTION_LOST
    return NormalizedError(
        type=_INTERNAL,
        code=code,
        message=_describe(exc),
        user_facing_message=_UNREACHABLE_MESSAGE,
    )


def _error_fields(body: object) -> Mapping[object, object]:
    """The ``error`` object of a Conductor error body, or {} for anything else."""
    if isinstance(body, Mapping):
        inner = body.get("error")
        if isinstance(inner, Mapping):
            return inner
        if "type" in body:  # an unwrapped error object
            return body
    return {}


def _type_for_status(status: int) -> str:
    if status == 401:
        return _AUTHENTICATION
    if status == 403:
        return _PERMISSION
    if status >= 500 or status in (408, 429):
        return _INTERNAL
    return _INVALID_REQUEST


def _default_user_message(type_: str) -> str:
    if type_ == _CONNECTION_ERROR:
        return _UNREACHABLE_MESSAGE
    if type_ == _INTERNAL:
        return _INTERNAL_MESSAGE
    return "QuickBooks Desktop could not process this record."


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _integration_code(value: object) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return _text(value)


def _describe(exc: BaseException) -> str:
    try:
        text = str(exc)
    except Exception:  # noqa: BLE001 - a broken __str__ must not hide the error itself
        text = "<unprintable>"
    return _clip(f"{type(exc).__name__}: {text}" if text else type(exc).__name__)


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


def _retry_after(headers: httpx.Headers, now: float | None) -> float | None:
    """Seconds from ``retry-after-ms`` or ``retry-after`` (seconds or HTTP date), if sane."""
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        try:
            seconds = float(headers.get(name, "")) / scale
        except ValueError:
            continue
        if math.isfinite(seconds):
            return max(seconds, 0.0)
    try:
        parsed = email.utils.parsedate_tz(headers.get("retry-after", ""))
        if parsed is None:
            return None
        at = email.utils.mktime_tz(parsed)
    except (IndexError, OverflowError, TypeError, ValueError):  # odd dates from odd proxies
        return None
    return max(at - (time.time() if now is None else now), 0.0)
