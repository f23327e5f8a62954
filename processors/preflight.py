"""Pre-flight: refuse what QuickBooks would refuse, or silently get wrong, before any request.

Pure: an event's `data` and what qbd-sync knows of the company's books (`Books`) in, the
refusals out. A refused event ends `failed` with error type `PREFLIGHT_ERROR` and the first
refusal's rule as its `code`, without a QuickBooks round trip. Rules (each mirrors
QuickBooks Desktop, as the simulator `qbdsim` models it):

    NAME_TOO_LONG           a list object's name is longer than QuickBooks keeps:
                            customers and vendors 41 characters; items, classes, terms,
                            accounts and payment methods 31 (QuickBooks: status 3070)
    NAME_INVALID_CHARACTER  a name holds a colon, QuickBooks' separator of parent and child
                            in a full name (QuickBooks: 3180 on create, 3170 on update)
    REF_NUMBER_TOO_LONG     a ref number is longer than QuickBooks keeps: 11 on invoices,
                            sales receipts, credit memos, purchase orders and bill payments,
                            20 elsewhere (QuickBooks: 3070)
    AMOUNT_RATE_MISMATCH    a line gives rate and amount, and quantity x rate (quantity 1
                            when absent) is not the amount to the cent: QuickBooks would keep
                            the amount and silently replace the rate
    TOTAL_MISMATCH          a payment applies more cash to invoices than its total_amount
                            (QuickBooks: 3180)
    BEFORE_CLOSING_DATE     the transaction is dated on or before the company's closing date
                            (`company.settings_updated`); QuickBooks refuses changes in a
                            closed period (3180 on create, 3170 on update)

What depends on QuickBooks' current state (a name already taken, an invoice's open balance,
a mapping to an object deleted in QuickBooks) cannot be known here; QuickBooks still
decides those. An app id with no mapping is not a refusal: the event waits for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Final

from processors.outcome import NormalizedError
from schemas.inbound import (
    AccountUpserted,
    ClassUpserted,
    CustomerUpserted,
    ItemUpserted,
    PaymentMethodUpserted,
    PaymentReceived,
    PaymentUpdated,
    SalesLine,
    TermsUpserted,
    VendorUpserted,
)
from schemas.names import ObjectType
from schemas.refs import EventData

__all__ = [
    "NAME_CAPS",
    "PREFLIGHT_ERROR",
    "REF_NUMBER_CAPS",
    "Books",
    "Refusal",
    "Rule",
    "preflight_error",
    "refusals",
]

PREFLIGHT_ERROR: Final = "PREFLIGHT_ERROR"
"""The error `type` of an event refused before it reached QuickBooks."""


class Rule(StrEnum):
    """What a pre-flight refusal is about: the error `code` of the failed event."""

    NAME_TOO_LONG = "NAME_TOO_LONG"
    NAME_INVALID_CHARACTER = "NAME_INVALID_CHARACTER"
    REF_NUMBER_TOO_LONG = "REF_NUMBER_TOO_LONG"
    AMOUNT_RATE_MISMATCH = "AMOUNT_RATE_MISMATCH"
    TOTAL_MISMATCH = "TOTAL_MISMATCH"
    BEFORE_CLOSING_DATE = "BEFORE_CLOSING_DATE"


NAME_CAPS: Final[dict[type[EventData], int]] = {
    CustomerUpserted: 41,
    VendorUpserted: 41,
    ItemUpserted: 31,
    ClassUpserted: 31,
    TermsUpserted: 31,
    AccountUpserted: 31,
    PaymentMethodUpserted: 31,
}
"""QuickBooks' longest name, in characters, of each list object an upsert names."""

REF_NUMBER_CAPS: Final[dict[ObjectType, int]] = {
    ObjectType.INVOICE: 11,
    ObjectType.SALES_RECEIPT: 11,
    ObjectType.CREDIT_MEMO: 11,
    ObjectType.PURCHASE_ORDER: 11,
    ObjectType.BILL_PAYMENT: 11,
}
"""QuickBooks' longest ref number per transaction; every other transaction keeps 20."""

_REF_NUMBER_CAP: Final = 20
_CENT: Final = Decimal("0.01")
_COLON: Final = ":"


@dataclass(frozen=True, slots=True, kw_only=True)
class Books:
    """What qbd-sync knows of a company's books without asking QuickBooks."""

    closing_date: date | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Refusal:
    """One rule an event breaks: where, and what to tell the developer and the user."""

    rule: Rule
    field: str
    message: str
    user_facing_message: str


def _what(data: EventData) -> str:
    """The kind of record, as the app's user calls it ("sales receipt")."""
    object_type = data.OBJECT_TYPE
    return "record" if object_type is None else str(object_type).replace("_", " ")


def _cents(value: Decimal) -> Decimal:
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


def _field(data: EventData, name: str) -> object:
    """A field's value, or None when ``data``'s type has no such field (read from the
    instance's dict: ``getattr`` with a default costs a raised AttributeError through
    pydantic's ``__getattr__`` for every event type without the field)."""
    return vars(data).get(name)


