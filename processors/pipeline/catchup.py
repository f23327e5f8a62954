"""CatchUp: the low-frequency background replay of parked companies (DESIGN.md section 5a).

A newly parked company gets its first catch-up ``QBD_SYNC_CATCHUP_INTERVAL`` (±20 %) after it
is first seen parked; each failed health check doubles the delay up to 6 h (the Replayer
schedules it), and the jitter spreads companies parked together over time. Due companies
are handed to ``request_replay``, which queues a replay in the company's lane on the instance
that owns it (and declines otherwise). A company left ``replaying`` by a crash or rebalance
is due at once, so its new owner resumes the replay.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from processors.companies import CompanyBook, CompanyState
from processors.logs import get_logger
from processors.pipeline.connection import CompanyConnection

__all__ = ["CatchUp"]

log = get_logger("catchup")
_REQUEST_MEMORY = 300.0  # seconds before a queued replay that changed nothing is asked again


class CatchUp:
    """Finds parked companies whose backoff elapsed and asks for their replay."""

    def __init__(
        self,
        *,
        companies: CompanyBook,
        connection: CompanyConnection,
        first_delay: timedelta,
        request_replay: Callable[[str], bool],
    ) -> None:
        self._companies = companies
        self._connection = connection
        self._first = first_delay
        self._request = request_replay
        self._requested: dict[tuple[str, datetime | None], float] = {}

    @property
    def tick_seconds(self) -> float:
        """How often to look for due companies: a quarter of the first delay, 0.1-30 s."""
        return min(30.0, max(0.1, self._first.total_seconds() / 4))

    async def run_forever(self) -> None:
        """Tick until cancelled; a failed tick (PostgreSQL away) is logged and retried."""
        while True:
            await asyncio.sleep(self.tick_seconds)
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the timer must outlive a database blip
                log.warning("catch-up tick failed", error=f"{type(exc).__name__}: {exc}")

    async def tick(self) -> list[str]:
        """One pass: schedule newly parked companies, queue replays of due ones."""
        now = datetime.now(UTC)
        clock = time.monotonic()
        self._requested = {
            key: at for key, at in self._requested.items() if clock - at < _REQUEST_MEMORY
        }
        queued = []
        for company in await self._companies.due_for_catchup(now):
            name = company.company_id
            if company.state is CompanyState.PARKED and company.next_catchup_at is None:
                await self._connection.schedule_catchup(name, "parked: first catch-up")
                continue
            key = (name, company.next_catchup_at)
            if key in self._requested or not self._request(name):
                continue  # already queued in its lane, or another instance owns it
            self._requested[key] = clock
            queued.append(name)
            log.info(
                "catch-up replay queued",
                company_id=name,
                state=str(company.state),
                attempt=company.catchup_attempts,
            )
        return queued
