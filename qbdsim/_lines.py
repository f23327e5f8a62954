"""Transaction lines: what an update keeps, and how quantity, rate and amount agree.

Update rules (the SDK docstrings): a request that carries a line array replaces the lines;
a line sent with an existing ``id`` is kept (and edited with the fields it carries), a line
with ``"id": "-1"`` (or no ``id``) is added, and lines left out are removed. A request without
the array keeps every line. Bills and vendor credits take ``clearExpenseLines`` /
``clearItemLines`` to remove every line of that kind.

Amounts (the SDK docstrings on ``amount`` and ``rate``):

- quantity and rate without amount: amount = quantity x rate (rounded to cents);
- amount and quantity without rate: rate = amount / quantity;
- none of the three on a new item line: quantity 1 at the item's price;
- quantity, rate AND amount: the amount wins. If it is not quantity x rate (to the cent),
  QuickBooks ignores the rate and sets it to amount / quantity (up to 5 decimals).

Special items, when the line gives no amount: a discount item takes its ``discountRate``
off (a negative amount), or its ``discountRatePercent`` of the line above; an other-charge
item with a ``pricePercentage`` charges that percentage of the line above. A line gets its
item's sales tax code unless it names one.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

from qbdsim._errors import request_error
from qbdsim._fields import apply_fields
from qbdsim._ledger import ZERO
from qbdsim._resources import ITEMS, Resource
from qbdsim._shapes import money, parse_money, rate_text

if TYPE_CHECKING:
    from qbdsim._company import CompanyFile, Obj

__all__ = ["build_lines", "dec", "total"]

_HUNDRED: Final = Decimal(100)


def dec(value: Any) -> Decimal:
    """Parse a stored money value (None counts as zero)."""
    return ZERO if value is None else parse_money(value)


def total(lines: list[Obj]) -> Decimal:
    """Return the sum of the lines' amounts."""
    return sum((dec(line.get("amount")) for line in lines), ZERO)


def _item(company: CompanyFile, line: Obj) -> tuple[str, Obj] | None:
    ref = line.get("item")
    return company.find(ITEMS, ref["id"]) if ref else None


def _price(path: str, item: Obj, *, purchase: bool) -> Any:
    both = item.get("salesAndPurchaseDetails")
    if both:
        return both.get("purchaseCost" if purchase else "salesPrice")
    single = item.get("salesOrPurchaseDetails")
    if single:
        return single.get("price")
    if path == "discount-items" and item.get("discountRate") is not None:
        return money(-dec(item["discountRate"]))
    return None


def _percent_of_above(path: str, item: Obj) -> Decimal | None:
    if path == "discount-items" and item.get("discountRatePercent") is not None:
        return -dec(item["discountRatePercent"])
    single = item.get("salesOrPurchaseDetails") or {}
    if path == "other-charge-items" and single.get("pricePercentage") is not None:
        return dec(single["pricePercentage"])
    return None


def build_lines(
    company: CompanyFile,
    res: Resource,
    given: list[dict[str, Any]],
    existing: list[Obj],
    *,
    object_type: str,
    price_key: str | None,
    purchase: bool = False,
) -> list[Obj]:
    """Build the lines of a request (see the module docstring for the rules)."""
    by_id = {line["id"]: line for line in existing}
    lines: list[Obj] = []
    for line_in in given:
        line_id = line_in.get("id")
        is_new = line_id in (None, "-1")
        if not is_new:
            if line_id not in by_id:
                raise request_error(
                    "3120", f'Object "{line_id}" specified in the request cannot be found.'
                )
            line: Obj = dict(by_id[line_id])
        else:
            line = {"id": company.new_line_id(), "objectType": object_type, "customFields": []}
        apply_fields(company, res, {k: v for k, v in line_in.items() if k != "id"}, line)
        if price_key is not None:
            above = lines[-1] if lines else None
            _settle(company, line, line_in, above, price_key=price_key, purchase=purchase)
        found = _item(company, line)
        if found is not None and line.get("salesTaxCode") is None:
            line["salesTaxCode"] = found[1].get("salesTaxCode")
        line.setdefault("amount", "0.00")
        if line["amount"] is None:
            line["amount"] = "0.00"
        lines.append(line)
    return lines


def _settle(
    company: CompanyFile,
    line: Obj,
    line_in: dict[str, Any],
    above: Obj | None,
    *,
    price_key: str,
    purchase: bool,
) -> None:
    """Make quantity, rate (or cost) and amount agree, as QuickBooks does."""
    amount_given = "amount" in line_in
    found = _item(company, line)
    is_new = line_in.get("id") in (None, "-1")
    if is_new and found is not None and not amount_given and line.get(price_key) is None:
        path, item = found
        percent = _percent_of_above(path, item)
        if percent is not None:
            base = dec(above.get("amount")) if above else ZERO
            line["ratePercent"] = rate_text(abs(percent))
            line["amount"] = money(base * percent / _HUNDRED)
            return
        price = _price(path, item, purchase=purchase)
        if price is not None and "quantity" not in line_in and path == "discount-items":
            line["amount"] = money(dec(price))
            return
        if price is not None:
            line[price_key] = rate_text(dec(price))
    if is_new and not {"quantity", price_key, "amount"} & line_in.keys():
        line["quantity"] = 1
    quantity = line.get("quantity")
    price = line.get(price_key)
    if amount_given and line.get("amount") is not None:
        amount = dec(line["amount"])
        if quantity and (
            price is None or money(Decimal(str(quantity)) * dec(price)) != money(amount)
        ):
            line[price_key] = rate_text(amount / Decimal(str(quantity)))
    elif quantity is not None and price is not None:
        line["amount"] = money(Decimal(str(quantity)) * dec(price))
