"""The gateway's end-user cache against the simulator: deleted and replaced end-users, the key
probe, and the connection info the end-user list gives for free."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import conductor
import pytest

from processors.config import Settings
from processors.gateway import ConductorGateway
from processors.testing import unique_name
from qbdsim import SimulatorServer

_KEY = "sk_test_end_users"


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorServer]:
    """One simulator for this module; new end-users start not set up."""
    with SimulatorServer(port=0, seed=19) as server:
        yield server


@pytest.fixture
async def gateway(sim: SimulatorServer) -> AsyncIterator[ConductorGateway]:
    """A gateway on the simulator; the key is restored afterwards."""
    settings = Settings(_env_file=None, conductor_secret_key=_KEY, conductor_base_url=sim.base_url)
    async with ConductorGateway(settings) as gw:
        yield gw
    sim.restore_key(_KEY)


async def test_resolve_again_finds_the_replacement_of_a_deleted_end_user(
    sim: SimulatorServer, gateway: ConductorGateway
) -> None:
    """A customer who reconnects a new company file gets a new end-user: found by sourceId."""
    company = unique_name("acct")
    old = await gateway.create_end_user(company, "Acme", "a@acme.example")
    sim.delete_end_user(old)
    async with conductor.AsyncConductor(api_key=_KEY, base_url=sim.base_url) as client:
        replacement = await client.end_users.create(
            company_name="Acme", email="a@acme.example", source_id=company
        )

    found = await gateway.resolve_again(company)

    assert gateway.cached_end_user(company) == found == replacement.id != old


async def test_resolve_again_is_none_once_the_end_user_is_deleted(
    sim: SimulatorServer, gateway: ConductorGateway
) -> None:
    """A deleted end-user with no replacement leaves the company with none (not connected)."""
    company = unique_name("acct")
    old = await gateway.create_end_user(company, "Acme", "a@acme.example")
    sim.delete_end_user(old)

    found = await gateway.resolve_again(company)

    assert found is None
    assert gateway.cached_end_user(company) is None


async def test_the_key_probe_says_false_when_the_key_is_refused(
    sim: SimulatorServer, gateway: ConductorGateway
) -> None:
    """key_works is False (not an exception) while Conductor refuses our key."""
    working = await gateway.key_works()
    sim.revoke_key(_KEY)

    refused = await gateway.key_works()

    assert (working, refused) == (True, False)


async def test_a_denied_end_user_leaves_the_key_working(
    sim: SimulatorServer, gateway: ConductorGateway
) -> None:
    """One end-user's 403 is not the key's: the key probe still passes."""
    end_user = await gateway.create_end_user(unique_name("acct"), "Acme", "a@acme.example")
    sim.connect(end_user)
    sim.set_permission(end_user, denied=True)

    with pytest.raises(conductor.PermissionDeniedError):
        await gateway.health_check(end_user)
    assert await gateway.key_works()


async def test_connections_show_when_setup_finished_and_quickbooks_last_answered(
    sim: SimulatorServer, gateway: ConductorGateway
) -> None:
    """The end-user list gives each company's connection time and last successful request."""
    company = unique_name("acct")
    end_user = await gateway.create_end_user(company, "Acme", "a@acme.example")
    before = (await gateway.connections())[company]
    started = datetime.now(UTC)
    sim.connect(end_user)
    await gateway.health_check(end_user)

    after = (await gateway.connections())[company]

    assert (before.end_user_id, before.connected_at) == (end_user, None)
    assert before.last_successful_request_at is None
    assert after.connected_at is not None
    assert after.last_successful_request_at is not None
    assert after.last_successful_request_at >= started.replace(microsecond=0)
