"""normalize, classify and OutcomePolicy against real conductor-py exceptions."""

from __future__ import annotations

import email.utils
import math
from typing import Any

import asyncpg
import conductor
import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from processors.backoff import Backoff
from processors.errors import DependencyUnavailable
from processors.outcome import (
    Action,
    NormalizedError,
    OutcomeClass,
    OutcomePolicy,
    classify,
    is_outage,
    normalize,
    outage,
)
from qbdsim import ERROR_CATALOG

URL = "http://sim.test/v1"
REQUEST = httpx.Request("POST", f"{URL}/quickbooks-desktop/invoices")


def conductor_error(
    type_: str, code: str, status: int, integration_code: str | None = None
) -> dict[str, Any]:
    """A Conductor error body as the API sends it."""
    error: dict[str, Any] = {
        "type": type_,
        "code": code,
        "message": f"{code} for developers",
        "userFacingMessage": f"{code} for users",
        "httpStatusCode": status,
        "requestId": "req_1234567890",
    }
    if integration_code is not None:
        error["integrationCode"] = integration_code
    return {"error": error}


def raised_by_sdk(respond: httpx.Response | BaseException) -> BaseException:
    """The exception a real Conductor client (no SDK retries) raises for this transport answer."""

    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(respond, BaseException):
            raise respond
        return respond

    client = conductor.Conductor(
        api_key="sk_test_unit",
        base_url=URL,
        max_retries=0,
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
    )
    with pytest.raises(conductor.ConductorError) as caught:
        client.qbd.invoices.list(conductor_end_user_id="end_usr_1234567abcdefg")
    return caught.value


def status_error(
    status: int, body: Any = None, headers: dict[str, str] | None = None
) -> BaseException:
    """The SDK's status error for an HTTP answer with this JSON body (or none)."""
    if body is None:
        response = httpx.Response(status, headers=headers)
    else:
        response = httpx.Response(status, json=body, headers=headers)
    return raised_by_sdk(response)


class BrokenStr(Exception):
    """An exception whose message cannot even be rendered."""

    def __str__(self) -> str:
        raise RuntimeError("no")


