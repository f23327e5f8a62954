"""Settings: env prefix, .env file, CLI overrides, one-line errors, secrets kept secret."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from processors.config import load_settings, parse_duration
from processors.errors import ConfigError


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sees no QBD_SYNC_ or CONDUCTOR_ variables from the outside."""
    import os

    for key in list(os.environ):
        if key.startswith(("QBD_SYNC_", "CONDUCTOR_")):
            monkeypatch.delenv(key)


def test_defaults_match_the_contract() -> None:
    """Unset settings take the defaults of CONTRACT.md section 3.

    Three differ on purpose (README, "Defaults that differ from CONTRACT.md"): the catch-up
    interval (issue 19's two-minute recovery goal) and the two concurrency bounds (issue 16:
    a thousand companies at QuickBooks latency all in flight at once)."""
    settings = load_settings(env_file=None)

    assert settings.group_id == "qbd-sync"
    assert settings.input_topics == ["qbd.events"]
    assert settings.max_in_flight == 5000
    assert settings.max_concurrent_companies == 2000
    assert settings.http_port == 8080
    assert settings.auth_link_expiry_mins == 1440
    assert settings.catchup_interval == timedelta(minutes=1)
    assert settings.status_poll_interval == timedelta(minutes=15)
    assert settings.dlq_topic == "qbd.dlq"


def test_recovery_defaults_meet_the_two_minute_goal() -> None:
    """Parked companies are probed every minute at first, at most every 15 min, 20 per s."""
    settings = load_settings(env_file=None)

    assert settings.parked_recheck_interval == timedelta(minutes=1)
    assert settings.probe_backoff_after == timedelta(hours=1)
    assert settings.probe_max_interval == timedelta(minutes=15)
    assert settings.setup_probe_interval == timedelta(hours=1)
    assert settings.max_probes_per_second == 20


def test_environment_is_read_with_the_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    """QBD_SYNC_* and CONDUCTOR_* variables set the matching fields."""
    monkeypatch.setenv("QBD_SYNC_INPUT_TOPICS", "a.events, b.events")
    monkeypatch.setenv("QBD_SYNC_MAX_IN_FLIGHT", "50")
    monkeypatch.setenv("CONDUCTOR_SECRET_KEY", "sk_test_abc")

    settings = load_settings(env_file=None)

    assert settings.input_topics == ["a.events", "b.events"]
    assert settings.max_in_flight == 50
    assert settings.secret("conductor_secret_key") == "sk_test_abc"


def test_dotenv_file_is_read_and_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A .env file fills settings; a real environment variable overrides it."""
    env_file = tmp_path / ".env"
    env_file.write_text("QBD_SYNC_GROUP_ID=from-file\nQBD_SYNC_HTTP_PORT=9000\n")
    monkeypatch.setenv("QBD_SYNC_HTTP_PORT", "9100")

    settings = load_settings(env_file=env_file)

    assert settings.group_id == "from-file"
    assert settings.http_port == 9100


def test_cli_overrides_beat_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Values passed as overrides (CLI flags) win over the environment; None is ignored."""
    monkeypatch.setenv("QBD_SYNC_GROUP_ID", "from-env")

    settings = load_settings(env_file=None, group_id="from-flag", http_port=None)

    assert settings.group_id == "from-flag"
    assert settings.http_port == 8080


def test_malformed_setting_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A bad value gives a one-line ConfigError that names the env var."""
    monkeypatch.setenv("QBD_SYNC_MAX_CONCURRENT_COMPANIES", "lots")

    with pytest.raises(ConfigError) as info:
        load_settings(env_file=None)

    assert "QBD_SYNC_MAX_CONCURRENT_COMPANIES" in str(info.value)
    assert "\n" not in str(info.value)


def test_bad_secret_is_reported_without_its_value(monkeypatch: pytest.MonkeyPatch) -> None:
    """A malformed Conductor key is named but never echoed."""
    monkeypatch.setenv("CONDUCTOR_SECRET_KEY", "hunter2-not-a-key")

    with pytest.raises(ConfigError) as info:
        load_settings(env_file=None)

    assert "CONDUCTOR_SECRET_KEY" in str(info.value)
    assert "hunter2" not in str(info.value)


def test_secrets_do_not_appear_in_repr() -> None:
    """repr() of Settings hides the Conductor key, SASL password and DSN."""
    settings = load_settings(
        env_file=None,
        conductor_secret_key="sk_live_verysecret",
        kafka_sasl_password="saslpass",
        database_url="postgresql://u:dbpass@h/db",
    )

    text = repr(settings) + str(settings.model_dump())
    assert "verysecret" not in text
    assert "saslpass" not in text
    assert "dbpass" not in text


def test_missing_required_setting_names_variable_and_flag() -> None:
    """require() explains which variable or flag to set for the command."""
    settings = load_settings(env_file=None)

    with pytest.raises(ConfigError, match=r"QBD_SYNC_KAFKA_BOOTSTRAP_SERVERS.*--kafka-bootstrap"):
        settings.require("kafka_bootstrap_servers", command="run")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("15m", 900), ("30s", 30), ("6h", 21600), ("250ms", 0.25), ("90", 90), ("1.5h", 5400)],
)
def test_durations_parse_with_units(text: str, seconds: float) -> None:
    """Durations accept ms, s, m, h, d suffixes or bare seconds."""
    assert parse_duration(text).total_seconds() == pytest.approx(seconds)


def test_bad_duration_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    """A catch-up interval that is not a duration is a ConfigError naming it."""
    monkeypatch.setenv("QBD_SYNC_CATCHUP_INTERVAL", "soon")

    with pytest.raises(ConfigError, match="QBD_SYNC_CATCHUP_INTERVAL"):
        load_settings(env_file=None)


def test_zero_probe_interval_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    """A probe interval of zero would probe in a tight loop: a ConfigError naming it."""
    monkeypatch.setenv("QBD_SYNC_PROBE_MAX_INTERVAL", "0s")

    with pytest.raises(ConfigError, match="QBD_SYNC_PROBE_MAX_INTERVAL"):
        load_settings(env_file=None)


def test_a_status_poll_interval_of_zero_turns_the_read_back_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """QBD_SYNC_STATUS_POLL_INTERVAL takes a duration; 0 means no timer."""
    monkeypatch.setenv("QBD_SYNC_STATUS_POLL_INTERVAL", "0")

    assert load_settings(env_file=None).status_poll_interval == timedelta(0)
    assert load_settings(env_file=None, status_poll_interval="90s").status_poll_interval == (
        timedelta(seconds=90)
    )
