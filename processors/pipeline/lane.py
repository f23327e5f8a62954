"""LaneProcessor: what the engine calls for each item of a company's lane.

It routes by ``Work.kind``: events (fresh or released) go to the ``Syncer``; a replay (from
the catch-up timer, "Sync now" or a ``sync.requested`` event) goes to the ``Replayer``, which
gets ``run_replayed`` to run each parked event through the same Syncer. A new event for a
parked company that is worth a look (``Ran.look``) replays the company first, then runs
again: written if the company is back, parked behind its work if not. A status pull (the
status timer) goes to the ``StatusReadBack``. Nothing below calls back up: the Syncer
returns a ``Ran`` and this class acts on it.
"""

from __future__ import annotations

from processors.errors import Halted
from processors.gateway import ConductorGateway
from processors.logs import get_logger
from processors.outcome import NormalizedError, OutcomeClass, classify, is_outage, normalize
from processors.pipeline.connection import CompanyConnection
from processors.pipeline.readback import StatusReadBack
from processors.pipeline.replay import Replayer, ReplayReport
from processors.pipeline.syncer import Syncer
from processors.publish import Publisher
from processors.tracing import Tracing
from processors.work import RejectedRecord, Work, WorkKind

__all__ = ["LaneProcessor"]

log = get_logger("sync")


class LaneProcessor:
    """Runs one work item of a lane to a durable end state (the engine's WorkProcessor)."""

    def __init__(
        self,
        *,
        syncer: Syncer,
        replayer: Replayer,
        connection: CompanyConnection,
        gateway: ConductorGateway,
        publisher: Publisher,
        tracing: Tracing,
        status: StatusReadBack | None = None,
    ) -> None:
        self._syncer = syncer
        self._status = status
        self._replayer = replayer
        self._connection = connection
        self._gateway = gateway
        self._publisher = publisher
        self._tracing = tracing

    async def process(self, work: Work) -> list[Work]:
        """Run ``work``; return follow-up work for the same lane (released waiters)."""
        with self._tracing.span(work.event, work.company_id):
            try:
                return await self._process(work)
            except Halted:
                raise
            except Exception as exc:
                # Our key rejected outside a classified call (e.g. the end-user lookup) must
                # halt too; retried as a plain error it would end as PROCESSING_ERROR: lost.
                error = normalize(exc)
                kind = classify(error, phase="read").kind
                if kind is OutcomeClass.CONFIGURATION:
                    raise Halted(f"{error.code}: {error.message}") from exc
                if kind is OutcomeClass.FORBIDDEN:
                    await self._connection.ensure_key_works(error)
                raise

    async def _process(self, work: Work) -> list[Work]:
        if work.kind is WorkKind.REPLAY:  # a probe or "Sync now": within the probe budget
            await self.replay(work.company_id, paced=True)
            return []
        if work.kind is WorkKind.STATUS:
            if self._status is not None:
                await self._status.pull_if_online(work.company_id)
            return []
        ran = await self._syncer.run(work)
        if ran.replay:  # sync.requested: a probe too (an operator may ask for every company)
            await self.replay(work.company_id, paced=True)
            await self._syncer.settle(work)
        if ran.look:
            await self.replay(work.company_id)
            again = await self._syncer.run(work)
            return [*ran.follow_ups, *again.follow_ups]
        return ran.follow_ups

    async def replay(self, company: str, *, paced: bool = False) -> ReplayReport:
        """Health-check the company and replay its parked work in order, in this lane.

        ``paced``: the health check waits for its slot of the probe budget.
        """
        return await self._replayer.replay(company, run=self._run_replayed, paced=paced)

    async def _run_replayed(self, work: Work) -> NormalizedError | None:
        """One parked event and the waiters it releases; the error if it parked the company."""
        ran = await self._syncer.run(work, replaying=True)
        if ran.parked is not None:
            return ran.parked
        for follow_up in ran.follow_ups:
            released = await self._syncer.run(follow_up, replaying=True)
            if released.parked is not None:
                return released.parked
        return None

    async def rejected(self, record: RejectedRecord) -> None:
        """Publish an unprocessable record to the rejected topic with its reason."""
        await self._publisher.rejected(record.key, record.value, record.headers, record.reason)
        log.info(
            "record rejected",
            reason=record.reason,
            partition=record.source.partition,
            offset=record.source.offset,
        )

    async def key_works(self) -> bool:
        """Whether Conductor accepts our key again (probed while halted)."""
        return await self._gateway.key_works()

    async def give_up(self, work: Work, error: BaseException) -> bool:
        """Fail an event that keeps raising (a bug); keep waiting out outages (False).

        A status pull that keeps raising is dropped (the next tick pulls again): it is no
        event, so there is nothing to fail.
        """
        if is_outage(error):
            return False
        if work.kind is WorkKind.STATUS:
            log.error(
                "status pull keeps failing; dropping it until the next tick",
                company_id=work.company_id,
                error=f"{type(error).__name__}: {error}",
            )
            return True
        await self._syncer.give_up(work, error)
        return True

    def assigned(self) -> None:
        """After a rebalance: what is cached about companies may have changed elsewhere."""
        self._connection.forget()
        self._syncer.forget()
