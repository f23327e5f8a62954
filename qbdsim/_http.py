"""The path every Conductor request takes: authenticate, run, answer, log."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from qbdsim._company import CompanyFile
from qbdsim._conductor import Outcome, Simulator, error_outcome
from qbdsim._errors import SimError, invalid_request
from qbdsim._query import Params

__all__ = ["Endpoints", "Run", "json_response", "params_of", "raiser", "read_body"]
Run = Callable[[str], Awaitable[tuple[Any, Outcome]]]


def json_response(
    payload: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """Return a JSON response serialised with orjson."""
    return Response(orjson.dumps(payload), status, headers, "application/json")


class _DroppedResponse(Response):
    """Sends the status line and headers, then ends the request without a body.

    uvicorn closes the connection when an app returns mid-response, so the client sees the
    connection drop after the server has already committed the write.
    """

    def __init__(self) -> None:
        super().__init__(status_code=200)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"512")],
            }
        )


def params_of(request: Request) -> Params:
    """Return the query string as {key: [values]} (arrays repeat their key)."""
    params: Params = {}
    for key, value in request.query_params.multi_items():
        params.setdefault(key, []).append(value)
    return params


async def read_body(request: Request) -> dict[str, Any]:
    """Return the JSON object body ({} when empty), or raise a 400."""
    raw = await request.body()
    if not raw:
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise invalid_request("The request body is not valid JSON.") from exc
    if not isinstance(body, dict):
        raise invalid_request("The request body must be a JSON object.")
    return body


def raiser(error: SimError) -> Run:
    """Return a run function that answers ``error``."""

    async def run(request_id: str) -> tuple[Any, Outcome]:
        del request_id
        raise error

    return run


class Endpoints:
    """Base of the Conductor handlers: one :class:`Simulator`, one way to answer and log."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    def _error(self, error: SimError, request_id: str) -> Response:
        headers = {"request-id": request_id, "conductor-request-id": request_id, **error.headers}
        should_retry = self.sim.faults.config.should_retry
        if should_retry is not None:
            headers["x-should-retry"] = "true" if should_retry else "false"
        return json_response(error.envelope(request_id), error.status, headers)

    async def handle(
        self, request: Request, run: Run, *, end_user_id: str | None = None
    ) -> Response:
        """Authenticate, run, answer and log one request."""
        sim = self.sim
        started = time.time()
        request_id = sim.next_request_id()
        outcome = Outcome()
        object_id: str | None = None
        try:
            sim.authenticate(request.headers.get("authorization"))
            result, outcome = await run(request_id)
            if isinstance(result, dict):
                object_id = result.get("id") if result.get("objectType") != "list" else None
        except SimError as error:
            outcome = error_outcome(error)
            response = self._error(error, request_id)
        else:
            response = json_response(
                result, 200, {"request-id": request_id, "conductor-request-id": request_id}
            )
        sim.record(
            method=request.method,
            path=request.url.path,
            end_user_id=end_user_id or request.headers.get("conductor-end-user-id"),
            request_id=request_id,
            started=started,
            outcome=outcome,
            object_id=object_id,
        )
        if outcome.ambiguous:
            return await self._lose_answer()
        return response

    async def _lose_answer(self) -> Response:
        config = self.sim.faults.config
        if config.ambiguous_mode == "hang":
            with suppress(TimeoutError):
                await asyncio.wait_for(self.sim.shutdown.wait(), config.ambiguous_hang_s)
        return _DroppedResponse()

    async def company_call(
        self,
        request: Request,
        operation: str,
        work: Callable[[CompanyFile], Any],
        *,
        write: bool,
    ) -> Response:
        """Run ``work`` against the company file named by ``Conductor-End-User-Id``."""

        async def run(request_id: str) -> tuple[Any, Outcome]:
            del request_id
            company = self.sim.company_for(request.headers.get("conductor-end-user-id"))
            return await self.sim.run(company, operation, work, write=write)

        return await self.handle(request, run)
