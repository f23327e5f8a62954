"""Health: liveness from the heartbeat, readiness from components and the halt switch."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from processors.health import COMPONENTS, Health

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


class FakeClock:
    """A monotonic clock and a wall clock that move only when told."""

    def __init__(self) -> None:
        self.seconds = 1000.0

    def monotonic(self) -> float:
        return self.seconds

    def wall(self) -> datetime:
        return T0 + timedelta(seconds=self.seconds - 1000.0)

    def advance(self, seconds: float) -> None:
        self.seconds += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def health(clock: FakeClock) -> Health:
    return Health(liveness_timeout_s=30, clock=clock.monotonic, now=clock.wall)


def _all_ok(health: Health) -> None:
    for name in COMPONENTS:
        health.set_ok(name)


def test_alive_at_start(health: Health) -> None:
    """A new Health is alive before the first beat."""

    assert health.alive


def test_not_alive_when_heartbeat_is_older_than_timeout(health: Health, clock: FakeClock) -> None:
    """Without a beat for longer than the timeout the process is not alive."""
    clock.advance(30.5)

    assert not health.alive
    assert health.heartbeat_age_s == pytest.approx(30.5)


def test_beat_keeps_alive(health: Health, clock: FakeClock) -> None:
    """A beat within the timeout keeps the process alive."""
    clock.advance(25)
    health.beat()
    clock.advance(25)

    assert health.alive


def test_not_ready_until_every_component_reports(health: Health) -> None:
    """Components start unchecked, so readiness waits for the engine's first reports."""
    health.set_ok("broker")
    health.set_ok("database")

    assert not health.ready
    assert health.problems() == ["conductor: not checked yet"]


def test_ready_when_all_components_ok(health: Health) -> None:
    """All components ok and not halted means ready."""
    _all_ok(health)

    assert health.ready
    assert health.snapshot()["status"] == "ready"


def test_failed_component_makes_not_ready_with_detail(health: Health) -> None:
    """A failed component makes the processor not ready and says why."""
    _all_ok(health)
    health.set_failed("database", "connection refused")

    assert not health.ready
    assert health.snapshot()["components"]["database"]["detail"] == "connection refused"


def test_since_changes_only_when_state_flips(health: Health, clock: FakeClock) -> None:
    """``since`` marks when ok/not-ok began; a new detail alone keeps it."""
    clock.advance(10)
    health.set_failed("broker", "timeout")
    first = health.component("broker").since
    clock.advance(10)
    health.set_failed("broker", "connection refused")
    clock.advance(10)
    health.set_ok("broker")

    assert first == T0
    assert health.component("broker").detail == "ok"
    assert health.component("broker").since == T0 + timedelta(seconds=30)


def test_halted_makes_not_ready_with_reason(health: Health) -> None:
    """A halt (our Conductor key rejected) makes readiness false with that reason."""
    _all_ok(health)
    health.halted("Conductor rejected the secret key (AUTHENTICATION_ERROR)")

    assert not health.ready
    assert health.halt_reason == "Conductor rejected the secret key (AUTHENTICATION_ERROR)"
    assert health.snapshot()["halted"]["reason"] == health.halt_reason


def test_resume_clears_halt(health: Health) -> None:
    """After resume the processor is ready again."""
    _all_ok(health)
    health.halted("key revoked")
    health.resume()

    assert health.ready
    assert health.snapshot()["halted"] is None


def test_halted_does_not_affect_liveness(health: Health) -> None:
    """A halted processor is still alive, so the orchestrator does not restart it in a loop."""
    health.halted("key revoked")

    assert health.alive


def test_detail_is_one_line_and_redacted(health: Health) -> None:
    """Details lose newlines, secrets and excess length, since /readyz is public."""
    health.set_failed(
        "database", "could not connect\npostgresql://qbd:hunter2@db:5432/qbd\n" + "x" * 300
    )
    health.halted("key sk_live_abcdef123456 rejected")

    detail = health.component("database").detail
    assert "\n" not in detail
    assert "hunter2" not in detail
    assert len(detail) <= 200
    assert "abcdef123456" not in (health.halt_reason or "")


def test_unknown_component_is_refused(health: Health) -> None:
    """A misspelled component name fails loudly rather than being ignored."""

    with pytest.raises(ValueError, match="unknown component"):
        health.set_ok("kafka")  # type: ignore[arg-type]


def test_snapshot_is_json_ready(health: Health) -> None:
    """The snapshot serialises to JSON as-is."""
    _all_ok(health)

    assert json.loads(json.dumps(health.snapshot()))["ready"] is True


def test_work_waiting_out_an_outage_makes_not_ready_naming_it(health: Health) -> None:
    """While work waits out a database outage, readiness is down and says what it waits for."""
    _all_ok(health)
    health.waiting("database", "DeadlockDetectedError: deadlock detected")
    health.waiting("database", "TooManyConnectionsError: sorry, too many clients already")

    assert not health.ready
    assert health.problems() == [
        "database: 2 waiting out an outage: TooManyConnectionsError: sorry, too many clients "
        "already"
    ]
    assert health.snapshot()["waiting"]["database"]["count"] == 2


def test_ready_again_once_every_wait_is_over(health: Health) -> None:
    """Each ended wait counts down; readiness returns when the last one ends."""
    _all_ok(health)
    health.waiting("broker", "DependencyUnavailable: the broker did not take a record")
    health.waiting("broker", "DependencyUnavailable: the broker did not take a record")
    health.waited("broker")
    still_waiting = health.ready
    health.waited("broker")

    assert not still_waiting
    assert health.ready
    assert health.snapshot()["waiting"] == {}
