"""Chaos testing kit: a seeded workload, an invariant checker and a killable processor process.

Reused by ``tests/chaos`` and the benchmarks. Three parts, kept apart so the comparison can
be unit-tested without any server:

- ``generate_workload``: N companies x M events (new customers and items, invoices whose
  ref numbers encode their sequence, optional ``sync.requested``), in publish order.
- ``check``: pure. Given the workload and what was observed (objects in each company file in
  creation order, sync results, ledger rows, committed and end offsets, parked rows) it
  counts what was lost, duplicated, reordered, left uncommitted or left in flight.
  ``observe`` collects those observations from the simulator, the broker and PostgreSQL;
  ``verify`` does both and prints the one-line verdict.
- ``ProcessorProcess``: ``python -m processors run`` as a child process with the settings
  in its environment, to be killed with real signals.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import itertools
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import IO, Any, Final

import orjson
from pydantic import SecretStr

from processors.config import Settings, env_name
from processors.devstack import DEV_SECRET_KEY
from processors.markers import external_id_for
from processors.testing import (
    TopicReader,
    committed_positions,
    produce,
    testing_env,
    unique_name,
)
from schemas import EventType, example_event

__all__ = [
    "OBJECT_KINDS",
    "ChaosCompany",
    "Feed",
    "LedgerRow",
    "Observations",
    "ProcessorProcess",
    "QbObject",
    "Result",
    "Verdict",
    "Workload",
    "check",
    "commit_violations",
    "connect_companies",
    "generate_workload",
    "ledger_statuses",
    "observe",
    "settings_env",
    "verify",
    "wait_settled",
]

OBJECT_KINDS: Final = ("customers", "service-items", "non-inventory-items", "invoices")
"""The simulator lists a chaos workload writes to."""
_CREATES: Final = frozenset(
    {EventType.CUSTOMER_UPSERTED, EventType.ITEM_UPSERTED, EventType.INVOICE_CREATED}
)
_FINAL: Final = frozenset({"synced", "failed"})
_DURABLE: Final = _FINAL | {"parked", "waiting_dependency", "rejected"}
_CONFLICT: Final = "IDEMPOTENCY_CONFLICT"
_COUNTS: Final = ("events", "synced", "failed", "objects", "lost", "duplicated", "reordered",
                  "conflicting", "stray", "uncommitted", "in_flight", "redelivered_results",
                  "idempotency_conflicts")  # fmt: skip


# -- workload ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChaosCompany:
    """A connected company and the seeded QuickBooks ids its events map to."""

    id: str
    end_user: str
    customer_qbd: str
    item_qbd: str
    income_account_qbd: str


def connect_companies(simulator: Any, count: int, *, prefix: str = "chaos") -> list[ChaosCompany]:
    """Create ``count`` online end-users (sourceId = company id) seeded with the demo file."""
    from conductor import Conductor

    client = Conductor(api_key=DEV_SECRET_KEY, base_url=simulator.base_url, max_retries=0)
    companies = []
    for _ in range(count):
        company = unique_name(prefix)
        end_user = client.end_users.create(company_name=company, email="chaos@example.com",
                                           source_id=company)  # fmt: skip
        simulator.connect(end_user.id)
        simulator.seed(end_user.id, demo=True)
        accounts = simulator.objects(end_user.id, "accounts")
        income = next(a["id"] for a in accounts if a.get("accountType") == "income")
        companies.append(ChaosCompany(
            id=company, end_user=end_user.id,
            customer_qbd=simulator.objects(end_user.id, "customers")[0]["id"],
            item_qbd=simulator.objects(end_user.id, "service-items")[0]["id"],
            income_account_qbd=income,
        ))  # fmt: skip
    return companies


@dataclass(frozen=True, slots=True)
class Workload:
    """Events for a set of companies, in the order they are (to be) published."""

    companies: tuple[ChaosCompany, ...]
    events: tuple[dict[str, Any], ...]

    def __add__(self, other: Workload) -> Workload:
        companies = {c.id: c for c in (*self.companies, *other.companies)}
        return Workload(tuple(companies.values()), (*self.events, *other.events))

    def batches(self, count: int) -> list[list[dict[str, Any]]]:
        """The events cut into ``count`` consecutive batches (to publish over time)."""
        size = max(1, -(-len(self.events) // max(1, count)))
        return [list(self.events[i : i + size]) for i in range(0, len(self.events), size)]


def _event(event_type: EventType, company: str, event_id: str, **data: Any) -> dict[str, Any]:
    event = example_event(event_type, companyid=company, id=event_id)
    event["data"].update(data)
    return event


def _setup(company: ChaosCompany, tag: str) -> list[dict[str, Any]]:
    """Map the example customer, item and income account to the company file's seeded ones."""
    maps = [("customer", "cus_1001", company.customer_qbd),
            ("item", "item_consulting", company.item_qbd),
            ("account", "acct_sales", company.income_account_qbd)]  # fmt: skip
    events = []
    for n, (kind, app_id, qbd_id) in enumerate(maps):
        events.append(_event(EventType.MAPPING_SET, company.id, f"{company.id}-{tag}-map{n}",
                             object_type=kind, app_id=app_id, qbd_id=qbd_id))  # fmt: skip
    return events


