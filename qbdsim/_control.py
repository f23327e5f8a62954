"""The control API under ``/_sim``: what tests use to shape and inspect the simulated world.

Not part of Conductor. Unknown end-user ids are created on first use by the state and seed
routes, so a test can pick its own ids (``end_usr_acme``) without the end-user API.

Edits and deletions under ``objects/{type}/{id}`` stand for a person working in QuickBooks:
``fields`` use the API's request names (``memo``, ``customerId``, ``lines``, ``isActive``...),
go through the same QuickBooks rules as an API update (derived amounts are recomputed, the
edit sequence and ``updatedAt`` move on) but need no ``revisionNumber`` and ignore the
closing date. A deleted transaction shows in deleted-transactions.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import date
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from qbdsim import _seed
from qbdsim._company import CompanyFile
from qbdsim._conductor import Company, Simulator
from qbdsim._errors import SimError, invalid_request, not_found
from qbdsim._faults import FaultConfig, Injection
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

    def company_of(request: Request) -> Company:
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
            body = await _body(request)
            # A body with only `inject` queues an error and leaves the rest as it is; any
            # other body replaces the config and drops the injections not yet used.
            inject = body.pop("inject", None)
            injection = None if inject is None else Injection.from_json(inject)
            if body or injection is None:
                sim.faults.config = FaultConfig.from_json(body)
                sim.faults.injections.clear()
            if injection is not None:
                sim.faults.injections.append(injection)
        injections = [asdict(i) for i in sim.faults.injections]
        return _json({**sim.faults.config.to_json(), "injections": injections})

    def object_of(request: Request) -> tuple[CompanyFile, str, str]:
        company = company_of(request)
        kind, object_id = request.path_params["type"], request.path_params["qbd_id"]
        if kind not in RESOURCES:
            raise not_found(f"Unknown type {kind!r}; expected one of {sorted(RESOURCES)}.")
        if company.file.get(kind, object_id) is None:
            raise not_found(
                f"No {kind} object with id {object_id!r} in the company file of "
                f"{company.end_user_id!r}."
            )
        return company.file, kind, object_id

    async def edit_object(request: Request) -> Response:
        file, kind, object_id = object_of(request)
        fields = (await _body(request)).get("fields")
        if not isinstance(fields, dict):
            raise invalid_request("Give the fields to change as an object under `fields`.")
        return _json(file.update(kind, object_id, fields, in_quickbooks=True))

    async def delete_object(request: Request) -> Response:
        file, kind, object_id = object_of(request)
        return _json(file.delete(kind, object_id, in_quickbooks=True))

    async def closing_date(request: Request) -> Response:
        company = company_of(request)
        value = (await _body(request)).get("date")
        try:
            company.file.closing_date = None if value is None else date.fromisoformat(str(value))
        except ValueError as exc:
            raise invalid_request(
                f"Invalid `date`: {value!r}; expected YYYY-MM-DD or null."
            ) from exc
        closing = company.file.closing_date
        return _json({"end_user_id": company.end_user_id, "date": closing and closing.isoformat()})

    async def permission(request: Request) -> Response:
        company = company_of(request)
        denied = (await _body(request)).get("denied")
        if not isinstance(denied, bool):
            raise invalid_request("Give `denied` as true or false.")
        company.denied = denied
        return _json({"end_user_id": company.end_user_id, "denied": denied})

    async def delete_end_user(request: Request) -> Response:
        end_user_id = request.path_params["end_user_id"]
        sim.delete_end_user(end_user_id)
        return _json({"id": end_user_id, "deleted": True})

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
        (f"{company}/objects/{{type}}/{{qbd_id}}", edit_object, ["POST"]),
        (f"{company}/objects/{{type}}/{{qbd_id}}", delete_object, ["DELETE"]),
        (f"{company}/closing-date", closing_date, ["POST"]),
        (f"{company}/permission", permission, ["POST"]),
        ("/_sim/end-users/{end_user_id}", delete_end_user, ["DELETE"]),
        ("/_sim/companies", companies, ["GET"]),
        ("/_sim/faults", faults, ["GET", "POST"]),
        ("/_sim/log", log, ["GET"]),
        ("/_sim/reset", reset, ["POST"]),
        ("/_sim/keys/{action:str}", keys, ["POST"]),
        ("/_sim/auth/{session_id}", auth_flow, ["GET"]),
    ]
    return [Route(path, _guarded(handler), methods=methods) for path, handler, methods in table]
