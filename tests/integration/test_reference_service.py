"""Reference pulls, auto-mapping and updates through the running processor (in the lane)."""

from __future__ import annotations

from typing import Any

from conductor import Conductor

from processors.config import Settings
from processors.devstack import DEV_SECRET_KEY
from processors.testing import (
    RunningService,
    TestStack,
    TopicReader,
    create_topics,
    pipeline_settings,
    produce,
    unique_name,
)
from schemas import EventType, example_event


def _event(event_type: EventType, company: str, data: dict[str, Any]) -> dict[str, Any]:
    event = example_event(event_type, companyid=company, id=unique_name(f"evt-{event_type}"))
    event["data"] = data
    return event


def _company(stack: TestStack) -> tuple[str, str, Conductor]:
    """A connected company seeded with the demo file, and an SDK client for QuickBooks edits."""
    company = unique_name("acct")
    client = Conductor(api_key=DEV_SECRET_KEY, base_url=stack.simulator.base_url, max_retries=0)
    end_user = client.end_users.create(
        company_name=company, email="o@example.com", source_id=company
    )
    stack.simulator.connect(end_user.id)
    stack.simulator.seed(end_user.id, demo=True)
    return company, end_user.id, client


def _customer(stack: TestStack, end_user: str, name: str) -> dict[str, Any]:
    return next(c for c in stack.simulator.objects(end_user, "customers") if c["name"] == name)


async def _settings(stack: TestStack, **overrides: Any) -> Settings:
    settings = pipeline_settings(stack, **overrides)
    await create_topics(settings, 4)
    return settings


async def test_pull_request_event_publishes_lists_and_a_result(stack: TestStack) -> None:
    """`reference.pull_requested` runs in the lane: the lists go out, then one sync result."""
    settings = await _settings(stack)
    company, _end_user, _ = _company(stack)
    pull = _event(
        EventType.REFERENCE_PULL_REQUESTED, company, {"object_types": ["customers", "terms"]}
    )
    results = TopicReader(settings, settings.sync_results_topic)
    reference = TopicReader(settings, settings.reference_topic)
    try:
        async with RunningService(settings):
            await produce(settings, [pull])
            done = await results.wait_for(lambda found: len(found) >= 1)
            published = await reference.wait_for(lambda found: len(found) >= 14)
    finally:
        await results.close()
        await reference.close()

    assert [(e["type"], e["data"]["event_id"]) for e in done] == [
        ("qbd.sync.succeeded", pull["id"])
    ]
    kinds = sorted({e["type"] for e in published})
    assert kinds == ["qbd.reference.customer", "qbd.reference.terms"]
    assert len(published) == 10 + 4
    assert {e["data"]["request_event_id"] for e in published} == {pull["id"]}
    assert {e["data"]["name"] for e in published} >= {"Acme Corporation", "Net 30"}


async def test_exact_match_is_mapped_instead_of_duplicated(stack: TestStack) -> None:
    """With auto_map=exact, an upsert named like a pulled customer updates it: no duplicate."""
    settings = await _settings(stack, auto_map="exact")
    company, end_user, _ = _company(stack)
    acme = _customer(stack, end_user, "Acme Corporation")
    stream = [
        _event(EventType.REFERENCE_PULL_REQUESTED, company, {"object_types": ["customers"]}),
        _event(
            EventType.CUSTOMER_UPSERTED,
            company,
            {
                "customer_id": "cus_acme",
                "name": "Acme Corporation",
                "email": "billing@acme.example",
                "phone": "+1 555 0142",
            },
        ),
    ]
    results = TopicReader(settings, settings.sync_results_topic)
    try:
        async with RunningService(settings):
            await produce(settings, stream)
            done = await results.wait_for(lambda found: len(found) >= 2)
    finally:
        await results.close()

    upsert = done[1]["data"]
    assert [e["type"] for e in done] == ["qbd.sync.succeeded"] * 2
    assert upsert["qbd_id"] == acme["id"]
    assert len(stack.simulator.objects(end_user, "customers")) == 10
    assert _customer(stack, end_user, "Acme Corporation")["phone"] == "+1 555 0142"


