"""Operator tasks behind ``qbd-sync dlq``, ``companies`` and ``replay`` (CONTRACT.md section 7).

These run outside the processor, against PostgreSQL, the broker and Conductor directly. A
replay is *requested*: the CLI publishes a ``sync.requested`` event for the company to the
input topic, so the replay runs in the company's lane on the instance that owns it, behind
the work already queued there, and order holds. ``describe`` is also the body of
``GET /v1/companies/{companyid}``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from processors.companies import CompanyBook, CompanyOverview, CompanyState
from processors.config import Settings
from processors.db import connect_pool
from processors.errors import DependencyUnavailable, QbdSyncError, UsageError
from processors.kafka import client_options
from schemas import EventType

__all__ = [
    "DlqEntry",
    "connect_company",
    "describe",
    "dlq_entries",
    "dlq_record",
    "list_companies",
    "render_table",
    "request_replays",
    "sync_requested_event",
]

_SETUP_CODES = frozenset({"INTEGRATION_CONNECTION_NOT_SET_UP", "COMPANY_NOT_CONNECTED"})
_STATE_MESSAGES = {
    CompanyState.UNKNOWN: "QuickBooks Desktop has not been checked yet.",
    CompanyState.SETUP_PENDING: "Finish connecting QuickBooks Desktop: open the setup link on "
    "the computer that runs QuickBooks and follow the steps.",
    CompanyState.ONLINE: "QuickBooks Desktop is connected.",
    CompanyState.PARKED: "We could not reach QuickBooks Desktop. We will try again shortly.",
    CompanyState.REPLAYING: "Catching up: syncing the changes saved while QuickBooks Desktop "
    "was unreachable.",
}


@dataclass(frozen=True, slots=True)
class DlqEntry:
    """One indexed DLQ record."""

    event_id: str | None
    company_id: str
    status: str
    parked_at: datetime
    replayed_at: datetime | None
    reason: str
    error_code: str | None
    dlq_topic: str
    dlq_partition: int
    dlq_offset: int
    original_topic: str
    original_partition: int
    original_offset: int

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return {
            "event_id": self.event_id, "company_id": self.company_id, "status": self.status,
            "parked_at": _iso(self.parked_at), "replayed_at": _iso(self.replayed_at),
            "reason": self.reason, "error_code": self.error_code,
            "dlq": {"topic": self.dlq_topic, "partition": self.dlq_partition,
                    "offset": self.dlq_offset},
            "original": {"topic": self.original_topic, "partition": self.original_partition,
                         "offset": self.original_offset},
        }  # fmt: skip


@asynccontextmanager
async def _database(settings: Settings, command: str) -> AsyncIterator[asyncpg.Pool]:
    settings.require("database_url", command=command)
    pool = await connect_pool(settings.secret("database_url"), min_size=1, max_size=2)
    try:
        yield pool
    except asyncpg.UndefinedTableError as exc:
        raise DependencyUnavailable(
            f"the database has no qbd-sync schema ({exc}); run `qbd-sync migrate` first"
        ) from exc
    finally:
        await pool.close()


async def dlq_entries(settings: Settings, company: str | None = None) -> list[DlqEntry]:
    """The parked records (of one company), in parking order."""
    async with _database(settings, "dlq list") as pool:
        rows = await pool.fetch(
            """SELECT * FROM dlq_index WHERE status = 'parked'
               AND ($1::text IS NULL OR company_id = $1)
               ORDER BY company_id, dlq_partition, dlq_offset""",
            company,
        )
    return [_entry(row) for row in rows]


async def dlq_record(
    settings: Settings, event_id: str, *, timeout_s: float = 15.0
) -> dict[str, Any]:
    """One parked event as it sits in the DLQ: the index row, key, headers and the event."""
    async with _database(settings, "dlq show") as pool:
        row = await pool.fetchrow(
            """SELECT * FROM dlq_index WHERE event_id = $1
               ORDER BY status = 'parked' DESC, parked_at DESC LIMIT 1""",
            event_id,
        )
    if row is None:
        raise QbdSyncError(f"no event {event_id!r} in the DLQ index (see `qbd-sync dlq list`)")
    entry = _entry(row)
    settings.require("kafka_bootstrap_servers", command="dlq show")
    record = await _read_at(settings, TopicPartition(entry.dlq_topic, entry.dlq_partition),
                            entry.dlq_offset, timeout_s)  # fmt: skip
    try:
        event: Any = orjson.loads(record.value)
    except orjson.JSONDecodeError:
        event = record.value.decode(errors="replace")
    return {
        **entry.as_dict(),
        "key": None if record.key is None else record.key.decode(errors="replace"),
        "timestamp": record.timestamp,
        "headers": {name: value.decode(errors="replace") for name, value in record.headers},
        "event": event,
    }


async def _read_at(settings: Settings, tp: TopicPartition, offset: int, timeout_s: float) -> Any:
    consumer = AIOKafkaConsumer(**client_options(settings), group_id=None,
                                enable_auto_commit=False)  # fmt: skip
    try:
        await consumer.start()
        consumer.assign([tp])
        consumer.seek(tp, offset)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            batch = await consumer.getmany(tp, timeout_ms=500, max_records=1)
            records = batch.get(tp, [])
            if records and records[0].offset == offset:
                return records[0]
            if records:
                break  # the broker skipped past it: the record is gone
    except KafkaError as exc:
        raise DependencyUnavailable(f"cannot read the DLQ from the broker: {exc}") from exc
    finally:
        await consumer.stop()
    raise DependencyUnavailable(
        f"the DLQ record {tp.topic}[{tp.partition}]@{offset} could not be read "
        "(gone by retention, or the broker is not the one this database belongs to)"
    )


async def list_companies(settings: Settings) -> list[CompanyOverview]:
    """Every company with its state, parked count, last sync and open attention."""
    async with _database(settings, "companies list") as pool:
        return await CompanyBook(pool).overview()


def describe(view: CompanyOverview, *, now: datetime | None = None) -> dict[str, Any]:
    """A company's connection state for an operator or the app's UI."""
    company, now = view.company, now or datetime.now(UTC)
    error: dict[str, Any] | None = None
    if company.state in (CompanyState.PARKED, CompanyState.REPLAYING):
        error = company.last_error
    elif company.last_health_ok is False:
        error = company.last_health_error
    code = None if error is None else error.get("code")
    link = None
    valid = company.setup_link_expires_at is not None and company.setup_link_expires_at > now
    if valid and (company.state is CompanyState.SETUP_PENDING or code in _SETUP_CODES):
        link = company.setup_link_url
    message = (error or {}).get("user_facing_message") or _STATE_MESSAGES[company.state]
    return {
        "company_id": company.company_id,
        "state": str(company.state),
        "end_user_id": company.end_user_id,
        "healthy": company.last_health_ok,
        "last_health_check": _iso(company.last_health_check),
        "user_facing_message": message,
        "error_code": code,
        "auth_flow_url": link,
        "parked": view.parked,
        "parked_since": _iso(company.parked_since),
        "last_sync": _iso(view.last_sync),
        "next_catchup_at": _iso(company.next_catchup_at),
        "catchup_attempts": company.catchup_attempts,
        "open_attention": view.open_attention,
        "state_changed_at": _iso(company.state_changed_at),
    }


async def connect_company(settings: Settings, company: str, name: str, email: str) -> str:
    """Create the company's Conductor end-user and a setup link; publish and return the link."""
    from processors.attention import AttentionBook
    from processors.gateway import ConductorGateway
    from processors.publish import Publisher
    from processors.replay import Replayer

    if not company.strip():
        raise UsageError("the company id must not be empty")
    settings.require("kafka_bootstrap_servers", "conductor_secret_key",
                     "conductor_publishable_key", command="companies connect")  # fmt: skip
    async with _database(settings, "companies connect") as pool:
        publisher = Publisher(settings)
        await publisher.start()
        try:
            async with ConductorGateway(settings) as gateway:
                companies = CompanyBook(pool)
                replayer = Replayer(settings, pool, gateway, companies,
                                    AttentionBook(pool, publisher), publisher)  # fmt: skip
                try:
                    url = await replayer.connect(company, name, email)
                except QbdSyncError:
                    raise
                except Exception as exc:
                    from processors.outcome import normalize

                    error = normalize(exc)
                    raise DependencyUnavailable(
                        f"Conductor refused: {error.code}: {error.message}"
                    ) from exc
        finally:
            await publisher.stop()
    if url is None:
        raise DependencyUnavailable("Conductor created the end-user but returned no setup link")
    return url