# (case, exception, phase, class, ambiguous, action)
CASES: list[tuple[str, BaseException, str, OutcomeClass, bool, Action]] = [
    (
        "qbd connection error",
        status_error(
            502, conductor_error("INTEGRATION_CONNECTION_ERROR", "QBD_CONNECTION_ERROR", 502)
        ),
        "write",
        OutcomeClass.CONNECTION,
        False,
        Action.PARK,
    ),
    (
        "connection not active",
        status_error(
            409, conductor_error("INVALID_REQUEST_ERROR", "INTEGRATION_CONNECTION_NOT_ACTIVE", 409)
        ),
        "write",
        OutcomeClass.CONNECTION,
        False,
        Action.PARK,
    ),
    (
        "connection not set up",
        status_error(
            409, conductor_error("INVALID_REQUEST_ERROR", "INTEGRATION_CONNECTION_NOT_SET_UP", 409)
        ),
        "write",
        OutcomeClass.SETUP,
        False,
        Action.PARK,
    ),
    (
        "not set up typed as a connection error",
        status_error(
            409,
            conductor_error(
                "INTEGRATION_CONNECTION_ERROR", "INTEGRATION_CONNECTION_NOT_SET_UP", 409
            ),
        ),
        "read",
        OutcomeClass.SETUP,
        False,
        Action.PARK,
    ),
    (
        "duplicate name",
        status_error(502, conductor_error("INTEGRATION_ERROR", "QBD_REQUEST_ERROR", 502, "3100")),
        "write",
        OutcomeClass.DATA,
        False,
        Action.FAIL,
    ),
    (
        "stale revision",
        status_error(502, conductor_error("INTEGRATION_ERROR", "QBD_REQUEST_ERROR", 502, "3200")),
        "write",
        OutcomeClass.STALE_REVISION,
        False,
        Action.REFETCH_AND_RETRY,
    ),
    (
        "invalid request",
        status_error(400, conductor_error("INVALID_REQUEST_ERROR", "INVALID_PARAMETER", 400)),
        "write",
        OutcomeClass.DATA,
        False,
        Action.FAIL,
    ),
    (
        "resource missing",
        status_error(404, conductor_error("INVALID_REQUEST_ERROR", "RESOURCE_MISSING", 404)),
        "read",
        OutcomeClass.DATA,
        False,
        Action.FAIL,
    ),
    (
        "unknown type on a 4xx",
        status_error(418, conductor_error("TEAPOT_ERROR", "TEAPOT", 418)),
        "write",
        OutcomeClass.DATA,
        False,
        Action.FAIL,
    ),
    (
        "bad api key",
        status_error(401, conductor_error("AUTHENTICATION_ERROR", "API_KEY_INVALID", 401)),
        "read",
        OutcomeClass.CONFIGURATION,
        False,
        Action.HALT,
    ),
    (
        "one end-user's access refused",
        status_error(403, conductor_error("PERMISSION_ERROR", "END_USER_FORBIDDEN", 403)),
        "write",
        OutcomeClass.FORBIDDEN,
        False,
        Action.PARK,
    ),
    (
        "403 without a body",
        status_error(403),
        "read",
        OutcomeClass.FORBIDDEN,
        False,
        Action.PARK,
    ),
    (
        "401 without a body",
        status_error(401),
        "write",
        OutcomeClass.CONFIGURATION,
        False,
        Action.HALT,
    ),
    (
        "internal error on a write",
        status_error(500, conductor_error("INTERNAL_ERROR", "INTERNAL_ERROR", 500)),
        "write",
        OutcomeClass.TRANSIENT,
        True,
        Action.RETRY,
    ),
    (
        "internal error on a read",
        status_error(500, conductor_error("INTERNAL_ERROR", "INTERNAL_ERROR", 500)),
        "read",
        OutcomeClass.TRANSIENT,
        False,
        Action.RETRY,
    ),
    (
        "proxy html 503",
        raised_by_sdk(httpx.Response(503, text="<html>Service Unavailable</html>")),
        "write",
        OutcomeClass.TRANSIENT,
        True,
        Action.RETRY,
    ),
    (
        "unknown type on a 5xx",
        status_error(502, conductor_error("NEW_ERROR", "NEW", 502)),
        "write",
        OutcomeClass.TRANSIENT,
        True,
        Action.RETRY,
    ),
    (
        "qbd request timeout",
        status_error(504, conductor_error("INTEGRATION_ERROR", "QBD_REQUEST_TIMEOUT", 504)),
        "write",
        OutcomeClass.TRANSIENT,
        True,
        Action.RETRY,
    ),
    (
        "rate limited",
        status_error(429, headers={"retry-after": "2"}),
        "write",
        OutcomeClass.TRANSIENT,
        False,
        Action.RETRY,
    ),
    (
        "408 from the server",
        status_error(408),
        "write",
        OutcomeClass.TRANSIENT,
        False,
        Action.RETRY,
    ),
    (
        "sdk read timeout",
        raised_by_sdk(httpx.ReadTimeout("timed out", request=REQUEST)),
        "write",
        OutcomeClass.TRANSIENT,
        True,
        Action.RETRY,
    ),
    (
        # the aiohttp transport reports a server disconnecting mid-request this way
        "sdk connect timeout",
        raised_by_sdk(httpx.ConnectTimeout("timed out", request=REQUEST)),
        "write",
        OutcomeClass.TRANSIENT,
        True,
        Action.RETRY,
    ),
    (
        "sdk connection refused",
        raised_by_sdk(httpx.ConnectError("refused", request=REQUEST)),
        "write",
        OutcomeClass.TRANSIENT,
        False,
        Action.RETRY,
    ),
    (
        "sdk server disconnected",
        raised_by_sdk(httpx.RemoteProtocolError("Server disconnected", request=REQUEST)),
        "write",
        OutcomeClass.TRANSIENT,
        True,
        Action.RETRY,
    ),
    (
        "raw httpx read error",
        httpx.ReadError("reset by peer", request=REQUEST),
        "write",
        OutcomeClass.TRANSIENT,
        True,
        Action.RETRY,
    ),
    (
        "raw httpx pool timeout",
        httpx.PoolTimeout("no connection free", request=REQUEST),
        "write",
        OutcomeClass.TRANSIENT,
        False,
        Action.RETRY,
    ),
    (
        "asyncio timeout around the call",
        TimeoutError(),
        "write",
        OutcomeClass.TRANSIENT,
        True,
        Action.RETRY,
    ),
    (
        "2xx the SDK could not parse",
        conductor.APIResponseValidationError(httpx.Response(200, request=REQUEST), body="??"),
        "write",
        OutcomeClass.TRANSIENT,
        True,
        Action.RETRY,
    ),
    (
        "bug in our code",
        KeyError("customer"),
        "write",
        OutcomeClass.TRANSIENT,
        True,
        Action.RETRY,
    ),
]


