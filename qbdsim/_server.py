"""Running the simulator: in-process on a background thread, or blocking for the CLI."""

from __future__ import annotations

import asyncio
import importlib
import logging
import socket
import threading
from contextlib import suppress
from types import TracebackType
from typing import Any, Literal

import httpx
import uvicorn

from qbdsim._app import build_app
from qbdsim._conductor import Simulator

__all__ = ["SimulatorServer", "serve"]

CompanyState = Literal[
    "online",
    "offline",
    "wrong_company_file",
    "multiple_company_files",
    "dialog_open",
    "user_signed_in_elsewhere",
    "permissions_reset",
    "not_set_up",
]


def _new_loop() -> asyncio.AbstractEventLoop:
    # uvloop is an optional speed-up that comes with uvicorn[standard].
    try:
        uvloop: Any = importlib.import_module("uvloop")
    except ImportError:
        return asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop


class SimulatorServer:
    """A Conductor simulator on a loopback port, served from its own thread and event loop.

    Use it as a context manager (or call :meth:`start` / :meth:`stop`); point the SDK at
    :attr:`base_url` and drive the simulated world through the helper methods, which call the
    control API over HTTP.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        auto_connect: bool = False,
        seed: int | None = None,
        seed_demo: bool = False,
    ) -> None:
        self.host = host
        self.simulator = Simulator(auto_connect=auto_connect, seed=seed, seed_demo=seed_demo)
        self._requested_port = port
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._control: httpx.Client | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.port = port

    # ----- lifecycle ------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The Conductor base URL to give the SDK, e.g. ``http://127.0.0.1:PORT/v1``."""
        return f"http://{self.host}:{self.port}/v1"

    @property
    def control_url(self) -> str:
        """The control API root, e.g. ``http://127.0.0.1:PORT/_sim``."""
        return f"http://{self.host}:{self.port}/_sim"

    def start(self) -> SimulatorServer:
        """Bind the port, start serving on a background thread, and wait until it is ready."""
        if self._thread is not None:
            raise RuntimeError("the simulator is already running")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((self.host, self._requested_port))
        sock.listen(2048)
        self._socket = sock
        self.port = sock.getsockname()[1]
        ready = threading.Event()
        app = build_app(self.simulator, on_startup=ready.set)
        config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=2,
            backlog=2048,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name=f"qbdsim:{self.port}", daemon=True)
        self._thread.start()
        if not ready.wait(timeout=30):
            raise RuntimeError("the simulator did not start within 30 s")
        self._control = httpx.Client(base_url=self.control_url, timeout=30)
        return self

    def _run(self) -> None:
        assert self._server is not None
        assert self._socket is not None
        loop = _new_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._server.serve(sockets=[self._socket]))
        finally:
            loop.close()

    def stop(self) -> None:
        """Stop serving (ambiguous writes still hanging are dropped) and join the thread."""
        if self._control is not None:
            self._control.close()
            self._control = None
        if self._loop is not None and not self._loop.is_closed():
            # Release writes hanging as ambiguous first, so shutdown need not cancel them.
            with suppress(RuntimeError):  # the loop closed meanwhile: nothing hangs
                self._loop.call_soon_threadsafe(self.simulator.shutdown.set)
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        self._server = None

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ----- control API helpers --------------------------------------------------------

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        if self._control is None:
            raise RuntimeError("the simulator is not running; call start() first")
        response = self._control.request(method, path, **kwargs)
        response.raise_for_status()
        return response.json()

    def set_state(self, end_user_id: str, state: CompanyState) -> None:
        """Set a company file's reachability (creating the end user if the id is new)."""
        self._call("POST", f"/companies/{end_user_id}/state", json={"state": state})

    def connect(self, end_user_id: str) -> None:
        """Shorthand for ``set_state(end_user_id, "online")``."""
        self.set_state(end_user_id, "online")

    def set_faults(self, **faults: Any) -> dict[str, Any]:
        """Replace the fault config (see :class:`qbdsim.FaultConfig`); no arguments clears it."""
        result: dict[str, Any] = self._call("POST", "/faults", json=faults)
        return result

    def faults(self) -> dict[str, Any]:
        """The fault config now (what ``set_faults`` takes), without pending injections."""
        config: dict[str, Any] = self._call("GET", "/faults")
        config.pop("injections", None)
        return config

    def objects(self, end_user_id: str, type: str) -> list[dict[str, Any]]:
        """Return every object of ``type`` (an API path name) in the company file."""
        result = self._call("GET", f"/companies/{end_user_id}/objects", params={"type": type})
        return list(result["data"])

    def stats(self, end_user_id: str) -> dict[str, Any]:
        """Return a company's request counters."""
        result: dict[str, Any] = self._call("GET", f"/companies/{end_user_id}/stats")
        return result

    def seed(self, end_user_id: str, *, demo: bool = False, **counts: int) -> dict[str, int]:
        """Fill a company file: ``demo=True`` and/or counts per type, e.g. ``customers=500``."""
        body: dict[str, Any] = {k.replace("_", "-"): v for k, v in counts.items()}
        body["demo"] = demo
        result = self._call("POST", f"/companies/{end_user_id}/seed", json=body)
        return dict(result["created"])

    def log(self) -> list[dict[str, Any]]:
        """Return every Conductor request received, in order."""
        return list(self._call("GET", "/log")["data"])

    def reset(self) -> None:
        """Empty everything: end users, company files, faults, revoked keys and the log."""
        self._call("POST", "/reset")

    def edit_object(
        self, end_user_id: str, type: str, qbd_id: str, **fields: Any
    ) -> dict[str, Any]:
        """Edit an object as a person in QuickBooks would (API request field names)."""
        path = f"/companies/{end_user_id}/objects/{type}/{qbd_id}"
        result: dict[str, Any] = self._call("POST", path, json={"fields": fields})
        return result

    def delete_object(self, end_user_id: str, type: str, qbd_id: str) -> None:
        """Delete an object in QuickBooks, out of band."""
        self._call("DELETE", f"/companies/{end_user_id}/objects/{type}/{qbd_id}")

    def set_closing_date(self, end_user_id: str, closing_date: str | None) -> None:
        """Set (``YYYY-MM-DD``) or clear (None) a company file's closing date."""
        self._call("POST", f"/companies/{end_user_id}/closing-date", json={"date": closing_date})

    def set_permission(self, end_user_id: str, *, denied: bool) -> None:
        """Deny (or restore) an end-user's QuickBooks requests: they answer PERMISSION_ERROR."""
        self._call("POST", f"/companies/{end_user_id}/permission", json={"denied": denied})

    def delete_end_user(self, end_user_id: str) -> None:
        """Delete an end-user and its company file, out of band."""
        self._call("DELETE", f"/end-users/{end_user_id}")

    def inject(
        self,
        *,
        status: int,
        type: str,
        code: str,
        integration_code: str | None = None,
        count: int = 1,
        end_user_id: str | None = None,
        writes_only: bool = False,
        retry_after_s: float | None = None,
    ) -> None:
        """Make the next ``count`` matching QuickBooks requests answer this error envelope
        (with a ``Retry-After`` header when ``retry_after_s`` is given)."""
        injection = {
            "status": status,
            "type": type,
            "code": code,
            "integration_code": integration_code,
            "count": count,
            "end_user_id": end_user_id,
            "writes_only": writes_only,
            "retry_after_s": retry_after_s,
        }
        self._call("POST", "/faults", json={"inject": injection})

    def revoke_key(self, key: str) -> None:
        """Make the simulator reject ``key`` with an authentication error."""
        self._call("POST", "/keys/revoke", json={"key": key})

    def restore_key(self, key: str | None = None) -> None:
        """Accept ``key`` again (every revoked key when ``key`` is None)."""
        self._call("POST", "/keys/restore", json={"key": key})


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    auto_connect: bool = False,
    seed_demo: bool = False,
    seed: int | None = None,
) -> None:
    """Run the simulator in the foreground until interrupted (the CLI's entry point)."""
    sim = Simulator(auto_connect=auto_connect, seed=seed, seed_demo=seed_demo)
    logging.getLogger("qbdsim").info("Conductor simulator on http://%s:%d/v1", host, port)
    uvicorn.run(build_app(sim), host=host, port=port, log_level="info", access_log=False)
