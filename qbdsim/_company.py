"""One QuickBooks company file: its objects, ids, edit sequences, closing date and deletions.

Objects are stored already in the API's JSON shape (camelCase, every key present), so reads
are a dictionary lookup and a JSON dump. All methods run on the simulator's event loop; the
per-company lock in :mod:`qbdsim._conductor` makes them one-at-a-time like QuickBooks.

Closing date: a transaction dated on or before the company's closing date cannot be added
(status 3180), nor changed, voided or deleted (status 3170), with QuickBooks' reason in the
message (the exact qbXML code for this refusal was not found). Edits made "in QuickBooks"
through the control API stand for an accountant who knows the closing-date password: they
skip the closing date and the edit-sequence check.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any

from qbdsim import _transactions
from qbdsim._balances import refresh
from qbdsim._errors import invalid_request, request_error
from qbdsim._fields import apply_fields
from qbdsim._ledger import Ledger
from qbdsim._names import Names
from qbdsim._resources import RESOURCES, Resource
from qbdsim._shapes import conform, money, parse_money

__all__ = ["CompanyFile", "Obj"]

Obj = dict[str, Any]


def _now_text(now: float) -> str:
    return datetime.fromtimestamp(now, UTC).isoformat(timespec="milliseconds")


class CompanyFile:
    """The objects of one end user's company file, with QuickBooks' rules on every write."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self.objects: dict[str, dict[str, Obj]] = {path: {} for path in RESOURCES}
        self.names = Names()
        self.ledger = Ledger()
        self.voided: set[str] = set()
        self.deleted: list[Obj] = []  # deleted-transaction records, in deletion order
        self.closing_date: date | None = None
        # ListIDs are unique within one QuickBooks list: every kind of item is one list, both
        # kinds of terms are one, customers and vendors are one (the entity list).
        self._list_counters: dict[str, int] = {}
        self._txn_counter = 0x1A0
        self._line_counter = 0x2F0
        self._last_revision = 0
        self._created_at = int(clock())

    # ----- ids and clocks -------------------------------------------------------------

    def _new_list_id(self, res: Resource) -> str:
        key = res.namespace or res.path
        self._list_counters[key] = self._list_counters.get(key, 0x80000000) + 1
        return f"{self._list_counters[key]:08X}-{self._created_at}"

    def new_txn_id(self) -> str:
        """Return a fresh TxnID; unique across every transaction type."""
        self._txn_counter += 1
        return f"{self._txn_counter:X}-{self._created_at}"

    def new_line_id(self) -> str:
        """Return a fresh TxnLineID; unique across every line type."""
        self._line_counter += 1
        return f"{self._line_counter:X}-{self._created_at}"

    def now(self) -> str:
        """Return the company clock's time as an API timestamp."""
        return _now_text(self._clock())

    def stamp(self, obj: Obj, *, created: bool = False) -> None:
        """Give ``obj`` a new edit sequence and ``updatedAt`` (and ``createdAt``)."""
        now = self._clock()
        # QuickBooks' EditSequence is unix seconds, but it must change on every edit.
        self._last_revision = max(int(now), self._last_revision + 1)
        obj["revisionNumber"] = str(self._last_revision)
        obj["updatedAt"] = _now_text(now)
        if created:
            obj["createdAt"] = obj["updatedAt"]

    # ----- lookups --------------------------------------------------------------------

    def get(self, path: str, object_id: str) -> Obj | None:
        """Return the stored object, or None."""
        return self.objects[path].get(object_id)

    def find(self, paths: tuple[str, ...], object_id: str) -> tuple[str, Obj] | None:
        """Return (path, object) for the first of ``paths`` holding ``object_id``."""
        for path in paths:
            obj = self.objects[path].get(object_id)
            if obj is not None:
                return path, obj
        return None

    def all(self, path: str) -> Iterator[Obj]:
        """Iterate the objects of one type in creation order."""
        return iter(self.objects[path].values())

    @staticmethod
    def ref(obj: Obj) -> dict[str, Any]:
        """Return the ``{id, fullName}`` reference other objects hold to ``obj``."""
        return {"id": obj["id"], "fullName": obj.get("fullName") or obj.get("name")}

    def require(self, path: str, object_id: str) -> Obj:
        """Return the object or raise QuickBooks' 3120 (object not found)."""
        obj = self.objects[path].get(object_id)
        if obj is None:
            raise request_error(
                "3120", f'Object "{object_id}" specified in the request cannot be found.'
            )
        return obj

    def put(self, path: str, obj: Obj) -> Obj:
        """Store ``obj`` in its SDK shape and return the stored copy."""
        stored = conform(RESOURCES[path].model, obj)
        self.objects[path][stored["id"]] = stored
        return stored

    # ----- rules ----------------------------------------------------------------------

    def _check_required(self, res: Resource, body: dict[str, Any]) -> None:
        for key in res.required:
            if body.get(key) in (None, "", []):
                raise invalid_request(
                    f"The `{key}` field is required to create a {res.object_type}.",
                    "MISSING_REQUIRED_PARAMETER",
                )

    def _check_period(self, res: Resource, txn_date: Any, *, adding: bool) -> None:
        if self.closing_date is None or txn_date is None:
            return
        when = _transactions.parse_date("transactionDate", txn_date)
        if when > self.closing_date:
            return
        verb, code = ("saving", "3180") if adding else ("modifying", "3170")
        raise request_error(
            code,
            f"There was an error when {verb} a {res.qb_name}. QuickBooks error message: The "
            f"transaction date {when.isoformat()} is on or before the closing date "
            f"{self.closing_date.isoformat()}; transactions in a closed period cannot be "
            "added, changed or deleted.",
        )

    def _set_hierarchy(self, res: Resource, obj: Obj) -> None:
        if "fullName" not in obj:
            return
        parent = obj.get("parent")
        if parent:
            parent_obj = self.objects[res.path][parent["id"]]
            obj["fullName"] = f"{parent_obj['fullName']}:{obj['name']}"
            obj["sublevel"] = parent_obj["sublevel"] + 1
        else:
            obj["fullName"] = obj["name"]
            obj["sublevel"] = 0

    # ----- writes ---------------------------------------------------------------------

    def create(self, path: str, body: dict[str, Any]) -> Obj:
        """Create an object from a create-request body and return it."""
        res = RESOURCES[path]
        self._check_required(res, body)
        obj: Obj = {"objectType": res.object_type, "customFields": []}
        if res.is_transaction:
            obj["id"] = self.new_txn_id()
            apply_fields(self, res, body, obj)
            self._check_period(res, obj.get("transactionDate"), adding=True)
            plan = _transactions.build(self, res, body, obj, creating=True)
        else:
            obj["id"] = self._new_list_id(res)
            obj["fullName"] = None
            obj["isActive"] = True
            apply_fields(self, res, body, obj)
            self._set_hierarchy(res, obj)
            self.names.claim(res, obj, previous=None)
            if "openingBalance" in body:
                opening = money(parse_money(body["openingBalance"]))
                obj["balance"] = obj["totalBalance"] = opening
            elif path in ("customers", "vendors", "accounts"):
                obj["balance"] = obj["totalBalance"] = "0.00"
        self.stamp(obj, created=True)
        stored = self.put(path, obj)
        if res.is_transaction:
            _transactions.after_write(self, res, stored, plan)
        return self.objects[path][stored["id"]]

    def update(
        self, path: str, object_id: str, body: dict[str, Any], *, in_quickbooks: bool = False
    ) -> Obj:
        """Apply an update body and return the updated object.

        ``in_quickbooks``: the edit is made by a person in QuickBooks (the control API), so
        there is no edit sequence to match and the closing date does not apply.
        """
        res = RESOURCES[path]
        current = self.require(path, object_id)
        if not in_quickbooks:
            revision = body.get("revisionNumber")
            if revision in (None, ""):
                raise invalid_request(
                    "The `revisionNumber` field is required.", "MISSING_REQUIRED_PARAMETER"
                )
            if str(revision) != current["revisionNumber"]:
                raise request_error(
                    "3200",
                    f'The provided revision number (edit sequence) "{revision}" is out-of-date.',
                )
        obj = dict(current)
        apply_fields(self, res, body, obj)
        plan = None
        if res.is_transaction:
            if not in_quickbooks:
                self._check_period(res, current.get("transactionDate"), adding=False)
                self._check_period(res, obj.get("transactionDate"), adding=False)
            plan = _transactions.build(self, res, body, obj, creating=False)
        else:
            self._set_hierarchy(res, obj)
            self.names.claim(res, obj, previous=current)
        self.stamp(obj)
        self.put(path, obj)
        if res.is_transaction:
            _transactions.after_write(self, res, self.objects[path][object_id], plan)
        return self.objects[path][object_id]

    def delete(self, path: str, object_id: str, *, in_quickbooks: bool = False) -> Obj:
        """Delete an object and return Conductor's delete response."""
        res = RESOURCES[path]
        obj = self.require(path, object_id)
        if res.is_transaction:
            if not in_quickbooks:
                self._check_period(res, obj.get("transactionDate"), adding=False)
            del self.objects[path][object_id]
            self.voided.discard(object_id)
            _transactions.forget(self, obj)
            self.deleted.append(
                {
                    "id": object_id,
                    "objectType": "qbd_deleted_transaction",
                    "transactionType": res.txn_type,
                    "refNumber": obj.get("refNumber"),
                    "createdAt": obj.get("createdAt"),
                    "deletedAt": self.now(),
                }
            )
        else:
            del self.objects[path][object_id]
            self.names.release(res, obj)
        return {
            "id": object_id,
            "objectType": obj["objectType"],
            "deleted": True,
            "refNumber": obj.get("refNumber"),
        }

    def void(self, path: str, object_id: str) -> Obj:
        """Void a transaction (amounts to zero, kept in the file) and return the response."""
        res = RESOURCES[path]
        current = self.require(path, object_id)
        if object_id not in self.voided:
            self._check_period(res, current.get("transactionDate"), adding=False)
            obj = dict(current)
            touched = _transactions.void(self, res, obj)
            self.stamp(obj)
            self.put(path, obj)
            self.voided.add(object_id)
            refresh(self, touched | {object_id}, written=object_id)
        obj = self.objects[path][object_id]
        return {
            "id": object_id,
            "objectType": obj["objectType"],
            "refNumber": obj.get("refNumber"),
            "voided": True,
            "createdAt": obj["createdAt"],
            "updatedAt": obj["updatedAt"],
        }
