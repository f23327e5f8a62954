"""The kit's EventPublisher, on FastStream's in-memory TestKafkaBroker."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from faststream.kafka import KafkaBroker, KafkaMessage, TestKafkaBroker

from processors.intake import Accepted, decode
from processors.kit import EventPublisher, event_type_of
from schemas import (
    CustomerUpserted,
    EventType,
    InvalidEvent,
    InvoiceCreated,
    MappingSet,
    ObjectType,
    SalesLine,
    SyncRequested,
)

INVOICE = InvoiceCreated(
    invoice_id="inv_5001",
    customer_id="cus_1001",
    transaction_date="2026-11-24",
    lines=[SalesLine(item_id="item_consulting", quantity=2, rate="62.50", amount="125.00")],
)


class Sent:
    """Every record the in-memory broker delivered to qbd.events."""

    def __init__(self, broker: KafkaBroker, topic: str = "qbd.events") -> None:
        self.records: list[Any] = []

        @broker.subscriber(topic)
        async def capture(message: KafkaMessage) -> None:
            self.records.append(message.raw_message)

    def event(self, index: int = 0) -> dict[str, Any]:
        """A sent record's value as JSON."""
        result: dict[str, Any] = orjson.loads(self.records[index].value)
        return result


async def test_publish_sends_a_structured_cloudevent_keyed_by_company() -> None:
    """The record is keyed by companyid, typed application/cloudevents+json, all attributes set."""
    broker = KafkaBroker()
    sent = Sent(broker)
    when = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    async with TestKafkaBroker(broker):
        events = EventPublisher(broker, source="billing-service")
        event_id = await events.publish("acct_48291", INVOICE, id="evt_9f1c2a", time=when)

    record = sent.records[0]
    event = sent.event()
    assert record.key == b"acct_48291"
    assert ("content-type", b"application/cloudevents+json") in record.headers
    assert event_id == "evt_9f1c2a"
    assert event["specversion"] == "1.0"
    assert event["type"] == "invoice.created"
    assert event["source"] == "billing-service"
    assert event["time"] == "2026-11-24T10:00:00Z"
    assert event["companyid"] == "acct_48291"
    assert event["data"]["lines"][0]["amount"] == "125.00"


async def test_published_record_is_accepted_by_the_processors_intake() -> None:
    """What the kit sends decodes, with its key, to the same data in qbd-sync's own intake."""
    broker = KafkaBroker()
    sent = Sent(broker)
    async with TestKafkaBroker(broker):
        await EventPublisher(broker, source="billing-service").publish("acct_1", INVOICE)

    outcome = decode(sent.records[0].value, sent.records[0].key)

    assert isinstance(outcome, Accepted)
    assert outcome.event.data == INVOICE


async def test_ids_are_generated_unique_when_not_given() -> None:
    """Two events without an id get two different ids, returned by publish and on the wire."""
    broker = KafkaBroker()
    sent = Sent(broker)
    async with TestKafkaBroker(broker):
        events = EventPublisher(broker, source="billing-service")
        first = await events.publish("acct_1", INVOICE)
        second = await events.publish("acct_1", INVOICE)

    assert first != second
    assert [sent.event(0)["id"], sent.event(1)["id"]] == [first, second]


async def test_fields_go_out_under_their_wire_names_and_unset_fields_stay_absent() -> None:
    """mapping.set carries `app_id` (its alias); fields the caller did not set are not sent."""
    broker = KafkaBroker()
    sent = Sent(broker)
    mapping = MappingSet(object_type=ObjectType.ACCOUNT, mapped_app_id="acct_sales", qbd_id="8-1")
    async with TestKafkaBroker(broker):
        events = EventPublisher(broker, source="billing-service")
        await events.publish("acct_1", mapping)
        await events.publish("acct_1", CustomerUpserted(customer_id="cus_1", name="Jane Doe"))

    assert sent.event(0)["data"] == {
        "object_type": "account",
        "app_id": "acct_sales",
        "qbd_id": "8-1",
    }
    assert sent.event(1)["data"] == {"customer_id": "cus_1", "name": "Jane Doe"}


async def test_data_qbd_sync_would_reject_is_refused_before_sending() -> None:
    """A model built without validation (an empty invoice) raises InvalidEvent; nothing is sent."""
    broker = KafkaBroker()
    sent = Sent(broker)
    broken = InvoiceCreated.model_construct(
        invoice_id="inv_1", customer_id="cus_1", transaction_date="2026-11-24", lines=[]
    )
    async with TestKafkaBroker(broker):
        events = EventPublisher(broker, source="billing-service")
        with pytest.raises(InvalidEvent, match=r"invalid data for invoice\.created"):
            await events.publish("acct_1", broken)

    assert sent.records == []


def test_event_type_comes_from_the_data_model() -> None:
    """Each inbound data model maps back to its one event type."""
    assert event_type_of(INVOICE) is EventType.INVOICE_CREATED
    assert event_type_of(SyncRequested()) is EventType.SYNC_REQUESTED


async def test_an_explicit_type_must_match_the_data_model() -> None:
    """`type=` naming another event type than the data's is a ValueError."""
    broker = KafkaBroker()
    async with TestKafkaBroker(broker):
        events = EventPublisher(broker, source="billing-service")
        with pytest.raises(
            ValueError, match=r"bill\.created takes BillCreated, not InvoiceCreated"
        ):
            await events.publish("acct_1", INVOICE, type=EventType.BILL_CREATED)
