"""Child processes that die with us: free ports, parent-death signals, readiness waits."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO

from processors.errors import StackError

__all__ = ["ChildProcess", "free_port", "wait_until"]

_PR_SET_PDEATHSIG = 1


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that is free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(
    check: Callable[[], bool], *, timeout: float, what: str, interval: float = 0.05
) -> None:
    """Poll ``check`` until it returns True, or raise StackError naming ``what``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(interval)
    raise StackError(f"{what} did not become ready within {timeout:.0f} s")


def _die_with_parent(sig: int) -> Callable[[], None]:
    """A preexec hook asking the kernel to signal the child when its parent dies."""
    libc_name = ctypes.util.find_library("c")

    def hook() -> None:
        if libc_name is None:  # not Linux/glibc: best effort only, stop() still cleans up
            return
        libc = ctypes.CDLL(libc_name, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0)
        # New session: a Ctrl-C on the terminal reaches only us, and we stop children in order.
        os.setpgrp()

    return hook


class ChildProcess:
    """A server process we own: started with a parent-death signal, stopped on request."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        log_path: Path,
        death_signal: int = signal.SIGKILL,
        stop_signal: int = signal.SIGTERM,
        user: str | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self._argv = list(argv)
        self._log_path = log_path
        self._death_signal = death_signal
        self._stop_signal = stop_signal
        self._user = user
        self._env = env
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def pid(self) -> int | None:
        """The operating-system pid while running."""
        return self._proc.pid if self._proc else None

    def start(self) -> None:
        """Start the process; its output goes to the log file."""
        self._log = self._log_path.open("ab")
        try:
            self._proc = subprocess.Popen(
                self._argv,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent(self._death_signal),
                user=self._user,
                env=self._env,
                close_fds=True,
            )
        except OSError as exc:
            raise StackError(f"could not start {self.name} ({self._argv[0]}): {exc}") from exc

    def alive(self) -> bool:
        """True while the process runs."""
        return self._proc is not None and self._proc.poll() is None

    def check_alive(self) -> None:
        """Raise StackError with the tail of the log if the process has exited."""
        if self._proc is not None and self._proc.poll() is not None:
            raise StackError(
                f"{self.name} exited with code {self._proc.returncode}: {self.log_tail()}"
            )

    def log_tail(self, lines: int = 5) -> str:
        """The last lines of the process log, joined on one line."""
        try:
            text = self._log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return "(no log)"
        return " | ".join(text[-lines:]) or "(empty log)"

    def signal(self, sig: int) -> None:
        """Send ``sig`` to the process if it runs."""
        if self.alive() and self._proc is not None:
            with contextlib.suppress(ProcessLookupError):
                self._proc.send_signal(sig)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop gracefully, then kill after ``timeout`` seconds."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(self._stop_signal)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        if self._log is not None:
            self._log.close()
            self._log = None
