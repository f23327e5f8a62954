"""One simulator for the whole qbdsim suite, emptied after every test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest
from conductor import AsyncConductor, Conductor

from qbdsim import ERROR_CATALOG, SimulatorServer

API_KEY = "sk_test_qbdsim"


@pytest.fixture(scope="session")
def sim() -> Iterator[SimulatorServer]:
    """The simulator on a free loopback port, seeded so fault rolls repeat."""
    with SimulatorServer(port=0, seed=1234) as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh_world(sim: SimulatorServer) -> Iterator[None]:
    """Empty the simulator after each test, checking its errors were all catalogued."""
    yield
    produced = {
        (e["status"], e["error_type"], e["error_code"], e["integration_code"])
        for e in sim.log()
        if e["error_code"] is not None and not e["injected"]
    }
    sim.reset()
    assert produced <= set(ERROR_CATALOG), f"not in ERROR_CATALOG: {produced - set(ERROR_CATALOG)}"


@pytest.fixture
def client(sim: SimulatorServer) -> Iterator[Conductor]:
    """The official sync SDK client pointed at the simulator, without SDK retries."""
    with Conductor(api_key=API_KEY, base_url=sim.base_url, max_retries=0) as conductor:
        yield conductor


@pytest.fixture
async def aclient(sim: SimulatorServer) -> AsyncIterator[AsyncConductor]:
    """The official async SDK client pointed at the simulator, without SDK retries."""
    async with AsyncConductor(api_key=API_KEY, base_url=sim.base_url, max_retries=0) as conductor:
        yield conductor


@pytest.fixture
def end_user(sim: SimulatorServer) -> str:
    """An end user whose company file is online."""
    end_user_id = "end_usr_qbdsimtest01"
    sim.connect(end_user_id)
    return end_user_id


@dataclass
class Refs:
    """List objects that transactions point at."""

    income_account: str
    expense_account: str
    customer: str
    vendor: str
    item: str
    klass: str
    terms: str


@pytest.fixture
def refs(client: Conductor, end_user: str) -> Refs:
    """A customer, vendor, item, accounts, class and terms in the company file."""
    qbd, eu = client.qbd, end_user
    income = qbd.accounts.create(name="Services", account_type="income", conductor_end_user_id=eu)
    expense = qbd.accounts.create(name="Supplies", account_type="expense", conductor_end_user_id=eu)
    item = qbd.service_items.create(
        name="Consulting",
        sales_or_purchase_details={"posting_account_id": income.id, "price": "150.00"},
        conductor_end_user_id=eu,
    )
    return Refs(
        income_account=income.id,
        expense_account=expense.id,
        customer=qbd.customers.create(name="Acme Corporation", conductor_end_user_id=eu).id,
        vendor=qbd.vendors.create(name="Staples", conductor_end_user_id=eu).id,
        item=item.id,
        klass=qbd.classes.create(name="Retail", conductor_end_user_id=eu).id,
        terms=qbd.standard_terms.create(name="Net 30", due_days=30, conductor_end_user_id=eu).id,
    )


@dataclass
class Books:
    """The demo company file: ids of its list objects by type and name."""

    sim: SimulatorServer
    end_user: str

    def id(self, path: str, name: str) -> str:
        """Return the id of the ``path`` object called ``name``."""
        return next(
            str(o["id"]) for o in self.sim.objects(self.end_user, path) if o["name"] == name
        )


@pytest.fixture
def books(sim: SimulatorServer, end_user: str) -> Books:
    """The end user's company file filled with the demo lists."""
    sim.seed(end_user, demo=True)
    return Books(sim, end_user)
