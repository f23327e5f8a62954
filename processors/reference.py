"""ReferencePuller: QuickBooks lists -> ``qbd.reference.*`` events and a local copy in PostgreSQL.

One pull runs, per requested list, one *pass*:

    checkpoint (reference_pulls) -> list pages (status=all, updatedAfter=high-water mark)
      -> per batch: publish what changed, then save it in qbd_objects (one transaction)
      -> full pass only: objects not listed are reported deleted
      -> advance the high-water mark, mark the pass complete

*Published once.* An object is published when its ``(qbd_id, revisionNumber)`` differs from
the local copy, and saved right after its batch is acknowledged by the broker. So a resumed
or overlapping pass skips what was already published, and the high-water mark can overlap
the previous pass safely. A cancelled pull (shutdown, rebalance) finishes the batch it is
publishing first; only a hard kill between publish and save can repeat one batch (at most a
page), and every event id is ``company:objectType:qbd_id:revision`` so consumers drop it.

*Resumable.* A pass stays ``running`` in its checkpoint until it completes, and the
high-water mark only moves at completion: rerunning the same request (same ``run_id``, e.g.
the redelivered event) skips lists it completed and resumes a partial one with the same
pass (so a full pass still detects deletions). Cursors expire after 10 s, so resuming means
listing again and skipping the unchanged.

*Incremental.* The next pass asks for ``updatedAfter`` = the newest ``updatedAt`` seen,
minus the pass's own duration and 2 s: QuickBooks stamps ``updatedAt`` on its own clock,
and an object edited during a pass may be listed with its old state. The overlap costs a
re-listing, never a re-publish.

*Inactive and deleted.* Every pass lists ``status=all``, so an object made inactive is
republished with ``is_active=false``. QuickBooks has no list of deleted list objects, so
deletions are found only by a *full* pass (the first of a list, one older than
``FULL_PASS_EVERY``, or ``full=True``): an object in the local copy that it did not list is
published with ``record={"id", "objectType", "deleted": true}`` (Conductor's delete shape)
and ``is_active=false``, and kept in the local copy with ``deleted_at``.

Passes of one company never overlap: a pull holds a per-company advisory lock.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, TypeVar

import asyncpg
import orjson

from processors.config import Settings
from processors.db import connect_pool
from processors.errors import QbdSyncError
from processors.gateway import ConductorGateway
from processors.logs import get_logger
from processors.matching import (
    AppRecord,
    AutoMap,
    QbdRecord,
    Suggestion,
    name_key,
    qbd_record,
    suggest,
)
from processors.progress import Tracker
from processors.publish import Publisher
from schemas import (
    DEFAULT_REFERENCE_LISTS,
    REFERENCE_EVENT_TYPES,
    SOURCE,
    ReferenceData,
    ReferenceList,
    make_cloudevent,
)

__all__ = [
    "FULL_PASS_EVERY",
    "LIST_OF",
    "LIST_RESOURCES",
    "MAPPABLE_LISTS",
    "ListReport",
    "LocalCopy",
    "ReferencePuller",
]

log = get_logger("reference")
_T = TypeVar("_T")

LIST_RESOURCES: Final[dict[ReferenceList, tuple[tuple[str, str], ...]]] = {
    ReferenceList.CUSTOMERS: (("customers", "qbd_customer"),),
    ReferenceList.VENDORS: (("vendors", "qbd_vendor"),),
    ReferenceList.ITEMS: (
        ("service_items", "qbd_service_item"),
        ("non_inventory_items", "qbd_non_inventory_item"),
    ),
    ReferenceList.ACCOUNTS: (("accounts", "qbd_account"),),
    ReferenceList.CLASSES: (("classes", "qbd_class"),),
    ReferenceList.TERMS: (("standard_terms", "qbd_standard_term"),),
    ReferenceList.SALES_TAX_CODES: (("sales_tax_codes", "qbd_sales_tax_code"),),
    ReferenceList.SALES_TAX_ITEMS: (
        ("sales_tax_items", "qbd_sales_tax_item"),
        ("sales_tax_group_items", "qbd_sales_tax_group_item"),
    ),
    ReferenceList.PAYMENT_METHODS: (("payment_methods", "qbd_payment_method"),),
    ReferenceList.DATE_DRIVEN_TERMS: (("date_driven_terms", "qbd_date_driven_term"),),
    ReferenceList.OTHER_CHARGE_ITEMS: (("other_charge_items", "qbd_other_charge_item"),),
    ReferenceList.DISCOUNT_ITEMS: (("discount_items", "qbd_discount_item"),),
}
"""The SDK resources (and their objectType) each pulled list is made of."""

LIST_OF: Final[dict[str, ReferenceList]] = {
    "customer": ReferenceList.CUSTOMERS,
    "vendor": ReferenceList.VENDORS,
    "item": ReferenceList.ITEMS,
    "account": ReferenceList.ACCOUNTS,
    "class": ReferenceList.CLASSES,
    "terms": ReferenceList.TERMS,
    "payment_method": ReferenceList.PAYMENT_METHODS,
    "sales_tax_code": ReferenceList.SALES_TAX_CODES,
    "sales_tax_item": ReferenceList.SALES_TAX_ITEMS,
}
"""The pulled list an upsert of each app object type is matched against (auto-map)."""

MAPPABLE_LISTS: Final[dict[str, tuple[ReferenceList, ...]]] = {
    **{object_type: (lst,) for object_type, lst in LIST_OF.items()},
    "item": (ReferenceList.ITEMS, ReferenceList.OTHER_CHARGE_ITEMS, ReferenceList.DISCOUNT_ITEMS),
    "terms": (ReferenceList.TERMS, ReferenceList.DATE_DRIVEN_TERMS),
}
"""Every pulled list whose objects an app id of each type may be mapped to: a line's item
may be an other-charge or discount item, a transaction's terms may be date-driven."""

