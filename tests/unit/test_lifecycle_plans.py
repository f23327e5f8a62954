"""Updates, voids and deletes of existing transactions, planned against QuickBooks' copy."""

from __future__ import annotations

import inspect
import json
from typing import Any

import conductor
import httpx
import pytest

from processors.writes import (
    AlreadyDeleted,
    AlreadyVoided,
    DeletedInQuickBooks,
    ExistingObject,
    NotAWrite,
    ObjectState,
    UnknownKind,
    WritePlan,
    differs,
    is_void,
    next_action,
    plan_write,
    required_refs,
    state_after,
    still_to_do,
)
from schemas import EventType, SyncAction, example_event, parse_event

QBD_ID = "1A5-1700000000"
UPDATE_TYPES = [
    EventType.INVOICE_UPDATED,
    EventType.SALES_RECEIPT_UPDATED,
    EventType.BILL_UPDATED,
    EventType.PURCHASE_ORDER_UPDATED,
    EventType.PAYMENT_UPDATED,
    EventType.CREDIT_MEMO_UPDATED,
]
VOID_TYPES = [
    EventType.INVOICE_VOIDED,
    EventType.SALES_RECEIPT_VOIDED,
    EventType.BILL_VOIDED,
    EventType.CREDIT_MEMO_VOIDED,
]
DELETE_TYPES = [
    EventType.INVOICE_DELETED,
    EventType.SALES_RECEIPT_DELETED,
    EventType.BILL_DELETED,
    EventType.PURCHASE_ORDER_DELETED,
    EventType.PAYMENT_DELETED,
    EventType.CREDIT_MEMO_DELETED,
    EventType.VENDOR_CREDIT_DELETED,
]


def _event(event_type: EventType, **changes: Any) -> Any:
    raw = example_event(event_type, id="evt_life")
    raw["data"].update(changes)
    return parse_event(raw)


def _ids(event: Any) -> dict[Any, str]:
    return {ref: f"Q-{ref.app_id}" for ref in required_refs(event)}


def _invoice_record(**changes: Any) -> dict[str, Any]:
    """The example invoice as QuickBooks holds it after its create (API JSON)."""
    record: dict[str, Any] = {
        "id": QBD_ID,
        "objectType": "qbd_invoice",
        "revisionNumber": "1700000005",
        "customer": {"id": "Q-cus_1001", "fullName": "Jane Doe"},
        "transactionDate": "2026-11-24",
        "dueDate": "2026-12-24",
        "refNumber": "INV-5001",
        "terms": {"id": "Q-terms_net30", "fullName": "Net 30"},
        "class": None,
        "memo": "Thank you for your business",
        "salesTaxItem": None,
        "lines": [
            {
                "id": "2F1-1700000000",
                "item": {"id": "Q-item_consulting", "fullName": "Consulting"},
                "quantity": 2,
                "rate": "62.5",
                "amount": "125.00",
                "description": "Consulting, November",
            }
        ],
    }
    record.update(changes)
    return record


def _against(record: dict[str, Any] | None) -> ExistingObject:
    revision = "" if record is None else record["revisionNumber"]
    return ExistingObject(QBD_ID, revision, "invoices", record=record)


def _keys(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [key for k, v in value.items() for key in (k, *_keys(v))]
    if isinstance(value, list):
        return [key for part in value for key in _keys(part)]
    return []


def _sdk_call(plan: WritePlan) -> dict[str, Any]:
    """The JSON body the real SDK sends for the plan (captured, never sent)."""
    sent: list[httpx.Request] = []

    def capture(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"id": QBD_ID, "objectType": plan.object_type_label})

    with conductor.Conductor(
        api_key="sk_test_unit",
        base_url="http://qbd.invalid/v1",
        max_retries=0,
        http_client=httpx.Client(transport=httpx.MockTransport(capture)),
    ) as client:
        getattr(getattr(client.qbd, plan.resource), plan.op)(
            conductor_end_user_id="end_usr_unit", **plan.params
        )
    request = sent[0]
    body: dict[str, Any] = json.loads(request.content) if request.content else {}
    return {"method": request.method, "path": request.url.path, "body": body}


def test_an_update_without_the_current_object_is_stale() -> None:
    """Planned from the mapping alone, an update asks to be planned again on QuickBooks' copy."""
    plan = plan_write(_event(EventType.INVOICE_UPDATED), {}, _against(None))

    assert (plan.op, plan.stale, plan.unchanged) == ("update", True, False)


