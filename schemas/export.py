"""Write the JSON Schema of every event type and an AsyncAPI 3.0 document of all topics.

Both are generated from the same pydantic models the service validates with, so they cannot
drift. Each event schema describes the whole CloudEvent (envelope plus `data`), which is
what a producer writes and a consumer reads.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Final, Literal

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, create_model
from pydantic.json_schema import models_json_schema

from schemas.envelope import Envelope
from schemas.examples import example_event
from schemas.inbound import DATA_MODELS
from schemas.names import (
    CLOUDEVENTS_CONTENT_TYPE,
    REJECTED_REASON_HEADER,
    DlqHeader,
    EventType,
    OutboundType,
    Topic,
)
from schemas.outbound import OUTBOUND_DATA_MODELS

__all__ = ["ASYNCAPI_FILE", "event_models", "export_schemas"]

ASYNCAPI_FILE: Final = "asyncapi.json"
_JSON_SCHEMA_DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"
_KAFKA_BINDING: Final = "0.5.0"


class _OutboundEnvelope(BaseModel):
    """The CloudEvents attributes qbd-sync sets on every event it publishes."""

    model_config = ConfigDict(extra="forbid")

    specversion: Literal["1.0"]
    id: str
    type: str
    source: str
    time: AwareDatetime
    companyid: str
    datacontenttype: Literal["application/json"]
    traceparent: str | None = None


def _title(event_type: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[._-]", event_type)) + "Event"


def _with(base: type[BaseModel], event_type: str, data: Any, doc: str | None) -> type[BaseModel]:
    fields: dict[str, Any] = {"type": (Literal[event_type], ...), "data": data}
    return create_model(_title(event_type), __base__=base, __doc__=doc, **fields)


def event_models() -> dict[str, type[BaseModel]]:
    """A full-event model (envelope plus typed `data`) per inbound and outbound type."""
    models: dict[str, type[BaseModel]] = {}
    for event_type, data_model in DATA_MODELS.items():
        optional = event_type is EventType.SYNC_REQUESTED
        data: tuple[Any, Any] = (data_model | None, None) if optional else (data_model, ...)
        models[event_type.value] = _with(Envelope, event_type.value, data, data_model.__doc__)
    for out_type, out_model in OUTBOUND_DATA_MODELS.items():
        data = (out_model, ...)
        models[out_type.value] = _with(_OutboundEnvelope, out_type.value, data, out_model.__doc__)
    return models


def _write(path: Path, document: dict[str, Any]) -> Path:
    path.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")
    return path


def export_schemas(directory: Path) -> list[Path]:
    """Write `<type>.schema.json` per event type and `asyncapi.json`; return the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for event_type, model in event_models().items():
        schema = {
            "$schema": _JSON_SCHEMA_DIALECT,
            "$id": f"urn:qbd-sync:event:{event_type}",
            **model.model_json_schema(),
        }
        written.append(_write(directory / f"{event_type}.schema.json", schema))
    written.append(_write(directory / ASYNCAPI_FILE, asyncapi_document()))
    return written


def _headers(names: list[str], description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "properties": {str(name): {"type": "string"} for name in names},
        "required": [str(name) for name in names],
    }


def _message(name: str, payload: dict[str, Any], summary: str | None) -> dict[str, Any]:
    message: dict[str, Any] = {
        "name": name,
        "title": name,
        "contentType": CLOUDEVENTS_CONTENT_TYPE,
        "payload": payload,
        "bindings": {
            "kafka": {
                "key": {"type": "string", "description": "companyid"},
                "bindingVersion": _KAFKA_BINDING,
            }
        },
    }
    if summary:
        message["summary"] = summary.strip().splitlines()[0]
    return message


