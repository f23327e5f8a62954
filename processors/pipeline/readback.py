"""Invoice status read back from QuickBooks: ``qbd.status.invoice`` (CONTRACT.md section 5).

What changes in QuickBooks itself (a payment entered there, an edit, a deletion) comes back to
the app as one ``qbd.status.invoice`` per synced invoice whose balance, paid state, revision
or existence changed since the last pull. One pull of a company:

    checkpoint (status_pulls) -> invoices updated since it (one list, no lines)
      -> per page: the mapped ones that changed are published, then remembered
    -> deleted invoices since it (the deleted-transactions list) -> the same
    -> the checkpoint moves to the newest ``updatedAt`` / ``deletedAt`` seen

*Incremental*: ``updatedAfter`` is inclusive and QuickBooks stamps on its own clock, so the
next pull asks from the newest stamp seen (to the second) and drops what it already saw.
With nothing changed a pull costs the two list calls (invoices, deleted invoices) and
publishes nothing; a company with no synced invoice costs none.

*Resumable*: a page is published, then remembered; the checkpoint moves only when the pull
completes. A pull cut short starts again from the old checkpoint and skips what it already
published; only a crash between a publish and its save repeats it, with the same CloudEvent
``id`` (``company:invoice-status:qbd_id:revision``), so consumers drop the repeat.

*What counts as a change*: balance, paid state or existence differ from the last pull; or
the revision differs and is not the one the app's own last write left (the app learned that
one from its sync result). An invoice a pull sees for the first time is published unless it
is exactly as the app's write left it (same revision, nothing applied to it). A deleted
invoice is published once, unless the app deleted it itself; its mapping then remembers it
was deleted in QuickBooks, so later updates fail ``DELETED_IN_QUICKBOOKS`` without a call.

It runs in the company's lane (``WorkKind.STATUS``, or a ``reference.pull_requested`` with
``invoice_status``), so it never races a write. ``StatusPoll`` queues it every
``QBD_SYNC_STATUS_POLL_INTERVAL`` for online companies.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any, Final

from processors.companies import CompanyBook
from processors.gateway import DEFAULT_LOOKUP_MARGIN, ConductorGateway
from processors.logs import get_logger
from processors.mappings import Mapping, MappingStore
from processors.outcome import Outcome
from processors.pipeline.connection import CompanyConnection
from processors.pipeline.writer import Reader
from processors.publish import Publisher
from processors.status_book import Checkpoint, InvoiceStatus, InvoiceStatusBook
from processors.writes import ObjectState
from schemas import (
    SOURCE,
    CompanyConnectionState,
    InvoiceStatusData,
    ObjectType,
    OutboundType,
    make_cloudevent,
)

__all__ = ["StatusPoll", "StatusReadBack", "StatusReport", "changed"]

log = get_logger("readback")
_INVOICE: Final = str(ObjectType.INVOICE)
_PAGE: Final = 150  # one Conductor page


@dataclass(slots=True)
class StatusReport:
    """What one pull of one company did."""

    company_id: str
    listed: int = 0
    deleted: int = 0
    published: int = 0
    skipped: bool = False


def _instant(text: Any) -> datetime | None:
    if not text:
        return None
    parsed = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _newest(current: datetime, stamp: datetime | None) -> datetime:
    return stamp if stamp is not None and stamp > current else current


def _money(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def changed(
    current: InvoiceStatus,
    seen: InvoiceStatus | None,
    mapping: Mapping,
    *,
    applied: Decimal = Decimal(0),
) -> bool:
    """Whether a pull must publish ``current`` (see the module docstring).

    ``seen`` is what the last pull saw (None: never seen); ``mapping`` holds the revision
    the app's own last write left; ``applied`` is what payments and credits applied to it.
    """
    if seen is None:
        untouched = current.revision_number == mapping.revision_number and not applied
        return current.deleted or not untouched
    if (seen.balance_remaining, seen.is_paid, seen.deleted) != (
        current.balance_remaining,
        current.is_paid,
        current.deleted,
    ):
        return True
    return (
        seen.revision_number != current.revision_number
        and current.revision_number != mapping.revision_number
    )


class StatusReadBack:
    """Pulls one company's invoice status at a time; see the module docstring."""

    def __init__(
        self,
        *,
        book: InvoiceStatusBook,
        mappings: MappingStore,
        gateway: ConductorGateway,
        publisher: Publisher,
        topic: str,
        connection: CompanyConnection,
        reader: Reader,
    ) -> None:
        self._book = book
        self._mappings = mappings
        self._gateway = gateway
        self._publisher = publisher
        self._topic = topic
        self._connection = connection
        self._reader = reader

    async def pull_if_online(self, company_id: str) -> StatusReport | None:
        """The timer's pull, in the company's lane: only an online company is asked.

        A company QuickBooks cannot reach now is left alone (its next write finds out and
        parks it); None when nothing was pulled.
        """
        if await self._connection.state(company_id) is not CompanyConnectionState.ONLINE:
            return None
        try:
            end_user = await self._connection.end_user(company_id)
            if end_user is None:
                return None
            return await self._reader.read(partial(self.pull, company_id, end_user))
        except Outcome as outcome:
            log.info(
                "status pull skipped: QuickBooks did not answer",
                company_id=company_id,
                code=outcome.error.code,
            )
            return None

    async def pull(self, company_id: str, end_user_id: str) -> StatusReport:
        """Publish what changed for the company's synced invoices since the last pull."""
        report = StatusReport(company_id)
        first = await self._mappings.first_mapped_at(company_id, _INVOICE)
        if first is None:
            report.skipped = True
            return report
        start = await self._book.checkpoint(company_id)
        fallback = first - DEFAULT_LOOKUP_MARGIN
        updated = start.updated_after or fallback
        page: list[dict[str, Any]] = []
        async for invoice in self._gateway.iter_objects(
            end_user_id,
            "invoices",
            updated_after=updated.isoformat(timespec="seconds"),
            include_line_items=False,
        ):
            updated = _newest(updated, _instant(invoice.get("updatedAt")))
            page.append(invoice)
            if len(page) >= _PAGE:
                await self._settle(company_id, page, report)
                page = []
        if page:
            await self._settle(company_id, page, report)
        deleted_after = start.deleted_after or fallback
        gone = await self._gateway.deleted_since(end_user_id, "invoice", deleted_after)
        for record in gone:
            deleted_after = _newest(deleted_after, _instant(record.get("deletedAt")))
        await self._settle(company_id, gone, report, deleted=True)
        await self._book.advance(company_id, Checkpoint(updated, deleted_after))
        log.info(
            "invoice status pulled",
            company_id=company_id,
            listed=report.listed,
            deleted=report.deleted,
            published=report.published,
        )
        return report

    async def _settle(
        self,
        company: str,
        objs: Sequence[dict[str, Any]],
        report: StatusReport,
        *,
        deleted: bool = False,
    ) -> None:
        """Publish the mapped invoices of ``objs`` that changed, then remember them all."""
        ids = [str(obj["id"]) for obj in objs]
        mapped = await self._mappings.of_qbd_ids(company, _INVOICE, ids)
        if not mapped:
            return
        seen = await self._book.seen(company, list(mapped))
        publish: list[InvoiceStatus] = []
        remember: list[InvoiceStatus] = []
        for obj in objs:
            mapping = mapped.get(str(obj["id"]))
            if mapping is None:
                continue
            current = _status(obj, mapping, deleted=deleted)
            last = seen.get(current.qbd_id)
            if deleted:
                report.deleted += 1
                ours = mapping.state is ObjectState.DELETED
                if not ours and (last is None or not last.deleted):
                    publish.append(current)
                if mapping.state is ObjectState.ACTIVE or mapping.state is ObjectState.VOIDED:
                    await self._mappings.set_state(
                        company, _INVOICE, mapping.app_id, ObjectState.DELETED_IN_QUICKBOOKS
                    )
            else:
                report.listed += 1
                applied = _money(obj.get("appliedAmount")) or Decimal(0)
                if changed(current, last, mapping, applied=applied):
                    publish.append(current)
            remember.append(current)
        await self._publish(company, publish)
        await self._book.record(company, remember)
        report.published += len(publish)

    async def _publish(self, company: str, statuses: Sequence[InvoiceStatus]) -> None:
        """Send the statuses concurrently and wait for every acknowledgement."""
        key, now = company.encode(), datetime.now(UTC)
        sends = []
        for status in statuses:
            data = InvoiceStatusData(
                invoice_id=status.invoice_id,
                qbd_id=status.qbd_id,
                balance_remaining=status.balance_remaining,
                is_paid=status.is_paid,
                revision_number=status.revision_number,
                deleted=status.deleted,
            )
            suffix = "deleted" if status.deleted else status.revision_number
            event_id = f"{company}:invoice-status:{status.qbd_id}:{suffix}"
            body = make_cloudevent(
                OutboundType.STATUS_INVOICE, SOURCE, company, data, id=event_id, time=now
            )
            sends.append(self._publisher.send(self._topic, key, body))
        await asyncio.gather(*sends)


