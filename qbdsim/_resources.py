"""The QuickBooks object types the simulator serves, keyed by their API path name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from conductor.types.qbd import (
    Account,
    Bill,
    BillCheckPayment,
    BillCreditCardPayment,
    Class,
    CreditMemo,
    Customer,
    DateDrivenTerm,
    DiscountItem,
    Invoice,
    NonInventoryItem,
    OtherChargeItem,
    PaymentMethod,
    PurchaseOrder,
    ReceivePayment,
    SalesReceipt,
    SalesTaxCode,
    SalesTaxGroupItem,
    SalesTaxItem,
    ServiceItem,
    StandardTerm,
    Vendor,
    VendorCredit,
)
from pydantic import BaseModel

from qbdsim._shapes import template

__all__ = [
    "ITEMS",
    "NOT_REFERENCES",
    "REFERENCES",
    "RESOURCES",
    "TERMS",
    "TRANSACTION_TYPES",
    "Reference",
    "Resource",
]


@dataclass(frozen=True, slots=True)
class Resource:
    """One object type: its path, wire ``objectType``, SDK model and what QuickBooks allows."""

    path: str
    model: type[BaseModel]
    qb_name: str  # the qbXML name, used in QuickBooks' own error texts
    is_transaction: bool
    paginated: bool = True
    updatable: bool = True
    deletable: bool = False
    voidable: bool = False
    # Names are unique (case-insensitively) within a namespace; None means no name.
    namespace: str | None = None
    name_max: int = 41
    required: tuple[str, ...] = ()
    # The deleted-transactions ``transactionType`` of a transaction type.
    txn_type: str | None = None

    @property
    def object_type(self) -> str:
        """The ``objectType`` value of this resource's objects."""
        return str(template(self.model)["objectType"])


def _txn(
    path: str,
    model: type[BaseModel],
    qb_name: str,
    txn_type: str,
    *required: str,
    voidable: bool = False,
    updatable: bool = True,
) -> Resource:
    return Resource(
        path,
        model,
        qb_name,
        True,
        updatable=updatable,
        deletable=True,
        voidable=voidable,
        required=required,
        txn_type=txn_type,
    )


def _list(
    path: str,
    model: type[BaseModel],
    qb_name: str,
    namespace: str,
    *required: str,
    name_max: int = 31,
    paginated: bool = True,
    updatable: bool = True,
) -> Resource:
    return Resource(
        path,
        model,
        qb_name,
        False,
        paginated=paginated,
        updatable=updatable,
        namespace=namespace,
        name_max=name_max,
        required=("name", *required),
    )


RESOURCES: Final[dict[str, Resource]] = {
    r.path: r
    for r in (
        # Customers, vendors, employees and other names share one namespace in QuickBooks,
        # and every kind of item shares another; both kinds of terms share a third.
        _list("customers", Customer, "Customer", "names", name_max=41),
        _list("vendors", Vendor, "Vendor", "names", name_max=41),
        _list("service-items", ServiceItem, "ItemService", "items"),
        _list("non-inventory-items", NonInventoryItem, "ItemNonInventory", "items"),
        _list("other-charge-items", OtherChargeItem, "ItemOtherCharge", "items"),
        _list("discount-items", DiscountItem, "ItemDiscount", "items", "accountId"),
        _list("sales-tax-items", SalesTaxItem, "ItemSalesTax", "items"),
        _list(
            "sales-tax-group-items",
            SalesTaxGroupItem,
            "ItemSalesTaxGroup",
            "items",
            "salesTaxItemIds",
        ),
        _list("accounts", Account, "Account", "accounts", "accountType", paginated=False),
        _list("classes", Class, "Class", "classes", paginated=False),
        _list(
            "standard-terms",
            StandardTerm,
            "StandardTerms",
            "terms",
            paginated=False,
            updatable=False,
        ),
        _list(
            "date-driven-terms",
            DateDrivenTerm,
            "DateDrivenTerms",
            "terms",
            "dueDayOfMonth",
            paginated=False,
            updatable=False,
        ),
        _list(
            "sales-tax-codes",
            SalesTaxCode,
            "SalesTaxCode",
            "sales-tax-codes",
            "isTaxable",
            name_max=3,
            paginated=False,
        ),
        _list(
            "payment-methods",
            PaymentMethod,
            "PaymentMethod",
            "payment-methods",
            "paymentMethodType",
            paginated=False,
            updatable=False,
        ),
        _txn(
            "invoices",
            Invoice,
            "Invoice",
            "invoice",
            "customerId",
            "transactionDate",
            voidable=True,
        ),
        _txn(
            "receive-payments",
            ReceivePayment,
            "ReceivePayment",
            "receive_payment",
            "customerId",
            "totalAmount",
            "transactionDate",
        ),
        _txn(
            "credit-memos",
            CreditMemo,
            "CreditMemo",
            "credit_memo",
            "customerId",
            "transactionDate",
            voidable=True,
        ),
        _txn("bills", Bill, "Bill", "bill", "vendorId", "transactionDate", voidable=True),
        _txn(
            "vendor-credits",
            VendorCredit,
            "VendorCredit",
            "vendor_credit",
            "vendorId",
            "transactionDate",
            voidable=True,
        ),
        _txn(
            "bill-check-payments",
            BillCheckPayment,
            "BillPaymentCheck",
            "bill_payment_check",
            "vendorId",
            "transactionDate",
            "bankAccountId",
            "applyToTransactions",
            voidable=True,
        ),
        _txn(
            "bill-credit-card-payments",
            BillCreditCardPayment,
            "BillPaymentCreditCard",
            "bill_payment_credit_card",
            "vendorId",
            "transactionDate",
            "creditCardAccountId",
            "applyToTransactions",
            voidable=True,
            updatable=False,
        ),
        _txn(
            "sales-receipts",
            SalesReceipt,
            "SalesReceipt",
            "sales_receipt",
            "transactionDate",
            voidable=True,
        ),
        _txn(
            "purchase-orders", PurchaseOrder, "PurchaseOrder", "purchase_order", "transactionDate"
        ),
    )
}

