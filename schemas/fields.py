"""Field types shared by the event models: money, quantities, dates and capped text.

Each type is validated natively by pydantic-core (a regular expression and a length, then
`Decimal` or `date.fromisoformat`), so intake stays fast, and declares its exact JSON Schema:

- money is a decimal *string* (`"125.00"`); JSON numbers are refused so no amount ever
  passes through a binary float. At most 13 digits before the point (QuickBooks' amount
  range) and 2 after (5 for prices, rates and costs, which QuickBooks keeps to 5 places).
  ASCII digits only; no exponent, no `NaN`, no `Infinity`, no leading `+`.
- quantities may be JSON numbers or decimal strings, never negative, at most 5 places.
- dates are ISO `YYYY-MM-DD` strings and nothing else (no timestamps, no datetimes).
- text is capped at the QuickBooks field length; any Unicode is fine, control characters
  (and lone surrogates) are not. Multi-line text (memo, description) may hold tab, CR and
  LF. Blank text is refused: leave the field out instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Final

from pydantic import Field, GetCoreSchemaHandler
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

__all__ = [
    "AccountNumber",
    "AppId",
    "DecimalRule",
    "Email",
    "Flag",
    "IsoDate",
    "ListName",
    "LongRef",
    "Memo",
    "Money",
    "NonNegativeMoney",
    "PartyName",
    "Percent",
    "Phone",
    "Price",
    "QbdId",
    "Quantity",
    "ShortRef",
    "TextRule",
    "friendly_message",
]

_SINGLE_LINE = r"[^\x00-\x1f\x7f-\x9f]"
_MULTI_LINE = r"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"
_DATE_PATTERN: Final = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_PERCENT_PATTERN: Final = r"^(100(\.0{1,5})?|[0-9]{1,2}(\.[0-9]{1,5})?)$"

_PATTERN_MESSAGES: dict[str, str] = {}
"""Readable messages for the patterns our text types use (pydantic only shows the regex)."""


def friendly_message(detail: Any) -> str:
    """The message of one pydantic error, with our text patterns explained in words."""
    if detail["type"] == "string_pattern_mismatch":
        pattern = detail.get("ctx", {}).get("pattern")
        if pattern in _PATTERN_MESSAGES:
            return _PATTERN_MESSAGES[pattern]
    if detail["type"] == "string_too_long":
        return f"{detail['msg']} (QuickBooks limit)"
    return str(detail["msg"])


@dataclass(frozen=True, slots=True)
class DecimalRule:
    """A decimal given as a string (or, with `numbers`, also as a JSON number)."""

    places: int = 2
    int_digits: int = 13
    negative: bool = False
    numbers: bool = False

    @property
    def pattern(self) -> str:
        """The regular expression a decimal string must match."""
        sign = "-?" if self.negative else ""
        return rf"^{sign}[0-9]{{1,{self.int_digits}}}(\.[0-9]{{1,{self.places}}})?$"

    @property
    def message(self) -> str:
        """What the error says when a value does not fit."""
        sign = "" if self.negative else "non-negative "
        what = f"{sign}number or decimal string" if self.numbers else f"{sign}decimal string"
        return (
            f'must be a {what} like "125.00" with at most '
            f"{self.int_digits} digits before the point and {self.places} after"
        )

    def _from_number(self, value: Any) -> Decimal:
        if type(value) is int and 0 <= value < 10**self.int_digits:
            return Decimal(value)  # the common case: a whole quantity
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise PydanticCustomError("decimal_type", "not a number")
        # repr() is the shortest text that round-trips, so 1.1 stays 1.1, not 1.1000000000001.
        parsed = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        exponent = parsed.as_tuple().exponent
        if (
            not parsed.is_finite()
            or parsed < 0
            or (isinstance(exponent, int) and -exponent > self.places)
            or (parsed and parsed.adjusted() >= self.int_digits)
        ):
            raise PydanticCustomError("decimal_range", "out of range")
        return parsed

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        """Pattern-checked string, then `Decimal`; all errors read as `self.message`."""
        as_string = core_schema.chain_schema(
            [
                core_schema.str_schema(strict=True, pattern=self.pattern),
                core_schema.no_info_plain_validator_function(Decimal),
            ]
        )
        schema: CoreSchema = as_string
        if self.numbers:
            number = core_schema.no_info_plain_validator_function(
                self._from_number, json_schema_input_schema=core_schema.float_schema(ge=0)
            )
            schema = core_schema.union_schema([as_string, number], mode="left_to_right")
        return core_schema.custom_error_schema(
            schema, custom_error_type="decimal", custom_error_message=self.message
        )


@dataclass(frozen=True, slots=True)
class TextRule:
    """Text of 1 to `max_length` characters, not blank, without control characters."""

    max_length: int
    multiline: bool = False

    @property
    def pattern(self) -> str:
        """Allowed characters, with at least one that is not whitespace."""
        allowed = _MULTI_LINE if self.multiline else _SINGLE_LINE
        visible = allowed[:-1] + r"\s]"
        return rf"^{allowed}*{visible}{allowed}*$"

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        """A strict string with the length cap and the character pattern."""
        _PATTERN_MESSAGES[self.pattern] = "must not be blank or contain control characters"
        return core_schema.str_schema(strict=True, max_length=self.max_length, pattern=self.pattern)


class _IsoDateRule:
    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        as_text = core_schema.str_schema(strict=True, pattern=_DATE_PATTERN)
        as_text["metadata"] = {"pydantic_js_updates": {"format": "date"}}
        schema = core_schema.chain_schema(
            [as_text, core_schema.no_info_plain_validator_function(date.fromisoformat)]
        )
        return core_schema.custom_error_schema(
            schema,
            custom_error_type="iso_date",
            custom_error_message="must be a real calendar date written YYYY-MM-DD",
        )


class _PercentRule:
    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        schema = core_schema.chain_schema(
            [
                core_schema.str_schema(strict=True, pattern=_PERCENT_PATTERN),
                core_schema.no_info_plain_validator_function(Decimal),
            ]
        )
        return core_schema.custom_error_schema(
            schema,
            custom_error_type="percent",
            custom_error_message='must be a percentage from 0 to 100 written like "2.5"',
        )


Money = Annotated[Decimal, DecimalRule(negative=True)]
"""An amount that may be negative (a discount or credit line)."""

NonNegativeMoney = Annotated[Decimal, DecimalRule()]
"""An amount that must be zero or more (totals, applied amounts)."""

Price = Annotated[Decimal, DecimalRule(places=5)]
"""A unit price, rate or cost: zero or more, up to 5 decimal places."""

Quantity = Annotated[Decimal, DecimalRule(places=5, int_digits=10, numbers=True)]
"""A quantity: a JSON number or decimal string, zero or more, up to 5 decimal places."""

IsoDate = Annotated[date, _IsoDateRule()]
"""A calendar date given as `YYYY-MM-DD`."""

AppId = Annotated[str, TextRule(255)]
"""The app's own id of an object (up to 255 characters)."""

