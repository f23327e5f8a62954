"""The HTTP surface: Conductor's ``/v1`` routes and the ``/_sim`` control routes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextlib import asynccontextmanager, suppress
from typing import Any

import orjson
from conductor.types import AuthSession
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from qbdsim import _control
from qbdsim._company import CompanyFile
from qbdsim._conductor import Outcome, Simulator, error_outcome, iso
from qbdsim._errors import SimError, invalid_request, not_found
from qbdsim._query import Params, parse_limit, select, shape_for_list
from qbdsim._resources import RESOURCES, Resource
from qbdsim._shapes import conform

__all__ = ["build_app", "json_response"]

_QBD = "/v1/quickbooks-desktop"


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


def _params(request: Request) -> Params:
    params: Params = {}
    for key, value in request.query_params.multi_items():
        params.setdefault(key, []).append(value)
    return params


async def _body(request: Request) -> dict[str, Any]:
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


class ConductorRoutes:
    """Request handlers for the Conductor API, bound to one :class:`Simulator`."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    def _error(self, error: SimError, request_id: str) -> Response:
        headers = {"request-id": request_id, "conductor-request-id": request_id, **error.headers}
        should_retry = self.sim.faults.config.should_retry
        if should_retry is not None:
            headers["x-should-retry"] = "true" if should_retry else "false"
        return json_response(error.envelope(request_id), error.status, headers)

    async def _handle(
        self,
        request: Request,
        run: Callable[[str], Any],
        *,
        end_user_id: str | None = None,
    ) -> Response:
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

    async def _company_call(
        self,
        request: Request,
        operation: str,
        work: Callable[[CompanyFile], Any],
        *,
        write: bool,
    ) -> Response:
        async def run(request_id: str) -> tuple[Any, Outcome]:
            del request_id
            company = self.sim.company_for(request.headers.get("conductor-end-user-id"))
            return await self.sim.run(company, operation, work, write=write)

        return await self._handle(request, run)

    # ----- QuickBooks objects ---------------------------------------------------------

    @staticmethod
    def _resource(request: Request) -> Resource:
        resource = RESOURCES.get(request.path_params["resource"])
        if resource is None:
            raise not_found(f"Unrecognized request URL ({request.method} {request.url.path}).")
        return resource

    async def objects(self, request: Request) -> Response:
        """POST creates, GET lists: ``/v1/quickbooks-desktop/{resource}``."""
        try:
            res = self._resource(request)
            body = await _body(request) if request.method == "POST" else {}
        except SimError as error:
            return await self._handle(request, _raiser(error))
        if request.method == "POST":
            return await self._company_call(
                request, f"create {res.path}", lambda f: f.create(res.path, body), write=True
            )
        params = _params(request)
        url = f"{_QBD}/{res.path}"
        company_id = request.headers.get("conductor-end-user-id")

        def list_objects(file: CompanyFile) -> dict[str, Any]:
            shape = shape_for_list(res, params)
            limit = parse_limit(params, paginated=res.paginated)
            if not res.paginated:
                matches = select(file, res, params)
                data = matches if limit is None else matches[:limit]
                return {"objectType": "list", "url": url, "data": [shape(o) for o in data]}
            pager = self.sim.companies[str(company_id)].pager
            cursor = params.get("cursor")
            assert limit is not None
            if cursor:
                page, next_cursor, remaining = pager.next(file, res, cursor[-1], limit)
            else:
                page, next_cursor, remaining = pager.first(res, select(file, res, params), limit)
            return {
                "objectType": "list",
                "url": url,
                "data": [shape(o) for o in page],
                "nextCursor": next_cursor,
                "remainingCount": remaining,
                "hasMore": next_cursor is not None,
            }

        return await self._company_call(request, f"list {res.path}", list_objects, write=False)

    async def object(self, request: Request) -> Response:
        """GET retrieves, POST updates, DELETE deletes: ``.../{resource}/{id}``."""
        object_id = request.path_params["object_id"]
        try:
            res = self._resource(request)
            body = await _body(request) if request.method == "POST" else {}
            if request.method == "POST" and not res.updatable:
                raise not_found(f"Unrecognized request URL (POST {request.url.path}).")
            if request.method == "DELETE" and not res.deletable:
                raise not_found(f"Unrecognized request URL (DELETE {request.url.path}).")
        except SimError as error:
            return await self._handle(request, _raiser(error))
        if request.method == "POST":
            return await self._company_call(
                request,
                f"update {res.path}",
                lambda f: f.update(res.path, object_id, body),
                write=True,
            )
        if request.method == "DELETE":
            return await self._company_call(
                request, f"delete {res.path}", lambda f: f.delete(res.path, object_id), write=True
            )

        def retrieve(file: CompanyFile) -> dict[str, Any]:
            obj = file.get(res.path, object_id)
            if obj is None:
                raise not_found(
                    f"QBD Request Error (500): The {res.qb_name} with id {object_id!r} could not "
                    "be found in QuickBooks."
                )
            return obj

        return await self._company_call(request, f"retrieve {res.path}", retrieve, write=False)

    async def void(self, request: Request) -> Response:
        """POST ``.../{resource}/{id}/void``."""
        object_id = request.path_params["object_id"]
        try:
            res = self._resource(request)
            if not res.voidable:
                raise not_found(f"Unrecognized request URL (POST {request.url.path}).")
        except SimError as error:
            return await self._handle(request, _raiser(error))
        return await self._company_call(
            request, f"void {res.path}", lambda f: f.void(res.path, object_id), write=True
        )

    async def health_check(self, request: Request) -> Response:
        """GET ``/v1/quickbooks-desktop/health-check`` (queued like any QuickBooks request)."""
        started = time.perf_counter()

        def check(file: CompanyFile) -> dict[str, Any]:
            del file
            return {"duration": round((time.perf_counter() - started) * 1000, 3), "status": "ok"}

        return await self._company_call(request, "health-check", check, write=False)

    # ----- end users and auth sessions ------------------------------------------------

    async def end_users(self, request: Request) -> Response:
        """POST creates, GET lists: ``/v1/end-users``."""

        async def run(request_id: str) -> tuple[Any, Outcome]:
            del request_id
            if request.method == "GET":
                data = list(self.sim.end_users.values())
                return {"objectType": "list", "url": "/v1/end-users", "data": data}, Outcome()
            body = await _body(request)
            missing = [k for k in ("companyName", "email", "sourceId") if not body.get(k)]
            if missing:
                raise invalid_request(
                    f"Missing required fields: {', '.join(missing)}.", "MISSING_REQUIRED_PARAMETER"
                )
            user = self.sim.create_end_user(body["companyName"], body["email"], body["sourceId"])
            return user, Outcome()

        return await self._handle(request, run)

    async def end_user(self, request: Request) -> Response:
        """GET retrieves, DELETE deletes: ``/v1/end-users/{id}``."""
        end_user_id = request.path_params["end_user_id"]

        async def run(request_id: str) -> tuple[Any, Outcome]:
            del request_id
            user = self.sim.end_users.get(end_user_id)
            if user is None:
                raise not_found(f"No end-user exists with id {end_user_id!r}.")
            if request.method == "DELETE":
                del self.sim.end_users[end_user_id]
                self.sim.companies.pop(end_user_id, None)
                return {"id": end_user_id, "objectType": "end_user", "deleted": True}, Outcome()
            return user, Outcome()

        return await self._handle(request, run, end_user_id=end_user_id)

    async def auth_sessions(self, request: Request) -> Response:
        """POST ``/v1/auth-sessions``: the hosted setup flow link for an end user."""

        async def run(request_id: str) -> tuple[Any, Outcome]:
            del request_id
            body = await _body(request)
            key = body.get("publishableKey")
            if not isinstance(key, str) or not key.startswith("pk_"):
                raise invalid_request(
                    "Invalid `publishableKey`: publishable keys start with `pk_`.",
                    "INVALID_PUBLISHABLE_KEY",
                )
            end_user_id = body.get("endUserId")
            if end_user_id not in self.sim.end_users:
                raise not_found(f"No end-user exists with id {end_user_id!r}.")
            expiry = int(body.get("linkExpiryMins") or 30)
            if not 15 <= expiry <= 10080:
                raise invalid_request("`linkExpiryMins` must be between 15 and 10080.")
            session_id = self.sim.random_id("auth_sess_")
            now = time.time()
            origin = str(request.base_url).rstrip("/")
            session = {
                "id": session_id,
                "authFlowUrl": f"{origin}/_sim/auth/{session_id}",
                "clientSecret": self.sim.random_id("auth_sess_client_secret_", 24),
                "createdAt": iso(now),
                "endUserId": end_user_id,
                "expiresAt": iso(now + expiry * 60),
                "redirectUrl": body.get("redirectUrl"),
            }
            self.sim.auth_sessions[session_id] = str(end_user_id)
            return conform(AuthSession, session), Outcome()

        return await self._handle(request, run)

    async def unknown(self, request: Request) -> Response:
        """Any other ``/v1`` path: Conductor's 404."""
        error = not_found(f"Unrecognized request URL ({request.method} {request.url.path}).")
        return await self._handle(request, _raiser(error))


