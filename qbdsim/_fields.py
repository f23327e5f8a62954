"""Request fields onto stored objects: every reference resolved (or refused), money normalised.

A request names other objects by id (``customerId``, ``lines[].itemId``, ``salesTaxCodeId``,
``applyToTransactions[].discountAccountId``...). QuickBooks refuses any id that is not in the
company file with status 3140, and so does the simulator, at any depth of the body. Ids of
list types the simulator does not model (currencies, sales reps, price levels...) cannot
exist in a simulated file, so they are refused the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from qbdsim._errors import SimError, invalid_request, request_error
from qbdsim._resources import NOT_REFERENCES, REFERENCES, Reference, Resource
from qbdsim._shapes import money, parse_money, rate_text

if TYPE_CHECKING:
    from qbdsim._company import CompanyFile, Obj

__all__ = ["BUILT_KEYS", "apply_fields", "invalid_reference", "resolve"]

# Rates and prices keep up to five decimals; other money values are cents.
_RATE_KEYS: Final = frozenset({"rate", "cost", "price", "salesPrice", "purchaseCost"})
_MONEY_KEYS: Final = frozenset(
    {
        "amount",
        "totalAmount",
        "openingBalance",
        "paymentAmount",
        "discountAmount",
        "discountRate",
        "creditLimit",
        "appliedAmount",
    }
)
# Keys the transaction builders handle themselves rather than copy into the object.
BUILT_KEYS: Final = frozenset(
    {
        "revisionNumber",
        "lines",
        "expenseLines",
        "itemLines",
        "applyToTransactions",
        "applyCredits",
        "isAutoApply",
        "clearExpenseLines",
        "clearItemLines",
        "openingBalance",
        "openingBalanceDate",
    }
)


def invalid_reference(kind: str, value: object, owner: Resource, detail: str = "") -> SimError:
    """Return QuickBooks' 3140 for a reference to ``kind`` ``value`` inside ``owner``."""
    reason = detail or "Invalid argument. The specified record does not exist in the list."
    return request_error(
        "3140",
        f'There is an invalid reference to QuickBooks {kind} "{value}" in the '
        f"{owner.qb_name}. QuickBooks error message: {reason}",
    )


def _reference(key: str) -> Reference:
    known = REFERENCES.get(key)
    if known is not None:
        return known
    stem = key[:-3] if key.endswith("Ids") else key[:-2]
    return Reference((), stem[:1].upper() + stem[1:])


def resolve(company: CompanyFile, key: str, value: Any, owner: Resource) -> dict[str, Any] | None:
    """Resolve the request reference ``key``=``value`` to ``{id, fullName}``, or raise 3140."""
    if value is None:
        return None
    reference = _reference(key)
    targets = (owner.path,) if reference.targets is None else reference.targets
    found = company.find(targets, str(value))
    if found is None:
        kind = owner.qb_name if reference.targets is None else reference.qb_name
        raise invalid_reference(kind, value, owner)
    return company.ref(found[1])


def apply_fields(company: CompanyFile, owner: Resource, body: dict[str, Any], obj: Obj) -> None:
    """Copy request fields into ``obj``: resolve references, normalise money values."""
    for key, value in body.items():
        if key in BUILT_KEYS:
            continue
        obj_key, obj_value = _map_field(company, owner, key, value)
        obj[obj_key] = obj_value


def _map_field(company: CompanyFile, owner: Resource, key: str, value: Any) -> tuple[str, Any]:
    if key in NOT_REFERENCES:
        return key, value
    if key.endswith("Ids") and isinstance(value, list):
        return key[:-3] + "s", [resolve(company, key, v, owner) for v in value]
    if key.endswith("Id") and (value is None or isinstance(value, str)):
        return key[:-2], resolve(company, key, value, owner)
    if (key in _MONEY_KEYS or key in _RATE_KEYS) and value is not None:
        try:
            text = rate_text if key in _RATE_KEYS else money
            return key, text(parse_money(value))
        except ValueError as exc:
            raise invalid_request(f"Invalid money value for `{key}`: {value!r}.") from exc
    if isinstance(value, dict):
        return key, _map_dict(company, owner, value)
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return key, [_map_dict(company, owner, v) for v in value]
    return key, value


def _map_dict(company: CompanyFile, owner: Resource, value: dict[str, Any]) -> dict[str, Any]:
    return dict(_map_field(company, owner, k, v) for k, v in value.items())
