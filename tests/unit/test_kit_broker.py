"""kafka_broker: a FastStream broker from qbd-sync's own QBD_SYNC_KAFKA_* settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from faststream import AsyncAPI
from faststream.kafka import KafkaBroker

from processors.errors import ConfigError
from processors.kit import kafka_broker


@pytest.fixture(autouse=True)
def _no_kafka_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sets the Kafka settings it needs; none leak in from the machine."""
    for name in (
        "BOOTSTRAP_SERVERS",
        "SECURITY_PROTOCOL",
        "SASL_MECHANISM",
        "SASL_USERNAME",
        "SASL_PASSWORD",
        "SSL_CAFILE",
    ):
        monkeypatch.delenv(f"QBD_SYNC_KAFKA_{name}", raising=False)


def _server(broker: KafkaBroker) -> dict[str, Any]:
    """The server the broker would connect to, as its AsyncAPI document states it."""
    server: dict[str, Any] = AsyncAPI(broker).to_specification().to_jsonable()["servers"]
    return server["development"]


def test_bootstrap_servers_come_from_the_env_file_qbd_sync_dev_writes(tmp_path: Path) -> None:
    """With nothing in the environment, `.env.dev`'s bootstrap servers are used."""
    env_file = tmp_path / ".env.dev"
    env_file.write_text("QBD_SYNC_KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:39092\n")

    broker = kafka_broker(env_file)

    assert _server(broker)["host"] == "127.0.0.1:39092"


def test_sasl_settings_become_faststream_security(monkeypatch: pytest.MonkeyPatch) -> None:
    """SASL_SSL with SCRAM-SHA-512 gives the broker SCRAM security over TLS."""
    monkeypatch.setenv("QBD_SYNC_KAFKA_BOOTSTRAP_SERVERS", "kafka.example:9096")
    monkeypatch.setenv("QBD_SYNC_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("QBD_SYNC_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("QBD_SYNC_KAFKA_SASL_USERNAME", "notifier")
    monkeypatch.setenv("QBD_SYNC_KAFKA_SASL_PASSWORD", "s3cret")

    server = _server(kafka_broker(None))

    assert server["protocol"] == "kafka-secure"
    assert server["security"] == [{"$ref": "#/components/securitySchemes/scram512"}]


def test_without_bootstrap_servers_the_error_says_how_to_get_them(tmp_path: Path) -> None:
    """No setting anywhere: a ConfigError naming the variable and `qbd-sync dev --env-file`."""
    with pytest.raises(ConfigError, match="QBD_SYNC_KAFKA_BOOTSTRAP_SERVERS") as caught:
        kafka_broker(tmp_path / "missing.env")

    assert "qbd-sync dev --env-file .env.dev" in str(caught.value)