def test_an_update_sends_only_what_the_event_carries_on_the_current_revision() -> None:
    """Due date and memo only, with the revision QuickBooks holds now."""
    event = _event(EventType.INVOICE_UPDATED)

    plan = plan_write(event, _ids(event), _against(_invoice_record()))

    assert plan.params == {
        "id": QBD_ID,
        "revision_number": "1700000005",
        "due_date": event.data.due_date,
        "memo": "Due date moved at the customer's request",
    }
    assert plan.action is SyncAction.UPDATED


def test_an_update_that_changes_nothing_is_unchanged() -> None:
    """When QuickBooks already holds every field sent, there is nothing to write."""
    event = _event(EventType.INVOICE_UPDATED)
    record = _invoice_record(dueDate="2027-01-08", memo="Due date moved at the customer's request")

    plan = plan_write(event, _ids(event), _against(record))

    assert plan.unchanged
    assert plan.action is SyncAction.UNCHANGED


def test_a_resent_create_with_the_same_fields_is_unchanged() -> None:
    """A re-published `invoice.created` (new event id) finds its invoice as it left it."""
    event = _event(EventType.INVOICE_CREATED)

    plan = plan_write(event, _ids(event), _against(_invoice_record()))

    assert (plan.op, plan.unchanged) == ("update", True)


def test_a_resent_create_with_a_changed_amount_updates_the_line_in_place() -> None:
    """The changed line keeps its QuickBooks id (same position, same item)."""
    line = {"item_id": "item_consulting", "quantity": 3, "rate": "62.50", "amount": "187.50"}
    event = _event(EventType.INVOICE_CREATED, lines=[line])

    plan = plan_write(event, _ids(event), _against(_invoice_record()))

    assert not plan.unchanged
    assert plan.params["lines"] == [
        {
            "id": "2F1-1700000000",
            "item_id": "Q-item_consulting",
            "quantity": 3,
            "rate": "62.50",
            "amount": "187.50",
        }
    ]


def test_a_line_for_another_item_or_beyond_the_old_ones_is_new() -> None:
    """Lines match by position and item; any other line goes out with id "-1"."""
    lines = [
        {"item_id": "item_pipe", "quantity": 1, "rate": "3.25"},
        {"item_id": "item_consulting", "quantity": 1, "rate": "62.50"},
    ]
    event = _event(EventType.INVOICE_UPDATED, lines=lines)

    plan = plan_write(event, _ids(event), _against(_invoice_record()))

    assert [line["id"] for line in plan.params["lines"]] == ["-1", "-1"]


def test_a_bill_update_with_empty_expense_lines_clears_them() -> None:
    """An empty list removes that kind of line (QuickBooks' clearExpenseLines)."""
    event = _event(EventType.BILL_UPDATED, expense_lines=[])

    plan = plan_write(event, _ids(event), ExistingObject(QBD_ID, "7", "bills", record={}))

    assert plan.params["clear_expense_lines"] is True
    assert "expense_lines" not in plan.params


def test_a_resent_bill_create_clears_the_kind_of_line_it_no_longer_has() -> None:
    """A create describes the whole bill: without item lines, the bill's item lines go."""
    event = _event(EventType.BILL_CREATED, item_lines=[])

    plan = plan_write(event, _ids(event), ExistingObject(QBD_ID, "7", "bills", record={}))

    assert plan.params["clear_item_lines"] is True
    assert plan.params["expense_lines"][0]["account_id"] == "Q-acct_supplies"


def test_a_payment_update_replaces_its_applications() -> None:
    """`applied_to` becomes applyToTransactions with cash, discount and credits."""
    event = _event(EventType.PAYMENT_UPDATED)

    plan = plan_write(event, _ids(event), ExistingObject(QBD_ID, "9", "receive_payments"))

    assert plan.params["apply_to_transactions"] == [
        {
            "transaction_id": "Q-inv_5001",
            "payment_amount": "60.00",
            "discount_amount": "2.50",
            "discount_account_id": "Q-acct_discounts",
            "apply_credits": [{"credit_transaction_id": "Q-cm_7", "applied_amount": "62.50"}],
        }
    ]
    assert plan.params["total_amount"] == "60.00"


