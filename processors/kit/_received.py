"""What the kit hands a subscriber: one qbd-sync CloudEvent, envelope and typed `data`.

The models keep the CloudEvents attribute names (`id`, `type`, `time`, `companyid`) so they
read like the record on the wire. They are validated with unknown fields ignored, at every
level: a processor newer than this kit may add attributes or `data` fields, and a notifier
must keep working when it does.
"""

from __future__ import annotations

import typing
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict

from schemas import AttentionData, OutboundType, ReferenceData, SyncResultData

__all__ = [
    "AttentionEvent",
    "ReceivedEvent",
    "ReferenceEvent",
    "SyncResultEvent",
]


class ReceivedEvent(BaseModel):
    """The CloudEvents attributes qbd-sync sets on every event it publishes."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    specversion: Literal["1.0"]
    id: str
    type: str
    source: str
    time: AwareDatetime
    companyid: str

    @classmethod
    def accepted_types(cls) -> frozenset[OutboundType]:
        """The CloudEvent types this model stands for (its `type` literal)."""
        return frozenset(typing.get_args(cls.model_fields["type"].annotation))


class AttentionEvent(ReceivedEvent):
    """A record of `qbd.needs-attention` that a notifier acts on."""

    type: Literal[
        OutboundType.ATTENTION_NEEDED,
        OutboundType.ATTENTION_RESOLVED,
        OutboundType.CONNECTION_SETUP_LINK,
    ]
    data: AttentionData


class SyncResultEvent(ReceivedEvent):
    """A record of `qbd.sync-results`: one inbound event reached a final state."""

    type: Literal[OutboundType.SYNC_SUCCEEDED, OutboundType.SYNC_FAILED]
    data: SyncResultData


class ReferenceEvent(ReceivedEvent):
    """A record of `qbd.reference`: one QuickBooks list record."""

    type: Literal[
        OutboundType.REFERENCE_CUSTOMER,
        OutboundType.REFERENCE_VENDOR,
        OutboundType.REFERENCE_ITEM,
        OutboundType.REFERENCE_ACCOUNT,
        OutboundType.REFERENCE_CLASS,
        OutboundType.REFERENCE_TERMS,
    ]
    data: ReferenceData