FULL_PASS_EVERY: Final = timedelta(days=7)
_OVERLAP: Final = timedelta(seconds=2)
_RUNNING: Final = "running"
_COMPLETE: Final = "complete"
_BATCH: Final = 150  # one Conductor page
_LOCK_PREFIX: Final = "qbd-sync-reference:"
_NEW: Final = object()  # not in the local copy: differs from every revision


@dataclass(slots=True)
class ListReport:
    """What one pass of one list did."""

    list: ReferenceList
    full: bool = False
    resumed: bool = False
    skipped: bool = False
    listed: int = 0
    published: int = 0
    deleted: int = 0


async def _finish(work: Awaitable[_T]) -> _T:
    """Await ``work``; if we are cancelled meanwhile, let it finish first, then stop."""
    task = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await task
        raise


def _instant(text: Any) -> datetime | None:
    if not text:
        return None
    parsed = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class LocalCopy:
    """The ``qbd_objects`` table: what we last published of each QuickBooks list object."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def revisions(
        self, company_id: str, lst: ReferenceList, resource: str, qbd_ids: Sequence[str]
    ) -> dict[str, str | None]:
        """The published revision of each of ``qbd_ids`` still present (absent: unknown)."""
        rows = await self._pool.fetch(
            """SELECT qbd_id, revision_number FROM qbd_objects
               WHERE company_id = $1 AND list = $2 AND resource = $3
                 AND qbd_id = ANY($4::text[]) AND deleted_at IS NULL""",
            company_id,
            str(lst),
            resource,
            list(qbd_ids),
        )
        return {row["qbd_id"]: row["revision_number"] for row in rows}

    async def candidates(
        self, company_id: str, lst: ReferenceList, name: str, email: str | None
    ) -> list[QbdRecord]:
        """Objects that share the name (exact or normalized) or the email, deleted ones aside."""
        rows = await self._pool.fetch(
            """SELECT raw, resource FROM qbd_objects
               WHERE company_id = $1 AND list = $2 AND deleted_at IS NULL
                 AND (match_key = $3 OR name = $4 OR full_name = $4
                      OR ($5::text IS NOT NULL AND lower(email) = lower($5)))""",
            company_id,
            str(lst),
            name_key(name),
            name.strip(),
            email,
        )
        return [qbd_record(row["raw"], row["resource"]) for row in rows]


class ReferencePuller:
    """Pulls QuickBooks lists for one company at a time; see the module docstring."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        gateway: ConductorGateway,
        publisher: Publisher,
        *,
        topic: str,
        auto_map: AutoMap = "off",
        tracker: Tracker | None = None,
    ) -> None:
        self._pool = pool
        self._tracker = tracker  # hears each listed object (the CLI draws it on a terminal)
        self._gateway = gateway
        self._publisher = publisher
        self._topic = topic
        self.auto_map: AutoMap = auto_map
        self.local = LocalCopy(pool)

    async def pull(
        self,
        company_id: str,
        end_user_id: str,
        lists: Iterable[ReferenceList] = DEFAULT_REFERENCE_LISTS,
        *,
        run_id: str,
        full: bool = False,
        request_event_id: str | None = None,
    ) -> list[ListReport]:
        """Pull ``lists`` (in order); SDK, broker and database errors propagate."""
        async with self._pool.acquire() as lock:
            await lock.execute("SELECT pg_advisory_lock(hashtext($1))", _LOCK_PREFIX + company_id)
            try:
                return [
                    await self._pass(
                        company_id,
                        end_user_id,
                        lst,
                        run_id=run_id,
                        full=full,
                        request_event_id=request_event_id,
                    )
                    for lst in dict.fromkeys(lists)
                ]
            finally:
                await lock.execute(
                    "SELECT pg_advisory_unlock(hashtext($1))", _LOCK_PREFIX + company_id
                )

    async def _pass(
        self,
        company: str,
        end_user: str,
        lst: ReferenceList,
        *,
        run_id: str,
        full: bool,
        request_event_id: str | None,
    ) -> ListReport:
        report = ListReport(lst)
        row = await self._pool.fetchrow(
            "SELECT * FROM reference_pulls WHERE company_id = $1 AND list = $2", company, str(lst)
        )
        now = datetime.now(UTC)
        if row is not None and row["pass_state"] == _COMPLETE and row["run_id"] == run_id:
            report.skipped = True
            return report
        hwm = None if row is None else row["high_water_mark"]
        if row is not None and row["pass_state"] == _RUNNING:
            report.resumed, pass_id = True, row["pass_id"]
            report.full, started = row["pass_full"], row["pass_started_at"]
        else:
            pass_id, started = uuid.uuid4().hex, now
            last_full = None if row is None else row["last_full_at"]
            report.full = (
                full or hwm is None or last_full is None or now - last_full > FULL_PASS_EVERY
            )
            await self._pool.execute(
                """INSERT INTO reference_pulls (company_id, list, pass_id, pass_state, pass_full,
                                                pass_started_at, run_id)
                   VALUES ($1, $2, $3, 'running', $4, $5, $6)
                   ON CONFLICT (company_id, list) DO UPDATE
                      SET pass_id = $3, pass_state = 'running', pass_full = $4,
                          pass_started_at = $5, run_id = $6, listed = 0, published = 0,
                          updated_at = now()""",
                company,
                str(lst),
                pass_id,
                report.full,
                started,
                run_id,
            )
        filters: dict[str, Any] = {"status": "all"}
        if not report.full and hwm is not None:
            filters["updated_after"] = hwm.isoformat(timespec="seconds")
        newest: datetime | None = None
        for resource, object_type in LIST_RESOURCES[lst]:
            batch: list[dict[str, Any]] = []

            async def flush(
                batch: list[dict[str, Any]],
                resource: str = resource,
                object_type: str = object_type,
            ) -> None:
                nonlocal newest
                newest = _newer(newest, batch)
                await _finish(
                    self._commit(
                        company,
                        lst,
                        resource,
                        object_type,
                        batch,
                        pass_id,
                        report,
                        request_event_id,
                    )
                )

            async for obj in self._gateway.iter_objects(end_user, resource, **filters):
                batch.append(obj)
                if self._tracker is not None:
                    self._tracker.advance()
                if len(batch) >= _BATCH:
                    await flush(batch)
                    batch = []
            if batch:
                await flush(batch)
        await _finish(
            self._complete(company, lst, pass_id, report, hwm, newest, started, request_event_id)
        )
        log.info(
            "reference pass complete",
            company_id=company,
            list=str(lst),
            full=report.full,
            resumed=report.resumed,
            listed=report.listed,
            published=report.published,
            deleted=report.deleted,
        )
        return report

    async def _commit(
        self,
        company: str,
        lst: ReferenceList,
        resource: str,
        object_type: str,
        batch: list[dict[str, Any]],
        pass_id: str,
        report: ListReport,
        request_event_id: str | None,
    ) -> None:
        """Publish the batch's changed objects, then save them and mark the batch seen."""
        ids = [str(obj["id"]) for obj in batch]
        known = await self.local.revisions(company, lst, resource, ids)
        changed = [
            obj for obj in batch if known.get(str(obj["id"]), _NEW) != obj.get("revisionNumber")
        ]
        await self._publish(company, lst, changed, request_event_id)
        async with self._pool.acquire() as conn, conn.transaction():
            if changed:
                columns = _columns(changed, resource, object_type, pass_id)
                await conn.execute(_UPSERT, company, str(lst), *columns)
            await conn.execute(
                """UPDATE qbd_objects SET seen_pass = $5
                   WHERE company_id = $1 AND list = $2 AND resource = $3
                     AND qbd_id = ANY($4::text[])""",
                company,
                str(lst),
                resource,
                ids,
                pass_id,
            )
            await conn.execute(
                """UPDATE reference_pulls SET listed = listed + $3, published = published + $4,
                          updated_at = now() WHERE company_id = $1 AND list = $2""",
                company,
                str(lst),
                len(batch),
                len(changed),
            )
        report.listed += len(batch)
        report.published += len(changed)

    async def _complete(
        self,
        company: str,
        lst: ReferenceList,
        pass_id: str,
        report: ListReport,
        hwm: datetime | None,
        newest: datetime | None,
        started: datetime,
        request_event_id: str | None,
    ) -> None:
        """Report deletions (full passes), move the high-water mark, close the pass."""
        if report.full:
            gone = await self._pool.fetch(
                """SELECT * FROM qbd_objects WHERE company_id = $1 AND list = $2
                     AND deleted_at IS NULL AND seen_pass IS DISTINCT FROM $3""",
                company,
                str(lst),
                pass_id,
            )
            await self._publish(company, lst, [_deleted(row) for row in gone], request_event_id)
            await self._pool.execute(
                """UPDATE qbd_objects SET deleted_at = now(), is_active = false
                   WHERE company_id = $1 AND list = $2
                     AND deleted_at IS NULL AND seen_pass IS DISTINCT FROM $3""",
                company,
                str(lst),
                pass_id,
            )
            report.deleted = len(gone)
        mark = hwm
        if newest is not None:
            candidate = newest - (datetime.now(UTC) - started) - _OVERLAP
            mark = candidate if mark is None else max(mark, candidate)
        if mark is None and report.full:
            mark = started - _OVERLAP  # an empty list: the next pass asks only for newer
        await self._pool.execute(
            """UPDATE reference_pulls SET pass_state = 'complete', high_water_mark = $3,
                      last_full_at = CASE WHEN pass_full THEN pass_started_at
                                          ELSE last_full_at END, updated_at = now()
               WHERE company_id = $1 AND list = $2""",
            company,
            str(lst),
            mark,
        )

    async def _publish(
        self,
        company: str,
        lst: ReferenceList,
        objs: list[dict[str, Any]],
        request_event_id: str | None,
    ) -> None:
        """Send the objects' events concurrently and wait for every acknowledgement."""
        kind, key, now = REFERENCE_EVENT_TYPES[lst], company.encode(), datetime.now(UTC)
        sends = []
        for obj in objs:
            qbd_id, revision = str(obj["id"]), obj.get("revisionNumber")
            data = ReferenceData(
                kind=lst,
                qbd_id=qbd_id,
                name=str(obj.get("name") or ""),
                full_name=obj.get("fullName"),
                is_active=obj.get("isActive") is not False,
                revision_number=revision,
                request_event_id=request_event_id,
                record=obj,
            )
            suffix = ":deleted" if obj.get("deleted") else ""
            event_id = f"{company}:{obj.get('objectType')}:{qbd_id}:{revision}{suffix}"
            body = make_cloudevent(kind, SOURCE, company, data, id=event_id, time=now)
            sends.append(self._publisher.send(self._topic, key, body))
        await asyncio.gather(*sends)

    async def suggest_for(
        self, company: str, object_type: str, app_id: str, data: Any
    ) -> Suggestion | None:
        """Candidates in the local copy for an unmapped app record (None: list not pulled)."""
        lst = LIST_OF.get(object_type)
        name = getattr(data, "name", None)
        if lst is None or not name:
            return None
        records = await self.local.candidates(company, lst, name, getattr(data, "email", None))
        taken = await self._pool.fetch(
            """SELECT qbd_id FROM mappings WHERE company_id = $1 AND object_type = $2
                 AND qbd_id = ANY($3::text[])""",
            company,
            object_type,
            [record.qbd_id for record in records],
        )
        app = AppRecord(object_type, app_id, name, getattr(data, "email", None))
        return suggest(
            app, records, auto_map=self.auto_map, taken=frozenset(row["qbd_id"] for row in taken)
        )


