"""Clients nobody here wrote: CloudEvents-SDK producers over librdkafka, an SDK consumer.

An upstream service publishing with the official CloudEvents SDK's Kafka binding through
confluent-kafka (librdkafka), in binary and in structured mode, gets its events synced; a
consumer using the same SDK parses every record qbd-sync publishes (results, attention,
reference data) and the DLQ copy of a binary-mode event, which keeps its mode.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.v1.event import CloudEvent
from conductor import Conductor
from confluent_kafka import Producer

from processors.config import Settings
from processors.devstack import DEV_SECRET_KEY
from processors.testing import RunningService, TestStack, TopicReader, unique_name
from schemas import EventType, example_event

_ATTRIBUTES = ("specversion", "id", "type", "source", "time", "companyid")


def _company(stack: TestStack, *, online: bool = True) -> str:
    company = unique_name("acct")
    client = Conductor(api_key=DEV_SECRET_KEY, base_url=stack.simulator.base_url, max_retries=0)
    end_user = client.end_users.create(
        company_name=company, email="o@example.com", source_id=company
    )
    stack.simulator.set_state(end_user.id, "online" if online else "offline")
    return company


def _cloudevent(event: dict[str, Any]) -> CloudEvent:
    attributes = {name: event[name] for name in _ATTRIBUTES if name in event}
    attributes["time"] = datetime.fromisoformat(attributes["time"])
    return CloudEvent(attributes, event["data"])


def _customer(company: str, name: str) -> dict[str, Any]:
    event = example_event(EventType.CUSTOMER_UPSERTED, companyid=company, id=unique_name("evt"))
    event["data"].update(customer_id=unique_name("cus"), name=name, company_name=None)
    return event


def _librdkafka_publish(settings: Settings, events: list[tuple[dict[str, Any], bool]]) -> None:
    """Produce with confluent-kafka, each event in binary (True) or structured (False) mode."""
    producer = Producer({"bootstrap.servers": settings.kafka_bootstrap_servers})
    failures: list[Any] = []
    for event, binary in events:
        convert = ce_kafka.to_binary_event if binary else ce_kafka.to_structured_event
        message = convert(_cloudevent(event), key_mapper=lambda e: e.get_extension("companyid"))
        producer.produce(
            settings.input_topics[0],
            key=message.key,
            value=message.value,
            headers=list(message.headers.items()),
            on_delivery=lambda error, _msg: failures.append(error) if error else None,
        )
    assert producer.flush(30) == 0
    assert failures == []


def _parse(record: Any) -> Any:
    """What a CloudEvents-SDK consumer makes of one record (either content mode)."""
    message = ce_kafka.KafkaMessage(
        headers=dict(record.headers or ()),
        key=record.key,
        value=record.value,
    )
    return ce_kafka.from_kafka_event(message)


async def test_sdk_producers_in_both_modes_over_librdkafka_sync_and_every_output_parses(
    stack: TestStack, settings: Settings
) -> None:
    """Binary and structured SDK events sync; the SDK parses every outbound record."""
    online, offline = _company(stack), _company(stack, online=False)
    binary = _customer(online, "Binary Mode Co")
    structured = _customer(online, "Structured Mode Co")
    duplicate = _customer(online, "Binary Mode Co")  # the same name again: a data failure
    parked = _customer(offline, "Parked While Offline")
    pull = example_event(
        EventType.REFERENCE_PULL_REQUESTED, companyid=online, id=unique_name("evt")
    )
    pull["data"] = {"object_types": ["customers"]}
    readers = {
        topic: TopicReader(settings, topic)
        for topic in (
            settings.sync_results_topic,
            settings.needs_attention_topic,
            settings.reference_topic,
            settings.dlq_topic,
        )
    }
    try:
        async with RunningService(settings):
            await asyncio.to_thread(
                _librdkafka_publish,
                settings,
                [
                    (binary, True),
                    (structured, False),
                    (duplicate, True),
                    (parked, True),
                    (pull, False),
                ],
            )
            results = await readers[settings.sync_results_topic].wait_for(
                lambda found: len(found) >= 4, timeout=90
            )
            await readers[settings.dlq_topic].wait_for(lambda found: len(found) >= 1, timeout=60)
        outbound = {topic: await reader.drain() for topic, reader in readers.items()}
    finally:
        for reader in readers.values():
            await reader.close()

    by_event = {result["data"]["event_id"]: result for result in results}
    assert by_event[binary["id"]]["type"] == "qbd.sync.succeeded"
    assert by_event[structured["id"]]["type"] == "qbd.sync.succeeded"
    assert by_event[duplicate["id"]]["type"] == "qbd.sync.failed"
    assert by_event[pull["id"]]["type"] == "qbd.sync.succeeded"
    for topic, records in outbound.items():
        assert records, topic
        for record in records:
            event = _parse(record)
            assert event.get_id(), (topic, record.value)
            assert event.get_type(), (topic, record.value)
    [copy] = [r for r in outbound[settings.dlq_topic] if _parse(r).get_id() == parked["id"]]
    assert any(name.startswith("ce_") for name, _ in copy.headers)  # still binary mode
    assert _parse(copy).get_data() == parked["data"]
