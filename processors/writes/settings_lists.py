"""Plans for the lists a bookkeeper sets up: classes, terms, accounts and payment methods.

Each `*.upserted` creates the list object the first time and stores the mapping; a mapped
one is updated with its current `revisionNumber` and the fields the event carries,
`is_active` included. None of these creates takes an `externalId`, so a create whose
outcome is unknown is looked up by its name (names are unique in each QuickBooks list)
and adopted.

QuickBooks' API has no update for standard terms or payment methods. An upsert of one
that is already mapped raises `ListNotUpdatable` (a data failure that says to change it in
QuickBooks), rather than silently dropping the change.
"""

from __future__ import annotations

from typing import Any, Final

from processors.errors import PlanError
from processors.writes.plans import ExistingObject, Op, WritePlan, compact
from schemas.inbound import AccountUpserted, ClassUpserted, PaymentMethodUpserted, TermsUpserted
from schemas.names import ObjectType, PaymentMethodKind

__all__ = [
    "SETTINGS_LIST_RESOURCES",
    "ListNotUpdatable",
    "plan_account",
    "plan_class",
    "plan_payment_method",
    "plan_terms",
]

SETTINGS_LIST_RESOURCES: Final[dict[ObjectType, tuple[str, str]]] = {
    ObjectType.CLASS: ("classes", "qbd_class"),
    ObjectType.TERMS: ("standard_terms", "qbd_standard_term"),
    ObjectType.ACCOUNT: ("accounts", "qbd_account"),
    ObjectType.PAYMENT_METHOD: ("payment_methods", "qbd_payment_method"),
}
"""SDK resource and `objectType` of each list object type planned here."""


class ListNotUpdatable(PlanError):
    """The mapped list object cannot be changed through QuickBooks' API."""

    code = "LIST_NOT_UPDATABLE"


def _plan(
    object_type: ObjectType,
    app_id: str,
    name: str,
    fields: dict[str, Any],
    existing: ExistingObject | None,
) -> WritePlan:
    resource, label = SETTINGS_LIST_RESOURCES[object_type]
    op: Op = "create" if existing is None else "update"
    if existing is not None:
        fields = {"id": existing.qbd_id, "revision_number": existing.revision_number, **fields}
    return WritePlan(
        resource=resource,
        op=op,
        params=fields,
        app_object_type=object_type,
        app_id=app_id,
        object_type_label=label,
        qbd_id=None if existing is None else existing.qbd_id,
        name=name,
    )


def _not_updatable(what: str, name: str, where: str, existing: ExistingObject) -> PlanError:
    return ListNotUpdatable(
        f"QuickBooks' API cannot update {what}; {name!r} is mapped to {existing.qbd_id}",
        user_facing_message=(
            f'QuickBooks Desktop does not let apps change {what} once they exist. "{name}" is '
            f"already in QuickBooks: change it there ({where}), or save it under a new name."
        ),
    )


def plan_class(data: ClassUpserted, existing: ExistingObject | None) -> WritePlan:
    """Create the class, or update the mapped one (name, active)."""
    fields = compact(name=data.name, is_active=data.is_active)
    return _plan(ObjectType.CLASS, data.class_id, data.name, fields, existing)


def plan_account(data: AccountUpserted, existing: ExistingObject | None) -> WritePlan:
    """Create the account, or update the mapped one (name, type, number, active)."""
    fields = compact(
        name=data.name,
        account_type=str(data.account_type),
        account_number=data.number,
        is_active=data.is_active,
    )
    return _plan(ObjectType.ACCOUNT, data.account_id, data.name, fields, existing)


def plan_terms(data: TermsUpserted, existing: ExistingObject | None) -> WritePlan:
    """Create standard terms (QuickBooks cannot update them: see `ListNotUpdatable`)."""
    if existing is not None:
        raise _not_updatable("terms", data.name, "Lists > Customer & Vendor Profile", existing)
    fields = compact(
        name=data.name,
        due_days=data.due_days,
        discount_days=data.discount_days,
        discount_percentage=None if data.discount_percent is None else str(data.discount_percent),
        is_active=data.is_active,
    )
    return _plan(ObjectType.TERMS, data.terms_id, data.name, fields, existing)


def plan_payment_method(data: PaymentMethodUpserted, existing: ExistingObject | None) -> WritePlan:
    """Create a payment method (QuickBooks cannot update them: see `ListNotUpdatable`)."""
    if existing is not None:
        raise _not_updatable(
            "payment methods", data.name, "Lists > Customer & Vendor Profile", existing
        )
    fields = compact(
        name=data.name,
        payment_method_type=str(data.kind or PaymentMethodKind.OTHER),
        is_active=data.is_active,
    )
    return _plan(ObjectType.PAYMENT_METHOD, data.payment_method_id, data.name, fields, existing)
