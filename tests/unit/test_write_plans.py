"""Each inbound event becomes exactly the SDK call QuickBooks needs, checked against the SDK."""

from __future__ import annotations

import inspect
import json
import re
from datetime import date
from typing import Any

import conductor
import httpx
import pytest

from processors.markers import external_id_for, same_external_id
from processors.writes import (
    ExistingObject,
    MissingIncomeAccount,
    NotAWrite,
    UnresolvedRef,
    WritePlan,
    plan_write,
    required_refs,
    target_ref,
    target_resource,
)
from schemas import EventType, ObjectType, example_event, parse_event
from schemas.refs import Ref

EVENT_ID = "evt_9f1c2a"
MARKER = external_id_for(EVENT_ID)
EXISTING = ExistingObject(qbd_id="80000007-1700000000", revision_number="1700000001")
WRITE_TYPES = [
    EventType.INVOICE_CREATED,
    EventType.PAYMENT_RECEIVED,
    EventType.BILL_CREATED,
    EventType.SALES_RECEIPT_CREATED,
    EventType.PURCHASE_ORDER_CREATED,
    EventType.CUSTOMER_UPSERTED,
    EventType.VENDOR_UPSERTED,
    EventType.ITEM_UPSERTED,
]
UPSERT_TYPES = [EventType.CUSTOMER_UPSERTED, EventType.VENDOR_UPSERTED, EventType.ITEM_UPSERTED]


def _event(event_type: EventType, data: dict[str, Any] | None = None, **changes: Any) -> Any:
    raw = example_event(event_type, id=EVENT_ID)
    if data is not None:
        raw["data"] = data
    raw["data"].update(changes)
    return parse_event(raw)


def _ids(event: Any) -> dict[Ref, str]:
    return {ref: f"Q-{ref.app_id}" for ref in required_refs(event)}


def _plan(event_type: EventType, existing: ExistingObject | None = None, **changes: Any) -> Any:
    event = _event(event_type, **changes)
    return plan_write(event, _ids(event), existing)


def _sdk_method(plan: WritePlan) -> Any:
    client = conductor.Conductor(api_key="sk_test_unit", base_url="http://qbd.invalid/v1")
    return getattr(getattr(client.qbd, plan.resource), plan.op)


def _wire_body(plan: WritePlan) -> dict[str, Any]:
    """The JSON body the real SDK sends for the plan (captured, never sent)."""
    sent: list[httpx.Request] = []

    def capture(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"id": "x", "objectType": plan.object_type_label})

    transport = httpx.MockTransport(capture)
    with conductor.Conductor(
        api_key="sk_test_unit",
        base_url="http://qbd.invalid/v1",
        max_retries=0,
        http_client=httpx.Client(transport=transport),
    ) as client:
        method = getattr(getattr(client.qbd, plan.resource), plan.op)
        method(conductor_end_user_id="end_usr_unit", **plan.params)
    body: dict[str, Any] = json.loads(sent[0].content)
    return body