def _raiser(error: SimError) -> Callable[[str], Any]:
    async def run(request_id: str) -> tuple[Any, Outcome]:
        del request_id
        raise error

    return run


def build_app(sim: Simulator, on_startup: Callable[[], None] | None = None) -> Starlette:
    """Return the ASGI app serving ``sim``."""
    routes = ConductorRoutes(sim)
    any_method = ["GET", "POST", "DELETE", "PUT", "PATCH"]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> Any:
        del app
        sim.shutdown = asyncio.Event()
        if on_startup is not None:
            on_startup()
        yield
        sim.shutdown.set()

    return Starlette(
        routes=[
            Route(f"{_QBD}/health-check", routes.health_check, methods=["GET"]),
            Route(f"{_QBD}/{{resource}}", routes.objects, methods=["GET", "POST"]),
            Route(
                f"{_QBD}/{{resource}}/{{object_id}}",
                routes.object,
                methods=["GET", "POST", "DELETE"],
            ),
            Route(f"{_QBD}/{{resource}}/{{object_id}}/void", routes.void, methods=["POST"]),
            Route("/v1/end-users", routes.end_users, methods=["GET", "POST"]),
            Route("/v1/end-users/{end_user_id}", routes.end_user, methods=["GET", "DELETE"]),
            Route("/v1/auth-sessions", routes.auth_sessions, methods=["POST"]),
            *_control.routes(sim),
            Route("/v1/{rest:path}", routes.unknown, methods=any_method),
        ],
        lifespan=lifespan,
    )
