"""Payments applied to documents: customer payments to invoices, bill payments to bills.

Rules, each checked before anything reaches QuickBooks (what QuickBooks would refuse, or
what cannot mean one thing):

- `applied_to[].amount` is cash from the payment: together they may not exceed
  `total_amount` (QuickBooks refuses to over-apply a payment). What is left over stays
  as the customer's unused credit, as in QuickBooks.
- `applied_to[].credits` apply existing credit memos and `discount_amount` a discount to
  that invoice; neither is cash, so neither counts against `total_amount`. A payment of
  `"0.00"` that only applies credits is valid (that is how QuickBooks applies a credit).
- An invoice appears at most once in `applied_to`, a credit memo at most once per
  application, a bill at most once per bill payment: a repeat could mean "add" or
  "replace" and QuickBooks takes one application per document.
- A discount needs `discount_account_id` (the account QuickBooks posts discounts to).
- Whether an application fits the invoice's open balance, or a credit the credit memo's
  remaining credit, depends on QuickBooks' current state: the processor checks that.
- `payment.updated` checks the same rules on what it carries; when it sends `applied_to`
  without `total_amount`, the total in QuickBooks is what the processor checks against.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Annotated, ClassVar

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from schemas.fields import AppId, IsoDate, LongRef, Memo, NonNegativeMoney, ShortRef
from schemas.names import BillPaymentMethod, Change, ObjectType
from schemas.refs import EventData, Identifies, RefersTo

__all__ = [
    "AppliedCredit",
    "AppliedPayment",
    "BillApplication",
    "BillPaymentCreated",
    "BillPaymentDeleted",
    "PaymentDeleted",
    "PaymentReceived",
    "PaymentUpdated",
]

_OptionalRef = AppId | None
_PaymentId = Annotated[AppId, Identifies(ObjectType.PAYMENT)]
_BillPaymentId = Annotated[AppId, Identifies(ObjectType.BILL_PAYMENT)]


def _at_most_once(ids: Iterable[str], field: str, what: str) -> None:
    seen: set[str] = set()
    for app_id in ids:
        if app_id in seen:
            raise PydanticCustomError(
                "applied_twice",
                "{field} names the same {what} more than once; send one application each",
                {"field": field, "what": what},
            )
        seen.add(app_id)


class AppliedCredit(EventData):
    """Part of an existing credit memo applied to the invoice."""

    credit_memo_id: Annotated[AppId, RefersTo(ObjectType.CREDIT_MEMO)]
    amount: NonNegativeMoney


class AppliedPayment(EventData):
    """What a payment applies to one invoice: cash, a discount, and credits."""

    invoice_id: Annotated[AppId, RefersTo(ObjectType.INVOICE)]
    amount: NonNegativeMoney
    discount_amount: NonNegativeMoney | None = None
    credits: list[AppliedCredit] = Field(default_factory=list)

    @model_validator(mode="after")
    def _credits_once(self) -> AppliedPayment:
        _at_most_once((c.credit_memo_id for c in self.credits), "credits", "credit_memo_id")
        return self


def _check_applications(
    applied_to: list[AppliedPayment] | None,
    total_amount: Decimal | None,
    discount_account_id: str | None,
) -> None:
    if not applied_to:
        return
    _at_most_once((part.invoice_id for part in applied_to), "applied_to", "invoice_id")
    applied = sum((part.amount for part in applied_to), Decimal(0))
    if total_amount is not None and applied > total_amount:
        raise PydanticCustomError(
            "payment_over_applied",
            "applied_to amounts add up to {applied}, more than total_amount {total}",
            {"applied": str(applied), "total": str(total_amount)},
        )
    if discount_account_id is None and any(part.discount_amount for part in applied_to):
        raise PydanticCustomError(
            "discount_without_account",
            "a discount_amount needs discount_account_id (the account discounts post to)",
        )


class PaymentReceived(EventData):
    """`payment.received`: create a receive-payment applied to invoices."""

    CHANGE: ClassVar[Change | None] = Change.CREATE

    payment_id: _PaymentId
    customer_id: Annotated[AppId, RefersTo(ObjectType.CUSTOMER)]
    transaction_date: IsoDate
    total_amount: NonNegativeMoney
    applied_to: list[AppliedPayment] = Field(default_factory=list)
    payment_method_id: Annotated[_OptionalRef, RefersTo(ObjectType.PAYMENT_METHOD)] = None
    deposit_account_id: Annotated[_OptionalRef, RefersTo(ObjectType.ACCOUNT)] = None
    discount_account_id: Annotated[_OptionalRef, RefersTo(ObjectType.ACCOUNT)] = None
    ref_number: LongRef | None = None
    memo: Memo | None = None

    @model_validator(mode="after")
    def _applications_fit(self) -> PaymentReceived:
        _check_applications(self.applied_to, self.total_amount, self.discount_account_id)
        return self


class PaymentUpdated(EventData):
    """`payment.updated`: change the fields it carries; `applied_to` replaces every application."""

    CHANGE: ClassVar[Change | None] = Change.UPDATE

    payment_id: _PaymentId
    customer_id: Annotated[_OptionalRef, RefersTo(ObjectType.CUSTOMER)] = None
    transaction_date: IsoDate | None = None
    total_amount: NonNegativeMoney | None = None
    applied_to: list[AppliedPayment] | None = None
    payment_method_id: Annotated[_OptionalRef, RefersTo(ObjectType.PAYMENT_METHOD)] = None
    deposit_account_id: Annotated[_OptionalRef, RefersTo(ObjectType.ACCOUNT)] = None
    discount_account_id: Annotated[_OptionalRef, RefersTo(ObjectType.ACCOUNT)] = None
    ref_number: LongRef | None = None
    memo: Memo | None = None

    @model_validator(mode="after")
    def _applications_fit(self) -> PaymentUpdated:
        _check_applications(self.applied_to, self.total_amount, self.discount_account_id)
        return self


class PaymentDeleted(EventData):
    """`payment.deleted`: delete the mapped receive-payment."""

    CHANGE: ClassVar[Change | None] = Change.DELETE

    payment_id: _PaymentId


class BillApplication(EventData):
    """The part of a bill payment applied to one bill."""

    bill_id: Annotated[AppId, RefersTo(ObjectType.BILL)]
    amount: NonNegativeMoney


class BillPaymentCreated(EventData):
    """`bill_payment.created`: pay bills by check or credit card.

    `account_id` is the bank account (`check`) or credit-card account (`credit_card`)
    the money comes from. The payment's amount is the sum of `applied_to`, which must be
    more than zero.
    """

    CHANGE: ClassVar[Change | None] = Change.CREATE

    bill_payment_id: _BillPaymentId
    vendor_id: Annotated[AppId, RefersTo(ObjectType.VENDOR)]
    transaction_date: IsoDate
    method: BillPaymentMethod
    account_id: Annotated[AppId, RefersTo(ObjectType.ACCOUNT)]
    applied_to: Annotated[list[BillApplication], Field(min_length=1)]
    ref_number: ShortRef | None = None
    memo: Memo | None = None

    @model_validator(mode="after")
    def _pays_something(self) -> BillPaymentCreated:
        _at_most_once((part.bill_id for part in self.applied_to), "applied_to", "bill_id")
        if not any(part.amount for part in self.applied_to):
            raise PydanticCustomError(
                "bill_payment_empty", "applied_to amounts add up to zero; pay at least one bill"
            )
        return self


class BillPaymentDeleted(EventData):
    """`bill_payment.deleted`: delete the mapped bill payment."""

    CHANGE: ClassVar[Change | None] = Change.DELETE

    bill_payment_id: _BillPaymentId