Percent = Annotated[Decimal, _PercentRule()]
"""A percentage from 0 to 100 as a decimal string (`"2.5"`), up to 5 decimal places."""

Flag = Annotated[bool, Field(strict=True)]
"""A JSON `true` or `false` (no `"true"` strings, no 0/1)."""

PartyName = Annotated[str, TextRule(41)]
"""The name of a customer or vendor (QuickBooks: 41 characters)."""

ListName = Annotated[str, TextRule(31)]
"""The name of an item, class, terms, account or payment method (QuickBooks: 31)."""

ShortRef = Annotated[str, TextRule(11)]
"""A `ref_number` of invoices, sales receipts, credit memos, orders, bill payments (11)."""

LongRef = Annotated[str, TextRule(20)]
"""A `ref_number` of receive-payments, bills and vendor credits (20)."""

Memo = Annotated[str, TextRule(4095, multiline=True)]
"""A memo or description (4095 characters, may span lines)."""

Email = Annotated[str, TextRule(1023)]
Phone = Annotated[str, TextRule(21)]
AccountNumber = Annotated[str, TextRule(7)]
"""An account number in the chart of accounts (QuickBooks: 7 characters)."""

QbdId = Annotated[str, TextRule(255)]
"""A QuickBooks id (`80000001-1234567890`) the app already knows."""
