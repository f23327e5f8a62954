"""The simulator's state and the path every QuickBooks request takes through it.

A request for a company file first meets the injected faults and the end-user's permission,
then waits for that file's lock (QuickBooks answers one request at a time per company file,
like the Web Connector's queue), then for the injected latency, then finds out whether
QuickBooks is reachable, and only then runs against the company file.

A deleted end-user is gone: its company file goes with it, every later QuickBooks request
naming it answers 404 ``INVALID_REQUEST_ERROR`` / ``RESOURCE_MISSING`` ("No end-user exists
with id ..."; real Conductor's answer is not documented), and its ``sourceId`` is free for a
replacement end-user.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from conductor.types import EndUser

from qbdsim._company import CompanyFile
from qbdsim._errors import (
    COMPANY_STATES,
    ONLINE,
    SimError,
    authentication_error,
    connection_error,
    fault_error,
    invalid_request,
    not_found,
    permission_error,
)
from qbdsim._faults import FaultInjector
from qbdsim._query import Pager
from qbdsim._seed import seed_company
from qbdsim._shapes import conform

__all__ = ["Company", "Outcome", "Simulator", "error_outcome", "iso"]

T = TypeVar("T")

_ID_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


def iso(now: float) -> str:
    return datetime.fromtimestamp(now, UTC).isoformat(timespec="milliseconds")


@dataclass(slots=True)
class Company:
    """One end user's company file plus what surrounds it: reachability, queue, counters."""

    end_user_id: str
    state: str
    file: CompanyFile = field(default_factory=CompanyFile)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    pager: Pager = field(default_factory=Pager)
    requests: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    committed_writes: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    writes_in_flight: int = 0
    denied: bool = False  # QuickBooks requests answer PERMISSION_ERROR while True

    def stats(self) -> dict[str, Any]:
        """Return the counters the control API shows."""
        return {
            "end_user_id": self.end_user_id,
            "state": self.state,
            "denied": self.denied,
            "requests": sum(self.requests.values()),
            "by_operation": dict(self.requests),
            "errors": sum(self.errors.values()),
            "errors_by_code": dict(self.errors),
            "committed_writes": self.committed_writes,
            "in_flight": self.in_flight,
            "max_in_flight": self.max_in_flight,
            "writes_in_flight": self.writes_in_flight,
        }


@dataclass(slots=True)
class Outcome:
    """The result of one Conductor request, as the log records it."""

    status: int = 200
    error_code: str | None = None
    error_type: str | None = None
    integration_code: str | None = None
    injected: bool = False
    ambiguous: bool = False


