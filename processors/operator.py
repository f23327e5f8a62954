"""Operator tasks behind ``qbd-sync dlq``, ``companies`` and ``replay`` (CONTRACT.md section 7).

Only the CLI uses this module. The tasks run outside the processor, against PostgreSQL, the
broker and Conductor directly. A replay is *requested*: the CLI publishes a
``sync.requested`` event for the company to the input topic, so the replay runs in the
company's lane on the instance that owns it, behind the work already queued there, and order
holds.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import orjson

from processors.companies import CompanyBook, CompanyOverview
from processors.config import Settings
from processors.db import connect_pool
from processors.dlq_index import DlqEntry, DlqIndex
from processors.errors import DependencyUnavailable, QbdSyncError, UsageError
from processors.intake import Accepted, decode
from processors.kafka import read_record
from processors.mappings import MappingStore
from processors.progress import Tracker
from processors.writes import next_action, target_ref
from schemas import sync_requested

__all__ = [
    "connect_company",
    "dlq_entries",
    "dlq_record",
    "list_companies",
    "render_table",
    "request_replays",
]

_CLI_SOURCE = "qbd-sync-cli"


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
        return await DlqIndex(pool).parked_entries(company)


async def dlq_record(
    settings: Settings, event_id: str, *, timeout_s: float = 15.0
) -> dict[str, Any]:
    """One parked event: index row, key, headers, the event and what replaying it would do.

    ``action`` says what the event would do to its app object if it ran now (create,
    update, void, delete or link), from the mapping as it stands.
    """
    async with _database(settings, "dlq show") as pool:
        entry = await DlqIndex(pool).of_event(event_id)
        if entry is None:
            raise QbdSyncError(f"no event {event_id!r} in the DLQ index (see `qbd-sync dlq list`)")
        record = await _read_parked(settings, entry, timeout_s)
        action = await _next_action(MappingStore(pool), record)
    value = record.value or b""
    try:
        event: Any = orjson.loads(value)
    except orjson.JSONDecodeError:
        event = value.decode(errors="replace")
    return {
        **entry.as_dict(),
        "key": None if record.key is None else record.key.decode(errors="replace"),
        "timestamp": record.timestamp,
        "headers": {name: value.decode(errors="replace") for name, value in record.headers},
        "event": event,
        "action": action,
    }


async def _read_parked(settings: Settings, entry: DlqEntry, timeout_s: float) -> Any:
    """The parked record itself, read back from the DLQ topic."""
    settings.require("kafka_bootstrap_servers", command="dlq show")
    where = f"{entry.dlq_topic}[{entry.dlq_partition}]@{entry.dlq_offset}"
    try:
        record = await read_record(
            settings, entry.dlq_topic, entry.dlq_partition, entry.dlq_offset, timeout_s=timeout_s
        )
    except (DependencyUnavailable, TimeoutError) as exc:
        raise DependencyUnavailable(f"cannot read the DLQ from the broker: {exc}") from exc
    if record is None:
        raise DependencyUnavailable(
            f"the DLQ record {where} could not be read "
            "(gone by retention, or the broker is not the one this database belongs to)"
        )
    return record


async def _next_action(mappings: MappingStore, record: Any) -> dict[str, Any] | None:
    """What replaying the parked record would do now, to which app object (None: nothing)."""
    decoded = decode(record.value, record.key, headers=list(record.headers))
    if not isinstance(decoded, Accepted):
        return None
    event = decoded.event
    target = target_ref(event)
    mapping = None
    if target is not None:
        mapping = await mappings.get(event.companyid, str(target.object_type), target.app_id)
    verb = next_action(event, mapped=mapping is not None)
    if verb is None:
        return None
    return {
        "action": verb,
        "object_type": None if target is None else str(target.object_type),
        "app_id": None if target is None else target.app_id,
        "qbd_id": None if mapping is None else mapping.qbd_id,
    }


async def list_companies(settings: Settings) -> list[CompanyOverview]:
    """Every company with its state, parked count, last sync and open attention."""
    async with _database(settings, "companies list") as pool:
        return await CompanyBook(pool).overview()


async def connect_company(settings: Settings, company: str, name: str, email: str) -> str:
    """Create the company's Conductor end-user and a setup link; publish and return the link."""
    from processors.attention import AttentionBook
    from processors.gateway import ConductorGateway
    from processors.outcome import OutcomePolicy, normalize
    from processors.pipeline import CompanyConnection, Reader
    from processors.publish import Publisher

    if not company.strip():
        raise UsageError("the company id must not be empty")
    settings.require(
        "kafka_bootstrap_servers",
        "conductor_secret_key",
        "conductor_publishable_key",
        command="companies connect",
    )
    async with _database(settings, "companies connect") as pool:
        publisher = Publisher(settings)
        await publisher.start()
        try:
            async with ConductorGateway(settings) as gateway:
                connection = CompanyConnection(
                    settings=settings,
                    companies=CompanyBook(pool),
                    attention=AttentionBook(pool, publisher),
                    gateway=gateway,
                    publisher=publisher,
                    reader=Reader(OutcomePolicy()),
                )
                try:
                    url = await connection.connect(company, name, email)
                except QbdSyncError:
                    raise
                except Exception as exc:
                    error = normalize(exc)
                    raise DependencyUnavailable(
                        f"Conductor refused: {error.code}: {error.message}"
                    ) from exc
        finally:
            await publisher.stop()
    if url is None:
        raise DependencyUnavailable("Conductor created the end-user but returned no setup link")
    return url


async def request_replays(
    settings: Settings, company: str | None, every: bool, *, tracker: Tracker | None = None
) -> list[tuple[str, int]]:
    """Publish ``sync.requested`` for one company or every parked one; (company, parked).

    ``tracker`` hears each request the broker acknowledged.
    """
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
        if company is not None or view.parked or view.company.parked
    ]
    if not targets:
        return []
    publisher = Publisher(settings)
    await publisher.start()
    if tracker is not None:
        tracker.total(len(targets))
    try:
        for name, _ in targets:
            await publisher.send(
                settings.input_topics[0], name.encode(), sync_requested(name, _CLI_SOURCE)
            )
            if tracker is not None:
                tracker.advance()
    except DependencyUnavailable as exc:
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