def _keys(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [key for k, v in value.items() for key in (k, *_keys(v))]
    if isinstance(value, list):
        return [key for part in value for key in _keys(part)]
    return []


def _floats(value: Any, key: str = "") -> list[str]:
    if isinstance(value, dict):
        return [found for k, v in value.items() for found in _floats(v, k)]
    if isinstance(value, list):
        return [found for part in value for found in _floats(part, key)]
    return [key] if isinstance(value, float) else []


def test_external_id_is_a_braced_guid() -> None:
    """The marker has QuickBooks' GUIDTYPE form: {8-4-4-4-12 hex digits}."""
    marker = external_id_for("evt_1")

    assert re.fullmatch(r"\{[0-9A-F]{8}(-[0-9A-F]{4}){3}-[0-9A-F]{12}\}", marker)


def test_external_id_is_deterministic_per_event() -> None:
    """The same event id always gives the same marker; another id gives another."""
    first, again, other = external_id_for("evt_1"), external_id_for("evt_1"), external_id_for("x")

    assert first == again
    assert first != other


def test_same_external_id_ignores_braces_and_case() -> None:
    """A marker read back without braces or in lower case still matches."""
    marker = external_id_for("evt_1")

    assert same_external_id(marker.strip("{}").lower(), marker)
    assert not same_external_id(None, marker)
    assert not same_external_id(external_id_for("evt_2"), marker)


def test_invoice_plan_params() -> None:
    """An invoice is created for the mapped customer with mapped items and terms."""
    plan = _plan(EventType.INVOICE_CREATED)

    assert plan.resource == "invoices"
    assert plan.op == "create"
    assert plan.params == {
        "customer_id": "Q-cus_1001",
        "transaction_date": date(2026, 11, 24),
        "lines": [
            {
                "item_id": "Q-item_consulting",
                "quantity": 2,
                "rate": "62.50",
                "amount": "125.00",
                "description": "Consulting, November",
            }
        ],
        "ref_number": "INV-5001",
        "due_date": date(2026, 12, 24),
        "terms_id": "Q-terms_net30",
        "memo": "Thank you for your business",
        "external_id": MARKER,
    }


def test_payment_plan_applies_to_invoices() -> None:
    """A payment is applied to the QuickBooks ids of the invoices it names."""
    plan = _plan(EventType.PAYMENT_RECEIVED)

    assert plan.resource == "receive_payments"
    assert plan.params == {
        "customer_id": "Q-cus_1001",
        "transaction_date": date(2026, 11, 30),
        "total_amount": "125.00",
        "apply_to_transactions": [{"transaction_id": "Q-inv_5001", "payment_amount": "125.00"}],
        "payment_method_id": "Q-pm_card",
        "deposit_to_account_id": "Q-acct_undeposited",
        "ref_number": "CH-4242",
        "external_id": MARKER,
    }


def test_payment_without_applied_to_auto_applies() -> None:
    """A payment that names no invoice lets QuickBooks apply it (isAutoApply)."""
    plan = _plan(EventType.PAYMENT_RECEIVED, applied_to=[])

    assert plan.params["is_auto_apply"] is True
    assert "apply_to_transactions" not in plan.params


def test_bill_plan_params() -> None:
    """A bill carries mapped expense-line accounts and item-line items."""
    plan = _plan(EventType.BILL_CREATED)

    assert plan.resource == "bills"
    assert plan.params == {
        "vendor_id": "Q-ven_77",
        "transaction_date": date(2026, 11, 20),
        "expense_lines": [{"account_id": "Q-acct_supplies", "amount": "48.10", "memo": "Fittings"}],
        "item_lines": [{"item_id": "Q-item_pipe", "quantity": 10, "cost": "3.25"}],
        "due_date": date(2026, 12, 20),
        "ref_number": "PS-88812",
        "external_id": MARKER,
    }


def test_bill_without_item_lines_sends_no_item_lines() -> None:
    """An empty line list is left out, not sent as []."""
    plan = _plan(EventType.BILL_CREATED, item_lines=[])

    assert "item_lines" not in plan.params


def test_sales_receipt_plan_params() -> None:
    """A sales receipt is created for the customer with deposit account and payment method."""
    plan = _plan(EventType.SALES_RECEIPT_CREATED)

    assert plan.resource == "sales_receipts"
    assert plan.params == {
        "customer_id": "Q-cus_1001",
        "transaction_date": date(2026, 11, 25),
        "lines": [
            {
                "item_id": "Q-item_consulting",
                "quantity": 2,
                "rate": "62.50",
                "amount": "125.00",
                "description": "Consulting, November",
            }
        ],
        "payment_method_id": "Q-pm_cash",
        "deposit_to_account_id": "Q-acct_undeposited",
        "ref_number": "SR-12",
        "external_id": MARKER,
    }


def test_purchase_order_plan_params() -> None:
    """A purchase order goes to the vendor with its expected date and lines."""
    plan = _plan(EventType.PURCHASE_ORDER_CREATED, class_id="class_ops", memo="Rush")

    assert plan.resource == "purchase_orders"
    assert plan.params == {
        "vendor_id": "Q-ven_77",
        "transaction_date": date(2026, 11, 21),
        "lines": [{"item_id": "Q-item_pipe", "quantity": 100, "rate": "3.25", "amount": "325.00"}],
        "expected_date": date(2026, 12, 1),
        "ref_number": "PO-44",
        "class_id": "Q-class_ops",
        "memo": "Rush",
        "external_id": MARKER,
    }


def test_new_customer_is_created_with_external_id() -> None:
    """With no existing object, the customer is created with every field and the marker."""
    plan = _plan(EventType.CUSTOMER_UPSERTED)

    assert (plan.resource, plan.op, plan.external_id, plan.name) == (
        "customers",
        "create",
        MARKER,
        "Jane Doe",
    )
    assert plan.params == {
        "name": "Jane Doe",
        "company_name": "Doe Household",
        "email": "jane@example.com",
        "phone": "+1 555 0100",
        "billing_address": {
            "line1": "1 Main St",
            "city": "Springfield",
            "state": "IL",
            "postal_code": "62701",
            "country": "US",
        },
        "is_active": True,
        "external_id": MARKER,
    }


def test_customer_update_sends_only_carried_fields() -> None:
    """An update sends the id, the current revision and only what the event carries."""
    event = _event(EventType.CUSTOMER_UPSERTED, data={"customer_id": "cus_1", "name": "Jane"})

    plan = plan_write(event, {}, EXISTING)

    assert (plan.op, plan.qbd_id, plan.external_id) == ("update", EXISTING.qbd_id, None)
    assert plan.params == {
        "id": EXISTING.qbd_id,
        "revision_number": EXISTING.revision_number,
        "name": "Jane",
        "is_active": True,
    }


def test_new_vendor_is_created_with_its_address() -> None:
    """A vendor's address goes to the vendor's billing address."""
    plan = _plan(EventType.VENDOR_UPSERTED)

    assert (plan.resource, plan.op) == ("vendors", "create")
    assert plan.params == {
        "name": "Pipe Supply Co",
        "email": "billing@pipesupply.example",
        "billing_address": {"line1": "9 Industrial Way", "city": "Peoria", "state": "IL"},
        "is_active": True,
        "external_id": MARKER,
    }


def test_vendor_update_keeps_absent_fields_out() -> None:
    """A vendor update with only an email sends no address and no phone."""
    data = {"vendor_id": "ven_77", "name": "Pipe Supply Co", "email": "new@pipe.example"}

    plan = plan_write(_event(EventType.VENDOR_UPSERTED, data=data), {}, EXISTING)

    assert plan.params == {
        "id": EXISTING.qbd_id,
        "revision_number": EXISTING.revision_number,
        "name": "Pipe Supply Co",
        "email": "new@pipe.example",
        "is_active": True,
    }


def test_service_item_is_created_with_its_income_account() -> None:
    """A service item posts to the mapped income account at the event's price."""
    plan = _plan(EventType.ITEM_UPSERTED)

    assert (plan.resource, plan.object_type_label) == ("service_items", "qbd_service_item")
    assert plan.params == {
        "name": "Consulting",
        "sales_or_purchase_details": {
            "posting_account_id": "Q-acct_sales",
            "price": "62.50",
            "description": "Hourly consulting",
        },
        "is_active": True,
        "external_id": MARKER,
    }


def test_non_inventory_item_goes_to_non_inventory_items() -> None:
    """Kind non_inventory picks the non-inventory items resource."""
    plan = _plan(EventType.ITEM_UPSERTED, kind="non_inventory")

    assert (plan.resource, plan.object_type_label) == (
        "non_inventory_items",
        "qbd_non_inventory_item",
    )


def test_new_item_without_income_account_cannot_be_planned() -> None:
    """QuickBooks needs a posting account on a new item: a data failure, not a wait."""
    data = {"item_id": "item_x", "name": "Widget", "kind": "service"}
    event = _event(EventType.ITEM_UPSERTED, data=data)

    with pytest.raises(MissingIncomeAccount) as caught:
        plan_write(event, {}, None)

    assert "Widget" in caught.value.user_facing_message


def test_item_update_without_account_keeps_the_account() -> None:
    """An update that names no account sends no posting account, only the new price."""
    data = {"item_id": "item_x", "name": "Widget", "kind": "service", "price": "9.5"}

    plan = plan_write(_event(EventType.ITEM_UPSERTED, data=data), {}, EXISTING)

    assert plan.params == {
        "id": EXISTING.qbd_id,
        "revision_number": EXISTING.revision_number,
        "name": "Widget",
        "sales_or_purchase_details": {"price": "9.5"},
        "is_active": True,
    }


def test_item_update_goes_to_the_existing_objects_resource() -> None:
    """QuickBooks cannot change an item's type, so the update follows the existing object."""
    existing = ExistingObject("80000009-1", "2", resource="non_inventory_items")

    plan = _plan(EventType.ITEM_UPSERTED, existing=existing)

    assert (plan.resource, plan.op) == ("non_inventory_items", "update")


@pytest.mark.parametrize("event_type", WRITE_TYPES)
def test_create_params_bind_to_the_sdk_signature(event_type: EventType) -> None:
    """Every create plan's kwargs are accepted by the SDK method it names."""
    plan = _plan(event_type)

    bound = inspect.signature(_sdk_method(plan)).bind(conductor_end_user_id="eu", **plan.params)

    assert set(bound.arguments) == {"conductor_end_user_id", *plan.params}


@pytest.mark.parametrize("event_type", UPSERT_TYPES)
def test_update_params_bind_to_the_sdk_signature(event_type: EventType) -> None:
    """Every update plan's kwargs are accepted by the SDK's update method."""
    plan = _plan(event_type, existing=EXISTING)

    bound = inspect.signature(_sdk_method(plan)).bind(conductor_end_user_id="eu", **plan.params)

    assert bound.arguments["revision_number"] == EXISTING.revision_number


@pytest.mark.parametrize("event_type", WRITE_TYPES)
def test_wire_body_has_only_api_field_names(event_type: EventType) -> None:
    """Through the real SDK, every key (nested ones too) goes out camelCase: none unknown."""
    body = _wire_body(_plan(event_type))

    assert [key for key in _keys(body) if "_" in key] == []


def test_wire_body_of_an_invoice() -> None:
    """The invoice reaches the API as the documented JSON, dates ISO and money strings."""
    body = _wire_body(_plan(EventType.INVOICE_CREATED))

    assert body["transactionDate"] == "2026-11-24"
    assert body["externalId"] == MARKER
    assert body["lines"][0] == {
        "itemId": "Q-item_consulting",
        "quantity": 2,
        "rate": "62.50",
        "amount": "125.00",
        "description": "Consulting, November",
    }


@pytest.mark.parametrize("event_type", WRITE_TYPES)
def test_money_is_never_a_float(event_type: EventType) -> None:
    """Only quantities may be JSON numbers; every amount, rate and cost is a string."""
    plan = _plan(event_type, existing=None)

    assert [key for key in _floats(dict(plan.params)) if key != "quantity"] == []


def test_fractional_quantity_is_an_exact_number() -> None:
    """A quantity of "1.25" goes out as the number 1.25, exactly."""
    line = {"item_id": "item_consulting", "quantity": "1.25", "rate": "80.00"}

    plan = _plan(EventType.INVOICE_CREATED, lines=[line])

    assert plan.params["lines"] == [
        {"item_id": "Q-item_consulting", "quantity": 1.25, "rate": "80.00"}
    ]


@pytest.mark.parametrize(
    ("event_type", "party"),
    [
        (EventType.INVOICE_CREATED, {"customer_ids": ["Q-cus_1001"]}),
        (EventType.PAYMENT_RECEIVED, {"customer_ids": ["Q-cus_1001"]}),
        (EventType.SALES_RECEIPT_CREATED, {"customer_ids": ["Q-cus_1001"]}),
        (EventType.BILL_CREATED, {"vendor_ids": ["Q-ven_77"]}),
        (EventType.PURCHASE_ORDER_CREATED, {"vendor_ids": ["Q-ven_77"]}),
    ],
)
def test_transactions_carry_their_lookup_keys(
    event_type: EventType, party: dict[str, list[str]]
) -> None:
    """A transaction plan names its party filter, ref number, date and marker for find_created."""
    event = _event(event_type)

    plan = plan_write(event, _ids(event))

    assert plan.party_filter == party
    assert plan.ref_number == event.data.ref_number
    assert plan.transaction_date == event.data.transaction_date
    assert plan.external_id == MARKER


@pytest.mark.parametrize("event_type", WRITE_TYPES[:5])
def test_a_create_of_a_mapped_app_id_updates_that_object(event_type: EventType) -> None:
    """One QuickBooks object per app object: a `*.created` of a mapped id is an update of it."""
    plan = _plan(event_type, existing=EXISTING)

    assert (plan.op, plan.qbd_id, plan.external_id) == ("update", EXISTING.qbd_id, None)
    assert plan.params["id"] == EXISTING.qbd_id
    assert "external_id" not in plan.params


def test_unresolved_ref_names_the_missing_ref() -> None:
    """Planning without the customer's QuickBooks id raises UnresolvedRef for it."""
    event = _event(EventType.INVOICE_CREATED)
    ids = {ref: "Q" for ref in required_refs(event) if ref.object_type != ObjectType.CUSTOMER}

    with pytest.raises(UnresolvedRef) as caught:
        plan_write(event, ids)

    assert caught.value.ref == Ref(ObjectType.CUSTOMER, "cus_1001")


def test_required_refs_of_a_payment_include_its_invoices() -> None:
    """A payment waits for its customer, invoices, payment method and deposit account."""
    refs = required_refs(_event(EventType.PAYMENT_RECEIVED))

    assert set(refs) == {
        Ref(ObjectType.CUSTOMER, "cus_1001"),
        Ref(ObjectType.INVOICE, "inv_5001"),
        Ref(ObjectType.PAYMENT_METHOD, "pm_card"),
        Ref(ObjectType.ACCOUNT, "acct_undeposited"),
    }


def test_required_refs_of_an_item_are_its_income_account() -> None:
    """An item upsert waits only for its income account, never for itself."""
    refs = required_refs(_event(EventType.ITEM_UPSERTED))

    assert refs == (Ref(ObjectType.ACCOUNT, "acct_sales"),)


def test_required_refs_of_a_non_write_are_empty() -> None:
    """`sync.requested` plans nothing, so it needs nothing resolved."""
    refs = required_refs(_event(EventType.SYNC_REQUESTED))

    assert refs == ()


def test_non_write_event_cannot_be_planned() -> None:
    """Planning `mapping.set` is an engine bug, reported as NotAWrite."""
    with pytest.raises(NotAWrite):
        plan_write(_event(EventType.MAPPING_SET), {})


@pytest.mark.parametrize(
    ("event_type", "ref", "resource"),
    [
        (EventType.CUSTOMER_UPSERTED, Ref(ObjectType.CUSTOMER, "cus_1001"), "customers"),
        (EventType.VENDOR_UPSERTED, Ref(ObjectType.VENDOR, "ven_77"), "vendors"),
        (EventType.ITEM_UPSERTED, Ref(ObjectType.ITEM, "item_consulting"), "service_items"),
        (EventType.INVOICE_CREATED, Ref(ObjectType.INVOICE, "inv_5001"), "invoices"),
        (EventType.BILL_VOIDED, Ref(ObjectType.BILL, "bill_301"), "bills"),
        (EventType.SYNC_REQUESTED, None, None),
    ],
)
def test_target_of_an_event(event_type: EventType, ref: Ref | None, resource: str | None) -> None:
    """The event's own object, and where its current revision is retrieved from."""
    event = _event(event_type)

    assert (target_ref(event), target_resource(event)) == (ref, resource)
