"""Work: one item in a company's lane, typed, with no broker types in it.

The engine makes ``EVENT`` work from input records; the pipeline makes the rest. Every
value a later step needs travels in a typed field or comes back in a return value, never in
a bag of extras.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from schemas import EventData, InboundEvent, structured_bytes

__all__ = ["Fetched", "Partition", "RejectedRecord", "SourcePosition", "Work", "WorkKind"]


class Partition(NamedTuple):
    """A topic partition (equal to aiokafka's ``TopicPartition`` of the same name and number)."""

    topic: str
    partition: int


class WorkKind(StrEnum):
    """What a lane runs."""

    EVENT = "event"  # a record from an input topic; its offset is committed when it ends
    RELEASED = "released"  # an event that waited for a mapping which exists now
    REPLAY = "replay"  # health-check the company and run its parked work again
    REPLAYED = "replayed"  # one parked event read back from the DLQ during a replay
    STATUS = "status"  # pull the company's invoice status from QuickBooks (the status timer)


@dataclass(frozen=True, slots=True, kw_only=True)
class SourcePosition:
    """Where an inbound record was first read (kept across parking, for the ledger and DLQ)."""

    topic: str
    partition: int
    offset: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Work:
    """One item of a company's lane."""

    kind: WorkKind
    company_id: str
    event: InboundEvent[EventData]
    raw: bytes = b""
    key: bytes | None = None
    headers: tuple[tuple[str, bytes], ...] = ()
    timestamp: int = 0
    source: SourcePosition | None = None
    """The input record this came from; None for work made inside the pipeline."""
    epoch: int = 0
    """The offset tracker's epoch of the source partition when the record was admitted."""
    home: Partition | None = None
    """The partition that owns the company's lane: a revoke of it drops this work."""
    binary: bool = False
    """The record is a binary-mode CloudEvent: ``raw`` is only its data (attributes in
    ``headers``); ``structured`` re-encodes the whole event where it must stand alone."""

    @property
    def structured(self) -> bytes:
        """The whole event as one structured-mode record value (for the waiting ledger)."""
        return structured_bytes(self.event) if self.binary else self.raw

    @property
    def commits(self) -> bool:
        """Whether ending this work lets the source offset be committed."""
        return self.kind is WorkKind.EVENT and self.source is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class Fetched:
    """A valid input record queued in its company's lane, decoded again when it starts.

    Held records cost their bytes, not a decoded event: the engine can look far enough ahead
    in a partition to keep every company with work busy (``MAX_IN_FLIGHT``) in little memory.
    """

    company_id: str
    value: bytes | None
    key: bytes | None
    headers: tuple[tuple[str, bytes], ...]
    timestamp: int
    source: SourcePosition
    epoch: int
    home: Partition


@dataclass(frozen=True, slots=True, kw_only=True)
class RejectedRecord:
    """An input record that can never be processed, and why (it goes to ``qbd.rejected``)."""

    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]
    reason: str
    source: SourcePosition
