"""`ConductorGateway`: the only place qbd-sync talks to Conductor, through `conductor-py`.

Thin on purpose. The SDK client is built with `max_retries=0` because the SDK would re-POST
creates after timeouts, 409s and 5xx (DESIGN.md §4): the outcome policy owns every retry.
SDK exceptions propagate unchanged; `processors.outcome.normalize` classifies them.

End-users are cached by `sourceId` from Conductor's end-user list, with what the list says
about each connection (`ConnectionInfo`). An end-user deleted or replaced in Conductor is
noticed by `resolve_again` (a 404 naming it), which lists again by `sourceId`.

`find_created` is the ambiguity lookup of DESIGN.md §4. No list endpoint filters on
`externalId`, so it first asks by the plan's ref number (transactions) or name (list
objects) and, when that finds nothing of ours, scans everything of the plan's type updated
since the attempt (minus a margin for the QuickBooks machine's clock), narrowed to the
plan's party and transaction date, matching `externalId` client-side. It returns None only
when that scan completed without a match; any error propagates (absence not proven).

`landed` is the same question for every write kind: a create is found by its marker, a
delete landed when the object is gone, a void when QuickBooks shows it void. An update is
answered by the writer itself: it retrieves the object (`current`) and compares the fields.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import conductor
import httpx

from processors.config import Settings, env_name
from processors.errors import ConfigError
from processors.markers import same_external_id
from processors.outcome import NormalizedError, normalize
from processors.writes import ExistingObject, WritePlan, is_void
from schemas import SyncAction

__all__ = [
    "DEFAULT_LOOKUP_MARGIN",
    "AuthLink",
    "CallObserver",
    "ConductorGateway",
    "ConnectionInfo",
    "WriteResult",
    "is_gone",
]

CallObserver = Callable[[str, str, float, bool], None]
"""`on_call(resource, op, seconds, ok)`: told the duration of every Conductor call."""

DEFAULT_LOOKUP_MARGIN: Final = timedelta(hours=24)
"""How far before the attempt `find_created` scans: QuickBooks runs on the user's own clock."""

_NAME_FILTERS: Final = {
    "customers": "full_names",
    "vendors": "names",
    "service_items": "full_names",
    "non_inventory_items": "full_names",
    "classes": "full_names",
    "accounts": "full_names",
    "standard_terms": "names",
    "payment_methods": "names",
}
_NO_MATCH_CODES: Final = frozenset({"1", "500"})  # qbXML: no match / required element not found
_SPARE_CONNECTIONS: Final = 32  # health checks and API calls beside the lanes' writes
_GONE_CODES: Final = frozenset({"3120", "500"})  # qbXML: object not found / element not found


@dataclass(frozen=True, slots=True)
class WriteResult:
    """The QuickBooks object a write created, updated or adopted."""

    qbd_object_type: str
    qbd_id: str
    revision_number: str | None
    ref_number: str | None
    attempts: int = 1
    """How many write attempts the event took (set by the writer)."""
    action: SyncAction = SyncAction.CREATED
    """What happened in QuickBooks (`unchanged`: nothing needed writing)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionInfo:
    """What Conductor's end-user list says about one company's connection, for free."""

    end_user_id: str
    created_at: datetime | None = None
    """When the end-user was created."""
    connected_at: datetime | None = None
    """When its QuickBooks Desktop connection was created (setup done); None: never set up."""
    last_successful_request_at: datetime | None = None
    """The last request anyone made with our key that QuickBooks answered end to end."""


@dataclass(frozen=True, slots=True)
class AuthLink:
    """A hosted auth-flow (setup) link for a company's user, and when it stops working."""

    url: str
    expires_at: datetime


def _write_result(obj: Any, label: str, action: SyncAction = SyncAction.CREATED) -> WriteResult:
    return WriteResult(
        qbd_object_type=getattr(obj, "object_type", None) or label,
        qbd_id=obj.id,
        revision_number=getattr(obj, "revision_number", None),
        ref_number=getattr(obj, "ref_number", None),
        action=action,
    )


async def _each(page: Any) -> AsyncIterator[Any]:
    """Iterate a cursor page (async) or a plain list of objects alike."""
    if hasattr(page, "__aiter__"):
        async for obj in page:
            yield obj
    else:
        for obj in page:
            yield obj


