"""The dashboard's routes: the page, its JSON, the DLQ browser and the two operator actions.

Reading is open to whoever reaches the HTTP port (like ``/metrics``). Actions need
``QBD_SYNC_ADMIN_TOKEN``, sent as ``Authorization: Bearer <token>`` or as the ``token`` form
field; without the setting the dashboard is read-only and actions answer 403.

Replay: ``Service.request_replay`` queues it in the company's lane when this instance owns
it; otherwise a ``qbd.sync.requested`` event goes to the input topic, keyed by the company, so
whichever instance owns the lane replays it (the same path as the app's Sync button).

Re-run a failed event: its ledger row goes back from ``failed`` to ``received`` and its
original bytes, read from where the ledger says it was consumed, are produced again to the
input topic with the company key. It then runs in order in its lane, and the ledger's usual
look-up-before-write makes a second QuickBooks object impossible. When retention has removed
the original record the re-run is refused (the sender must resend the event).
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import parse_qs, quote

import asyncpg
import orjson
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from processors.config import Settings
from processors.dashboard._render import render_page, render_record
from processors.dashboard._sampler import ThroughputSampler, counter_totals
from processors.dashboard._store import DashboardStore
from processors.errors import DependencyUnavailable
from processors.health import Health
from processors.kafka import read_record
from processors.logs import get_logger
from processors.metrics import Metrics
from processors.publish import Publisher
from processors.responses import json_response
from schemas import SOURCE, sync_requested

__all__ = ["Dashboard"]

log = get_logger("dashboard")
_READ_ONLY: Final = (
    "the dashboard is read-only because QBD_SYNC_ADMIN_TOKEN is unset; set it to enable actions"
)
_RERUN_HEADER: Final = "qbd-rerun-of"


class _ActionError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Dashboard:
    """Serves ``GET /`` and the dashboard API of one processor instance."""

    def __init__(
        self,
        settings: Settings,
        pool: asyncpg.Pool,
        metrics: Metrics,
        publisher: Publisher,
        *,
        health: Health | None = None,
        lane_depths: Callable[[], dict[str, int]] = dict,
        request_replay: Callable[[str], bool] = lambda _company: False,
        sample_interval_s: float = 5.0,
    ) -> None:
        self._settings = settings
        self._store = DashboardStore(pool)
        self._publisher = publisher
        self._health = health
        self._lane_depths = lane_depths
        self._request_replay = request_replay
        self.sampler = ThroughputSampler(
            lambda: counter_totals(metrics.event_counters()), interval_s=sample_interval_s
        )
        self.sampler.sample()

    @property
    def read_only(self) -> bool:
        """True when no admin token is configured."""
        return self._settings.admin_token is None

    def routes(self) -> list[BaseRoute]:
        """The dashboard's routes, for ``build_app(extra_routes=...)``."""
        return [
            Route("/", self._page, methods=["GET"]),
            Route(
                "/dashboard/dlq/{partition:int}/{offset:int}", self._record_page, methods=["GET"]
            ),
            Route("/v1/dashboard", self._summary_json, methods=["GET"]),
            Route(
                "/v1/dashboard/dlq/{partition:int}/{offset:int}", self._record_json, methods=["GET"]
            ),
            Route("/v1/dashboard/companies/{company_id}/replay", self._replay, methods=["POST"]),
            Route("/v1/dashboard/events/{event_id}/rerun", self._rerun, methods=["POST"]),
        ]

    async def sample_forever(self) -> None:
        """Sample the counters every ``interval_s`` until cancelled (the chart's timer)."""
        while True:
            await asyncio.sleep(self.sampler.interval_s)
            self.sampler.sample()

    async def summary(self) -> dict[str, Any]:
        """Everything the page shows, as JSON-ready data."""
        depths = self._lane_depths()
        companies, total = await self._store.companies()
        for company in companies:
            company["lane_depth"] = depths.get(company["company_id"], 0)
        rates = self.sampler.rates()
        return {
            "generated_at": datetime.now(UTC).isoformat(),
            "read_only": self.read_only,
            "group_id": self._settings.group_id,
            "health": None if self._health is None else self._health.snapshot(),
            "totals": {name: int(value) for name, value in self.sampler.totals().items()},
            "lanes_queued": sum(depths.values()),
            "throughput": {
                "interval_s": self.sampler.interval_s,
                "points": [
                    {
                        "at": datetime.fromtimestamp(rate.at, UTC).isoformat(),
                        **{f"{name}_per_s": round(value, 3) for name, value in rate.per_s.items()},
                    }
                    for rate in rates
                ],
            },
            "companies": companies,
            "companies_total": total,
            "attention": await self._store.attention(),
            "dlq": await self._store.dlq(),
            "failed": await self._store.failed(),
        }

    # -- pages and JSON ---------------------------------------------------------------------

    async def _page(self, request: Request) -> Response:
        notice = request.query_params.get("notice")
        return render_page(request, await self.summary(), self.sampler.rates(), notice=notice)

    async def _summary_json(self, _request: Request) -> Response:
        return json_response(200, await self.summary())

    async def _record(self, request: Request) -> tuple[int, dict[str, Any]]:
        partition = int(request.path_params["partition"])
        offset = int(request.path_params["offset"])
        topic = self._settings.dlq_topic
        entry = await self._store.dlq_entry(partition, offset, topic)
        if entry is None:
            return 404, {"error": f"no parked record at {topic}/{partition}/{offset}"}
        try:
            record = await read_record(self._settings, topic, partition, offset)
        except (DependencyUnavailable, TimeoutError) as exc:
            return 503, {"error": f"could not read the DLQ from the broker ({type(exc).__name__})"}
        body: dict[str, Any] = {"index": entry, "record": None}
        if record is None:
            body["error"] = "the record is no longer on the DLQ topic (retention removed it)"
            return 200, body
        value = record.value or b""
        try:
            event: Any = orjson.loads(value)
        except orjson.JSONDecodeError:
            event = None
        body["record"] = {
            "key": (record.key or b"").decode("utf-8", "replace"),
            "timestamp": record.timestamp,
            "headers": [[k, v.decode("utf-8", "replace")] for k, v in record.headers or ()],
            "event": event,
            "value": None if event is not None else value.decode("utf-8", "replace"),
        }
        return 200, body

    async def _record_json(self, request: Request) -> Response:
        status, body = await self._record(request)
        return json_response(status, body)

    async def _record_page(self, request: Request) -> Response:
        status, body = await self._record(request)
        return render_record(request, body, read_only=self.read_only, status_code=status)

    # -- actions ----------------------------------------------------------------------------

    async def _replay(self, request: Request) -> Response:
        company = request.path_params["company_id"]

        async def act() -> dict[str, Any]:
            if self._request_replay(company):
                via = "lane"
            else:
                await self._publish_sync_requested(company)
                via = "topic"
            log.info("dashboard replay requested", company_id=company, via=via)
            return {
                "replay": "queued",
                "company_id": company,
                "via": via,
                "message": f"replay of {company} queued",
            }

        return await self._action(request, act)

    async def _publish_sync_requested(self, company: str) -> None:
        try:
            await self._publisher.send(
                self._settings.input_topics[0], company.encode(), sync_requested(company, SOURCE)
            )
        except DependencyUnavailable as exc:
            raise _ActionError(503, f"the broker did not take the replay request ({exc})") from exc

    async def _rerun(self, request: Request) -> Response:
        event_id = request.path_params["event_id"]

        async def act() -> dict[str, Any]:
            row = await self._store.failed_event(event_id)
            if row is None:
                raise _ActionError(404, f"no event {event_id!r} in the ledger")
            if row["status"] != "failed":
                raise _ActionError(
                    409,
                    f"event {event_id} is {row['status']}, not failed; "
                    "only failed events can be re-run",
                )
            if row["source_topic"] is None:
                raise _ActionError(
                    409, f"event {event_id} has no recorded source offset; resend it from the app"
                )
            source = (row["source_topic"], row["source_partition"], row["source_offset"])
            try:
                record = await read_record(self._settings, *source)
            except (DependencyUnavailable, TimeoutError) as exc:
                raise _ActionError(503, f"could not read the original event ({exc!r})") from exc
            if record is None or not record.value:
                raise _ActionError(
                    410,
                    f"the original record {source[0]}/{source[1]}/"
                    f"{source[2]} is gone (retention); resend the event "
                    "from the app",
                )
            if not await self._store.reopen_failed(event_id):
                raise _ActionError(409, f"event {event_id} is no longer failed")
            company = row["company_id"]
            try:
                await self._publisher.send(
                    self._settings.input_topics[0],
                    company.encode(),
                    record.value,
                    [*(record.headers or ()), (_RERUN_HEADER, f"{source[1]}:{source[2]}".encode())],
                )
            except BaseException:
                await self._store.undo_reopen(event_id)
                raise
            log.info("dashboard re-run queued", event_id=event_id, company_id=company)
            return {
                "rerun": "queued",
                "event_id": event_id,
                "company_id": company,
                "message": f"re-run of {event_id} queued",
            }

        return await self._action(request, act)

    async def _action(self, request: Request, act: Callable[[], Any]) -> Response:
        form = request.headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded"
        )
        token = await self._given_token(request, form)
        try:
            self._authorize(token)
            body = await act()
        except _ActionError as exc:
            if form:
                return RedirectResponse(f"/?notice={quote('Failed: ' + str(exc))}", 303)
            headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
            return Response(
                orjson.dumps({"error": str(exc)}),
                exc.status,
                headers,
                media_type="application/json",
            )
        if form:
            return RedirectResponse(f"/?notice={quote(body['message'])}", 303)
        return json_response(202, body)

    async def _given_token(self, request: Request, form: bool) -> str | None:
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            return header[7:].strip()
        if form:
            body = (await request.body())[:8192].decode("utf-8", "replace")
            values = parse_qs(body).get("token")
            return values[0] if values else None
        return None

    def _authorize(self, token: str | None) -> None:
        if self._settings.admin_token is None:
            raise _ActionError(403, _READ_ONLY)
        expected = self._settings.admin_token.get_secret_value().encode()
        if not token or not hmac.compare_digest(expected, token.encode()):
            raise _ActionError(
                401,
                "missing or wrong admin token: send Authorization: Bearer <QBD_SYNC_ADMIN_TOKEN>",
            )
