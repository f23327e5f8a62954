"""Per-partition offset tracking: commit only up to the lowest offset not yet finished.

Records may finish in any order (lanes run companies concurrently), but Kafka stores one
position per partition. The tracker keeps, per partition, the fetched offsets that are still
below the commit frontier, and moves the frontier past every finished prefix. Each call is
amortised O(1): a deque of tracked offsets in fetch order and a set of the unfinished ones.

Each time a partition starts being tracked (first fetch, or again after ``forget``) it gets a
new epoch; ``track`` returns it. Pass it back to ``done`` so that a task of a revoked
partition that finishes late cannot mark an offset of the partition's next assignment.

Not thread-safe: drive it from one thread (the consumer's event loop).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable
from typing import Generic, TypeVar

__all__ = ["OffsetTracker"]

K = TypeVar("K", bound=Hashable)


class _PartitionLog:
    """Offsets of one partition between the commit frontier and the last fetch."""

    __slots__ = ("committed", "epoch", "frontier", "last", "queue", "unfinished")

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch
        self.queue: deque[int] = deque()  # tracked offsets at or above the frontier, ascending
        self.unfinished: set[int] = set()
        self.last: int | None = None  # highest offset ever tracked
        self.frontier: int | None = None  # commit position earned so far (next offset to read)
        self.committed: int | None = None  # last position the broker confirmed

    def advance(self) -> None:
        """Pop the finished prefix of the queue and move the frontier past it."""
        queue, unfinished = self.queue, self.unfinished
        while queue and queue[0] not in unfinished:
            self.frontier = queue.popleft() + 1


class OffsetTracker(Generic[K]):
    """Commit positions per partition from offsets fetched in order and finished in any order.

    Keys are any hashable partition id; aiokafka's ``TopicPartition`` works as is, so
    ``committable_all()`` can go straight to ``consumer.commit()``.
    """

    __slots__ = ("_epochs", "_logs", "_total")

    def __init__(self) -> None:
        self._logs: dict[K, _PartitionLog] = {}
        self._total = 0
        self._epochs = 0

    def track(self, tp: K, offset: int) -> int:
        """Record a fetched offset (strictly increasing per partition); return the epoch."""
        log = self._logs.get(tp)
        if log is None:
            self._epochs += 1
            log = self._logs[tp] = _PartitionLog(self._epochs)
        if log.last is not None and offset <= log.last:
            raise ValueError(f"offset {offset} of {tp!r} is not above last tracked {log.last}")
        log.last = offset
        log.queue.append(offset)
        log.unfinished.add(offset)
        self._total += 1
        return log.epoch

    def done(self, tp: K, offset: int, *, epoch: int | None = None) -> bool:
        """Mark a tracked offset finished (durable end state), in any order.

        Returns False, changing nothing, when ``tp`` is not tracked or ``epoch`` is not its
        current one (a late finish after revoke). Raises ValueError for an offset not in flight.
        """
        log = self._logs.get(tp)
        if log is None or (epoch is not None and epoch != log.epoch):
            return False
        if offset not in log.unfinished:
            raise ValueError(f"offset {offset} of {tp!r} is not in flight")
        log.unfinished.remove(offset)
        self._total -= 1
        log.advance()
        return True

    def committable(self, tp: K) -> int | None:
        """The position to commit for ``tp``, or None if it has not advanced since the last."""
        log = self._logs.get(tp)
        if log is None or log.frontier is None:
            return None
        if log.committed is not None and log.frontier <= log.committed:
            return None
        return log.frontier

    def committable_all(self) -> dict[K, int]:
        """Every partition whose commit position advanced, mapped to that position."""
        positions: dict[K, int] = {}
        for tp in self._logs:
            position = self.committable(tp)
            if position is not None:
                positions[tp] = position
        return positions

    def mark_committed(self, tp: K, position: int) -> None:
        """Note that the broker accepted ``position``; unknown (revoked) partitions are ignored."""
        log = self._logs.get(tp)
        if log is None:
            return
        if log.frontier is None or position > log.frontier:
            raise ValueError(f"position {position} of {tp!r} is past the frontier {log.frontier}")
        if log.committed is None or position > log.committed:
            log.committed = position

    def in_flight(self, tp: K) -> int:
        """How many tracked offsets of ``tp`` are not finished."""
        log = self._logs.get(tp)
        return 0 if log is None else len(log.unfinished)

    @property
    def in_flight_total(self) -> int:
        """How many tracked offsets are not finished, over all partitions."""
        return self._total

    def oldest_in_flight(self, tp: K) -> int | None:
        """The lowest unfinished offset of ``tp`` (what holds its commits back), if any."""
        log = self._logs.get(tp)
        if log is None or not log.queue:
            return None
        return log.queue[0]

    def lag(self, tp: K, end: int) -> int:
        """Records of ``tp`` before ``end`` not yet finished: from the oldest unfinished (or
        the next after the last fetched) up to ``end``; 0 when ``tp`` is not tracked."""
        log = self._logs.get(tp)
        if log is None or log.last is None:
            return 0
        start = log.queue[0] if log.queue else log.last + 1
        return max(0, end - start)

    def partitions(self) -> list[K]:
        """The partitions currently tracked."""
        return list(self._logs)

    def forget(self, tp: K) -> list[int]:
        """Drop ``tp`` (on revoke) and return its unfinished offsets, ascending."""
        log = self._logs.pop(tp, None)
        if log is None:
            return []
        pending = [offset for offset in log.queue if offset in log.unfinished]
        self._total -= len(pending)
        return pending
