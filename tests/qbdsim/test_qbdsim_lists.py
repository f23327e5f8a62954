"""List endpoints: cursor pagination, non-paginated lists and QuickBooks' filters."""

from __future__ import annotations

import conductor
import pytest
from conductor import Conductor

from qbdsim import SimulatorServer

from .conftest import Refs


def test_pagination_walks_every_page(
    client: Conductor, end_user: str, sim: SimulatorServer
) -> None:
    """Auto-pagination returns every customer once, across several pages."""
    sim.seed(end_user, customers=320)

    names = [c.name for c in client.qbd.customers.list(limit=150, conductor_end_user_id=end_user)]

    assert len(names) == 320
    assert len(set(names)) == 320


def test_last_page_has_null_next_cursor(
    client: Conductor, end_user: str, sim: SimulatorServer
) -> None:
    """The cursor is the same on every page, and nextCursor is null on the last one."""
    sim.seed(end_user, vendors=5)

    first = client.qbd.vendors.list(limit=3, conductor_end_user_id=end_user)
    second = client.qbd.vendors.list(
        limit=3, cursor=first.next_cursor, conductor_end_user_id=end_user
    )

    assert first.next_cursor is not None
    assert [v.name for v in second.data] == ["Seeded Vendor 00004", "Seeded Vendor 00005"]
    assert second.next_cursor is None


def test_unknown_cursor_is_rejected(client: Conductor, end_user: str) -> None:
    """A cursor the simulator never issued is a 400 invalid request."""
    with pytest.raises(conductor.BadRequestError) as caught:
        client.qbd.customers.list(cursor="nope", conductor_end_user_id=end_user)

    assert caught.value.body["error"]["type"] == "INVALID_REQUEST_ERROR"


def test_accounts_list_is_not_paginated(
    client: Conductor, end_user: str, sim: SimulatorServer
) -> None:
    """Accounts come back all at once, with no cursor."""
    sim.seed(end_user, accounts=200)

    listed = client.qbd.accounts.list(conductor_end_user_id=end_user)

    assert len(listed.data) == 200


def test_filter_by_name_contains(client: Conductor, end_user: str, sim: SimulatorServer) -> None:
    """nameContains matches case-insensitively."""
    sim.seed(end_user, demo=True)

    names = [
        c.name
        for c in client.qbd.customers.list(name_contains="BAKERY", conductor_end_user_id=end_user)
    ]

    assert names == ["Foxglove Bakery"]


def test_filter_by_ids_ignores_other_filters(client: Conductor, end_user: str, refs: Refs) -> None:
    """ids[] wins over every other filter, as in QuickBooks."""
    listed = client.qbd.customers.list(
        ids=[refs.customer], name_contains="zzz", conductor_end_user_id=end_user
    )

    assert [c.id for c in listed.data] == [refs.customer]


def test_unknown_id_in_filter_fails_the_query(client: Conductor, end_user: str) -> None:
    """An id that does not exist makes the whole query fail."""
    with pytest.raises(conductor.NotFoundError) as caught:
        client.qbd.customers.list(ids=["80000999-1234567890"], conductor_end_user_id=end_user)

    assert caught.value.body["error"]["integrationCode"] == "500"


def test_filter_invoices_by_customer_and_date(client: Conductor, end_user: str, refs: Refs) -> None:
    """customerIds and transactionDateFrom/To narrow an invoice listing."""
    other = client.qbd.customers.create(name="Other", conductor_end_user_id=end_user).id
    for customer, day in (
        (refs.customer, "2024-01-05"),
        (refs.customer, "2024-03-05"),
        (other, "2024-01-06"),
    ):
        client.qbd.invoices.create(
            customer_id=customer, transaction_date=day, conductor_end_user_id=end_user
        )

    listed = client.qbd.invoices.list(
        customer_ids=[refs.customer],
        transaction_date_from="2024-01-01",
        transaction_date_to="2024-01-31",
        conductor_end_user_id=end_user,
    )

    assert [str(i.transaction_date) for i in listed] == ["2024-01-05"]


def test_inactive_objects_are_hidden_by_default(
    client: Conductor, end_user: str, refs: Refs
) -> None:
    """Lists default to active objects; status=all shows inactive ones too."""
    customer = client.qbd.customers.retrieve(refs.customer, conductor_end_user_id=end_user)
    client.qbd.customers.update(
        customer.id,
        revision_number=customer.revision_number,
        is_active=False,
        conductor_end_user_id=end_user,
    )

    default = list(client.qbd.customers.list(conductor_end_user_id=end_user))
    everything = list(client.qbd.customers.list(status="all", conductor_end_user_id=end_user))

    assert default == []
    assert [c.id for c in everything] == [refs.customer]


def test_filter_by_updated_after(client: Conductor, end_user: str, refs: Refs) -> None:
    """updatedAfter far in the future matches nothing; in the past matches everything."""
    future = list(
        client.qbd.vendors.list(updated_after="2999-01-01", conductor_end_user_id=end_user)
    )
    past = list(client.qbd.vendors.list(updated_after="2000-01-01", conductor_end_user_id=end_user))

    assert future == []
    assert [v.id for v in past] == [refs.vendor]
