"""Service: wires settings, PostgreSQL, Kafka, Conductor and HTTP into one running processor.

Start-up checks every dependency and says in one line what is wrong; SIGTERM stops fetching,
finishes or releases in-flight work, commits and leaves the group.
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
from typing import Any

import asyncpg

from processors.api import CompanyApi
from processors.attention import AttentionBook
from processors.book_settings import BookSettings
from processors.companies import CompanyBook
from processors.config import Settings
from processors.dashboard import Dashboard
from processors.db import connect_pool
from processors.dlq_index import DlqIndex
from processors.engine import Engine
from processors.errors import ConfigError
from processors.gateway import ConductorGateway
from processors.health import Component, Health
from processors.http import HttpServer, build_app
from processors.ingress import Ingress
from processors.kafka import client_options, ensure_topics, outbound_topics, partition_counts
from processors.ledger import Ledger
from processors.logs import get_logger
from processors.mappings import MappingStore
from processors.metrics import Metrics
from processors.migrate import apply_migrations
from processors.outcome import OutcomePolicy
from processors.pipeline import (
    CatchUp,
    CompanyConnection,
    EndStates,
    IdempotentWriter,
    LaneProcessor,
    Parker,
    Reader,
    Replayer,
    ResultBook,
    StatusPoll,
    StatusReadBack,
    Syncer,
)
from processors.publish import Publisher
from processors.readiness import Readiness
from processors.reference import ReferencePuller
from processors.status_book import InvoiceStatusBook
from processors.tracing import Tracing
from processors.work import Work, WorkKind
from schemas import SOURCE, EventType, ReferenceList, parse_event, sync_requested

__all__ = ["Service"]

log = get_logger("service")
_OTHER_FILES = 256  # broker, PostgreSQL and HTTP sockets, logs, libraries


def _allow_open_files(connections: int) -> None:
    """Raise the soft open-files limit to what the Conductor connections need (many systems
    default to 1,024, fewer than MAX_CONCURRENT_COMPANIES kept-alive connections)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = connections + _OTHER_FILES
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return
    allowed = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (allowed, hard))
    if allowed < wanted:
        log.warning(
            "open-files limit below what MAX_CONCURRENT_COMPANIES needs",
            limit=allowed,
            wanted=wanted,
        )


