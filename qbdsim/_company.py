"""One QuickBooks company file: its objects, ids, edit sequences, names and references.

Objects are stored already in the API's JSON shape (camelCase, every key present), so reads
are a dictionary lookup and a JSON dump. All methods run on the simulator's event loop; the
per-company lock in :mod:`qbdsim._conductor` makes them one-at-a-time like QuickBooks.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final

from qbdsim import _transactions
from qbdsim._errors import invalid_request, request_error
from qbdsim._resources import REFERENCES, RESOURCES, Reference, Resource
from qbdsim._shapes import conform, money, parse_money

__all__ = ["CompanyFile", "Obj"]

Obj = dict[str, Any]

_MONEY_KEYS: Final = frozenset(
    {
        "amount",
        "rate",
        "cost",
        "totalAmount",
        "openingBalance",
        "price",
        "salesPrice",
        "purchaseCost",
        "paymentAmount",
        "discountAmount",
        "creditLimit",
        "appliedAmount",
    }
)
# Keys the transaction builders handle themselves rather than copy into the object.
_BUILT_KEYS: Final = frozenset(
    {
        "revisionNumber",
        "lines",
        "expenseLines",
        "itemLines",
        "applyToTransactions",
        "isAutoApply",
        "clearExpenseLines",
        "clearItemLines",
        "openingBalance",
        "openingBalanceDate",
    }
)


def _now_text(now: float) -> str:
    return datetime.fromtimestamp(now, UTC).isoformat(timespec="milliseconds")


class CompanyFile:
    """The objects of one end user's company file, with QuickBooks' rules on every write."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self.objects: dict[str, dict[str, Obj]] = {path: {} for path in RESOURCES}
        self._names: dict[str, dict[str, tuple[str, str]]] = {}
        self._list_counters: dict[str, int] = dict.fromkeys(RESOURCES, 0x80000000)
        self._txn_counter = 0x1A0
        self._line_counter = 0x2F0
        self._last_revision = 0
        self._created_at = int(clock())
        # Payments applied to invoices, indexed both ways: invoice -> payment -> amount.
        self.applied: dict[str, dict[str, Decimal]] = {}
        self._applications: dict[str, dict[str, Decimal]] = {}
        self.pending_plan: dict[str, Decimal] | None = None

    # ----- ids and clocks -------------------------------------------------------------

    def _new_list_id(self, path: str) -> str:
        self._list_counters[path] += 1
        return f"{self._list_counters[path]:08X}-{self._created_at}"

    def new_txn_id(self) -> str:
        """Return a fresh TxnID; unique across every transaction type."""
        self._txn_counter += 1
        return f"{self._txn_counter:X}-{self._created_at}"

    def new_line_id(self) -> str:
        """Return a fresh TxnLineID; unique across every line type."""
        self._line_counter += 1
        return f"{self._line_counter:X}-{self._created_at}"

    def _stamp(self, obj: Obj, *, created: bool) -> None:
        now = self._clock()
        # QuickBooks' EditSequence is unix seconds, but it must change on every edit.
        self._last_revision = max(int(now), self._last_revision + 1)
        obj["revisionNumber"] = str(self._last_revision)
        obj["updatedAt"] = _now_text(now)
        if created:
            obj["createdAt"] = obj["updatedAt"]

    def stamp(self, obj: Obj) -> None:
        """Give ``obj`` a new edit sequence, as QuickBooks does when a payment changes it."""
        self._stamp(obj, created=False)

    def applications_of(self, payment_id: str) -> dict[str, Decimal]:
        """Return {invoice id: amount} a payment applies."""
        return dict(self._applications.get(payment_id, {}))

    def set_applications(self, payment_id: str, plan: dict[str, Decimal]) -> list[str]:
        """Replace a payment's applications; return every invoice id whose balance changed."""
        old = self._applications.pop(payment_id, {})
        for invoice_id in old:
            self.applied.get(invoice_id, {}).pop(payment_id, None)
        if plan:
            self._applications[payment_id] = dict(plan)
        for invoice_id, amount in plan.items():
            self.applied.setdefault(invoice_id, {})[payment_id] = amount
        return list(dict.fromkeys([*old, *plan]))

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

    def ref(self, path: str, obj: Obj) -> dict[str, Any]:
        """Return the ``{id, fullName}`` reference other objects hold to ``obj``."""
        del path
        return {"id": obj["id"], "fullName": obj.get("fullName") or obj.get("name")}

    def resolve(self, key: str, reference: Reference, value: Any, owner: Resource) -> Any:
        """Resolve a request ``...Id`` to a reference, or raise QuickBooks' 3140."""
        if value is None:
            return None
        targets = reference.targets or (owner.path,)
        found = self.find(targets, str(value))
        if found is None:
            qb_name = owner.qb_name if reference.qb_name == "parent" else reference.qb_name
            raise request_error(
                "3140",
                f'There is an invalid reference to QuickBooks {qb_name} "{value}" in the '
                f"{owner.qb_name}. QuickBooks error message: Invalid argument. The specified "
                "record does not exist in the list.",
            )
        del key
        return self.ref(*found)

    # ----- generic field mapping ------------------------------------------------------

    def apply_fields(self, owner: Resource, body: dict[str, Any], obj: Obj) -> None:
        """Copy request fields into ``obj``: resolve ``...Id`` references, normalise money."""
        for key, value in body.items():
            if key in _BUILT_KEYS:
                continue
            obj_key, obj_value = self._map_field(owner, key, value)
            obj[obj_key] = obj_value

    def _map_field(self, owner: Resource, key: str, value: Any) -> tuple[str, Any]:
        reference = REFERENCES.get(key)
        if reference is not None:
            return reference.response_key, self.resolve(key, reference, value, owner)
        if key in _MONEY_KEYS and value is not None:
            try:
                return key, money(parse_money(value))
            except ValueError as exc:
                raise invalid_request(f"Invalid money value for `{key}`: {value!r}.") from exc
        if key.endswith("Ids") and isinstance(value, list):
            name = key[:-3] + "s"
            if key == "defaultExpenseAccountIds":
                accounts = REFERENCES["accountId"]
                return name, [self.resolve(key, accounts, v, owner) for v in value]
            return name, [{"id": v, "fullName": None} for v in value]
        if key.endswith("Id") and key != "externalId" and isinstance(value, str):
            # A reference to a type the simulator does not model (tax codes, currencies, ...).
            return key[:-2], {"id": value, "fullName": None}
        if isinstance(value, dict):
            mapped = dict(self._map_field(owner, k, v) for k, v in value.items())
            return key, mapped
        return key, value

    # ----- names ----------------------------------------------------------------------

    def _claim_name(self, res: Resource, obj: Obj, previous: str | None) -> None:
        assert res.namespace is not None
        names = self._names.setdefault(res.namespace, {})
        name = obj.get("name")
        if not isinstance(name, str) or not name.strip():
            raise invalid_request("The `name` field is required.", "MISSING_REQUIRED_PARAMETER")
        if len(name) > res.name_max:
            raise request_error(
                "3070", f'The string "{name}" in the field "Name" is too long.', status=502
            )
        full = obj.get("fullName") or name
        key = full.casefold()
        holder = names.get(key)
        if holder is not None and holder != (res.path, obj["id"]):
            raise request_error("3100", f'The name "{full}" of the list element is already in use.')
        if previous is not None and previous != key:
            names.pop(previous, None)
        names[key] = (res.path, obj["id"])

    @staticmethod
    def _name_key(obj: Obj) -> str:
        return str(obj.get("fullName") or obj.get("name") or "").casefold()

    def _set_hierarchy(self, res: Resource, obj: Obj) -> None:
        parent = obj.get("parent")
        if "fullName" not in obj:
            return
        if parent:
            parent_obj = self.objects[res.path][parent["id"]]
            obj["fullName"] = f"{parent_obj['fullName']}:{obj['name']}"
            obj["sublevel"] = parent_obj["sublevel"] + 1
        else:
            obj["fullName"] = obj["name"]
            obj["sublevel"] = 0

    # ----- writes ---------------------------------------------------------------------

    def _check_required(self, res: Resource, body: dict[str, Any]) -> None:
        for key in res.required:
            if body.get(key) in (None, ""):
                raise invalid_request(
                    f"The `{key}` field is required to create a {res.object_type}.",
                    "MISSING_REQUIRED_PARAMETER",
                )

    def create(self, path: str, body: dict[str, Any]) -> Obj:
        """Create an object from a create-request body and return it."""
        res = RESOURCES[path]
        self._check_required(res, body)
        obj: Obj = {"objectType": res.object_type, "customFields": []}
        if res.is_transaction:
            obj["id"] = self.new_txn_id()
            self.apply_fields(res, body, obj)
            _transactions.build(self, res, body, obj, creating=True)
        else:
            obj["id"] = self._new_list_id(path)
            obj["fullName"] = None
            obj["isActive"] = True
            self.apply_fields(res, body, obj)
            self._set_hierarchy(res, obj)
            self._claim_name(res, obj, previous=None)
            if "openingBalance" in body:
                opening = money(parse_money(body["openingBalance"]))
                obj["balance"] = obj["totalBalance"] = opening
            elif path in ("customers", "vendors", "accounts"):
                obj["balance"] = obj["totalBalance"] = "0.00"
        self._stamp(obj, created=True)
        stored = conform(res.model, obj)
        self.objects[path][stored["id"]] = stored
        if res.is_transaction:
            _transactions.after_write(self, res, stored)
        return stored

    def require(self, path: str, object_id: str) -> Obj:
        """Return the object or raise QuickBooks' 3120 (object not found)."""
        obj = self.objects[path].get(object_id)
        if obj is None:
            raise request_error(
                "3120", f'Object "{object_id}" specified in the request cannot be found.'
            )
        return obj

    def update(self, path: str, object_id: str, body: dict[str, Any]) -> Obj:
        """Apply an update body (with ``revisionNumber``) and return the updated object."""
        res = RESOURCES[path]
        current = self.require(path, object_id)
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
        self.apply_fields(res, body, obj)
        if res.is_transaction:
            _transactions.build(self, res, body, obj, creating=False)
        else:
            self._set_hierarchy(res, obj)
            self._claim_name(res, obj, previous=self._name_key(current))
        self._stamp(obj, created=False)
        stored = conform(res.model, obj)
        self.objects[path][object_id] = stored
        if res.is_transaction:
            _transactions.after_write(self, res, stored)
        return stored

    def delete(self, path: str, object_id: str) -> Obj:
        """Delete a transaction and return Conductor's delete response."""
        obj = self.require(path, object_id)
        del self.objects[path][object_id]
        _transactions.after_delete(self, RESOURCES[path], obj)
        return {
            "id": object_id,
            "objectType": obj["objectType"],
            "deleted": True,
            "refNumber": obj.get("refNumber"),
        }

    def void(self, path: str, object_id: str) -> Obj:
        """Void a transaction (amounts to zero, kept in the file) and return the void response."""
        res = RESOURCES[path]
        obj = dict(self.require(path, object_id))
        _transactions.void(self, res, obj)
        self._stamp(obj, created=False)
        stored = conform(res.model, obj)
        self.objects[path][object_id] = stored
        _transactions.after_write(self, res, stored)
        return {
            "id": object_id,
            "objectType": obj["objectType"],
            "refNumber": obj.get("refNumber"),
            "voided": True,
            "createdAt": obj["createdAt"],
            "updatedAt": obj["updatedAt"],
        }

    def touch_balance(self, path: str, object_id: str, balance: str) -> None:
        """Set a customer's or vendor's balance (QuickBooks does not bump its edit sequence)."""
        obj = self.objects[path].get(object_id)
        if obj is not None:
            obj["balance"] = obj["totalBalance"] = balance