def _name(data: EventData) -> list[Refusal]:
    cap = NAME_CAPS.get(type(data))
    name = _field(data, "name")
    if cap is None or not isinstance(name, str):
        return []
    what, found = _what(data), []
    if len(name) > cap:
        found.append(
            Refusal(
                rule=Rule.NAME_TOO_LONG,
                field="name",
                message=f"name is {len(name)} characters; QuickBooks keeps at most {cap}",
                user_facing_message=(
                    f'The {what} name "{name}" is {len(name)} characters long, and QuickBooks '
                    f"allows at most {cap}. Shorten it and save again."
                ),
            )
        )
    if _COLON in name:
        found.append(
            Refusal(
                rule=Rule.NAME_INVALID_CHARACTER,
                field="name",
                message="name contains ':', QuickBooks' separator of parent and child names",
                user_facing_message=(
                    f'The {what} name "{name}" contains a colon (:), which QuickBooks uses '
                    "between a parent and its sub-item. Remove the colon and save again."
                ),
            )
        )
    return found


def _ref_number(data: EventData) -> list[Refusal]:
    ref_number = _field(data, "ref_number")
    if not isinstance(ref_number, str) or data.OBJECT_TYPE is None:
        return []
    cap = REF_NUMBER_CAPS.get(data.OBJECT_TYPE, _REF_NUMBER_CAP)
    if len(ref_number) <= cap:
        return []
    return [
        Refusal(
            rule=Rule.REF_NUMBER_TOO_LONG,
            field="ref_number",
            message=f"ref_number is {len(ref_number)} characters; QuickBooks keeps at most {cap}",
            user_facing_message=(
                f'The number "{ref_number}" of this {_what(data)} is longer than the {cap} '
                "characters QuickBooks allows. Shorten it and save again."
            ),
        )
    ]


def _line(line: SalesLine, where: str, position: int) -> list[Refusal]:
    if line.rate is None or line.amount is None:
        return []
    quantity = Decimal(1) if line.quantity is None else line.quantity
    computed = _cents(quantity * line.rate)
    if computed == _cents(line.amount):
        return []
    shown = "1 (no quantity)" if line.quantity is None else f"{line.quantity}"
    return [
        Refusal(
            rule=Rule.AMOUNT_RATE_MISMATCH,
            field=where,
            message=(
                f"quantity {shown} x rate {line.rate} = {computed}, but amount is {line.amount};"
                " QuickBooks would keep the amount and replace the rate"
            ),
            user_facing_message=(
                f"Line {position}: {shown} x {line.rate} is {computed}, but its amount is "
                f"{line.amount}. Correct the quantity, rate or amount so they agree, "
                "then save again."
            ),
        )
    ]


def _lines(data: EventData) -> list[Refusal]:
    found: list[Refusal] = []
    for field in type(data).model_fields:
        value = _field(data, field)
        if not isinstance(value, list):
            continue
        for index, line in enumerate(value):
            if isinstance(line, SalesLine):
                found += _line(line, f"{field}.{index}", index + 1)
    return found


def _payment_total(data: EventData) -> list[Refusal]:
    if not isinstance(data, PaymentReceived | PaymentUpdated):
        return []
    total, parts = data.total_amount, data.applied_to or []
    applied = sum((part.amount for part in parts), Decimal(0))
    if total is None or applied <= total:
        return []
    return [
        Refusal(
            rule=Rule.TOTAL_MISMATCH,
            field="applied_to",
            message=f"applied_to amounts add up to {applied}, more than total_amount {total}",
            user_facing_message=(
                f"This payment applies {applied} to invoices, but its total is {total}. "
                "Correct the amounts so they add up to no more than the total, then save again."
            ),
        )
    ]


def _closing_date(data: EventData, books: Books) -> list[Refusal]:
    closing, dated = books.closing_date, _field(data, "transaction_date")
    if closing is None or not isinstance(dated, date) or dated > closing:
        return []
    return [
        Refusal(
            rule=Rule.BEFORE_CLOSING_DATE,
            field="transaction_date",
            message=f"transaction_date {dated} is on or before the closing date {closing}",
            user_facing_message=(
                f"This {_what(data)} is dated {dated.isoformat()}, on or before the books' "
                f"closing date {closing.isoformat()}, and QuickBooks accepts no changes in a "
                "closed period. Change its date, or ask your accountant to move the closing "
                "date."
            ),
        )
    ]


def refusals(data: EventData, books: Books) -> list[Refusal]:
    """Every rule `data` breaks, in a fixed order (empty: QuickBooks may take it)."""
    return [
        *_name(data),
        *_ref_number(data),
        *_closing_date(data, books),
        *_lines(data),
        *_payment_total(data),
    ]


def preflight_error(found: Sequence[Refusal]) -> NormalizedError:
    """The failed event's error: the first refusal's rule and message (all listed for devs)."""
    first = found[0]
    return NormalizedError(
        type=PREFLIGHT_ERROR,
        code=str(first.rule),
        message="; ".join(f"{r.rule} at {r.field}: {r.message}" for r in found),
        user_facing_message=first.user_facing_message,
    )
