"""List queries: QuickBooks' filters and Conductor's cursor pagination."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

from qbdsim._company import CompanyFile, Obj
from qbdsim._errors import SimError, invalid_request, request_error
from qbdsim._resources import TRANSACTION_TYPES, Resource

__all__ = [
    "CURSOR_TTL_S",
    "Pager",
    "Params",
    "deleted_transactions",
    "parse_limit",
    "select",
    "shape_for_list",
]

Params = dict[str, list[str]]

# Transaction types the deleted-transactions endpoint accepts but the simulator never has.
_UNMODELED_TXN_TYPES: Final = frozenset(
    {
        "ar_refund_credit_card",
        "build_assembly",
        "charge",
        "check",
        "credit_card_charge",
        "credit_card_credit",
        "deposit",
        "estimate",
        "inventory_adjustment",
        "item_receipt",
        "journal_entry",
        "sales_order",
        "sales_tax_payment_check",
        "time_tracking",
        "transfer_inventory",
        "vehicle_mileage",
    }
)
CURSOR_TTL_S: Final = 10.0  # Conductor: each page must be asked for within 10 s of the last
MAX_LIMIT: Final = 150


def _one(params: Params, key: str) -> str | None:
    values = params.get(key)
    return values[-1] if values else None


def _bool(params: Params, key: str, default: bool) -> bool:
    value = _one(params, key)
    if value is None:
        return default
    if value not in ("true", "false"):
        raise invalid_request(f"Invalid boolean for `{key}`: {value!r}.")
    return value == "true"


def _instant(key: str, value: str, *, end_of_day: bool) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise invalid_request(f"Invalid date or datetime for `{key}`: {value!r}.") from exc
    if len(value) == 10 and end_of_day:
        parsed += timedelta(days=1, microseconds=-1)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _label(obj: Obj) -> str:
    return str(obj.get("fullName") or obj.get("name") or "")


def _ref_id(obj: Obj, key: str) -> str | None:
    ref = obj.get(key)
    return ref.get("id") if ref else None


def _ref_number(obj: Obj) -> str:
    return str(obj.get("refNumber") or "")


def _text_test(get: Callable[[Obj], str], suffix: str, needle: str) -> Callable[[Obj], bool]:
    def test(obj: Obj) -> bool:
        text = get(obj).casefold()
        if suffix == "Contains":
            return needle in text
        if suffix == "StartsWith":
            return text.startswith(needle)
        return text.endswith(needle)

    return test


def _range_test(
    get: Callable[[Obj], str], low: str | None, high: str | None
) -> Callable[[Obj], bool]:
    lo, hi = (low or "").casefold(), None if high is None else high.casefold()

    def test(obj: Obj) -> bool:
        text = get(obj).casefold()
        return text >= lo and (hi is None or text <= hi)

    return test


def _ref_test(ref_key: str, wanted: frozenset[str]) -> Callable[[Obj], bool]:
    def test(obj: Obj) -> bool:
        return _ref_id(obj, ref_key) in wanted

    return test


def _equals_test(key: str, wanted: str) -> Callable[[Obj], bool]:
    def test(obj: Obj) -> bool:
        return obj.get(key) == wanted

    return test


def _missing(what: str) -> SimError:
    return request_error(
        "500",
        "The query request has not been fully completed. There was a required element "
        f'("{what}") that could not be found in QuickBooks.',
        status=404,
    )


def select(company: CompanyFile, res: Resource, params: Params) -> list[Obj]:
    """Return the objects of ``res`` matching the list filters in ``params``, in QB order."""
    store = company.objects[res.path]
    ids = params.get("ids")
    if ids:
        out = []
        for object_id in ids:
            obj = store.get(object_id)
            if obj is None:
                raise _missing(object_id)
            out.append(obj)
        return out
    names = params.get("fullNames") or params.get("names")
    if names:
        by_name = {_label(obj).casefold(): obj for obj in store.values()}
        out = []
        for name in names:
            found = by_name.get(name.casefold())
            if found is None:
                raise _missing(name)
            out.append(found)
        return out
    ref_numbers = params.get("refNumbers")
    if ref_numbers:
        wanted = set(ref_numbers)
        return [obj for obj in store.values() if obj.get("refNumber") in wanted]
    tests = list(_filters(res, params))
    if not tests:
        return list(store.values())
    return [obj for obj in store.values() if all(test(obj) for test in tests)]


def _filters(res: Resource, params: Params) -> Iterable[Callable[[Obj], bool]]:
    if not res.is_transaction:
        status = _one(params, "status") or "active"
        if status == "active":
            yield lambda obj: obj.get("isActive") is not False
        elif status == "inactive":
            yield lambda obj: obj.get("isActive") is False
        elif status != "all":
            raise invalid_request(f"Invalid value for `status`: {status!r}.")
    text_key = "refNumber" if res.is_transaction else "name"
    get = _ref_number if res.is_transaction else _label
    for suffix in ("Contains", "StartsWith", "EndsWith"):
        value = _one(params, f"{text_key}{suffix}")
        if value is not None:
            yield _text_test(get, suffix, value.casefold())
    low, high = _one(params, f"{text_key}From"), _one(params, f"{text_key}To")
    if low is not None or high is not None:
        yield _range_test(get, low, high)
    after, before = _one(params, "updatedAfter"), _one(params, "updatedBefore")
    if after is not None:
        since = _instant("updatedAfter", after, end_of_day=False)
        yield lambda obj: datetime.fromisoformat(obj["updatedAt"]) >= since
    if before is not None:
        until = _instant("updatedBefore", before, end_of_day=True)
        yield lambda obj: datetime.fromisoformat(obj["updatedAt"]) <= until
    date_from, date_to = _one(params, "transactionDateFrom"), _one(params, "transactionDateTo")
    for key, value in (("transactionDateFrom", date_from), ("transactionDateTo", date_to)):
        if value is not None:
            try:
                date.fromisoformat(value)
            except ValueError as exc:
                raise invalid_request(f"Invalid date for `{key}`: {value!r}.") from exc
    if date_from is not None:
        yield lambda obj: str(obj.get("transactionDate")) >= date_from
    if date_to is not None:
        yield lambda obj: str(obj.get("transactionDate")) <= date_to
    for key, ref_key in (
        ("customerIds", "customer"),
        ("vendorIds", "vendor"),
        ("classIds", "class"),
    ):
        wanted = params.get(key)
        if wanted:
            yield _ref_test(ref_key, frozenset(wanted))
    payment_status = _one(params, "paymentStatus")
    if payment_status in ("paid", "not_paid"):
        paid = payment_status == "paid"
        yield lambda obj: bool(obj.get("isPaid")) is paid
    for key in ("accountType", "paymentMethodType"):
        wanted_value = _one(params, key)
        if wanted_value is not None:
            yield _equals_test(key, wanted_value)


def deleted_transactions(company: CompanyFile, params: Params) -> list[Obj]:
    """Return the deleted-transaction records the query asks for.

    Grouped by transaction type in the order ``transactionTypes`` names them, then by delete
    time; ``deletedAfter`` is inclusive from the start of a bare date, ``deletedBefore`` to its
    end. QuickBooks keeps 90 days of deletions; the simulator keeps them all.
    """
    types = params.get("transactionTypes")
    if not types:
        raise invalid_request(
            "The `transactionTypes` query parameter is required.", "MISSING_REQUIRED_PARAMETER"
        )
    unknown = sorted(set(types) - set(TRANSACTION_TYPES) - _UNMODELED_TXN_TYPES)
    if unknown:
        raise invalid_request(f"Invalid value for `transactionTypes`: {unknown}.")
    after, before = _one(params, "deletedAfter"), _one(params, "deletedBefore")
    since = None if after is None else _instant("deletedAfter", after, end_of_day=False)
    until = None if before is None else _instant("deletedBefore", before, end_of_day=True)
    out = []
    for txn_type in dict.fromkeys(types):
        for record in company.deleted:
            if record["transactionType"] != txn_type:
                continue
            at = datetime.fromisoformat(record["deletedAt"])
            if (since is None or at >= since) and (until is None or at <= until):
                out.append(record)
    return out


def shape_for_list(res: Resource, params: Params) -> Callable[[Obj], Obj]:
    """Return how a list shows each object (line items and linked transactions are opt-in)."""
    strip: dict[str, list[Any]] = {}
    if res.is_transaction:
        if not _bool(params, "includeLineItems", default=True):
            for key in ("lines", "expenseLines", "itemLines", "lineGroups", "itemGroupLines"):
                strip[key] = []
        if not _bool(params, "includeLinkedTransactions", default=False):
            strip["linkedTransactions"] = []

    def shape(obj: Obj) -> Obj:
        if not strip:
            return obj
        return {k: strip.get(k, v) for k, v in obj.items()}

    return shape


def parse_limit(params: Params, *, paginated: bool) -> int | None:
    """Return the ``limit`` parameter (1..150 on paginated lists, default 150 there)."""
    value = _one(params, "limit")
    if value is None:
        return MAX_LIMIT if paginated else None
    try:
        limit = int(value)
    except ValueError as exc:
        raise invalid_request(f"Invalid integer for `limit`: {value!r}.") from exc
    if limit < 1 or (paginated and limit > MAX_LIMIT):
        raise invalid_request(f"`limit` must be between 1 and {MAX_LIMIT}; got {limit}.")
    return limit


@dataclass(slots=True)
class _Cursor:
    path: str
    matches: list[Obj]
    offset: int
    touched_at: float = field(default_factory=time.monotonic)


class Pager:
    """Conductor's cursors: one value per listing, each call with it returns the next page."""

    def __init__(self, ttl_s: float = CURSOR_TTL_S) -> None:
        self.ttl_s = ttl_s
        self._cursors: dict[str, _Cursor] = {}

    def _purge(self, now: float) -> None:
        expired = [k for k, c in self._cursors.items() if now - c.touched_at > self.ttl_s]
        for key in expired:
            del self._cursors[key]

    def first(
        self, res: Resource, matches: list[Obj], limit: int
    ) -> tuple[list[Obj], str | None, int]:
        """Return (page, nextCursor, remainingCount) for a listing's first page."""
        if len(matches) <= limit:
            return matches, None, 0
        if len(self._cursors) >= 64:
            self._purge(time.monotonic())
        cursor = secrets.token_hex(12)
        self._cursors[cursor] = _Cursor(res.path, matches, limit)
        return matches[:limit], cursor, len(matches) - limit

    def next(
        self, company: CompanyFile, res: Resource, cursor: str, limit: int
    ) -> tuple[list[Obj], str | None, int]:
        """Return the next page of the listing ``cursor`` belongs to."""
        state = self._cursors.get(cursor)
        now = time.monotonic()
        if state is None or state.path != res.path or now - state.touched_at > self.ttl_s:
            self._cursors.pop(cursor, None)
            raise invalid_request(
                f"The cursor {cursor!r} is invalid or expired. Cursors expire "
                f"{self.ttl_s:g} seconds after the previous page; start the listing again.",
                "INVALID_CURSOR",
            )
        start, state.offset = state.offset, state.offset + limit
        store = company.objects[res.path]
        # Objects deleted since the listing began are skipped; edits show their new state.
        page = [store[o["id"]] for o in state.matches[start : state.offset] if o["id"] in store]
        remaining = max(len(state.matches) - state.offset, 0)
        if not remaining:
            del self._cursors[cursor]
            return page, None, 0
        state.touched_at = now
        return page, cursor, remaining
