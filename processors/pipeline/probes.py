"""When to look whether a parked company's QuickBooks is back: the schedule and the budget.

Machines come back in a pattern: most outages are short (QuickBooks closed for a moment, a
dialog left open, a reboot) and the rest last until someone is at the machine again (the
next morning). So a parked company is probed often while its outage is young and less
and less often after that:

    outage age        interval (each probe waits 75-100 % of it: jitter, never later)
    < 1 h             QBD_SYNC_CATCHUP_INTERVAL (1 min)
    1 h, 2 h, 3 h ... doubling smoothly each hour: 1 min at 1 h, 2 at 2 h, 4 at 3 h ...
    any               at most QBD_SYNC_PROBE_MAX_INTERVAL (15 min, reached near 5 h)
    needs a person    QBD_SYNC_SETUP_PROBE_INTERVAL (1 h): setup never finished, no
                      end-user, access refused (403); the end-user list tells us sooner

``ProbeBudget`` spaces probes evenly, at most ``QBD_SYNC_MAX_PROBES_PER_SECOND`` across all
companies of the process, so a mass outage costs a predictable request rate.
``worth_probing_now`` reads what Conductor's end-user list says for free. All pure but
``ProbeBudget.turn``, which sleeps until its slot.

The back-off grows continuously (no step at the hour): a machine that comes back just after
the first hour is found within about the young interval, not twice it.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from processors.config import Settings
from processors.gateway import ConnectionInfo

__all__ = ["ProbeBudget", "ProbeSchedule", "worth_probing_now"]

_MAX_DOUBLINGS = 30  # 2**30 intervals is far beyond any cap; keeps the arithmetic finite


@dataclass(frozen=True, slots=True, kw_only=True)
class ProbeSchedule:
    """How long to wait before the next probe of a parked company."""

    first: timedelta = timedelta(minutes=1)
    """The first delay after parking, and the interval while the outage is young."""
    backoff_after: timedelta = timedelta(hours=1)
    """How long an outage is young; after it the interval doubles (smoothly) every such period."""
    cap: timedelta = timedelta(minutes=15)
    """The longest interval between two probes."""
    setup: timedelta = timedelta(hours=1)
    """The interval for problems only a person can fix (setup, access refused)."""
    jitter: float = 0.25
    """Each delay is drawn from [1 - jitter, 1] x the interval, so companies spread out."""

    @classmethod
    def from_settings(cls, settings: Settings) -> ProbeSchedule:
        """The schedule the settings describe."""
        return cls(
            first=settings.catchup_interval,
            backoff_after=settings.probe_backoff_after,
            cap=settings.probe_max_interval,
            setup=settings.setup_probe_interval,
        )

    def interval(self, age: timedelta, *, needs_person: bool = False) -> timedelta:
        """The interval for an outage ``age`` old, before jitter."""
        if needs_person:
            return self.setup
        if age < self.backoff_after:
            return min(self.first, self.cap)
        doublings = min((age - self.backoff_after) / self.backoff_after, _MAX_DOUBLINGS)
        longer: timedelta = self.first * 2.0**doublings
        return min(longer, self.cap)

    def delay(self, age: timedelta, *, needs_person: bool = False, draw: float) -> timedelta:
        """The wait before the next probe; ``draw`` in [0, 1) picks the jitter."""
        scale = 1.0 - self.jitter * min(max(draw, 0.0), 1.0)
        return self.interval(age, needs_person=needs_person) * scale


class ProbeBudget:
    """At most ``per_second`` probes a second across all companies, evenly spaced.

    Each probe takes the next free slot; slots are ``1 / per_second`` apart, so any window
    of ``T`` seconds holds at most ``T * per_second + 1`` probes, with no bursts. A probe
    takes its slot right before its request (``turn``), so whatever delays it on the way
    (a busy lane, the database) cannot bunch requests.
    """

    def __init__(self, per_second: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        if not per_second > 0:
            raise ValueError("per_second must be positive")
        self.per_second = per_second
        self._gap = 1.0 / per_second
        self._clock = clock
        self._next = -math.inf
        self.waiting = 0
        """Callers of ``turn`` waiting for a slot now."""

    def take(self) -> bool:
        """Take the slot if it is free now (an event's look); False leaves it free."""
        now = self._clock()
        if now < self._next:
            return False
        self._next = now + self._gap
        return True

    def wait_seconds(self) -> float:
        """How long until the next slot is free (0 when it is free now)."""
        return max(0.0, self._next - self._clock())

    async def turn(self) -> None:
        """Wait for the next free slot and take it (``waiting`` counts who waits now)."""
        self.waiting += 1
        try:
            # A slot frees with the clock, not on a signal; others may take it first.
            while not self.take():  # noqa: ASYNC110 - waits on a clock, there is no event
                await asyncio.sleep(self.wait_seconds())
        finally:
            self.waiting -= 1


def worth_probing_now(
    info: ConnectionInfo | None, *, last_probe: datetime | None, needs_person: bool
) -> bool:
    """Whether the end-user list shows a change since ``last_probe`` that a probe should see.

    - a company parked for setup whose end-user appeared or whose connection was created
      since: the user finished the setup;
    - any parked company whose connection answered someone else (another instance, the app
      itself) since: its QuickBooks is back.

    ``lastRequestAt`` is not used: our own failed probes move it, so it tells nothing new.
    """
    if info is None:
        return False
    if last_probe is None:
        return True
    if needs_person and _after(info.created_at, last_probe):
        return True
    if needs_person and _after(info.connected_at, last_probe):
        return True
    return _after(info.last_successful_request_at, last_probe)


def _after(moment: datetime | None, than: datetime) -> bool:
    return moment is not None and moment > than
