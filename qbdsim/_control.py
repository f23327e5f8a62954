"""The control API under ``/_sim``: what tests use to shape and inspect the simulated world.

Not part of Conductor. Unknown end-user ids are created on first use by the state and seed
routes, so a test can pick its own ids (``end_usr_acme``) without the end-user API.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from qbdsim import _seed
from qbdsim._conductor import Simulator
from qbdsim._errors import SimError, invalid_request, not_found
from qbdsim._faults import FaultConfig
from qbdsim._resources import RESOURCES

__all__ = ["routes"]

Handler = Callable[[Request], Awaitable[Response]]


def _json(payload: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(payload), status, media_type="application/json")


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = orjson.loads(raw) if raw else {}
    except orjson.JSONDecodeError as exc:
        raise invalid_request("The request body is not valid JSON.") from exc
    if not isinstance(body, dict):
        raise invalid_request("The request body must be a JSON object.")
    return body


def _guarded(handler: Handler) -> Handler:
    async def run(request: Request) -> Response:
        try:
            return await handler(request)
        except SimError as error:
            return _json(error.envelope("req_sim"), error.status)

    return run


def routes(sim: Simulator) -> list[Route]:
    """Return the ``/_sim`` routes bound to ``sim``."""

    def company_of(request: Request) -> Any:
        end_user_id = request.path_params["end_user_id"]
        company = sim.companies.get(end_user_id)
        if company is None:
            raise not_found(f"No end-user exists with id {end_user_id!r}.")
        return company

    async def set_state(request: Request) -> Response:
        body = await _body(request)
        end_user_id = request.path_params["end_user_id"]
        sim.set_state(end_user_id, str(body.get("state")))
        return _json({"end_user_id": end_user_id, "state": sim.companies[end_user_id].state})

    async def get_state(request: Request) -> Response:
        company = company_of(request)
        return _json({"end_user_id": company.end_user_id, "state": company.state})

    async def faults(request: Request) -> Response:
        if request.method == "POST":
            sim.faults.config = FaultConfig.from_json(await _body(request))
        return _json(sim.faults.config.to_json())

    async def objects(request: Request) -> Response:
        company = company_of(request)
        kind = request.query_params.get("type", "")
        if kind not in RESOURCES:
            raise invalid_request(f"Unknown type {kind!r}; expected one of {sorted(RESOURCES)}.")
        return _json({"data": list(company.file.all(kind))})

    async def stats(request: Request) -> Response:
        return _json(company_of(request).stats())

    async def companies(request: Request) -> Response:
        del request
        return _json({"data": [company.stats() for company in sim.companies.values()]})

    async def seed(request: Request) -> Response:
        body = await _body(request)
        company = sim.ensure_end_user(request.path_params["end_user_id"])
        demo = bool(body.pop("demo", False))
        created = _seed.seed_company(company.file, body, demo=demo, seed=sim.seed)
        return _json({"end_user_id": company.end_user_id, "created": created})

    async def log(request: Request) -> Response:
        del request
        return _json({"data": sim.log})

    async def reset(request: Request) -> Response:
        del request
        sim.reset()
        return _json({"reset": True})

    async def keys(request: Request) -> Response:
        body = await _body(request)
        key = body.get("key")
        action = request.path_params["action"]
        if action not in ("revoke", "restore"):
            raise not_found(f"Unknown key action {action!r}; use revoke or restore.")
        if action == "revoke":
            if not isinstance(key, str):
                raise invalid_request("Give the secret key to revoke as `key`.")
            sim.revoked_keys.add(key)
        elif key is None:
            sim.revoked_keys.clear()
        else:
            sim.revoked_keys.discard(str(key))
        return _json({"revoked": sorted(sim.revoked_keys)})

    async def auth_flow(request: Request) -> Response:
        end_user_id = sim.auth_sessions.get(request.path_params["session_id"])
        if end_user_id is None or end_user_id not in sim.end_users:
            return HTMLResponse("<h1>This setup link is invalid or has expired.</h1>", 404)
        sim.set_state(end_user_id, "online")
        return HTMLResponse(
            "<h1>QuickBooks Desktop connected</h1><p>The simulated company file for "
            f"<code>{end_user_id}</code> is now online. You can close this page.</p>"
        )

    company = "/_sim/companies/{end_user_id}"
    table: list[tuple[str, Handler, list[str]]] = [
        (f"{company}/state", set_state, ["POST"]),
        (f"{company}/state", get_state, ["GET"]),
        (f"{company}/objects", objects, ["GET"]),
        (f"{company}/stats", stats, ["GET"]),
        (f"{company}/seed", seed, ["POST"]),
        ("/_sim/companies", companies, ["GET"]),
        ("/_sim/faults", faults, ["GET", "POST"]),
        ("/_sim/log", log, ["GET"]),
        ("/_sim/reset", reset, ["POST"]),
        ("/_sim/keys/{action:str}", keys, ["POST"]),
        ("/_sim/auth/{session_id}", auth_flow, ["GET"]),
    ]
    return [Route(path, _guarded(handler), methods=methods) for path, handler, methods in table]
