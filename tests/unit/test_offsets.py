"""OffsetTracker: commit positions never pass unfinished work and always catch up."""

from __future__ import annotations

import time

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    precondition,
    rule,
)

from processors.offsets import OffsetTracker

TP = ("qbd.events", 0)
PARTITIONS = [("qbd.events", 0), ("qbd.events", 1), ("qbd.replay", 0)]


def test_gaps_do_not_hold_back_the_commit() -> None:
    """Offsets never fetched (compaction, transaction markers) do not block the position."""
    tracker: OffsetTracker[tuple[str, int]] = OffsetTracker()
    tracker.track(TP, 7)
    tracker.track(TP, 10)
    tracker.done(TP, 10)
    tracker.done(TP, 7)

    assert tracker.committable(TP) == 11


def test_commit_stops_below_the_lowest_unfinished_offset() -> None:
    """A finished later offset does not move the position past an unfinished earlier one."""
    tracker: OffsetTracker[tuple[str, int]] = OffsetTracker()
    for offset in (3, 4, 5):
        tracker.track(TP, offset)
    tracker.done(TP, 3)
    tracker.done(TP, 5)

    assert tracker.committable(TP) == 4
    assert tracker.oldest_in_flight(TP) == 4


def test_nothing_committable_before_the_first_offset_finishes() -> None:
    """With only unfinished offsets there is no position to commit."""
    tracker: OffsetTracker[tuple[str, int]] = OffsetTracker()
    tracker.track(TP, 0)

    assert tracker.committable(TP) is None
    assert tracker.committable_all() == {}


def test_committed_position_is_not_offered_again() -> None:
    """After mark_committed the same position is not committable until it advances."""
    tracker: OffsetTracker[tuple[str, int]] = OffsetTracker()
    tracker.track(TP, 0)
    tracker.track(TP, 1)
    tracker.done(TP, 0)
    tracker.mark_committed(TP, 1)
    before = tracker.committable(TP)
    tracker.done(TP, 1)

    assert before is None
    assert tracker.committable_all() == {TP: 2}


def test_track_rejects_offsets_that_do_not_increase() -> None:
    """Offsets of one partition must be tracked in strictly increasing order."""
    tracker: OffsetTracker[tuple[str, int]] = OffsetTracker()
    tracker.track(TP, 5)

    with pytest.raises(ValueError, match="not above"):
        tracker.track(TP, 5)


def test_done_rejects_an_offset_not_in_flight() -> None:
    """Finishing an offset twice, or one never tracked, is a caller bug."""
    tracker: OffsetTracker[tuple[str, int]] = OffsetTracker()
    tracker.track(TP, 5)
    tracker.done(TP, 5)

    with pytest.raises(ValueError, match="not in flight"):
        tracker.done(TP, 5)


def test_mark_committed_rejects_a_position_past_the_frontier() -> None:
    """Marking a position that was never committable is a caller bug."""
    tracker: OffsetTracker[tuple[str, int]] = OffsetTracker()
    tracker.track(TP, 0)

    with pytest.raises(ValueError, match="past the frontier"):
        tracker.mark_committed(TP, 1)


def test_forget_returns_unfinished_offsets_and_drops_the_partition() -> None:
    """On revoke the caller learns what was pending and the partition is gone."""
    tracker: OffsetTracker[tuple[str, int]] = OffsetTracker()
    for offset in (1, 2, 4, 9):
        tracker.track(TP, offset)
    tracker.done(TP, 2)
    pending = tracker.forget(TP)

    assert pending == [1, 4, 9]
    assert tracker.in_flight_total == 0
    assert tracker.partitions() == []


def test_late_done_after_revoke_is_ignored() -> None:
    """A task of a revoked partition finishing after re-assignment cannot mark new work."""
    tracker: OffsetTracker[tuple[str, int]] = OffsetTracker()
    old_epoch = tracker.track(TP, 3)
    tracker.forget(TP)
    tracker.track(TP, 3)
    accepted = tracker.done(TP, 3, epoch=old_epoch)

    assert accepted is False
    assert tracker.in_flight(TP) == 1
    assert tracker.committable(TP) is None


def test_mark_committed_for_a_revoked_partition_is_ignored() -> None:
    """A commit answer arriving after revoke changes nothing."""
    tracker: OffsetTracker[tuple[str, int]] = OffsetTracker()
    tracker.mark_committed(TP, 10)

    assert tracker.partitions() == []


