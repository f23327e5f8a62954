"""Control events qbd-sync and its operators send to themselves through the input topic."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import orjson

from schemas.names import CLOUDEVENTS_SPEC_VERSION, EventType

__all__ = ["sync_requested"]


def sync_requested(company_id: str, source: str) -> bytes:
    """A structured-mode ``sync.requested`` CloudEvent for ``company_id`` (key it by the id)."""
    return orjson.dumps(
        {
            "specversion": CLOUDEVENTS_SPEC_VERSION,
            "id": f"sync-{uuid.uuid4()}",
            "type": str(EventType.SYNC_REQUESTED),
            "source": source,
            "time": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "companyid": company_id,
            "data": {},
        }
    )
