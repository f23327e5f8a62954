"""Rules every inbound type keeps: required fields, JSON types, its own object and change."""

from __future__ import annotations

from typing import Any

import pytest

from schemas import (
    DATA_MODELS,
    Change,
    EventType,
    InvalidData,
    ObjectType,
    example_event,
    parse_event,
)

_REQUIRED = [
    (event_type, name)
    for event_type, model in DATA_MODELS.items()
    for name, info in model.model_fields.items()
    if info.is_required()
]


def _wire_name(model: Any, name: str) -> str:
    return model.model_fields[name].alias or name


def _problems(event: dict[str, Any]) -> str:
    with pytest.raises(InvalidData) as caught:
        parse_event(event)
    return "; ".join(caught.value.problems)


@pytest.mark.parametrize(("event_type", "field"), _REQUIRED, ids=lambda v: str(v))
def test_missing_required_field_is_named(event_type: EventType, field: str) -> None:
    """Leaving out any required field names that field."""
    event = example_event(event_type)
    wire = _wire_name(DATA_MODELS[event_type], field)
    del event["data"][wire]

    assert f"data.{wire}: Field required" in _problems(event)


@pytest.mark.parametrize(("event_type", "field"), _REQUIRED, ids=lambda v: str(v))
def test_required_field_of_the_wrong_json_type_is_named(event_type: EventType, field: str) -> None:
    """A JSON object where a required string, date, enum, amount or list belongs is refused."""
    event = example_event(event_type)
    wire = _wire_name(DATA_MODELS[event_type], field)
    event["data"][wire] = {"unexpected": "object"}

    assert f"data.{wire}" in _problems(event)


_OWN_OBJECT = {
    EventType.INVOICE_UPDATED: (ObjectType.INVOICE, Change.UPDATE, "inv_5001"),
    EventType.SALES_RECEIPT_UPDATED: (ObjectType.SALES_RECEIPT, Change.UPDATE, "sr_12"),
    EventType.BILL_UPDATED: (ObjectType.BILL, Change.UPDATE, "bill_301"),
    EventType.PURCHASE_ORDER_UPDATED: (ObjectType.PURCHASE_ORDER, Change.UPDATE, "po_44"),
    EventType.CREDIT_MEMO_UPDATED: (ObjectType.CREDIT_MEMO, Change.UPDATE, "cm_7"),
    EventType.PAYMENT_UPDATED: (ObjectType.PAYMENT, Change.UPDATE, "pay_9001"),
    EventType.INVOICE_VOIDED: (ObjectType.INVOICE, Change.VOID, "inv_5001"),
    EventType.SALES_RECEIPT_VOIDED: (ObjectType.SALES_RECEIPT, Change.VOID, "sr_12"),
    EventType.BILL_VOIDED: (ObjectType.BILL, Change.VOID, "bill_301"),
    EventType.CREDIT_MEMO_VOIDED: (ObjectType.CREDIT_MEMO, Change.VOID, "cm_7"),
    EventType.INVOICE_DELETED: (ObjectType.INVOICE, Change.DELETE, "inv_5001"),
    EventType.SALES_RECEIPT_DELETED: (ObjectType.SALES_RECEIPT, Change.DELETE, "sr_12"),
    EventType.BILL_DELETED: (ObjectType.BILL, Change.DELETE, "bill_301"),
    EventType.PURCHASE_ORDER_DELETED: (ObjectType.PURCHASE_ORDER, Change.DELETE, "po_44"),
    EventType.PAYMENT_DELETED: (ObjectType.PAYMENT, Change.DELETE, "pay_9001"),
    EventType.CREDIT_MEMO_DELETED: (ObjectType.CREDIT_MEMO, Change.DELETE, "cm_7"),
    EventType.BILL_PAYMENT_DELETED: (ObjectType.BILL_PAYMENT, Change.DELETE, "bp_55"),
    EventType.VENDOR_CREDIT_DELETED: (ObjectType.VENDOR_CREDIT, Change.DELETE, "vc_9"),
    EventType.CREDIT_MEMO_CREATED: (ObjectType.CREDIT_MEMO, Change.CREATE, "cm_7"),
    EventType.BILL_PAYMENT_CREATED: (ObjectType.BILL_PAYMENT, Change.CREATE, "bp_55"),
    EventType.VENDOR_CREDIT_CREATED: (ObjectType.VENDOR_CREDIT, Change.CREATE, "vc_9"),
    EventType.INVOICE_CREATED: (ObjectType.INVOICE, Change.CREATE, "inv_5001"),
    EventType.PAYMENT_RECEIVED: (ObjectType.PAYMENT, Change.CREATE, "pay_9001"),
    EventType.BILL_CREATED: (ObjectType.BILL, Change.CREATE, "bill_301"),
    EventType.SALES_RECEIPT_CREATED: (ObjectType.SALES_RECEIPT, Change.CREATE, "sr_12"),
    EventType.PURCHASE_ORDER_CREATED: (ObjectType.PURCHASE_ORDER, Change.CREATE, "po_44"),
    EventType.CUSTOMER_UPSERTED: (ObjectType.CUSTOMER, Change.UPSERT, "cus_1001"),
    EventType.VENDOR_UPSERTED: (ObjectType.VENDOR, Change.UPSERT, "ven_77"),
    EventType.ITEM_UPSERTED: (ObjectType.ITEM, Change.UPSERT, "item_consulting"),
    EventType.CLASS_UPSERTED: (ObjectType.CLASS, Change.UPSERT, "cls_residential"),
    EventType.TERMS_UPSERTED: (ObjectType.TERMS, Change.UPSERT, "terms_net30"),
    EventType.ACCOUNT_UPSERTED: (ObjectType.ACCOUNT, Change.UPSERT, "acct_sales"),
    EventType.PAYMENT_METHOD_UPSERTED: (ObjectType.PAYMENT_METHOD, Change.UPSERT, "pm_card"),
}


