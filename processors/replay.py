"""Replayer: health-check a company, then run its parked events again, in order.

Replay runs as work inside the company's lane, so live events queue behind it and nothing
overtakes. It reads the company's records from ``qbd.dlq`` between its first and last
indexed offsets, runs each through the same ledger (an event synced before it was parked is
adopted, not written again), marks each index row replayed, and flips the company online
only when nothing parked is left. A crash half-way leaves the company ``replaying`` with the
rest of its rows still ``parked``: the next owner's catch-up resumes from the index.

A failed health check parks the company (before any write is tried), counts the attention
item and schedules the next catch-up with backoff. Also owns connection setup (end-user and
setup link); a setup link is reused while it stays valid, so links are not minted per error.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition

from processors.attention import PARKING_CATEGORIES, AttentionBook, Cause
from processors.companies import CompanyBook, CompanyState
from processors.config import Settings
from processors.endstates import StopReplay
from processors.engine import Halted, Work
from processors.gateway import ConductorGateway
from processors.intake import Accepted, decode
from processors.kafka import client_options
from processors.logs import get_logger
from processors.outcome import NormalizedError, OutcomeClass, classify, normalize
from processors.publish import Publisher
from processors.sync import Syncer
from schemas import (
    SOURCE,
    AttentionCategory,
    AttentionData,
    DlqHeader,
    OutboundType,
    make_cloudevent,
)

__all__ = ["NOT_CONNECTED", "HealthResult", "ReplayReport", "Replayer", "catchup_delay"]

log = get_logger("replay")
_MAX_CATCHUP = timedelta(hours=6)
_LINK_MARGIN = timedelta(minutes=5)  # a link about to expire is not worth sending
_CONNECTED = "QuickBooks Desktop is connected."
NOT_CONNECTED = NormalizedError(
    type="INTEGRATION_CONNECTION_ERROR",
    code="COMPANY_NOT_CONNECTED",
    message="no Conductor end-user has sourceId equal to this companyid",
    user_facing_message=(
        "QuickBooks Desktop is not connected yet. Open the setup link to connect your "
        "company file, then press Sync now."
    ),
)


@dataclass(frozen=True, slots=True)
class HealthResult:
    """One health check of a company's QuickBooks Desktop connection."""

    company_id: str
    healthy: bool
    error: NormalizedError | None = None
    kind: OutcomeClass | None = None  # the failure's class (connection, setup, transient...)
    auth_flow_url: str | None = None  # when the user must (re)do the setup

    @property
    def message(self) -> str:
        """What to show the user."""
        return _CONNECTED if self.error is None else self.error.user_facing_message

    @property
    def parks(self) -> bool:
        """Whether this failure means the company's QuickBooks is unreachable."""
        return self.kind in (OutcomeClass.CONNECTION, OutcomeClass.SETUP)


@dataclass(frozen=True, slots=True)
class ReplayReport:
    """What a replay did."""

    company_id: str
    healthy: bool
    replayed: int
    remaining: int
    message: str
    auth_flow_url: str | None = None


def catchup_delay(first: timedelta, attempts: int, draw: float) -> timedelta:
    """Delay before catch-up number ``attempts``: doubling from ``first`` to 6 h, ±20 % jitter."""
    base: timedelta = min(first * (2 ** min(max(0, attempts), 20)), _MAX_CATCHUP)
    return base * (0.8 + 0.4 * draw)