def test_reverse_completion_of_many_offsets_stays_fast() -> None:
    """Finishing 200,000 offsets newest first is amortised O(1) per call, not O(n)."""
    tracker: OffsetTracker[tuple[str, int]] = OffsetTracker()
    n = 200_000
    started = time.perf_counter()
    for offset in range(n):
        tracker.track(TP, offset)
    for offset in reversed(range(n)):
        tracker.done(TP, offset)
    elapsed = time.perf_counter() - started

    assert tracker.committable(TP) == n
    assert elapsed < 5.0


class OffsetModel(RuleBasedStateMachine):
    """Drives OffsetTracker against a trivially correct list-and-set model."""

    tracked = Bundle("tracked")

    def __init__(self) -> None:
        super().__init__()
        self.tracker: OffsetTracker[tuple[str, int]] = OffsetTracker()
        self.offsets: dict[tuple[str, int], list[int]] = {}
        self.finished: dict[tuple[str, int], set[int]] = {}
        self.committed: dict[tuple[str, int], int] = {}
        self.epochs: dict[tuple[str, int], int] = {}

    @initialize()
    def start(self) -> None:
        """Begin with no partitions."""

    def _frontier(self, tp: tuple[str, int]) -> int | None:
        position = None
        for offset in self.offsets.get(tp, []):
            if offset not in self.finished[tp]:
                break
            position = offset + 1
        return position

    @rule(target=tracked, tp=st.sampled_from(PARTITIONS), gap=st.integers(1, 3))
    def track(self, tp: tuple[str, int], gap: int) -> tuple[tuple[str, int], int, int]:
        """Fetch the next offset of a partition, sometimes after a gap."""
        offsets = self.offsets.setdefault(tp, [])
        self.finished.setdefault(tp, set())
        offset = (offsets[-1] if offsets else 40) + gap
        offsets.append(offset)
        epoch = self.tracker.track(tp, offset)
        if tp in self.epochs:
            assert epoch == self.epochs[tp]
        self.epochs[tp] = epoch
        return (tp, offset, epoch)

    @rule(item=consumes(tracked))
    def done(self, item: tuple[tuple[str, int], int, int]) -> None:
        """Finish a tracked offset in any order, or notice it was revoked meanwhile."""
        tp, offset, epoch = item
        accepted = self.tracker.done(tp, offset, epoch=epoch)

        assert accepted == (self.epochs.get(tp) == epoch)
        if accepted:
            self.finished[tp].add(offset)

    @rule(tp=st.sampled_from(PARTITIONS))
    def commit(self, tp: tuple[str, int]) -> None:
        """Commit what is committable and record it."""
        position = self.tracker.committable(tp)
        frontier = self._frontier(tp)
        previous = self.committed.get(tp)

        if frontier is None or (previous is not None and frontier <= previous):
            assert position is None
        else:
            assert position == frontier
            self.tracker.mark_committed(tp, position)
            self.committed[tp] = position

    @precondition(lambda self: bool(self.offsets))
    @rule(data=st.data())
    def forget(self, data: st.DataObject) -> None:
        """Revoke a partition: its pending offsets come back and its state is gone."""
        tp = data.draw(st.sampled_from(sorted(self.offsets)))
        pending = self.tracker.forget(tp)

        assert pending == [o for o in self.offsets[tp] if o not in self.finished[tp]]
        del self.offsets[tp], self.finished[tp], self.epochs[tp]
        self.committed.pop(tp, None)

    @invariant()
    def never_past_unfinished(self) -> None:
        """No committable position passes an unfinished offset."""
        for tp, position in self.tracker.committable_all().items():
            unfinished = [o for o in self.offsets[tp] if o not in self.finished[tp]]
            assert not unfinished or position <= min(unfinished)

    @invariant()
    def counts_match(self) -> None:
        """in_flight per partition and in total match the model."""
        total = 0
        for tp, offsets in self.offsets.items():
            pending = len(offsets) - len(self.finished[tp])
            total += pending
            assert self.tracker.in_flight(tp) == pending
        assert self.tracker.in_flight_total == total

    @invariant()
    def all_finished_means_all_committable(self) -> None:
        """Once every tracked offset is finished, the position reaches past the last one."""
        for tp, offsets in self.offsets.items():
            if offsets and len(self.finished[tp]) == len(offsets):
                reachable = self.tracker.committable(tp) or self.committed.get(tp)
                assert reachable == offsets[-1] + 1


TestOffsetModel = OffsetModel.TestCase
TestOffsetModel.settings = settings(max_examples=150, stateful_step_count=60, deadline=None)
