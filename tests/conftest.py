"""Session-wide real infrastructure: broker, PostgreSQL and the Conductor simulator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from processors.testing import TestStack


@pytest.fixture(scope="session")
def stack() -> Iterator[TestStack]:
    """The embedded (or testcontainers) stack, started once for the whole run."""
    test_stack = TestStack(partitions=4).start()
    yield test_stack
    test_stack.stop()
