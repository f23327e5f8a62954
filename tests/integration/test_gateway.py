"""ConductorGateway over real HTTP against the simulator: writes, lookups, end-users, links."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import conductor
import pytest

from processors.config import Settings
from processors.errors import ConfigError
from processors.gateway import ConductorGateway
from processors.markers import external_id_for, same_external_id
from processors.testing import unique_name
from processors.writes import WritePlan, plan_write, required_refs
from qbdsim import SimulatorServer
from schemas import EventType, ObjectType, example_event, parse_event
from schemas.refs import Ref

API_PATHS = {
    "invoices": "invoices",
    "receive_payments": "receive-payments",
    "bills": "bills",
    "sales_receipts": "sales-receipts",
    "purchase_orders": "purchase-orders",
    "customers": "customers",
    "vendors": "vendors",
    "service_items": "service-items",
    "non_inventory_items": "non-inventory-items",
}
DEMO_NAMES = {
    ObjectType.CUSTOMER: ("customers", "Acme Corporation"),
    ObjectType.VENDOR: ("vendors", "Staples"),
    ObjectType.ITEM: ("service-items", "Consulting Hour"),
    ObjectType.ACCOUNT: ("accounts", "Undeposited Funds"),
    ObjectType.TERMS: ("standard-terms", "Net 30"),
    ObjectType.CLASS: ("classes", "Consulting"),
    ObjectType.PAYMENT_METHOD: ("payment-methods", "Visa"),
}


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorServer]:
    """One simulator for this module; new end-users start online."""
    with SimulatorServer(port=0, auto_connect=True, seed=7) as server:
        yield server


def _settings(sim: SimulatorServer, **changes: Any) -> Settings:
    values: dict[str, Any] = {
        "conductor_secret_key": "sk_test_gateway",
        "conductor_publishable_key": "pk_test_gateway",
        "conductor_base_url": sim.base_url,
        "conductor_timeout": 5.0,
    }
    return Settings(_env_file=None, **(values | changes))


@pytest.fixture
async def gateway(sim: SimulatorServer) -> AsyncIterator[ConductorGateway]:
    """A gateway on the simulator, with faults cleared afterwards."""
    async with ConductorGateway(_settings(sim)) as gw:
        yield gw
    sim.set_faults()


@pytest.fixture
async def company(sim: SimulatorServer, gateway: ConductorGateway) -> str:
    """A new, online end-user whose company file holds the demo lists."""
    end_user_id = await gateway.create_end_user(unique_name("acct"), "Acme", "owner@acme.example")
    sim.seed(end_user_id, demo=True)
    return end_user_id


def _by_name(sim: SimulatorServer, end_user_id: str, path: str, name: str) -> str:
    return str(next(o["id"] for o in sim.objects(end_user_id, path) if o["name"] == name))


def _error(exc: conductor.APIStatusError) -> dict[str, Any]:
    body: dict[str, Any] = exc.body  # type: ignore[assignment]
    return dict(body["error"])


def _event(event_type: EventType, event_id: str, **changes: Any) -> Any:
    raw = example_event(event_type, id=event_id)
    raw["data"].update(changes)
    return parse_event(raw)


async def _plan(
    sim: SimulatorServer, gw: ConductorGateway, end_user_id: str, event: Any
) -> WritePlan:
    """Resolve every ref to a demo object (payments: to a freshly written invoice) and plan."""
    ids: dict[Ref, str] = {}
    for ref in required_refs(event):
        if ref.object_type == ObjectType.INVOICE:
            invoice_event = _event(EventType.INVOICE_CREATED, unique_name("evt"))
            invoice = await _plan(sim, gw, end_user_id, invoice_event)
            ids[ref] = (await gw.execute(end_user_id, invoice)).qbd_id
        else:
            ids[ref] = _by_name(sim, end_user_id, *DEMO_NAMES[ref.object_type])
    return plan_write(event, ids)


def _stored(sim: SimulatorServer, end_user_id: str, plan: WritePlan) -> list[dict[str, Any]]:
    objects = sim.objects(end_user_id, API_PATHS[plan.resource])
    return [o for o in objects if same_external_id(o.get("externalId"), plan.external_id or "")]


@pytest.mark.parametrize(
    "event_type",
    [
        EventType.INVOICE_CREATED,
        EventType.PAYMENT_RECEIVED,
        EventType.BILL_CREATED,
        EventType.SALES_RECEIPT_CREATED,
        EventType.PURCHASE_ORDER_CREATED,
        EventType.CUSTOMER_UPSERTED,
        EventType.VENDOR_UPSERTED,
        EventType.ITEM_UPSERTED,
    ],
)
async def test_plan_lands_in_the_company_file(
    sim: SimulatorServer, gateway: ConductorGateway, company: str, event_type: EventType
) -> None:
    """Each plan type creates exactly one object carrying the event's marker and ref number."""
    plan = await _plan(sim, gateway, company, _event(event_type, "evt_land"))

    result = await gateway.execute(company, plan)

    stored = _stored(sim, company, plan)
    assert [o["id"] for o in stored] == [result.qbd_id]
    assert result.qbd_object_type == plan.object_type_label
    assert stored[0].get("refNumber") == plan.ref_number
    assert stored[0]["externalId"] == external_id_for("evt_land")


