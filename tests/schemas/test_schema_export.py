"""`export_schemas`: JSON Schema per event type and an AsyncAPI 3.0 document that fit.

The schemas are checked with a tiny JSON Schema checker (below) for the keywords pydantic
emits; it refuses keywords it does not know, so it cannot pass a document by ignoring a rule.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
from pydantic import BaseModel

from schemas import (
    CompanyStateData,
    DlqHeader,
    EventType,
    InvoiceStatusData,
    OutboundType,
    SyncAction,
    SyncResultData,
    SyncStatus,
    Topic,
    example_event,
    export_schemas,
    make_cloudevent,
)

_ANNOTATIONS = {"title", "description", "default", "examples", "$schema", "$id", "$defs", "format"}
_TYPES = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
}

_BOUNDS: dict[str, tuple[Callable[[Any], bool], Callable[[Any], Any], Callable[[Any, Any], bool]]]
_BOUNDS = {
    "minItems": (_TYPES["array"], len, operator.ge),
    "maxItems": (_TYPES["array"], len, operator.le),
    "minLength": (_TYPES["string"], len, operator.ge),
    "maxLength": (_TYPES["string"], len, operator.le),
    "minimum": (_TYPES["number"], lambda v: v, operator.ge),
    "maximum": (_TYPES["number"], lambda v: v, operator.le),
    "exclusiveMinimum": (_TYPES["number"], lambda v: v, operator.gt),
}


class SchemaMismatch(AssertionError):
    """The instance does not match the schema."""


def _resolve(root: dict[str, Any], ref: str) -> dict[str, Any]:
    assert ref.startswith("#/"), f"only local refs are supported: {ref}"
    node: Any = root
    for part in ref[2:].split("/"):
        node = node[part]
    assert isinstance(node, dict)
    return node


def _matches(instance: Any, schema: dict[str, Any], root: dict[str, Any]) -> bool:
    try:
        check(instance, schema, root)
    except SchemaMismatch:
        return False
    return True


def check(instance: Any, schema: dict[str, Any], root: dict[str, Any], path: str = "$") -> None:
    """Raise `SchemaMismatch` unless `instance` matches `schema` (refs resolve in `root`)."""
    for keyword, rule in schema.items():
        if keyword in _ANNOTATIONS:
            continue
        if keyword == "$ref":
            check(instance, _resolve(root, rule), root, path)
        elif keyword == "type":
            if not _TYPES[rule](instance):
                raise SchemaMismatch(f"{path}: expected {rule}")
        elif keyword == "const":
            if instance != rule:
                raise SchemaMismatch(f"{path}: expected {rule!r}")
        elif keyword == "enum":
            if instance not in rule:
                raise SchemaMismatch(f"{path}: not one of {rule}")
        elif keyword in {"anyOf", "oneOf"}:
            hits = sum(_matches(instance, option, root) for option in rule)
            if hits == 0 or (keyword == "oneOf" and hits > 1):
                raise SchemaMismatch(f"{path}: {hits} of {keyword} options match")
        elif keyword == "allOf":
            for option in rule:
                check(instance, option, root, path)
        elif keyword in {"properties", "required", "additionalProperties"}:
            if not isinstance(instance, dict):
                continue
            if keyword == "required":
                missing = [name for name in rule if name not in instance]
                if missing:
                    raise SchemaMismatch(f"{path}: missing {missing}")
            elif keyword == "properties":
                for name, sub in rule.items():
                    if name in instance:
                        check(instance[name], sub, root, f"{path}.{name}")
            else:
                extra = [k for k in instance if k not in schema.get("properties", {})]
                for name in extra:
                    if rule is False:
                        raise SchemaMismatch(f"{path}: unexpected {name}")
                    if isinstance(rule, dict):
                        check(instance[name], rule, root, f"{path}.{name}")
        elif keyword == "items":
            if isinstance(instance, list):
                for index, item in enumerate(instance):
                    check(item, rule, root, f"{path}[{index}]")
        elif keyword in _BOUNDS:
            applies, measure, holds = _BOUNDS[keyword]
            if applies(instance) and not holds(measure(instance), rule):
                raise SchemaMismatch(f"{path}: {keyword} {rule}")
        elif keyword == "pattern":
            if isinstance(instance, str) and re.search(rule, instance) is None:
                raise SchemaMismatch(f"{path}: does not match {rule}")
        else:
            raise AssertionError(f"schema_checker does not know the keyword {keyword!r}")


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One export shared by the tests of this module."""
    directory = tmp_path_factory.mktemp("schemas")
    export_schemas(directory)
    return directory


def _load(path: Path) -> Any:
    return orjson.loads(path.read_bytes())


def _asyncapi_payload(document: dict[str, Any], message: str) -> dict[str, Any]:
    payload: dict[str, Any] = document["components"]["messages"][message]["payload"]
    return payload


def test_export_writes_one_schema_per_event_type_and_the_asyncapi_document(tmp_path: Path) -> None:
    """Every inbound and outbound type gets a schema file, plus asyncapi.json."""
    written = export_schemas(tmp_path)

    names = {path.name for path in written}
    expected = {f"{t}.schema.json" for t in [*EventType, *OutboundType]} | {"asyncapi.json"}
    assert names == expected
    assert all(path.exists() for path in written)


@pytest.mark.parametrize("event_type", list(EventType))
def test_inbound_examples_validate_against_their_json_schema(
    exported: Path, event_type: EventType
) -> None:
    """Each shipped example matches the exported JSON Schema of its type."""
    schema = _load(exported / f"{event_type}.schema.json")

    check(example_event(event_type), schema, schema)


