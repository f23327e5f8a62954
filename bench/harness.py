"""What every scenario needs: the simulator and processors as measured subprocesses, topics,
workloads and the waits between them.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import psutil
from aiokafka import AIOKafkaProducer

from bench.model import LatencyModel, Window, window_of
from processors.devstack import DEV_SECRET_KEY, DevStack
from processors.devstack.procs import free_port
from processors.testing import create_topics

__all__ = [
    "CREATE_PATH",
    "HEALTH_PATH",
    "Measured",
    "ProcessTree",
    "Simulator",
    "Topics",
    "customer_events",
    "produce",
    "sync_requests",
    "until",
]

CREATE_PATH = "/v1/quickbooks-desktop/customers"
HEALTH_PATH = "/v1/quickbooks-desktop/health-check"
_ROOT = Path(__file__).resolve().parent.parent


async def until(
    check: Callable[[], Awaitable[bool]], *, timeout: float, what: str, interval: float = 0.1
) -> None:
    """Await ``check`` until it holds; raise TimeoutError naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"bench: timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(interval)


class Measured:
    """A subprocess whose CPU seconds and peak RSS we read with psutil."""

    def __init__(self, name: str, argv: Sequence[str], env: dict[str, str], log: Path) -> None:
        self.name = name
        self._log = log.open("ab")
        self._popen = subprocess.Popen(
            list(argv),
            env={**os.environ, **env},
            cwd=log.parent,  # never pick up a developer's .env
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self._process = psutil.Process(self._popen.pid)
        self.peak_rss = 0

    @property
    def pid(self) -> int:
        """The process id."""
        return self._popen.pid

    def cpu(self) -> float:
        """User + system CPU seconds used so far."""
        times = self._process.cpu_times()
        return float(times.user + times.system)

    def rss(self) -> int:
        """Resident set size now, in bytes (and remember the peak)."""
        rss = int(self._process.memory_info().rss)
        self.peak_rss = max(self.peak_rss, rss)
        return rss

    def check_alive(self) -> None:
        """Raise if the process died (its log says why)."""
        if self._popen.poll() is not None:
            raise RuntimeError(
                f"{self.name} exited with {self._popen.returncode}; see {self._log.name}"
            )

    def kill(self) -> None:
        """SIGKILL: no shutdown, no final commit."""
        if self._popen.poll() is None:
            self._popen.send_signal(signal.SIGKILL)
        self._popen.wait(timeout=10)
        self._log.close()

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM, then SIGKILL when it takes longer than ``timeout``."""
        if self._popen.poll() is None:
            self._popen.terminate()
            try:
                self._popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self._popen.kill()
                self._popen.wait(timeout=10)
        self._log.close()


class ProcessTree:
    """CPU seconds of a server process and everything under it, so far.

    PostgreSQL forks a backend per connection: the live ones are summed, and the ones that
    already exited are in the postmaster's ``children_*`` times. Tansu is one process.
    """

    def __init__(self, name: str, pid: int) -> None:
        self.name = name
        self._root = psutil.Process(pid)

    def cpu(self) -> float:
        """User + system CPU seconds of the process, its live children and reaped children."""
        try:
            times = self._root.cpu_times()
            children = self._root.children(recursive=True)
        except psutil.NoSuchProcess:
            return 0.0
        total = times.user + times.system + times.children_user + times.children_system
        for child in children:
            try:
                child_times = child.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += child_times.user + child_times.system
        return float(total)


async def sample_rss(processes: Sequence[Measured], stop: asyncio.Event) -> None:
    """Sample each process's RSS every 50 ms until ``stop`` is set (peak_rss keeps the max)."""
    while not stop.is_set():
        for process in processes:
            process.rss()
        await asyncio.sleep(0.05)


class Simulator:
    """``python -m qbdsim`` in a subprocess, so its CPU is never counted as ours."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.process = Measured(
            "simulator",
            [
                sys.executable,
                "-m",
                "qbdsim",
                "--port",
                str(self.port),
                "--auto-connect",
                "--seed",
                "7",
            ],
            {},
            workdir / "qbdsim.log",
        )
        self._http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{self.port}/_sim", timeout=60)

    @property
    def base_url(self) -> str:
        """The Conductor API base URL for SDK clients."""
        return f"http://127.0.0.1:{self.port}/v1"

    async def start(self) -> None:
        """Wait until the control API answers."""

        async def answers() -> bool:
            self.process.check_alive()
            try:
                return (await self._http.get("/faults")).status_code == 200
            except httpx.TransportError:
                return False

        await until(answers, timeout=30, what="the simulator")

    async def stop(self) -> None:
        """Stop the subprocess."""
        await self._http.aclose()
        self.process.stop()

    async def reset(self) -> None:
        """Forget every end-user, object and log entry (between scenarios)."""
        (await self._http.post("/reset")).raise_for_status()

    async def set_state(self, companies: Sequence[str], state: str) -> None:
        """Put each company file in ``state`` (creating its end-user, sourceId = its id)."""
        for start in range(0, len(companies), 50):
            chunk = companies[start : start + 50]
            responses = await asyncio.gather(
                *(self._http.post(f"/companies/{c}/state", json={"state": state}) for c in chunk)
            )
            for response in responses:
                response.raise_for_status()

    async def latency(
        self, model: LatencyModel, per_company: dict[str, LatencyModel] | None = None
    ) -> None:
        """Set the latency model (optionally per company)."""
        body = model.faults()
        if per_company:
            body["company_latency_ms"] = {
                company: [m.low_ms, m.high_ms] for company, m in per_company.items()
            }
        (await self._http.post("/faults", json=body)).raise_for_status()

    async def log(self) -> list[dict[str, Any]]:
        """Every request the simulator served so far, in order."""
        response = await self._http.get("/log")
        response.raise_for_status()
        data: list[dict[str, Any]] = orjson.loads(response.content)["data"]
        return data

    async def writes(self, companies: set[str] | None = None) -> int:
        """Committed QuickBooks writes so far (of ``companies``, or of all)."""
        response = await self._http.get("/companies")
        response.raise_for_status()
        stats = orjson.loads(response.content)["data"]
        return sum(
            s["committed_writes"]
            for s in stats
            if companies is None or s["end_user_id"] in companies
        )

    async def creates_window(
        self, since: int, companies: set[str] | None = None
    ) -> tuple[Window, int]:
        """Window of successful customer creates after log entry ``since``; new log length."""
        log = await self.log()
        creates = [
            e
            for e in log[since:]
            if e["method"] == "POST"
            and e["path"] == CREATE_PATH
            and e["status"] == 200
            and (companies is None or e["end_user_id"] in companies)
        ]
        return window_of(creates), len(log)


@dataclass
class Topics:
    """One scenario's topics and group, with ``partitions`` each."""

    tag: str
    partitions: int

    @classmethod
    def new(cls, partitions: int) -> Topics:
        """Unique names for one run."""
        return cls(uuid.uuid4().hex[:8], partitions)

    @property
    def input(self) -> str:
        """The inbound topic."""
        return f"bench-events-{self.tag}"

    @property
    def group(self) -> str:
        """The consumer group of whatever consumes ``input``."""
        return f"bench-{self.tag}"

    def names(self) -> dict[str, str]:
        """Settings overrides naming this run's topics and group."""
        return {
            "group_id": self.group,
            "input_topics": self.input,
            "sync_results_topic": f"bench-results-{self.tag}",
            "needs_attention_topic": f"bench-attention-{self.tag}",
            "dlq_topic": f"bench-dlq-{self.tag}",
            "rejected_topic": f"bench-rejected-{self.tag}",
            "reference_topic": f"bench-reference-{self.tag}",
        }

    async def create(self, stack: DevStack) -> None:
        """Create every topic of this run on the broker."""
        await create_topics(stack.settings(**self.names()), self.partitions)

    def processor_env(self, stack: DevStack, simulator: Simulator, **extra: Any) -> dict[str, str]:
        """Environment for ``python -m processors run`` on this run's topics."""
        env = {
            "QBD_SYNC_KAFKA_BOOTSTRAP_SERVERS": stack.broker.bootstrap_servers,
            "QBD_SYNC_DATABASE_URL": stack.postgres.dsn,
            "QBD_SYNC_CONDUCTOR_BASE_URL": simulator.base_url,
            "CONDUCTOR_SECRET_KEY": DEV_SECRET_KEY,
            "CONDUCTOR_PUBLISHABLE_KEY": "pk_test_qbd_sync_dev",
            "QBD_SYNC_HTTP_PORT": str(free_port()),
            "QBD_SYNC_LOG_FORMAT": "json",
            # BENCH_PYTHONPATH lets you measure a patched build (e.g. a sitecustomize).
            "PYTHONPATH": os.pathsep.join(
                filter(None, [os.environ.get("BENCH_PYTHONPATH"), str(_ROOT)])
            ),
        }
        for name, value in {**self.names(), **extra}.items():
            env[f"QBD_SYNC_{name.upper()}"] = str(value)
        return env


def companies_for(tag: str, count: int) -> list[str]:
    """``count`` company ids; each is also its simulator end-user id and sourceId."""
    return [f"end_usr_{tag}{i:04d}" for i in range(count)]


_TEMPLATE: dict[str, Any] = {
    "specversion": "1.0",
    "type": "customer.upserted",
    "source": "bench",
    "time": "2026-11-24T10:00:00Z",
}


def customer_events(
    companies: Sequence[str], per_company: int, tag: str
) -> list[tuple[bytes, bytes]]:
    """``(key, value)`` records: ``per_company`` new customers each, companies interleaved."""
    records = []
    for n in range(per_company):
        for company in companies:
            event_id = f"evt-{tag}-{company[-4:]}-{n}"
            event = {
                **_TEMPLATE,
                "id": event_id,
                "companyid": company,
                "data": {"customer_id": f"cus_{tag}_{n}", "name": f"Bench {tag} {n}"},
            }
            records.append((company.encode(), orjson.dumps(event)))
    return records


def sync_requests(companies: Sequence[str], tag: str) -> list[tuple[bytes, bytes]]:
    """One ``sync.requested`` per company (the user pressed "Sync now")."""
    return [
        (
            company.encode(),
            orjson.dumps(
                {
                    **_TEMPLATE,
                    "type": "sync.requested",
                    "id": f"sync-{tag}-{company}",
                    "companyid": company,
                    "data": {},
                }
            ),
        )
        for company in companies
    ]


async def produce(bootstrap: str, topic: str, records: Sequence[tuple[bytes, bytes]]) -> None:
    """Publish ``records`` in order, batched."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        enable_idempotence=False,
        linger_ms=20,
        max_batch_size=1_048_576,
        max_request_size=8_388_608,
    )
    await producer.start()
    try:
        for key, value in records:
            await producer.send(topic, value, key=key)
        await producer.flush()
    finally:
        await producer.stop()
