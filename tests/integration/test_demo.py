"""`make run` is `qbd-sync demo`: the whole product on its own embedded stack, self-checked.

The demo raises when what it observed does not add up (objects in QuickBooks against
synced creates, the books, the lifecycle step, parking and rejection), so running it is
the test.
"""

from __future__ import annotations

from processors.demo import run_demo


def test_the_demo_runs_and_its_own_checks_hold() -> None:
    """The demo `make run` runs ends without error (it exits non-zero on a mismatch)."""
    run_demo()
