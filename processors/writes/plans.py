"""The data a write is planned from and planned into, its errors, and value conversions.

PlanError (processors.errors)  the event cannot be turned into a QuickBooks write
├── UnresolvedRef          an app id the write needs has no QuickBooks id yet (wait)
├── MissingIncomeAccount   a new item has no income account (final data failure)
├── NotSynced              an update, void or delete of an object that does not exist yet
└── NotAWrite              the event type writes nothing to QuickBooks (engine bug)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from processors.errors import PlanError
from schemas.inbound import Address
from schemas.names import ObjectType, SyncAction
from schemas.refs import Ref

__all__ = [
    "ExistingObject",
    "MissingIncomeAccount",
    "NotAWrite",
    "NotSynced",
    "Op",
    "PlanError",
    "ResolvedIds",
    "UnknownKind",
    "UnresolvedRef",
    "WritePlan",
    "transaction_create",
]

ResolvedIds = Mapping[Ref, str]
"""App ids already resolved to QuickBooks ids: `Ref(object_type, app_id) -> qbd_id`."""

Op = Literal["create", "update", "void", "delete"]

_ACTIONS: dict[str, SyncAction] = {
    "create": SyncAction.CREATED,
    "update": SyncAction.UPDATED,
    "void": SyncAction.VOIDED,
    "delete": SyncAction.DELETED,
}


@dataclass(frozen=True, slots=True)
class ExistingObject:
    """The QuickBooks object an event updates, voids or deletes: its id and current revision."""

    qbd_id: str
    revision_number: str
    resource: str | None = None
    """The SDK resource it lives in, when known (items: service vs non-inventory)."""
    record: Mapping[str, Any] | None = field(default=None, compare=False, hash=False)
    """The object as QuickBooks holds it now (API JSON), when it was retrieved: a
    transaction update is planned against it (line ids, what differs)."""


@dataclass(frozen=True, slots=True)
class WritePlan:
    """One SDK call: `client.qbd.<resource>.<op>(conductor_end_user_id=..., **params)`."""

    resource: str
    op: Op
    params: Mapping[str, Any] = field(hash=False)
    app_object_type: ObjectType
    app_id: str
    object_type_label: str
    external_id: str | None = None
    ref_number: str | None = None
    party_filter: Mapping[str, list[str]] = field(default_factory=dict, hash=False)
    qbd_id: str | None = None
    name: str | None = None
    """The list object's name (customers, vendors, items): the lookup key of `find_created`."""
    transaction_date: date | None = None
    """The transaction's date: narrows the ambiguity scan of `find_created`."""
    stale: bool = False
    """Planned without QuickBooks' current copy of the object: retrieve it and plan again
    before writing (a transaction update is always planned against the current object)."""
    unchanged: bool = False
    """The current object already holds every field the event sends: nothing to write."""

    @property
    def action(self) -> SyncAction:
        """What the plan does in QuickBooks when it is written (`unchanged` when it is not)."""
        return SyncAction.UNCHANGED if self.unchanged else _ACTIONS[self.op]


class UnresolvedRef(PlanError):
    """An app id the write needs has no QuickBooks id in `ResolvedIds`."""

    code = "UNRESOLVED_REF"

    def __init__(self, ref: Ref) -> None:
        super().__init__(f"no QuickBooks id for {ref.object_type} {ref.app_id!r}")
        self.ref = ref


class MissingIncomeAccount(PlanError):
    """A new item names no income account, and QuickBooks requires one."""

    code = "ITEM_INCOME_ACCOUNT_REQUIRED"


class NotSynced(PlanError):
    """An update, void or delete whose object was never created: its create failed."""

    code = "NOT_SYNCED"


class UnknownKind(PlanError):
    """The object's SDK resource is not known (a bill payment linked, not written by us)."""

    code = "UNKNOWN_OBJECT_KIND"


class NotAWrite(PlanError):
    """The event type writes nothing to QuickBooks through a plan."""

    code = "NOT_A_WRITE"


def qbd_id(ids: ResolvedIds, object_type: ObjectType, app_id: str) -> str:
    """The QuickBooks id of an app id; raise `UnresolvedRef` if it is not resolved."""
    ref = Ref(object_type, app_id)
    try:
        return ids[ref]
    except KeyError:
        raise UnresolvedRef(ref) from None


def optional_id(ids: ResolvedIds, object_type: ObjectType, app_id: str | None) -> str | None:
    """Like `qbd_id`, for an optional reference (None stays None)."""
    return None if app_id is None else qbd_id(ids, object_type, app_id)


def money(value: Decimal | None) -> str | None:
    """A decimal as the string the API wants (`Decimal("125.00")` -> `"125.00"`)."""
    return None if value is None else format(value, "f")


def quantity(value: Decimal | None) -> int | float | None:
    """A quantity as the JSON number the API wants.

    Quantities have at most 15 significant digits (10 + 5 places), so the float's shortest
    repr is the decimal text itself: nothing is lost on the wire.
    """
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def compact(**params: Any) -> dict[str, Any]:
    """The keyword arguments whose value is not None (absent fields are never sent)."""
    return {key: value for key, value in params.items() if value is not None}


def address(value: Address | None) -> dict[str, str] | None:
    """An address as the SDK's address dict, without empty parts."""
    if value is None:
        return None
    parts = value.model_dump(include=set(Address.model_fields))
    return {key: part for key, part in parts.items() if isinstance(part, str)}


def transaction_create(
    *,
    resource: str,
    object_type: ObjectType,
    app_id: str,
    params: dict[str, Any],
    external_id: str,
    ref_number: str | None,
    transaction_date: date,
    **party_filter: list[str],
) -> WritePlan:
    """The create plan of one transaction: marked, with what the ambiguity lookup needs."""
    return WritePlan(
        resource=resource,
        op="create",
        params=params,
        app_object_type=object_type,
        app_id=app_id,
        object_type_label=f"qbd_{resource.removesuffix('s')}",
        external_id=external_id,
        ref_number=ref_number,
        party_filter=party_filter,
        transaction_date=transaction_date,
    )