@pytest.mark.parametrize("event_type", list(_OWN_OBJECT))
def test_event_names_its_own_object_and_change(event_type: EventType) -> None:
    """`OBJECT_TYPE`, `CHANGE` and `app_id` say which app object the event changes, and how."""
    data = parse_event(example_event(event_type)).data

    assert (data.OBJECT_TYPE, data.CHANGE, data.app_id) == _OWN_OBJECT[event_type]


def test_events_without_an_object_of_their_own_say_so() -> None:
    """Control events have no object type and no change (mapping.set names its app id)."""
    no_object = set(EventType) - set(_OWN_OBJECT)

    assert no_object == {
        EventType.COMPANY_CONNECT_REQUESTED,
        EventType.COMPANY_SETTINGS_UPDATED,
        EventType.MAPPING_SET,
        EventType.SYNC_REQUESTED,
        EventType.REFERENCE_PULL_REQUESTED,
    }
    assert all(DATA_MODELS[t].OBJECT_TYPE is None for t in no_object)
    assert all(DATA_MODELS[t].CHANGE is None for t in no_object)


@pytest.mark.parametrize("event_type", list(_OWN_OBJECT))
def test_own_app_id_of_the_wrong_type_is_refused(event_type: EventType) -> None:
    """A number where the event's own app id belongs is refused with its location."""
    model = DATA_MODELS[event_type]
    event = example_event(event_type)
    id_field = next(name for name in model.model_fields if name.endswith("_id"))
    event["data"][id_field] = 42

    assert f"data.{id_field}: Input should be a valid string" in _problems(event)


@pytest.mark.parametrize("event_type", list(_OWN_OBJECT))
def test_own_app_id_is_never_one_of_its_refs(event_type: EventType) -> None:
    """`refs()` lists what the event depends on, never the object it changes."""
    data = parse_event(example_event(event_type)).data

    assert all(ref.app_id != data.app_id for ref in data.refs())
