"""CatchUp: the background probes of waiting companies (DESIGN.md section 5a, issue 19).

A parked company's first probe comes ``QBD_SYNC_CATCHUP_INTERVAL`` after it parked; each
failed check schedules the next one by ``ProbeSchedule`` (short while the outage is young,
backing off to 15 minutes). Every tick (a second) this class takes the due companies this
instance owns, oldest first, and asks for a replay in each company's lane
(``request_replay``; the replay checks health first and replays only when healthy). Each
check takes a ``ProbeBudget`` slot right before its request, so probes never exceed the
configured rate; a tick queues no more than the budget serves in a tick, less those still
waiting for a slot, so a mass outage never fills the lanes with waiting probes. A company left
``replaying`` by a crash or rebalance is due at once, so its new owner resumes the replay.

Every ``QBD_SYNC_CATCHUP_INTERVAL`` it also reads Conductor's end-user list once
(``CompanyConnection.watch``: a finished setup is probed at once) and publishes state
changes whose publish failed earlier.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from processors.companies import CompanyBook
from processors.logs import get_logger
from processors.pipeline.connection import CompanyConnection
from processors.pipeline.probes import ProbeBudget
from schemas import CompanyConnectionState

__all__ = ["CatchUp"]

log = get_logger("catchup")
_REQUEST_MEMORY = 300.0  # seconds before a queued replay that changed nothing is asked again


class CatchUp:
    """Finds waiting companies whose probe is due and asks for their replay, within budget."""

    def __init__(
        self,
        *,
        companies: CompanyBook,
        connection: CompanyConnection,
        budget: ProbeBudget,
        interval: timedelta,
        owns: Callable[[str], bool],
        request_replay: Callable[[str], bool],
    ) -> None:
        self._companies = companies
        self._connection = connection
        self._budget = budget
        self._interval = interval.total_seconds()
        self._owns = owns
        self._request = request_replay
        self._requested: dict[tuple[str, datetime | None], float] = {}
        self._next_watch = 0.0

    @property
    def tick_seconds(self) -> float:
        """How often to look for due companies: a quarter of the interval, 0.1-1 s."""
        return min(1.0, max(0.1, self._interval / 4))

    async def run_forever(self) -> None:
        """Tick until cancelled; a failed tick (PostgreSQL away) is logged and retried."""
        while True:
            started = time.monotonic()
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the timer must outlive a database blip
                log.warning("catch-up tick failed", error=f"{type(exc).__name__}: {exc}")
            await asyncio.sleep(max(0.0, self.tick_seconds - (time.monotonic() - started)))

    async def tick(self) -> list[str]:
        """One pass: watch connections when due, then queue probes of due companies."""
        clock = time.monotonic()
        if clock >= self._next_watch:
            self._next_watch = clock + self._interval
            await self._connection.announce_pending()
            await self._connection.watch()
        return await self.probe_due()

    async def probe_due(self) -> list[str]:
        """Queue a replay (health check first) of each due company, one budget slot each."""
        now, clock = datetime.now(UTC), time.monotonic()
        self._requested = {
            key: at for key, at in self._requested.items() if clock - at < _REQUEST_MEMORY
        }
        room = math.ceil(self._budget.per_second * self.tick_seconds) + 1 - self._budget.waiting
        queued: list[str] = []
        for company in await self._companies.due_for_probe(now):
            name = company.company_id
            if not self._owns(name):
                continue  # another instance owns its lane and probes it
            replaying = company.state is CompanyConnectionState.REPLAYING
            if replaying and self._connection.replay_running(name):
                continue  # its replay runs in its lane right now
            if company.next_catchup_at is None and not replaying:
                await self._connection.schedule_probe(name, why="parked: first probe")
                continue
            key = (name, company.next_catchup_at)
            if key in self._requested:
                continue  # already queued in its lane
            if len(queued) >= room:
                break  # the rest wait for the next tick, oldest first
            if not self._request(name):
                continue
            self._requested[key] = time.monotonic()
            queued.append(name)
            log.info(
                "probe queued",
                company_id=name,
                state=str(company.state),
                probes=company.catchup_attempts,
            )
        return queued
