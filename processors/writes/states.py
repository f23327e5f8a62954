"""What became of an app object's QuickBooks object, and what is left to do to it.

The mapping keeps an `ObjectState` per app object: the app voided or deleted it, or someone
deleted it in QuickBooks. `still_to_do` says what that leaves for a write: voiding a voided
object or deleting a deleted one is done already (the event succeeds, `unchanged`); deleting
a voided one goes ahead; anything else on a voided or deleted object fails with `VOIDED`,
`DELETED` (the app did it) or `DELETED_IN_QUICKBOOKS` (someone did it in QuickBooks).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from processors.writes.plans import PlanError, WritePlan

__all__ = [
    "AlreadyDeleted",
    "AlreadyVoided",
    "DeletedInQuickBooks",
    "ObjectState",
    "deleted_in_quickbooks",
    "state_after",
    "still_to_do",
]


class ObjectState(StrEnum):
    """What became of a mapped QuickBooks object (kept with its mapping)."""

    ACTIVE = "active"
    VOIDED = "voided"
    DELETED = "deleted"
    DELETED_IN_QUICKBOOKS = "deleted_in_quickbooks"


class AlreadyDeleted(PlanError):
    """A change to an object the app deleted earlier."""

    code = "DELETED"


class AlreadyVoided(PlanError):
    """An update of an object the app voided earlier."""

    code = "VOIDED"


class DeletedInQuickBooks(PlanError):
    """A change to an object someone deleted in QuickBooks."""

    code = "DELETED_IN_QUICKBOOKS"


_STATE_AFTER: Final[dict[str, ObjectState]] = {
    "void": ObjectState.VOIDED,
    "delete": ObjectState.DELETED,
}


def deleted_in_quickbooks(plan: WritePlan) -> DeletedInQuickBooks:
    """Why ``plan`` cannot apply: its object was deleted in QuickBooks."""
    kind = str(plan.app_object_type).replace("_", " ")
    return DeletedInQuickBooks(
        f"{plan.object_type_label} {plan.qbd_id} ({kind} {plan.app_id!r}) was deleted in "
        f"QuickBooks; the {plan.op} was not applied",
        user_facing_message=f"The {kind} {plan.app_id} was deleted in QuickBooks Desktop, so "
        "this change could not be applied. Re-create it in the app if it is still needed.",
    )


def state_after(plan: WritePlan) -> ObjectState:
    """What the object is once ``plan`` is done (voided, deleted, or still active)."""
    return _STATE_AFTER.get(plan.op, ObjectState.ACTIVE)


def still_to_do(plan: WritePlan, state: ObjectState) -> bool:
    """Whether ``plan`` has anything left to do to an object in ``state`` (else: done).

    Raises `AlreadyVoided`, `AlreadyDeleted` or `DeletedInQuickBooks` for a change that can
    no longer apply.
    """
    if state is ObjectState.ACTIVE:
        return True
    kind = str(plan.app_object_type).replace("_", " ")
    if state is ObjectState.VOIDED:
        if plan.op in ("void", "delete"):
            return plan.op == "delete"
        raise AlreadyVoided(
            f"{kind} {plan.app_id!r} was voided earlier; a voided transaction is not changed",
            user_facing_message=f"The {kind} {plan.app_id} is void, so this change was not "
            "applied. Create a new one instead.",
        )
    if plan.op == "delete":
        return False
    if state is ObjectState.DELETED_IN_QUICKBOOKS:
        raise deleted_in_quickbooks(plan)
    raise AlreadyDeleted(
        f"{kind} {plan.app_id!r} was deleted earlier; the {plan.op} was not applied",
        user_facing_message=f"The {kind} {plan.app_id} was deleted, so this change was not "
        "applied.",
    )
