"""CPU per Conductor request of each HTTP transport, from 10 to 2,000 requests in flight.

The simulator runs in its own process with a latency that grows with the number in flight
(so every transport sees the same request rate and the simulator is never the wall); this
process runs ``N`` workers, each calling ``customers.create`` for its own company file one
request at a time (as qbd-sync's lanes do), through ``conductor-py`` with the transport
under test. What is measured is this process's CPU time per completed request.

    .venv/bin/python -m bench.transport [--seconds 12] [--in-flight 10 100 1000 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import conductor
import httpx

from bench.harness import Simulator
from bench.model import LatencyModel

__all__ = ["TRANSPORTS", "measure"]

_RATE = 400.0  # requests per second the latency is chosen for, whatever the in-flight count
_KEY = "sk_test_bench"

Client = Any
MakeClients = Callable[[str, int], Awaitable[list[Client]]]


async def _sdk_default(base_url: str, in_flight: int) -> list[Client]:
    return [conductor.AsyncConductor(api_key=_KEY, base_url=base_url, max_retries=0)]


async def _httpx_sized(base_url: str, in_flight: int) -> list[Client]:
    limits = httpx.Limits(max_connections=in_flight, max_keepalive_connections=in_flight)
    http = conductor.DefaultAsyncHttpxClient(limits=limits, timeout=120)
    return [
        conductor.AsyncConductor(api_key=_KEY, base_url=base_url, max_retries=0, http_client=http)
    ]


async def _httpx_sharded(base_url: str, in_flight: int, per_shard: int = 32) -> list[Client]:
    shards = max(1, -(-in_flight // per_shard))
    limits = httpx.Limits(max_connections=per_shard, max_keepalive_connections=per_shard)
    return [
        conductor.AsyncConductor(
            api_key=_KEY,
            base_url=base_url,
            max_retries=0,
            http_client=conductor.DefaultAsyncHttpxClient(limits=limits, timeout=120),
        )
        for _ in range(shards)
    ]


async def _aiohttp(base_url: str, in_flight: int) -> list[Client]:
    limits = httpx.Limits(max_connections=in_flight, max_keepalive_connections=in_flight)
    return [
        conductor.AsyncConductor(
            api_key=_KEY,
            base_url=base_url,
            max_retries=0,
            http_client=conductor.DefaultAioHttpClient(limits=limits, timeout=120),
        )
    ]


TRANSPORTS: dict[str, MakeClients] = {
    "sdk-default": _sdk_default,
    "httpx-sized": _httpx_sized,
    "httpx-sharded": _httpx_sharded,
    "aiohttp": _aiohttp,
}


async def measure(
    sim: Simulator, transport: str, in_flight: int, seconds: float
) -> dict[str, float]:
    """Requests per second and this process's CPU ms per request for one transport."""
    companies = [f"tr-{in_flight}-{n}" for n in range(in_flight)]
    await sim.set_state(companies, "online")
    mean_s = in_flight / _RATE
    await sim.latency(LatencyModel(mean_s * 500, mean_s * 1500))
    clients = await TRANSPORTS[transport](sim.base_url, in_flight)
    done = 0
    names = itertools.count()
    stop = asyncio.Event()

    async def worker(index: int) -> None:
        nonlocal done
        client = clients[index % len(clients)]
        company = companies[index]
        while not stop.is_set():
            await client.qbd.customers.create(
                conductor_end_user_id=company, name=f"C {next(names)}"
            )
            done += 1

    tasks = [asyncio.create_task(worker(i)) for i in range(in_flight)]
    await asyncio.sleep(mean_s * 3)  # warm up: connections open, every worker running
    started_done, started_wall, started_cpu = done, time.perf_counter(), time.process_time()
    await asyncio.sleep(seconds)
    requests = done - started_done
    wall = time.perf_counter() - started_wall
    cpu = time.process_time() - started_cpu
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    for client in clients:
        await client.close()
    return {"rate": requests / wall, "cpu_ms": 1000 * cpu / max(requests, 1)}


async def _main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="qbd-transport-") as tmp:
        sim = Simulator(Path(tmp))
        await sim.start()
        try:
            print(f"{'transport':<14} {'in flight':>9} {'req/s':>8} {'CPU ms/req':>11}")
            for in_flight in args.in_flight:
                for transport in args.transports:
                    found = await measure(sim, transport, in_flight, args.seconds)
                    print(
                        f"{transport:<14} {in_flight:>9} {found['rate']:>8.0f} "
                        f"{found['cpu_ms']:>11.2f}",
                        flush=True,
                    )
                    await sim.reset()
        finally:
            await sim.stop()


def main() -> None:
    """Parse arguments and print one row per transport and in-flight count."""
    parser = argparse.ArgumentParser(prog="python -m bench.transport", description=__doc__)
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--in-flight", type=int, nargs="+", default=[10, 100, 1000, 2000])
    parser.add_argument("--transports", nargs="+", default=list(TRANSPORTS))
    asyncio.run(_main(parser.parse_args()))


if __name__ == "__main__":
    main()
