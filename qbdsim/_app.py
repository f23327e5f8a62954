"""The HTTP surface: Conductor's ``/v1`` routes and the ``/_sim`` control routes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.routing import Route

from qbdsim import _control
from qbdsim._conductor import Simulator
from qbdsim._end_users import EndUserEndpoints
from qbdsim._http import json_response
from qbdsim._quickbooks import QBD, QuickBooksEndpoints

__all__ = ["build_app", "json_response"]


def build_app(sim: Simulator, on_startup: Callable[[], None] | None = None) -> Starlette:
    """Return the ASGI app serving ``sim``."""
    qbd = QuickBooksEndpoints(sim)
    users = EndUserEndpoints(sim)
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
            Route(f"{QBD}/health-check", qbd.health_check, methods=["GET"]),
            Route(f"{QBD}/deleted-transactions", qbd.deleted, methods=["GET"]),
            Route(f"{QBD}/{{resource}}", qbd.objects, methods=["GET", "POST"]),
            Route(
                f"{QBD}/{{resource}}/{{object_id}}", qbd.object, methods=["GET", "POST", "DELETE"]
            ),
            Route(f"{QBD}/{{resource}}/{{object_id}}/void", qbd.void, methods=["POST"]),
            Route("/v1/end-users", users.end_users, methods=["GET", "POST"]),
            Route("/v1/end-users/{end_user_id}", users.end_user, methods=["GET", "DELETE"]),
            Route("/v1/auth-sessions", users.auth_sessions, methods=["POST"]),
            *_control.routes(sim),
            Route("/v1/{rest:path}", qbd.unknown, methods=any_method),
        ],
        lifespan=lifespan,
    )
