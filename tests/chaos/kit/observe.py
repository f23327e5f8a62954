"""Observing a run (I/O): publish the workload, wait for it to settle, collect what happened.

``observe`` reads the company files (``/_sim/companies/{id}/objects?type=...``, every list
in ``OBJECT_KINDS``), the simulator's request log (to order objects across lists and to
tell the processor's writes from the seeded demo data), the results topic, the ledger, the
DLQ index and the group's committed offsets.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from processors.config import Settings
from processors.testing import TopicReader, committed_positions, produce
from tests.chaos.kit.checker import (
    OBJECT_KINDS,
    LedgerRow,
    Observations,
    QbObject,
    Result,
    Verdict,
    check,
)
from tests.chaos.kit.final import held
from tests.chaos.kit.workload import ChaosCompany, Workload

__all__ = ["Feed", "ledger_statuses", "observe", "verify", "wait_settled"]

_FINAL = ("synced", "failed")
_QUICKBOOKS = "/v1/quickbooks-desktop/"


class Feed:
    """Publishes to the input topics and remembers each partition's end position."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self.ends: dict[tuple[str, int], int] = {}

    async def publish(
        self, events: Sequence[dict[str, Any] | bytes], *, key: bytes | None = None
    ) -> None:
        """Publish ``events`` in order to the first input topic (see ``processors.testing``)."""
        topic = self._settings.input_topics[0]
        sent = await produce(self._settings, list(events), topic=topic, key=key)
        for partition, end in sent.items():
            self.ends[(topic, partition)] = max(self.ends.get((topic, partition), 0), end)


async def observe(
    workload: Workload,
    settings: Settings,
    simulator: Any,
    ends: Mapping[tuple[str, int], int],
    *,
    database_url: str | None = None,
) -> Observations:
    """Collect the observations ``check`` needs from the simulator, broker and PostgreSQL.

    ``ends`` are the input partitions' end positions as the producer saw them (a ``Feed``'s):
    Tansu's ListOffsets answer cannot be trusted for that.
    """
    import asyncpg

    log = await asyncio.to_thread(simulator.log)
    created = _creations(log)
    objects = {
        company.id: await _company_file(simulator, company, created, len(log))
        for company in workload.companies
    }
    reader = TopicReader(settings, settings.sync_results_topic)
    try:
        await reader.drain()
        results = [_result(event) for event in reader.events()]
    finally:
        await reader.close()
    ids = [event["id"] for event in workload.events]
    names = [company.id for company in workload.companies]
    connection = await asyncpg.connect(database_url or settings.secret("database_url"))
    try:
        rows = await connection.fetch(
            """SELECT event_id, status, qbd_id, source_topic, source_partition, source_offset
               FROM ledger WHERE event_id = ANY($1::text[])""",
            ids,
        )
        parked = await connection.fetch(
            """SELECT event_id FROM dlq_index
               WHERE company_id = ANY($1::text[]) AND dlq_topic = $2 AND status = 'parked'""",
            names,
            settings.dlq_topic,
        )
    finally:
        await connection.close()
    return Observations(
        objects=objects,
        results=results,
        ledger={row["event_id"]: _ledger_row(row) for row in rows},
        committed=await _committed(settings),
        ends=dict(ends),
        parked=frozenset(row["event_id"] for row in parked),
    )


def _creations(log: Sequence[Mapping[str, Any]]) -> dict[tuple[str, str, str], int]:
    """(end-user, list, object id) -> position in the log of the request that created it.

    List ids are unique per company file and list only, hence the three-part key.
    """
    created: dict[tuple[str, str, str], int] = {}
    for position, entry in enumerate(log):
        path = str(entry.get("path", "")).rstrip("/")
        if entry.get("method") != "POST" or not entry.get("object_id"):
            continue
        kind = path.removeprefix(_QUICKBOOKS)
        if kind in OBJECT_KINDS:  # a create; an update's path ends with the object's id
            created.setdefault((str(entry["end_user_id"]), kind, entry["object_id"]), position)
    return created