class Replayer:
    """Health-checks companies, replays parked work and sets companies up."""

    def __init__(
        self,
        settings: Settings,
        pool: asyncpg.Pool,
        gateway: ConductorGateway,
        companies: CompanyBook,
        attention: AttentionBook,
        publisher: Publisher,
    ) -> None:
        self._settings = settings
        self._pool = pool
        self._gateway = gateway
        self._companies = companies
        self._attention = attention
        self._publisher = publisher

    async def check(self, company: str) -> HealthResult:
        """Health-check ``company`` now and record the result; never changes its state.

        Raises ``Halted`` when Conductor rejects our own key.
        """
        self._gateway.forget(company)
        end_user = await self._gateway.end_user_for(company)
        if end_user is None:
            result = HealthResult(company, False, NOT_CONNECTED, OutcomeClass.SETUP)
        else:
            try:
                await self._gateway.health_check(end_user)
                result = HealthResult(company, True)
            except Exception as exc:
                error = normalize(exc)
                kind = classify(error, phase="read").kind
                if kind is OutcomeClass.CONFIGURATION:
                    raise Halted(f"{error.code}: {error.message}") from exc
                result = HealthResult(company, False, error, kind)
        await self._companies.get(company)
        await self._companies.health_checked(
            company, None if result.error is None else result.error.as_dict()
        )
        if result.kind is OutcomeClass.SETUP and end_user is not None:
            url = (await self.with_setup_link(company, _setup_cause(result.error))).auth_flow_url
            result = replace(result, auth_flow_url=url)
        log.info("health check", company_id=company, healthy=result.healthy,
                 code=None if result.error is None else result.error.code)  # fmt: skip
        return result

    async def replay(self, company: str, syncer: Syncer) -> ReplayReport:
        """Health-check ``company`` and, if healthy, replay its parked events in order."""
        health = await self.check(company)
        if not health.healthy:
            return await self._unhealthy(company, health, syncer)
        syncer.contacted(company)
        rows = await self._pool.fetch(
            """SELECT dlq_topic, dlq_partition, dlq_offset FROM dlq_index
               WHERE company_id = $1 AND status = 'parked'
               ORDER BY dlq_partition, dlq_offset""",
            company,
        )
        replayed = 0
        if rows:
            await syncer.set_state(company, CompanyState.REPLAYING)
            log.info("replay started", company_id=company, parked=len(rows))
            try:
                replayed = await self._run_parked(company, rows, syncer)
            except StopReplay as stop:
                await syncer.set_state(company, CompanyState.PARKED, error=stop.error.as_dict())
                await self._schedule_catchup(company, stop.error.code)
                return ReplayReport(company, False, replayed, await self._remaining(company),
                                    stop.error.user_facing_message)  # fmt: skip
        remaining = await self._remaining(company)
        if remaining:
            log.error("parked records missing from the DLQ; company stays parked",
                      company_id=company, remaining=remaining)  # fmt: skip
            await syncer.set_state(company, CompanyState.PARKED)
            return ReplayReport(company, True, replayed, remaining, health.message)
        await syncer.set_state(company, CompanyState.ONLINE)
        await self._attention.resolve(company, categories=PARKING_CATEGORIES)
        log.info("company replayed and online", company_id=company, replayed=replayed)
        return ReplayReport(company, True, replayed, 0, health.message)

    async def _unhealthy(self, company: str, health: HealthResult, syncer: Syncer) -> ReplayReport:
        """A failed check: park the company (unreachable) and schedule the next catch-up."""
        error = health.error
        assert error is not None
        state = await syncer.state(company)
        if health.parks:
            await syncer.set_state(company, CompanyState.PARKED, error=error.as_dict())
            cause = _setup_cause(error) if health.kind is OutcomeClass.SETUP else Cause(
                error.code, AttentionCategory.CONNECTION, error.user_facing_message,
                developer_message=f"{error.message} (request {error.request_id})",
            )  # fmt: skip
            await self._attention.raise_(
                company, replace(cause, auth_flow_url=health.auth_flow_url)
            )
        if health.parks or state in (CompanyState.PARKED, CompanyState.REPLAYING):
            await self._schedule_catchup(company, error.code)
        return ReplayReport(company, False, 0, await self._remaining(company), health.message,
                            health.auth_flow_url)  # fmt: skip

    async def _run_parked(self, company: str, rows: list[Any], syncer: Syncer) -> int:
        wanted = {(row["dlq_topic"], row["dlq_partition"], row["dlq_offset"]) for row in rows}
        pending: dict[TopicPartition, tuple[int, int]] = {}
        for topic, partition, offset in wanted:
            tp = TopicPartition(topic, partition)
            low, high = pending.get(tp, (offset, offset))
            pending[tp] = (min(low, offset), max(high, offset))
        consumer = AIOKafkaConsumer(
            **client_options(self._settings), enable_auto_commit=False, group_id=None,
            max_partition_fetch_bytes=max(1_048_576, self._settings.max_record_bytes * 2),
        )  # fmt: skip
        await consumer.start()
        replayed = 0
        try:
            consumer.assign(list(pending))
            for tp, (low, _) in pending.items():
                consumer.seek(tp, low)
            ends = await consumer.end_offsets(list(pending))
            while pending:
                batch = await consumer.getmany(*pending, timeout_ms=1000)
                for tp, records in batch.items():
                    for record in records:
                        if tp not in pending or record.offset > pending[tp][1]:
                            pending.pop(tp, None)
                            break
                        if (tp.topic, tp.partition, record.offset) in wanted:
                            await self._replay_one(company, tp, record, syncer)
                            replayed += 1
                        if record.offset >= pending[tp][1]:
                            pending.pop(tp, None)
                for tp in list(pending):
                    if not batch.get(tp) and await consumer.position(tp) >= ends[tp]:
                        pending.pop(tp)  # the rest is gone from the DLQ (retention)
        finally:
            await consumer.stop()
        return replayed

    async def _replay_one(
        self, company: str, tp: TopicPartition, record: Any, syncer: Syncer
    ) -> None:
        headers = {key: value.decode(errors="replace") for key, value in record.headers or ()}
        decoded = decode(record.value, record.key, max_bytes=self._settings.max_record_bytes)
        if isinstance(decoded, Accepted):
            work = Work(
                company, decoded.event, record.value, record.key, list(record.headers or ()),
                int(headers.get(DlqHeader.ORIGINAL_TIMESTAMP, record.timestamp)),
                extra={"source": (headers.get(DlqHeader.ORIGINAL_TOPIC, ""),
                                  int(headers.get(DlqHeader.ORIGINAL_PARTITION, -1)),
                                  int(headers.get(DlqHeader.ORIGINAL_OFFSET, -1)))},
            )  # fmt: skip
            for follow_up in await syncer.run_event(work, replaying=True):
                await syncer.run_event(follow_up, replaying=True)
            syncer.metrics.event_replayed(decoded.event.type)
        else:
            log.warning("parked record no longer decodes; skipped", company_id=company,
                        dlq_partition=tp.partition, dlq_offset=record.offset)  # fmt: skip
        await self._pool.execute(
            """UPDATE dlq_index SET status = 'replayed', replayed_at = now()
               WHERE dlq_topic = $1 AND dlq_partition = $2 AND dlq_offset = $3""",
            tp.topic, tp.partition, record.offset,
        )  # fmt: skip

    async def _remaining(self, company: str) -> int:
        count: int = await self._pool.fetchval(
            "SELECT count(*) FROM dlq_index WHERE company_id = $1 AND status = 'parked'", company
        )
        return count

    async def _schedule_catchup(self, company: str, why: str) -> None:
        record = await self._companies.get(company)
        delay = catchup_delay(self._settings.catchup_interval, record.catchup_attempts,
                              random.random())  # fmt: skip
        await self._companies.schedule_catchup(company, datetime.now(UTC) + delay)
        log.info("company still unreachable; next catch-up scheduled", company_id=company,
                 reason=why, retry_in_s=round(delay.total_seconds(), 3),
                 attempt=record.catchup_attempts + 1)  # fmt: skip

    async def with_setup_link(self, company: str, cause: Cause) -> Cause:
        """``cause`` with a setup link: the stored one while valid, else a fresh one."""
        record = await self._companies.get(company)
        now = datetime.now(UTC)
        if (
            record.setup_link_url
            and record.setup_link_expires_at
            and record.setup_link_expires_at > now + _LINK_MARGIN
        ):
            return replace(cause, auth_flow_url=record.setup_link_url)
        end_user = record.end_user_id or await self._gateway.end_user_for(company)
        if end_user is None or not self._settings.conductor_publishable_key:
            return cause
        try:
            link = await self._gateway.create_auth_session(
                end_user, expiry_mins=self._settings.auth_link_expiry_mins
            )
        except Exception as exc:  # noqa: BLE001 - parking must not wait for a setup link
            log.warning("could not create a setup link", company_id=company,
                        error=normalize(exc).code)  # fmt: skip
            return cause
        await self._companies.setup_link(company, link.url, link.expires_at)
        log.info("setup link created", company_id=company, expires_at=link.expires_at.isoformat())
        return replace(cause, auth_flow_url=link.url)

    async def connect(
        self, company: str, company_name: str, email: str | None, *, event_id: str | None = None
    ) -> str | None:
        """Create the company's end-user (sourceId = companyid) and publish a setup link."""
        end_user = await self._gateway.create_end_user(company, company_name, email or "")
        await self._companies.set_end_user(company, end_user, company_name=company_name,
                                           email=email)  # fmt: skip
        state = (await self._companies.get(company)).state
        if state is CompanyState.UNKNOWN:
            await self._companies.set_state(company, CompanyState.SETUP_PENDING)
        cause = await self.with_setup_link(company, Cause(
            "SETUP_LINK", AttentionCategory.SETUP,
            "Connect QuickBooks Desktop: open the setup link on the computer that runs "
            "QuickBooks and follow the steps.",
        ))  # fmt: skip
        now = datetime.now(UTC)
        data = AttentionData(code=cause.code, category=cause.category,
                             user_facing_message=cause.user_facing_message,
                             auth_flow_url=cause.auth_flow_url,
                             event_ids=[event_id] if event_id else [], first_seen=now,
                             last_seen=now)  # fmt: skip
        body = make_cloudevent(OutboundType.CONNECTION_SETUP_LINK, SOURCE, company, data)
        await self._publisher.send(self._settings.needs_attention_topic, company.encode(), body)
        return cause.auth_flow_url


def _setup_cause(error: NormalizedError | None) -> Cause:
    error = error or NOT_CONNECTED
    return Cause(error.code, AttentionCategory.SETUP, error.user_facing_message,
                 developer_message=f"{error.message} (request {error.request_id})")  # fmt: skip
