"""Mapping import checks an id against every QuickBooks list an app object may live in."""

from __future__ import annotations

from processors.mapping_io import MappingRow, validate

ITEM_LISTS = ("items", "other_charge_items", "discount_items")


def _row(object_type: str, qbd_id: str) -> MappingRow:
    return MappingRow(2, "acct_1", object_type, "app_1", qbd_id)


def _known(*lists: str, holding: str = "80000009-1") -> dict[tuple[str, str], dict[str, None]]:
    return {("acct_1", lst): ({holding: None} if lst == lists[0] else {}) for lst in lists}


def test_an_item_may_be_an_other_charge_item() -> None:
    """A line item mapped to a pulled other-charge item is accepted and checked."""
    known = _known("other_charge_items", "items", "discount_items")

    good, rejected, unchecked = validate([_row("item", "80000009-1")], known)

    assert (len(good), rejected, unchecked) == (1, [], 0)


def test_an_item_in_no_pulled_item_list_is_refused() -> None:
    """When every item list was pulled, an id in none of them is refused, naming them all."""
    known = _known(*ITEM_LISTS)

    good, rejected, _ = validate([_row("item", "80000077-1")], known)

    assert good == []
    assert "items or other_charge_items or discount_items" in rejected[0].reason


def test_an_item_missing_while_a_list_was_never_pulled_is_unchecked() -> None:
    """An id not found while the discount items were never pulled may be one: unchecked."""
    known = _known("items", "other_charge_items")

    good, rejected, unchecked = validate([_row("item", "80000077-1")], known)

    assert (len(good), rejected, unchecked) == (1, [], 1)


def test_terms_may_be_date_driven() -> None:
    """Terms mapped to pulled date-driven terms are accepted."""
    known = _known("date_driven_terms", "terms")

    good, rejected, unchecked = validate([_row("terms", "80000009-1")], known)

    assert (len(good), rejected, unchecked) == (1, [], 0)


def test_a_sales_tax_code_is_checked_against_the_pulled_codes() -> None:
    """Sales tax codes are a mappable list like customers or accounts."""
    known = _known("sales_tax_codes")

    _, rejected, _ = validate([_row("sales_tax_code", "80000077-1")], known)

    assert [r.line for r in rejected] == [2]
