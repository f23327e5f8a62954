"""Seed data: a realistic demo company file, and bulk objects for reference-data tests.

The demo file holds what a small US business's QuickBooks would: a chart of accounts with a
bank and a credit-card account, classes, standard and date-driven terms, the sales tax codes
``Tax`` (taxable) and ``Non`` (non-taxable), a state (8.25 %) and a city (1 %) sales tax item
and their group, payment methods (Cash, Check, Visa), customers (code ``Tax``, no default sales
tax item, so transactions are taxed only when they name a sales tax item), vendors, service
items (``Non``), products (``Tax``), a shipping other-charge item and a 2 % discount item.
"""

from __future__ import annotations

import random
from typing import Any, Final

from qbdsim._company import CompanyFile
from qbdsim._errors import invalid_request

__all__ = ["seed_company"]

_ACCOUNTS: Final = [
    ("Checking", "bank", "1000"),
    ("Savings", "bank", "1010"),
    ("Undeposited Funds", "other_current_asset", "1200"),
    ("Accounts Receivable", "accounts_receivable", "1100"),
    ("Accounts Payable", "accounts_payable", "2000"),
    ("Consulting Income", "income", "4000"),
    ("Product Sales", "income", "4100"),
    ("Cost of Goods Sold", "cost_of_goods_sold", "5000"),
    ("Office Supplies", "expense", "6100"),
    ("Software Subscriptions", "expense", "6200"),
    ("Rent Expense", "expense", "6300"),
]
# Added after the original demo accounts so lookups by "first income account" keep working.
_MORE_ACCOUNTS: Final = [
    ("Visa Business Card", "credit_card", "2100"),
    ("Sales Tax Payable", "other_current_liability", "2200"),
    ("Shipping Income", "income", "4200"),
    ("Discounts Given", "income", "4900"),
]
_TAX_ITEMS: Final = [("State Sales Tax", "8.25"), ("City Sales Tax", "1.00")]
_PAYMENT_METHODS: Final = [("Cash", "cash"), ("Check", "check"), ("Visa", "visa")]
_CLASSES: Final = ["Consulting", "Retail", "Wholesale", "Internal"]
_TERMS: Final = [("Due on receipt", 0), ("Net 15", 15), ("Net 30", 30), ("Net 60", 60)]
_CUSTOMERS: Final = [
    ("Acme Corporation", "billing@acme.example"),
    ("Brightwater Dental", "office@brightwater.example"),
    ("Cedar & Pine Landscaping", "ap@cedarpine.example"),
    ("Delgado Family Farms", "rosa@delgadofarms.example"),
    ("Evergreen Property Management", "accounts@evergreenpm.example"),
    ("Foxglove Bakery", "hello@foxglove.example"),
    ("Granite Peak Outfitters", "finance@granitepeak.example"),
    ("Harbor Light Yoga", "studio@harborlight.example"),
    ("Ironwood Auto Repair", "service@ironwood.example"),
    ("Juniper Street Cafe", "owner@junipercafe.example"),
]
_VENDORS: Final = [
    ("Staples", "orders@staples.example"),
    ("Pacific Gas & Electric", "billing@pge.example"),
    ("Comcast Business", "business@comcast.example"),
    ("Northwind Traders", "ar@northwind.example"),
    ("Office Depot", "ar@officedepot.example"),
    ("Gusto Payroll", "support@gusto.example"),
]
_SERVICES: Final = [
    ("Consulting Hour", "150.00"),
    ("Implementation", "1200.00"),
    ("Monthly Support", "299.00"),
    ("Training Session", "450.00"),
]
_PRODUCTS: Final = [("Printer Paper", "8.99"), ("USB-C Cable", "12.50"), ("Desk Lamp", "39.00")]

_BULK_ORDER: Final = (
    "accounts",
    "classes",
    "standard-terms",
    "customers",
    "vendors",
    "service-items",
    "non-inventory-items",
    "invoices",
    "bills",
    "sales-receipts",
    "purchase-orders",
)
_LABELS: Final = {
    "accounts": "Account",
    "classes": "Class",
    "standard-terms": "Term",
    "customers": "Customer",
    "vendors": "Vendor",
    "service-items": "Service",
    "non-inventory-items": "Product",
}


