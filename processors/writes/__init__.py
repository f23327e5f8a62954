"""Pure write planning: a validated inbound event plus resolved QuickBooks ids -> one SDK call.

Nothing here does I/O. `ConductorGateway.execute` (processors.gateway) runs a `WritePlan`.
"""

from __future__ import annotations

from processors.writes.compare import differs, is_void
from processors.writes.lifecycle import TRANSACTION_RESOURCES
from processors.writes.lists import ITEM_RESOURCES
from processors.writes.payables import BILL_PAYMENT_KINDS, BILL_PAYMENT_RESOURCES
from processors.writes.planner import (
    WRITE_EVENT_TYPES,
    creates_of,
    next_action,
    plan_write,
    required_refs,
    target_ref,
    target_resource,
)
from processors.writes.plans import (
    ExistingObject,
    MissingIncomeAccount,
    NotAWrite,
    NotSynced,
    Op,
    PlanError,
    ResolvedIds,
    UnknownKind,
    UnresolvedRef,
    WritePlan,
)
from processors.writes.settings_lists import SETTINGS_LIST_RESOURCES, ListNotUpdatable
from processors.writes.states import (
    AlreadyDeleted,
    AlreadyVoided,
    DeletedInQuickBooks,
    ObjectState,
    deleted_in_quickbooks,
    state_after,
    still_to_do,
)

__all__ = [
    "BILL_PAYMENT_KINDS",
    "BILL_PAYMENT_RESOURCES",
    "ITEM_RESOURCES",
    "SETTINGS_LIST_RESOURCES",
    "TRANSACTION_RESOURCES",
    "WRITE_EVENT_TYPES",
    "AlreadyDeleted",
    "AlreadyVoided",
    "DeletedInQuickBooks",
    "ExistingObject",
    "ListNotUpdatable",
    "MissingIncomeAccount",
    "NotAWrite",
    "NotSynced",
    "ObjectState",
    "Op",
    "PlanError",
    "ResolvedIds",
    "UnknownKind",
    "UnresolvedRef",
    "WritePlan",
    "creates_of",
    "deleted_in_quickbooks",
    "differs",
    "is_void",
    "next_action",
    "plan_write",
    "required_refs",
    "state_after",
    "still_to_do",
    "target_ref",
    "target_resource",
]