def _newer(newest: datetime | None, batch: list[dict[str, Any]]) -> datetime | None:
    for obj in batch:
        stamp = _instant(obj.get("updatedAt"))
        if stamp is not None and (newest is None or stamp > newest):
            newest = stamp
    return newest


def _deleted(row: asyncpg.Record) -> dict[str, Any]:
    """A deleted object, in Conductor's delete-response shape (plus what we knew of it)."""
    return {
        "id": row["qbd_id"],
        "objectType": row["object_type"],
        "deleted": True,
        "name": row["name"],
        "fullName": row["full_name"],
        "isActive": False,
        "revisionNumber": row["revision_number"],
    }


_UPSERT: Final = """
INSERT INTO qbd_objects (company_id, list, qbd_id, object_type, resource, name, full_name,
                         match_key, email, is_active, revision_number, updated_at, raw,
                         seen_pass)
SELECT $1, $2, u.* FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                               $8::text[], $9::text[], $10::boolean[], $11::text[],
                               $12::timestamptz[], $13::text[]::jsonb[], $14::text[])
       AS u(qbd_id, object_type, resource, name, full_name, match_key, email, is_active,
            revision_number, updated_at, raw, seen_pass)
ON CONFLICT (company_id, list, resource, qbd_id) DO UPDATE
   SET object_type = EXCLUDED.object_type, name = EXCLUDED.name,
       full_name = EXCLUDED.full_name, match_key = EXCLUDED.match_key, email = EXCLUDED.email,
       is_active = EXCLUDED.is_active, revision_number = EXCLUDED.revision_number,
       updated_at = EXCLUDED.updated_at, raw = EXCLUDED.raw, seen_pass = EXCLUDED.seen_pass,
       deleted_at = NULL, pulled_at = now()
"""