@pytest.mark.parametrize(
    ("exc", "phase", "kind", "ambiguous", "action"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_every_failure_gets_its_class_and_action(
    exc: BaseException, phase: Any, kind: OutcomeClass, ambiguous: bool, action: Action
) -> None:
    """The DESIGN.md section 5 table, with the ambiguity rule of section 4."""
    err = normalize(exc)
    classification = classify(err, phase=phase)
    decision = OutcomePolicy(draw=lambda: 0.0).decide(err, phase=phase, attempt=1)

    assert (classification.kind, classification.ambiguous) == (kind, ambiguous)
    assert (decision.action, decision.kind, decision.reconcile) == (action, kind, ambiguous)


def test_conductor_error_body_is_copied_field_by_field() -> None:
    """Every field of the Conductor error envelope lands in the NormalizedError."""
    body = conductor_error(
        "INTEGRATION_CONNECTION_ERROR", "QBD_CONNECTION_ERROR", 502, "0x80040420"
    )
    err = normalize(status_error(502, body))

    assert err == NormalizedError(
        type="INTEGRATION_CONNECTION_ERROR",
        code="QBD_CONNECTION_ERROR",
        message="QBD_CONNECTION_ERROR for developers",
        user_facing_message="QBD_CONNECTION_ERROR for users",
        http_status=502,
        integration_code="0x80040420",
        request_id="req_1234567890",
    )


@pytest.mark.parametrize("header", ["request-id", "Conductor-Request-Id"])
def test_request_id_falls_back_to_response_headers(header: str) -> None:
    """Without requestId in the body the request-id headers are used."""
    err = normalize(status_error(500, {"error": {"type": "INTERNAL_ERROR"}}, {header: "req_h"}))

    assert err.request_id == "req_h"
    assert err.code == "HTTP_500"


def test_numeric_integration_code_becomes_a_string() -> None:
    """integrationCode is a string even when a server sends a number."""
    body = conductor_error("INTEGRATION_ERROR", "QBD_REQUEST_ERROR", 502)
    body["error"]["integrationCode"] = 3200
    err = normalize(status_error(502, body))

    assert err.integration_code == "3200"
    assert classify(err, phase="write").kind is OutcomeClass.STALE_REVISION


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5),
        ({"retry-after": "7"}, 7.0),
        ({"retry-after": "2.5"}, 2.5),
        ({"retry-after": email.utils.formatdate(1_000_030, usegmt=True)}, 30.0),
        ({"retry-after": email.utils.formatdate(999_000, usegmt=True)}, 0.0),
        ({"retry-after": "soon"}, None),
        ({"retry-after": "nan"}, None),
        ({}, None),
    ],
)
def test_retry_after_is_read_from_headers(headers: dict[str, str], seconds: float | None) -> None:
    """retry-after-ms wins over retry-after, which may be seconds or an HTTP date."""
    err = normalize(status_error(429, None, headers), now=1_000_000.0)

    assert err.retry_after == seconds


def test_huge_messages_are_clipped() -> None:
    """A 1 MB error page does not travel whole into results and logs."""
    err = normalize(raised_by_sdk(httpx.Response(502, text="x" * 1_000_000)))

    assert len(err.message) <= 2000


def test_an_unprintable_exception_still_normalizes() -> None:
    """normalize survives an exception whose __str__ raises."""
    err = normalize(BrokenStr())

    assert (err.type, err.code) == ("INTERNAL_ERROR", "UNEXPECTED")
    assert "BrokenStr" in err.message


