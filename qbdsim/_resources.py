"""The QuickBooks object types the simulator serves, keyed by their API path name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from conductor.types.qbd import (
    Account,
    Bill,
    Class,
    Customer,
    Invoice,
    NonInventoryItem,
    PurchaseOrder,
    ReceivePayment,
    SalesReceipt,
    ServiceItem,
    StandardTerm,
    Vendor,
)
from pydantic import BaseModel

from qbdsim._shapes import template

__all__ = ["REFERENCES", "RESOURCES", "Reference", "Resource"]


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

    @property
    def object_type(self) -> str:
        """The ``objectType`` value of this resource's objects."""
        return str(template(self.model)["objectType"])


def _txn(
    path: str, model: type[BaseModel], qb_name: str, *required: str, voidable: bool = False
) -> Resource:
    return Resource(
        path, model, qb_name, True, deletable=True, voidable=voidable, required=required
    )


RESOURCES: Final[dict[str, Resource]] = {
    r.path: r
    for r in (
        # Customers, vendors, employees and other names share one namespace in QuickBooks.
        Resource("customers", Customer, "Customer", False, namespace="names", required=("name",)),
        Resource("vendors", Vendor, "Vendor", False, namespace="names", required=("name",)),
        Resource(
            "service-items",
            ServiceItem,
            "ItemService",
            False,
            namespace="items",
            name_max=31,
            required=("name",),
        ),
        Resource(
            "non-inventory-items",
            NonInventoryItem,
            "ItemNonInventory",
            False,
            namespace="items",
            name_max=31,
            required=("name",),
        ),
        Resource(
            "accounts",
            Account,
            "Account",
            False,
            paginated=False,
            namespace="accounts",
            required=("name", "accountType"),
        ),
        Resource(
            "classes",
            Class,
            "Class",
            False,
            paginated=False,
            namespace="classes",
            required=("name",),
        ),
        Resource(
            "standard-terms",
            StandardTerm,
            "StandardTerms",
            False,
            paginated=False,
            updatable=False,
            namespace="terms",
            name_max=31,
            required=("name",),
        ),
        _txn("invoices", Invoice, "Invoice", "customerId", "transactionDate", voidable=True),
        _txn(
            "receive-payments",
            ReceivePayment,
            "ReceivePayment",
            "customerId",
            "totalAmount",
            "transactionDate",
        ),
        _txn("bills", Bill, "Bill", "vendorId", "transactionDate", voidable=True),
        _txn("sales-receipts", SalesReceipt, "SalesReceipt", "transactionDate", voidable=True),
        _txn("purchase-orders", PurchaseOrder, "PurchaseOrder", "transactionDate"),
    )
}


@dataclass(frozen=True, slots=True)
class Reference:
    """A request field that points at another object, e.g. ``customerId`` -> ``customer``."""

    response_key: str
    targets: tuple[str, ...]  # resource paths searched, in order; empty = same resource
    qb_name: str


_ACCOUNTS = ("accounts",)
_ITEMS = ("service-items", "non-inventory-items")
_ENTITIES = ("customers", "vendors")

# Request keys whose targets the simulator models; other ``...Id`` keys pass through unchecked.
REFERENCES: Final[dict[str, Reference]] = {
    "customerId": Reference("customer", ("customers",), "Customer"),
    "vendorId": Reference("vendor", ("vendors",), "Vendor"),
    "preferredVendorId": Reference("preferredVendor", ("vendors",), "Vendor"),
    "itemId": Reference("item", _ITEMS, "Item"),
    "classId": Reference("class", ("classes",), "Class"),
    "discountClassId": Reference("discountClass", ("classes",), "Class"),
    "termsId": Reference("terms", ("standard-terms",), "Terms"),
    "parentId": Reference("parent", (), "parent"),
    "payeeId": Reference("payee", _ENTITIES, "Entity"),
    "shipToEntityId": Reference("shipToEntity", _ENTITIES, "Entity"),
    "accountId": Reference("account", _ACCOUNTS, "Account"),
    "depositToAccountId": Reference("depositToAccount", _ACCOUNTS, "Account"),
    "receivablesAccountId": Reference("receivablesAccount", _ACCOUNTS, "Account"),
    "payablesAccountId": Reference("payablesAccount", _ACCOUNTS, "Account"),
    "postingAccountId": Reference("postingAccount", _ACCOUNTS, "Account"),
    "incomeAccountId": Reference("incomeAccount", _ACCOUNTS, "Account"),
    "expenseAccountId": Reference("expenseAccount", _ACCOUNTS, "Account"),
    "overrideItemAccountId": Reference("overrideItemAccount", _ACCOUNTS, "Account"),
    "discountAccountId": Reference("discountAccount", _ACCOUNTS, "Account"),
}