def _status(obj: dict[str, Any], mapping: Mapping, *, deleted: bool) -> InvoiceStatus:
    if deleted:
        return InvoiceStatus(str(obj["id"]), mapping.app_id, None, False, None, deleted=True)
    return InvoiceStatus(
        qbd_id=str(obj["id"]),
        invoice_id=mapping.app_id,
        balance_remaining=_money(obj.get("balanceRemaining")),
        is_paid=bool(obj.get("isPaid")),
        revision_number=obj.get("revisionNumber"),
    )


class StatusPoll:
    """Every ``interval``, queues a status pull in the lane of each online company."""

    def __init__(
        self, *, companies: CompanyBook, interval: timedelta, request: Callable[[str], bool]
    ) -> None:
        self._companies = companies
        self._interval = interval
        self._request = request

    async def run_forever(self) -> None:
        """Tick until cancelled; a failed tick (PostgreSQL away) is logged and retried."""
        while True:
            await asyncio.sleep(self._interval.total_seconds())
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the timer must outlive a database blip
                log.warning("status poll tick failed", error=f"{type(exc).__name__}: {exc}")

    async def tick(self) -> list[str]:
        """Queue a pull for every online company this instance owns; the companies queued."""
        companies = await self._companies.all()
        online = [c.company_id for c in companies if c.state is CompanyConnectionState.ONLINE]
        return [company for company in online if self._request(company)]