ITEMS: Final = (
    "service-items",
    "non-inventory-items",
    "other-charge-items",
    "discount-items",
    "sales-tax-items",
    "sales-tax-group-items",
)
TERMS: Final = ("standard-terms", "date-driven-terms")
TRANSACTION_TYPES: Final[dict[str, str]] = {
    r.txn_type: path for path, r in RESOURCES.items() if r.txn_type is not None
}


@dataclass(frozen=True, slots=True)
class Reference:
    """What a request ``...Id`` field points at: the paths searched and QuickBooks' name.

    ``targets`` is None for ``parentId`` (the object's own type) and empty for list types the
    simulator does not model: no object of those exists, so every id is an invalid reference.
    """

    targets: tuple[str, ...] | None
    qb_name: str


_ACCOUNT = Reference(("accounts",), "Account")
_CLASS = Reference(("classes",), "Class")
_VENDOR = Reference(("vendors",), "Vendor")
_ENTITY = Reference(("customers", "vendors"), "Entity")
_TAX_CODE = Reference(("sales-tax-codes",), "SalesTaxCode")
_PAYMENT_METHOD = Reference(("payment-methods",), "PaymentMethod")

# Every request key that references another object, by its wire name (``...Ids`` keys hold
# lists). Keys ending in ``Id`` that are not here and not in NOT_REFERENCES are treated as
# references to a list the simulator does not model.
REFERENCES: Final[dict[str, Reference]] = {
    "customerId": Reference(("customers",), "Customer"),
    "vendorId": _VENDOR,
    "preferredVendorId": _VENDOR,
    "taxVendorId": _VENDOR,
    "itemId": Reference(ITEMS, "Item"),
    "classId": _CLASS,
    "discountClassId": _CLASS,
    "termsId": Reference(TERMS, "Terms"),
    "parentId": Reference(None, "parent"),
    "payeeId": _ENTITY,
    "shipToEntityId": _ENTITY,
    "accountId": _ACCOUNT,
    "depositToAccountId": _ACCOUNT,
    "receivablesAccountId": _ACCOUNT,
    "payablesAccountId": _ACCOUNT,
    "postingAccountId": _ACCOUNT,
    "incomeAccountId": _ACCOUNT,
    "expenseAccountId": _ACCOUNT,
    "overrideItemAccountId": _ACCOUNT,
    "discountAccountId": _ACCOUNT,
    "bankAccountId": _ACCOUNT,
    "creditCardAccountId": _ACCOUNT,
    "salesTaxAccountId": _ACCOUNT,
    "purchaseTaxAccountId": _ACCOUNT,
    "defaultExpenseAccountIds": _ACCOUNT,
    "salesTaxCodeId": _TAX_CODE,
    "purchaseTaxCodeId": _TAX_CODE,
    "salesTaxItemId": Reference(("sales-tax-items", "sales-tax-group-items"), "ItemSalesTax"),
    "salesTaxItemIds": Reference(("sales-tax-items",), "ItemSalesTax"),
    "paymentMethodId": _PAYMENT_METHOD,
    "preferredPaymentMethodId": _PAYMENT_METHOD,
    "linkToTransactionIds": Reference(tuple(TRANSACTION_TYPES.values()), "Transaction"),
    # Lists the simulator does not model.
    "currencyId": Reference((), "Currency"),
    "salesRepresentativeId": Reference((), "SalesRep"),
    "customerMessageId": Reference((), "CustomerMsg"),
    "documentTemplateId": Reference((), "Template"),
    "shippingMethodId": Reference((), "ShipMethod"),
    "priceLevelId": Reference((), "PriceLevel"),
    "inventorySiteId": Reference((), "InventorySite"),
    "inventorySiteLocationId": Reference((), "InventorySiteLocation"),
    "unitOfMeasureSetId": Reference((), "UnitOfMeasureSet"),
    "overrideUnitOfMeasureSetId": Reference((), "UnitOfMeasureSet"),
    "itemGroupId": Reference((), "ItemGroup"),
    "customerTypeId": Reference((), "CustomerType"),
    "vendorTypeId": Reference((), "VendorType"),
    "jobTypeId": Reference((), "JobType"),
    "taxLineId": Reference((), "TaxLine"),
    "salesTaxReturnId": Reference((), "SalesTaxReturn"),
    "salesTaxReturnLineId": Reference((), "SalesTaxReturnLine"),
    "billingRateId": Reference((), "BillingRate"),
}

# Keys that end in ``Id`` but are not references to a list object.
NOT_REFERENCES: Final = frozenset(
    {
        "externalId",
        "ownerId",
        "transactionId",
        "transactionLineId",
        "creditTransactionId",
        "reconBatchId",
        "creditCardTransactionId",
        "clientTransactionId",
    }
)
