"""Sales tax, credits, payables and setup lists become exactly the SDK calls QuickBooks needs."""

from __future__ import annotations

import inspect
import json
from datetime import date
from typing import Any

import conductor
import httpx
import pytest

from processors.markers import external_id_for
from processors.writes import (
    ExistingObject,
    ListNotUpdatable,
    WritePlan,
    plan_write,
    required_refs,
    target_resource,
)
from schemas import EventType, ObjectType, example_event, parse_event
from schemas.refs import Ref

EVENT_ID = "evt_books_1"
MARKER = external_id_for(EVENT_ID)
EXISTING = ExistingObject(qbd_id="80000007-1700000000", revision_number="1700000001")
NEW_TYPES = [
    EventType.CREDIT_MEMO_CREATED,
    EventType.BILL_PAYMENT_CREATED,
    EventType.VENDOR_CREDIT_CREATED,
    EventType.CLASS_UPSERTED,
    EventType.TERMS_UPSERTED,
    EventType.ACCOUNT_UPSERTED,
    EventType.PAYMENT_METHOD_UPSERTED,
]


def _event(event_type: EventType, **changes: Any) -> Any:
    raw = example_event(event_type, id=EVENT_ID)
    raw["data"].update(changes)
    return parse_event(raw)


def _plan(event_type: EventType, existing: ExistingObject | None = None, **changes: Any) -> Any:
    event = _event(event_type, **changes)
    ids = {ref: f"Q-{ref.app_id}" for ref in required_refs(event)}
    return plan_write(event, ids, existing)


def _wire_body(plan: WritePlan) -> dict[str, Any]:
    """The JSON body the real SDK sends for the plan (captured, never sent)."""
    sent: list[httpx.Request] = []

    def capture(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"id": "x", "objectType": plan.object_type_label})

    with conductor.Conductor(
        api_key="sk_test_unit",
        base_url="http://qbd.invalid/v1",
        max_retries=0,
        http_client=httpx.Client(transport=httpx.MockTransport(capture)),
    ) as client:
        getattr(getattr(client.qbd, plan.resource), plan.op)(
            conductor_end_user_id="end_usr_unit", **plan.params
        )
    body: dict[str, Any] = json.loads(sent[0].content)
    return body


