"""ControlEvents: the inbound events that write no app object of their own.

``mapping.set`` links an app id to a QuickBooks object the user picked (and releases what
waited for it), ``company.settings_updated`` stores the books' closing date for pre-flight,
``company.connect_requested`` creates the company's end-user and sends the setup link, and
``reference.pull_requested`` publishes the company's QuickBooks lists (and invoice status).
``sync.requested`` is settled here once the lane's replay has run. The Syncer routes them
here; each ends in the ledger and, but for ``sync.requested``, with a sync result.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Any, Protocol

from processors.book_settings import BookSettings
from processors.ledger import Ledger, LedgerEntry
from processors.mappings import MappingStore
from processors.matching import Suggestion
from processors.outcome import NormalizedError, Outcome
from processors.pipeline.connection import CompanyConnection
from processors.pipeline.endstates import EndStates
from processors.pipeline.results import ResultBook
from processors.pipeline.writer import Reader
from processors.work import Work
from schemas import Ref, ReferenceList, SyncAction, SyncStatus

__all__ = ["ControlEvents", "ReferenceLookup", "StatusPull"]


class ReferenceLookup(Protocol):
    """What the pipeline needs of the reference puller (processors.reference.ReferencePuller)."""

    @property
    def auto_map(self) -> str:
        """``off`` or ``exact``: whether unmapped upserts adopt an exact-name match."""
        ...

    async def suggest_for(
        self, company: str, object_type: str, app_id: str, data: Any
    ) -> Suggestion | None:
        """QuickBooks candidates for an unmapped app record (None: list not pulled)."""
        ...

    async def pull(
        self,
        company_id: str,
        end_user_id: str,
        lists: Iterable[ReferenceList],
        *,
        run_id: str,
        request_event_id: str | None = None,
    ) -> object:
        """Publish the company's QuickBooks lists."""
        ...


class StatusPull(Protocol):
    """What the pipeline needs of the invoice status read-back (processors.pipeline.readback)."""

    async def pull(self, company_id: str, end_user_id: str) -> object:
        """Publish what changed in QuickBooks for the company's synced invoices."""
        ...


_EMAIL_REQUIRED = NormalizedError(
    type="INVALID_REQUEST_ERROR",
    code="EMAIL_REQUIRED",
    message=(
        "company.connect_requested needs data.email to create the company's Conductor "
        "end-user (Conductor requires companyName, email and sourceId); none was given"
    ),
    user_facing_message=(
        "We could not start connecting QuickBooks Desktop: an email address for the company "
        "is missing. Please add one and try again."
    ),
)


class ControlEvents:
    """Runs the control events of one lane to their end state."""

    def __init__(
        self,
        *,
        ledger: Ledger,
        mappings: MappingStore,
        connection: CompanyConnection,
        ends: EndStates,
        results: ResultBook,
        reader: Reader,
        books: BookSettings,
        reference: ReferenceLookup | None = None,
        status: StatusPull | None = None,
    ) -> None:
        self._ledger = ledger
        self._mappings = mappings
        self._connection = connection
        self._ends = ends
        self._results = results
        self._reader = reader
        self._books = books
        self._reference = reference
        self._status = status

    async def settle(self, work: Work) -> None:
        """Record a control event (``sync.requested``) done once its replay has run."""
        await self._ledger.synced(
            work.event.id, qbd_object_type=None, qbd_id=None, action=SyncAction.UNCHANGED
        )
        await self._ledger.result_published(work.event.id)

    async def mapping_set(self, work: Work) -> list[Work]:
        """Link the app id to the QuickBooks object the user chose; what waited for it runs."""
        data: Any = work.event.data
        await self._mappings.put(
            work.company_id, str(data.object_type), data.mapped_app_id, data.qbd_id, source="user"
        )
        await self._ledger.synced(
            work.event.id, qbd_object_type=None, qbd_id=data.qbd_id, action=SyncAction.LINKED
        )
        await self._results.publish(
            work,
            status=SyncStatus.SYNCED,
            app_id=data.mapped_app_id,
            qbd_id=data.qbd_id,
            action=SyncAction.LINKED,
        )
        ref = Ref(data.object_type, data.mapped_app_id)
        return await self._ends.release(work.company_id, ref, home=work.home)

    async def settings_updated(self, work: Work) -> None:
        """Store the company's closing date (qbd-sync only; QuickBooks is not written)."""
        data: Any = work.event.data
        await self._books.set_closing_date(work.company_id, data.closing_date)
        await self._ledger.synced(work.event.id, qbd_object_type=None, qbd_id=None)
        await self._results.publish(work, status=SyncStatus.SYNCED, app_id=None)

    async def connect(
        self, work: Work, entry: LedgerEntry, *, replaying: bool
    ) -> NormalizedError | None:
        """Create the company's end-user and send the setup link; Conductor's "no" ends it.

        Returns the error that parked the company, if the answer parked it.
        """
        data: Any = work.event.data
        company = work.company_id
        try:
            # Conductor requires an email to create an end-user: say so before asking. With
            # an end-user already there, the event only sends a fresh setup link.
            if not data.email and await self._connection.end_user(company) is None:
                await self._ends.fail(work, entry.attempts, _EMAIL_REQUIRED)
                return None
            await self._connection.connect(
                company, data.company_name, data.email, event_id=work.event.id
            )
        except Outcome as outcome:
            return await self._ends.act(work, outcome, replaying=replaying)
        await self.settle(work)
        return None

    async def pull_reference(self, work: Work, entry: LedgerEntry, end_user: str) -> None:
        """Pull QuickBooks lists (and invoice status) in the company's lane.

        A transient failure resumes the pull.
        """
        assert self._reference is not None
        event: Any = work.event
        lists = [kind for kind in event.data.object_types if kind != ReferenceList.INVOICE_STATUS]
        if lists:
            pull = partial(
                self._reference.pull,
                work.company_id,
                end_user,
                lists,
                run_id=event.id,
                request_event_id=event.id,
            )
            await self._reader.read(pull, attempts=entry.attempts)
        if len(lists) < len(event.data.object_types) and self._status is not None:
            status = partial(self._status.pull, work.company_id, end_user)
            await self._reader.read(status, attempts=entry.attempts)
        await self._ledger.synced(
            event.id, qbd_object_type=None, qbd_id=None, action=SyncAction.UNCHANGED
        )
        await self._results.publish(
            work, status=SyncStatus.SYNCED, app_id=None, action=SyncAction.UNCHANGED
        )