@pytest.mark.parametrize("event_type", UPDATE_TYPES)
def test_update_params_bind_to_the_sdk_and_go_out_camel_case(event_type: EventType) -> None:
    """Every update plan is accepted by the SDK's update method and sends only API names."""
    event = _event(event_type)
    resource = plan_write(event, _ids(event), _against(None)).resource
    plan = plan_write(event, _ids(event), ExistingObject(QBD_ID, "3", resource, record={}))

    call = _sdk_call(plan)

    method = getattr(conductor.Conductor(api_key="sk_x").qbd, plan.resource).update
    inspect.signature(method).bind(conductor_end_user_id="eu", **plan.params)
    assert call["method"] == "POST"
    assert call["path"].endswith(f"/{QBD_ID}")
    assert call["body"]["revisionNumber"] == "3"
    assert [key for key in _keys(call["body"]) if "_" in key] == []


@pytest.mark.parametrize("event_type", VOID_TYPES)
def test_a_void_posts_to_the_void_path_without_a_body(event_type: EventType) -> None:
    """Voids need no revision: POST .../{id}/void."""
    plan = plan_write(_event(event_type), {}, _against(None))

    call = _sdk_call(plan)

    assert (plan.op, plan.action) == ("void", SyncAction.VOIDED)
    assert (call["method"], call["body"]) == ("POST", {})
    assert call["path"].endswith(f"/{QBD_ID}/void")


@pytest.mark.parametrize("event_type", DELETE_TYPES)
def test_a_delete_is_a_delete_of_the_mapped_id(event_type: EventType) -> None:
    """Deletes need no revision: DELETE .../{id}."""
    plan = plan_write(_event(event_type), {}, _against(None))

    call = _sdk_call(plan)

    assert (plan.op, plan.action, call["method"]) == ("delete", SyncAction.DELETED, "DELETE")
    assert call["path"].endswith(f"/{QBD_ID}")


@pytest.mark.parametrize(
    ("resource", "path"),
    [
        ("bill_check_payments", "/bill-check-payments/"),
        ("bill_credit_card_payments", "/bill-credit-card-payments/"),
    ],
)
def test_a_bill_payment_is_deleted_from_the_resource_of_its_kind(resource: str, path: str) -> None:
    """The kind comes in as the object's resource; the delete goes to that SDK resource."""
    existing = ExistingObject(QBD_ID, "", resource)

    plan = plan_write(_event(EventType.BILL_PAYMENT_DELETED), {}, existing)
    call = _sdk_call(plan)

    assert (plan.op, plan.action, call["method"]) == ("delete", SyncAction.DELETED, "DELETE")
    assert call["path"].endswith(f"{path}{QBD_ID}")
    assert plan.object_type_label == f"qbd_{resource.removesuffix('s')}"


def test_a_bill_payment_of_unknown_kind_cannot_be_deleted_and_says_why() -> None:
    """Linked, not written by us: no resource, so the plan fails with its reason."""
    with pytest.raises(UnknownKind) as failure:
        plan_write(_event(EventType.BILL_PAYMENT_DELETED), {}, ExistingObject(QBD_ID, ""))

    assert failure.value.code == "UNKNOWN_OBJECT_KIND"
    assert "Delete it in QuickBooks" in failure.value.user_facing_message


def test_a_change_without_its_object_cannot_be_planned() -> None:
    """The Syncer must find the mapping first; planning without one is an engine bug."""
    with pytest.raises(NotAWrite):
        plan_write(_event(EventType.INVOICE_VOIDED), {}, None)


@pytest.mark.parametrize(
    ("op_type", "state", "to_do"),
    [
        (EventType.INVOICE_VOIDED, ObjectState.ACTIVE, True),
        (EventType.INVOICE_VOIDED, ObjectState.VOIDED, False),
        (EventType.INVOICE_DELETED, ObjectState.VOIDED, True),
        (EventType.INVOICE_DELETED, ObjectState.DELETED, False),
        (EventType.INVOICE_DELETED, ObjectState.DELETED_IN_QUICKBOOKS, False),
        (EventType.INVOICE_UPDATED, ObjectState.ACTIVE, True),
    ],
)
def test_what_is_left_to_do_follows_the_objects_state(
    op_type: EventType, state: ObjectState, to_do: bool
) -> None:
    """Voiding the void and deleting the deleted are done already; the rest goes ahead."""
    plan = plan_write(_event(op_type), {}, _against(None))

    assert still_to_do(plan, state) is to_do


