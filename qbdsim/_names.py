"""QuickBooks' name rules for list objects: required, length caps, no colons, unique names.

Caps (characters): customers and vendors 41; every kind of item, accounts, classes, both kinds
of terms and payment methods 31; sales tax codes 3. A name longer than its cap is status 3070
(QuickBooks' own "string too long" text).

A colon separates the levels of a hierarchical list's full name (``Parent:Child``), so
QuickBooks refuses it inside any name, hierarchical lists included (a child's name is one
level; its parent comes from ``parentId``). The qbXML status code for that refusal was not
found; the simulator answers 3180 ("error when saving") on create and 3170 ("error when
modifying") on update, with QuickBooks' reason in the message.

Names are unique case-insensitively by full name within a namespace: customers and vendors
share one (with employees and other names in QuickBooks), every kind of item shares one, both
kinds of terms share one. A clash is status 3100.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qbdsim._errors import invalid_request, request_error
from qbdsim._resources import Resource

if TYPE_CHECKING:
    from qbdsim._company import Obj

__all__ = ["Names", "name_key"]


def name_key(obj: Obj) -> str:
    """Return the key a name is unique under: its full name, case-folded."""
    return str(obj.get("fullName") or obj.get("name") or "").casefold()


class Names:
    """The names taken in each namespace of one company file."""

    def __init__(self) -> None:
        self._taken: dict[str, dict[str, tuple[str, str]]] = {}

    def claim(self, res: Resource, obj: Obj, *, previous: Obj | None) -> None:
        """Check ``obj``'s name against QuickBooks' rules and take it; raise on a refusal."""
        assert res.namespace is not None
        name: Any = obj.get("name")
        if not isinstance(name, str) or not name.strip():
            raise invalid_request("The `name` field is required.", "MISSING_REQUIRED_PARAMETER")
        if len(name) > res.name_max:
            raise request_error("3070", f'The string "{name}" in the field "Name" is too long.')
        if ":" in name:
            verb, code = ("saving", "3180") if previous is None else ("modifying", "3170")
            raise request_error(
                code,
                f"There was an error when {verb} a {res.qb_name}. QuickBooks error message: "
                f'The name "{name}" contains a colon (:). Names cannot contain colons.',
            )
        taken = self._taken.setdefault(res.namespace, {})
        key = name_key(obj)
        holder = taken.get(key)
        if holder is not None and holder != (res.path, obj["id"]):
            full = obj.get("fullName") or name
            raise request_error("3100", f'The name "{full}" of the list element is already in use.')
        if previous is not None:
            old = name_key(previous)
            if old != key and taken.get(old) == (res.path, obj["id"]):
                del taken[old]
        taken[key] = (res.path, obj["id"])

    def release(self, res: Resource, obj: Obj) -> None:
        """Free a deleted object's name."""
        if res.namespace is None:
            return
        taken = self._taken.get(res.namespace, {})
        if taken.get(name_key(obj)) == (res.path, obj["id"]):
            del taken[name_key(obj)]
