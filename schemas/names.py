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
    # Lifecycle (CONTRACT.md 4a)
    INVOICE_UPDATED = "invoice.updated"
    SALES_RECEIPT_UPDATED = "sales_receipt.updated"
    BILL_UPDATED = "bill.updated"
    PURCHASE_ORDER_UPDATED = "purchase_order.updated"
    CREDIT_MEMO_UPDATED = "credit_memo.updated"
    PAYMENT_UPDATED = "payment.updated"
    INVOICE_VOIDED = "invoice.voided"
    SALES_RECEIPT_VOIDED = "sales_receipt.voided"
    BILL_VOIDED = "bill.voided"
    CREDIT_MEMO_VOIDED = "credit_memo.voided"
    INVOICE_DELETED = "invoice.deleted"
    SALES_RECEIPT_DELETED = "sales_receipt.deleted"
    BILL_DELETED = "bill.deleted"
    PURCHASE_ORDER_DELETED = "purchase_order.deleted"
    PAYMENT_DELETED = "payment.deleted"
    CREDIT_MEMO_DELETED = "credit_memo.deleted"
    BILL_PAYMENT_DELETED = "bill_payment.deleted"
    VENDOR_CREDIT_DELETED = "vendor_credit.deleted"
    # Accounting detail (CONTRACT.md 4b)
    CREDIT_MEMO_CREATED = "credit_memo.created"
    BILL_PAYMENT_CREATED = "bill_payment.created"
    VENDOR_CREDIT_CREATED = "vendor_credit.created"
    CLASS_UPSERTED = "class.upserted"
    TERMS_UPSERTED = "terms.upserted"
    ACCOUNT_UPSERTED = "account.upserted"
    PAYMENT_METHOD_UPSERTED = "payment_method.upserted"
    COMPANY_SETTINGS_UPDATED = "company.settings_updated"


class Change(StrEnum):
    """What an inbound event asks for its own app object (`EventData.CHANGE`).

    `update`, `void` and `delete` need the object's create to have synced first (they wait
    for it, CONTRACT.md 4a); `create` of a mapped app id updates it instead; `upsert`
    creates or updates.
    """

    CREATE = "create"
    UPSERT = "upsert"
    UPDATE = "update"
    VOID = "void"
    DELETE = "delete"


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
    REFERENCE_SALES_TAX_CODE = "qbd.reference.sales_tax_code"
    REFERENCE_SALES_TAX_ITEM = "qbd.reference.sales_tax_item"
    REFERENCE_PAYMENT_METHOD = "qbd.reference.payment_method"
    STATUS_INVOICE = "qbd.status.invoice"
    COMPANY_STATE_CHANGED = "qbd.company.state_changed"


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
    CREDIT_MEMO = "credit_memo"
    BILL_PAYMENT = "bill_payment"
    VENDOR_CREDIT = "vendor_credit"
    SALES_TAX_CODE = "sales_tax_code"
    SALES_TAX_ITEM = "sales_tax_item"


class ReferenceList(StrEnum):
    """What `reference.pull_requested` can ask for: QuickBooks lists, and invoice status."""

    CUSTOMERS = "customers"
    VENDORS = "vendors"
    ITEMS = "items"
    ACCOUNTS = "accounts"
    CLASSES = "classes"
    TERMS = "terms"
    SALES_TAX_CODES = "sales_tax_codes"
    SALES_TAX_ITEMS = "sales_tax_items"
    PAYMENT_METHODS = "payment_methods"
    DATE_DRIVEN_TERMS = "date_driven_terms"
    OTHER_CHARGE_ITEMS = "other_charge_items"
    DISCOUNT_ITEMS = "discount_items"
    INVOICE_STATUS = "invoice_status"


DEFAULT_REFERENCE_LISTS: Final[tuple[ReferenceList, ...]] = (
    ReferenceList.CUSTOMERS,
    ReferenceList.VENDORS,
    ReferenceList.ITEMS,
    ReferenceList.ACCOUNTS,
    ReferenceList.CLASSES,
    ReferenceList.TERMS,
)
"""What a `reference.pull_requested` without `object_types` pulls (CONTRACT.md 4)."""

