"""The `data` of every event qbd-sync publishes, and the builders all publishers use.

Outbound models forbid unknown fields (we produce them, so a stray field is our bug) and
are frozen. `make_cloudevent` serializes structured-mode CloudEvents with orjson; amounts
and dates come out as strings, absent values as `null`, so consumers see every key.

Results are delivered at least once: a crash between publishing a result and committing
the offset publishes it again. `result_event_id(event_id)` is the CloudEvent `id` of the
result of one inbound event, the same on every publish, so consumers dedupe on
(`source`, `id`) as CloudEvents intends.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Final, Literal

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

from schemas.names import (
    CLOUDEVENTS_SPEC_VERSION,
    JSON_CONTENT_TYPE,
    AttentionCategory,
    CompanyConnectionState,
    EventType,
    OutboundType,
    ReferenceList,
    SyncAction,
    SyncStatus,
)

__all__ = [
    "OUTBOUND_DATA_MODELS",
    "AttentionData",
    "CompanyStateData",
    "DecimalString",
    "InvoiceStatusData",
    "NormalizedErrorData",
    "ReferenceData",
    "SyncResultData",
    "make_cloudevent",
    "result_event_id",
    "sync_requested",
]

_RESULT_ID_PREFIX: Final = "result:"

DecimalString = Annotated[
    Decimal,
    PlainSerializer(lambda value: f"{value:f}", return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$"}),
]
"""An amount published as a plain decimal string (`"125.00"`, never `1.25E+2`)."""


class _Outbound(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NormalizedErrorData(_Outbound):
    """One error, whatever raised it, in Conductor's vocabulary."""

    type: str = Field(description="Conductor error type, e.g. INTEGRATION_ERROR")
    code: str = Field(description="Conductor error code, e.g. QBD_REQUEST_ERROR")
    message: str = Field(description="Developer-facing message")
    user_facing_message: str = Field(description="Message safe to show the end user")
    http_status: int | None = None
    integration_code: str | None = Field(
        default=None, description="QuickBooks status code or HRESULT, e.g. 3100"
    )
    request_id: str | None = Field(default=None, description="Conductor request id")


class SyncResultData(_Outbound):
    """`qbd.sync.succeeded` / `qbd.sync.failed`: one inbound event reached a final state."""

    event_id: str
    event_type: str
    status: Literal[SyncStatus.SYNCED, SyncStatus.FAILED]
    app_id: str | None = None
    qbd_object_type: str | None = Field(default=None, description="e.g. qbd_invoice")
    qbd_id: str | None = None
    attempts: int = Field(ge=0)
    error: NormalizedErrorData | None = None
    action: SyncAction | None = Field(
        default=None,
        description="What happened in QuickBooks (created, updated, voided, deleted, "
        "linked, unchanged); null on failure",
    )


class AttentionData(_Outbound):
    """`qbd.attention.*`: what the user must fix; one open attention per company and code.

    While an attention is open, each `qbd.attention.needed` for it carries a `revision` one
    higher than the last: a repeat of the same cause raises `occurrences`, a change of
    cause or message publishes the new `user_facing_message`. Show the latest revision; a
    higher revision replaces the message. Revisions start again at 1 when the same code
    opens again after `qbd.attention.resolved`.
    """

    code: str
    category: AttentionCategory
    user_facing_message: str
    developer_message: str | None = None
    auth_flow_url: str | None = Field(default=None, description="Setup link (setup only)")
    event_ids: list[str] = Field(default_factory=list)
    occurrences: int = Field(default=1, ge=1)
    first_seen: AwareDatetime
    last_seen: AwareDatetime
    revision: int = Field(
        default=1, ge=1, description="Increments on every publish of this open attention"
    )


class ReferenceData(_Outbound):
    """`qbd.reference.*`: one QuickBooks list record, as Conductor returned it."""

    kind: ReferenceList = Field(description="Which QuickBooks list the record is from")
    qbd_id: str
    name: str
    full_name: str | None = None
    is_active: bool | None = None
    revision_number: str | None = None
    request_event_id: str | None = Field(
        default=None, description="The reference.pull_requested event that asked for it"
    )
    record: dict[str, Any] = Field(description="The Conductor object, camelCase keys")


