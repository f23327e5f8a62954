"""Conductor's ``/v1/end-users`` and ``/v1/auth-sessions`` routes."""

from __future__ import annotations

import time
from typing import Any

from conductor.types import AuthSession
from starlette.requests import Request
from starlette.responses import Response

from qbdsim._conductor import Outcome, iso
from qbdsim._errors import invalid_request, not_found
from qbdsim._http import Endpoints, read_body
from qbdsim._shapes import conform

__all__ = ["EndUserEndpoints"]


class EndUserEndpoints(Endpoints):
    """Request handlers for end users and their auth sessions."""

    async def end_users(self, request: Request) -> Response:
        """POST creates, GET lists: ``/v1/end-users``."""

        async def run(request_id: str) -> tuple[Any, Outcome]:
            del request_id
            if request.method == "GET":
                data = list(self.sim.end_users.values())
                return {"objectType": "list", "url": "/v1/end-users", "data": data}, Outcome()
            body = await read_body(request)
            missing = [k for k in ("companyName", "email", "sourceId") if not body.get(k)]
            if missing:
                raise invalid_request(
                    f"Missing required fields: {', '.join(missing)}.", "MISSING_REQUIRED_PARAMETER"
                )
            user = self.sim.create_end_user(body["companyName"], body["email"], body["sourceId"])
            return user, Outcome()

        return await self.handle(request, run)

    async def end_user(self, request: Request) -> Response:
        """GET retrieves, DELETE deletes: ``/v1/end-users/{id}``."""
        end_user_id = request.path_params["end_user_id"]

        async def run(request_id: str) -> tuple[Any, Outcome]:
            del request_id
            user = self.sim.end_users.get(end_user_id)
            if user is None:
                raise not_found(f"No end-user exists with id {end_user_id!r}.")
            if request.method == "DELETE":
                self.sim.delete_end_user(end_user_id)
                return {"id": end_user_id, "objectType": "end_user", "deleted": True}, Outcome()
            return user, Outcome()

        return await self.handle(request, run, end_user_id=end_user_id)

    async def auth_sessions(self, request: Request) -> Response:
        """POST ``/v1/auth-sessions``: the hosted setup flow link for an end user."""

        async def run(request_id: str) -> tuple[Any, Outcome]:
            del request_id
            body = await read_body(request)
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

        return await self.handle(request, run)
