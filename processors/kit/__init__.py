"""A FastStream kit for the services around qbd-sync.

Upstream services publish business events; a notification service follows what qbd-sync
reports back. Both use FastStream's `KafkaBroker`, so they get its app lifecycle, its
in-memory `TestKafkaBroker` for tests, and an AsyncAPI document of what they send and read.

    broker = kafka_broker()  # QBD_SYNC_KAFKA_BOOTSTRAP_SERVERS, or .env.dev
    events = EventPublisher(broker, source="billing-service")
    await events.publish("acct_48291", InvoiceCreated(...))

    board = AttentionBoard()

    @attention_subscriber(broker, group_id="notifier")
    async def on_attention(event: AttentionEvent) -> None:
        board.apply(event)

The core of qbd-sync (per-company lanes, offset frontiers) stays on aiokafka; this kit is
only for the parties around it.
"""

from __future__ import annotations

from processors.kit._board import AttentionBoard, BoardChange
from processors.kit._broker import DEV_ENV_FILE, kafka_broker
from processors.kit._publisher import EventPublisher, event_type_of
from processors.kit._received import (
    AttentionEvent,
    ReceivedEvent,
    ReferenceEvent,
    SyncResultEvent,
)
from processors.kit._subscribers import (
    attention_subscriber,
    reference_subscriber,
    sync_results_subscriber,
)

__all__ = [
    "DEV_ENV_FILE",
    "AttentionBoard",
    "AttentionEvent",
    "BoardChange",
    "EventPublisher",
    "ReceivedEvent",
    "ReferenceEvent",
    "SyncResultEvent",
    "attention_subscriber",
    "event_type_of",
    "kafka_broker",
    "reference_subscriber",
    "sync_results_subscriber",
]
