"""Publisher: every record qbd-sync writes to Kafka, awaited until the broker acknowledges it.

We use aiokafka's producer directly rather than a FastStream publisher: every send here must
be awaited to the broker's ack before the input offset may be committed, and the DLQ copies
records byte for byte with their headers, which is the producer's native shape.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.protocol.metadata import MetadataRequest

from processors.config import Settings
from processors.errors import DependencyUnavailable
from processors.kafka import client_options
from schemas import (
    REJECTED_REASON_HEADER,
    SOURCE,
    AttentionData,
    CompanyStateData,
    OutboundType,
    SyncResultData,
    SyncStatus,
    make_cloudevent,
    result_event_id,
)

__all__ = ["Headers", "Publisher", "SentRecord"]

Headers = Sequence[tuple[str, bytes]]


class SentRecord:
    """Where a record landed."""

    __slots__ = ("offset", "partition", "topic")

    def __init__(self, topic: str, partition: int, offset: int) -> None:
        self.topic = topic
        self.partition = partition
        self.offset = offset


class Publisher:
    """Writes sync results, attention events, DLQ and rejected records."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._producer = AIOKafkaProducer(
            **client_options(settings),
            acks="all",
            # Tansu (the embedded broker) has no idempotent producer; duplicates of outbound
            # records are harmless because every one carries the inbound event id.
            enable_idempotence=False,
            linger_ms=2,
            max_request_size=16 * 1024 * 1024,
        )

    async def start(self) -> None:
        """Connect to the broker."""
        try:
            await self._producer.start()
        except KafkaError as exc:
            raise DependencyUnavailable(f"Kafka producer could not start: {exc}") from exc

    async def stop(self) -> None:
        """Flush and disconnect."""
        await self._producer.stop()

    async def ping(self) -> None:
        """Ask the broker for the results topic's metadata (the readiness probe).

        Raises ``DependencyUnavailable`` when no broker answers; the caller bounds the wait.
        """
        client = self._producer.client
        node = client.get_random_node()
        if node is None:
            raise DependencyUnavailable("no broker is known to the producer")
        request = MetadataRequest(
            [self._settings.sync_results_topic], allow_auto_topic_creation=False
        )
        try:
            await client.send(node, request)
        except KafkaError as exc:
            raise DependencyUnavailable(f"the broker does not answer: {exc}") from exc

    async def send(
        self, topic: str, key: bytes | None, value: bytes | None, headers: Headers = ()
    ) -> SentRecord:
        """Send one record and wait for the broker's acknowledgement.

        Raises ``DependencyUnavailable`` when the broker does not take it (an outage).
        """
        try:
            meta: Any = await self._producer.send_and_wait(
                topic, value, key=key, headers=list(headers)
            )
        except KafkaError as exc:
            raise DependencyUnavailable(
                f"the broker did not take a record for {topic}: {exc}"
            ) from exc
        return SentRecord(meta.topic, meta.partition, meta.offset)

    async def result(
        self, company_id: str, result: SyncResultData, *, traceparent: str | None = None
    ) -> None:
        """Publish ``qbd.sync.succeeded`` or ``qbd.sync.failed`` for one inbound event."""
        kind = (
            OutboundType.SYNC_SUCCEEDED
            if result.status is SyncStatus.SYNCED
            else OutboundType.SYNC_FAILED
        )
        body = make_cloudevent(
            kind,
            SOURCE,
            company_id,
            result,
            id=result_event_id(result.event_id),
            traceparent=traceparent,
        )
        await self.send(self._settings.sync_results_topic, company_id.encode(), body)

    async def attention(self, company_id: str, data: AttentionData, *, resolved: bool) -> None:
        """Publish ``qbd.attention.needed`` or ``qbd.attention.resolved``."""
        kind = OutboundType.ATTENTION_RESOLVED if resolved else OutboundType.ATTENTION_NEEDED
        body = make_cloudevent(kind, SOURCE, company_id, data, time=datetime.now(UTC))
        await self.send(self._settings.needs_attention_topic, company_id.encode(), body)

    async def company_state(self, company_id: str, data: CompanyStateData) -> None:
        """Publish ``qbd.company.state_changed``; a repeat of one change keeps its ``id``."""
        change = f"{data.state}:{data.at.isoformat()}"
        body = make_cloudevent(
            OutboundType.COMPANY_STATE_CHANGED,
            SOURCE,
            company_id,
            data,
            id=f"qbd-state:{company_id}:{change}",
            time=data.at,
        )
        await self.send(self._settings.needs_attention_topic, company_id.encode(), body)

    async def rejected(
        self, key: bytes | None, value: bytes | None, headers: Headers, reason: str
    ) -> None:
        """Copy an unprocessable record to the rejected topic with its reason."""
        await self.send(
            self._settings.rejected_topic,
            key,
            value,
            [*headers, (REJECTED_REASON_HEADER, reason.encode()[:8192])],
        )
