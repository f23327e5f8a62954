"""Thin aiokafka edge: client options from Settings, topic creation and checks."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, KafkaError

from processors.config import Settings
from processors.errors import ConfigError, DependencyUnavailable

__all__ = ["client_options", "ensure_topics", "outbound_topics", "partition_counts"]

_TOPIC_ALREADY_EXISTS = 36


def client_options(settings: Settings) -> dict[str, Any]:
    """Connection and security keyword arguments shared by every aiokafka client."""
    settings.require("kafka_bootstrap_servers", command="run")
    options: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_bootstrap_servers,
        "security_protocol": settings.kafka_security_protocol,
    }
    if settings.kafka_security_protocol in ("SSL", "SASL_SSL"):
        context = ssl.create_default_context(
            cafile=str(settings.kafka_ssl_cafile) if settings.kafka_ssl_cafile else None
        )
        options["ssl_context"] = context
    if settings.kafka_security_protocol.startswith("SASL"):
        if not settings.kafka_sasl_mechanism or not settings.kafka_sasl_username:
            raise ConfigError(
                "QBD_SYNC_KAFKA_SASL_MECHANISM and QBD_SYNC_KAFKA_SASL_USERNAME are required "
                f"with QBD_SYNC_KAFKA_SECURITY_PROTOCOL={settings.kafka_security_protocol}"
            )
        options["sasl_mechanism"] = settings.kafka_sasl_mechanism
        options["sasl_plain_username"] = settings.kafka_sasl_username
        options["sasl_plain_password"] = settings.secret("kafka_sasl_password")
    return options


def outbound_topics(settings: Settings) -> list[str]:
    """The topics qbd-sync writes to."""
    return [
        settings.sync_results_topic,
        settings.needs_attention_topic,
        settings.dlq_topic,
        settings.rejected_topic,
        settings.reference_topic,
    ]


@asynccontextmanager
async def _admin(options: Mapping[str, Any]) -> AsyncIterator[AIOKafkaAdminClient]:
    """A started admin client, closed on exit; DependencyUnavailable if Kafka is away."""
    admin = AIOKafkaAdminClient(**options)
    try:
        await admin.start()
    except KafkaConnectionError as exc:
        raise DependencyUnavailable(
            f"Kafka at {options.get('bootstrap_servers')} does not answer: {exc}"
        ) from exc
    try:
        yield admin
    except KafkaError as exc:
        raise DependencyUnavailable(f"Kafka admin request failed: {exc}") from exc
    finally:
        await admin.close()


async def ensure_topics(options: Mapping[str, Any], topics: Mapping[str, int]) -> list[str]:
    """Create the missing ones of ``topics`` (name -> partitions); return those created."""
    async with _admin(options) as admin:
        existing = set(await admin.list_topics())
        wanted = [
            NewTopic(name, partitions, 1)
            for name, partitions in topics.items()
            if name not in existing
        ]
        if not wanted:
            return []
        response = await admin.create_topics(wanted)
        created = []
        for name, code, *_ in response.topic_errors:
            if code == 0:
                created.append(name)
            elif code != _TOPIC_ALREADY_EXISTS:
                raise DependencyUnavailable(f"could not create topic {name}: error code {code}")
        return created


async def partition_counts(options: Mapping[str, Any], topics: list[str]) -> dict[str, int]:
    """Partition count of each topic that exists (missing topics are left out)."""
    async with _admin(options) as admin:
        described = await admin.describe_topics(topics)
        counts = {}
        for topic in described:
            if topic.get("error_code", 0) == 0:
                counts[topic["topic"]] = len(topic["partitions"])
        return counts
