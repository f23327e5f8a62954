"""Lists that take no externalId (classes, accounts, terms, payment methods) are found by name
after a create whose outcome is unknown."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from processors.config import Settings
from processors.gateway import ConductorGateway
from processors.testing import unique_name
from processors.writes import WritePlan, plan_write
from qbdsim import SimulatorServer
from schemas import EventType, example_event, parse_event

LISTS = [
    EventType.CLASS_UPSERTED,
    EventType.ACCOUNT_UPSERTED,
    EventType.TERMS_UPSERTED,
    EventType.PAYMENT_METHOD_UPSERTED,
]


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorServer]:
    """One simulator for this module; new end-users start online."""
    with SimulatorServer(port=0, auto_connect=True, seed=11) as server:
        yield server


@pytest.fixture
async def gateway(sim: SimulatorServer) -> AsyncIterator[ConductorGateway]:
    """A gateway on the simulator."""
    values: dict[str, Any] = {
        "conductor_secret_key": "sk_test_gateway",
        "conductor_base_url": sim.base_url,
        "conductor_timeout": 5.0,
    }
    settings = Settings(_env_file=None, **values)
    async with ConductorGateway(settings) as gw:
        yield gw


def _plan(event_type: EventType, **changes: Any) -> WritePlan:
    raw = example_event(event_type)
    raw["data"].update(changes)
    return plan_write(parse_event(raw), {})


@pytest.mark.parametrize("event_type", LISTS)
async def test_a_created_list_object_is_adopted_by_its_name(
    gateway: ConductorGateway, event_type: EventType
) -> None:
    """The object the create made is found by its name, whatever its case."""
    end_user = await gateway.create_end_user(unique_name("acct"), "Acme", "o@acme.example")
    plan = _plan(event_type)
    made = await gateway.execute(end_user, plan)
    shouted = _plan(event_type, name=plan.params["name"].upper())

    found = await gateway.find_created(
        end_user, shouted, since=datetime.now(UTC) - timedelta(minutes=1)
    )

    assert found is not None
    assert (found.qbd_id, found.qbd_object_type) == (made.qbd_id, plan.object_type_label)


@pytest.mark.parametrize("event_type", LISTS)
async def test_absence_of_the_name_is_proven(
    gateway: ConductorGateway, event_type: EventType
) -> None:
    """No object of that name: None, so the create may be sent (again)."""
    end_user = await gateway.create_end_user(unique_name("acct"), "Acme", "o@acme.example")

    found = await gateway.find_created(
        end_user, _plan(event_type), since=datetime.now(UTC) - timedelta(minutes=1)
    )

    assert found is None
