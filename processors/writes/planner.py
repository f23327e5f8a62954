"""Which event becomes which write: `plan_write`, and what must be resolved before it."""

from __future__ import annotations

from processors.markers import external_id_for
from processors.writes.credits import plan_credit_memo
from processors.writes.lifecycle import (
    TRANSACTION_RESOURCES,
    plan_change,
    plan_delete,
    plan_replacement,
    plan_void,
)
from processors.writes.lists import ITEM_RESOURCES, plan_customer, plan_item, plan_vendor
from processors.writes.payables import plan_bill_payment, plan_vendor_credit
from processors.writes.plans import ExistingObject, NotAWrite, ResolvedIds, WritePlan
from processors.writes.settings_lists import (
    SETTINGS_LIST_RESOURCES,
    plan_account,
    plan_class,
    plan_payment_method,
    plan_terms,
)
from processors.writes.transactions import (
    plan_bill,
    plan_invoice,
    plan_payment,
    plan_purchase_order,
    plan_sales_receipt,
)
from schemas.event import InboundEvent
from schemas.inbound import (
    DATA_MODELS,
    AccountUpserted,
    BillCreated,
    BillPaymentCreated,
    ClassUpserted,
    CreditMemoCreated,
    CustomerUpserted,
    InvoiceCreated,
    ItemUpserted,
    PaymentMethodUpserted,
    PaymentReceived,
    PurchaseOrderCreated,
    SalesReceiptCreated,
    TermsUpserted,
    VendorCreditCreated,
    VendorUpserted,
)
from schemas.names import Change, EventType, ObjectType
from schemas.refs import EventData, Ref

__all__ = [
    "WRITE_EVENT_TYPES",
    "creates_of",
    "next_action",
    "plan_write",
    "required_refs",
    "target_ref",
    "target_resource",
]

WRITE_EVENT_TYPES: frozenset[EventType] = frozenset(
    {
        EventType.CUSTOMER_UPSERTED,
        EventType.VENDOR_UPSERTED,
        EventType.ITEM_UPSERTED,
        EventType.INVOICE_CREATED,
        EventType.PAYMENT_RECEIVED,
        EventType.BILL_CREATED,
        EventType.SALES_RECEIPT_CREATED,
        EventType.PURCHASE_ORDER_CREATED,
        EventType.CREDIT_MEMO_CREATED,
        EventType.BILL_PAYMENT_CREATED,
        EventType.VENDOR_CREDIT_CREATED,
        EventType.CLASS_UPSERTED,
        EventType.TERMS_UPSERTED,
        EventType.ACCOUNT_UPSERTED,
        EventType.PAYMENT_METHOD_UPSERTED,
        EventType.INVOICE_UPDATED,
        EventType.SALES_RECEIPT_UPDATED,
        EventType.BILL_UPDATED,
        EventType.PURCHASE_ORDER_UPDATED,
        EventType.PAYMENT_UPDATED,
        EventType.INVOICE_VOIDED,
        EventType.SALES_RECEIPT_VOIDED,
        EventType.BILL_VOIDED,
        EventType.INVOICE_DELETED,
        EventType.SALES_RECEIPT_DELETED,
        EventType.BILL_DELETED,
        EventType.PURCHASE_ORDER_DELETED,
        EventType.PAYMENT_DELETED,
        EventType.CREDIT_MEMO_UPDATED,
        EventType.CREDIT_MEMO_VOIDED,
        EventType.CREDIT_MEMO_DELETED,
        EventType.VENDOR_CREDIT_DELETED,
        EventType.BILL_PAYMENT_DELETED,
    }
)
"""The event types `plan_write` turns into one QuickBooks write."""

_UPSERT_RESOURCES = {
    EventType.CUSTOMER_UPSERTED: "customers",
    EventType.VENDOR_UPSERTED: "vendors",
    EventType.CLASS_UPSERTED: SETTINGS_LIST_RESOURCES[ObjectType.CLASS][0],
    EventType.TERMS_UPSERTED: SETTINGS_LIST_RESOURCES[ObjectType.TERMS][0],
    EventType.ACCOUNT_UPSERTED: SETTINGS_LIST_RESOURCES[ObjectType.ACCOUNT][0],
    EventType.PAYMENT_METHOD_UPSERTED: SETTINGS_LIST_RESOURCES[ObjectType.PAYMENT_METHOD][0],
}


def required_refs(event: InboundEvent[EventData]) -> tuple[Ref, ...]:
    """The app ids that must have QuickBooks ids before `plan_write` can plan the event.

    Parties, items, accounts, classes, terms, payment methods and (for payments) the
    invoices paid; an item upsert's income account when it names one. Never the event's
    own object: whether it exists decides create vs update (see `target_ref`).
    """
    if event.type not in WRITE_EVENT_TYPES:
        return ()
    return event.data.refs()