def _step(rng: random.Random, company: ChaosCompany, tag: str, seq: int,
          sync_requested_rate: float) -> dict[str, Any]:  # fmt: skip
    event_id = f"{company.id}-{tag}-{seq:05d}"
    roll = rng.random()
    if roll < sync_requested_rate:
        return _event(EventType.SYNC_REQUESTED, company.id, event_id)
    roll = rng.random()
    if roll < 0.15:
        return _event(EventType.CUSTOMER_UPSERTED, company.id, event_id,
                      customer_id=f"cus_{tag}_{seq}", name=f"Chaos {tag} {seq}",
                      company_name=f"Chaos {tag} {seq} LLC")  # fmt: skip
    if roll < 0.25:
        kind = rng.choice(["service", "non_inventory"])
        return _event(EventType.ITEM_UPSERTED, company.id, event_id, item_id=f"item_{tag}_{seq}",
                      name=f"Chaos item {tag} {seq}", kind=kind,
                      price=f"{rng.randint(1, 500)}.{rng.randint(0, 99):02d}")  # fmt: skip
    event = _event(EventType.INVOICE_CREATED, company.id, event_id, invoice_id=f"inv_{tag}_{seq}",
                   ref_number=f"{tag}-{seq:05d}")  # fmt: skip
    del event["data"]["terms_id"], event["data"]["due_date"]
    return event


def generate_workload(
    companies: Sequence[ChaosCompany],
    events_per_company: int,
    *,
    seed: int,
    sync_requested_rate: float = 0.0,
    setup: bool = True,
    tag: str = "w",
) -> Workload:
    """A seeded stream: per company its mappings (if ``setup``), then ``events_per_company``
    events, companies interleaved at random as independent producers would publish them.

    Invoice ref numbers are ``{tag}-{sequence}``, so a company file's order is readable.
    """
    rng = random.Random(seed)
    queues = {
        c.id: [_step(rng, c, tag, seq, sync_requested_rate) for seq in range(events_per_company)]
        for c in companies
    }
    events = [e for c in companies for e in _setup(c, tag)] if setup else []
    while any(queues.values()):
        company = rng.choice([name for name, queue in queues.items() if queue])
        events.append(queues[company].pop(0))
    return Workload(tuple(companies), tuple(events))


# -- the pure checker ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QbObject:
    """An object in a company file that carries an externalId."""

    id: str
    external_id: str
    kind: str


@dataclass(frozen=True, slots=True)
class Result:
    """One record on the sync-results topic."""

    event_id: str
    status: str
    qbd_id: str | None = None
    error_code: str | None = None


@dataclass(frozen=True, slots=True)
class LedgerRow:
    """The parts of a ledger row the checker needs."""

    status: str
    qbd_id: str | None = None
    source: tuple[str, int, int] | None = None  # topic, partition, offset


@dataclass(frozen=True, slots=True)
class Observations:
    """Everything observed after (or during) a run."""

    objects: Mapping[str, Sequence[QbObject]]  # company id -> objects in creation order
    results: Sequence[Result]
    ledger: Mapping[str, LedgerRow]
    committed: Mapping[tuple[str, int], int]
    ends: Mapping[tuple[str, int], int]
    parked: int = 0  # DLQ index rows of these companies still parked


