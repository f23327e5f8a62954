"""`EventPublisher`: how an upstream service sends qbd-sync a business event.

Each event goes to `qbd.events` (by default) as a structured-mode CloudEvent
(`content-type: application/cloudevents+json`), keyed by the company id so one company's
events stay in one partition, in order. The event type comes from the `data` model, the id
is generated when not given, and the finished record is checked with the same parser the
processor's intake uses before it is sent, so qbd-sync never has to reject it.
"""

from __future__ import annotations

import builtins
import uuid
from datetime import UTC, datetime
from typing import Any, Final, Union

import orjson
from faststream.kafka import KafkaBroker

from schemas import (
    CLOUDEVENTS_CONTENT_TYPE,
    CONTENT_TYPE_HEADER,
    DATA_MODELS,
    EventData,
    EventType,
    Topic,
    make_cloudevent,
    parse_event,
)
from schemas.export import event_models

__all__ = ["EventPublisher", "event_type_of"]


def _reverse(models: dict[EventType, type[EventData]]) -> dict[type[EventData], EventType]:
    """Data model -> event type, leaving out models that more than one type shares."""
    seen: dict[type[EventData], list[EventType]] = {}
    for event_type, model in models.items():
        seen.setdefault(model, []).append(event_type)
    return {model: types[0] for model, types in seen.items() if len(types) == 1}


_EVENT_TYPES: Final = _reverse(DATA_MODELS)


def event_type_of(data: EventData) -> EventType:
    """The inbound event type whose `data` model `data` is; ValueError if none or several."""
    event_type = _EVENT_TYPES.get(type(data))
    if event_type is None:
        shared = [str(t) for t, model in DATA_MODELS.items() if model is type(data)]
        if shared:
            raise ValueError(
                f"{type(data).__name__} is the data of {', '.join(shared)}: pass type="
            )
        raise ValueError(f"{type(data).__name__} is not the data of any qbd-sync event type")
    return event_type


def _documented_payload() -> Any:
    """Every inbound CloudEvent model, as one union, for the AsyncAPI document."""
    models = event_models()
    return Union[tuple(models[str(event_type)] for event_type in EventType)]  # noqa: UP007


class EventPublisher:
    """Sends inbound events to qbd-sync through a FastStream `KafkaBroker`."""

    def __init__(self, broker: KafkaBroker, *, source: str, topic: str = Topic.EVENTS) -> None:
        self.source = source
        self.topic = topic
        self._headers = {CONTENT_TYPE_HEADER: CLOUDEVENTS_CONTENT_TYPE}
        self._publisher = broker.publisher(
            topic,
            headers=self._headers,
            title="events",
            description=f"Business events from {source} to qbd-sync",
            schema=_documented_payload(),
        )

    async def publish(
        self,
        company_id: str,
        data: EventData,
        *,
        id: str | None = None,
        time: datetime | None = None,
        type: EventType | None = None,
    ) -> str:
        """Send one event for `company_id` and wait for the broker; return the event id.

        `id` is the idempotency key: give a stable one (derived from your own record) when
        the same business fact may be published twice. `type` is needed only for a data
        model that several event types share.
        """
        event_id = id or str(uuid.uuid4())
        body = self.encode(company_id, data, id=event_id, time=time, type=type)
        await self._publisher.publish(body, key=company_id.encode(), headers=self._headers)
        return event_id

    def encode(
        self,
        company_id: str,
        data: EventData,
        *,
        id: str,
        time: datetime | None = None,
        type: EventType | None = None,
    ) -> bytes:
        """The record value `publish` sends (also what `POST /v1/events` takes).

        Raises `schemas.InvalidEvent` when qbd-sync's intake would reject the event.
        """
        event_type = type or event_type_of(data)
        if DATA_MODELS[event_type] is not builtins.type(data):
            raise ValueError(
                f"{event_type} takes {DATA_MODELS[event_type].__name__}, "
                f"not {builtins.type(data).__name__}"
            )
        payload = data.model_dump(mode="json", by_alias=True, exclude_unset=True)
        body = make_cloudevent(
            event_type,
            self.source,
            company_id,
            payload,
            id=id,
            time=time or datetime.now(UTC),
        )
        parse_event(orjson.loads(body))
        return body
