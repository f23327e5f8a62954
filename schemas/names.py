"""Every name on the wire, in one place: topics, event types, headers, enums.

Topic names here are the *defaults*; deployments override them through settings
(CONTRACT.md section 5). Everything else is fixed by the contract.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

CLOUDEVENTS_CONTENT_TYPE: Final = "application/cloudevents+json"
CLOUDEVENTS_SPEC_VERSION: Final = "1.0"
SOURCE: Final = "qbd-sync"
"""The CloudEvents `source` of every event qbd-sync publishes."""


class Topic(StrEnum):
    """Default topic names (each one is a setting too)."""

    EVENTS = "qbd.events"
    SYNC_RESULTS = "qbd.sync-results"
    NEEDS_ATTENTION = "qbd.needs-attention"
    DLQ = "qbd.dlq"
    REJECTED = "qbd.rejected"
    REFERENCE = "qbd.reference"


class EventType(StrEnum):
    """Inbound CloudEvent types (CONTRACT.md section 4)."""

    COMPANY_CONNECT_REQUESTED = "company.connect_requested"
    MAPPING_SET = "mapping.set"
    CUSTOMER_UPSERTED = "customer.upserted"
    VENDOR_UPSERTED = "vendor.upserted"
    ITEM_UPSERTED = "item.upserted"
    INVOICE_CREATED = "invoice.created"
    PAYMENT_RECEIVED = "payment.received"
    BILL_CREATED = "bill.created"
    SALES_RECEIPT_CREATED = "sales_receipt.created"
    PURCHASE_ORDER_CREATED = "purchase_order.created"
    SYNC_REQUESTED = "sync.requested"
    REFERENCE_PULL_REQUESTED = "reference.pull_requested"


class OutboundType(StrEnum):
    """CloudEvent types qbd-sync publishes (CONTRACT.md section 5).

    `CONNECTION_SETUP_LINK` is published on the needs-attention topic with attention data
    (category `setup`, `auth_flow_url` set) when `company.connect_requested` creates the
    company's auth session.
    """

    SYNC_SUCCEEDED = "qbd.sync.succeeded"
    SYNC_FAILED = "qbd.sync.failed"
    ATTENTION_NEEDED = "qbd.attention.needed"
    ATTENTION_RESOLVED = "qbd.attention.resolved"
    CONNECTION_SETUP_LINK = "qbd.connection.setup_link"
    REFERENCE_CUSTOMER = "qbd.reference.customer"
    REFERENCE_VENDOR = "qbd.reference.vendor"
    REFERENCE_ITEM = "qbd.reference.item"
    REFERENCE_ACCOUNT = "qbd.reference.account"
    REFERENCE_CLASS = "qbd.reference.class"
    REFERENCE_TERMS = "qbd.reference.terms"


class ObjectType(StrEnum):
    """Kinds of app objects that map to QuickBooks objects (`mapping.set`, `refs()`)."""

    CUSTOMER = "customer"
    VENDOR = "vendor"
    ITEM = "item"
    ACCOUNT = "account"
    CLASS = "class"
    TERMS = "terms"
    PAYMENT_METHOD = "payment_method"
    INVOICE = "invoice"
    PAYMENT = "payment"
    BILL = "bill"
    SALES_RECEIPT = "sales_receipt"
    PURCHASE_ORDER = "purchase_order"


class ReferenceList(StrEnum):
    """QuickBooks lists `reference.pull_requested` can ask for."""

    CUSTOMERS = "customers"
    VENDORS = "vendors"
    ITEMS = "items"
    ACCOUNTS = "accounts"
    CLASSES = "classes"
    TERMS = "terms"


REFERENCE_EVENT_TYPES: Final[dict[ReferenceList, OutboundType]] = {
    ReferenceList.CUSTOMERS: OutboundType.REFERENCE_CUSTOMER,
    ReferenceList.VENDORS: OutboundType.REFERENCE_VENDOR,
    ReferenceList.ITEMS: OutboundType.REFERENCE_ITEM,
    ReferenceList.ACCOUNTS: OutboundType.REFERENCE_ACCOUNT,
    ReferenceList.CLASSES: OutboundType.REFERENCE_CLASS,
    ReferenceList.TERMS: OutboundType.REFERENCE_TERMS,
}
"""The outbound event type each pulled list is published as."""


class ItemKind(StrEnum):
    """Item kinds `item.upserted` supports."""

    SERVICE = "service"
    NON_INVENTORY = "non_inventory"


class SyncStatus(StrEnum):
    """Where an inbound event stands; `synced` and `failed` are the published final states."""

    ATTEMPTING = "attempting"
    SYNCED = "synced"
    FAILED = "failed"
    PARKED = "parked"
    WAITING_DEPENDENCY = "waiting_dependency"
    REJECTED = "rejected"


class AttentionCategory(StrEnum):
    """What kind of fix an attention event asks the user for."""

    CONNECTION = "connection"
    SETUP = "setup"
    DATA = "data"
    CONFIGURATION = "configuration"


COMPANY_NOT_CONNECTED: Final = "COMPANY_NOT_CONNECTED"
"""Attention code for events of a company that has no Conductor end-user yet."""


class DlqHeader(StrEnum):
    """Headers added to a record parked in the DLQ (original headers are kept)."""

    PARKED_REASON = "qbd-parked-reason"
    ERROR_TYPE = "qbd-error-type"
    ERROR_CODE = "qbd-error-code"
    REQUEST_ID = "qbd-request-id"
    ATTEMPTS = "qbd-attempts"
    ORIGINAL_TOPIC = "qbd-original-topic"
    ORIGINAL_PARTITION = "qbd-original-partition"
    ORIGINAL_OFFSET = "qbd-original-offset"
    ORIGINAL_TIMESTAMP = "qbd-original-timestamp"
    CONSUMER_GROUP = "qbd-consumer-group"
    PARKED_AT = "qbd-parked-at"


REJECTED_REASON_HEADER: Final = "qbd-rejected-reason"
CONTENT_TYPE_HEADER: Final = "content-type"
