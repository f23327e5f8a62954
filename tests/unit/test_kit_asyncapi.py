"""The example apps' AsyncAPI documents (made by FastStream) agree with qbd-sync's own."""

from __future__ import annotations

from typing import Any

import pytest

from examples import billing_service, notifier
from schemas.export import asyncapi_document

QBD_SYNC = asyncapi_document()


def _inline(document: dict[str, Any], node: Any) -> Any:
    """`node` with every local `$ref` replaced by what it points to, titles dropped."""
    if isinstance(node, list):
        return [_inline(document, item) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return _inline(document, target)
    return {k: _inline(document, v) for k, v in node.items() if k not in ("title", "description")}


def _events(document: dict[str, Any], channel: dict[str, Any]) -> list[dict[str, Any]]:
    """The CloudEvent payloads of a channel's messages (FastStream's catch-all left out)."""
    found = []
    for reference in channel["messages"].values():
        payload = _inline(document, reference)["payload"]
        for member in payload.get("oneOf", payload.get("anyOf", [payload])):
            if "type" in member.get("properties", {}):
                found.append(member)
    return found


def _types(payload: dict[str, Any]) -> list[str]:
    schema = payload["properties"]["type"]
    return schema["enum"] if "enum" in schema else [schema["const"]]


def _qbd_sync_payload(channel_key: str, event_type: str) -> dict[str, Any]:
    names = QBD_SYNC["channels"][channel_key]["messages"]
    assert event_type in names, f"{event_type} is not a message of qbd-sync's {channel_key}"
    payload: dict[str, Any] = _inline(QBD_SYNC, names[event_type])["payload"]
    return payload


def _assert_compatible(sender: dict[str, Any], receiver: dict[str, Any], event_type: str) -> None:
    """The receiver requires nothing the sender may leave out; shared fields agree."""
    assert set(receiver.get("required", [])) <= set(sender.get("required", [])), event_type
    for name in set(sender["properties"]) & set(receiver["properties"]):
        if name != "type":
            assert sender["properties"][name] == receiver["properties"][name], (event_type, name)


@pytest.mark.parametrize("app", [billing_service, notifier], ids=["billing", "notifier"])
def test_example_channels_are_qbd_syncs_channels(app: Any) -> None:
    """Each channel of the example app has qbd-sync's channel name and topic address."""
    document = app.specification()

    channels = {key: channel["address"] for key, channel in document["channels"].items()}

    assert channels
    for key, address in channels.items():
        assert QBD_SYNC["channels"][key]["address"] == address


def test_what_the_billing_service_sends_is_what_qbd_sync_receives() -> None:
    """Every event type the billing app may publish is a qbd-sync inbound message, same schema."""
    document = billing_service.specification()

    payloads = _events(document, document["channels"]["events"])

    assert len(payloads) == len(QBD_SYNC["channels"]["events"]["messages"])
    for payload in payloads:
        (event_type,) = _types(payload)
        _assert_compatible(payload, _qbd_sync_payload("events", event_type), event_type)


def test_what_the_notifier_reads_is_what_qbd_sync_sends() -> None:
    """Each attention and sync-result type the notifier takes is a qbd-sync message it can read."""
    document = notifier.specification()
    checked = []

    for key, channel in document["channels"].items():
        for payload in _events(document, channel):
            for event_type in _types(payload):
                _assert_compatible(_qbd_sync_payload(key, event_type), payload, event_type)
                checked.append(event_type)

    assert sorted(checked) == sorted(
        [
            "qbd.attention.needed",
            "qbd.attention.resolved",
            "qbd.connection.setup_link",
            "qbd.sync.succeeded",
            "qbd.sync.failed",
        ]
    )
