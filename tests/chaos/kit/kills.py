"""SIGKILLs aimed at writes in flight, and the proof, read from outside, that they landed there.

A write is in flight when the processor has committed ``attempting`` for an event of a
company and the simulator is working on a request to that company's file. ``kill_mid_write``
waits for that moment and sends SIGKILL at once. The simulator's request log then shows
whether the kill really landed mid-write: a write request to one of the companies that
started before the signal and was answered only after the processor had died, so the
processor never saw the answer (QuickBooks may well have saved the object).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from processors.testing import async_wait_for
from tests.chaos.kit.process import ProcessorProcess
from tests.chaos.kit.workload import ChaosCompany

__all__ = ["Kill", "kill_mid_write", "writes_cut"]

_QUICKBOOKS: Final = "/v1/quickbooks-desktop/"
_WRITE_METHODS: Final = frozenset({"POST", "DELETE"})
_LONG_WRITE_MS: Final = (1200.0, 1600.0)  # a QuickBooks Desktop write, while a kill is aimed


@dataclass(frozen=True, slots=True)
class Kill:
    """One SIGKILL: when it went, whether it was aimed, and which writes it cut."""

    signalled_at: float
    dead_at: float
    aimed: bool
    """A write was seen in flight when the signal went (else the aim timed out)."""
    cut: tuple[Mapping[str, Any], ...]
    """Write requests (simulator log entries) in flight across the kill."""
    attempting: tuple[str, ...]
    """Event ids the ledger still called ``attempting`` once the processor was dead."""

    @property
    def mid_write(self) -> bool:
        """Whether the kill landed while a write was in flight."""
        return bool(self.cut)


def writes_cut(
    log: Sequence[Mapping[str, Any]],
    end_users: Collection[str],
    *,
    signalled_at: float,
    dead_at: float,
) -> list[Mapping[str, Any]]:
    """Write requests to ``end_users``' files sent before the signal, answered after death."""
    cut = []
    for entry in log:
        path = str(entry.get("path", ""))
        if entry.get("end_user_id") not in end_users or entry.get("method") not in _WRITE_METHODS:
            continue
        if not path.startswith(_QUICKBOOKS):
            continue  # end-users and auth sessions are Conductor's, not QuickBooks writes
        started = _seconds(entry["started_at"])
        finished = _seconds(entry["finished_at"])
        if started <= signalled_at and finished > dead_at:
            cut.append(entry)
    return cut


def _seconds(stamp: str) -> float:
    return datetime.fromisoformat(stamp).timestamp()


async def kill_mid_write(
    process: ProcessorProcess,
    simulator: Any,
    database_url: str,
    companies: Sequence[ChaosCompany],
    *,
    timeout: float = 30.0,
) -> Kill:
    """Wait (up to ``timeout``) for a write in flight to one of ``companies``, then SIGKILL.

    Returns once the simulator has answered every request the dead processor left behind,
    so the request log is complete for the kill. The process is killed even if no write
    came within ``timeout``; ``Kill.aimed`` then says so.
    """
    import asyncpg

    ids = [company.id for company in companies]
    # QuickBooks takes seconds per write: the aimed companies' next writes take that long,
    # so the kill lands inside one however loaded the machine is (a short write seen in
    # flight could end between the aim and the process's death).
    config = await asyncio.to_thread(simulator.faults)
    slow = {company.end_user: _LONG_WRITE_MS for company in companies}
    longer = {**config, "company_latency_ms": {**config["company_latency_ms"], **slow}}
    await asyncio.to_thread(lambda: simulator.set_faults(**longer))
    # A write sent before the change ends within the longest latency configured before it.
    before = [config["latency_ms"], *config["company_latency_ms"].values()]
    long_only_after = time.monotonic() + max(high for _, high in before) / 1000
    connection = await asyncpg.connect(database_url)
    try:
        aimed = await _aim(connection, simulator, companies, timeout, after=long_only_after)
        signalled_at = time.time()
        process.kill()
        dead_at = time.time()
        await asyncio.to_thread(lambda: simulator.set_faults(**config))
        await _quiet(simulator, companies)
        rows = await connection.fetch(
            "SELECT event_id FROM ledger WHERE status = 'attempting' AND company_id = ANY($1)",
            ids,
        )
    finally:
        await connection.close()
        await asyncio.to_thread(lambda: simulator.set_faults(**config))
    log = await asyncio.to_thread(simulator.log)
    end_users = {company.end_user for company in companies}
    cut = writes_cut(log, end_users, signalled_at=signalled_at, dead_at=dead_at)
    return Kill(
        signalled_at=signalled_at,
        dead_at=dead_at,
        aimed=aimed,
        cut=tuple(cut),
        attempting=tuple(sorted(row["event_id"] for row in rows)),
    )


async def _aim(
    connection: Any,
    simulator: Any,
    companies: Sequence[ChaosCompany],
    timeout: float,
    *,
    after: float,
) -> bool:
    """Wait until a company with an ``attempting`` event has a write in QuickBooks.

    A write, not any request: a lifecycle event reads the object first (its revision), and a
    kill during that read cuts no write. Only from ``after`` (monotonic seconds) on.
    """
    by_id = {company.id: company for company in companies}

    async def write_in_flight() -> bool:
        if time.monotonic() < after:
            return False  # what is in flight may still be a short write sent earlier
        rows = await connection.fetch(
            "SELECT DISTINCT company_id FROM ledger"
            " WHERE status = 'attempting' AND company_id = ANY($1)",
            list(by_id),
        )
        for row in rows:
            stats = await asyncio.to_thread(simulator.stats, by_id[row["company_id"]].end_user)
            if stats["writes_in_flight"] > 0:
                return True
        return False

    try:
        await async_wait_for(write_in_flight, timeout=timeout, interval=0.005, what="a write")
    except TimeoutError:
        return False
    return True


async def _quiet(simulator: Any, companies: Sequence[ChaosCompany]) -> None:
    """Wait until the simulator has answered every request to ``companies``' files."""

    async def idle() -> bool:
        for company in companies:
            stats = await asyncio.to_thread(simulator.stats, company.end_user)
            if stats["writes_in_flight"] > 0:
                return False
        return True

    await async_wait_for(idle, timeout=30, interval=0.02, what="the simulator to go idle")