REFERENCE_EVENT_TYPES: Final[dict[ReferenceList, OutboundType]] = {
    ReferenceList.CUSTOMERS: OutboundType.REFERENCE_CUSTOMER,
    ReferenceList.VENDORS: OutboundType.REFERENCE_VENDOR,
    ReferenceList.ITEMS: OutboundType.REFERENCE_ITEM,
    ReferenceList.ACCOUNTS: OutboundType.REFERENCE_ACCOUNT,
    ReferenceList.CLASSES: OutboundType.REFERENCE_CLASS,
    ReferenceList.TERMS: OutboundType.REFERENCE_TERMS,
    ReferenceList.SALES_TAX_CODES: OutboundType.REFERENCE_SALES_TAX_CODE,
    ReferenceList.SALES_TAX_ITEMS: OutboundType.REFERENCE_SALES_TAX_ITEM,
    ReferenceList.PAYMENT_METHODS: OutboundType.REFERENCE_PAYMENT_METHOD,
    ReferenceList.DATE_DRIVEN_TERMS: OutboundType.REFERENCE_TERMS,
    ReferenceList.OTHER_CHARGE_ITEMS: OutboundType.REFERENCE_ITEM,
    ReferenceList.DISCOUNT_ITEMS: OutboundType.REFERENCE_ITEM,
    ReferenceList.INVOICE_STATUS: OutboundType.STATUS_INVOICE,
}
"""The outbound event type each pulled list is published as (both kinds of terms go out
as `qbd.reference.terms`, other-charge and discount items as `qbd.reference.item`)."""


class ItemKind(StrEnum):
    """Item kinds `item.upserted` supports."""

    SERVICE = "service"
    NON_INVENTORY = "non_inventory"


class AccountType(StrEnum):
    """QuickBooks account types (Conductor's `accountType` values)."""

    ACCOUNTS_PAYABLE = "accounts_payable"
    ACCOUNTS_RECEIVABLE = "accounts_receivable"
    BANK = "bank"
    COST_OF_GOODS_SOLD = "cost_of_goods_sold"
    CREDIT_CARD = "credit_card"
    EQUITY = "equity"
    EXPENSE = "expense"
    FIXED_ASSET = "fixed_asset"
    INCOME = "income"
    LONG_TERM_LIABILITY = "long_term_liability"
    NON_POSTING = "non_posting"
    OTHER_ASSET = "other_asset"
    OTHER_CURRENT_ASSET = "other_current_asset"
    OTHER_CURRENT_LIABILITY = "other_current_liability"
    OTHER_EXPENSE = "other_expense"
    OTHER_INCOME = "other_income"


class PaymentMethodKind(StrEnum):
    """QuickBooks payment method types (Conductor's `paymentMethodType` values)."""

    AMERICAN_EXPRESS = "american_express"
    CASH = "cash"
    CHECK = "check"
    DEBIT_CARD = "debit_card"
    DISCOVER = "discover"
    E_CHECK = "e_check"
    GIFT_CARD = "gift_card"
    MASTER_CARD = "master_card"
    OTHER = "other"
    OTHER_CREDIT_CARD = "other_credit_card"
    VISA = "visa"


class BillPaymentMethod(StrEnum):
    """How `bill_payment.created` pays: a bill check payment or a credit-card payment."""

    CHECK = "check"
    CREDIT_CARD = "credit_card"


class SyncStatus(StrEnum):
    """Where an inbound event stands; `synced` and `failed` are the published final states."""

    ATTEMPTING = "attempting"
    SYNCED = "synced"
    FAILED = "failed"
    PARKED = "parked"
    WAITING_DEPENDENCY = "waiting_dependency"
    REJECTED = "rejected"


class SyncAction(StrEnum):
    """What a sync result did in QuickBooks (`action` on `qbd.sync.*`, CONTRACT.md 4a)."""

    CREATED = "created"
    UPDATED = "updated"
    VOIDED = "voided"
    DELETED = "deleted"
    LINKED = "linked"
    """`mapping.set` stored the mapping; nothing was written to QuickBooks."""
    UNCHANGED = "unchanged"
    """There was nothing to write (the object already held every field the event sent)."""


class CompanyConnectionState(StrEnum):
    """A company's connection state as `qbd.company.state_changed` publishes it."""

    UNKNOWN = "unknown"
    SETUP_PENDING = "setup_pending"
    ONLINE = "online"
    PARKED = "parked"
    REPLAYING = "replaying"


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
JSON_CONTENT_TYPE: Final = "application/json"
KAFKA_ATTRIBUTE_PREFIX: Final = "ce_"
"""Prefix of CloudEvents attribute headers in Kafka binary content mode."""
HTTP_ATTRIBUTE_PREFIX: Final = "ce-"
"""Prefix of CloudEvents attribute headers in HTTP binary content mode."""
