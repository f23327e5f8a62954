"""Plans that create or update list objects: customers, vendors, service and non-inventory items.

An upsert creates the object (with the event's `externalId`) when there is no existing one,
and otherwise updates it with the existing `revisionNumber` and only the fields the event
carries: a field the event leaves out is left as it is in QuickBooks. `is_active` is always
sent (default true): false makes the object inactive, true makes it active again.

An item's kind picks its resource (`service` -> service items, `non_inventory` ->
non-inventory items). QuickBooks cannot change an item's type, so an update goes to the
existing object's resource when `ExistingObject.resource` says which one it is.

QuickBooks requires a posting (income) account on a new item, so creating an item without
`income_account_id` raises `MissingIncomeAccount` (a data failure the user fixes by sending
the account). When the event does name one, it is a required ref like any other: planning
waits until the account is mapped.
"""

from __future__ import annotations

from typing import Any

from processors.writes.plans import (
    ExistingObject,
    MissingIncomeAccount,
    Op,
    ResolvedIds,
    WritePlan,
    address,
    compact,
    money,
    optional_id,
)
from schemas.inbound import CustomerUpserted, ItemUpserted, VendorUpserted
from schemas.names import ItemKind, ObjectType

__all__ = ["ITEM_RESOURCES", "plan_customer", "plan_item", "plan_vendor"]

ITEM_RESOURCES: dict[ItemKind, tuple[str, str]] = {
    ItemKind.SERVICE: ("service_items", "qbd_service_item"),
    ItemKind.NON_INVENTORY: ("non_inventory_items", "qbd_non_inventory_item"),
}
"""SDK resource and `objectType` of each item kind."""

_ITEM_LABELS = dict(ITEM_RESOURCES.values())


def _upsert(
    fields: dict[str, Any], existing: ExistingObject | None, external_id: str
) -> tuple[Op, dict[str, Any], str | None]:
    if existing is None:
        return "create", {**fields, "external_id": external_id}, external_id
    update = {"id": existing.qbd_id, "revision_number": existing.revision_number, **fields}
    return "update", update, None


def plan_customer(
    data: CustomerUpserted, ids: ResolvedIds, existing: ExistingObject | None, external_id: str
) -> WritePlan:
    """Create the customer, or update the existing one with the fields the event carries."""
    fields = compact(
        name=data.name,
        company_name=data.company_name,
        email=data.email,
        phone=data.phone,
        billing_address=address(data.billing_address),
        sales_tax_code_id=optional_id(ids, ObjectType.SALES_TAX_CODE, data.sales_tax_code_id),
        is_active=data.is_active,
    )
    op, params, marker = _upsert(fields, existing, external_id)
    return WritePlan(
        resource="customers",
        op=op,
        params=params,
        app_object_type=ObjectType.CUSTOMER,
        app_id=data.customer_id,
        object_type_label="qbd_customer",
        external_id=marker,
        qbd_id=None if existing is None else existing.qbd_id,
        name=data.name,
    )


def plan_vendor(
    data: VendorUpserted, existing: ExistingObject | None, external_id: str
) -> WritePlan:
    """Create the vendor, or update the existing one with the fields the event carries."""
    fields = compact(
        name=data.name,
        email=data.email,
        phone=data.phone,
        billing_address=address(data.address),
        is_active=data.is_active,
    )
    op, params, marker = _upsert(fields, existing, external_id)
    return WritePlan(
        resource="vendors",
        op=op,
        params=params,
        app_object_type=ObjectType.VENDOR,
        app_id=data.vendor_id,
        object_type_label="qbd_vendor",
        external_id=marker,
        qbd_id=None if existing is None else existing.qbd_id,
        name=data.name,
    )


def plan_item(
    data: ItemUpserted, ids: ResolvedIds, existing: ExistingObject | None, external_id: str
) -> WritePlan:
    """Create the item (service or non-inventory), or update the existing one."""
    account = optional_id(ids, ObjectType.ACCOUNT, data.income_account_id)
    if existing is None and account is None:
        raise MissingIncomeAccount(
            f"item {data.item_id!r} is new and names no income_account_id",
            user_facing_message=(
                f'QuickBooks needs an income account for the new item "{data.name}". '
                "Choose one for it and sync again."
            ),
        )
    details = compact(
        posting_account_id=account, price=money(data.price), description=data.description
    )
    fields = compact(
        name=data.name, sales_or_purchase_details=details or None, is_active=data.is_active
    )
    resource, label = ITEM_RESOURCES[data.kind]
    known = None if existing is None else existing.resource
    if known is not None and known in _ITEM_LABELS:
        resource, label = known, _ITEM_LABELS[known]
    op, params, marker = _upsert(fields, existing, external_id)
    return WritePlan(
        resource=resource,
        op=op,
        params=params,
        app_object_type=ObjectType.ITEM,
        app_id=data.item_id,
        object_type_label=label,
        external_id=marker,
        qbd_id=None if existing is None else existing.qbd_id,
        name=data.name,
    )
