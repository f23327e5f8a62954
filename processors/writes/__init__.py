"""Pure write planning: a validated inbound event plus resolved QuickBooks ids -> one SDK call.

Nothing here does I/O. `ConductorGateway.execute` (processors.gateway) runs a `WritePlan`.
"""

from __future__ import annotations

from processors.writes.lists import ITEM_RESOURCES
from processors.writes.payables import BILL_PAYMENT_RESOURCES
from processors.writes.planner import (
    WRITE_EVENT_TYPES,
    plan_write,
    required_refs,
    target_ref,
    target_resource,
)
from processors.writes.plans import (
    ExistingObject,
    MissingIncomeAccount,
    NotAWrite,
    Op,
    PlanError,
    ResolvedIds,
    UnresolvedRef,
    WritePlan,
)
from processors.writes.settings_lists import SETTINGS_LIST_RESOURCES, ListNotUpdatable

__all__ = [
    "BILL_PAYMENT_RESOURCES",
    "ITEM_RESOURCES",
    "SETTINGS_LIST_RESOURCES",
    "WRITE_EVENT_TYPES",
    "ExistingObject",
    "ListNotUpdatable",
    "MissingIncomeAccount",
    "NotAWrite",
    "Op",
    "PlanError",
    "ResolvedIds",
    "UnresolvedRef",
    "WritePlan",
    "plan_write",
    "required_refs",
    "target_ref",
    "target_resource",
]