async def _company_file(
    simulator: Any, company: ChaosCompany, created: Mapping[tuple[str, str, str], int], end: int
) -> list[QbObject]:
    """The objects the processor wrote into the company's file, in creation order.

    Seeded demo objects (no ``externalId``, never created through the API) are left out;
    within a list the simulator's order is creation order, across lists the log's. Each
    object carries its memo and total, for the final-state check.
    """
    found: list[tuple[int, int, QbObject]] = []
    for kind in OBJECT_KINDS:
        listed = await asyncio.to_thread(simulator.objects, company.end_user, kind)
        for index, obj in enumerate(listed):
            position = created.get((company.end_user, kind, obj["id"]))
            if obj.get("externalId") or position is not None:
                qb_object = QbObject(
                    obj["id"], obj.get("externalId") or None, kind, state=held(kind, obj)
                )
                found.append((end if position is None else position, index, qb_object))
    return [qb_object for _, _, qb_object in sorted(found, key=lambda f: (f[0], f[1]))]


async def _committed(settings: Settings) -> dict[tuple[str, int], int]:
    committed: dict[tuple[str, int], int] = {}
    for topic in settings.input_topics:
        for partition, offset in (await committed_positions(settings, topic=topic)).items():
            committed[(topic, partition)] = offset
    return committed


def _result(event: dict[str, Any]) -> Result:
    data = event.get("data") or {}
    error = data.get("error") or {}
    return Result(
        event_id=str(data.get("event_id")),
        status=str(data.get("status")),
        qbd_id=data.get("qbd_id"),
        error_code=error.get("code"),
    )


def _ledger_row(row: Any) -> LedgerRow:
    source = None
    if row["source_topic"] is not None:
        source = (row["source_topic"], row["source_partition"], row["source_offset"])
    return LedgerRow(row["status"], row["qbd_id"], source)


async def verify(
    workload: Workload,
    settings: Settings,
    simulator: Any,
    ends: Mapping[tuple[str, int], int],
    *,
    label: str = "",
) -> Verdict:
    """Observe, check and print the one-line verdict (prefixed with ``label``)."""
    verdict = check(workload, await observe(workload, settings, simulator, ends))
    print(f"{label + ': ' if label else ''}{verdict.line()}", flush=True)
    return verdict


async def ledger_statuses(database_url: str, event_ids: Sequence[str]) -> dict[str, str]:
    """The ledger status of each of ``event_ids`` that has a row."""
    import asyncpg

    connection = await asyncpg.connect(database_url)
    try:
        rows = await connection.fetch(
            "SELECT event_id, status FROM ledger WHERE event_id = ANY($1::text[])", list(event_ids)
        )
    finally:
        await connection.close()
    return {row["event_id"]: row["status"] for row in rows}


async def wait_settled(
    workload: Workload,
    settings: Settings,
    ends: Mapping[tuple[str, int], int],
    *,
    timeout: float,
    alive: Callable[[], bool] | None = None,
) -> None:
    """Wait until every event is final and every input offset committed.

    ``alive`` (optional, e.g. ``lambda: proc.alive``) makes the wait fail fast when false.
    """
    ids = [event["id"] for event in workload.events]
    database_url = settings.secret("database_url")
    deadline = time.monotonic() + timeout
    state = ""
    while time.monotonic() < deadline:
        if alive is not None and not alive():
            raise RuntimeError(f"the processor died while settling ({state})")
        with contextlib.suppress(Exception):  # a dependency may be restarting
            statuses = await ledger_statuses(database_url, ids)
            final = sum(status in _FINAL for status in statuses.values())
            behind = -1
            if final == len(ids):
                committed = await _committed(settings)
                behind = sum(max(0, end - committed.get(tp, 0)) for tp, end in ends.items())
            state = f"{final}/{len(ids)} final, {behind} offsets uncommitted"
            if final == len(ids) and behind == 0:
                return
        await asyncio.sleep(0.5)
    raise TimeoutError(f"the run did not settle within {timeout:.0f} s: {state}")
