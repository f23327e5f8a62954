"""The probe schedule, the probe budget and what the end-user list is worth (all pure)."""

from __future__ import annotations

import asyncio
import itertools
import time
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from processors.gateway import ConnectionInfo
from processors.pipeline.probes import ProbeBudget, ProbeSchedule, worth_probing_now

SCHEDULE = ProbeSchedule()  # the defaults: 1 min, backing off after 1 h, at most 15 min
ages = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=30))
draws = st.floats(min_value=0.0, max_value=1.0)


@given(age=st.timedeltas(min_value=timedelta(0), max_value=timedelta(minutes=59)), draw=draws)
def test_a_young_outage_is_probed_every_45_to_60_seconds(age: timedelta, draw: float) -> None:
    """During the first hour of an outage each probe waits at most the 1-minute interval."""
    delay = SCHEDULE.delay(age, draw=draw)

    assert timedelta(seconds=45) <= delay <= timedelta(minutes=1)


@given(age=ages, draw=draws)
def test_no_probe_waits_longer_than_the_cap(age: timedelta, draw: float) -> None:
    """However old the outage, the next probe comes within 15 minutes."""
    assert SCHEDULE.delay(age, draw=draw) <= timedelta(minutes=15)


@given(younger=ages, older=ages)
def test_the_interval_never_shrinks_as_the_outage_ages(
    younger: timedelta, older: timedelta
) -> None:
    """An older outage is probed no more often than a younger one."""
    younger, older = sorted((younger, older))

    assert SCHEDULE.interval(younger) <= SCHEDULE.interval(older)


def test_the_interval_doubles_each_hour_after_the_first() -> None:
    """1 min at the hour, 2 at two hours, 4 at three, 8 at four, then the 15 min cap."""
    hours = [SCHEDULE.interval(timedelta(hours=h)) for h in range(7)]

    assert [i.total_seconds() / 60 for i in hours] == [1, 1, 2, 4, 8, 15, 15]


@given(draw=draws, past=st.timedeltas(min_value=timedelta(0), max_value=timedelta(minutes=5)))
def test_a_machine_back_just_after_the_hour_is_found_within_about_a_minute(
    draw: float, past: timedelta
) -> None:
    """No step at the hour: a probe minutes after it waits barely longer than a young one."""
    delay = SCHEDULE.delay(timedelta(hours=1) + past, draw=draw)

    assert delay <= timedelta(seconds=64)


@given(age=ages, draw=draws)
def test_problems_that_need_a_person_are_probed_hourly(age: timedelta, draw: float) -> None:
    """Setup never finished, no end-user, access refused: about once an hour."""
    delay = SCHEDULE.delay(age, needs_person=True, draw=draw)

    assert timedelta(minutes=45) <= delay <= timedelta(hours=1)


@given(draw_a=draws, draw_b=draws)
def test_jitter_spreads_companies_parked_together(draw_a: float, draw_b: float) -> None:
    """Two draws give delays as far apart as the draws, within a quarter of the interval."""
    a = SCHEDULE.delay(timedelta(0), draw=draw_a)
    b = SCHEDULE.delay(timedelta(0), draw=draw_b)

    assert abs((a - b).total_seconds()) == pytest.approx(abs(draw_a - draw_b) * 15, abs=1e-5)


class _Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@given(
    per_second=st.floats(min_value=0.5, max_value=100.0),
    gaps=st.lists(st.floats(min_value=0.0, max_value=0.5), min_size=1, max_size=300),
)
def test_the_budget_never_lets_probes_closer_than_its_rate(
    per_second: float, gaps: list[float]
) -> None:
    """Whenever probes are asked for, the ones allowed are at least 1/rate apart."""
    clock = _Clock()
    budget = ProbeBudget(per_second, clock=clock)
    taken = []
    for gap in gaps:
        clock.now += gap
        if budget.take():
            taken.append(clock.now)

    spacing = [later - earlier for earlier, later in itertools.pairwise(taken)]
    assert all(gap >= 1 / per_second - 1e-9 for gap in spacing)


@given(
    per_second=st.floats(min_value=0.5, max_value=100.0),
    gaps=st.lists(st.floats(min_value=0.0, max_value=0.5), min_size=1, max_size=300),
    window=st.floats(min_value=0.1, max_value=10.0),
)
def test_any_window_holds_at_most_rate_times_length_plus_one(
    per_second: float, gaps: list[float], window: float
) -> None:
    """In any window of T seconds at most T x rate + 1 probes start: a mass outage costs a
    predictable rate, never a burst."""
    clock = _Clock()
    budget = ProbeBudget(per_second, clock=clock)
    taken = []
    for gap in gaps:
        clock.now += gap
        if budget.take():
            taken.append(clock.now)

    most = max(sum(1 for t in taken if start <= t < start + window) for start in taken)
    assert most <= window * per_second + 1


@given(per_second=st.floats(min_value=0.5, max_value=100.0), count=st.integers(1, 50))
def test_probes_asked_for_at_the_rate_are_all_allowed(per_second: float, count: int) -> None:
    """The budget refuses nothing that keeps to the rate."""
    clock = _Clock()
    budget = ProbeBudget(per_second, clock=clock)
    allowed = []
    for _ in range(count):
        allowed.append(budget.take())
        clock.now += 1 / per_second

    assert all(allowed)


def test_wait_seconds_says_when_the_next_slot_frees() -> None:
    """After a probe at 10/s, the next slot is free 0.1 s later."""
    clock = _Clock()
    budget = ProbeBudget(10, clock=clock)
    budget.take()
    clock.now += 0.04

    assert budget.wait_seconds() == pytest.approx(0.06)


_T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def _info(**moments: datetime | None) -> ConnectionInfo:
    return ConnectionInfo(end_user_id="end_usr_1", **moments)


@pytest.mark.parametrize(
    ("info", "needs_person", "worth"),
    [
        (None, True, False),
        (_info(created_at=_T0 - timedelta(days=1)), True, False),
        (_info(created_at=_T0 + timedelta(seconds=5)), True, True),
        (_info(connected_at=_T0 + timedelta(seconds=5)), True, True),
        (_info(connected_at=_T0 + timedelta(seconds=5)), False, False),
        (_info(last_successful_request_at=_T0 + timedelta(seconds=5)), False, True),
        (_info(last_successful_request_at=_T0 - timedelta(seconds=5)), False, False),
    ],
    ids=[
        "no end-user yet",
        "end-user older than the last probe",
        "end-user created since: setup under way",
        "connection created since: setup finished",
        "a connection created since says nothing about a machine that was off",
        "someone reached QuickBooks since",
        "the last success is older than the last probe",
    ],
)
def test_the_end_user_list_says_when_a_probe_is_worth_it_now(
    info: ConnectionInfo | None, needs_person: bool, worth: bool
) -> None:
    """Only a change since the last probe brings the next probe forward."""
    assert worth_probing_now(info, last_probe=_T0, needs_person=needs_person) is worth


async def test_a_turn_waits_for_its_slot_and_counts_who_waits() -> None:
    """At 20/s three turns started together end 50 ms apart; waiting drops back to 0."""
    budget = ProbeBudget(20)
    ended: list[float] = []

    async def probe() -> None:
        await budget.turn()
        ended.append(time.monotonic())

    tasks = [asyncio.create_task(probe()) for _ in range(3)]
    await asyncio.sleep(0)
    waiting_while_spaced = budget.waiting
    await asyncio.gather(*tasks)

    assert waiting_while_spaced == 2
    assert budget.waiting == 0
    assert [round(b - a, 2) >= 0.04 for a, b in itertools.pairwise(ended)] == [True, True]
