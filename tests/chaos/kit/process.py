"""The processor as a child process: ``python -m processors run``, killed with real signals."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

import orjson
from pydantic import SecretStr

from processors.config import Settings, env_name
from processors.testing import testing_env

__all__ = ["ProcessorProcess", "settings_env"]


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment variables that reproduce ``settings`` in a child process."""
    env = {}
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if value is None:
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        elif isinstance(value, list):
            value = ",".join(value)
        elif isinstance(value, timedelta):
            value = f"{value.total_seconds()}s"
        env[env_name(name)] = str(value)
    return env


def _die_with_parent() -> None:
    """In the child: SIGKILL it when the test process dies, so no processor is orphaned."""
    libc_name = ctypes.util.find_library("c")
    if libc_name is not None:
        ctypes.CDLL(libc_name, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)


class ProcessorProcess:
    """``python -m processors run`` with ``settings`` in its environment, logging to a file."""

    def __init__(self, settings: Settings, log_path: Path, **env: str) -> None:
        self._env = {
            **os.environ,
            **settings_env(settings),
            "QBD_SYNC_LOG_FORMAT": "json",
            "QBD_SYNC_HTTP_PORT": "0",
            **testing_env(),
            **env,
        }
        self.log_path = log_path
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._log_start = 0

    def start(self) -> ProcessorProcess:
        """Start the processor (returns at once; see ``wait_started``)."""
        self._log = self.log_path.open("ab")
        self._log_start = self.log_path.stat().st_size
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "processors", "run"],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=self._env,
            cwd=self.log_path.parent,
            preexec_fn=_die_with_parent,
        )
        return self

    @property
    def pid(self) -> int | None:
        """The child's pid while it has been started."""
        return None if self._proc is None else self._proc.pid

    @property
    def alive(self) -> bool:
        """Whether the child runs."""
        return self._proc is not None and self._proc.poll() is None

    @property
    def returncode(self) -> int | None:
        """The exit code once the child has exited."""
        return None if self._proc is None else self._proc.poll()

    def logs(self) -> list[dict[str, Any]]:
        """This run's JSON log lines (lines that are not JSON are skipped)."""
        with self.log_path.open("rb") as handle:
            handle.seek(self._log_start)
            lines = handle.read().splitlines()
        parsed = []
        for line in lines:
            with contextlib.suppress(orjson.JSONDecodeError):
                entry = orjson.loads(line)
                if isinstance(entry, dict):
                    parsed.append(entry)
        return parsed

    def find_log(self, event: str) -> dict[str, Any] | None:
        """The first log entry of this run whose ``event`` is ``event``."""
        return next((e for e in self.logs() if e.get("event") == event), None)

    def wait_log(self, event: str, *, timeout: float = 60.0) -> dict[str, Any]:
        """Wait for a log entry ``event``; fail early (with the log tail) if the child exits."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.find_log(event)
            if found is not None:
                return found
            if not self.alive:
                exited = f"qbd-sync exited ({self.returncode}) before {event!r}"
                raise RuntimeError(f"{exited}: {self.tail()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {event!r} from qbd-sync within {timeout:.0f} s")
            time.sleep(0.05)

    def wait_started(self, *, timeout: float = 60.0) -> int:
        """Wait until the processor is up; return its HTTP port."""
        return int(self.wait_log("qbd-sync started", timeout=timeout)["http_port"])

    def tail(self, lines: int = 8) -> str:
        """The last lines of the log, for failure messages."""
        text = self.log_path.read_bytes()[self._log_start :].decode(errors="replace")
        return " | ".join(text.strip().splitlines()[-lines:])

    def kill(self) -> None:
        """SIGKILL: no shutdown, no commit, no goodbye to the group."""
        self._signal_and_wait(signal.SIGKILL, 10.0)

    def terminate(self, timeout: float = 60.0) -> int | None:
        """SIGTERM (graceful shutdown), then SIGKILL after ``timeout``; the exit code."""
        self._signal_and_wait(signal.SIGTERM, timeout)
        return self.returncode

    def _signal_and_wait(self, sig: int, timeout: float) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(sig)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        if self._log is not None:
            self._log.close()
            self._log = None
