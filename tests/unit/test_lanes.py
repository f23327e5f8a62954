"""LaneScheduler: one item per key at a time, in order, bounded and fair across keys."""

from __future__ import annotations

import itertools
from collections import deque

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from processors.lanes import LaneScheduler

KEYS = ["acme", "globex", "initech", "umbrella", "hooli"]


def drain(lanes: LaneScheduler[str, int]) -> list[tuple[str, int]]:
    """Run everything to the end, finishing each item right after it starts."""
    order = []
    while (started := lanes.next_ready()) is not None:
        order.append(started)
        lanes.finish(started[0])
    return order


def test_one_item_per_key_runs_at_a_time() -> None:
    """A key's second item does not start while its first is running."""
    lanes: LaneScheduler[str, int] = LaneScheduler(max_active=4)
    lanes.push("acme", 1)
    lanes.push("acme", 2)
    first = lanes.next_ready()
    second = lanes.next_ready()

    assert first == ("acme", 1)
    assert second is None
    assert lanes.depth("acme") == 1


def test_finish_makes_the_next_item_ready() -> None:
    """After finish the key's next item starts, in push order."""
    lanes: LaneScheduler[str, int] = LaneScheduler(max_active=1)
    for item in (1, 2, 3):
        lanes.push("acme", item)

    assert drain(lanes) == [("acme", 1), ("acme", 2), ("acme", 3)]


def test_max_active_bounds_running_lanes() -> None:
    """No more than max_active keys run at once; a finish frees a slot."""
    lanes: LaneScheduler[str, int] = LaneScheduler(max_active=2)
    for n, key in enumerate(KEYS):
        lanes.push(key, n)
    started = [lanes.next_ready(), lanes.next_ready(), lanes.next_ready()]
    lanes.finish("acme")
    after_finish = lanes.next_ready()

    assert started == [("acme", 0), ("globex", 1), None]
    assert lanes.busy_count == 2
    assert after_finish == ("initech", 2)


def test_a_deep_lane_does_not_starve_a_shallow_one() -> None:
    """Ready lanes take turns: one event of a new company runs after at most one of a backlog."""
    lanes: LaneScheduler[str, int] = LaneScheduler(max_active=1)
    for item in range(100):
        lanes.push("acme", item)
    lanes.next_ready()
    lanes.push("globex", 0)
    lanes.finish("acme")

    assert lanes.next_ready() == ("globex", 0)


def test_push_front_runs_before_queued_live_work() -> None:
    """Replayed items go ahead of live items already queued, in their own order."""
    lanes: LaneScheduler[str, int] = LaneScheduler(max_active=1)
    lanes.push("acme", 10)
    lanes.push_front("acme", [1, 2])

    assert drain(lanes) == [("acme", 1), ("acme", 2), ("acme", 10)]


def test_push_front_does_not_interrupt_a_running_item() -> None:
    """Items pushed to the front of a busy lane start after the running one finishes."""
    lanes: LaneScheduler[str, int] = LaneScheduler(max_active=1)
    lanes.push("acme", 10)
    lanes.next_ready()
    lanes.push_front("acme", [1])
    blocked = lanes.next_ready()
    lanes.finish("acme")

    assert blocked is None
    assert lanes.next_ready() == ("acme", 1)


def test_drop_removes_only_queued_matching_items() -> None:
    """drop returns matching items not yet started and leaves running and other items."""
    lanes: LaneScheduler[str, int] = LaneScheduler(max_active=2)
    for item in (1, 2, 3):
        lanes.push("acme", item)
    lanes.push("globex", 4)
    lanes.next_ready()
    dropped = lanes.drop(lambda item: item % 2 == 0)

    assert dropped == [2, 4]
    assert lanes.depths() == {"acme": 1}
    assert lanes.is_busy("acme")
    assert lanes.total == 1


def test_finish_without_a_running_item_is_an_error() -> None:
    """finish on an idle key is a caller bug."""
    lanes: LaneScheduler[str, int] = LaneScheduler(max_active=1)
    lanes.push("acme", 1)

    with pytest.raises(ValueError, match="no running item"):
        lanes.finish("acme")


def test_max_active_must_be_positive() -> None:
    """A scheduler that can never run anything is refused."""
    with pytest.raises(ValueError, match="at least 1"):
        LaneScheduler(max_active=0)


