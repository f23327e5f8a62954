"""Settings: every knob of CONTRACT.md section 3, from env vars, a ``.env`` file or CLI flags.

Precedence (highest first): CLI flags, environment, ``.env`` file, defaults. Secrets are
``SecretStr`` so they never show in ``repr``, logs or error messages.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from processors.errors import ConfigError

__all__ = ["ENV_PREFIX", "Settings", "load_settings", "parse_duration"]

ENV_PREFIX = "QBD_SYNC_"

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}

# Settings whose value must never be echoed back, even inside a validation message.
_SECRET_FIELDS = frozenset(
    {"kafka_sasl_password", "conductor_secret_key", "webhook_secret", "admin_token", "database_url"}
)


def parse_duration(value: object) -> timedelta:
    """Parse ``15m``, ``30s``, ``6h``, ``250ms`` or plain seconds into a timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float):
        return timedelta(seconds=float(value))
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError("expected a duration like 30s, 15m, 6h or a number of seconds")
    number, unit = match.groups()
    return timedelta(seconds=float(number) * _UNIT_SECONDS[unit])


class Settings(BaseSettings):
    """Everything qbd-sync can be configured with."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    # Kafka
    kafka_bootstrap_servers: str | None = None
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: Path | None = None
    group_id: str = "qbd-sync"
    input_topics: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["qbd.events"])
    sync_results_topic: str = "qbd.sync-results"
    needs_attention_topic: str = "qbd.needs-attention"
    dlq_topic: str = "qbd.dlq"
    rejected_topic: str = "qbd.rejected"
    reference_topic: str = "qbd.reference"

    # PostgreSQL
    database_url: SecretStr | None = None

    # Conductor
    conductor_secret_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("CONDUCTOR_SECRET_KEY", "conductor_secret_key"),
    )
    conductor_publishable_key: str | None = Field(
        default=None,
        validation_alias=AliasChoices("CONDUCTOR_PUBLISHABLE_KEY", "conductor_publishable_key"),
    )
    conductor_base_url: str | None = None
    conductor_timeout: float = Field(default=120.0, gt=0)
    auth_link_expiry_mins: int = Field(default=1440, ge=15, le=10080)

    # Behaviour
    # Recovery of parked companies (processors.pipeline.probes): the background probe comes
    # every catchup_interval while an outage is younger than probe_backoff_after, then backs
    # off to probe_max_interval; setup problems every setup_probe_interval; a new event
    # looks when the last check is older than parked_recheck_interval.
    catchup_interval: timedelta = timedelta(minutes=1)
    probe_backoff_after: timedelta = timedelta(hours=1)
    probe_max_interval: timedelta = timedelta(minutes=15)
    setup_probe_interval: timedelta = timedelta(hours=1)
    parked_recheck_interval: timedelta = timedelta(minutes=1)
    max_probes_per_second: float = Field(default=20.0, gt=0)
    status_poll_interval: timedelta = timedelta(minutes=15)  # invoice status read-back; 0: off
    # Records held (queued undecoded, at a few hundred bytes each, or running): enough to
    # look ahead in a partition for every company's next event, so none sits idle (issue 16).
    max_in_flight: int = Field(default=5000, ge=1)
    # A ceiling, not a throttle: every company with work is called at once up to it (the
    # bound is QuickBooks' latency per company, issue 16); its connections are kept alive.
    max_concurrent_companies: int = Field(default=2000, ge=1)
    max_record_bytes: int = Field(default=1_048_576, ge=1024)
    auto_map: Literal["off", "exact"] = "off"  # map unmapped records to exact-name matches

    # HTTP
    http_port: int = Field(default=8080, ge=0, le=65535)
    http_host: str = "127.0.0.1"
    webhook_secret: SecretStr | None = None
    admin_token: SecretStr | None = None

    # Observability
    tracing: bool = False  # OpenTelemetry spans per event (API only; bring your own SDK)

    # Logs
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["auto", "json", "console"] = "auto"

    @field_validator("input_topics", mode="before")
    @classmethod
    def _split_topics(cls, value: Any) -> Any:
        if isinstance(value, str):
            topics = [part.strip() for part in value.split(",") if part.strip()]
            if not topics:
                raise ValueError("give at least one topic name")
            return topics
        return value

    @field_validator(
        "catchup_interval",
        "probe_backoff_after",
        "probe_max_interval",
        "setup_probe_interval",
        "parked_recheck_interval",
        mode="before",
    )
    @classmethod
    def _duration(cls, value: Any) -> timedelta:
        duration = parse_duration(value)
        if duration <= timedelta(0):
            raise ValueError("must be longer than zero")
        return duration

    @field_validator("status_poll_interval", mode="before")
    @classmethod
    def _duration_or_off(cls, value: Any) -> timedelta:
        duration = parse_duration(value)
        if duration < timedelta(0):
            raise ValueError("must be 0 (off) or longer")
        return duration

    @field_validator("conductor_secret_key")
    @classmethod
    def _secret_key_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("sk_"):
            raise ValueError("must start with sk_ (a Conductor secret key)")
        return value

    def require(self, *names: str, command: str) -> None:
        """Raise ConfigError naming the first of ``names`` that is unset."""
        for name in names:
            if getattr(self, name) is None:
                raise ConfigError(
                    f"{env_name(name)} is required for `qbd-sync {command}` "
                    f"(set it in the environment or .env, or pass --{name.replace('_', '-')})"
                )

    def secret(self, name: str) -> str:
        """The plain value of a secret setting (only for handing to a client library)."""
        value = getattr(self, name)
        if value is None:
            raise ConfigError(f"{env_name(name)} is not set")
        plain: str = value.get_secret_value()
        return plain


def env_name(field: str) -> str:
    """The environment variable that sets ``field``."""
    if field in ("conductor_secret_key", "conductor_publishable_key"):
        return field.upper()
    return ENV_PREFIX + field.upper()


def load_settings(env_file: str | Path | None = ".env", **overrides: Any) -> Settings:
    """Build Settings from the environment plus non-None ``overrides`` (CLI flags).

    Raises ConfigError with one line naming the offending variable on bad input.
    """
    given = {key: value for key, value in overrides.items() if value is not None}
    try:
        return Settings(_env_file=env_file, **given)
    except ValidationError as exc:
        raise ConfigError(_one_line(exc)) from None


def _one_line(exc: ValidationError) -> str:
    """Summarise a ValidationError as ``VAR: problem`` without echoing secret values."""
    parts = []
    for error in exc.errors():
        field = str(error["loc"][0]).lower() if error["loc"] else "settings"
        message = error["msg"].removeprefix("Value error, ")
        shown = ""
        if field not in _SECRET_FIELDS and "input" in error and isinstance(error["input"], str):
            shown = f" (got {error['input']!r})"
        parts.append(f"{env_name(field)}: {message}{shown}")
    return "; ".join(parts)
