"""Readiness probes: the broker and PostgreSQL, asked every few seconds with a deadline each.

CONTRACT section 5a: ``/readyz`` answers 503 naming what is down within 15 s of an outage
and 200 within 15 s of recovery. Each probe runs every ``interval`` seconds and gives up
after ``timeout``, so either shows within ``interval + timeout`` (7 s by default). A probe
that hangs (a frozen broker keeps its sockets open) counts as down once its time is up.

The PostgreSQL probe is the count of open attention items: one indexed query that proves the
database answers and feeds ``qbd_sync_attention_open`` with what only the database knows.
The Conductor key is not probed here: a refused key halts consuming (``Health.halted``).
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from processors.health import Component, Health
from processors.logs import get_logger
from processors.metrics import Metrics

__all__ = ["BrokerPing", "OpenAttention", "Readiness"]

log = get_logger("readiness")


class BrokerPing(Protocol):
    """What the broker probe asks (``processors.publish.Publisher``)."""

    async def ping(self) -> None:
        """Return once the broker answered; raise when it cannot."""
        ...


class OpenAttention(Protocol):
    """What the PostgreSQL probe asks (``processors.attention.AttentionBook``)."""

    async def open_count(self) -> int:
        """How many attention items are open."""
        ...


class Readiness:
    """Probes the broker and PostgreSQL and reports them to ``Health``."""

    def __init__(
        self,
        *,
        health: Health,
        metrics: Metrics,
        broker: BrokerPing,
        attention: OpenAttention,
        interval: float = 2.0,
        timeout: float = 5.0,
    ) -> None:
        self._health = health
        self._metrics = metrics
        self._broker = broker
        self._attention = attention
        self.interval = interval
        self.timeout = timeout
        self._reported_down: set[Component] = set()

    async def run_forever(self) -> None:
        """Probe every ``interval`` seconds until cancelled."""
        while True:
            await self.probe()
            await asyncio.sleep(self.interval)

    async def probe(self) -> None:
        """Probe both dependencies once, side by side."""
        await asyncio.gather(self._probe_database(), self._probe_broker())

    async def _probe_database(self) -> None:
        try:
            async with asyncio.timeout(self.timeout):
                count = await self._attention.open_count()
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready", with its reason
            self._down("database", exc)
            return
        self._up("database")
        self._metrics.set_attention_open(count)

    async def _probe_broker(self) -> None:
        try:
            async with asyncio.timeout(self.timeout):
                await self._broker.ping()
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready", with its reason
            self._down("broker", exc)
            return
        self._up("broker")

    def _down(self, component: Component, exc: Exception) -> None:
        if isinstance(exc, TimeoutError):
            detail = f"no answer within {self.timeout:g} s"
        else:
            detail = f"{type(exc).__name__}: {exc}"
        if component not in self._reported_down:
            self._reported_down.add(component)
            log.warning("dependency down", dependency=component, detail=detail)
        self._health.set_failed(component, detail)

    def _up(self, component: Component) -> None:
        if component in self._reported_down:
            self._reported_down.discard(component)
            log.info("dependency answers again", dependency=component)
        self._health.set_ok(component)
