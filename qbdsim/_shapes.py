"""Response shapes taken from the official SDK's models, so every key the SDK knows is emitted.

Templates are built once at import time from the ``conductor-py`` pydantic models: each key is
the wire (camelCase) name, lists start empty, ``objectType`` takes its literal value and every
other field starts as ``None``. :func:`conform` fills a partial dict into that shape.
"""

from __future__ import annotations

import types
import typing
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache
from typing import Any

from pydantic import BaseModel

__all__ = ["conform", "money", "parse_money", "rate_text", "template"]

_CENT = Decimal("0.01")
_RATE = Decimal("0.00001")


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """Return (inner type, is_list) for ``Optional[X]``, ``List[X]`` and ``Optional[List[X]]``."""
    is_list = False
    while True:
        origin = typing.get_origin(annotation)
        if origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation, is_list
            annotation = args[0]
        elif origin is list:
            is_list = True
            annotation = typing.get_args(annotation)[0]
        else:
            return annotation, is_list


@cache
def _layout(
    model: type[BaseModel],
) -> tuple[dict[str, Any], dict[str, tuple[type[BaseModel], bool]]]:
    base: dict[str, Any] = {}
    nested: dict[str, tuple[type[BaseModel], bool]] = {}
    for name, field in model.model_fields.items():
        key = field.alias or name
        inner, is_list = _unwrap(field.annotation)
        if typing.get_origin(inner) is typing.Literal and key == "objectType":
            base[key] = typing.get_args(inner)[0]
        else:
            base[key] = [] if is_list else None
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            nested[key] = (inner, is_list)
    return base, nested


def template(model: type[BaseModel]) -> dict[str, Any]:
    """Return a fresh dict with every wire key of ``model`` at its empty value."""
    base, _ = _layout(model)
    return {k: (list(v) if isinstance(v, list) else v) for k, v in base.items()}


def conform(model: type[BaseModel], data: dict[str, Any]) -> dict[str, Any]:
    """Return ``data`` reshaped to ``model``: unknown keys dropped, missing keys added."""
    base, nested = _layout(model)
    out: dict[str, Any] = {}
    for key, empty in base.items():
        value = data.get(key)
        if value is None:
            out[key] = [] if isinstance(empty, list) else empty
            if key == "objectType":
                out[key] = empty
            continue
        sub = nested.get(key)
        if sub is not None:
            sub_model, is_list = sub
            if is_list and isinstance(value, list):
                value = [conform(sub_model, v) if isinstance(v, dict) else v for v in value]
            elif isinstance(value, dict):
                value = conform(sub_model, value)
        out[key] = value
    return out


def parse_money(value: object) -> Decimal:
    """Parse a wire money value (string or number) into a ``Decimal``; raises ``ValueError``."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"not a money value: {value!r}")
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"not a money value: {value!r}") from exc


def money(value: Decimal) -> str:
    """Format a ``Decimal`` the way Conductor does: a string with two decimal places."""
    return str(value.quantize(_CENT, rounding=ROUND_HALF_UP))


def rate_text(value: Decimal) -> str:
    """Format a rate or price: two decimals, or up to five when it needs them."""
    fine = value.quantize(_RATE, rounding=ROUND_HALF_UP)
    return money(fine) if fine == fine.quantize(_CENT) else str(fine.normalize())
