"""The embedded development stack: Tansu broker, PostgreSQL and the Conductor simulator."""

from __future__ import annotations

from processors.devstack.broker import TansuBroker
from processors.devstack.postgres import EmbeddedPostgres
from processors.devstack.stack import DEV_SECRET_KEY, DevStack, run_coroutine

__all__ = ["DEV_SECRET_KEY", "DevStack", "EmbeddedPostgres", "TansuBroker", "run_coroutine"]
