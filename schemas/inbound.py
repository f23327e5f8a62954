"""The `data` of every inbound event type (CONTRACT.md section 4).

Choices where the contract is silent, each one what QuickBooks Desktop itself accepts:

- Quantities, rates, prices and costs are never negative: a return or a credit is a
  different QuickBooks transaction (credit memo, vendor credit), not a negative line.
- Line amounts (`lines[].amount`, `expense_lines[].amount`) may be negative: QuickBooks
  takes discount and credit lines on invoices, receipts, orders and bills.
- Payment totals and applied amounts are zero or more; the applied amounts may not add up
  to more than `total_amount` (QuickBooks refuses to over-apply a payment).
- Text is capped at the QuickBooks field length: names of customers and vendors 41,
  items 31, `ref_number` 11 on invoices, sales receipts and purchase orders and 20 on
  payments and bills (QuickBooks' own caps), memo and descriptions 4095, email 1023,
  phone 21, address lines 41. Longer text is an error, never silently truncated.
- A bill needs at least one expense or item line; every other `lines` list is required
  and non-empty where the contract lists it as required.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Final

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from schemas.fields import (
    AppId,
    IsoDate,
    Money,
    NonNegativeMoney,
    Price,
    Quantity,
    TextRule,
)
from schemas.names import EventType, ItemKind, ObjectType, ReferenceList
from schemas.refs import EventData, Identifies, RefersTo

__all__ = [
    "DATA_MODELS",
    "Address",
    "AppliedPayment",
    "BillCreated",
    "BillItemLine",
    "CompanyConnectRequested",
    "CustomerUpserted",
    "ExpenseLine",
    "InvoiceCreated",
    "ItemUpserted",
    "MappingSet",
    "PaymentReceived",
    "PurchaseOrderCreated",
    "ReferencePullRequested",
    "SalesLine",
    "SalesReceiptCreated",
    "SyncRequested",
    "VendorUpserted",
]

PartyName = Annotated[str, TextRule(41)]
ItemName = Annotated[str, TextRule(31)]
ShortRef = Annotated[str, TextRule(11)]
LongRef = Annotated[str, TextRule(20)]
Memo = Annotated[str, TextRule(4095, multiline=True)]
Email = Annotated[str, TextRule(1023)]
Phone = Annotated[str, TextRule(21)]
QbdId = Annotated[str, TextRule(255)]


def _ref(object_type: ObjectType) -> RefersTo:
    return RefersTo(object_type)


class Address(EventData):
    """A postal address (QuickBooks field caps)."""

    line1: Annotated[str, TextRule(41)] | None = None
    line2: Annotated[str, TextRule(41)] | None = None
    line3: Annotated[str, TextRule(41)] | None = None
    line4: Annotated[str, TextRule(41)] | None = None
    line5: Annotated[str, TextRule(41)] | None = None
    city: Annotated[str, TextRule(31)] | None = None
    state: Annotated[str, TextRule(21)] | None = None
    postal_code: Annotated[str, TextRule(13)] | None = None
    country: Annotated[str, TextRule(31)] | None = None
    note: Annotated[str, TextRule(41)] | None = None


class CompanyConnectRequested(EventData):
    """`company.connect_requested`: create the Conductor end-user and a setup link."""

    company_name: PartyName
    email: Email | None = None


class MappingSet(EventData):
    """`mapping.set`: link an app object to a QuickBooks object the user chose."""

    object_type: ObjectType
    mapped_app_id: Annotated[AppId, Identifies(), Field(alias="app_id")]
    qbd_id: QbdId


class CustomerUpserted(EventData):
    """`customer.upserted`: create or update a customer."""

    customer_id: Annotated[AppId, Identifies(ObjectType.CUSTOMER)]
    name: PartyName
    company_name: PartyName | None = None
    email: Email | None = None
    phone: Phone | None = None
    billing_address: Address | None = None


class VendorUpserted(EventData):
    """`vendor.upserted`: create or update a vendor."""

    vendor_id: Annotated[AppId, Identifies(ObjectType.VENDOR)]
    name: PartyName
    email: Email | None = None
    phone: Phone | None = None
    address: Address | None = None


class ItemUpserted(EventData):
    """`item.upserted`: create or update a service or non-inventory item."""

    item_id: Annotated[AppId, Identifies(ObjectType.ITEM)]
    name: ItemName
    kind: ItemKind
    price: Price | None = None
    income_account_id: Annotated[AppId | None, _ref(ObjectType.ACCOUNT)] = None
    description: Memo | None = None


class SalesLine(EventData):
    """One line of an invoice, sales receipt or purchase order."""

    item_id: Annotated[AppId, _ref(ObjectType.ITEM)]
    quantity: Quantity | None = None
    rate: Price | None = None
    amount: Money | None = None
    description: Memo | None = None


Lines = Annotated[list[SalesLine], Field(min_length=1)]


class InvoiceCreated(EventData):
    """`invoice.created`: create an invoice."""

    invoice_id: Annotated[AppId, Identifies(ObjectType.INVOICE)]
    customer_id: Annotated[AppId, _ref(ObjectType.CUSTOMER)]
    transaction_date: IsoDate
    lines: Lines
    ref_number: ShortRef | None = None
    due_date: IsoDate | None = None
    terms_id: Annotated[AppId | None, _ref(ObjectType.TERMS)] = None
    class_id: Annotated[AppId | None, _ref(ObjectType.CLASS)] = None
    memo: Memo | None = None


class AppliedPayment(EventData):
    """The part of a payment applied to one invoice."""

    invoice_id: Annotated[AppId, _ref(ObjectType.INVOICE)]
    amount: NonNegativeMoney


class PaymentReceived(EventData):
    """`payment.received`: create a receive-payment applied to invoices."""

    payment_id: Annotated[AppId, Identifies(ObjectType.PAYMENT)]
    customer_id: Annotated[AppId, _ref(ObjectType.CUSTOMER)]
    transaction_date: IsoDate
    total_amount: NonNegativeMoney
    applied_to: list[AppliedPayment] = Field(default_factory=list)
    payment_method_id: Annotated[AppId | None, _ref(ObjectType.PAYMENT_METHOD)] = None
    deposit_account_id: Annotated[AppId | None, _ref(ObjectType.ACCOUNT)] = None
    ref_number: LongRef | None = None
    memo: Memo | None = None

    @model_validator(mode="after")
    def _not_over_applied(self) -> PaymentReceived:
        applied = sum((part.amount for part in self.applied_to), Decimal(0))
        if applied > self.total_amount:
            raise PydanticCustomError(
                "payment_over_applied",
                "applied_to amounts add up to {applied}, more than total_amount {total}",
                {"applied": str(applied), "total": str(self.total_amount)},
            )
        return self


class ExpenseLine(EventData):
    """A bill line that posts straight to an account."""

    account_id: Annotated[AppId, _ref(ObjectType.ACCOUNT)]
    amount: Money
    memo: Memo | None = None


class BillItemLine(EventData):
    """A bill line for an item."""

    item_id: Annotated[AppId, _ref(ObjectType.ITEM)]
    quantity: Quantity | None = None
    cost: Price | None = None


class BillCreated(EventData):
    """`bill.created`: create a bill."""

    bill_id: Annotated[AppId, Identifies(ObjectType.BILL)]
    vendor_id: Annotated[AppId, _ref(ObjectType.VENDOR)]
    transaction_date: IsoDate
    expense_lines: list[ExpenseLine] = Field(default_factory=list)
    item_lines: list[BillItemLine] = Field(default_factory=list)
    due_date: IsoDate | None = None
    ref_number: LongRef | None = None
    memo: Memo | None = None

    @model_validator(mode="after")
    def _has_lines(self) -> BillCreated:
        if not self.expense_lines and not self.item_lines:
            raise PydanticCustomError(
                "bill_without_lines", "needs at least one of expense_lines or item_lines"
            )
        return self


class SalesReceiptCreated(EventData):
    """`sales_receipt.created`: create a sales receipt."""

    sales_receipt_id: Annotated[AppId, Identifies(ObjectType.SALES_RECEIPT)]
    customer_id: Annotated[AppId, _ref(ObjectType.CUSTOMER)]
    transaction_date: IsoDate
    lines: Lines
    payment_method_id: Annotated[AppId | None, _ref(ObjectType.PAYMENT_METHOD)] = None
    deposit_account_id: Annotated[AppId | None, _ref(ObjectType.ACCOUNT)] = None
    ref_number: ShortRef | None = None
    memo: Memo | None = None


class PurchaseOrderCreated(EventData):
    """`purchase_order.created`: create a purchase order."""

    purchase_order_id: Annotated[AppId, Identifies(ObjectType.PURCHASE_ORDER)]
    vendor_id: Annotated[AppId, _ref(ObjectType.VENDOR)]
    transaction_date: IsoDate
    lines: Lines
    expected_date: IsoDate | None = None
    ref_number: ShortRef | None = None
    class_id: Annotated[AppId | None, _ref(ObjectType.CLASS)] = None
    memo: Memo | None = None


class SyncRequested(EventData):
    """`sync.requested`: health-check the company and replay its parked work."""


class ReferencePullRequested(EventData):
    """`reference.pull_requested`: publish QuickBooks lists to the reference topic."""

    object_types: Annotated[list[ReferenceList], Field(min_length=1)] = Field(
        default_factory=lambda: list(ReferenceList)
    )


DATA_MODELS: Final[dict[EventType, type[EventData]]] = {
    EventType.COMPANY_CONNECT_REQUESTED: CompanyConnectRequested,
    EventType.MAPPING_SET: MappingSet,
    EventType.CUSTOMER_UPSERTED: CustomerUpserted,
    EventType.VENDOR_UPSERTED: VendorUpserted,
    EventType.ITEM_UPSERTED: ItemUpserted,
    EventType.INVOICE_CREATED: InvoiceCreated,
    EventType.PAYMENT_RECEIVED: PaymentReceived,
    EventType.BILL_CREATED: BillCreated,
    EventType.SALES_RECEIPT_CREATED: SalesReceiptCreated,
    EventType.PURCHASE_ORDER_CREATED: PurchaseOrderCreated,
    EventType.SYNC_REQUESTED: SyncRequested,
    EventType.REFERENCE_PULL_REQUESTED: ReferencePullRequested,
}
"""The `data` model of each inbound event type."""
