"""`qbd-sync dev` starts the stack, publishes its settings, and leaves no orphans behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from processors.testing import wait_for

_KEYS = {
    "QBD_SYNC_KAFKA_BOOTSTRAP_SERVERS",
    "QBD_SYNC_DATABASE_URL",
    "QBD_SYNC_CONDUCTOR_BASE_URL",
    "CONDUCTOR_SECRET_KEY",
    "QBD_SYNC_HTTP_PORT",
}


def _start_dev(env_file: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "processors",
            "dev",
            "--env-file",
            str(env_file),
            "--partitions",
            "2",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _descendants(pid: int) -> list[psutil.Process]:
    """Child processes that still exist, with their names cached (they may exit any time)."""
    found = []
    for child in psutil.Process(pid).children(recursive=True):
        try:
            child.name()
        except psutil.NoSuchProcess:
            continue
        found.append(child)
    return found


def _wait_ready(proc: subprocess.Popen[str], env_file: Path) -> None:
    wait_for(lambda: env_file.exists() or proc.poll() is not None, timeout=60, what="the env file")
    if proc.poll() is not None:
        raise AssertionError(f"qbd-sync dev exited early: {proc.communicate()[1]}")


def _read_env(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines())


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_dev_writes_settings_and_stops_cleanly_on_signal(tmp_path: Path, sig: int) -> None:
    """The env file appears only when ready, and a signal stops every child process."""
    env_file = tmp_path / "dev.env"
    proc = _start_dev(env_file)
    try:
        _wait_ready(proc, env_file)
        children = _descendants(proc.pid)
        names = {child.name() for child in children}
        settings = _read_env(env_file)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    gone, alive = psutil.wait_procs(children, timeout=15)

    assert proc.returncode == 0, err
    assert set(settings) == _KEYS
    assert int(settings["QBD_SYNC_HTTP_PORT"]) > 0
    assert {line.split("=", 1)[0] for line in out.splitlines() if "=" in line} == _KEYS
    assert {"tansu", "postgres"} <= names
    assert alive == []
    assert len(gone) == len(children)


def test_dev_children_die_when_the_parent_is_killed(tmp_path: Path) -> None:
    """kill -9 of `qbd-sync dev` takes the broker and PostgreSQL down with it."""
    env_file = tmp_path / "dev.env"
    proc = _start_dev(env_file)
    try:
        _wait_ready(proc, env_file)
        children = [
            child for child in _descendants(proc.pid) if child.name() in ("tansu", "postgres")
        ]
        names = {child.name() for child in children}
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    _, alive = psutil.wait_procs(children, timeout=20)

    assert names == {"tansu", "postgres"}
    assert alive == []
