"""Typed FastStream subscribers for what qbd-sync publishes.

Each function returns a decorator that registers one handler on a FastStream subscriber of
the topic. The handler's first parameter receives the parsed event (`AttentionEvent`,
`SyncResultEvent` or `ReferenceEvent`); further parameters get FastStream's usual
injections (`Logger`, `KafkaMessage`, ...). Records of a type the handler does not take
(a type a newer qbd-sync added, such as `qbd.company.state_changed`) and records that are
not CloudEvents at all are skipped with one log line, never an error. A record of a known
type whose fields do not validate is logged by FastStream as a failure and skipped.

Offsets are committed after the handler returns (FastStream's `AckPolicy.ACK`): delivery to
the handler is at least once, and a handler that raises does not stall the topic.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Literal, TypeVar

import orjson
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage

from processors.kit._received import (
    AttentionEvent,
    ReceivedEvent,
    ReferenceEvent,
    SyncResultEvent,
)
from processors.logs import get_logger
from schemas import Topic

__all__ = ["attention_subscriber", "reference_subscriber", "sync_results_subscriber"]

_Handler = TypeVar("_Handler", bound=Callable[..., Awaitable[Any]])
_OffsetReset = Literal["earliest", "latest"]

log = get_logger("kit")


def attention_subscriber(
    broker: KafkaBroker,
    *,
    group_id: str | None,
    topic: str = Topic.NEEDS_ATTENTION,
    auto_offset_reset: _OffsetReset = "earliest",
) -> Callable[[_Handler], _Handler]:
    """Register a handler for `qbd.attention.*` and `qbd.connection.setup_link` events."""
    return _subscriber(
        broker,
        AttentionEvent,
        topic=topic,
        channel="needsAttention",
        description="What the user must fix, for the notification service",
        group_id=group_id,
        auto_offset_reset=auto_offset_reset,
    )


def sync_results_subscriber(
    broker: KafkaBroker,
    *,
    group_id: str | None,
    topic: str = Topic.SYNC_RESULTS,
    auto_offset_reset: _OffsetReset = "earliest",
) -> Callable[[_Handler], _Handler]:
    """Register a handler for `qbd.sync.succeeded` and `qbd.sync.failed` events."""
    return _subscriber(
        broker,
        SyncResultEvent,
        topic=topic,
        channel="syncResults",
        description="One result per inbound event that reached a final state",
        group_id=group_id,
        auto_offset_reset=auto_offset_reset,
    )


def reference_subscriber(
    broker: KafkaBroker,
    *,
    group_id: str | None,
    topic: str = Topic.REFERENCE,
    auto_offset_reset: _OffsetReset = "earliest",
) -> Callable[[_Handler], _Handler]:
    """Register a handler for `qbd.reference.*` list records pulled from QuickBooks."""
    return _subscriber(
        broker,
        ReferenceEvent,
        topic=topic,
        channel="reference",
        description="Reference data pulled from QuickBooks lists",
        group_id=group_id,
        auto_offset_reset=auto_offset_reset,
    )


def _subscriber(
    broker: KafkaBroker,
    model: type[ReceivedEvent],
    *,
    topic: str,
    channel: str,
    description: str,
    group_id: str | None,
    auto_offset_reset: _OffsetReset,
) -> Callable[[_Handler], _Handler]:
    accepted = model.accepted_types()

    async def decode(message: KafkaMessage) -> Any:
        """The record as `model` when its type is one the handler takes, else as it is."""
        try:
            obj = orjson.loads(message.body)
        except orjson.JSONDecodeError:
            return message.body
        if isinstance(obj, dict) and obj.get("type") in accepted:
            return model.model_validate(obj, extra="ignore")
        return obj

    async def taken(message: KafkaMessage) -> bool:
        return isinstance(await message.decode(), model)

    async def not_taken(message: KafkaMessage) -> bool:
        return not await taken(message)

    async def skip(message: KafkaMessage) -> None:
        decoded = await message.decode()
        fields = decoded if isinstance(decoded, dict) else {}
        log.info(
            "skipped a record this subscriber does not take",
            topic=topic,
            type=fields.get("type"),
            company_id=fields.get("companyid"),
            event_id=fields.get("id"),
            reason="not a CloudEvent" if not fields else "type not handled",
        )

    subscriber = broker.subscriber(
        topic,
        group_id=group_id,
        auto_offset_reset=auto_offset_reset,
        # Without a group there is nothing to commit to: the subscriber only reads.
        ack_policy=AckPolicy.ACK if group_id else AckPolicy.MANUAL,
        decoder=decode,
        title=channel,
        description=description,
    )
    subscriber(skip, filter=not_taken)
    registered: list[Callable[..., Awaitable[Any]]] = []

    def register(handler: _Handler) -> _Handler:
        if registered:
            raise RuntimeError(
                f"this {channel} subscriber already has a handler ({registered[0].__name__}); "
                "create another subscriber for a second one"
            )
        registered.append(handler)
        subscriber(handler, filter=taken)
        return handler

    return register
