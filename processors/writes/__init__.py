"""Pure write planning: a validated inbound event plus resolved QuickBooks ids -> one SDK call.

Nothing here does I/O. `ConductorGateway.execute` (processors.gateway) runs a `WritePlan`.
"""

from __future__ import annotations

from processors.writes.lists import ITEM_RESOURCES
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

__all__ = [
    "ITEM_RESOURCES",
    "WRITE_EVENT_TYPES",
    "ExistingObject",
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
