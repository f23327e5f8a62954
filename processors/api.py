"""The company HTTP API of CONTRACT.md section 5a, for the app's "QuickBooks Desktop" screen.

    GET  /v1/companies/{companyid}[?check=true]   state, health, parked count, last sync,
                                                  synced events by action
    POST /v1/companies/{companyid}/sync           health check now; if healthy, replay

The health check here only records its result; state changes (parking, going online) happen
in the company's lane, where the replay runs. ``POST .../sync`` queues the replay in the lane
when this instance owns the company, and otherwise publishes ``sync.requested`` to the input
topic so that the owner runs it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from processors.companies import CompanyBook, describe
from processors.errors import Halted
from processors.ledger import Ledger
from processors.logs import get_logger
from processors.pipeline import CompanyConnection, HealthResult
from processors.responses import json_response

__all__ = ["CompanyApi"]

log = get_logger("api")


def _health(result: HealthResult) -> dict[str, Any]:
    return {
        "healthy": result.healthy,
        "code": None if result.error is None else result.error.code,
        "user_facing_message": result.message,
        "auth_flow_url": result.auth_flow_url,
    }


class CompanyApi:
    """Routes for one company's connection state and its "Sync now" button."""

    def __init__(
        self,
        companies: CompanyBook,
        connection: CompanyConnection,
        *,
        request_replay: Callable[[str], bool],
        publish_sync_request: Callable[[str], Awaitable[None]],
        ledger: Ledger,
    ) -> None:
        self._companies = companies
        self._ledger = ledger
        self._connection = connection
        self._request_replay = request_replay
        self._publish_sync_request = publish_sync_request

    def routes(self) -> list[BaseRoute]:
        """The Starlette routes to pass to ``build_app(extra_routes=...)``."""
        return [
            Route("/v1/companies/{companyid}", self.show, methods=["GET"]),
            Route("/v1/companies/{companyid}/sync", self.sync, methods=["POST"]),
        ]

    async def show(self, request: Request) -> Response:
        """GET: the company's state; ``?check=true`` health-checks it first."""
        company = request.path_params["companyid"]
        check = request.query_params.get("check", "false").lower()
        if check not in ("true", "false", "1", "0"):
            return json_response(400, {"error": "check must be true or false"})
        if await self._companies.find(company) is None:
            return json_response(
                404, {"error": f"unknown company {company!r}: no events and no setup"}
            )
        health = None
        if check in ("true", "1"):
            try:
                health = await self._connection.check(company)
            except Halted as halt:
                return json_response(
                    503, {"error": f"Conductor rejects our API key: {halt.reason}"}
                )
        body = describe((await self._companies.overview(company))[0])
        body["actions"] = (await self._ledger.actions([company])).get(company, {})
        if health is not None:
            body["health"] = _health(health)
            body["auth_flow_url"] = health.auth_flow_url or body["auth_flow_url"]
        return json_response(200, body)

    async def sync(self, request: Request) -> Response:
        """POST: health check now; when healthy, replay the parked work in the company's lane."""
        company = request.path_params["companyid"]
        if await self._companies.find(company) is None:
            return json_response(
                404, {"error": f"unknown company {company!r}: no events and no setup"}
            )
        try:
            health = await self._connection.check(company)
        except Halted as halt:
            return json_response(503, {"error": f"Conductor rejects our API key: {halt.reason}"})
        view = (await self._companies.overview(company))[0]
        body = {
            "company_id": company,
            **_health(health),
            "parked": view.parked,
            "state": str(view.company.state),
            "replay_requested": False,
        }
        if not health.healthy:
            return json_response(200, body)
        if not self._request_replay(company):
            await self._publish_sync_request(company)
        log.info("replay requested over HTTP", company_id=company, parked=view.parked)
        return json_response(202, {**body, "replay_requested": True})
