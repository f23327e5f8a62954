"""The README's curl examples work against `qbd-sync dev`, exactly as written."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from processors.testing import wait_for

_README = Path(__file__).resolve().parents[2] / "README.md"


def _curl_block() -> str:
    text = _README.read_text()
    start = text.index("<!-- curl-examples -->")
    body = text.index("```sh", start) + len("```sh")
    return text[body : text.index("```", body)]


def test_readme_curl_examples_run_against_qbd_sync_dev(tmp_path: Path) -> None:
    """Health, readiness, metrics, a signed webhook event and the company API all answer."""
    env = {**os.environ, "QBD_SYNC_WEBHOOK_SECRET": "dev-secret"}
    dev = subprocess.Popen(
        [sys.executable, "-m", "processors", "dev", "--env-file", ".env.dev", "--http-port", "0",
         "--partitions", "2"],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_for(lambda: (tmp_path / ".env.dev").exists() or dev.poll() is not None,
                 timeout=90, what="qbd-sync dev to be ready")  # fmt: skip
        assert dev.poll() is None, dev.communicate()[1]
        result = subprocess.run(
            ["bash", "-eo", "pipefail", "-c", _curl_block()],
            cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    finally:
        dev.send_signal(signal.SIGTERM)
        dev.communicate(timeout=60)

    assert result.returncode == 0, result.stderr
    assert '{"status":"ok"}' in result.stdout
    assert '"ready":true' in result.stdout
    assert '"accepted":1' in result.stdout
    assert '"company_id":"acct_curl"' in result.stdout
    assert '"healthy":true' in result.stdout
