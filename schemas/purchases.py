"""Purchase transactions: bills, purchase orders and vendor credits, from create to delete.

A bill or vendor credit needs at least one expense or item line. On `bill.updated`,
`expense_lines` and `item_lines` each replace their kind of line when present (an empty
list removes that kind); both given empty is refused, and whether the bill keeps a line
when only one kind is cleared is the processor's check against QuickBooks.
`purchase_order.updated` replaces `lines` when present (never with an empty list).
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from schemas.fields import AppId, IsoDate, LongRef, Memo, Money, Price, Quantity, ShortRef
from schemas.names import Change, ObjectType
from schemas.refs import EventData, Identifies, RefersTo
from schemas.sales import Lines, VoidReason

__all__ = [
    "BillCreated",
    "BillDeleted",
    "BillItemLine",
    "BillUpdated",
    "BillVoided",
    "ExpenseLine",
    "PurchaseOrderCreated",
    "PurchaseOrderDeleted",
    "PurchaseOrderUpdated",
    "VendorCreditCreated",
    "VendorCreditDeleted",
]

_OptionalRef = AppId | None
_BillId = Annotated[AppId, Identifies(ObjectType.BILL)]
_OrderId = Annotated[AppId, Identifies(ObjectType.PURCHASE_ORDER)]
_VendorCreditId = Annotated[AppId, Identifies(ObjectType.VENDOR_CREDIT)]
_VendorRef = Annotated[AppId, RefersTo(ObjectType.VENDOR)]
_OptionalVendorRef = Annotated[_OptionalRef, RefersTo(ObjectType.VENDOR)]
_ClassRef = Annotated[_OptionalRef, RefersTo(ObjectType.CLASS)]


class ExpenseLine(EventData):
    """A bill or vendor-credit line that posts straight to an account."""

    account_id: Annotated[AppId, RefersTo(ObjectType.ACCOUNT)]
    amount: Money
    memo: Memo | None = None


class BillItemLine(EventData):
    """A bill or vendor-credit line for an item."""

    item_id: Annotated[AppId, RefersTo(ObjectType.ITEM)]
    quantity: Quantity | None = None
    cost: Price | None = None


def _needs_a_line(expense_lines: list[ExpenseLine], item_lines: list[BillItemLine]) -> None:
    if not expense_lines and not item_lines:
        raise PydanticCustomError(
            "bill_without_lines", "needs at least one of expense_lines or item_lines"
        )


class BillCreated(EventData):
    """`bill.created`: create a bill."""

    CHANGE: ClassVar[Change | None] = Change.CREATE

    bill_id: _BillId
    vendor_id: _VendorRef
    transaction_date: IsoDate
    expense_lines: list[ExpenseLine] = Field(default_factory=list)
    item_lines: list[BillItemLine] = Field(default_factory=list)
    due_date: IsoDate | None = None
    ref_number: LongRef | None = None
    memo: Memo | None = None

    @model_validator(mode="after")
    def _has_lines(self) -> BillCreated:
        _needs_a_line(self.expense_lines, self.item_lines)
        return self


class BillUpdated(EventData):
    """`bill.updated`: change the fields it carries on the mapped bill."""

    CHANGE: ClassVar[Change | None] = Change.UPDATE

    bill_id: _BillId
    vendor_id: _OptionalVendorRef = None
    transaction_date: IsoDate | None = None
    expense_lines: list[ExpenseLine] | None = None
    item_lines: list[BillItemLine] | None = None
    due_date: IsoDate | None = None
    ref_number: LongRef | None = None
    memo: Memo | None = None

    @model_validator(mode="after")
    def _keeps_lines(self) -> BillUpdated:
        if self.expense_lines is not None and self.item_lines is not None:
            _needs_a_line(self.expense_lines, self.item_lines)
        return self


class BillVoided(EventData):
    """`bill.voided`: void the mapped bill (kept in QuickBooks, amounts zero)."""

    CHANGE: ClassVar[Change | None] = Change.VOID

    bill_id: _BillId
    reason: VoidReason = None


class BillDeleted(EventData):
    """`bill.deleted`: delete the mapped bill."""

    CHANGE: ClassVar[Change | None] = Change.DELETE

    bill_id: _BillId


class PurchaseOrderCreated(EventData):
    """`purchase_order.created`: create a purchase order."""

    CHANGE: ClassVar[Change | None] = Change.CREATE

    purchase_order_id: _OrderId
    vendor_id: _VendorRef
    transaction_date: IsoDate
    lines: Lines
    expected_date: IsoDate | None = None
    ref_number: ShortRef | None = None
    class_id: _ClassRef = None
    memo: Memo | None = None


class PurchaseOrderUpdated(EventData):
    """`purchase_order.updated`: change the fields it carries on the mapped purchase order."""

    CHANGE: ClassVar[Change | None] = Change.UPDATE

    purchase_order_id: _OrderId
    vendor_id: _OptionalVendorRef = None
    transaction_date: IsoDate | None = None
    lines: Lines | None = None
    expected_date: IsoDate | None = None
    ref_number: ShortRef | None = None
    class_id: _ClassRef = None
    memo: Memo | None = None


class PurchaseOrderDeleted(EventData):
    """`purchase_order.deleted`: delete the mapped purchase order."""

    CHANGE: ClassVar[Change | None] = Change.DELETE

    purchase_order_id: _OrderId


class VendorCreditCreated(EventData):
    """`vendor_credit.created`: record a credit from a vendor (a return, a refund due)."""

    CHANGE: ClassVar[Change | None] = Change.CREATE

    vendor_credit_id: _VendorCreditId
    vendor_id: _VendorRef
    transaction_date: IsoDate
    expense_lines: list[ExpenseLine] = Field(default_factory=list)
    item_lines: list[BillItemLine] = Field(default_factory=list)
    ref_number: LongRef | None = None
    memo: Memo | None = None

    @model_validator(mode="after")
    def _has_lines(self) -> VendorCreditCreated:
        _needs_a_line(self.expense_lines, self.item_lines)
        return self


class VendorCreditDeleted(EventData):
    """`vendor_credit.deleted`: delete the mapped vendor credit."""

    CHANGE: ClassVar[Change | None] = Change.DELETE

    vendor_credit_id: _VendorCreditId