async def test_near_duplicate_waits_for_the_users_choice(stack: TestStack) -> None:
    """Near-duplicates make the upsert wait with MAPPING_NEEDED candidates; mapping.set goes on."""
    settings = await _settings(stack, auto_map="exact")
    company, end_user, client = _company(stack)
    twin = client.qbd.customers.create(name="Foxglove Bakery, Inc.", conductor_end_user_id=end_user)
    fox = _customer(stack, end_user, "Foxglove Bakery")
    upsert = _event(
        EventType.CUSTOMER_UPSERTED,
        company,
        {"customer_id": "cus_fox", "name": "Foxglove Bakery", "phone": "+1 555 0123"},
    )
    results = TopicReader(settings, settings.sync_results_topic)
    attention = TopicReader(settings, settings.needs_attention_topic)
    try:
        async with RunningService(settings):
            await produce(
                settings,
                [
                    _event(
                        EventType.REFERENCE_PULL_REQUESTED, company, {"object_types": ["customers"]}
                    ),
                    upsert,
                ],
            )
            needed = await attention.wait_for(
                lambda found: any(
                    e["data"].get("code", "").startswith("MAPPING_NEEDED") for e in found
                )
            )
            before = len(stack.simulator.objects(end_user, "customers"))
            await produce(
                settings,
                [
                    _event(
                        EventType.MAPPING_SET,
                        company,
                        {"object_type": "customer", "app_id": "cus_fox", "qbd_id": fox["id"]},
                    )
                ],
            )
            done = await results.wait_for(
                lambda found: any(e["data"]["event_id"] == upsert["id"] for e in found)
            )
    finally:
        await results.close()
        await attention.close()

    message = next(e for e in needed if e["data"].get("code") == "MAPPING_NEEDED:customer:cus_fox")
    assert message["data"]["category"] == "data"
    assert fox["id"] in message["data"]["developer_message"]
    assert twin.id in message["data"]["developer_message"]
    assert before == 11
    result = next(e for e in done if e["data"]["event_id"] == upsert["id"])
    assert (result["type"], result["data"]["qbd_id"]) == ("qbd.sync.succeeded", fox["id"])
    assert len(stack.simulator.objects(end_user, "customers")) == 11
    assert _customer(stack, end_user, "Foxglove Bakery")["phone"] == "+1 555 0123"


async def test_update_after_a_quickbooks_edit_refetches_and_keeps_other_fields(
    stack: TestStack,
) -> None:
    """A stale revision refetches and retries once; fields the event omits keep QuickBooks' edit."""
    settings = await _settings(stack)
    company, end_user, client = _company(stack)
    create = _event(
        EventType.CUSTOMER_UPSERTED,
        company,
        {"customer_id": "cus_zed", "name": "Zed Labs", "email": "a@zed.example"},
    )
    update = _event(
        EventType.CUSTOMER_UPSERTED,
        company,
        {"customer_id": "cus_zed", "name": "Zed Labs", "email": "b@zed.example"},
    )
    results = TopicReader(settings, settings.sync_results_topic)
    try:
        async with RunningService(settings):
            await produce(settings, [create])
            created = (await results.wait_for(lambda found: len(found) >= 1))[0]["data"]
            zed = _customer(stack, end_user, "Zed Labs")
            client.qbd.customers.update(
                zed["id"],
                revision_number=zed["revisionNumber"],
                phone="+1 555 7777",
                conductor_end_user_id=end_user,
            )
            await produce(settings, [update])
            done = await results.wait_for(lambda found: len(found) >= 2)
    finally:
        await results.close()

    assert [e["type"] for e in done] == ["qbd.sync.succeeded"] * 2
    assert done[1]["data"]["qbd_id"] == created["qbd_id"]
    final = _customer(stack, end_user, "Zed Labs")
    assert (final["email"], final["phone"]) == ("b@zed.example", "+1 555 7777")
    writes = [
        entry
        for entry in stack.simulator.log()
        if entry["end_user_id"] == end_user
        and entry["method"] == "POST"
        and entry["path"].endswith(zed["id"])
    ]
    assert [w["error_code"] for w in writes] == [None, "QBD_REQUEST_ERROR", None]
