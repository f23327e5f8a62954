"""Sales tax on invoices, sales receipts and credit memos.

- The *customer code* of a transaction is its ``salesTaxCode`` (``salesTaxCodeId`` on the
  request), which a new transaction takes from its customer when the request names none.
- A line's code is its own ``salesTaxCode``, else its item's (copied onto the line when it is
  built), else the customer code.
- A line is taxable when its code is taxable (``isTaxable``) AND the customer code is taxable;
  a transaction with no customer code counts as taxable on the customer side, a line with no
  code at all is not taxable. The simulator never assigns codes by itself.
- The rate is the transaction's ``salesTaxItem`` (``salesTaxItemId``; a new transaction takes
  its customer's when the request names none): a sales tax item's ``taxRate``, or the sum of
  the rates of a sales tax group's items. No sales tax item means no tax (0 %).
- ``salesTaxTotal`` = taxable amount x rate / 100, rounded half-up to the cent, once per
  transaction; ``salesTaxPercentage`` is the rate.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Final

from qbdsim._ledger import ZERO
from qbdsim._lines import dec
from qbdsim._shapes import money, rate_text

if TYPE_CHECKING:
    from qbdsim._company import CompanyFile, Obj

__all__ = ["apply_sales_tax", "default_tax_fields"]

_HUNDRED: Final = Decimal(100)


def default_tax_fields(company: CompanyFile, obj: Obj) -> None:
    """Give a new sales transaction its customer's tax code and tax item, as QuickBooks does."""
    customer_ref = obj.get("customer")
    customer = company.get("customers", customer_ref["id"]) if customer_ref else None
    if customer is None:
        return
    for key in ("salesTaxCode", "salesTaxItem"):
        if obj.get(key) is None and customer.get(key) is not None:
            obj[key] = customer[key]


def _taxable(company: CompanyFile, code_ref: dict[str, str] | None) -> bool | None:
    if not code_ref:
        return None
    code = company.get("sales-tax-codes", code_ref["id"])
    return bool(code and code.get("isTaxable"))


def _rate(company: CompanyFile, item_ref: dict[str, str] | None) -> Decimal | None:
    if not item_ref:
        return None
    item = company.get("sales-tax-items", item_ref["id"])
    if item is not None:
        return dec(item.get("taxRate"))
    group = company.get("sales-tax-group-items", item_ref["id"])
    if group is None:
        return None
    members = (company.get("sales-tax-items", ref["id"]) for ref in group["salesTaxItems"])
    return sum((dec(m.get("taxRate")) for m in members if m), ZERO)


def apply_sales_tax(company: CompanyFile, obj: Obj) -> Decimal:
    """Set ``salesTaxTotal`` and ``salesTaxPercentage`` from the lines; return the tax."""
    rate = _rate(company, obj.get("salesTaxItem"))
    customer_code = obj.get("salesTaxCode")
    customer_taxable = _taxable(company, customer_code) is not False
    taxable = ZERO
    for line in obj.get("lines") or []:
        code = line.get("salesTaxCode") or customer_code
        if customer_taxable and _taxable(company, code):
            taxable += dec(line.get("amount"))
    tax = ZERO if rate is None else (taxable * rate / _HUNDRED)
    obj["salesTaxTotal"] = money(tax)
    obj["salesTaxPercentage"] = rate_text(rate or ZERO)
    return dec(obj["salesTaxTotal"])
