"""How many Conductor requests per second the simulator serves with zero latency.

Starts ``python -m qbdsim`` in a subprocess, connects many end users, then runs concurrent
httpx clients (in several processes, so the client side is not the bottleneck) issuing a mix
of creates, retrieves, lists and health checks. Prints the overall requests per second.

    .venv/bin/python bench/simulator_throughput.py --duration 10 --processes 2
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import time
from typing import Any

import httpx


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cpu_seconds(pid: int) -> float | None:
    """Return the user+system CPU seconds a process has used (Linux only)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wait_until_listening(port: int, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"simulator did not listen on {port} within {timeout_s} s")


class _RawConnection:
    """A minimal HTTP/1.1 keep-alive client, so the client side costs less CPU than the server."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, bytes]:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        assert self._reader is not None
        lines = [f"{method} {path} HTTP/1.1", f"host: {self.host}:{self.port}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        lines.append(f"content-length: {len(body)}")
        self._writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        head = await self._reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        return status, await self._reader.readexactly(length)

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()


class _HttpxConnection:
    def __init__(self, host: str, port: int) -> None:
        self._client = httpx.AsyncClient(base_url=f"http://{host}:{port}", timeout=30)

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, bytes]:
        response = await self._client.request(method, path, headers=headers, content=body or None)
        return response.status_code, response.content

    async def close(self) -> None:
        await self._client.aclose()


async def _worker_loop(
    port: int, end_users: list[str], concurrency: int, duration_s: float, client: str
) -> tuple[int, int, float]:
    started = time.monotonic()
    deadline = started + duration_s
    done = errors = 0
    qbd = "/v1/quickbooks-desktop"

    async def one(slot: int) -> None:
        nonlocal done, errors
        factory = _RawConnection if client == "raw" else _HttpxConnection
        connection = factory("127.0.0.1", port)
        headers = {
            "authorization": "Bearer sk_test_bench",
            "conductor-end-user-id": end_users[slot % len(end_users)],
            "content-type": "application/json",
        }
        n = 0
        created: list[str] = []
        try:
            while time.monotonic() < deadline:
                n += 1
                kind = n % 4
                if kind == 0:
                    body = f'{{"name":"Bench {slot}-{n}"}}'.encode()
                    status, raw = await connection.request(
                        "POST", f"{qbd}/customers", headers, body
                    )
                    if status == 200:
                        created.append(json.loads(raw)["id"])
                elif kind == 1 and created:
                    path = f"{qbd}/customers/{created[-1]}"
                    status, _ = await connection.request("GET", path, headers, b"")
                elif kind == 2:
                    path = f"{qbd}/customers?limit=10"
                    status, _ = await connection.request("GET", path, headers, b"")
                else:
                    path = f"{qbd}/health-check"
                    status, _ = await connection.request("GET", path, headers, b"")
                done += 1
                errors += status != 200
        finally:
            await connection.close()

    await asyncio.gather(*(one(slot) for slot in range(concurrency)))
    return done, errors, time.monotonic() - started


def _worker(args: tuple[int, list[str], int, float, str], results: Any) -> None:
    results.put(asyncio.run(_worker_loop(*args)))


def main() -> None:
    """Run the benchmark and print requests per second."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--processes", type=int, default=2, help="client processes")
    parser.add_argument(
        "--concurrency", type=int, default=32, help="in-flight requests per process"
    )
    parser.add_argument("--end-users", type=int, default=64)
    parser.add_argument(
        "--client",
        choices=("raw", "httpx"),
        default="raw",
        help="raw: a minimal keep-alive HTTP/1.1 client (httpx itself needs ~1 ms of CPU per "
        "request, so on 2 cores it measures httpx, not the simulator)",
    )
    args = parser.parse_args()

    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "qbdsim", "--port", str(port), "--auto-connect", "--seed", "1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until_listening(port)
        control = f"http://127.0.0.1:{port}/_sim"
        end_users = [f"end_usr_bench{i:04d}" for i in range(args.end_users)]
        with httpx.Client() as http:
            for end_user in end_users:
                http.post(f"{control}/companies/{end_user}/state", json={"state": "online"})
        results: Any = multiprocessing.get_context("spawn").Queue()
        per_process = [end_users[i :: args.processes] for i in range(args.processes)]
        workers = [
            multiprocessing.get_context("spawn").Process(
                target=_worker,
                args=((port, users, args.concurrency, args.duration, args.client), results),
            )
            for users in per_process
        ]
        cpu_before = _cpu_seconds(server.pid)
        for worker in workers:
            worker.start()
        totals = [results.get(timeout=args.duration + 60) for _ in workers]
        for worker in workers:
            worker.join()
        cpu_after = _cpu_seconds(server.pid)
        server_cpu_s = None if cpu_before is None or cpu_after is None else cpu_after - cpu_before
    finally:
        server.terminate()
        server.wait(timeout=10)
    requests = sum(done for done, _, _ in totals)
    errors = sum(errs for _, errs, _ in totals)
    # Each process measures its own run, so interpreter start-up is not counted.
    elapsed = max(seconds for _, _, seconds in totals)
    print(
        f"simulator throughput: {requests / elapsed:,.0f} requests/s "
        f"({requests} requests, {errors} errors, {elapsed:.1f} s, {args.client} client, "
        f"{args.processes}x{args.concurrency} concurrent, {args.end_users} end users)"
    )
    if server_cpu_s:
        print(
            f"simulator CPU: {server_cpu_s * 1e6 / requests:,.0f} us per request "
            f"(capacity on one core ~ {requests / server_cpu_s:,.0f} requests/s)"
        )


if __name__ == "__main__":
    main()