def test_json_schema_rejects_a_float_amount(exported: Path) -> None:
    """The exported schema says what intake says: amounts are strings."""
    schema = _load(exported / "invoice.created.schema.json")
    event = example_event(EventType.INVOICE_CREATED)
    event["data"]["lines"][0]["amount"] = 125.0

    with pytest.raises(SchemaMismatch, match="amount"):
        check(event, schema, schema)


def test_json_schema_pins_the_event_type(exported: Path) -> None:
    """A schema accepts only events of its own type."""
    schema = _load(exported / "invoice.created.schema.json")
    event = example_event(EventType.INVOICE_CREATED) | {"type": "bill.created"}

    with pytest.raises(SchemaMismatch, match="type"):
        check(event, schema, schema)


def test_outbound_event_validates_against_its_json_schema(exported: Path) -> None:
    """What `make_cloudevent` writes matches the exported outbound schema."""
    schema = _load(exported / "qbd.sync.succeeded.schema.json")
    data = SyncResultData(
        event_id="evt_1",
        event_type="invoice.created",
        status=SyncStatus.SYNCED,
        app_id="inv_1",
        qbd_object_type="qbd_invoice",
        qbd_id="123ABC-1234567890",
        attempts=1,
    )
    event = orjson.loads(make_cloudevent(OutboundType.SYNC_SUCCEEDED, "qbd-sync", "c", data))

    check(event, schema, schema)


@pytest.mark.parametrize(
    ("out_type", "data"),
    [
        (
            OutboundType.SYNC_SUCCEEDED,
            SyncResultData(
                event_id="e",
                event_type="invoice.voided",
                status="synced",
                attempts=1,
                action=SyncAction.VOIDED,
            ),
        ),
        (
            OutboundType.STATUS_INVOICE,
            InvoiceStatusData(
                invoice_id="inv_1", qbd_id="1-2", balance_remaining=Decimal("0.00"), is_paid=True
            ),
        ),
        (
            OutboundType.COMPANY_STATE_CHANGED,
            CompanyStateData(state="setup_pending", previous_state="unknown", at=datetime.now(UTC)),
        ),
    ],
    ids=lambda value: str(value) if isinstance(value, str) else "",
)
def test_new_outbound_events_validate_against_their_json_schema(
    exported: Path, out_type: OutboundType, data: BaseModel
) -> None:
    """Results with an action, invoice status and state changes match their schemas."""
    schema = _load(exported / f"{out_type}.schema.json")
    event = orjson.loads(make_cloudevent(out_type, "qbd-sync", "c", data))

    check(event, schema, schema)


def test_json_schema_refuses_an_amount_as_a_number_in_invoice_status(exported: Path) -> None:
    """The outbound schema promises consumers a decimal string for `balance_remaining`."""
    schema = _load(exported / "qbd.status.invoice.schema.json")
    data = InvoiceStatusData(
        invoice_id="i", qbd_id="q", balance_remaining=Decimal(1), is_paid=False
    )
    event = orjson.loads(make_cloudevent(OutboundType.STATUS_INVOICE, "qbd-sync", "c", data))
    event["data"]["balance_remaining"] = 1.0

    with pytest.raises(SchemaMismatch, match="balance_remaining"):
        check(event, schema, schema)


def test_asyncapi_lists_every_outbound_type_on_a_channel(exported: Path) -> None:
    """Each outbound type is a message of one of the AsyncAPI channels."""
    channels = _load(exported / "asyncapi.json")["channels"].values()
    on_channels = {name for channel in channels for name in channel["messages"]}

    assert {str(t) for t in OutboundType} <= on_channels


def test_asyncapi_is_version_3_with_a_channel_per_topic(exported: Path) -> None:
    """The AsyncAPI document is 3.0 and has one channel for each default topic."""
    document = _load(exported / "asyncapi.json")

    assert document["asyncapi"] == "3.0.0"
    assert {channel["address"] for channel in document["channels"].values()} == set(Topic)


@pytest.mark.parametrize("event_type", list(EventType))
def test_asyncapi_payloads_validate_the_examples(exported: Path, event_type: EventType) -> None:
    """Each inbound message payload in the AsyncAPI document accepts its example."""
    document = _load(exported / "asyncapi.json")

    check(example_event(event_type), _asyncapi_payload(document, event_type), document)


def test_asyncapi_refs_all_resolve(exported: Path) -> None:
    """Every `$ref` in the AsyncAPI document points at something in it."""
    document = _load(exported / "asyncapi.json")
    refs: list[str] = []

    def collect(node: Any) -> None:
        if isinstance(node, dict):
            refs.extend(v for k, v in node.items() if k == "$ref")
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    collect(document)

    assert refs
    for ref in refs:
        node: Any = document
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]


def test_asyncapi_messages_are_keyed_by_companyid(exported: Path) -> None:
    """Every message declares the Kafka key as the companyid."""
    document = _load(exported / "asyncapi.json")
    messages = document["components"]["messages"].values()

    assert all(m["bindings"]["kafka"]["key"]["description"] == "companyid" for m in messages)


def test_asyncapi_documents_dlq_and_rejected_headers(exported: Path) -> None:
    """The DLQ and rejected messages list the headers qbd-sync adds."""
    messages = _load(exported / "asyncapi.json")["components"]["messages"]

    assert set(messages["parked"]["headers"]["properties"]) == {str(h) for h in DlqHeader}
    assert set(messages["rejected"]["headers"]["properties"]) == {"qbd-rejected-reason"}