_CHANNELS: Final[dict[str, tuple[Topic, str, list[str]]]] = {
    "events": (
        Topic.EVENTS,
        "Business events from the app, keyed by companyid, in structured content mode "
        "(this payload) or binary content mode of the CloudEvents Kafka binding (attributes "
        "in ce_ headers, content-type application/json, the value is data)",
        list(EventType),
    ),
    "syncResults": (
        Topic.SYNC_RESULTS,
        "One result per inbound event that reached a final state",
        [OutboundType.SYNC_SUCCEEDED, OutboundType.SYNC_FAILED],
    ),
    "needsAttention": (
        Topic.NEEDS_ATTENTION,
        "What the user must fix, for the notification service",
        [
            OutboundType.ATTENTION_NEEDED,
            OutboundType.ATTENTION_RESOLVED,
            OutboundType.CONNECTION_SETUP_LINK,
            OutboundType.COMPANY_STATE_CHANGED,
        ],
    ),
    "reference": (
        Topic.REFERENCE,
        "Reference data pulled from QuickBooks lists, and the status of synced invoices",
        [
            *(t for t in OutboundType if t.startswith("qbd.reference.")),
            OutboundType.STATUS_INVOICE,
        ],
    ),
}

_OPERATIONS: Final[dict[str, tuple[str, str]]] = {
    "receiveEvents": ("receive", "events"),
    "sendSyncResults": ("send", "syncResults"),
    "sendNeedsAttention": ("send", "needsAttention"),
    "sendReference": ("send", "reference"),
    "parkToDlq": ("send", "dlq"),
    "replayFromDlq": ("receive", "dlq"),
    "sendRejected": ("send", "rejected"),
}


def asyncapi_document() -> dict[str, Any]:
    """The AsyncAPI 3.0 document: channels per topic, messages, payload schemas."""
    models = event_models()
    refs, definitions = models_json_schema(
        [(model, "validation") for model in models.values()],
        ref_template="#/components/schemas/{model}",
    )
    messages = {
        name: _message(name, refs[(model, "validation")], model.__doc__)
        for name, model in models.items()
    }
    for event_type in EventType:
        messages[event_type.value]["examples"] = [
            {"name": event_type.value, "payload": example_event(event_type)}
        ]
    inbound_payloads = [messages[t]["payload"] for t in EventType]
    messages["parked"] = {
        **_message("parked", {"oneOf": inbound_payloads}, "An inbound event parked byte for byte"),
        "headers": _headers(list(DlqHeader), "Added on parking; the original headers are kept"),
    }
    messages["rejected"] = {
        **_message("rejected", {}, "The original bytes of a record that can never be processed"),
        "contentType": "application/octet-stream",
        "headers": _headers([REJECTED_REASON_HEADER], "Why the record was rejected"),
    }
    channel_specs = {
        **{
            key: (topic, text, [str(t) for t in types])
            for key, (topic, text, types) in _CHANNELS.items()
        },
        "dlq": (Topic.DLQ, "Work parked while a company's QuickBooks is unreachable", ["parked"]),
        "rejected": (Topic.REJECTED, "Input that can never be processed", ["rejected"]),
    }
    channels = {
        key: {
            "address": str(topic),
            "description": f"{text} (default topic name; configurable)",
            "messages": {name: {"$ref": f"#/components/messages/{name}"} for name in names},
            "bindings": {"kafka": {"topic": str(topic), "bindingVersion": _KAFKA_BINDING}},
        }
        for key, (topic, text, names) in channel_specs.items()
    }
    operations = {
        op: {
            "action": action,
            "channel": {"$ref": f"#/channels/{channel}"},
            "messages": [
                {"$ref": f"#/channels/{channel}/messages/{name}"}
                for name in channels[channel]["messages"]
            ],
        }
        for op, (action, channel) in _OPERATIONS.items()
    }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "qbd-sync",
            "version": "1.0.0",
            "description": "Kafka events in, QuickBooks Desktop writes out (CONTRACT.md 4-5).",
        },
        "defaultContentType": CLOUDEVENTS_CONTENT_TYPE,
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": definitions.get("$defs", {})},
    }
