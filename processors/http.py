"""The processor's HTTP surface (CONTRACT.md section 5a) and the server that runs it.

``build_app`` wires health, metrics and the webhook ingress into a Starlette app; other
components (dashboard, company API) pass their routes in ``extra_routes``. ``HttpServer``
runs that app with uvicorn inside the service's own event loop, as a task: it installs no
signal handlers (the service owns SIGTERM/SIGINT and calls ``stop()``), leaves logging
configuration alone, and writes no access log unless asked.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator, Sequence
from types import TracebackType
from typing import Final

import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp

from processors.errors import ConfigError
from processors.health import Health
from processors.ingress import Ingress
from processors.metrics import Metrics
from processors.responses import json_response

__all__ = ["HttpServer", "build_app"]

_NO_STORE: Final = {"Cache-Control": "no-store"}
_INGRESS_DISABLED: Final = (
    "webhook ingress is disabled because QBD_SYNC_WEBHOOK_SECRET is unset; "
    "set it to accept signed events on POST /v1/events"
)


def build_app(
    health: Health,
    metrics: Metrics,
    *,
    ingress: Ingress | None = None,
    extra_routes: Sequence[BaseRoute] = (),
) -> Starlette:
    """The ASGI app: health, readiness, metrics, webhook ingress, then ``extra_routes``."""

    async def healthz(_request: Request) -> Response:
        if health.alive:
            return json_response(200, {"status": "ok"})
        body = {"status": "stalled", "heartbeat_age_s": round(health.heartbeat_age_s, 3)}
        return json_response(503, body)

    async def readyz(_request: Request) -> Response:
        snapshot = health.snapshot()
        return json_response(200 if snapshot["ready"] else 503, snapshot)

    async def metrics_text(_request: Request) -> Response:
        body, content_type = metrics.render()
        return Response(body, headers=_NO_STORE, media_type=content_type)

    async def ingress_disabled(_request: Request) -> Response:
        return json_response(404, {"error": _INGRESS_DISABLED})

    async def http_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return json_response(exc.status_code, {"error": exc.detail}, dict(exc.headers or {}))

    routes: list[BaseRoute] = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics_text, methods=["GET"]),
        Route(
            "/v1/events",
            ingress_disabled if ingress is None else ingress.endpoint,
            methods=["POST"],
        ),
        *extra_routes,
    ]
    return Starlette(routes=routes, exception_handlers={HTTPException: http_error})


class _Server(uvicorn.Server):
    """uvicorn without signal handlers, telling us when it listens."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.listening = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # The service owns SIGTERM/SIGINT and stops us itself.
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self.listening.set()


async def _bind(host: str, port: int) -> socket.socket:
    """A bound TCP socket, so the real port is known before uvicorn starts."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, kind, proto, _, address = infos[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {host}:{port}: {exc}") from exc
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise ConfigError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}; "
            "set QBD_SYNC_HTTP_PORT to a free port (0 picks one)"
        ) from exc
    sock.setblocking(False)
    return sock


class HttpServer:
    """Runs an ASGI app with uvicorn as a task of the current event loop."""

    def __init__(
        self,
        app: ASGIApp,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        access_log: bool = False,
        shutdown_timeout_s: int = 5,
    ) -> None:
        self.host = host
        self._requested_port = port
        self._config = uvicorn.Config(
            app,
            lifespan="off",
            log_config=None,  # keep the service's structlog setup
            access_log=access_log,
            server_header=False,
            timeout_graceful_shutdown=shutdown_timeout_s,
        )
        self._server: _Server | None = None
        self._task: asyncio.Task[None] | None = None
        self._port: int | None = None

    @property
    def port(self) -> int:
        """The port actually listened on (the free one picked when asked for 0)."""
        if self._port is None:
            raise RuntimeError("HttpServer is not started")
        return self._port

    @property
    def url(self) -> str:
        """Base URL to reach the server from this machine."""
        host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(self.host, self.host)
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    @property
    def running(self) -> bool:
        """Whether the server task is alive."""
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        """Bind and start serving; returns once the socket accepts connections."""
        if self._task is not None:
            raise RuntimeError("HttpServer already started")
        sock = await _bind(self.host, self._requested_port)
        self._port = sock.getsockname()[1]
        server = _Server(self._config)
        self._server = server
        self._task = asyncio.create_task(server.serve(sockets=[sock]), name="qbd-sync-http")
        listening = asyncio.create_task(server.listening.wait())
        await asyncio.wait({self._task, listening}, return_when=asyncio.FIRST_COMPLETED)
        if not listening.done():
            listening.cancel()
            sock.close()
            await self._task  # re-raises why it ended
            raise RuntimeError("HTTP server ended before it was listening")

    async def stop(self) -> None:
        """Stop accepting, let open requests finish (up to the grace period), and return."""
        if self._server is None or self._task is None:
            return
        self._server.should_exit = True
        try:
            await self._task
        finally:
            self._server = None
            self._task = None

    async def __aenter__(self) -> HttpServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()
