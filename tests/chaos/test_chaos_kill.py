"""kill -9 of the processor aimed at writes in flight, one of them mid-replay: nothing lost."""

from __future__ import annotations

import asyncio
import os
import random
from collections import Counter
from typing import Any

import pytest

from processors.markers import external_id_for
from processors.testing import async_wait_for, committed_positions, unique_name
from schemas import EventType, example_event
from tests.chaos.kit import (
    Feed,
    Kill,
    LedgerRow,
    Workload,
    commit_violations,
    connect_companies,
    generate_workload,
    kill_mid_write,
    marker,
    verify,
    wait_settled,
)

_SEED = 20261124
_PARTITIONS = 4
_SLOW = [1000, 1500]  # ms per request to the replayed company's file during the replay kill


def sync_requested(company: str) -> dict[str, Any]:
    """A user's "Sync now" for ``company``."""
    return example_event(EventType.SYNC_REQUESTED, companyid=company, id=unique_name("evt-sync"))


@pytest.mark.timeout(1200 if os.environ.get("QBD_SYNC_CHAOS") == "full" else 300)
async def test_kill_9_mid_write_and_mid_replay_loses_and_duplicates_nothing(
    stack: Any, sim: Any, scale: Any, chaos_settings: Any, processors: Any, db: Any
) -> None:
    """SIGKILL aimed at writes in flight, again and again (one mid-replay): it still ends exact."""
    kills = scale(2, 20)
    rng = random.Random(_SEED)
    settings = await chaos_settings(_PARTITIONS, max_concurrent_companies=64)
    companies = connect_companies(sim, scale(6, 16))
    offline = companies[0]
    workload = generate_workload(companies, scale(25, 60), seed=_SEED, sync_requested_rate=0.03)
    replay_request = sync_requested(offline.id)
    workload = workload + Workload((offline,), (replay_request,))
    ids = [event["id"] for event in workload.events]
    # Writes slow enough (QuickBooks takes seconds) that a kill aimed at one lands inside it.
    latency = [150, 350]
    sim.set_faults(latency_ms=latency)
    sim.set_state(offline.end_user, "offline")  # its work parks, and is replayed mid-run
    feed = Feed(settings)
    # Published as the run goes, so every kill has work left to hit (a backlog that ran out
    # before the last kill would leave nothing to progress and nothing in flight).
    reserve = list(workload.events[:-1])
    published: list[str] = []

    async def top_up() -> None:
        left = await _progressable(db, published)
        if len(left) < _LOW_WATER and reserve:
            batch = [reserve.pop(0) for _ in range(min(_TOP_UP, len(reserve)))]
            await feed.publish(batch)
            published.extend(event["id"] for event in batch)

    await top_up()
    process = processors(settings)
    shots: list[Kill] = []
    violations: list[str] = []
    replay_kill = kills // 2
    for kill in range(kills):
        await _owns_every_partition(process, settings)
        await top_up()
        await _progress_or_stall(db, published, process)
        targets = companies
        if kill == replay_kill:
            # One company's writes, one at a time: slower ones, so the kill aimed at one is
            # not late for it (the aim and the kill take some tens of milliseconds).
            sim.set_faults(latency_ms=latency, company_latency_ms={offline.end_user: _SLOW})
            sim.set_state(offline.end_user, "online")
            await feed.publish([replay_request])

            async def replaying() -> bool:
                rows = await db("SELECT state FROM companies WHERE company_id = $1", offline.id)
                return bool(rows) and rows[0]["state"] == "replaying"

            await async_wait_for(replaying, timeout=60, interval=0.05, what="the replay to run")
            targets = [offline]  # the replay's own writes
        await asyncio.sleep(rng.uniform(0.0, 1.5))  # hold: which write is hit stays random
        shots.append(await kill_mid_write(process, sim, stack.database_url, targets))
        sim.set_faults(latency_ms=latency)
        rows = await db(
            "SELECT l.event_id, l.status, l.source_topic, l.source_partition, l.source_offset,"
            " EXISTS(SELECT 1 FROM dlq_index d WHERE d.event_id = l.event_id) AS in_dlq"
            " FROM ledger l WHERE l.event_id = ANY($1::text[])",
            ids,
        )
        violations += _commit_violations(rows, await committed_positions(settings), settings)
        process = processors(settings)
    await feed.publish(reserve)  # whatever the kills did not need
    await wait_settled(
        workload, settings, feed.ends, timeout=scale(120, 300), alive=lambda: process.alive
    )
    verdict = await verify(workload, settings, sim, feed.ends, label=f"kill -9 x{kills}")
    mid_write = sum(shot.mid_write for shot in shots)
    print(f"kills that landed mid-write: {mid_write}/{kills}")
    for n, shot in enumerate(shots):
        cut = ", ".join(str(e["path"]).rsplit("/", 1)[-1] for e in shot.cut) or "none"
        attempting = len(shot.attempting)
        print(f"  kill {n}: aimed={shot.aimed}, writes cut: {cut}, attempting: {attempting}")

    assert verdict.ok, verdict.problems
    assert verdict.failed == 0, verdict.problems
    assert violations == []
    assert process.alive
    assert mid_write >= scale(2, kills // 2), [shot.cut for shot in shots]
    assert shots[replay_kill].mid_write, "the replay kill cut no replayed write"
    replayed = [obj["externalId"] for obj in sim.objects(offline.end_user, "invoices")]
    assert replayed, "the offline company's invoices were never replayed"
    assert {marker(m) for m in replayed} <= {marker(external_id_for(i)) for i in ids}


_LOW_WATER = 150  # events left to run below which the next part of the workload is published
_TOP_UP = 250
_WAITS = ("synced", "failed", "parked", "waiting_dependency")
"""End states and named waits: an event in one of them has nothing left to do by itself."""


async def _progressable(db: Any, ids: list[str]) -> dict[str, str]:
    """Published events not yet in an end state or a named wait: id -> ledger status."""
    rows = await db("SELECT event_id, status FROM ledger WHERE event_id = ANY($1::text[])", ids)
    statuses = {row["event_id"]: row["status"] for row in rows}
    return {i: statuses.get(i, "not read yet") for i in ids if statuses.get(i) not in _WAITS}


async def _owns_every_partition(process: Any, settings: Any) -> None:
    """Wait until the (only) processor is assigned every input partition.

    A processor started right after a kill -9 may first share the group with the dead one
    until the broker expires its session; work on the dead one's partitions cannot move
    until then, which is the broker's group protocol, not a stall.
    """
    topic = settings.input_topics[0]
    every = sorted(f"{topic}[{n}]" for n in range(_PARTITIONS))

    async def owns_all() -> bool:
        if not process.alive:
            raise RuntimeError(f"qbd-sync exited: {process.tail()}")
        assigned = [e for e in process.logs() if e.get("event") == "partitions assigned"]
        return bool(assigned) and sorted(assigned[-1]["partitions"]) == every

    await async_wait_for(owns_all, timeout=90, interval=0.1, what="every partition assigned")


async def _final_count(db: Any, ids: list[str]) -> int:
    rows = await db(
        "SELECT count(*) AS n FROM ledger WHERE event_id = ANY($1::text[])"
        " AND status IN ('synced', 'failed')",
        ids,
    )
    return int(rows[0]["n"])


async def _progress_or_stall(db: Any, ids: list[str], process: Any) -> None:
    """Wait for one more event to reach synced/failed; if none does in 60 s, fail saying why.

    "No work left" (everything published is final, parked or waiting for a dependency) is
    no stall: nothing can progress, so there is nothing to wait for. Work left and no
    progress is a restarted processor that stalled: a product bug, reported with what the
    events and their companies look like and what the processor logged.
    """
    before = await _final_count(db, ids)
    if not await _progressable(db, ids):
        print(f"no work left to progress ({before} events final); the kill goes ahead")
        return

    async def progressed() -> bool:
        return await _final_count(db, ids) > before

    try:
        await async_wait_for(progressed, timeout=60, interval=0.1, what="progress")
    except TimeoutError:
        left = await _progressable(db, ids)
        if not left:
            return  # the last work ended in a named wait meanwhile: nothing to progress
        companies = await db(
            "SELECT state FROM companies WHERE company_id IN"
            " (SELECT company_id FROM ledger WHERE event_id = ANY($1::text[]))",
            list(left),
        )
        assigned = process.find_log("partitions assigned") or {}
        raise AssertionError(
            f"a restarted processor stalled: {len(left)} events could run and none reached"
            f" synced/failed in 60 s; their statuses: {Counter(left.values())}; companies:"
            f" {Counter(row['state'] for row in companies)}; assigned:"
            f" {assigned.get('partitions')}; processor log: {process.tail(12)}"
        ) from None


def _commit_violations(rows: list[Any], committed: dict[int, int], settings: Any) -> list[str]:
    """Commits the group holds past events that were not in a durable state at the kill."""
    topic = settings.input_topics[0]
    # A record copied to the DLQ reached a durable state when it was parked; its ledger row
    # says 'attempting' again while a replay re-runs it, long after its offset was committed.
    ledger = {
        row["event_id"]: LedgerRow("parked" if row["in_dlq"] else row["status"]) for row in rows
    }
    records = {
        (topic, row["source_partition"], row["source_offset"]): row["event_id"]
        for row in rows
        if row["source_topic"] == topic
    }
    return commit_violations({(topic, p): c for p, c in committed.items()}, records, ledger)