@pytest.mark.parametrize(
    ("op_type", "state", "error"),
    [
        (EventType.INVOICE_UPDATED, ObjectState.VOIDED, AlreadyVoided),
        (EventType.INVOICE_UPDATED, ObjectState.DELETED, AlreadyDeleted),
        (EventType.INVOICE_VOIDED, ObjectState.DELETED, AlreadyDeleted),
        (EventType.INVOICE_CREATED, ObjectState.DELETED, AlreadyDeleted),
        (EventType.INVOICE_UPDATED, ObjectState.DELETED_IN_QUICKBOOKS, DeletedInQuickBooks),
    ],
)
def test_a_change_that_can_no_longer_apply_fails_with_its_reason(
    op_type: EventType, state: ObjectState, error: type[Exception]
) -> None:
    """Updating a voided or deleted object is refused with VOIDED, DELETED or ..._IN_QUICKBOOKS."""
    event = _event(op_type)
    plan = plan_write(event, _ids(event), _against(None))

    with pytest.raises(error):
        still_to_do(plan, state)


def test_the_state_after_a_write_is_what_it_did() -> None:
    """A void leaves the object voided, a delete deleted, anything else active."""
    states = [
        state_after(plan_write(_event(t), _ids(_event(t)), _against(None)))
        for t in (EventType.INVOICE_VOIDED, EventType.INVOICE_DELETED, EventType.INVOICE_UPDATED)
    ]

    assert states == [ObjectState.VOIDED, ObjectState.DELETED, ObjectState.ACTIVE]


def test_amounts_compare_as_decimals() -> None:
    """ "125.0" sent equals "125.00" held; a quantity of 2 equals 2.0."""
    record = {"totalAmount": "125.00", "lines": [{"quantity": 2.0}]}

    assert not differs({"total_amount": "125.0", "lines": [{"quantity": 2}]}, record)


def test_a_reference_compares_by_its_id() -> None:
    """customer_id is compared with customer.id; another id differs."""
    record = {"customer": {"id": "80000001-1", "fullName": "Jane"}}

    assert not differs({"customer_id": "80000001-1"}, record)
    assert differs({"customer_id": "80000002-1"}, record)


def test_more_lines_held_than_sent_differ() -> None:
    """Sent lines replace the lines: a line the app dropped is a change."""
    record = {"lines": [{"amount": "1.00"}, {"amount": "2.00"}]}

    assert differs({"lines": [{"amount": "1.00"}]}, record)


def test_a_field_the_record_does_not_show_differs() -> None:
    """In doubt, write: a field QuickBooks did not return counts as a change."""
    assert differs({"memo": "x"}, {})


def test_applications_compare_by_the_transaction_they_pay() -> None:
    """A payment's applications are a set: order does not matter, amounts do."""
    record = {
        "appliedToTransactions": [
            {"transactionId": "B", "amount": "5.00"},
            {"transactionId": "A", "amount": "10.00"},
        ]
    }
    sent = [
        {"transaction_id": "A", "payment_amount": "10.00"},
        {"transaction_id": "B", "payment_amount": "5.00"},
    ]

    assert not differs({"apply_to_transactions": sent}, record)
    assert differs({"apply_to_transactions": sent[:1]}, record)


def test_a_void_shows_as_a_void_memo_and_zero_totals() -> None:
    """QuickBooks' void: amounts zero, memo prefixed VOID: (no flag in the API)."""
    assert is_void({"memo": "VOID: Thanks", "subtotal": "0.00", "balanceRemaining": "0.00"})
    assert not is_void({"memo": "Thanks", "subtotal": "0.00"})
    assert not is_void({"memo": "VOID: typed by a person", "subtotal": "12.00"})


def test_text_that_looks_like_a_number_compares_as_text() -> None:
    """A ref number "0042" is not "42": only amounts, rates and quantities are decimals."""
    assert differs({"ref_number": "0042"}, {"refNumber": "42"})


@pytest.mark.parametrize(
    ("event_type", "mapped", "action"),
    [
        (EventType.INVOICE_CREATED, False, "create"),
        (EventType.INVOICE_CREATED, True, "update"),
        (EventType.CUSTOMER_UPSERTED, True, "update"),
        (EventType.INVOICE_VOIDED, True, "void"),
        (EventType.PAYMENT_DELETED, True, "delete"),
        (EventType.MAPPING_SET, False, "link"),
        (EventType.SYNC_REQUESTED, False, None),
    ],
)
def test_what_a_parked_event_will_do(
    event_type: EventType, mapped: bool, action: str | None
) -> None:
    """`dlq show`'s action: a create of a mapped app id will update it, and so on."""
    assert next_action(_event(event_type), mapped=mapped) == action
