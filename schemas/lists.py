"""`*.upserted` events: QuickBooks list objects the app owns (CONTRACT.md 4, 4a, 4b).

Each one creates the list object, or updates the one its app id is mapped to, and stores
the mapping. `is_active` (default true) makes the object inactive in QuickBooks or active
again; every field is sent as given, so an upsert describes the whole object.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from schemas.fields import (
    AccountNumber,
    AppId,
    Email,
    Flag,
    ListName,
    Memo,
    PartyName,
    Percent,
    Phone,
    Price,
    TextRule,
)
from schemas.names import AccountType, Change, ItemKind, ObjectType, PaymentMethodKind
from schemas.refs import EventData, Identifies, RefersTo

__all__ = [
    "AccountUpserted",
    "Address",
    "ClassUpserted",
    "CustomerUpserted",
    "ItemUpserted",
    "PaymentMethodUpserted",
    "TermsUpserted",
    "VendorUpserted",
]

DueDays = Annotated[int, Field(strict=True, ge=0, le=999)]
"""Whole days, 0 to 999 (what the QuickBooks terms dialog takes)."""


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


class _Upsert(EventData):
    CHANGE: ClassVar[Change | None] = Change.UPSERT


class CustomerUpserted(_Upsert):
    """`customer.upserted`: create or update a customer."""

    customer_id: Annotated[AppId, Identifies(ObjectType.CUSTOMER)]
    name: PartyName
    company_name: PartyName | None = None
    email: Email | None = None
    phone: Phone | None = None
    billing_address: Address | None = None
    sales_tax_code_id: Annotated[AppId | None, RefersTo(ObjectType.SALES_TAX_CODE)] = None
    is_active: Flag = True


class VendorUpserted(_Upsert):
    """`vendor.upserted`: create or update a vendor."""

    vendor_id: Annotated[AppId, Identifies(ObjectType.VENDOR)]
    name: PartyName
    email: Email | None = None
    phone: Phone | None = None
    address: Address | None = None
    is_active: Flag = True


class ItemUpserted(_Upsert):
    """`item.upserted`: create or update a service or non-inventory item."""

    item_id: Annotated[AppId, Identifies(ObjectType.ITEM)]
    name: ListName
    kind: ItemKind
    price: Price | None = None
    income_account_id: Annotated[AppId | None, RefersTo(ObjectType.ACCOUNT)] = None
    description: Memo | None = None
    is_active: Flag = True


class ClassUpserted(_Upsert):
    """`class.upserted`: create or update a class."""

    class_id: Annotated[AppId, Identifies(ObjectType.CLASS)]
    name: ListName
    is_active: Flag = True


class TermsUpserted(_Upsert):
    """`terms.upserted`: create or update standard terms (net days, early-payment discount).

    `discount_days` and `discount_percent` go together: an early-payment discount needs
    both how many days it lasts and how much it is.
    """

    terms_id: Annotated[AppId, Identifies(ObjectType.TERMS)]
    name: ListName
    due_days: DueDays | None = None
    discount_days: DueDays | None = None
    discount_percent: Percent | None = None
    is_active: Flag = True

    @model_validator(mode="after")
    def _discount_is_whole(self) -> TermsUpserted:
        if (self.discount_days is None) != (self.discount_percent is None):
            raise PydanticCustomError(
                "terms_discount_incomplete",
                "discount_days and discount_percent must be given together",
            )
        return self


class AccountUpserted(_Upsert):
    """`account.upserted`: create or update an account in the chart of accounts."""

    account_id: Annotated[AppId, Identifies(ObjectType.ACCOUNT)]
    name: ListName
    account_type: AccountType
    number: AccountNumber | None = None
    is_active: Flag = True


class PaymentMethodUpserted(_Upsert):
    """`payment_method.upserted`: create or update a payment method.

    Without `kind`, a new payment method is created as `other` and an existing one keeps
    its kind.
    """

    payment_method_id: Annotated[AppId, Identifies(ObjectType.PAYMENT_METHOD)]
    name: ListName
    kind: PaymentMethodKind | None = None
    is_active: Flag = True