class InvoiceStatusData(_Outbound):
    """`qbd.status.invoice`: what changed in QuickBooks for a synced invoice.

    Published when a pull finds a change since the last one: payments entered in
    QuickBooks, edits, deletion. When `deleted` is true the invoice is gone from
    QuickBooks: `balance_remaining` and `revision_number` are null and `is_paid` false.
    """

    invoice_id: str = Field(description="The app's id of the invoice")
    qbd_id: str
    balance_remaining: DecimalString | None = None
    is_paid: bool
    revision_number: str | None = None
    deleted: bool = False


class CompanyStateData(_Outbound):
    """`qbd.company.state_changed`: a company's connection state changed."""

    state: CompanyConnectionState
    previous_state: CompanyConnectionState
    user_facing_message: str | None = Field(
        default=None, description="What to tell the user about the new state, if anything"
    )
    at: AwareDatetime = Field(description="When the state changed")


OUTBOUND_DATA_MODELS: Final[dict[OutboundType, type[BaseModel]]] = {
    OutboundType.SYNC_SUCCEEDED: SyncResultData,
    OutboundType.SYNC_FAILED: SyncResultData,
    OutboundType.ATTENTION_NEEDED: AttentionData,
    OutboundType.ATTENTION_RESOLVED: AttentionData,
    OutboundType.CONNECTION_SETUP_LINK: AttentionData,
    OutboundType.REFERENCE_CUSTOMER: ReferenceData,
    OutboundType.REFERENCE_VENDOR: ReferenceData,
    OutboundType.REFERENCE_ITEM: ReferenceData,
    OutboundType.REFERENCE_ACCOUNT: ReferenceData,
    OutboundType.REFERENCE_CLASS: ReferenceData,
    OutboundType.REFERENCE_TERMS: ReferenceData,
    OutboundType.REFERENCE_SALES_TAX_CODE: ReferenceData,
    OutboundType.REFERENCE_SALES_TAX_ITEM: ReferenceData,
    OutboundType.REFERENCE_PAYMENT_METHOD: ReferenceData,
    OutboundType.STATUS_INVOICE: InvoiceStatusData,
    OutboundType.COMPANY_STATE_CHANGED: CompanyStateData,
}
"""The `data` model of each outbound event type."""


def make_cloudevent(
    type: str,
    source: str,
    companyid: str,
    data: BaseModel | Mapping[str, Any] | None,
    id: str | None = None,
    time: datetime | None = None,
    *,
    traceparent: str | None = None,
) -> bytes:
    """Serialize one structured-mode CloudEvent (JSON bytes) for an outbound topic."""
    when = time or datetime.now(UTC)
    if when.tzinfo is None:
        raise ValueError("CloudEvents time must be timezone-aware")
    payload = data.model_dump(mode="json") if isinstance(data, BaseModel) else data
    if payload is not None and not isinstance(payload, dict):
        payload = dict(payload)
    event: dict[str, Any] = {
        "specversion": CLOUDEVENTS_SPEC_VERSION,
        "id": id or str(uuid.uuid4()),
        "type": str(type),
        "source": source,
        "time": when.isoformat().replace("+00:00", "Z"),
        "companyid": companyid,
        "datacontenttype": JSON_CONTENT_TYPE,
        "data": payload,
    }
    if traceparent is not None:
        event["traceparent"] = traceparent
    return orjson.dumps(event, default=_json_default)


def result_event_id(event_id: str) -> str:
    """The CloudEvent `id` of the sync result of inbound event `event_id` (a dedupe key).

    Deterministic, so every publish of the same result carries the same id.
    """
    return _RESULT_ID_PREFIX + event_id


def sync_requested(company_id: str, source: str) -> bytes:
    """A structured-mode `sync.requested` CloudEvent with a fresh id; key it by `company_id`."""
    return make_cloudevent(
        EventType.SYNC_REQUESTED, source, company_id, {}, id=f"sync-{uuid.uuid4()}"
    )


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    raise TypeError(f"cannot serialize {type(value).__name__} in a CloudEvent")
