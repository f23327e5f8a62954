"""AppObjects: the order of one app object's events, and what its mapping remembers.

One app object (company, object type, app id) has one QuickBooks object, and its events act
on it in publish order:

- an event waits behind an older event of the same app object that still waits (a released
  waiter goes to the back of the lane, so without this a later void could overtake it);
- an update, void or delete waits for its object's create (``waiting_dependency``, quietly
  when that create is on its way, with a "map it" attention when none was ever seen) and
  fails ``NOT_SYNCED`` when that create failed;
- when an event fails, the events waiting behind it run (and find out for themselves);
- an object found deleted in QuickBooks is remembered, so later changes fail at once.
"""

from __future__ import annotations

from processors.ledger import Ledger, LedgerStatus
from processors.mappings import MappingStore
from processors.pipeline.endstates import EndStates
from processors.work import Work
from processors.writes import NotSynced, ObjectState, creates_of, target_ref
from schemas import Change, Ref

__all__ = ["AppObjects"]

_CHANGES_OF_EXISTING = (Change.UPDATE, Change.VOID, Change.DELETE)


class AppObjects:
    """Keeps each app object's events in order and its mapping's state up to date."""

    def __init__(self, *, ledger: Ledger, mappings: MappingStore, ends: EndStates) -> None:
        self._ledger = ledger
        self._mappings = mappings
        self._ends = ends

    async def waits(self, work: Work, target: Ref, *, mapped: bool) -> bool:
        """Whether the event must wait for its own app object (True: it waits now).

        Raises ``NotSynced`` for an update, void or delete whose object's create failed.
        """
        event, company = work.event, work.company_id
        change = event.data.CHANGE
        if change is Change.UPSERT:
            return False
        object_type = str(target.object_type)
        if await self._ledger.waits_before(event.id, company, object_type, target.app_id):
            await self._ends.wait(work, target, attention=False)
            return True
        if mapped or change not in _CHANGES_OF_EXISTING:
            return False
        last = await self._ledger.last_create(
            company, object_type, target.app_id, creates_of(target.object_type)
        )
        if last == LedgerStatus.FAILED:
            kind = object_type.replace("_", " ")
            raise NotSynced(
                f"the create of {kind} {target.app_id!r} failed, so {event.type} has nothing "
                "to change",
                user_facing_message=f"The {kind} {target.app_id} never reached QuickBooks "
                "Desktop (its creation failed), so this change could not be applied. Fix and "
                "resend the original first.",
            )
        # A create seen but not synced yet: wait quietly. None seen: ask the user to map it.
        await self._ends.wait(work, target, attention=last is None)
        return True

    async def failed(self, work: Work) -> list[Work]:
        """The events that waited behind a failed one of the same app object: run them now."""
        target = target_ref(work.event)
        if target is None:
            return []
        return await self._ends.release(work.company_id, target, home=work.home)

    async def deleted_in_quickbooks(self, work: Work) -> None:
        """The event's object was deleted in QuickBooks: later changes fail without a call."""
        target = target_ref(work.event)
        if target is not None:
            await self._mappings.set_state(
                work.company_id,
                str(target.object_type),
                target.app_id,
                ObjectState.DELETED_IN_QUICKBOOKS,
            )
