"""Per-company lanes: ordered work per key, many keys at once, fair between keys.

Key-level parallelism inside a partition (the Confluent Parallel Consumer / Karafka
virtual-partition idea): each key (``companyid``) has a FIFO ``Lane`` that runs one item at
a time, while up to ``max_active`` lanes run concurrently. Ready lanes are served round-robin,
so a deep lane gets one turn per cycle and cannot starve the others.

Pure and synchronous; the engine calls ``next_ready()`` until it returns None, starts one task
per item, and calls ``finish(key)`` when that task ends. Not thread-safe.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Hashable, Iterable, Iterator
from typing import Generic, TypeVar

__all__ = ["Lane", "LaneScheduler"]

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


class Lane(Generic[T]):
    """One key's FIFO of work items not yet started, and whether one item is running."""

    __slots__ = ("_items", "busy")

    def __init__(self) -> None:
        self._items: deque[T] = deque()
        self.busy = False

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[T]:
        return iter(self._items)

    def peek(self) -> T | None:
        """The item that runs next, if any."""
        return self._items[0] if self._items else None


class LaneScheduler(Generic[K, T]):
    """Dispatches items so that each key runs one at a time, in order, fairly across keys."""

    __slots__ = ("_busy", "_lanes", "_ready", "_total", "max_active")

    def __init__(self, max_active: int) -> None:
        if max_active < 1:
            raise ValueError(f"max_active must be at least 1, not {max_active}")
        self.max_active = max_active
        self._lanes: dict[K, Lane[T]] = {}  # keys that are busy or have queued items
        self._ready: deque[K] = deque()  # idle keys with queued items, in turn order
        self._busy = 0
        self._total = 0

    def push(self, key: K, item: T) -> None:
        """Queue ``item`` at the back of ``key``'s lane."""
        lane = self._lane(key)
        lane._items.append(item)
        self._total += 1
        if len(lane) == 1 and not lane.busy:
            self._ready.append(key)

    def push_front(self, key: K, items: Iterable[T]) -> None:
        """Queue ``items`` (in their order) ahead of everything queued for ``key``."""
        batch = list(items)
        if not batch:
            return
        lane = self._lane(key)
        was_empty = len(lane) == 0
        lane._items.extendleft(reversed(batch))
        self._total += len(batch)
        if was_empty and not lane.busy:
            self._ready.append(key)

    def next_ready(self) -> tuple[K, T] | None:
        """Start the next item of the next ready lane, or None if none may start now."""
        if self._busy >= self.max_active or not self._ready:
            return None
        key = self._ready.popleft()
        lane = self._lanes[key]
        lane.busy = True
        self._busy += 1
        self._total -= 1
        return key, lane._items.popleft()

    def finish(self, key: K) -> None:
        """Mark ``key``'s running item finished; its next item becomes ready."""
        lane = self._lanes.get(key)
        if lane is None or not lane.busy:
            raise ValueError(f"lane {key!r} has no running item")
        lane.busy = False
        self._busy -= 1
        if lane:
            self._ready.append(key)
        else:
            del self._lanes[key]

    def drop(self, predicate: Callable[[T], bool]) -> list[T]:
        """Remove and return queued (not started) items matching ``predicate``, lane by lane."""
        dropped: list[T] = []
        for key in list(self._lanes):
            lane = self._lanes[key]
            kept: deque[T] = deque()
            for item in lane._items:
                (dropped if predicate(item) else kept).append(item)
            lane._items = kept
            if not lane and not lane.busy:
                del self._lanes[key]
        self._total -= len(dropped)
        self._ready = deque(key for key in self._ready if key in self._lanes)
        return dropped

    def lane(self, key: K) -> Lane[T] | None:
        """The lane of ``key`` if it is busy or has queued items (read it, do not change it)."""
        return self._lanes.get(key)

    def depth(self, key: K) -> int:
        """How many items of ``key`` are queued, not counting a running one."""
        lane = self._lanes.get(key)
        return 0 if lane is None else len(lane)

    def depths(self) -> dict[K, int]:
        """Queued items per key, for keys with any queued."""
        return {key: len(lane) for key, lane in self._lanes.items() if lane}

    def is_busy(self, key: K) -> bool:
        """Whether an item of ``key`` is running."""
        lane = self._lanes.get(key)
        return lane is not None and lane.busy

    @property
    def total(self) -> int:
        """Items queued over all lanes, not counting running ones."""
        return self._total

    @property
    def busy_count(self) -> int:
        """Lanes with a running item."""
        return self._busy

    @property
    def ready_count(self) -> int:
        """Idle lanes with queued items (they start as soon as a slot is free)."""
        return len(self._ready)

    def _lane(self, key: K) -> Lane[T]:
        lane = self._lanes.get(key)
        if lane is None:
            lane = self._lanes[key] = Lane()
        return lane