async def test_invoice_fields_reach_quickbooks(
    sim: SimulatorServer, gateway: ConductorGateway, company: str
) -> None:
    """The invoice's customer, terms, dates, memo and line amounts are QuickBooks' own."""
    plan = await _plan(sim, gateway, company, _event(EventType.INVOICE_CREATED, "evt_inv"))

    await gateway.execute(company, plan)

    (invoice,) = _stored(sim, company, plan)
    assert invoice["customer"]["id"] == plan.params["customer_id"]
    assert invoice["terms"]["id"] == plan.params["terms_id"]
    assert (invoice["transactionDate"], invoice["dueDate"]) == ("2026-11-24", "2026-12-24")
    assert invoice["memo"] == "Thank you for your business"
    assert [(line["quantity"], line["rate"], line["amount"]) for line in invoice["lines"]] == [
        (2, "62.50", "125.00")
    ]


async def test_update_changes_only_the_carried_fields(
    sim: SimulatorServer, gateway: ConductorGateway, company: str
) -> None:
    """An upsert of an existing customer with just an email keeps its company name."""
    created = await gateway.execute(
        company, await _plan(sim, gateway, company, _event(EventType.CUSTOMER_UPSERTED, "evt_c1"))
    )
    existing = await gateway.retrieve(company, "customers", created.qbd_id)
    event = parse_event(
        example_event(EventType.CUSTOMER_UPSERTED, id="evt_c2")
        | {"data": {"customer_id": "cus_1001", "name": "Jane Doe", "email": "new@example.com"}}
    )

    result = await gateway.execute(company, plan_write(event, {}, existing))

    (customer,) = [o for o in sim.objects(company, "customers") if o["id"] == created.qbd_id]
    assert result.revision_number != existing.revision_number
    assert (customer["email"], customer["companyName"]) == ("new@example.com", "Doe Household")


async def test_stale_revision_update_raises_the_sdk_error(
    sim: SimulatorServer, gateway: ConductorGateway, company: str
) -> None:
    """An update with an out-of-date revision fails with QuickBooks' 3200, unwrapped."""
    created = await gateway.execute(
        company, await _plan(sim, gateway, company, _event(EventType.VENDOR_UPSERTED, "evt_v1"))
    )
    existing = await gateway.retrieve(company, "vendors", created.qbd_id)
    await gateway.execute(
        company, plan_write(_event(EventType.VENDOR_UPSERTED, "evt_v2"), {}, existing)
    )

    with pytest.raises(conductor.APIStatusError) as caught:
        await gateway.execute(
            company, plan_write(_event(EventType.VENDOR_UPSERTED, "evt_v3"), {}, existing)
        )

    assert _error(caught.value)["integrationCode"] == "3200"


async def test_execute_never_retries_on_its_own(
    sim: SimulatorServer, gateway: ConductorGateway, company: str
) -> None:
    """A 502 on a create is one POST, not three: the SDK's retries are off."""
    plan = await _plan(sim, gateway, company, _event(EventType.INVOICE_CREATED, "evt_once"))
    sim.set_faults(fail_next=1, status=502)

    with pytest.raises(conductor.InternalServerError):
        await gateway.execute(company, plan)

    posts = [e for e in sim.log() if e["method"] == "POST" and e["path"].endswith("/invoices")]
    assert len([e for e in posts if e["end_user_id"] == company]) == 1


@pytest.mark.parametrize(
    ("event_type", "changes"),
    [
        (EventType.INVOICE_CREATED, {}),
        (EventType.INVOICE_CREATED, {"ref_number": None}),
        (EventType.BILL_CREATED, {"ref_number": None}),
        (EventType.CUSTOMER_UPSERTED, {}),
        (EventType.ITEM_UPSERTED, {"kind": "non_inventory"}),
    ],
    ids=["by-ref-number", "by-scan", "bill-by-scan", "customer-by-name", "item-by-name"],
)
async def test_find_created_adopts_an_ambiguous_write(
    sim: SimulatorServer,
    gateway: ConductorGateway,
    company: str,
    event_type: EventType,
    changes: dict[str, Any],
) -> None:
    """A write that committed but lost its answer is found by its marker."""
    plan = await _plan(sim, gateway, company, _event(event_type, "evt_amb", **changes))
    started = datetime.now(UTC)
    sim.set_faults(ambiguous_next=1, ambiguous_mode="drop")
    with pytest.raises(conductor.APIConnectionError):
        await gateway.execute(company, plan)

    found = await gateway.find_created(company, plan, since=started)

    assert found is not None
    assert [o["id"] for o in _stored(sim, company, plan)] == [found.qbd_id]


