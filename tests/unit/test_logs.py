"""Structured logs never carry secrets."""

from __future__ import annotations

import json

import pytest
import structlog

from processors.logs import configure_logging, redact


def test_redact_masks_conductor_keys_and_url_passwords() -> None:
    """Keys like sk_live_... and passwords inside DSNs are masked in free text."""
    text = redact("key sk_live_abcdef123 and postgresql://app:s3cret@db:5432/x")

    assert "abcdef123" not in text
    assert "s3cret" not in text
    assert "postgresql://app:" in text


def test_json_logs_redact_secret_fields(capsys: pytest.CaptureFixture[str]) -> None:
    """A log line with a secret-named field or a key in a message is emitted redacted."""
    configure_logging("info", "json")
    structlog.get_logger().info(
        "connecting", api_key="sk_test_zzz999", note="using sk_live_qqq111", company_id="acct_1"
    )

    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["api_key"] == "**redacted**"
    assert "qqq111" not in line["note"]
    assert line["company_id"] == "acct_1"
    assert line["event"] == "connecting"