@settings(max_examples=200, deadline=None)
@given(
    pushes=st.lists(st.sampled_from(KEYS), max_size=80),
    max_active=st.integers(1, 6),
    finish_picks=st.lists(st.integers(0, 10), max_size=200),
)
def test_every_item_is_dispatched_in_key_order(
    pushes: list[str], max_active: int, finish_picks: list[int]
) -> None:
    """Whatever order running items finish in, all items run, each key in push order."""
    lanes: LaneScheduler[str, int] = LaneScheduler(max_active=max_active)
    for n, key in enumerate(pushes):
        lanes.push(key, n)
    running: list[str] = []
    dispatched: list[tuple[str, int]] = []
    picks = itertools.chain(finish_picks, itertools.repeat(0))
    while True:
        while (started := lanes.next_ready()) is not None:
            running.append(started[0])
            dispatched.append(started)
        if not running:
            break
        lanes.finish(running.pop(next(picks) % len(running)))

    assert sorted(n for _, n in dispatched) == list(range(len(pushes)))
    for key in KEYS:
        assert [n for k, n in dispatched if k == key] == [
            n for n, k in enumerate(pushes) if k == key
        ]
    assert lanes.total == 0
    assert lanes.busy_count == 0


class LaneModel(RuleBasedStateMachine):
    """Drives LaneScheduler against per-key queues and checks order, bounds and fairness."""

    def __init__(self) -> None:
        super().__init__()
        self.max_active = 3
        self.lanes: LaneScheduler[str, int] = LaneScheduler(max_active=self.max_active)
        self.queued: dict[str, deque[int]] = {key: deque() for key in KEYS}
        self.running: set[str] = set()
        self.ready_since: dict[str, int] = {}  # key -> dispatch count when it became ready
        self.dispatches = 0
        self.counter = itertools.count()

    def _refresh_ready(self, key: str) -> None:
        if key not in self.running and self.queued[key]:
            self.ready_since.setdefault(key, self.dispatches)
        else:
            self.ready_since.pop(key, None)

    @rule(key=st.sampled_from(KEYS))
    def push(self, key: str) -> None:
        """Queue a new live item."""
        item = next(self.counter)
        self.lanes.push(key, item)
        self.queued[key].append(item)
        self._refresh_ready(key)

    @rule(key=st.sampled_from(KEYS), size=st.integers(0, 3))
    def push_front(self, key: str, size: int) -> None:
        """Queue replayed items ahead of the key's queue."""
        items = [next(self.counter) for _ in range(size)]
        self.lanes.push_front(key, items)
        self.queued[key].extendleft(reversed(items))
        self._refresh_ready(key)

    @rule()
    def next_ready(self) -> None:
        """Start an item if any may start; check it is the right one."""
        may_start = len(self.running) < self.max_active and bool(self.ready_since)
        started = self.lanes.next_ready()

        assert (started is not None) == may_start
        if started is None:
            return
        key, item = started
        assert key not in self.running
        assert item == self.queued[key].popleft()
        self.running.add(key)
        self.dispatches += 1
        del self.ready_since[key]
        for waited in self.ready_since.values():
            assert self.dispatches - waited <= len(KEYS) - 1

    @precondition(lambda self: bool(self.running))
    @rule(data=st.data())
    def finish(self, data: st.DataObject) -> None:
        """Finish one running item, chosen freely."""
        key = data.draw(st.sampled_from(sorted(self.running)))
        self.lanes.finish(key)
        self.running.discard(key)
        self._refresh_ready(key)

    @rule(modulus=st.integers(2, 5), remainder=st.integers(0, 4))
    def drop(self, modulus: int, remainder: int) -> None:
        """Drop queued items matching a predicate, as on partition revoke."""
        dropped = self.lanes.drop(lambda item: item % modulus == remainder)
        expected = []
        for key in KEYS:
            expected += [item for item in self.queued[key] if item % modulus == remainder]
            self.queued[key] = deque(i for i in self.queued[key] if i % modulus != remainder)
            self._refresh_ready(key)

        assert sorted(dropped) == sorted(expected)

    @invariant()
    def counts_match(self) -> None:
        """Queued, running and ready counts match the model and respect max_active."""
        assert self.lanes.busy_count == len(self.running) <= self.max_active
        assert self.lanes.total == sum(len(q) for q in self.queued.values())
        assert self.lanes.depths() == {k: len(q) for k, q in self.queued.items() if q}
        assert self.lanes.ready_count == len(self.ready_since)


TestLaneModel = LaneModel.TestCase
TestLaneModel.settings = settings(max_examples=150, stateful_step_count=60, deadline=None)