def test_backoff_doubles_from_half_a_second_up_to_the_cap() -> None:
    """Without jitter the delays are 0.5, 1, 2, 4 ... capped at 30 s."""
    backoff = Backoff(jitter=0.0)

    assert [backoff.delay(n, 0.0) for n in range(1, 9)] == [0.5, 1, 2, 4, 8, 16, 30, 30]
    assert backoff.delay(10**9, 0.0) == 30


@given(attempt=st.integers(1, 10_000), draw=st.floats(0, 1, exclude_max=True))
def test_jitter_only_shortens_the_delay_by_its_fraction(attempt: int, draw: float) -> None:
    """A jittered delay lies in [(1 - jitter) * base, base]."""
    backoff = Backoff()
    base = Backoff(jitter=0.0).delay(attempt, 0.0)
    delay = backoff.delay(attempt, draw)

    assert base * (1 - backoff.jitter) <= delay <= base


def test_retry_after_wins_when_longer_than_the_backoff() -> None:
    """A server's Retry-After is honoured when longer, clamped to max_retry_after."""
    policy = OutcomePolicy(draw=lambda: 0.0, max_retry_after=60.0)
    throttled = normalize(status_error(429, None, {"retry-after": "20"}))
    shortly = normalize(status_error(429, None, {"retry-after": "0.1"}))
    absurd = normalize(status_error(429, None, {"retry-after": "86400"}))

    assert policy.decide(throttled, phase="write", attempt=1).delay == 20.0
    assert policy.decide(shortly, phase="write", attempt=2).delay == 1.0
    assert policy.decide(absurd, phase="write", attempt=1).delay == 60.0


def test_transient_failures_park_after_the_budget() -> None:
    """The max_attempts-th transient failure parks the company, still flagged for lookup."""
    err = normalize(raised_by_sdk(httpx.ReadTimeout("timed out", request=REQUEST)))
    policy = OutcomePolicy(max_attempts=3, draw=lambda: 0.0)
    actions = [policy.decide(err, phase="write", attempt=n).action for n in (1, 2, 3)]
    last = policy.decide(err, phase="write", attempt=3)

    assert actions == [Action.RETRY, Action.RETRY, Action.PARK]
    assert (last.reconcile, last.attention) == (True, "connection")


def test_stale_revision_refetches_once_then_fails_as_data() -> None:
    """A second stale revision after a refetch is a data failure, not a loop."""
    body = conductor_error("INTEGRATION_ERROR", "QBD_REQUEST_ERROR", 502, "3200")
    err = normalize(status_error(502, body))
    decision = OutcomePolicy().decide(err, phase="write", attempt=2, refetches=1)

    assert (decision.action, decision.attention) == (Action.FAIL, "data")


@pytest.mark.parametrize(
    ("code", "attention"),
    [("QBD_CONNECTION_ERROR", "connection"), ("INTEGRATION_CONNECTION_NOT_SET_UP", "setup")],
)
def test_parking_names_the_attention_category(code: str, attention: str) -> None:
    """Parked decisions carry the category the needs-attention event uses."""
    err = normalize(status_error(502, conductor_error("INTEGRATION_CONNECTION_ERROR", code, 502)))

    assert OutcomePolicy().decide(err, phase="write", attempt=1).attention == attention


def test_a_403_parks_the_company_with_a_configuration_attention() -> None:
    """A refused end-user is that company's configuration problem, not a halt of everything."""
    body = conductor_error("PERMISSION_ERROR", "END_USER_FORBIDDEN", 403)
    err = normalize(status_error(403, body))

    decision = OutcomePolicy().decide(err, phase="write", attempt=1)

    assert (decision.action, decision.attention) == (Action.PARK, "configuration")


def test_attempt_numbers_are_one_based() -> None:
    """decide refuses attempt 0, a caller bug that would skip the budget."""
    err = normalize(TimeoutError())

    with pytest.raises(ValueError, match="1-based"):
        OutcomePolicy().decide(err, phase="read", attempt=0)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
