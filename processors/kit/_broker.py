"""`kafka_broker`: a FastStream `KafkaBroker` for the Kafka cluster qbd-sync uses.

Reads the same `QBD_SYNC_KAFKA_*` settings as qbd-sync (the environment first, then the env
file, by default the `.env.dev` that `qbd-sync dev --env-file .env.dev` writes), so a
service next to qbd-sync needs no settings of its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from faststream.kafka import KafkaBroker
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

from processors.config import load_settings
from processors.errors import ConfigError
from processors.kafka import client_options

__all__ = ["DEV_ENV_FILE", "kafka_broker"]

DEV_ENV_FILE: Final = ".env.dev"
"""Where `qbd-sync dev --env-file .env.dev` writes its connection settings."""

_SASL: Final[dict[str, type[SASLPlaintext | SASLScram256 | SASLScram512]]] = {
    "PLAIN": SASLPlaintext,
    "SCRAM-SHA-256": SASLScram256,
    "SCRAM-SHA-512": SASLScram512,
}


def kafka_broker(env_file: str | Path | None = DEV_ENV_FILE, **options: Any) -> KafkaBroker:
    """A KafkaBroker from `QBD_SYNC_KAFKA_*` settings; `options` go to `KafkaBroker` as they are."""
    settings = load_settings(env_file)
    if not settings.kafka_bootstrap_servers:
        raise ConfigError(
            "QBD_SYNC_KAFKA_BOOTSTRAP_SERVERS is not set: export it, or start "
            f"`qbd-sync dev --env-file {DEV_ENV_FILE}` and run from the same directory"
        )
    client = client_options(settings)
    return KafkaBroker(client["bootstrap_servers"], security=_security(client), **options)


def _security(client: dict[str, Any]) -> BaseSecurity | None:
    """FastStream's security object for aiokafka's security keyword arguments."""
    context = client.get("ssl_context")
    mechanism = client.get("sasl_mechanism")
    if mechanism is not None:
        return _SASL[mechanism](
            username=client["sasl_plain_username"],
            password=client["sasl_plain_password"],
            ssl_context=context,
            use_ssl=context is not None,
        )
    if context is not None:
        return BaseSecurity(ssl_context=context)
    return None