def target_ref(event: InboundEvent[EventData]) -> Ref | None:
    """The app object the event creates, updates, voids or deletes (its mapping: `existing`)."""
    object_type, app_id = event.data.OBJECT_TYPE, event.data.app_id
    if event.type not in WRITE_EVENT_TYPES or object_type is None or app_id is None:
        return None
    return Ref(object_type, app_id)


def target_resource(event: InboundEvent[EventData]) -> str | None:
    """The SDK resource of the event's own object: where to retrieve its current revision."""
    data = event.data
    if isinstance(data, ItemUpserted):
        return ITEM_RESOURCES[data.kind][0]
    if event.type in WRITE_EVENT_TYPES and data.OBJECT_TYPE in TRANSACTION_RESOURCES:
        return TRANSACTION_RESOURCES[data.OBJECT_TYPE][0]
    return _UPSERT_RESOURCES.get(event.type)


def creates_of(object_type: ObjectType) -> list[str]:
    """The event types that create an app object of ``object_type`` (``invoice.created``)."""
    return [
        str(event_type)
        for event_type, model in DATA_MODELS.items()
        if model.CHANGE is Change.CREATE and model.OBJECT_TYPE is object_type
    ]


_VERBS: dict[Change, str] = {
    Change.UPDATE: "update",
    Change.VOID: "void",
    Change.DELETE: "delete",
}


def next_action(event: InboundEvent[EventData], *, mapped: bool) -> str | None:
    """What running ``event`` now would do to its app object (``mapped``: it has one).

    ``create``, ``update``, ``void``, ``delete`` or ``link`` (``mapping.set``); None for an
    event that changes no QuickBooks object (``sync.requested``, reference pulls, ...).
    """
    if event.type is EventType.MAPPING_SET:
        return "link"
    change = event.data.CHANGE
    if event.type not in WRITE_EVENT_TYPES or change is None:
        return None
    return _VERBS.get(change, "update" if mapped else "create")


def plan_write(
    event: InboundEvent[EventData], ids: ResolvedIds, existing: ExistingObject | None = None
) -> WritePlan:
    """The one SDK call that applies `event` to QuickBooks.

    `ids` must hold every ref of `required_refs(event)` (else `UnresolvedRef`). `existing`
    is the QuickBooks object the event's app id is mapped to: an upsert or a `*.created`
    then updates it (one QuickBooks object per app object, whatever the event id), and an
    update, void or delete needs it (see `processors.writes.lifecycle`). Raises `PlanError`
    subclasses (`UnresolvedRef`, `MissingIncomeAccount`, `ListNotUpdatable`) when it cannot plan.
    """
    data = event.data
    change = data.CHANGE
    if change in (Change.UPDATE, Change.VOID, Change.DELETE) and event.type in WRITE_EVENT_TYPES:
        if existing is None:
            raise NotAWrite(f"{event.type} needs the QuickBooks object it changes")
        if change is Change.UPDATE:
            return plan_change(data, ids, existing)
        if change is Change.VOID:
            return plan_void(data, existing)
        return plan_delete(data, existing)
    plan = _plan_new(event, ids, existing)
    if change is Change.CREATE and existing is not None and plan.op == "create":
        return plan_replacement(plan, existing)
    return plan


def _plan_new(
    event: InboundEvent[EventData], ids: ResolvedIds, existing: ExistingObject | None
) -> WritePlan:
    """The create of a `*.created` event, or the create or update of an upsert."""
    data = event.data
    marker = external_id_for(event.id)
    if isinstance(data, InvoiceCreated):
        return plan_invoice(data, ids, marker)
    if isinstance(data, PaymentReceived):
        return plan_payment(data, ids, marker)
    if isinstance(data, BillCreated):
        return plan_bill(data, ids, marker)
    if isinstance(data, SalesReceiptCreated):
        return plan_sales_receipt(data, ids, marker)
    if isinstance(data, PurchaseOrderCreated):
        return plan_purchase_order(data, ids, marker)
    if isinstance(data, CreditMemoCreated):
        return plan_credit_memo(data, ids, marker)
    if isinstance(data, BillPaymentCreated):
        return plan_bill_payment(data, ids, marker)
    if isinstance(data, VendorCreditCreated):
        return plan_vendor_credit(data, ids, marker)
    if isinstance(data, ClassUpserted):
        return plan_class(data, existing)
    if isinstance(data, TermsUpserted):
        return plan_terms(data, existing)
    if isinstance(data, AccountUpserted):
        return plan_account(data, existing)
    if isinstance(data, PaymentMethodUpserted):
        return plan_payment_method(data, existing)
    if isinstance(data, CustomerUpserted):
        return plan_customer(data, ids, existing, marker)
    if isinstance(data, VendorUpserted):
        return plan_vendor(data, existing, marker)
    if isinstance(data, ItemUpserted):
        return plan_item(data, ids, existing, marker)
    raise NotAWrite(f"{event.type} is not written to QuickBooks through a write plan")
