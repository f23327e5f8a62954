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

from pydantic import GetCoreSchemaHandler
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

__all__ = [
    "AppId",
    "DecimalRule",
    "IsoDate",
    "Money",
    "NonNegativeMoney",
    "Price",
    "Quantity",
    "TextRule",
    "friendly_message",
]

_SINGLE_LINE = r"[^\x00-\x1f\x7f-\x9f]"
_MULTI_LINE = r"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"
_DATE_PATTERN: Final = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"

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