def _columns(
    objs: list[dict[str, Any]], resource: str, object_type: str, pass_id: str
) -> tuple[list[Any], ...]:
    names = [str(obj.get("name") or "") for obj in objs]
    return (
        [str(obj["id"]) for obj in objs],
        [str(obj.get("objectType") or object_type) for obj in objs],
        [resource] * len(objs),
        names,
        [obj.get("fullName") for obj in objs],
        [name_key(name) for name in names],
        [obj.get("email") for obj in objs],
        [obj.get("isActive") is not False for obj in objs],
        [obj.get("revisionNumber") for obj in objs],
        [_instant(obj.get("updatedAt")) for obj in objs],
        [orjson.dumps(obj).decode() for obj in objs],
        [pass_id] * len(objs),
    )


async def pull_company(
    settings: Settings,
    company_id: str,
    lists: Iterable[ReferenceList],
    *,
    full: bool = False,
    tracker: Tracker | None = None,
) -> list[ListReport]:
    """`qbd-sync reference pull`: one pull from this process (same lock, same checkpoints)."""
    from processors.kafka import client_options, ensure_topics, partition_counts

    settings.require(
        "kafka_bootstrap_servers", "database_url", "conductor_secret_key", command="reference pull"
    )
    options = client_options(settings)
    counts = await partition_counts(options, settings.input_topics)
    await ensure_topics(options, {settings.reference_topic: max(counts.values(), default=1)})
    pool = await connect_pool(settings.secret("database_url"))
    publisher = Publisher(settings)
    try:
        async with ConductorGateway(settings) as gateway:
            end_user = await gateway.end_user_for(company_id)
            if end_user is None:
                raise QbdSyncError(
                    f"company {company_id!r} has no Conductor end-user; connect "
                    "it first (qbd-sync companies connect)"
                )
            await publisher.start()
            puller = ReferencePuller(
                pool, gateway, publisher, topic=settings.reference_topic, tracker=tracker
            )
            return await puller.pull(
                company_id, end_user, lists, run_id=f"cli:{uuid.uuid4().hex}", full=full
            )
    finally:
        await publisher.stop()
        await pool.close()
