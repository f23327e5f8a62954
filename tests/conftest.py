"""Session-wide real infrastructure: broker, PostgreSQL and the Conductor simulator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from processors.testing import TestStack, set_testing


@pytest.fixture(scope="session")
def stack() -> Iterator[TestStack]:
    """The embedded (or testcontainers) stack, started once for the whole run."""
    test_stack = TestStack(partitions=4).start()
    yield test_stack
    test_stack.stop()


@pytest.fixture(scope="session", autouse=True)
def _no_real_backoff() -> Iterator[None]:
    """No test sleeps through a real backoff (processors.testing.set_testing)."""
    set_testing(True)
    yield
    set_testing(False)
