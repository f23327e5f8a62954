"""Plans that change a transaction that exists: updates, voids and deletes.

An update is planned against the object as QuickBooks holds it now (`ExistingObject.record`,
retrieved just before): it carries that object's `revisionNumber` and only the fields the
app sends, so what someone changed in QuickBooks and the app did not send stays (the app
owns the fields it sends, CONTRACT.md 4a). Without the current object the plan is `stale`
and the writer retrieves it and plans again. When the object already holds every field
sent, the plan is `unchanged` and nothing is written.

A `*.created` for an app id that already has a QuickBooks object updates it with every field
of the create (the create describes the whole transaction): its lines replace the lines, a
bill or vendor credit without item lines loses its item lines, and `externalId` (immutable)
is not sent.

Lines: the sent lines replace the object's lines (SDK semantics: a line sent with an
existing `id` is kept and edited, `id: "-1"` adds one, lines left out are removed). A sent
line keeps the id of the object's line at the same position when both name the same item
(or, for bill expense lines, the same account), so a corrected quantity edits the line in
place and what QuickBooks holds on it beyond the app's fields (class, service date) stays;
any other line is new.

Voids and deletes need no revision. Receive-payments, purchase orders and vendor credits
cannot be voided here (QuickBooks has no void for the first two; the contract none for the
last). A bill payment is deleted from the resource of its kind (check or credit card), which
the caller passes as `ExistingObject.resource`; without it the delete cannot be planned.

What became of the object decides what is left to do: see `processors.writes.states`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from processors.writes.compare import differs
from processors.writes.payables import BILL_PAYMENT_KINDS
from processors.writes.plans import (
    ExistingObject,
    NotAWrite,
    Op,
    ResolvedIds,
    UnknownKind,
    WritePlan,
)
from processors.writes.updates import UPDATE_FIELDS
from schemas.names import ObjectType
from schemas.refs import EventData

__all__ = [
    "TRANSACTION_RESOURCES",
    "plan_change",
    "plan_delete",
    "plan_replacement",
    "plan_void",
]

TRANSACTION_RESOURCES: Final[dict[ObjectType, tuple[str, str]]] = {
    ObjectType.INVOICE: ("invoices", "qbd_invoice"),
    ObjectType.SALES_RECEIPT: ("sales_receipts", "qbd_sales_receipt"),
    ObjectType.BILL: ("bills", "qbd_bill"),
    ObjectType.PURCHASE_ORDER: ("purchase_orders", "qbd_purchase_order"),
    ObjectType.PAYMENT: ("receive_payments", "qbd_receive_payment"),
    ObjectType.CREDIT_MEMO: ("credit_memos", "qbd_credit_memo"),
    ObjectType.VENDOR_CREDIT: ("vendor_credits", "qbd_vendor_credit"),
}
"""SDK resource and `objectType` of each transaction an app object can be."""

_VOIDABLE: Final = frozenset(
    {ObjectType.INVOICE, ObjectType.SALES_RECEIPT, ObjectType.BILL, ObjectType.CREDIT_MEMO}
)
_TWO_KINDS_OF_LINES: Final = ("bills", "vendor_credits")
_CREATE_ONLY: Final = ("external_id", "is_auto_apply")
# Line lists, the record key holding them, and the key that must match to keep a line's id.
_LINE_LISTS: Final = (
    ("lines", "lines", "item_id"),
    ("expense_lines", "expenseLines", "account_id"),
    ("item_lines", "itemLines", "item_id"),
)


def _resource(object_type: ObjectType) -> tuple[str, str]:
    try:
        return TRANSACTION_RESOURCES[object_type]
    except KeyError:
        raise NotAWrite(f"{object_type} is not a transaction qbd-sync changes") from None


def _with_line_ids(fields: dict[str, Any], record: Mapping[str, Any] | None) -> dict[str, Any]:
    """Every sent line with the id it keeps (same position, same item) or "-1" (new)."""
    out = dict(fields)
    for key, record_key, match in _LINE_LISTS:
        lines = out.get(key)
        if not lines:
            continue
        held = record.get(record_key) if record is not None else None
        current = held if isinstance(held, list) else []
        kept = []
        for position, line in enumerate(lines):
            line_id = "-1"
            if position < len(current) and isinstance(current[position], Mapping):
                ref = current[position].get(match.removesuffix("_id"))
                if isinstance(ref, Mapping) and ref.get("id") == line[match]:
                    line_id = str(current[position].get("id") or "-1")
            kept.append({"id": line_id, **line})
        out[key] = kept
    return out


def _update(
    object_type: ObjectType,
    app_id: str,
    fields: dict[str, Any],
    existing: ExistingObject,
) -> WritePlan:
    resource, label = _resource(object_type)
    record = existing.record
    params = {
        "id": existing.qbd_id,
        "revision_number": existing.revision_number,
        **_with_line_ids(fields, record),
    }
    return WritePlan(
        resource=resource,
        op="update",
        params=params,
        app_object_type=object_type,
        app_id=app_id,
        object_type_label=label,
        qbd_id=existing.qbd_id,
        stale=record is None,
        unchanged=record is not None and not differs(fields, record),
    )


def plan_change(data: EventData, ids: ResolvedIds, existing: ExistingObject) -> WritePlan:
    """Update the existing transaction with the fields a `*.updated` event carries."""
    build = UPDATE_FIELDS.get(type(data))
    if build is None or data.OBJECT_TYPE is None or data.app_id is None:
        raise NotAWrite(f"{type(data).__name__} is not a transaction update")
    return _update(data.OBJECT_TYPE, data.app_id, build(data, ids), existing)


def plan_replacement(created: WritePlan, existing: ExistingObject) -> WritePlan:
    """A `*.created` of an app id that has a QuickBooks object: update it with every field."""
    fields = {k: v for k, v in created.params.items() if k not in _CREATE_ONLY}
    if created.resource in _TWO_KINDS_OF_LINES:
        for lines in ("expense_lines", "item_lines"):
            if lines not in fields:
                fields[f"clear_{lines}"] = True
    return _update(created.app_object_type, created.app_id, fields, existing)


def _bill_payment_resource(app_id: str, existing: ExistingObject) -> tuple[str, str]:
    for label, resource in BILL_PAYMENT_KINDS.items():
        if existing.resource == resource:
            return resource, label
    raise UnknownKind(
        f"bill payment {app_id!r} has no known kind (check or credit card): it was linked to "
        f"QuickBooks id {existing.qbd_id}, not written by qbd-sync",
        user_facing_message=(
            "This bill payment was linked to QuickBooks, not created by this sync, so it does "
            "not know whether it is a check or a credit-card payment. Delete it in QuickBooks."
        ),
    )


def _kept_or_gone(
    object_type: ObjectType, app_id: str, existing: ExistingObject, op: Op
) -> WritePlan:
    if object_type is ObjectType.BILL_PAYMENT:
        resource, label = _bill_payment_resource(app_id, existing)
    else:
        resource, label = _resource(object_type)
    return WritePlan(
        resource=resource,
        op=op,
        params={"id": existing.qbd_id},
        app_object_type=object_type,
        app_id=app_id,
        object_type_label=label,
        qbd_id=existing.qbd_id,
    )


def plan_void(data: EventData, existing: ExistingObject) -> WritePlan:
    """Void the existing transaction (QuickBooks keeps it with zero amounts)."""
    object_type = data.OBJECT_TYPE
    if object_type not in _VOIDABLE or data.app_id is None:
        raise NotAWrite(f"{object_type} cannot be voided")
    return _kept_or_gone(object_type, data.app_id, existing, "void")


def plan_delete(data: EventData, existing: ExistingObject) -> WritePlan:
    """Delete the existing transaction."""
    if data.OBJECT_TYPE is None or data.app_id is None:
        raise NotAWrite(f"{type(data).__name__} names no object to delete")
    return _kept_or_gone(data.OBJECT_TYPE, data.app_id, existing, "delete")
