"""kill -9 between publishing a result and the ledger commit (issue 14, item 6).

Results are at least once: a processor killed after its ``qbd.sync.succeeded`` reached the
broker but before the ledger said ``synced`` runs the event again after restart (the ledger
still says ``attempting``), adopts the object it wrote and publishes the result again. The
copy is harmless and visible: the same CloudEvent id ``result:<event id>`` (consumers'
dedupe key), the same event id and QuickBooks id, and one object in the company file.

The kill lands at that point deterministically, without any hook in the processor: the
QuickBooks write is slowed down, the test locks the event's ledger row while the write is in
flight, so the ledger commit after the result waits on the lock; the test kills the processor
once the result is on the topic, ends the dead processor's waiting statement and lets go.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from processors.testing import TopicReader, async_wait_for, unique_name
from schemas import EventType, example_event
from tests.chaos.kit import Feed, connect_companies, ledger_statuses


async def test_a_kill_between_result_and_ledger_commit_republishes_the_same_result(
    stack: Any, sim: Any, chaos_settings: Any, processors: Any
) -> None:
    """The result published twice carries one CloudEvent id and one QuickBooks id."""
    settings = await chaos_settings(4)
    (company,) = connect_companies(sim, 1)
    event = example_event(EventType.CUSTOMER_UPSERTED, companyid=company.id, id=unique_name("e"))
    event["data"].update(customer_id="cus-once", name=f"{company.id} once")
    results = TopicReader(settings, settings.sync_results_topic)

    def ours(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
        # The processor shares the test database: parked work earlier tests left there may
        # be probed and replayed by it too, and its results land on this topic as well.
        return [result for result in found if result["data"]["event_id"] == event["id"]]

    sim.set_faults(company_latency_ms={company.end_user: [1500, 1500]})
    process = processors(settings)
    lock = await asyncpg.connect(stack.database_url)
    try:
        await Feed(settings).publish([event])
        await _wait_status(stack, event["id"], "attempting")
        holding = lock.transaction()
        await holding.start()
        status = await lock.fetchval(
            "SELECT status FROM ledger WHERE event_id = $1 FOR UPDATE", event["id"]
        )
        assert status == "attempting", "the write finished before the lock was taken"
        await results.wait_for(lambda found: len(ours(found)) == 1, timeout=30)
        blocked = await _blocked_by(lock, timeout=30)
        process.kill()
        await lock.fetchval("SELECT pg_terminate_backend($1)", blocked)
        await holding.rollback()
        after_kill = await ledger_statuses(stack.database_url, [event["id"]])
        sim.set_faults()
        processors(settings)
        await _wait_status(stack, event["id"], "synced")
        copies = ours(await results.wait_for(lambda found: len(ours(found)) >= 2, timeout=60))
    finally:
        await lock.close()
        await results.close()
    written = [c for c in sim.objects(company.end_user, "customers") if c.get("externalId")]

    assert after_kill == {event["id"]: "attempting"}
    assert len(copies) == 2
    assert {c["id"] for c in copies} == {f"result:{event['id']}"}
    assert {c["data"]["event_id"] for c in copies} == {event["id"]}
    assert {c["data"]["status"] for c in copies} == {"synced"}
    assert copies[0]["data"] == copies[1]["data"]
    assert [c["id"] for c in written] == [copies[0]["data"]["qbd_id"]]


async def _wait_status(stack: Any, event_id: str, status: str) -> None:
    async def reached() -> bool:
        found = await ledger_statuses(stack.database_url, [event_id])
        return found.get(event_id) == status

    await async_wait_for(reached, timeout=60, interval=0.01, what=f"ledger {status}")


async def _blocked_by(connection: asyncpg.Connection, *, timeout: float) -> int:
    """The pid of the statement waiting on ``connection``'s lock (the ledger commit)."""

    async def waiting() -> int | None:
        pid: int | None = await connection.fetchval(
            "SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))",
            connection.get_server_pid(),
        )
        return pid

    pid = await async_wait_for(waiting, timeout=timeout, interval=0.02, what="the ledger commit")
    assert pid is not None  # async_wait_for returns only a truthy value
    return pid