def sync_requested_event(company: str, source: str) -> bytes:
    """A ``sync.requested`` CloudEvent for ``company`` (keyed by it on the input topic)."""
    return orjson.dumps({
        "specversion": "1.0", "id": f"sync-{uuid.uuid4()}", "type": str(EventType.SYNC_REQUESTED),
        "source": source, "time": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "companyid": company, "data": {},
    })  # fmt: skip


async def request_replays(
    settings: Settings, company: str | None, every: bool
) -> list[tuple[str, int]]:
    """Publish ``sync.requested`` for one company or every parked one; (company, parked)."""
    from processors.publish import Publisher

    if (company is None) != every:
        raise UsageError("give either --company ID or --all")
    settings.require("kafka_bootstrap_servers", command="replay")
    async with _database(settings, "replay") as pool:
        views = await CompanyBook(pool).overview(company)
    if company is not None and not views:
        raise QbdSyncError(f"no company {company!r} (see `qbd-sync companies list`)")
    targets = [
        (view.company.company_id, view.parked)
        for view in views
        if company is not None or view.parked
        or view.company.state in (CompanyState.PARKED, CompanyState.REPLAYING)
    ]  # fmt: skip
    if not targets:
        return []
    publisher = Publisher(settings)
    await publisher.start()
    try:
        for name, _ in targets:
            await publisher.send(settings.input_topics[0], name.encode(),
                                 sync_requested_event(name, "qbd-sync-cli"))  # fmt: skip
    except KafkaError as exc:
        raise DependencyUnavailable(f"could not publish the replay request: {exc}") from exc
    finally:
        await publisher.stop()
    return targets


def render_table(rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str]]) -> str:
    """A plain aligned text table: ``columns`` are (heading, key) pairs."""
    cells = [[heading for heading, _ in columns]]
    cells += [["" if row.get(key) is None else str(row[key]) for _, key in columns] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in cells
    )


def _entry(row: asyncpg.Record) -> DlqEntry:
    return DlqEntry(
        event_id=row["event_id"], company_id=row["company_id"], status=row["status"],
        parked_at=row["parked_at"], replayed_at=row["replayed_at"], reason=row["reason"],
        error_code=row["error_code"], dlq_topic=row["dlq_topic"],
        dlq_partition=row["dlq_partition"], dlq_offset=row["dlq_offset"],
        original_topic=row["original_topic"], original_partition=row["original_partition"],
        original_offset=row["original_offset"],
    )  # fmt: skip


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()
