"""Persistence: how a lane's work keeps going through failures that are not its own.

Outages (PostgreSQL restarting or refusing connections, a deadlock, the broker away) keep
the work where it is, retried with back-off, so order holds and nothing is lost; the offset
stays uncommitted and ``on_wait`` tells readiness what is awaited meanwhile. A refused
Conductor key halts every lane until a background probe finds the key working again. Any
other failure, after ``GIVE_UP_AFTER`` tries, goes to ``give_up``, which may end the work (a
bug), so one broken event cannot hold its partition's commits back for ever.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable
from typing import Any

from processors.backoff import Backoff, pause
from processors.errors import Halted
from processors.health import Component
from processors.logs import get_logger
from processors.outcome import outage

__all__ = ["GIVE_UP_AFTER", "Persistence", "WaitReport"]

log = get_logger("engine")

GIVE_UP_AFTER = 5
"""Unexpected failures of one piece of work before it is handed to ``give_up``."""

# A lane waiting out an outage tries again at least this often, so it notices (and readiness
# reports) the recovery well within the 15 s CONTRACT section 5a promises.
_WAIT_CAP = 10.0

WaitReport = Callable[[Component, str | None], None]
"""``on_wait(component, detail)``: work started waiting out an outage; detail None: it ended."""


class Persistence:
    """Runs work until it ends: waits out outages, halts on a refused key, gives up on bugs."""

    def __init__(
        self,
        *,
        key_works: Callable[[], Awaitable[bool]],
        on_halt: Callable[[str | None], None],
        on_wait: WaitReport,
        on_resume: Callable[[], None],
        stopping: asyncio.Event,
        backoff: Backoff | None = None,
    ) -> None:
        self._key_works = key_works
        self._on_halt = on_halt
        self._on_wait = on_wait
        self._on_resume = on_resume
        self._stopping = stopping
        self._backoff = backoff or Backoff(initial=0.5, cap=_WAIT_CAP)
        self._halt_reason: str | None = None
        self._resumed = asyncio.Event()

    @property
    def halt_reason(self) -> str | None:
        """Why consuming is halted (our Conductor key refused), or None."""
        return self._halt_reason

    async def run(
        self,
        action: Callable[[], Awaitable[Any]],
        give_up: Callable[[BaseException], Awaitable[Any]] | None = None,
    ) -> Any:
        """Run ``action`` until it succeeds: halts wait for the key, other errors back off.

        ``give_up(error)`` is asked after ``GIVE_UP_AFTER`` unexpected failures (never for
        an outage); when it returns true the work ends with no follow-ups (``[]``).
        """
        attempt = 0
        waiting: Component | None = None
        try:
            while True:
                try:
                    return await action()
                except Halted as halt:
                    await self._halted(halt.reason)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # noqa: BLE001 - any failure here must not lose the record
                    attempt += 1
                    error = f"{type(exc).__name__}: {exc}"
                    away = outage(exc)
                    if away != waiting:
                        if waiting is not None:
                            self._on_wait(waiting, None)
                        if away is not None:
                            self._on_wait(away, error)
                        waiting = away
                    if away is None and give_up is not None and attempt >= GIVE_UP_AFTER:
                        with contextlib.suppress(Exception):
                            if await give_up(exc):
                                return []
                    delay = self._backoff.delay(attempt, random.random())
                    log.warning(
                        "work failed, will retry" if away is None else "waiting out an outage",
                        error=error,
                        dependency=away,
                        attempt=attempt,
                        retry_in=round(delay, 2),
                    )
                    await pause(delay)
        finally:
            if waiting is not None:
                self._on_wait(waiting, None)

    async def _halted(self, reason: str) -> None:
        """Stop until the Conductor key works again (one probe for every halted lane)."""
        if self._halt_reason is None:
            self._halt_reason = reason
            self._resumed.clear()
            self._on_halt(reason)
            log.error("consumption halted: fix the Conductor key", reason=reason)
            asyncio.create_task(self._probe_key(), name="qbd-sync-key-probe")  # noqa: RUF006
        await self._resumed.wait()

    async def _probe_key(self) -> None:
        backoff = Backoff(initial=2.0, cap=60.0, jitter=0.1)
        attempt = 0
        while not self._stopping.is_set():
            attempt += 1
            await pause(backoff.delay(attempt, random.random()))
            with contextlib.suppress(Exception):
                if await self._key_works():
                    break
        self._halt_reason = None
        self._on_halt(None)
        self._resumed.set()
        log.info("Conductor key accepted again: consumption resumed")
        self._on_resume()