def _moment(value: str | None) -> datetime | None:
    """An API timestamp, or None when absent or unreadable."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _connection_info(user: Any) -> ConnectionInfo:
    connections = [
        c for c in user.integration_connections if c.integration_slug == "quickbooks_desktop"
    ]
    connected = [_moment(c.created_at) for c in connections]
    successes = [_moment(c.last_successful_request_at) for c in connections]
    return ConnectionInfo(
        end_user_id=user.id,
        created_at=_moment(user.created_at),
        connected_at=min((m for m in connected if m is not None), default=None),
        last_successful_request_at=max((m for m in successes if m is not None), default=None),
    )


def is_gone(error: NormalizedError) -> bool:
    """Whether a call about one object failed because QuickBooks has no such object (now).

    QuickBooks answers 3120 ("cannot be found") to a change of a deleted transaction;
    Conductor answers a retrieve of one with 404 (its exact code is undocumented). A 404 that
    names the end-user means the whole company file is gone, which is not this object's fate.
    """
    if error.integration_code in _GONE_CODES:
        return True
    return error.http_status == 404 and "end-user" not in error.message.lower()


def _is_no_match(exc: conductor.APIStatusError) -> bool:
    """Whether a by-id/name/ref-number lookup failed only because nothing matched."""
    if exc.status_code == 404:
        return True
    error = exc.body.get("error") if isinstance(exc.body, dict) else None
    return isinstance(error, dict) and error.get("integrationCode") in _NO_MATCH_CODES


class ConductorGateway:
    """Async calls to Conductor for one API key: end-users, auth links, health, writes, lookups."""

    def __init__(self, settings: Settings, *, on_call: CallObserver | None = None) -> None:
        self._settings = settings
        self._on_call = on_call
        # The SDK's aiohttp transport: its connection pool costs the same per request with 10
        # or 2,000 requests in flight, where httpx's pool grows O(connections x waiting)
        # (bench/transport.py). Sized so every lane in flight has its own kept-alive
        # connection; a disconnect it reports as a connect timeout is an unknown outcome
        # (processors/outcome.py), so it is looked up, never written again blindly.
        connections = settings.max_concurrent_companies + _SPARE_CONNECTIONS
        self._client = conductor.AsyncConductor(
            api_key=settings.secret("conductor_secret_key"),
            base_url=settings.conductor_base_url,
            timeout=settings.conductor_timeout,
            max_retries=0,
            http_client=conductor.DefaultAioHttpClient(
                timeout=settings.conductor_timeout,
                limits=httpx.Limits(
                    max_connections=connections, max_keepalive_connections=connections
                ),
            ),
        )
        self._end_users: dict[str, str] = {}
        self._end_users_lock = asyncio.Lock()

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._client.close()

    async def __aenter__(self) -> ConductorGateway:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    @contextmanager
    def _timed(self, resource: str, op: str) -> Iterator[None]:
        started, ok = time.perf_counter(), False
        try:
            yield
            ok = True
        finally:
            if self._on_call is not None:
                self._on_call(resource, op, time.perf_counter() - started, ok)

    # ----- end-users and setup links --------------------------------------------------

    async def end_user_for(self, company_id: str) -> str | None:
        """The end-user id whose `sourceId` is `company_id`, or None (cached once found)."""
        found = self._end_users.get(company_id)
        if found is not None:
            return found
        async with self._end_users_lock:
            if company_id not in self._end_users:
                await self._list_end_users()
        return self._end_users.get(company_id)

    async def connections(self) -> dict[str, ConnectionInfo]:
        """Every end-user's connection info by `sourceId`, listed now (one request)."""
        async with self._end_users_lock:
            return await self._list_end_users()

    async def resolve_again(self, company_id: str) -> str | None:
        """List again: the end-user with `sourceId` `company_id` now (deleted or replaced)."""
        async with self._end_users_lock:
            await self._list_end_users()
        return self._end_users.get(company_id)

    def cached_end_user(self, company_id: str) -> str | None:
        """The end-user `company_id` was last known by, without asking Conductor."""
        return self._end_users.get(company_id)

    async def _list_end_users(self) -> dict[str, ConnectionInfo]:
        """Replace the cache with Conductor's end-user list (it is not paginated)."""
        with self._timed("end_users", "list"):
            listing = await self._client.end_users.list()
        info: dict[str, ConnectionInfo] = {}
        for user in listing.data:
            info.setdefault(user.source_id, _connection_info(user))
        self._end_users = {source: found.end_user_id for source, found in info.items()}
        return info

    async def key_works(self) -> bool:
        """Probe our own key with a cheap call (listing end-users needs a valid key).

        False when Conductor refuses the key (401 or 403); other failures propagate.
        """
        try:
            async with self._end_users_lock:
                await self._list_end_users()
        except (conductor.AuthenticationError, conductor.PermissionDeniedError):
            return False
        return True

    def forget(self, company_id: str) -> None:
        """Drop the cached end-user of `company_id` (the next lookup asks Conductor again)."""
        self._end_users.pop(company_id, None)

    async def create_end_user(self, company_id: str, company_name: str, email: str) -> str:
        """The end-user of `company_id`, created with `sourceId=company_id` if there is none."""
        existing = await self.end_user_for(company_id)
        if existing is not None:
            return existing
        try:
            with self._timed("end_users", "create"):
                user = await self._client.end_users.create(
                    company_name=company_name, email=email, source_id=company_id
                )
        except (conductor.BadRequestError, conductor.ConflictError):
            # Another instance may have created it since we looked (duplicate sourceId).
            self.forget(company_id)
            raced = await self.end_user_for(company_id)
            if raced is None:
                raise
            return raced
        self._end_users[company_id] = user.id
        return user.id

    async def create_auth_session(
        self, end_user_id: str, *, expiry_mins: int | None = None
    ) -> AuthLink:
        """A new setup link for the end-user (needs `CONDUCTOR_PUBLISHABLE_KEY`)."""
        publishable_key = self._settings.conductor_publishable_key
        if not publishable_key:
            raise ConfigError(
                f"{env_name('conductor_publishable_key')} is required to create setup links"
            )
        minutes = self._settings.auth_link_expiry_mins if expiry_mins is None else expiry_mins
        with self._timed("auth_sessions", "create"):
            session = await self._client.auth_sessions.create(
                end_user_id=end_user_id, publishable_key=publishable_key, link_expiry_mins=minutes
            )
        return AuthLink(session.auth_flow_url, datetime.fromisoformat(session.expires_at))

    async def health_check(self, end_user_id: str) -> float:
        """Check the company's QuickBooks answers; its round trip in ms (SDK errors propagate)."""
        with self._timed("health_check", "get"):
            response = await self._client.qbd.health_check(conductor_end_user_id=end_user_id)
        return response.duration

    # ----- QuickBooks objects ---------------------------------------------------------

    def _resource(self, name: str) -> Any:
        return getattr(self._client.qbd, name)

    async def execute(self, end_user_id: str, plan: WritePlan) -> WriteResult:
        """Run the plan's one SDK call; exceptions (ambiguous ones too) propagate unchanged."""
        method = getattr(self._resource(plan.resource), plan.op)
        with self._timed(plan.resource, plan.op):
            obj = await method(conductor_end_user_id=end_user_id, **plan.params)
        return _write_result(obj, plan.object_type_label, plan.action)

    async def current(self, end_user_id: str, resource: str, qbd_id: str) -> dict[str, Any] | None:
        """The object as QuickBooks holds it now (API JSON), or None when it does not exist."""
        try:
            with self._timed(resource, "retrieve"):
                obj = await self._resource(resource).retrieve(
                    qbd_id, conductor_end_user_id=end_user_id
                )
        except conductor.APIStatusError as exc:
            if is_gone(normalize(exc)):
                return None
            raise
        found: dict[str, Any] = obj.model_dump(by_alias=True, mode="json")
        return found

    async def landed(
        self, end_user_id: str, plan: WritePlan, *, since: datetime
    ) -> WriteResult | None:
        """What an earlier attempt of ``plan`` left, or None when it did not land (proven).

        A create: the object with its marker (``find_created``). A delete: the object is
        gone. A void: QuickBooks shows it void. An update returns None: the writer compares
        the current object with what it sends. Errors propagate (nothing proven).
        """
        if plan.op == "create":
            return await self.find_created(end_user_id, plan, since=since)
        if plan.op not in ("void", "delete") or plan.qbd_id is None:
            return None
        record = await self.current(end_user_id, plan.resource, plan.qbd_id)
        if plan.op == "delete":
            if record is not None:
                return None
            return WriteResult(plan.object_type_label, plan.qbd_id, None, None, action=plan.action)
        if record is None or not is_void(record):
            return None
        return WriteResult(
            qbd_object_type=str(record.get("objectType") or plan.object_type_label),
            qbd_id=plan.qbd_id,
            revision_number=record.get("revisionNumber"),
            ref_number=record.get("refNumber"),
            action=plan.action,
        )

    async def deleted_since(
        self, end_user_id: str, transaction_type: str, after: datetime | None
    ) -> list[dict[str, Any]]:
        """Deleted-transaction records of one type, deleted on or after ``after`` (all: None)."""
        filters: dict[str, Any] = {"transaction_types": [transaction_type]}
        if after is not None:
            filters["deleted_after"] = after.isoformat(timespec="seconds")
        with self._timed("deleted_transactions", "list"):
            listing = await self._client.qbd.deleted_transactions.list(
                conductor_end_user_id=end_user_id, **filters
            )
        return [obj.model_dump(by_alias=True, mode="json") for obj in listing.data]

    async def retrieve(self, end_user_id: str, resource: str, qbd_id: str) -> ExistingObject:
        """The object's current revision (to plan an update, or refetch after a stale one)."""
        with self._timed(resource, "retrieve"):
            obj = await self._resource(resource).retrieve(qbd_id, conductor_end_user_id=end_user_id)
        return ExistingObject(qbd_id=obj.id, revision_number=obj.revision_number, resource=resource)

    async def iter_objects(
        self, end_user_id: str, resource: str, **filters: Any
    ) -> AsyncIterator[dict[str, Any]]:
        """Every object of a list, all pages, as API-shaped (camelCase) dicts."""
        listing = self._resource(resource).list(conductor_end_user_id=end_user_id, **filters)
        if hasattr(listing, "__aiter__"):
            async for obj in listing:
                yield obj.model_dump(by_alias=True, mode="json")
            return
        for obj in (await listing).data:
            yield obj.model_dump(by_alias=True, mode="json")

    async def find_created(
        self,
        end_user_id: str,
        plan: WritePlan,
        *,
        since: datetime,
        margin: timedelta = DEFAULT_LOOKUP_MARGIN,
    ) -> WriteResult | None:
        """The object an ambiguous create of `plan` made, or None once absence is proven.

        `since` is when the first attempt started (timezone-aware). Update plans return
        None: repeating an update is safe (a stale revision fails with 3200, never doubles).
        A create without a marker (lists that take no `externalId`) is found by its name.
        """
        marker = plan.external_id
        if plan.op != "create":
            return None
        if since.tzinfo is None:
            raise ValueError("since must be timezone-aware")
        if marker is None:
            return await self._find_named(end_user_id, plan)
        with self._timed(plan.resource, "find_created"):
            direct = self._direct_filters(plan)
            if direct is not None:
                found = await self._match(end_user_id, plan, marker, direct, no_match_ok=True)
                if found is not None:
                    return found
            scan = self._scan_filters(plan, since - margin)
            return await self._match(end_user_id, plan, marker, scan)

    async def _find_named(self, end_user_id: str, plan: WritePlan) -> WriteResult | None:
        """A create without an `externalId` (classes, accounts, terms...): adopt by name.

        Names are unique in each QuickBooks list, so the object of that name is the one
        the create made (or one a person made meanwhile, which a second create would only
        collide with).
        """
        if plan.name is None or plan.resource not in _NAME_FILTERS:
            return None
        wanted = plan.name.casefold()
        filters = {_NAME_FILTERS[plan.resource]: [plan.name]}
        lister = self._resource(plan.resource).list
        with self._timed(plan.resource, "find_created"):
            try:
                listing = lister(conductor_end_user_id=end_user_id, **filters)
                page = listing if hasattr(listing, "__aiter__") else (await listing).data
                async for obj in _each(page):
                    if str(getattr(obj, "name", "")).casefold() == wanted:
                        return _write_result(obj, plan.object_type_label)
            except conductor.APIStatusError as exc:
                if not _is_no_match(exc):
                    raise
        return None

    @staticmethod
    def _direct_filters(plan: WritePlan) -> dict[str, Any] | None:
        if plan.name is not None and plan.resource in _NAME_FILTERS:
            return {_NAME_FILTERS[plan.resource]: [plan.name]}
        if plan.ref_number:
            return {"ref_numbers": [plan.ref_number]}
        return None

    @staticmethod
    def _scan_filters(plan: WritePlan, after: datetime) -> dict[str, Any]:
        filters: dict[str, Any] = {"updated_after": after.isoformat(timespec="seconds")}
        if plan.transaction_date is not None:
            day = plan.transaction_date.isoformat()
            filters |= {"transaction_date_from": day, "transaction_date_to": day}
            filters |= {"include_line_items": False, **plan.party_filter}
        else:
            filters["status"] = "all"
        return filters

    async def _match(
        self,
        end_user_id: str,
        plan: WritePlan,
        marker: str,
        filters: dict[str, Any],
        *,
        no_match_ok: bool = False,
    ) -> WriteResult | None:
        lister = self._resource(plan.resource).list
        try:
            async for obj in lister(conductor_end_user_id=end_user_id, **filters):
                if same_external_id(getattr(obj, "external_id", None), marker):
                    return _write_result(obj, plan.object_type_label)
        except conductor.APIStatusError as exc:
            if not (no_match_ok and _is_no_match(exc)):
                raise
        return None
