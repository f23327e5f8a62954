"""The CloudEvents 1.0 envelope (structured JSON mode) every qbd-sync record travels in.

Unknown extension attributes are kept (`model_extra`) but ignored. `time` must carry a
UTC offset, as RFC 3339 requires. `datacontenttype`, when given, must be JSON: structured
mode with any other data encoding is not something qbd-sync can read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, GetCoreSchemaHandler
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

from schemas.fields import TextRule

__all__ = ["Envelope", "is_json_media_type"]


def _rfc3339(value: Any) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise PydanticCustomError(
                "cloudevents_time", "must be an RFC 3339 timestamp like 2026-11-24T10:00:00Z"
            ) from None
    else:
        raise PydanticCustomError(
            "cloudevents_time", "must be an RFC 3339 timestamp like 2026-11-24T10:00:00Z"
        )
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise PydanticCustomError("cloudevents_time", "must include a UTC offset (e.g. Z)")
    return parsed


class _Rfc3339Rule:
    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        accepted = core_schema.str_schema()
        accepted["metadata"] = {"pydantic_js_updates": {"format": "date-time"}}
        return core_schema.no_info_plain_validator_function(
            _rfc3339, json_schema_input_schema=accepted
        )


def is_json_media_type(value: str) -> bool:
    """Whether a content type is JSON (`application/json` or `+json`, any parameters)."""
    media_type = value.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


def _json_content_type(value: Any) -> str:
    if not isinstance(value, str):
        raise PydanticCustomError("datacontenttype", "must be a string")
    if not is_json_media_type(value):
        raise PydanticCustomError(
            "datacontenttype", "must be application/json (got {value!r})", {"value": value[:64]}
        )
    return value


class _JsonContentTypeRule:
    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.no_info_plain_validator_function(
            _json_content_type, json_schema_input_schema=core_schema.str_schema()
        )


Timestamp = Annotated[datetime, _Rfc3339Rule()]
"""An RFC 3339 timestamp with a UTC offset."""


class Envelope(BaseModel):
    """A CloudEvents 1.0 event in structured mode; `data` is still raw JSON here."""

    model_config = ConfigDict(extra="allow", frozen=True)

    specversion: Literal["1.0"]
    id: Annotated[str, TextRule(255)]
    type: Annotated[str, TextRule(255)]
    source: Annotated[str, TextRule(2048)]
    companyid: Annotated[str, TextRule(255)]
    time: Timestamp | None = None
    datacontenttype: Annotated[str, _JsonContentTypeRule()] | None = None
    dataschema: Annotated[str, TextRule(2048)] | None = None
    subject: Annotated[str, TextRule(2048)] | None = None
    traceparent: Annotated[str, TextRule(512)] | None = None
    data: Any = None