ERROR_KEYS = st.sampled_from(
    ["type", "code", "message", "userFacingMessage", "integrationCode", "requestId"]
)
BODIES = (
    JSON
    | st.dictionaries(st.just("error"), JSON)
    | st.fixed_dictionaries({"error": st.dictionaries(ERROR_KEYS, JSON)})
    | st.binary(max_size=20)
)
SDK = conductor.Conductor(api_key="sk_test_unit", base_url=URL)  # its status-to-class mapping
HEADER_VALUES = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40)
HEADERS = st.dictionaries(
    st.sampled_from(["retry-after", "retry-after-ms", "request-id", "conductor-request-id"]),
    HEADER_VALUES,
)


@settings(max_examples=300, deadline=None)
@given(
    status=st.integers(400, 599),
    body=BODIES,
    headers=HEADERS,
    phase=st.sampled_from(["read", "write"]),
    attempt=st.integers(1, 50),
)
def test_normalize_never_raises_on_odd_answers(
    status: int, body: Any, headers: dict[str, str], phase: Any, attempt: int
) -> None:
    """Any status, body and headers normalize, classify and decide without raising."""
    response = httpx.Response(status, headers=headers, request=REQUEST)
    exc = SDK._make_status_error(f"Error code: {status} - {body!r}", body=body, response=response)
    err = normalize(exc)
    decision = OutcomePolicy().decide(err, phase=phase, attempt=attempt)

    assert all(isinstance(v, str) and v for v in (err.type, err.code, err.message))
    assert isinstance(err.user_facing_message, str)
    assert err.retry_after is None or (math.isfinite(err.retry_after) and err.retry_after >= 0)
    assert decision.delay >= 0
    assert phase == "write" or not decision.reconcile


def test_a_mid_request_disconnect_on_the_aiohttp_transport_is_an_unknown_outcome() -> None:
    """aiohttp's ServerDisconnectedError, as httpx-aiohttp maps it, may have been applied."""
    from aiohttp import ServerDisconnectedError
    from httpx_aiohttp.transport import map_aiohttp_exceptions

    with pytest.raises(httpx.HTTPError) as raised, map_aiohttp_exceptions():
        raise ServerDisconnectedError()

    classification = classify(normalize(raised_by_sdk(raised.value)), phase="write")
    assert classification.kind is OutcomeClass.TRANSIENT
    assert classification.ambiguous


# -- outages: what the engine waits out, and what must end the event (issue 14) ----------


@pytest.mark.parametrize(
    ("exc", "dependency"),
    [
        (
            status_error(
                400, conductor_error("INVALID_REQUEST_ERROR", "MISSING_REQUIRED_PARAMETER", 400)
            ),
            None,
        ),
        (
            status_error(404, conductor_error("INVALID_REQUEST_ERROR", "RESOURCE_MISSING", 404)),
            None,
        ),
        (status_error(422, conductor_error("INTERNAL_ERROR", "ODD", 422)), None),
        (
            status_error(
                502, conductor_error("INTEGRATION_ERROR", "QBD_REQUEST_ERROR", 502, "3100")
            ),
            None,
        ),
        (status_error(500, conductor_error("INTERNAL_ERROR", "INTERNAL_ERROR", 500)), "conductor"),
        (status_error(429, headers={"retry-after": "1"}), "conductor"),
        (
            status_error(
                502, conductor_error("INTEGRATION_CONNECTION_ERROR", "QBD_CONNECTION_ERROR", 502)
            ),
            "conductor",
        ),
        (
            status_error(
                409,
                conductor_error("INVALID_REQUEST_ERROR", "INTEGRATION_CONNECTION_NOT_SET_UP", 409),
            ),
            "conductor",
        ),
        (raised_by_sdk(httpx.ConnectError("refused", request=REQUEST)), "conductor"),
        (asyncpg.exceptions.SerializationError("could not serialize access"), "database"),
        (asyncpg.exceptions.DeadlockDetectedError("deadlock detected"), "database"),
        (asyncpg.exceptions.TooManyConnectionsError("sorry, too many clients"), "database"),
        (asyncpg.exceptions.AdminShutdownError("terminating connection"), "database"),
        (ConnectionRefusedError(111, "refused"), "database"),
        (DependencyUnavailable("the broker did not take a record"), "broker"),
        (KeyError("customer"), None),
        (
            conductor.APIResponseValidationError(httpx.Response(200, request=REQUEST), body="??"),
            None,
        ),
    ],
    ids=[
        "400 missing parameter",
        "404 resource missing",
        "4xx typed internal",
        "quickbooks rejected the data",
        "500",
        "429",
        "quickbooks unreachable",
        "connection not set up",
        "transport error",
        "serialization failure",
        "deadlock",
        "too many connections",
        "postgres shutting down",
        "connection refused",
        "broker away",
        "bug",
        "unparseable 2xx",
    ],
)
def test_only_dependencies_away_are_outages(exc: BaseException, dependency: str | None) -> None:
    """Outages name the dependency to wait for; Conductor's final answers and bugs are none."""
    assert outage(exc) == dependency
    assert is_outage(exc) is (dependency is not None)


