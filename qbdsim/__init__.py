"""A Conductor API simulator with QuickBooks Desktop behind it, for tests, benchmarks and demos.

Point the official SDK at it::

    from conductor import Conductor
    from qbdsim import SimulatorServer

    with SimulatorServer(seed=1234) as sim:
        sim.connect("end_usr_acme")
        client = Conductor(api_key="sk_test_x", base_url=sim.base_url, max_retries=0)
        client.qbd.customers.create(name="Acme", conductor_end_user_id="end_usr_acme")
        assert sim.objects("end_usr_acme", "customers")[0]["name"] == "Acme"
"""

from __future__ import annotations

from qbdsim._app import build_app
from qbdsim._conductor import Simulator
from qbdsim._errors import COMPANY_STATES, ERROR_CATALOG, SimError
from qbdsim._faults import FaultConfig, Injection
from qbdsim._resources import RESOURCES
from qbdsim._server import CompanyState, SimulatorServer, serve

__all__ = [
    "COMPANY_STATES",
    "ERROR_CATALOG",
    "RESOURCES",
    "CompanyState",
    "FaultConfig",
    "Injection",
    "SimError",
    "Simulator",
    "SimulatorServer",
    "build_app",
    "serve",
]