def _keys(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [key for k, v in value.items() for key in (k, *_keys(v))]
    if isinstance(value, list):
        return [key for part in value for key in _keys(part)]
    return []


def test_invoice_lines_carry_sales_tax_codes_and_the_invoice_its_tax_item() -> None:
    """sales_tax_code_id goes on each line, sales_tax_item_id on the invoice."""
    line = {"item_id": "item_lamp", "quantity": 2, "rate": "39.00", "sales_tax_code_id": "tax"}

    plan = _plan(EventType.INVOICE_CREATED, lines=[line], sales_tax_item_id="tax_state")

    assert plan.params["lines"] == [
        {"item_id": "Q-item_lamp", "quantity": 2, "rate": "39.00", "sales_tax_code_id": "Q-tax"}
    ]
    assert plan.params["sales_tax_item_id"] == "Q-tax_state"


def test_sales_receipt_carries_its_sales_tax_item() -> None:
    """A sales receipt is taxed with the sales tax item the event names."""
    plan = _plan(EventType.SALES_RECEIPT_CREATED, sales_tax_item_id="tax_city")

    assert plan.params["sales_tax_item_id"] == "Q-tax_city"


def test_customer_carries_its_sales_tax_code() -> None:
    """customer.upserted's sales_tax_code_id is the customer's default tax code."""
    event = _event(EventType.CUSTOMER_UPSERTED, sales_tax_code_id="tax_non")

    plan = plan_write(event, {Ref(ObjectType.SALES_TAX_CODE, "tax_non"): "Q-non"})

    assert required_refs(event) == (Ref(ObjectType.SALES_TAX_CODE, "tax_non"),)
    assert plan.params["sales_tax_code_id"] == "Q-non"


def test_credit_memo_plan_params() -> None:
    """A credit memo is created for the customer with taxed lines and the marker."""
    plan = _plan(EventType.CREDIT_MEMO_CREATED)

    assert (plan.resource, plan.op, plan.object_type_label) == (
        "credit_memos",
        "create",
        "qbd_credit_memo",
    )
    assert plan.params == {
        "customer_id": "Q-cus_1001",
        "transaction_date": date(2026, 11, 28),
        "lines": [
            {
                "item_id": "Q-item_consulting",
                "quantity": 1,
                "rate": "62.50",
                "amount": "62.50",
                "sales_tax_code_id": "Q-tax_non",
            }
        ],
        "ref_number": "CM-7",
        "memo": "One hour not used",
        "sales_tax_item_id": "Q-tax_il_state",
        "external_id": MARKER,
    }
    assert (plan.party_filter, plan.ref_number) == ({"customer_ids": ["Q-cus_1001"]}, "CM-7")


def test_payment_applies_credits_and_a_discount() -> None:
    """Credits and a discount go on the invoice's application, with the discount account."""
    applied = [
        {
            "invoice_id": "inv_1",
            "amount": "60.00",
            "discount_amount": "2.50",
            "credits": [{"credit_memo_id": "cm_7", "amount": "62.50"}],
        },
        {"invoice_id": "inv_2", "amount": "10.00"},
    ]

    plan = _plan(
        EventType.PAYMENT_RECEIVED,
        total_amount="70.00",
        applied_to=applied,
        discount_account_id="acct_discounts",
    )

    assert plan.params["apply_to_transactions"] == [
        {
            "transaction_id": "Q-inv_1",
            "payment_amount": "60.00",
            "discount_amount": "2.50",
            "discount_account_id": "Q-acct_discounts",
            "apply_credits": [{"credit_transaction_id": "Q-cm_7", "applied_amount": "62.50"}],
        },
        {"transaction_id": "Q-inv_2", "payment_amount": "10.00"},
    ]


def test_a_payment_waits_for_the_credit_memos_it_applies() -> None:
    """Each credit memo applied is a required ref, like the invoice it is applied to."""
    credits = [{"credit_memo_id": "cm_7", "amount": "62.50"}]

    event = _event(
        EventType.PAYMENT_RECEIVED,
        total_amount="0.00",
        applied_to=[{"invoice_id": "inv_1", "amount": "0.00", "credits": credits}],
    )

    assert Ref(ObjectType.CREDIT_MEMO, "cm_7") in required_refs(event)
    assert Ref(ObjectType.INVOICE, "inv_1") in required_refs(event)


@pytest.mark.parametrize(
    ("method", "resource", "account_param"),
    [
        ("check", "bill_check_payments", "bank_account_id"),
        ("credit_card", "bill_credit_card_payments", "credit_card_account_id"),
    ],
)
def test_bill_payment_goes_to_the_resource_of_its_method(
    method: str, resource: str, account_param: str
) -> None:
    """A check pays from a bank account, a credit card from a credit-card account."""
    plan = _plan(EventType.BILL_PAYMENT_CREATED, method=method)

    assert plan.resource == resource
    assert plan.params == {
        "vendor_id": "Q-ven_77",
        "transaction_date": date(2026, 12, 18),
        "apply_to_transactions": [{"transaction_id": "Q-bill_301", "payment_amount": "80.60"}],
        "ref_number": "1042",
        "external_id": MARKER,
        account_param: "Q-acct_checking",
    }
    assert plan.party_filter == {"vendor_ids": ["Q-ven_77"]}


def test_a_bill_payment_waits_for_its_bills() -> None:
    """Each bill paid is a required ref: the payment waits until the bill has synced."""
    event = _event(EventType.BILL_PAYMENT_CREATED)

    assert Ref(ObjectType.BILL, "bill_301") in required_refs(event)


def test_vendor_credit_plan_params() -> None:
    """A vendor credit has a bill's lines, with mapped ids and the marker."""
    plan = _plan(EventType.VENDOR_CREDIT_CREATED)

    assert (plan.resource, plan.object_type_label) == ("vendor_credits", "qbd_vendor_credit")
    assert plan.params == {
        "vendor_id": "Q-ven_77",
        "transaction_date": date(2026, 11, 26),
        "item_lines": [{"item_id": "Q-item_pipe", "quantity": 2, "cost": "3.25"}],
        "ref_number": "RMA-3391",
        "external_id": MARKER,
    }


@pytest.mark.parametrize(
    ("event_type", "params"),
    [
        (EventType.CLASS_UPSERTED, {"name": "Residential", "is_active": True}),
        (
            EventType.TERMS_UPSERTED,
            {
                "name": "2% 10 Net 30",
                "due_days": 30,
                "discount_days": 10,
                "discount_percentage": "2",
                "is_active": True,
            },
        ),
        (
            EventType.ACCOUNT_UPSERTED,
            {
                "name": "Consulting Income",
                "account_type": "income",
                "account_number": "4010",
                "is_active": True,
            },
        ),
        (
            EventType.PAYMENT_METHOD_UPSERTED,
            {"name": "Visa", "payment_method_type": "visa", "is_active": True},
        ),
    ],
)
def test_setup_lists_are_created_by_name_without_a_marker(
    event_type: EventType, params: dict[str, Any]
) -> None:
    """These lists take no externalId: the plan carries the name for the lookup instead."""
    plan = _plan(event_type)

    assert (plan.op, plan.params, plan.external_id) == ("create", params, None)
    assert plan.name == params["name"]


def test_a_payment_method_without_kind_is_created_as_other() -> None:
    """kind is optional: a new payment method is then of type other."""
    event = parse_event(
        {
            **example_event(EventType.PAYMENT_METHOD_UPSERTED),
            "data": {"payment_method_id": "pm_x", "name": "Wire"},
        }
    )

    assert plan_write(event, {}).params["payment_method_type"] == "other"


@pytest.mark.parametrize(
    ("event_type", "resource"),
    [(EventType.CLASS_UPSERTED, "classes"), (EventType.ACCOUNT_UPSERTED, "accounts")],
)
def test_mapped_classes_and_accounts_are_updated(event_type: EventType, resource: str) -> None:
    """An upsert of a mapped class or account updates it at its current revision."""
    plan = _plan(event_type, existing=EXISTING, is_active=False)

    assert (plan.resource, plan.op, plan.qbd_id) == (resource, "update", EXISTING.qbd_id)
    assert plan.params["revision_number"] == EXISTING.revision_number
    assert plan.params["is_active"] is False
    assert target_resource(_event(event_type)) == resource


@pytest.mark.parametrize(
    "event_type", [EventType.TERMS_UPSERTED, EventType.PAYMENT_METHOD_UPSERTED]
)
def test_mapped_terms_and_payment_methods_cannot_be_updated(event_type: EventType) -> None:
    """QuickBooks' API cannot change them: a clear data failure, not a silent no-op."""
    with pytest.raises(ListNotUpdatable) as caught:
        _plan(event_type, existing=EXISTING)

    assert caught.value.code == "LIST_NOT_UPDATABLE"
    assert "change it there" in caught.value.user_facing_message


@pytest.mark.parametrize("event_type", NEW_TYPES)
def test_create_params_bind_to_the_sdk_signature(event_type: EventType) -> None:
    """Every new create plan's kwargs are accepted by the SDK method it names."""
    plan = _plan(event_type)
    client = conductor.Conductor(api_key="sk_test_unit", base_url="http://qbd.invalid/v1")
    method = getattr(getattr(client.qbd, plan.resource), plan.op)

    bound = inspect.signature(method).bind(conductor_end_user_id="eu", **plan.params)

    assert set(bound.arguments) == {"conductor_end_user_id", *plan.params}


@pytest.mark.parametrize("event_type", NEW_TYPES)
def test_wire_body_has_only_api_field_names(event_type: EventType) -> None:
    """Through the real SDK, every key (nested ones too) goes out camelCase."""
    body = _wire_body(_plan(event_type))

    assert [key for key in _keys(body) if "_" in key] == []


def test_wire_body_of_a_payment_with_credits() -> None:
    """Credits and discounts reach the API under Conductor's field names."""
    credits = [{"credit_memo_id": "cm_7", "amount": "5.00"}]
    applied = [
        {"invoice_id": "inv_1", "amount": "0.00", "discount_amount": "1.00", "credits": credits}
    ]
    plan = _plan(
        EventType.PAYMENT_RECEIVED,
        total_amount="0.00",
        applied_to=applied,
        discount_account_id="acct_discounts",
    )

    body = _wire_body(plan)

    assert body["applyToTransactions"] == [
        {
            "transactionId": "Q-inv_1",
            "paymentAmount": "0.00",
            "discountAmount": "1.00",
            "discountAccountId": "Q-acct_discounts",
            "applyCredits": [{"creditTransactionId": "Q-cm_7", "appliedAmount": "5.00"}],
        }
    ]
