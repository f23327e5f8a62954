"""The base of every inbound `data` model, and the declarative references it carries.

A model marks its own object's id with `Identifies(...)` and every app id it needs resolved
to a QuickBooks id with `RefersTo(...)`, inside `Annotated`. `refs()` then lists them,
including those of nested lines, without any per-model code:

    class InvoiceLine(EventData):
        item_id: Annotated[AppId, RefersTo(ObjectType.ITEM)]

A model whose event changes its own object says how in `CHANGE` (create, upsert, update,
void, delete), so the processor can tell "wait for this object's create" (update, void,
delete) from "create it" without a table of event types. `OBJECT_TYPE` and `app_id` name
that object; `refs()` never includes it.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

from pydantic import BaseModel, ConfigDict

from schemas.names import Change, ObjectType

__all__ = ["EventData", "Identifies", "Ref", "RefersTo"]


class Ref(NamedTuple):
    """One app id an event needs resolved: `(object_type, app_id)`."""

    object_type: ObjectType
    app_id: str


@dataclass(frozen=True, slots=True)
class RefersTo:
    """Marks a field as the app id of another object the event depends on."""

    object_type: ObjectType


@dataclass(frozen=True, slots=True)
class Identifies:
    """Marks a field as the app id of the object the event itself creates or updates."""

    object_type: ObjectType | None = None


def _nested_model(annotation: Any) -> type[EventData] | None:
    """The `EventData` subclass inside `list[X] | None` and the like, if any."""
    for arg in typing.get_args(annotation) or (annotation,):
        if isinstance(arg, type) and issubclass(arg, EventData):
            return arg
        inner = _nested_model(arg) if typing.get_args(arg) else None
        if inner is not None:
            return inner
    return None


class EventData(BaseModel):
    """Base of inbound `data` models: unknown fields are kept but ignored."""

    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)

    OBJECT_TYPE: ClassVar[ObjectType | None] = None
    """The kind of app object this event creates or updates, if it has one."""
    CHANGE: ClassVar[Change | None] = None
    """What the event does to that object (None for events without one)."""
    _id_field: ClassVar[str | None] = None
    _ref_fields: ClassVar[tuple[tuple[str, ObjectType], ...]] = ()
    _nested_fields: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        """Collect the `Identifies` / `RefersTo` markers once per class."""
        super().__pydantic_init_subclass__(**kwargs)
        refs: list[tuple[str, ObjectType]] = []
        nested: list[str] = []
        for name, info in cls.model_fields.items():
            for marker in info.metadata:
                if isinstance(marker, RefersTo):
                    refs.append((name, marker.object_type))
                elif isinstance(marker, Identifies):
                    cls._id_field = name
                    if marker.object_type is not None:
                        cls.OBJECT_TYPE = marker.object_type
            if _nested_model(info.annotation) is not None:
                nested.append(name)
        cls._ref_fields = tuple(refs)
        cls._nested_fields = tuple(nested)

    @property
    def app_id(self) -> str | None:
        """The app id of the object this event creates or updates (None if it has none)."""
        if self._id_field is None:
            return None
        value = getattr(self, self._id_field)
        return value if isinstance(value, str) else None

    def refs(self) -> tuple[Ref, ...]:
        """Every app id this event needs resolved, in field order, without repeats."""
        found: dict[Ref, None] = {}
        for name, object_type in self._ref_fields:
            value = getattr(self, name)
            if value is not None:
                found[Ref(object_type, value)] = None
        for name in self._nested_fields:
            value = getattr(self, name)
            parts = value if isinstance(value, list) else () if value is None else (value,)
            for part in parts:
                found.update(dict.fromkeys(part.refs()))
        return tuple(found)