@pytest.mark.parametrize(
    ("event_type", "changes"),
    [
        (EventType.INVOICE_CREATED, {}),
        (EventType.INVOICE_CREATED, {"ref_number": None}),
        (EventType.CUSTOMER_UPSERTED, {}),
    ],
    ids=["by-ref-number", "by-scan", "customer-by-name"],
)
async def test_find_created_proves_absence(
    sim: SimulatorServer,
    gateway: ConductorGateway,
    company: str,
    event_type: EventType,
    changes: dict[str, Any],
) -> None:
    """When nothing was created, the lookup answers None (a new write is allowed)."""
    plan = await _plan(sim, gateway, company, _event(event_type, "evt_none", **changes))

    found = await gateway.find_created(company, plan, since=datetime.now(UTC))

    assert found is None


async def test_find_created_ignores_another_events_object(
    sim: SimulatorServer, gateway: ConductorGateway, company: str
) -> None:
    """An invoice with the same ref number from another event is not adopted."""
    other = await _plan(sim, gateway, company, _event(EventType.INVOICE_CREATED, "evt_other"))
    await gateway.execute(company, other)
    plan = await _plan(sim, gateway, company, _event(EventType.INVOICE_CREATED, "evt_mine"))

    found = await gateway.find_created(company, plan, since=datetime.now(UTC))

    assert found is None


async def test_end_user_for_finds_by_source_id(sim: SimulatorServer) -> None:
    """A fresh gateway finds the end-user another one created, by its sourceId."""
    company_id = unique_name("acct")
    async with ConductorGateway(_settings(sim)) as first:
        created = await first.create_end_user(company_id, "Doe LLC", "doe@example.com")

    async with ConductorGateway(_settings(sim)) as second:
        found = await second.end_user_for(company_id)

    assert found == created


async def test_end_user_for_an_unknown_company_is_none(gateway: ConductorGateway) -> None:
    """A company that never connected has no end-user."""
    found = await gateway.end_user_for(unique_name("nobody"))

    assert found is None


async def test_create_end_user_returns_the_existing_one(gateway: ConductorGateway) -> None:
    """Connecting a company twice yields one end-user."""
    company_id = unique_name("acct")
    first = await gateway.create_end_user(company_id, "Doe LLC", "doe@example.com")
    gateway.forget(company_id)

    again = await gateway.create_end_user(company_id, "Doe LLC", "doe@example.com")

    assert again == first


async def test_auth_session_gives_a_link_that_expires(
    gateway: ConductorGateway, company: str
) -> None:
    """A setup link has a URL and an aware expiry about `expiry_mins` away."""
    link = await gateway.create_auth_session(company, expiry_mins=60)

    assert link.url.startswith("http")
    assert 3000 < (link.expires_at - datetime.now(UTC)).total_seconds() <= 3600


async def test_auth_session_needs_the_publishable_key(sim: SimulatorServer, company: str) -> None:
    """Without CONDUCTOR_PUBLISHABLE_KEY, the error names the variable."""
    async with ConductorGateway(_settings(sim, conductor_publishable_key=None)) as gw:
        with pytest.raises(ConfigError, match="CONDUCTOR_PUBLISHABLE_KEY"):
            await gw.create_auth_session(company)


async def test_health_check_reports_a_duration(gateway: ConductorGateway, company: str) -> None:
    """A reachable company answers the health check with its duration in ms."""
    duration = await gateway.health_check(company)

    assert duration >= 0


async def test_health_check_of_an_offline_company_raises(
    sim: SimulatorServer, gateway: ConductorGateway, company: str
) -> None:
    """An offline company's health check raises the SDK's connection error as-is."""
    sim.set_state(company, "offline")

    with pytest.raises(conductor.APIStatusError) as caught:
        await gateway.health_check(company)

    assert _error(caught.value)["type"] == "INTEGRATION_CONNECTION_ERROR"


async def test_every_call_is_timed(sim: SimulatorServer, company: str) -> None:
    """`on_call` hears each call's resource, op, duration and success."""
    calls: list[tuple[str, str, float, bool]] = []
    async with ConductorGateway(_settings(sim), on_call=lambda *call: calls.append(call)) as gw:
        await gw.health_check(company)
        sim.set_state(company, "offline")
        with pytest.raises(conductor.APIStatusError):
            await gw.health_check(company)

    assert [(c[0], c[1], c[3]) for c in calls] == [
        ("health_check", "get", True),
        ("health_check", "get", False),
    ]
    assert all(c[2] >= 0 for c in calls)


@pytest.mark.parametrize(
    ("resource", "path", "filters"),
    [("customers", "customers", {"limit": 3}), ("accounts", "accounts", {})],
)
async def test_iter_objects_reads_every_page(
    sim: SimulatorServer,
    gateway: ConductorGateway,
    company: str,
    resource: str,
    path: str,
    filters: dict[str, Any],
) -> None:
    """Paginated and unpaginated lists both yield every object, in the API's camelCase."""
    objects = [obj async for obj in gateway.iter_objects(company, resource, **filters)]

    assert len(sim.objects(company, path)) > 3  # more than one page of three
    assert [obj["id"] for obj in objects] == [obj["id"] for obj in sim.objects(company, path)]
    assert all("objectType" in obj for obj in objects)
