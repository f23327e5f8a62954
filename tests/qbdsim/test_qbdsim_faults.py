"""Injected faults: transient errors, rate limits, ambiguous writes, latency and the queue."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import conductor
import pytest
from conductor import AsyncConductor, Conductor

from processors.testing import wait_for
from qbdsim import SimulatorServer

from .conftest import API_KEY


@pytest.mark.parametrize("status", [500, 503])
def test_injected_5xx_is_an_internal_server_error(
    status: int, client: Conductor, end_user: str, sim: SimulatorServer
) -> None:
    """An injected 5xx reaches the SDK as InternalServerError and writes nothing."""
    sim.set_faults(fail_next=1, status=status)

    with pytest.raises(conductor.InternalServerError) as caught:
        client.qbd.customers.create(name="Acme", conductor_end_user_id=end_user)

    assert caught.value.status_code == status
    assert sim.objects(end_user, "customers") == []


def test_rate_limit_is_429_with_retry_after(
    client: Conductor, end_user: str, sim: SimulatorServer
) -> None:
    """An injected rate limit is a RateLimitError whose response says when to retry."""
    sim.set_faults(rate_limit_next=1, retry_after_s=7)

    with pytest.raises(conductor.RateLimitError) as caught:
        client.qbd.customers.list(conductor_end_user_id=end_user)

    assert caught.value.response.headers["retry-after"] == "7"


def test_ambiguous_write_that_hangs_is_committed(sim: SimulatorServer, end_user: str) -> None:
    """A hung write times out on the client but the customer is in the company file."""
    sim.set_faults(ambiguous_next=1, ambiguous_mode="hang")

    with (
        Conductor(api_key=API_KEY, base_url=sim.base_url, max_retries=0, timeout=0.5) as short,
        pytest.raises(conductor.APITimeoutError),
    ):
        short.qbd.customers.create(name="Acme", conductor_end_user_id=end_user)

    assert [c["name"] for c in sim.objects(end_user, "customers")] == ["Acme"]


def test_ambiguous_write_that_drops_is_committed(
    client: Conductor, end_user: str, sim: SimulatorServer
) -> None:
    """A dropped connection after the commit is an APIConnectionError, the invoice exists."""
    customer = client.qbd.customers.create(name="Acme", conductor_end_user_id=end_user)
    sim.set_faults(ambiguous_next=1, ambiguous_mode="drop")

    with pytest.raises(conductor.APIConnectionError):
        client.qbd.invoices.create(
            customer_id=customer.id, transaction_date="2024-10-01", conductor_end_user_id=end_user
        )

    assert len(sim.objects(end_user, "invoices")) == 1
    assert sim.log()[-1]["ambiguous"] is True


async def test_one_company_at_a_time_is_serialised(
    aclient: AsyncConductor, end_user: str, sim: SimulatorServer
) -> None:
    """Two concurrent calls to one company file take twice the latency: QuickBooks queues them."""
    sim.set_faults(company_latency_ms={end_user: [300, 300]})
    started = time.perf_counter()

    await asyncio.gather(
        aclient.qbd.health_check(conductor_end_user_id=end_user),
        aclient.qbd.health_check(conductor_end_user_id=end_user),
    )

    assert time.perf_counter() - started >= 0.6
    assert sim.stats(end_user)["max_in_flight"] == 1


async def test_different_companies_run_in_parallel(
    aclient: AsyncConductor, sim: SimulatorServer
) -> None:
    """Two companies' calls overlap: the queue is per company file."""
    for end_user in ("end_usr_parallel1", "end_usr_parallel2"):
        sim.connect(end_user)
    sim.set_faults(latency_ms=[300, 300])
    started = time.perf_counter()

    await asyncio.gather(
        aclient.qbd.health_check(conductor_end_user_id="end_usr_parallel1"),
        aclient.qbd.health_check(conductor_end_user_id="end_usr_parallel2"),
    )

    assert time.perf_counter() - started < 0.55


def test_error_rate_is_reproducible_with_a_seed(
    client: Conductor, end_user: str, sim: SimulatorServer
) -> None:
    """The same seed and faults fail the same requests after a reset."""

    def outcomes() -> list[bool]:
        sim.connect(end_user)
        sim.set_faults(error_rate=0.5)
        results = []
        for _ in range(20):
            try:
                client.qbd.health_check(conductor_end_user_id=end_user)
                results.append(True)
            except conductor.InternalServerError:
                results.append(False)
        return results

    first = outcomes()
    sim.reset()
    second = outcomes()

    assert first == second
    assert 0 < first.count(False) < 20


def test_stats_count_requests_per_company(
    client: Conductor, end_user: str, sim: SimulatorServer
) -> None:
    """The stats endpoint counts each operation and committed write."""
    client.qbd.customers.create(name="Acme", conductor_end_user_id=end_user)
    client.qbd.customers.list(conductor_end_user_id=end_user)

    stats = sim.stats(end_user)

    assert stats["by_operation"] == {"create customers": 1, "list customers": 1}
    assert stats["committed_writes"] == 1


def test_log_records_requests_in_order(
    client: Conductor, end_user: str, sim: SimulatorServer
) -> None:
    """The log lists every Conductor request in order, with status and error code."""
    client.qbd.customers.create(name="Acme", conductor_end_user_id=end_user)
    sim.set_state(end_user, "offline")
    with pytest.raises(conductor.InternalServerError):
        client.qbd.customers.list(conductor_end_user_id=end_user)

    log = sim.log()

    assert [(e["method"], e["status"], e["error_code"]) for e in log] == [
        ("POST", 200, None),
        ("GET", 502, "QBD_CONNECTION_ERROR"),
    ]
    assert log[0]["end_user_id"] == end_user


async def test_stats_tell_a_write_in_flight_from_a_read(
    aclient: AsyncConductor, end_user: str, sim: SimulatorServer
) -> None:
    """``writes_in_flight`` counts only writes being served; reads count in ``in_flight``."""
    sim.set_faults(company_latency_ms={end_user: [400, 400]})

    async def seen_while(call: Any) -> dict[str, int]:
        task = asyncio.create_task(call)
        stats = await asyncio.to_thread(
            wait_for, lambda: (s := sim.stats(end_user))["in_flight"] and s, timeout=5
        )
        await task
        return stats

    reading = await seen_while(aclient.qbd.health_check(conductor_end_user_id=end_user))
    writing = await seen_while(
        aclient.qbd.customers.create(name="In flight", conductor_end_user_id=end_user)
    )

    assert (reading["in_flight"], reading["writes_in_flight"]) == (1, 0)
    assert (writing["in_flight"], writing["writes_in_flight"]) == (1, 1)
    assert sim.stats(end_user)["writes_in_flight"] == 0