@dataclass(slots=True)
class Verdict:
    """Counts of what a run got right and wrong; ``ok`` when nothing was wrong."""

    events: int = 0
    synced: int = 0
    failed: int = 0
    objects: int = 0
    lost: int = 0
    duplicated: int = 0
    reordered: int = 0
    conflicting: int = 0  # an event with two different end states
    stray: int = 0  # an object whose externalId belongs to no event, or to a failed one
    uncommitted: int = 0  # offsets below the end not committed
    in_flight: int = 0  # events not in a final state, parked rows left
    redelivered_results: int = 0  # repeated identical results (at-least-once publishing)
    idempotency_conflicts: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Nothing lost, duplicated, reordered, conflicting, stray, uncommitted or in flight."""
        return not (self.lost or self.duplicated or self.reordered or self.conflicting
                    or self.stray or self.uncommitted or self.in_flight)  # fmt: skip

    def line(self) -> str:
        """The one-line verdict."""
        head = "OK" if self.ok else "FAIL"
        counts = " ".join(f"{name}={getattr(self, name)}" for name in _COUNTS)
        return f"chaos verdict {head}: {counts}"

    def note(self, problem: str) -> None:
        """Keep the first problems for the failure message."""
        if len(self.problems) < 20:
            self.problems.append(problem)


def check(workload: Workload, seen: Observations) -> Verdict:
    """Compare what happened with what must have happened; never raises on bad data."""
    verdict = Verdict(events=len(workload.events))
    publish_index = {}
    for index, event in enumerate(workload.events):
        if event["type"] in _CREATES:
            publish_index[external_id_for(event["id"]).lower()] = (index, event["id"])
    _check_end_states(workload, seen, verdict)
    _check_objects(workload, seen, verdict, publish_index)
    for (topic, partition), end in sorted(seen.ends.items()):
        behind = end - seen.committed.get((topic, partition), 0)
        if behind:
            verdict.uncommitted += max(behind, 0)
            verdict.note(f"{topic}[{partition}] committed {end - behind} of {end}")
    if seen.parked:
        verdict.in_flight += seen.parked
        verdict.note(f"{seen.parked} DLQ record(s) still parked")
    return verdict


def _check_end_states(workload: Workload, seen: Observations, verdict: Verdict) -> None:
    results: dict[str, list[Result]] = {}
    for result in seen.results:
        if result.error_code == _CONFLICT:
            verdict.idempotency_conflicts += 1
        else:
            results.setdefault(result.event_id, []).append(result)
    for event in workload.events:
        event_id = event["id"]
        row = seen.ledger.get(event_id)
        found = results.get(event_id, [])
        if row is None or row.status not in _FINAL:
            status = "no ledger row" if row is None else row.status
            if row is not None and row.status in _DURABLE:
                verdict.in_flight += 1
            else:
                verdict.lost += 1
            verdict.note(f"{event_id} ({event['type']}) ended as {status}")
            continue
        verdict.synced += row.status == "synced"
        verdict.failed += row.status == "failed"
        if event["type"] == EventType.SYNC_REQUESTED:
            continue  # acknowledged in the ledger; it publishes no result
        if not found:
            verdict.lost += 1
            verdict.note(f"{event_id} is {row.status} but has no sync result")
            continue
        if len({(r.status, r.qbd_id) for r in found}) > 1 or found[0].status != row.status:
            verdict.conflicting += 1
            verdict.note(f"{event_id}: results {found} disagree with ledger {row.status}")
        verdict.redelivered_results += len(found) - 1


def _check_objects(
    workload: Workload,
    seen: Observations,
    verdict: Verdict,
    publish_index: Mapping[str, tuple[int, str]],
) -> None:
    ours = {c.id for c in workload.companies}
    for company, objects in seen.objects.items():
        if company not in ours:
            continue
        verdict.objects += len(objects)
        counts = Counter(obj.external_id.lower() for obj in objects)
        order: list[tuple[int, str, str]] = []
        for obj in objects:
            marker = obj.external_id.lower()
            if marker not in publish_index:
                verdict.stray += 1
                verdict.note(f"{company}: {obj.kind} {obj.id} has a foreign externalId")
                continue
            index, event_id = publish_index[marker]
            row = seen.ledger.get(event_id)
            if row is not None and row.status == "failed":
                verdict.stray += 1
                verdict.note(f"{event_id} failed yet {obj.kind} {obj.id} exists")
            elif row is not None and row.status == "synced" and counts[marker] == 1 and \
                    row.qbd_id not in (None, obj.id):  # fmt: skip
                verdict.conflicting += 1
                verdict.note(f"{event_id}: ledger says {row.qbd_id}, QuickBooks has {obj.id}")
            order.append((index, event_id, obj.kind))
        verdict.duplicated += sum(n - 1 for n in counts.values() if n > 1)
        for marker, n in counts.items():
            if n > 1:
                verdict.note(f"{company}: {n} objects for {publish_index.get(marker, marker)}")
        swapped = [(a, b) for a, b in itertools.pairwise(order) if b[0] < a[0]]
        if swapped:
            verdict.reordered += len(swapped)
            (_, first, first_kind), (_, second, second_kind) = swapped[0]
            verdict.note(f"{company}: {len(swapped)} write(s) out of publish order, e.g. "
                         f"{second_kind} {second} written after {first_kind} {first}")  # fmt: skip
    present = {obj.external_id.lower() for objs in seen.objects.values() for obj in objs}
    for event in workload.events:
        row = seen.ledger.get(event["id"])
        missing = external_id_for(event["id"]).lower() not in present
        if event["type"] in _CREATES and row is not None and row.status == "synced" and missing:
            verdict.lost += 1
            verdict.note(f"{event['id']} is synced but QuickBooks has no object for it")


def commit_violations(
    committed: Mapping[tuple[str, int], int],
    records: Mapping[tuple[str, int, int], str | None],
    ledger: Mapping[str, LedgerRow],
) -> list[str]:
    """Input records below a committed offset whose event is not in a durable end state.

    ``records`` maps (topic, partition, offset) to the record's event id (None: not an
    event, so it was rejected, which is durable once published).
    """
    bad = []
    for (topic, partition, offset), event_id in sorted(records.items()):
        if event_id is None or offset >= committed.get((topic, partition), 0):
            continue
        row = ledger.get(event_id)
        if row is None or row.status not in _DURABLE:
            state = "no ledger row" if row is None else row.status
            bad.append(f"{topic}[{partition}]@{offset} {event_id} committed while {state}")
    return bad


# -- observing a run (I/O) -----------------------------------------------------------------


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
    # List ids are unique per company file and list only, hence the (end-user, list, id) key.
    created: dict[tuple[str, str, str], int] = {}
    for position, entry in enumerate(log):
        if entry.get("method") == "POST" and entry.get("object_id"):
            kind = str(entry.get("path", "")).rstrip("/").rsplit("/", 1)[-1]
            created.setdefault((entry["end_user_id"], kind, entry["object_id"]), position)
    objects: dict[str, list[QbObject]] = {}
    for company in workload.companies:
        found = []
        for kind in OBJECT_KINDS:
            for obj in await asyncio.to_thread(simulator.objects, company.end_user, kind):
                if obj.get("externalId"):
                    found.append(QbObject(obj["id"], obj["externalId"], kind))
        user = company.end_user
        objects[company.id] = sorted(
            found, key=lambda o: created.get((user, o.kind, o.id), len(log))
        )
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
               FROM ledger WHERE event_id = ANY($1::text[])""", ids)  # fmt: skip
        parked = await connection.fetchval(
            """SELECT count(*) FROM dlq_index
               WHERE company_id = ANY($1::text[]) AND dlq_topic = $2 AND status = 'parked'""",
            names, settings.dlq_topic,
        )  # fmt: skip
    finally:
        await connection.close()
    committed = await _committed(settings)
    return Observations(objects, results, {row["event_id"]: _ledger_row(row) for row in rows},
                        committed, dict(ends), int(parked))  # fmt: skip


