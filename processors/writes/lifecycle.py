"""Plans that change a transaction that exists: updates, voids and deletes.

An update is planned against the object as QuickBooks holds it now (`ExistingObject.record`,
retrieved just before): it carries that object's `revisionNumber` and only the fields the
app sends, so what someone changed in QuickBooks and the app did not send stays (the app
owns the fields it sends, CONTRACT.md 4a). Without the current object the plan is `stale`
and the writer retrieves it and plans again. When the object already holds every field
sent, the plan is `unchanged` and nothing is written.

A `*.created` for an app id that already has a QuickBooks object updates it with every field
of the create (the create describes the whole transaction): its lines replace the lines, a
bill without item lines loses its item lines, and `externalId` (immutable) is not sent.

Lines: the sent lines replace the object's lines (SDK semantics: a line sent with an
existing `id` is kept and edited, `id: "-1"` adds one, lines left out are removed). A sent
line keeps the id of the object's line at the same position when both name the same item
(or, for bill expense lines, the same account), so a corrected quantity edits the line in
place and what QuickBooks holds on it beyond the app's fields (class, service date) stays;
any other line is new.

Voids and deletes need no revision. Receive-payments, purchase orders and vendor credits
cannot be voided here (QuickBooks has no void for the first two; the contract none for the
last). Bill payments are not planned: a deleted one lives in one of two SDK resources
(check or credit card) that its mapping does not record.

What became of the object (`ObjectState`, kept with its mapping) decides what is left to do
(`still_to_do`): voiding a voided object or deleting a deleted one is done already (the
event succeeds, `unchanged`); deleting a voided one goes ahead; anything else on a voided
or deleted object fails with `VOIDED`, `DELETED` (the app did it) or
`DELETED_IN_QUICKBOOKS` (someone did it in QuickBooks).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from enum import StrEnum
from typing import Any, Final

from processors.writes.compare import differs
from processors.writes.plans import (
    ExistingObject,
    NotAWrite,
    Op,
    PlanError,
    ResolvedIds,
    WritePlan,
    compact,
    money,
    optional_id,
    qbd_id,
    quantity,
)
from schemas.inbound import (
    AppliedPayment,
    BillItemLine,
    BillUpdated,
    CreditMemoUpdated,
    ExpenseLine,
    InvoiceUpdated,
    PaymentUpdated,
    PurchaseOrderUpdated,
    SalesLine,
    SalesReceiptUpdated,
)
from schemas.names import ObjectType
from schemas.refs import EventData

__all__ = [
    "TRANSACTION_RESOURCES",
    "AlreadyDeleted",
    "AlreadyVoided",
    "DeletedInQuickBooks",
    "ObjectState",
    "deleted_in_quickbooks",
    "plan_change",
    "plan_delete",
    "plan_replacement",
    "plan_void",
    "state_after",
    "still_to_do",
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


def _sales_lines(lines: Sequence[SalesLine], ids: ResolvedIds) -> list[dict[str, Any]]:
    return [
        compact(
            item_id=qbd_id(ids, ObjectType.ITEM, line.item_id),
            quantity=quantity(line.quantity),
            rate=money(line.rate),
            amount=money(line.amount),
            description=line.description,
            sales_tax_code_id=optional_id(ids, ObjectType.SALES_TAX_CODE, line.sales_tax_code_id),
        )
        for line in lines
    ]


def _maybe_lines(lines: Sequence[SalesLine] | None, ids: ResolvedIds) -> Any:
    return None if lines is None else _sales_lines(lines, ids)


def _invoice(data: InvoiceUpdated, ids: ResolvedIds) -> dict[str, Any]:
    return compact(
        customer_id=optional_id(ids, ObjectType.CUSTOMER, data.customer_id),
        transaction_date=data.transaction_date,
        lines=_maybe_lines(data.lines, ids),
        ref_number=data.ref_number,
        due_date=data.due_date,
        terms_id=optional_id(ids, ObjectType.TERMS, data.terms_id),
        class_id=optional_id(ids, ObjectType.CLASS, data.class_id),
        memo=data.memo,
        sales_tax_item_id=optional_id(ids, ObjectType.SALES_TAX_ITEM, data.sales_tax_item_id),
    )


def _sales_receipt(data: SalesReceiptUpdated, ids: ResolvedIds) -> dict[str, Any]:
    return compact(
        customer_id=optional_id(ids, ObjectType.CUSTOMER, data.customer_id),
        transaction_date=data.transaction_date,
        lines=_maybe_lines(data.lines, ids),
        payment_method_id=optional_id(ids, ObjectType.PAYMENT_METHOD, data.payment_method_id),
        deposit_to_account_id=optional_id(ids, ObjectType.ACCOUNT, data.deposit_account_id),
        ref_number=data.ref_number,
        memo=data.memo,
        sales_tax_item_id=optional_id(ids, ObjectType.SALES_TAX_ITEM, data.sales_tax_item_id),
    )


def _credit_memo(data: CreditMemoUpdated, ids: ResolvedIds) -> dict[str, Any]:
    return compact(
        customer_id=optional_id(ids, ObjectType.CUSTOMER, data.customer_id),
        transaction_date=data.transaction_date,
        lines=_maybe_lines(data.lines, ids),
        ref_number=data.ref_number,
        memo=data.memo,
        sales_tax_item_id=optional_id(ids, ObjectType.SALES_TAX_ITEM, data.sales_tax_item_id),
    )


def _expense_lines(lines: Sequence[ExpenseLine], ids: ResolvedIds) -> list[dict[str, Any]]:
    return [
        compact(
            account_id=qbd_id(ids, ObjectType.ACCOUNT, line.account_id),
            amount=money(line.amount),
            memo=line.memo,
        )
        for line in lines
    ]


def _item_lines(lines: Sequence[BillItemLine], ids: ResolvedIds) -> list[dict[str, Any]]:
    return [
        compact(
            item_id=qbd_id(ids, ObjectType.ITEM, line.item_id),
            quantity=quantity(line.quantity),
            cost=money(line.cost),
        )
        for line in lines
    ]


def _bill(data: BillUpdated, ids: ResolvedIds) -> dict[str, Any]:
    expense = data.expense_lines
    items = data.item_lines
    return compact(
        vendor_id=optional_id(ids, ObjectType.VENDOR, data.vendor_id),
        transaction_date=data.transaction_date,
        expense_lines=_expense_lines(expense, ids) if expense else None,
        clear_expense_lines=True if expense == [] else None,
        item_lines=_item_lines(items, ids) if items else None,
        clear_item_lines=True if items == [] else None,
        due_date=data.due_date,
        ref_number=data.ref_number,
        memo=data.memo,
    )


def _purchase_order(data: PurchaseOrderUpdated, ids: ResolvedIds) -> dict[str, Any]:
    return compact(
        vendor_id=optional_id(ids, ObjectType.VENDOR, data.vendor_id),
        transaction_date=data.transaction_date,
        lines=_maybe_lines(data.lines, ids),
        expected_date=data.expected_date,
        ref_number=data.ref_number,
        class_id=optional_id(ids, ObjectType.CLASS, data.class_id),
        memo=data.memo,
    )


def _application(
    part: AppliedPayment, ids: ResolvedIds, discount_account: str | None
) -> dict[str, Any]:
    credits = [
        {
            "credit_transaction_id": qbd_id(ids, ObjectType.CREDIT_MEMO, credit.credit_memo_id),
            "applied_amount": money(credit.amount),
        }
        for credit in part.credits
    ]
    return compact(
        transaction_id=qbd_id(ids, ObjectType.INVOICE, part.invoice_id),
        payment_amount=money(part.amount),
        discount_amount=money(part.discount_amount),
        discount_account_id=discount_account if part.discount_amount else None,
        apply_credits=credits or None,
    )


def _payment(data: PaymentUpdated, ids: ResolvedIds) -> dict[str, Any]:
    discount_account = optional_id(ids, ObjectType.ACCOUNT, data.discount_account_id)
    applied = data.applied_to
    return compact(
        customer_id=optional_id(ids, ObjectType.CUSTOMER, data.customer_id),
        transaction_date=data.transaction_date,
        total_amount=money(data.total_amount),
        apply_to_transactions=None
        if applied is None
        else [_application(part, ids, discount_account) for part in applied],
        payment_method_id=optional_id(ids, ObjectType.PAYMENT_METHOD, data.payment_method_id),
        deposit_to_account_id=optional_id(ids, ObjectType.ACCOUNT, data.deposit_account_id),
        ref_number=data.ref_number,
        memo=data.memo,
    )


_UPDATES: Final[dict[type[EventData], Callable[[Any, ResolvedIds], dict[str, Any]]]] = {
    InvoiceUpdated: _invoice,
    SalesReceiptUpdated: _sales_receipt,
    BillUpdated: _bill,
    PurchaseOrderUpdated: _purchase_order,
    PaymentUpdated: _payment,
    CreditMemoUpdated: _credit_memo,
}


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
    build = _UPDATES.get(type(data))
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


def _kept_or_gone(
    object_type: ObjectType, app_id: str, existing: ExistingObject, op: Op
) -> WritePlan:
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
