"""The kit's observe reads every list the processor writes, across lists in creation order."""

from __future__ import annotations

from typing import Any

from conductor import Conductor

from processors.devstack import DEV_SECRET_KEY
from processors.markers import external_id_for
from tests.chaos.kit import connect_companies, generate_workload, observe


async def test_observe_sees_every_object_written_through_the_api_and_no_seeded_one(
    sim: Any, chaos_settings: Any
) -> None:
    """Tagged or not, API-written objects show in creation order; the demo data does not."""
    settings = await chaos_settings(1)
    company, other = connect_companies(sim, 2)
    client = Conductor(api_key=DEV_SECRET_KEY, base_url=sim.base_url, max_retries=0)
    user = company.end_user
    bare = client.qbd.vendors.create(conductor_end_user_id=user, name="Vendor without a tag")
    invoice = client.qbd.invoices.create(
        conductor_end_user_id=user,
        customer_id=company.customer_qbd,
        transaction_date="2026-11-24",
        lines=[{"item_id": company.item_qbd, "amount": "10.00"}],
        external_id=external_id_for("evt-observed-invoice"),
    )
    customer = client.qbd.customers.create(
        conductor_end_user_id=user,
        name="Customer with a tag",
        external_id=external_id_for("evt-observed-customer"),
    )
    workload = generate_workload([company, other], 0, seed=1)
    seen = await observe(workload, settings, sim, {})
    written = [(obj.kind, obj.id, obj.external_id) for obj in seen.objects[company.id]]

    assert written == [
        ("vendors", bare.id, None),
        ("invoices", invoice.id, invoice.external_id),
        ("customers", customer.id, customer.external_id),
    ]
    assert seen.objects[other.id] == []