class Service:
    """One qbd-sync processor: consumer engine, lanes, catch-up timer and HTTP."""

    def __init__(self, settings: Settings, *, policy: OutcomePolicy | None = None) -> None:
        settings.require(
            "kafka_bootstrap_servers", "database_url", "conductor_secret_key", command="run"
        )
        self.settings = settings
        self.policy = policy or OutcomePolicy()
        self.health = Health()
        self.metrics = Metrics(health=self.health)
        self.pool: asyncpg.Pool | None = None
        self.publisher = Publisher(settings)
        self.gateway = ConductorGateway(settings, on_call=self.metrics.observe_conductor)
        self.engine: Engine | None = None
        self.lanes: LaneProcessor | None = None
        self.connection: CompanyConnection | None = None
        self.attention: AttentionBook | None = None
        self.http: HttpServer | None = None
        self.dashboard: Dashboard | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._stop = asyncio.Event()

    async def start(self) -> None:
        """Connect to everything, migrate, check topics, start HTTP."""
        settings = self.settings
        _allow_open_files(settings.max_concurrent_companies)
        await apply_migrations(settings.secret("database_url"))
        self.pool = pool = await connect_pool(settings.secret("database_url"))
        self.health.set_ok("database")
        options = client_options(settings)
        counts = await partition_counts(options, settings.input_topics)
        missing = [topic for topic in settings.input_topics if topic not in counts]
        if missing:
            raise ConfigError(
                f"input topic(s) {', '.join(missing)} do not exist on the broker "
                "(create them, or fix QBD_SYNC_INPUT_TOPICS)"
            )
        if len(set(counts.values())) > 1:
            raise ConfigError(
                "every input topic must have the same partition count so a company's lane "
                f"lives on one instance; found {counts}"
            )
        partitions = next(iter(counts.values()))
        await ensure_topics(options, dict.fromkeys(outbound_topics(settings), partitions))
        await self.publisher.start()
        self.health.set_ok("broker")
        self.lanes = self._lanes(pool)
        self.engine = Engine(
            settings,
            self.lanes,
            on_heartbeat=self._heartbeat,
            on_halt=self._on_halt,
            on_wait=self._on_wait,
            metrics=self.metrics,
        )
        self.health.set_ok("conductor")
        companies = CompanyBook(pool)
        self.dashboard = Dashboard(
            settings,
            pool,
            self.metrics,
            self.publisher,
            health=self.health,
            lane_depths=self._lane_depths,
            request_replay=self.request_replay,
        )
        self._tasks.append(
            asyncio.create_task(self.dashboard.sample_forever(), name="qbd-sync-dashboard-sampler")
        )
        assert self.connection is not None
        company_api = CompanyApi(
            companies,
            self.connection,
            request_replay=self.request_replay,
            publish_sync_request=self._publish_sync_request,
            ledger=Ledger(pool),
        )
        app = build_app(
            self.health,
            self.metrics,
            ingress=self._ingress(),
            extra_routes=[*self.dashboard.routes(), *company_api.routes()],
        )
        self.http = HttpServer(app, settings.http_host, settings.http_port)
        await self.http.start()
        log.info(
            "qbd-sync started",
            http_port=self.http.port,
            group_id=settings.group_id,
            input_topics=settings.input_topics,
        )

    def _lanes(self, pool: asyncpg.Pool) -> LaneProcessor:
        """Wire the pipeline: every collaborator is given in its constructor."""
        settings, publisher, gateway = self.settings, self.publisher, self.gateway
        ledger = Ledger(pool)
        index = DlqIndex(pool)
        self.attention = attention = AttentionBook(pool, publisher)
        tracing = Tracing(enabled=settings.tracing)
        reader = Reader(self.policy)
        self.connection = connection = CompanyConnection(
            settings=settings,
            companies=CompanyBook(pool),
            attention=attention,
            gateway=gateway,
            publisher=publisher,
            reader=reader,
        )
        results = ResultBook(publisher=publisher, ledger=ledger, tracing=tracing)
        parker = Parker(
            publisher=publisher,
            index=index,
            dlq_topic=settings.dlq_topic,
            group_id=settings.group_id,
        )
        status = StatusReadBack(
            book=InvoiceStatusBook(pool),
            mappings=MappingStore(pool),
            gateway=gateway,
            publisher=publisher,
            topic=settings.reference_topic,
            connection=connection,
            reader=reader,
        )
        ends = EndStates(
            ledger=ledger,
            attention=attention,
            connection=connection,
            parker=parker,
            results=results,
            metrics=self.metrics,
            max_record_bytes=settings.max_record_bytes,
        )
        syncer = Syncer(
            ledger=ledger,
            mappings=MappingStore(pool),
            connection=connection,
            ends=ends,
            results=results,
            reader=reader,
            writer=IdempotentWriter(ledger=ledger, gateway=gateway, reader=reader),
            books=BookSettings(pool),
            reference=ReferencePuller(
                pool, gateway, publisher, topic=settings.reference_topic, auto_map=settings.auto_map
            ),
            status=status,
        )
        replayer = Replayer(
            settings=settings, index=index, connection=connection, metrics=self.metrics
        )
        return LaneProcessor(
            syncer=syncer,
            replayer=replayer,
            connection=connection,
            gateway=gateway,
            publisher=publisher,
            tracing=tracing,
            status=status,
        )

    def _ingress(self) -> Ingress | None:
        """The webhook ingress when QBD_SYNC_WEBHOOK_SECRET is set, producing to the input topic."""
        if self.settings.webhook_secret is None:
            return None
        topic = self.settings.input_topics[0]
        publisher = self.publisher

        async def produce(records: list[tuple[bytes, bytes]]) -> None:
            # One company's events go one after another, each acked before the next is sent,
            # so they keep body order on their partition; different companies go in parallel.
            by_key: dict[bytes, list[bytes]] = {}
            for key, value in records:
                by_key.setdefault(key, []).append(value)

            async def send_in_order(key: bytes, values: list[bytes]) -> None:
                for value in values:
                    await publisher.send(topic, key, value)

            await asyncio.gather(*(send_in_order(k, v) for k, v in by_key.items()))

        return Ingress(
            self.settings.secret("webhook_secret"),
            produce,
            max_event_bytes=self.settings.max_record_bytes,
            metrics=self.metrics,
        )

    def _lane_depths(self) -> dict[str, int]:
        return {} if self.engine is None else dict(self.engine.lanes.depths())

    def _heartbeat(self) -> None:
        self.health.beat()
        if self.engine is not None:
            self.metrics.set_in_flight(self.engine.offsets.in_flight_total)

    def _on_halt(self, reason: str | None) -> None:
        if reason is None:
            self.health.resume()
            self.health.set_ok("conductor")
        else:
            self.health.halted(reason)
            self.health.set_failed("conductor", reason)

    def _on_wait(self, component: Component, detail: str | None) -> None:
        if detail is None:
            self.health.waited(component)
        else:
            self.health.waiting(component, detail)

    async def run(self) -> None:
        """Run until ``stop()``; then shut down gracefully."""
        assert self.engine is not None
        assert self.attention is not None
        readiness = Readiness(
            health=self.health,
            metrics=self.metrics,
            broker=self.publisher,
            attention=self.attention,
        )
        self._tasks.append(asyncio.create_task(self._catchup_loop(), name="qbd-sync-catchup"))
        if self.settings.status_poll_interval.total_seconds() > 0:
            self._tasks.append(asyncio.create_task(self._status_loop(), name="qbd-sync-status"))
        self._tasks.append(asyncio.create_task(readiness.run_forever(), name="qbd-sync-readiness"))
        try:
            await self.engine.run()
        finally:
            await self.close()

    def stop(self) -> None:
        """Begin a graceful shutdown (safe to call from a signal handler)."""
        self._stop.set()
        if self.engine is not None:
            self.engine.stop()

    async def close(self) -> None:
        """Release every resource."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.http is not None:
            await self.http.stop()
        await self.publisher.stop()
        await self.gateway.aclose()
        if self.pool is not None:
            await self.pool.close()

    def owns(self, company: str) -> bool:
        """Whether this instance owns ``company``'s lane (its input partition)."""
        return self.engine is not None and self.engine.home_of(company) is not None

    def request_replay(self, company: str) -> bool:
        """Queue a replay of ``company`` in its lane, if this instance owns it."""
        return self._queue(company, WorkKind.REPLAY, EventType.SYNC_REQUESTED, {})

    def request_status(self, company: str) -> bool:
        """Queue an invoice status pull in ``company``'s lane, if this instance owns it."""
        data = {"object_types": [ReferenceList.INVOICE_STATUS]}
        return self._queue(company, WorkKind.STATUS, EventType.REFERENCE_PULL_REQUESTED, data)

    def _queue(
        self, company: str, kind: WorkKind, event_type: EventType, data: dict[str, Any]
    ) -> bool:
        """Queue work of ``kind`` in ``company``'s lane if this instance owns the lane.

        The work belongs to the lane's partition: a revoke drops it with the lane's work.
        """
        home = None if self.engine is None else self.engine.home_of(company)
        if self.engine is None or home is None:
            return False
        event = parse_event(
            {
                "specversion": "1.0",
                "id": f"{kind}:{company}",
                "type": event_type,
                "source": SOURCE,
                "companyid": company,
                "data": data,
            }
        )
        self.engine.push(
            Work(kind=kind, company_id=company, event=event, key=company.encode(), home=home)
        )
        return True

    async def _status_loop(self) -> None:
        """Every QBD_SYNC_STATUS_POLL_INTERVAL: pull invoice status of online companies."""
        assert self.pool is not None
        poll = StatusPoll(
            companies=CompanyBook(self.pool),
            interval=self.settings.status_poll_interval,
            request=self.request_status,
        )
        await poll.run_forever()

    async def _publish_sync_request(self, company: str) -> None:
        """Ask the instance that owns ``company`` to replay it (through the input topic)."""
        await self.publisher.send(
            self.settings.input_topics[0], company.encode(), sync_requested(company, SOURCE)
        )

    async def _catchup_loop(self) -> None:
        """Background probes: replay parked companies whose probe is due (issue 19)."""
        assert self.pool is not None
        assert self.connection is not None
        catchup = CatchUp(
            companies=CompanyBook(self.pool),
            connection=self.connection,
            budget=self.connection.budget,
            interval=self.settings.catchup_interval,
            owns=self.owns,
            request_replay=self.request_replay,
        )
        await catchup.run_forever()

    def snapshot(self) -> dict[str, Any]:
        """Counters for the demo and the dashboard."""
        engine = self.engine
        return {
            "fetched": engine.fetched if engine else 0,
            "in_flight": engine.offsets.in_flight_total if engine else 0,
            "lanes_queued": engine.lanes.total if engine else 0,
        }
