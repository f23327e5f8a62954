"""Session-wide real infrastructure: broker, PostgreSQL and the Conductor simulator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from processors.devstack import DevStack
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


@pytest.fixture
def dev_stack(stack: TestStack) -> DevStack:
    """The embedded stack's process handles (pause the broker, restart PostgreSQL).

    Skipped under QBD_SYNC_TEST_BACKEND=testcontainers, whose containers give no handles.
    """
    if stack.dev_stack is None:
        pytest.skip(
            "needs the embedded stack's process handles (broker pause, PostgreSQL restart); "
            f"the {stack.backend} backend has none"
        )
    return stack.dev_stack