class Simulator:
    """Every end user, company file, key, fault and log entry of one simulator."""

    def __init__(
        self, *, auto_connect: bool = False, seed: int | None = None, seed_demo: bool = False
    ) -> None:
        self.auto_connect = auto_connect
        self.seed_demo = seed_demo
        self.seed = seed
        self.faults = FaultInjector(seed)
        self.shutdown = asyncio.Event()
        self._reset_state()

    def _reset_state(self) -> None:
        self._random = random.Random(self.seed)
        self.end_users: dict[str, dict[str, Any]] = {}
        self.companies: dict[str, Company] = {}
        self.revoked_keys: set[str] = set()
        self.auth_sessions: dict[str, str] = {}  # auth session id -> end user id
        self.log: list[dict[str, Any]] = []
        self._request_seq = 0

    def reset(self) -> None:
        """Empty everything: end users, company files, faults, revoked keys, the log."""
        self._reset_state()
        self.faults = FaultInjector(self.seed)

    # ----- ids ------------------------------------------------------------------------

    def random_id(self, prefix: str, length: int = 14) -> str:
        """Return a seeded id like ``end_usr_1a2b3c...``."""
        return prefix + "".join(self._random.choices(_ID_ALPHABET, k=length))

    def next_request_id(self) -> str:
        """Return a new ``req_...`` id."""
        self._request_seq += 1
        return f"req_{self._request_seq:012d}"

    # ----- auth and end users ---------------------------------------------------------

    def authenticate(self, authorization: str | None) -> None:
        """Raise the 401 Conductor gives for a missing, malformed or revoked secret key."""
        if not authorization:
            raise authentication_error(
                "Missing API key. Pass your secret key in the `Authorization` header as "
                "`Bearer sk_...`."
            )
        scheme, _, key = authorization.partition(" ")
        if scheme != "Bearer" or not key.startswith("sk_") or len(key) < 4 or " " in key:
            raise authentication_error(
                "Invalid API key provided. Secret keys start with `sk_`; find yours in the "
                "Conductor dashboard."
            )
        if key in self.revoked_keys:
            raise authentication_error("The API key provided has been revoked.")

    def create_end_user(
        self, company_name: str, email: str, source_id: str, *, end_user_id: str | None = None
    ) -> dict[str, Any]:
        """Create an end user and its (not yet connected) company file."""
        if any(user["sourceId"] == source_id for user in self.end_users.values()):
            raise invalid_request(
                f"An end-user with sourceId {source_id!r} already exists.", "DUPLICATE_SOURCE_ID"
            )
        end_user_id = end_user_id or self.random_id("end_usr_")
        user = conform(
            EndUser,
            {
                "id": end_user_id,
                "companyName": company_name,
                "email": email,
                "sourceId": source_id,
                "createdAt": iso(time.time()),
            },
        )
        self.end_users[end_user_id] = user
        company = Company(end_user_id, "not_set_up")
        if self.seed_demo:
            seed_company(company.file, {}, demo=True, seed=self.seed)
        self.companies[end_user_id] = company
        if self.auto_connect:
            self.set_state(end_user_id, ONLINE)
        return user

    def ensure_end_user(self, end_user_id: str) -> Company:
        """Return the company of ``end_user_id``, creating the end user if the id is new."""
        company = self.companies.get(end_user_id)
        if company is None:
            self.create_end_user(
                end_user_id, f"{end_user_id}@example.com", end_user_id, end_user_id=end_user_id
            )
            company = self.companies[end_user_id]
        return company

    def delete_end_user(self, end_user_id: str) -> None:
        """Delete an end user and its company file; raise 404 if there is none."""
        if self.end_users.pop(end_user_id, None) is None:
            raise not_found(f"No end-user exists with id {end_user_id!r}.")
        self.companies.pop(end_user_id, None)
        for session_id in [s for s, user in self.auth_sessions.items() if user == end_user_id]:
            del self.auth_sessions[session_id]

    def set_state(self, end_user_id: str, state: str) -> None:
        """Change a company file's reachability; ``online`` also completes the auth flow."""
        if state not in COMPANY_STATES:
            raise invalid_request(
                f"Unknown state {state!r}; expected one of {sorted(COMPANY_STATES)}."
            )
        company = self.ensure_end_user(end_user_id)
        company.state = state
        user = self.end_users[end_user_id]
        if state != "not_set_up" and not user["integrationConnections"]:
            user["integrationConnections"].append(
                {
                    "id": self.random_id("int_conn_"),
                    "objectType": "integration_connection",
                    "integrationSlug": "quickbooks_desktop",
                    "createdAt": iso(time.time()),
                    "lastRequestAt": None,
                    "lastSuccessfulRequestAt": None,
                }
            )

    def company_for(self, end_user_id: str | None) -> Company:
        """Return the company named by a ``Conductor-End-User-Id`` header, or raise."""
        if not end_user_id:
            raise invalid_request(
                "Missing the `Conductor-End-User-Id` header. QuickBooks Desktop requests must "
                "name the end-user whose company file to use.",
                "MISSING_END_USER_ID",
            )
        company = self.companies.get(end_user_id)
        if company is None:
            raise not_found(f"No end-user exists with id {end_user_id!r}.")
        return company

    # ----- the QuickBooks path --------------------------------------------------------

    async def run(
        self, company: Company, operation: str, work: Callable[[CompanyFile], T], *, write: bool
    ) -> tuple[T, Outcome]:
        """Run ``work`` against the company file the way Conductor and QuickBooks would."""
        company.requests[operation] += 1
        self._touch_connection(company.end_user_id, succeeded=False)
        faults = self.faults
        injected = faults.injected(company.end_user_id, write=write)
        if injected is not None:
            raise injected
        if company.denied:
            raise permission_error(company.end_user_id)
        if faults.rate_limited():
            raise fault_error(429, faults.config.retry_after_s)
        if faults.failed():
            raise fault_error(faults.config.status)
        if company.state == "not_set_up":
            raise connection_error(company.state)
        async with company.lock:
            company.in_flight += 1
            company.writes_in_flight += write
            company.max_in_flight = max(company.max_in_flight, company.in_flight)
            try:
                delay = faults.latency_s(company.end_user_id)
                if delay:
                    await asyncio.sleep(delay)
                if company.state != ONLINE:
                    raise connection_error(company.state)
                result = work(company.file)
            finally:
                company.in_flight -= 1
                company.writes_in_flight -= write
        outcome = Outcome()
        if write:
            company.committed_writes += 1
            outcome.ambiguous = faults.ambiguous()
        self._touch_connection(company.end_user_id, succeeded=True)
        return result, outcome

    def _touch_connection(self, end_user_id: str, *, succeeded: bool) -> None:
        """Note a request on the end-user's connection: every one sets ``lastRequestAt``;
        one answered end to end also sets ``lastSuccessfulRequestAt`` (as Conductor does).
        """
        user = self.end_users.get(end_user_id)
        if user and user["integrationConnections"]:
            now = iso(time.time())
            connection = user["integrationConnections"][0]
            connection["lastRequestAt"] = now
            if succeeded:
                connection["lastSuccessfulRequestAt"] = now

    def record(
        self,
        *,
        method: str,
        path: str,
        end_user_id: str | None,
        request_id: str,
        started: float,
        outcome: Outcome,
        object_id: str | None = None,
    ) -> None:
        """Append one request to the log (and count its error against the company)."""
        if outcome.error_code is not None and end_user_id in self.companies:
            self.companies[end_user_id].errors[outcome.error_code] += 1
        self.log.append(
            {
                "method": method,
                "path": path,
                "end_user_id": end_user_id,
                "status": outcome.status,
                "error_code": outcome.error_code,
                "error_type": outcome.error_type,
                "integration_code": outcome.integration_code,
                "injected": outcome.injected,
                "started_at": iso(started),
                "finished_at": iso(time.time()),
                "request_id": request_id,
                "object_id": object_id,
                "ambiguous": outcome.ambiguous,
            }
        )


def error_outcome(error: SimError) -> Outcome:
    """Return the log outcome of an error response."""
    return Outcome(
        status=error.status,
        error_code=error.code,
        error_type=error.type,
        integration_code=error.integration_code,
        injected=error.injected,
    )