def _demo(file: CompanyFile) -> dict[str, int]:
    ids: dict[str, str] = {}
    created: dict[str, int] = {}

    def add(path: str, body: dict[str, Any]) -> str:
        obj = file.create(path, body)
        ids[str(obj["name"])] = str(obj["id"])
        created[path] = created.get(path, 0) + 1
        return str(obj["id"])

    for name, account_type, number in (*_ACCOUNTS, *_MORE_ACCOUNTS):
        add("accounts", {"name": name, "accountType": account_type, "accountNumber": number})
    for name in _CLASSES:
        add("classes", {"name": name})
    for name, days in _TERMS:
        add("standard-terms", {"name": name, "dueDays": days})
    add("date-driven-terms", {"name": "Due 15th of month", "dueDayOfMonth": 15})
    add("sales-tax-codes", {"name": "Tax", "isTaxable": True, "description": "Taxable Sales"})
    add("sales-tax-codes", {"name": "Non", "isTaxable": False, "description": "Non-Taxable Sales"})
    for name, rate in _TAX_ITEMS:
        add("sales-tax-items", {"name": name, "taxRate": rate, "description": name})
    group = [ids[name] for name, _ in _TAX_ITEMS]
    add("sales-tax-group-items", {"name": "State + City Tax", "salesTaxItemIds": group})
    for name, kind in _PAYMENT_METHODS:
        add("payment-methods", {"name": name, "paymentMethodType": kind})
    for name, email in _CUSTOMERS:
        customer = {"name": name, "companyName": name, "email": email}
        add("customers", {**customer, "salesTaxCodeId": ids["Tax"]})
    for name, email in _VENDORS:
        add("vendors", {"name": name, "companyName": name, "email": email})
    for path, products, account, code in (
        ("service-items", _SERVICES, "Consulting Income", "Non"),
        ("non-inventory-items", _PRODUCTS, "Product Sales", "Tax"),
    ):
        for name, price in products:
            details = {"postingAccountId": ids[account], "price": price}
            add(
                path, {"name": name, "salesOrPurchaseDetails": details, "salesTaxCodeId": ids[code]}
            )
    shipping = {"postingAccountId": ids["Shipping Income"], "price": "15.00"}
    add(
        "other-charge-items",
        {"name": "Shipping", "salesOrPurchaseDetails": shipping, "salesTaxCodeId": ids["Non"]},
    )
    add(
        "discount-items",
        {
            "name": "Prompt Pay Discount",
            "discountRatePercent": "2",
            "accountId": ids["Discounts Given"],
            "salesTaxCodeId": ids["Non"],
        },
    )
    return created


def _first_id(file: CompanyFile, path: str, body: dict[str, Any]) -> str:
    for obj in file.all(path):
        return str(obj["id"])
    return str(file.create(path, body)["id"])


def _bulk_body(file: CompanyFile, path: str, n: int, rng: random.Random) -> dict[str, Any]:
    label = _LABELS.get(path, "")
    if path == "accounts":
        return {"name": f"Seeded Account {n:05d}", "accountType": "expense"}
    if path in ("classes", "customers", "vendors", "standard-terms"):
        return {"name": f"Seeded {label} {n:05d}"}
    if path in ("service-items", "non-inventory-items"):
        account = _first_id(file, "accounts", {"name": "Seeded Income", "accountType": "income"})
        price = f"{rng.randint(5, 500)}.00"
        details = {"postingAccountId": account, "price": price}
        return {"name": f"Seeded {label} {n:05d}"[:31], "salesOrPurchaseDetails": details}
    date = f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    amount = f"{rng.randint(10, 5000)}.{rng.randint(0, 99):02d}"
    if path == "bills":
        account = _first_id(file, "accounts", {"name": "Seeded Expense", "accountType": "expense"})
        vendor = _first_id(file, "vendors", {"name": "Seeded Vendor"})
        return {
            "vendorId": vendor,
            "transactionDate": date,
            "refNumber": f"B-{n:05d}",
            "expenseLines": [{"accountId": account, "amount": amount}],
        }
    customer = _first_id(file, "customers", {"name": "Seeded Customer"})
    body: dict[str, Any] = {
        "transactionDate": date,
        "refNumber": f"{n:05d}",
        "lines": [{"description": "Seeded line", "amount": amount}],
    }
    if path == "purchase-orders":
        body["vendorId"] = _first_id(file, "vendors", {"name": "Seeded Vendor"})
    else:
        body["customerId"] = customer
    return body


def seed_company(
    file: CompanyFile, counts: dict[str, Any], *, demo: bool = False, seed: int | None = None
) -> dict[str, int]:
    """Fill a company file: the demo data and/or ``counts`` generated objects per type."""
    unknown = set(counts) - set(_BULK_ORDER)
    if unknown:
        raise invalid_request(f"Cannot seed {sorted(unknown)}; seedable: {list(_BULK_ORDER)}.")
    created = _demo(file) if demo else {}
    rng = random.Random(seed)
    for path in _BULK_ORDER:
        count = int(counts.get(path, 0))
        start = sum(1 for _ in file.all(path))
        for n in range(start + 1, start + count + 1):
            file.create(path, _bulk_body(file, path, n, rng))
        if count:
            created[path] = created.get(path, 0) + count
    return created
