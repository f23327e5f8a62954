"""The `data` of every inbound event type (CONTRACT.md sections 4, 4a, 4b), by type.

The models live by concept: `lists` (`*.upserted`), `sales` (invoices, sales receipts,
credit memos), `payments` (customer and bill payments), `purchases` (bills, purchase
orders, vendor credits) and `control` (company, mappings, sync, reference pulls). This
module maps each event type to its model and re-exports them all.

Choices where the contract is silent, each one what QuickBooks Desktop itself accepts:

- Quantities, rates, prices and costs are never negative: a return or a credit is a
  different transaction (`credit_memo.created` for customers, `vendor_credit.created` for
  vendors), not a negative line. Credit memo and vendor credit lines follow the same rule:
  the transaction is what makes them a credit.
- Line amounts (`lines[].amount`, `expense_lines[].amount`) may be negative: QuickBooks
  takes discount and credit lines on invoices, receipts, orders and bills.
- Payments: see `schemas.payments` (applied cash never exceeds the total; credits and
  discounts are not cash; one application per document; a discount needs its account).
- Text is capped at the QuickBooks field length: names of customers and vendors 41,
  items, classes, terms, accounts and payment methods 31, `ref_number` 11 on invoices,
  sales receipts, credit memos, purchase orders and bill payments and 20 on payments,
  bills and vendor credits, account numbers 7, memo and descriptions 4095, email 1023,
  phone 21, address lines 41. Longer text is an error, never silently truncated.
- `*.updated`: a field that is absent or null is left as it is (clearing a field is not
  supported); lists of lines, when present, replace the lines.
- `is_active` and other flags are JSON booleans only (not `"true"`, not 0/1).
"""

from __future__ import annotations

from typing import Final

from schemas.control import (
    CompanyConnectRequested,
    CompanySettingsUpdated,
    MappingSet,
    ReferencePullRequested,
    SyncRequested,
)
from schemas.lists import (
    AccountUpserted,
    Address,
    ClassUpserted,
    CustomerUpserted,
    ItemUpserted,
    PaymentMethodUpserted,
    TermsUpserted,
    VendorUpserted,
)
from schemas.names import EventType
from schemas.payments import (
    AppliedCredit,
    AppliedPayment,
    BillApplication,
    BillPaymentCreated,
    BillPaymentDeleted,
    PaymentDeleted,
    PaymentReceived,
    PaymentUpdated,
)
from schemas.purchases import (
    BillCreated,
    BillDeleted,
    BillItemLine,
    BillUpdated,
    BillVoided,
    ExpenseLine,
    PurchaseOrderCreated,
    PurchaseOrderDeleted,
    PurchaseOrderUpdated,
    VendorCreditCreated,
    VendorCreditDeleted,
)
from schemas.refs import EventData
from schemas.sales import (
    CreditMemoCreated,
    CreditMemoDeleted,
    CreditMemoUpdated,
    CreditMemoVoided,
    InvoiceCreated,
    InvoiceDeleted,
    InvoiceUpdated,
    InvoiceVoided,
    SalesLine,
    SalesReceiptCreated,
    SalesReceiptDeleted,
    SalesReceiptUpdated,
    SalesReceiptVoided,
)

__all__ = [
    "DATA_MODELS",
    "AccountUpserted",
    "Address",
    "AppliedCredit",
    "AppliedPayment",
    "BillApplication",
    "BillCreated",
    "BillDeleted",
    "BillItemLine",
    "BillPaymentCreated",
    "BillPaymentDeleted",
    "BillUpdated",
    "BillVoided",
    "ClassUpserted",
    "CompanyConnectRequested",
    "CompanySettingsUpdated",
    "CreditMemoCreated",
    "CreditMemoDeleted",
    "CreditMemoUpdated",
    "CreditMemoVoided",
    "CustomerUpserted",
    "ExpenseLine",
    "InvoiceCreated",
    "InvoiceDeleted",
    "InvoiceUpdated",
    "InvoiceVoided",
    "ItemUpserted",
    "MappingSet",
    "PaymentDeleted",
    "PaymentMethodUpserted",
    "PaymentReceived",
    "PaymentUpdated",
    "PurchaseOrderCreated",
    "PurchaseOrderDeleted",
    "PurchaseOrderUpdated",
    "ReferencePullRequested",
    "SalesLine",
    "SalesReceiptCreated",
    "SalesReceiptDeleted",
    "SalesReceiptUpdated",
    "SalesReceiptVoided",
    "SyncRequested",
    "TermsUpserted",
    "VendorCreditCreated",
    "VendorCreditDeleted",
    "VendorUpserted",
]

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
    EventType.INVOICE_UPDATED: InvoiceUpdated,
    EventType.SALES_RECEIPT_UPDATED: SalesReceiptUpdated,
    EventType.BILL_UPDATED: BillUpdated,
    EventType.PURCHASE_ORDER_UPDATED: PurchaseOrderUpdated,
    EventType.CREDIT_MEMO_UPDATED: CreditMemoUpdated,
    EventType.PAYMENT_UPDATED: PaymentUpdated,
    EventType.INVOICE_VOIDED: InvoiceVoided,
    EventType.SALES_RECEIPT_VOIDED: SalesReceiptVoided,
    EventType.BILL_VOIDED: BillVoided,
    EventType.CREDIT_MEMO_VOIDED: CreditMemoVoided,
    EventType.INVOICE_DELETED: InvoiceDeleted,
    EventType.SALES_RECEIPT_DELETED: SalesReceiptDeleted,
    EventType.BILL_DELETED: BillDeleted,
    EventType.PURCHASE_ORDER_DELETED: PurchaseOrderDeleted,
    EventType.PAYMENT_DELETED: PaymentDeleted,
    EventType.CREDIT_MEMO_DELETED: CreditMemoDeleted,
    EventType.BILL_PAYMENT_DELETED: BillPaymentDeleted,
    EventType.VENDOR_CREDIT_DELETED: VendorCreditDeleted,
    EventType.CREDIT_MEMO_CREATED: CreditMemoCreated,
    EventType.BILL_PAYMENT_CREATED: BillPaymentCreated,
    EventType.VENDOR_CREDIT_CREATED: VendorCreditCreated,
    EventType.CLASS_UPSERTED: ClassUpserted,
    EventType.TERMS_UPSERTED: TermsUpserted,
    EventType.ACCOUNT_UPSERTED: AccountUpserted,
    EventType.PAYMENT_METHOD_UPSERTED: PaymentMethodUpserted,
    EventType.COMPANY_SETTINGS_UPDATED: CompanySettingsUpdated,
}
"""The `data` model of each inbound event type."""
