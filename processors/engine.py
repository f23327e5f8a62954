"""The consumer engine: key-level ordered concurrency with safe commits, on aiokafka.

Records are fetched per partition, validated, and queued per ``companyid`` in a lane
(``LaneScheduler``) as their bytes, decoded again when they start, so holding many costs
little; each company
runs one event at a time, in order, while up to ``MAX_CONCURRENT_COMPANIES`` companies run
at once. A partition's offset is committed only
up to the lowest record not yet in a durable end state (``OffsetTracker``). Above
``MAX_IN_FLIGHT`` records held, fetching pauses. On revoke, queued work of the revoked
partitions is dropped, running work gets a grace period, and commits stop at the frontier;
the next owner re-reads the rest and the ledger keeps writes from happening twice.

Work that fails because a dependency is away (``processors.outcome.outage``) waits it out
in its lane, reported through ``on_wait`` for readiness; any other failure repeated
``GIVE_UP_AFTER`` times is handed to ``give_up`` (``Persistence``). Consumer lag and lane
depths go to the metrics with every commit tick.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.coordinator.assignors.range import RangePartitionAssignor
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError
from aiokafka.partitioner import DefaultPartitioner

from processors.backoff import Backoff
from processors.config import Settings
from processors.intake import Accepted, decode
from processors.kafka import client_options
from processors.lanes import LaneScheduler
from processors.logs import get_logger
from processors.metrics import Metrics
from processors.offsets import OffsetTracker
from processors.persistence import Persistence, WaitReport
from processors.work import Fetched, Partition, RejectedRecord, SourcePosition, Work, WorkKind

__all__ = ["Engine", "WaitReport", "WorkProcessor", "fetch_sizes"]

log = get_logger("engine")
_COMMIT_INTERVAL = 0.5

# What one held record may cost in fetch buffers: events are a few hundred bytes, so a fetch
# sized to MAX_IN_FLIGHT records of this size brings about what the engine can hold.
_BYTES_PER_RECORD = 1024
_RECORD_OVERHEAD = 64 * 1024  # record batch and protocol framing around the largest record


class WorkProcessor(Protocol):
    """What runs one work item to a durable end state (``processors.pipeline.LaneProcessor``)."""

    async def process(self, work: Work) -> list[Work]:
        """Run ``work``; return follow-up work for the same lane (e.g. released waiters)."""
        ...

    async def rejected(self, record: RejectedRecord) -> None:
        """Record an unprocessable input record (publish it to the rejected topic)."""
        ...

    async def key_works(self) -> bool:
        """Whether our Conductor key is accepted again (probe while halted)."""
        ...

    async def give_up(self, work: Work, error: BaseException) -> bool:
        """End ``work`` after repeated unexpected failures; False if it is an outage to wait out."""
        ...

    def assigned(self) -> None:
        """Told after every rebalance: what is cached about companies may be stale."""
        ...


def fetch_sizes(settings: Settings) -> dict[str, int]:
    """Fetch limits from what the engine may hold (``MAX_IN_FLIGHT``), not aiokafka's 50 MB.

    A partition's fetch must fit the largest record we accept; a whole fetch brings about
    ``MAX_IN_FLIGHT`` typical records, so a million-record backlog buffers no more than a
    small one (issue 16).
    """
    partition = settings.max_record_bytes + _RECORD_OVERHEAD
    return {
        "max_partition_fetch_bytes": partition,
        "fetch_max_bytes": max(partition, settings.max_in_flight * _BYTES_PER_RECORD),
    }


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    async def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        await self._engine.release(set(revoked))

    async def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        self._engine.assigned()
        log.info(
            "partitions assigned",
            partitions=sorted(f"{tp.topic}[{tp.partition}]" for tp in assigned),
        )


class Engine:
    """Fetch, lane, run and commit until stopped."""

    def __init__(
        self,
        settings: Settings,
        processor: WorkProcessor,
        *,
        on_heartbeat: Callable[[], None] = lambda: None,
        on_halt: Callable[[str | None], None] = lambda _reason: None,
        on_wait: WaitReport = lambda _component, _detail: None,
        revoke_grace: float = 20.0,
        metrics: Metrics | None = None,
        work_backoff: Backoff | None = None,
    ) -> None:
        self._settings = settings
        self._processor = processor
        self._on_heartbeat = on_heartbeat
        self._revoke_grace = revoke_grace
        self._metrics = metrics
        self.offsets: OffsetTracker[TopicPartition] = OffsetTracker()
        self.lanes: LaneScheduler[str, Work | Fetched] = LaneScheduler(
            settings.max_concurrent_companies
        )
        self._running: dict[asyncio.Task[None], Work | Fetched] = {}
        self._stopping = asyncio.Event()
        self._persistence = Persistence(
            key_works=processor.key_works,
            on_halt=on_halt,
            on_wait=on_wait,
            on_resume=self._dispatch,
            stopping=self._stopping,
            backoff=work_backoff,
        )
        self._consumer = AIOKafkaConsumer(
            *settings.input_topics,
            **client_options(settings),
            group_id=settings.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            partition_assignment_strategy=(RangePartitionAssignor,),
            **fetch_sizes(settings),
            session_timeout_ms=10_000,
            heartbeat_interval_ms=1_000,
        )
        self.fetched = 0

    @property
    def consumer(self) -> AIOKafkaConsumer:
        """The underlying consumer (metrics read lag from it)."""
        return self._consumer

    @property
    def halted(self) -> str | None:
        """Why consuming is halted, or None."""
        return self._persistence.halt_reason

    def stop(self) -> None:
        """Ask the engine to stop gracefully (SIGTERM)."""
        self._stopping.set()

    async def run(self, *, until: Callable[[], Awaitable[bool]] | None = None) -> None:
        """Consume until ``stop()`` (or ``until`` says so); then drain, commit and leave."""
        self._consumer.subscribe(self._settings.input_topics, listener=_Rebalance(self))
        await self._consumer.start()
        committer = asyncio.create_task(self._commit_loop(), name="qbd-sync-commits")
        try:
            while not self._stopping.is_set():
                self._on_heartbeat()
                self._apply_backpressure()
                room = max(1, self._settings.max_in_flight - self.offsets.in_flight_total)
                batch = await self._consumer.getmany(timeout_ms=200, max_records=min(room, 500))
                for tp, records in batch.items():
                    for record in records:
                        await self._admit(tp, record)
                self._dispatch()
                if until is not None and await until():
                    break
        finally:
            committer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await committer
            await self._shutdown()

    def _apply_backpressure(self) -> None:
        assigned = self._consumer.assignment()
        if not assigned:
            return
        full = self.offsets.in_flight_total >= self._settings.max_in_flight
        if full or self._persistence.halt_reason is not None:
            self._consumer.pause(*assigned)
        else:
            self._consumer.resume(*assigned)

    async def _admit(self, tp: TopicPartition, record: Any) -> None:
        """Track a fetched record; reject it now or queue it in its company's lane.

        A record is validated here, so rejections keep their partition's order. A decoded
        event costs kilobytes and decoding costs microseconds: the next item of an empty lane
        is queued decoded (it starts soon; one per company at most), the rest undecoded, and
        those are decoded again when their lane starts them.
        """
        epoch = self.offsets.track(tp, record.offset)
        self.fetched += 1
        fetched = Fetched(
            company_id="",
            value=record.value,
            key=record.key,
            headers=tuple(record.headers or ()),
            timestamp=record.timestamp,
            source=SourcePosition(topic=tp.topic, partition=tp.partition, offset=record.offset),
            epoch=epoch,
            home=Partition(tp.topic, tp.partition),
        )
        work = await self._decoded(fetched)
        if work is not None:
            if self._metrics is not None:
                self._metrics.event_consumed(work.event.type)
            if self.lanes.depth(work.company_id) == 0:
                self.lanes.push(work.company_id, work)
            else:
                self.lanes.push(work.company_id, replace(fetched, company_id=work.company_id))

    async def _decoded(self, fetched: Fetched) -> Work | None:
        """The record as work, or None when it is rejected (published to the rejected topic
        with its reason, its offset done)."""
        source, key = fetched.source, fetched.key
        outcome = decode(
            fetched.value,
            key,
            headers=fetched.headers,
            max_bytes=self._settings.max_record_bytes,
        )
        if not isinstance(outcome, Accepted):
            if self._metrics is not None:
                self._metrics.record_rejected(outcome.kind)
            rejected = RejectedRecord(
                key=key,
                value=fetched.value,
                headers=fetched.headers,
                reason=outcome.reason,
                source=source,
            )
            await self._persistence.run(lambda: self._processor.rejected(rejected))
            tp = TopicPartition(source.topic, source.partition)
            self.offsets.done(tp, source.offset, epoch=fetched.epoch)
            return None
        event = outcome.event
        return Work(
            kind=WorkKind.EVENT,
            company_id=event.companyid,
            event=event,
            raw=fetched.value or b"",
            key=key,
            headers=fetched.headers,
            timestamp=fetched.timestamp,
            source=source,
            epoch=fetched.epoch,
            home=fetched.home,
            binary=outcome.binary,
        )

    def assigned(self) -> None:
        """After a rebalance: tell the processor its cached company state may be stale."""
        self._processor.assigned()

    def home_of(self, company: str) -> Partition | None:
        """The partition that owns ``company``'s lane, if this instance is assigned it."""
        topic = self._settings.input_topics[0]
        partitions = sorted(self._consumer.partitions_for_topic(topic) or [])
        if not partitions:
            return None
        partition = DefaultPartitioner()(company.encode(), partitions, partitions)
        home = TopicPartition(topic, partition)
        return Partition(topic, partition) if home in self._consumer.assignment() else None

    def push(self, work: Work) -> None:
        """Queue follow-up work in its company's lane and start what can start."""
        self.lanes.push(work.company_id, work)
        self._dispatch()

    def _dispatch(self) -> None:
        if self._persistence.halt_reason is not None:
            return
        while (ready := self.lanes.next_ready()) is not None:
            key, work = ready
            task = asyncio.create_task(self._run(key, work), name=f"lane-{key}")
            self._running[task] = work

    async def _run(self, key: str, item: Work | Fetched) -> None:
        try:
            if isinstance(item, Fetched):
                decoded = await self._decoded(item)
                if decoded is None:
                    return
                item = decoded
            work = item
            follow_ups = await self._persistence.run(
                lambda: self._processor.process(work),
                lambda exc: self._processor.give_up(work, exc),
            )
            for follow_up in follow_ups:
                self.lanes.push(follow_up.company_id, follow_up)
            if work.commits and work.source is not None:
                source = work.source
                tp = TopicPartition(source.topic, source.partition)
                self.offsets.done(tp, source.offset, epoch=work.epoch)
        finally:
            self._running.pop(asyncio.current_task(), None)  # type: ignore[arg-type]
            self.lanes.finish(key)
            if not self._stopping.is_set():
                self._dispatch()

    async def _commit_loop(self) -> None:
        while True:
            await asyncio.sleep(_COMMIT_INTERVAL)
            await self.commit()
            self._report()

    def _report(self) -> None:
        """Lag per assigned partition and queued work per lane, for the metrics.

        A partition's end is the high-water mark of the consumer's own last fetch of it:
        brokers such as Tansu answer ListOffsets wrongly, fetch responses rightly.
        """
        if self._metrics is None:
            return
        for tp in self._consumer.assignment():
            end = self._consumer.highwater(tp)
            if end is not None:  # None: not fetched yet, nothing known about its end
                lag = self.offsets.lag(tp, end)
                self._metrics.set_consumer_lag(tp.topic, tp.partition, lag)
        self._metrics.set_lane_depths(self.lanes.depths())

    async def commit(self, only: set[TopicPartition] | None = None) -> None:
        """Commit every partition's safe position (or only those in ``only``)."""
        assigned = self._consumer.assignment()
        positions = {
            tp: position
            for tp, position in self.offsets.committable_all().items()
            if tp in assigned and (only is None or tp in only)
        }
        if not positions:
            return
        try:
            await self._consumer.commit(positions)
        except (CommitFailedError, IllegalStateError, KafkaError) as exc:
            log.warning("commit failed; will retry", error=str(exc))
            return
        for tp, position in positions.items():
            self.offsets.mark_committed(tp, position)
        if self._metrics is not None:
            self._metrics.offsets_committed(len(positions))

    async def release(self, revoked: set[TopicPartition]) -> None:
        """On revoke: drop queued work, give running work a grace period, commit, forget."""
        if not revoked:
            return
        gone = {Partition(tp.topic, tp.partition) for tp in revoked}
        dropped = self.lanes.drop(lambda work: work.home in gone)
        running = [task for task, work in self._running.items() if work.home in gone]
        if running:
            _, late = await asyncio.wait(running, timeout=self._revoke_grace)
            for task in late:
                task.cancel()
        await self.commit(only=revoked)
        for tp in revoked:
            self.offsets.forget(tp)
            if self._metrics is not None:
                self._metrics.forget_partition(tp.topic, tp.partition)
        log.info(
            "partitions revoked",
            partitions=len(revoked),
            dropped=len(dropped),
            running=len(running),
        )

    async def _shutdown(self) -> None:
        """Graceful stop: no new work, finish running work (bounded), commit, leave the group."""
        self._stopping.set()
        self.lanes.drop(lambda _work: True)
        if self._running:
            _, late = await asyncio.wait(list(self._running), timeout=self._revoke_grace)
            for task in late:
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(*late, return_exceptions=True)
        await self.commit()
        await self._consumer.stop()
        log.info("engine stopped", fetched=self.fetched, at=time.time())