def test_a_4xx_typed_as_internal_is_a_final_data_failure() -> None:
    """A 4xx ends the event whatever its type says: retrying it would stall the lane."""
    err = normalize(status_error(422, conductor_error("INTERNAL_ERROR", "ODD", 422)))

    assert OutcomePolicy().decide(err, phase="write", attempt=1).action is Action.FAIL


_END = {Action.FAIL, Action.PARK, Action.HALT}
"""End states (FAIL) and visible named waits (PARK: parked + attention; HALT: readiness)."""
_WAITS = {OutcomeClass.TRANSIENT, OutcomeClass.CONNECTION, OutcomeClass.SETUP}
_TYPES = [
    "INTEGRATION_ERROR",
    "INTEGRATION_CONNECTION_ERROR",
    "INVALID_REQUEST_ERROR",
    "AUTHENTICATION_ERROR",
    "PERMISSION_ERROR",
    "INTERNAL_ERROR",
    "API_ERROR",
]
_CODES = [
    "INTEGRATION_CONNECTION_NOT_SET_UP",
    "INTEGRATION_CONNECTION_NOT_ACTIVE",
    "QBD_REQUEST_TIMEOUT",
    "QBD_REQUEST_ERROR",
    "MISSING_REQUIRED_PARAMETER",
    "SOMETHING_NEW",
]
# Every error the simulator answers with by itself, and anything a test can inject.
ANSWERS = st.sampled_from(ERROR_CATALOG) | st.tuples(
    st.integers(400, 599),
    st.sampled_from(_TYPES) | st.text(min_size=1, max_size=12),
    st.sampled_from(_CODES) | st.text(min_size=1, max_size=12),
    st.none() | st.sampled_from(sorted({i for *_, i in ERROR_CATALOG if i})) | st.text(max_size=6),
)


def _attempts_to_an_end(policy: OutcomePolicy, err: NormalizedError, phase: Any) -> int:
    """Drive the policy as the reader and writer do until it ends or waits visibly."""
    attempt = refetches = 0
    while True:
        attempt += 1
        decision = policy.decide(err, phase=phase, attempt=attempt, refetches=refetches)
        if decision.action in _END:
            return attempt
        if decision.action is Action.REFETCH_AND_RETRY:
            refetches += 1
        assert attempt < 1000, f"{err.code} never ends"


@settings(max_examples=400, deadline=None)
@given(answer=ANSWERS, phase=st.sampled_from(["read", "write"]))
def test_every_simulated_answer_ends_or_waits_visibly_within_a_bound(
    answer: tuple[int, str, str, str | None], phase: Any
) -> None:
    """Each status/type/code the simulator can produce ends, parks or halts within the budget."""
    status, type_, code, integration_code = answer
    exc = status_error(status, conductor_error(type_, code, status, integration_code))
    policy = OutcomePolicy(draw=lambda: 0.0)
    err = normalize(exc)
    kind = classify(err, phase=phase).kind

    assert _attempts_to_an_end(policy, err, phase) <= policy.max_attempts + policy.max_refetches
    assert is_outage(exc) is (kind in _WAITS)


def test_the_catalog_covers_every_class() -> None:
    """The simulator's own answers reach every class the policy knows (the sample is real)."""
    kinds = {
        classify(normalize(status_error(s, conductor_error(t, c, s, i))), phase="write").kind
        for s, t, c, i in ERROR_CATALOG
    }

    assert kinds == set(OutcomeClass)
