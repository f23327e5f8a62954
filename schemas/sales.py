"""Sales transactions: invoices, sales receipts and credit memos, from create to delete.

`*.updated` carries the app id and any field of the matching `*.created`: a field that is
absent (or null) is left as it is in QuickBooks; `lines`, when present, replace every line
and must not be empty (a sales transaction keeps at least one line). `*.voided` keeps the
transaction with zero amounts; `*.deleted` removes it.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from schemas.fields import AppId, IsoDate, Memo, Money, Price, Quantity, ShortRef
from schemas.names import Change, ObjectType
from schemas.refs import EventData, Identifies, RefersTo

__all__ = [
    "CreditMemoCreated",
    "CreditMemoDeleted",
    "CreditMemoUpdated",
    "CreditMemoVoided",
    "InvoiceCreated",
    "InvoiceDeleted",
    "InvoiceUpdated",
    "InvoiceVoided",
    "Lines",
    "SalesLine",
    "SalesReceiptCreated",
    "SalesReceiptDeleted",
    "SalesReceiptUpdated",
    "SalesReceiptVoided",
    "VoidReason",
]

VoidReason = Memo | None
"""Why the app voided it (up to 4095 characters). QuickBooks' void takes no reason, so it
stays with the event (ledger, logs) for people to read."""

_CustomerRef = Annotated[AppId, RefersTo(ObjectType.CUSTOMER)]
_OptionalRef = AppId | None
_InvoiceId = Annotated[AppId, Identifies(ObjectType.INVOICE)]
_ReceiptId = Annotated[AppId, Identifies(ObjectType.SALES_RECEIPT)]
_CreditMemoId = Annotated[AppId, Identifies(ObjectType.CREDIT_MEMO)]


class SalesLine(EventData):
    """One line of an invoice, sales receipt, credit memo or purchase order.

    `sales_tax_code_id` is the line's sales tax code (taxable or not); on a purchase
    order line QuickBooks takes it as the purchase tax code.
    """

    item_id: Annotated[AppId, RefersTo(ObjectType.ITEM)]
    quantity: Quantity | None = None
    rate: Price | None = None
    amount: Money | None = None
    description: Memo | None = None
    sales_tax_code_id: Annotated[_OptionalRef, RefersTo(ObjectType.SALES_TAX_CODE)] = None


Lines = Annotated[list[SalesLine], Field(min_length=1)]
"""A required, non-empty list of lines."""

_SalesTaxItemRef = Annotated[_OptionalRef, RefersTo(ObjectType.SALES_TAX_ITEM)]
_PaymentMethodRef = Annotated[_OptionalRef, RefersTo(ObjectType.PAYMENT_METHOD)]
_AccountRef = Annotated[_OptionalRef, RefersTo(ObjectType.ACCOUNT)]
_TermsRef = Annotated[_OptionalRef, RefersTo(ObjectType.TERMS)]
_ClassRef = Annotated[_OptionalRef, RefersTo(ObjectType.CLASS)]


class InvoiceCreated(EventData):
    """`invoice.created`: create an invoice."""

    CHANGE: ClassVar[Change | None] = Change.CREATE

    invoice_id: _InvoiceId
    customer_id: _CustomerRef
    transaction_date: IsoDate
    lines: Lines
    ref_number: ShortRef | None = None
    due_date: IsoDate | None = None
    terms_id: _TermsRef = None
    class_id: _ClassRef = None
    memo: Memo | None = None
    sales_tax_item_id: _SalesTaxItemRef = None


class InvoiceUpdated(EventData):
    """`invoice.updated`: change the fields it carries on the mapped invoice."""

    CHANGE: ClassVar[Change | None] = Change.UPDATE

    invoice_id: _InvoiceId
    customer_id: Annotated[_OptionalRef, RefersTo(ObjectType.CUSTOMER)] = None
    transaction_date: IsoDate | None = None
    lines: Lines | None = None
    ref_number: ShortRef | None = None
    due_date: IsoDate | None = None
    terms_id: _TermsRef = None
    class_id: _ClassRef = None
    memo: Memo | None = None
    sales_tax_item_id: _SalesTaxItemRef = None


class InvoiceVoided(EventData):
    """`invoice.voided`: void the mapped invoice (kept in QuickBooks, amounts zero)."""

    CHANGE: ClassVar[Change | None] = Change.VOID

    invoice_id: _InvoiceId
    reason: VoidReason = None


class InvoiceDeleted(EventData):
    """`invoice.deleted`: delete the mapped invoice."""

    CHANGE: ClassVar[Change | None] = Change.DELETE

    invoice_id: _InvoiceId


class SalesReceiptCreated(EventData):
    """`sales_receipt.created`: create a sales receipt."""

    CHANGE: ClassVar[Change | None] = Change.CREATE

    sales_receipt_id: _ReceiptId
    customer_id: _CustomerRef
    transaction_date: IsoDate
    lines: Lines
    payment_method_id: _PaymentMethodRef = None
    deposit_account_id: _AccountRef = None
    ref_number: ShortRef | None = None
    memo: Memo | None = None
    sales_tax_item_id: _SalesTaxItemRef = None


class SalesReceiptUpdated(EventData):
    """`sales_receipt.updated`: change the fields it carries on the mapped sales receipt."""

    CHANGE: ClassVar[Change | None] = Change.UPDATE

    sales_receipt_id: _ReceiptId
    customer_id: Annotated[_OptionalRef, RefersTo(ObjectType.CUSTOMER)] = None
    transaction_date: IsoDate | None = None
    lines: Lines | None = None
    payment_method_id: _PaymentMethodRef = None
    deposit_account_id: _AccountRef = None
    ref_number: ShortRef | None = None
    memo: Memo | None = None
    sales_tax_item_id: _SalesTaxItemRef = None


class SalesReceiptVoided(EventData):
    """`sales_receipt.voided`: void the mapped sales receipt."""

    CHANGE: ClassVar[Change | None] = Change.VOID

    sales_receipt_id: _ReceiptId
    reason: VoidReason = None


class SalesReceiptDeleted(EventData):
    """`sales_receipt.deleted`: delete the mapped sales receipt."""

    CHANGE: ClassVar[Change | None] = Change.DELETE

    sales_receipt_id: _ReceiptId


class CreditMemoCreated(EventData):
    """`credit_memo.created`: create a credit memo (a return or credit for a customer).

    Lines are the same as invoice lines, with the same rule: quantities stay positive, the
    credit memo itself is what makes them a credit.
    """

    CHANGE: ClassVar[Change | None] = Change.CREATE

    credit_memo_id: _CreditMemoId
    customer_id: _CustomerRef
    transaction_date: IsoDate
    lines: Lines
    ref_number: ShortRef | None = None
    memo: Memo | None = None
    sales_tax_item_id: _SalesTaxItemRef = None


class CreditMemoUpdated(EventData):
    """`credit_memo.updated`: change the fields it carries on the mapped credit memo."""

    CHANGE: ClassVar[Change | None] = Change.UPDATE

    credit_memo_id: _CreditMemoId
    customer_id: Annotated[_OptionalRef, RefersTo(ObjectType.CUSTOMER)] = None
    transaction_date: IsoDate | None = None
    lines: Lines | None = None
    ref_number: ShortRef | None = None
    memo: Memo | None = None
    sales_tax_item_id: _SalesTaxItemRef = None


class CreditMemoVoided(EventData):
    """`credit_memo.voided`: void the mapped credit memo."""

    CHANGE: ClassVar[Change | None] = Change.VOID

    credit_memo_id: _CreditMemoId
    reason: VoidReason = None


class CreditMemoDeleted(EventData):
    """`credit_memo.deleted`: delete the mapped credit memo."""

    CHANGE: ClassVar[Change | None] = Change.DELETE

    credit_memo_id: _CreditMemoId