async def _committed(settings: Settings) -> dict[tuple[str, int], int]:
    committed: dict[tuple[str, int], int] = {}
    for topic in settings.input_topics:
        for partition, offset in (await committed_positions(settings, topic=topic)).items():
            committed[(topic, partition)] = offset
    return committed


def _result(event: dict[str, Any]) -> Result:
    data = event.get("data") or {}
    error = data.get("error") or {}
    return Result(str(data.get("event_id")), str(data.get("status")), data.get("qbd_id"),
                  error.get("code"))  # fmt: skip


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
    alive: Any = None,
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


# -- the processor as a killable child process ---------------------------------------------


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment variables that reproduce ``settings`` in a child process."""
    env = {}
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if value is None:
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        elif isinstance(value, list):
            value = ",".join(value)
        elif isinstance(value, timedelta):
            value = f"{value.total_seconds()}s"
        env[env_name(name)] = str(value)
    return env


def _die_with_parent() -> None:
    """In the child: SIGKILL it when the test process dies, so no processor is orphaned."""
    libc_name = ctypes.util.find_library("c")
    if libc_name is not None:
        ctypes.CDLL(libc_name, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)


class ProcessorProcess:
    """``python -m processors run`` with ``settings`` in its environment, logging to a file."""

    def __init__(self, settings: Settings, log_path: Path, **env: str) -> None:
        self._env = {**os.environ, **settings_env(settings), "QBD_SYNC_LOG_FORMAT": "json",
                     "QBD_SYNC_HTTP_PORT": "0", **testing_env(), **env}  # fmt: skip
        self.log_path = log_path
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._log_start = 0

    def start(self) -> ProcessorProcess:
        """Start the processor (returns at once; see ``wait_started``)."""
        self._log = self.log_path.open("ab")
        self._log_start = self.log_path.stat().st_size
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "processors", "run"],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
            env=self._env, cwd=self.log_path.parent, preexec_fn=_die_with_parent,
        )  # fmt: skip
        return self

    @property
    def pid(self) -> int | None:
        """The child's pid while it has been started."""
        return None if self._proc is None else self._proc.pid

    @property
    def alive(self) -> bool:
        """Whether the child runs."""
        return self._proc is not None and self._proc.poll() is None

    @property
    def returncode(self) -> int | None:
        """The exit code once the child has exited."""
        return None if self._proc is None else self._proc.poll()

    def logs(self) -> list[dict[str, Any]]:
        """This run's JSON log lines (lines that are not JSON are skipped)."""
        with self.log_path.open("rb") as handle:
            handle.seek(self._log_start)
            lines = handle.read().splitlines()
        parsed = []
        for line in lines:
            with contextlib.suppress(orjson.JSONDecodeError):
                entry = orjson.loads(line)
                if isinstance(entry, dict):
                    parsed.append(entry)
        return parsed

    def find_log(self, event: str) -> dict[str, Any] | None:
        """The first log entry of this run whose ``event`` is ``event``."""
        return next((e for e in self.logs() if e.get("event") == event), None)

    def wait_log(self, event: str, *, timeout: float = 60.0) -> dict[str, Any]:
        """Wait for a log entry ``event``; fail early (with the log tail) if the child exits."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.find_log(event)
            if found is not None:
                return found
            if not self.alive:
                raise RuntimeError(f"qbd-sync exited ({self.returncode}) before {event!r}: "
                                   f"{self.tail()}")  # fmt: skip
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {event!r} from qbd-sync within {timeout:.0f} s")
            time.sleep(0.05)

    def wait_started(self, *, timeout: float = 60.0) -> int:
        """Wait until the processor is up; return its HTTP port."""
        return int(self.wait_log("qbd-sync started", timeout=timeout)["http_port"])

    def tail(self, lines: int = 8) -> str:
        """The last lines of the log, for failure messages."""
        text = self.log_path.read_bytes()[self._log_start :].decode(errors="replace")
        return " | ".join(text.strip().splitlines()[-lines:])

    def kill(self) -> None:
        """SIGKILL: no shutdown, no commit, no goodbye to the group."""
        self._signal_and_wait(signal.SIGKILL, 10.0)

    def terminate(self, timeout: float = 60.0) -> int | None:
        """SIGTERM (graceful shutdown), then SIGKILL after ``timeout``; the exit code."""
        self._signal_and_wait(signal.SIGTERM, timeout)
        return self.returncode

    def _signal_and_wait(self, sig: int, timeout: float) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(sig)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        if self._log is not None:
            self._log.close()
            self._log = None
