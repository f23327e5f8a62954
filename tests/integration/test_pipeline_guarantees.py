"""The pipeline's guarantees under redelivery, faults, load and bad input (issue 5, Must show).

Real broker, real PostgreSQL, the simulator over HTTP. Every wait has a deadline; nothing
sleeps to synchronise.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import orjson
from conductor import Conductor

from processors.config import Settings
from processors.devstack import DEV_SECRET_KEY
from processors.markers import external_id_for
from processors.testing import (
    RunningService,
    TestStack,
    TopicReader,
    async_wait_for,
    committed_positions,
    create_topics,
    pipeline_settings,
    produce,
    unique_name,
)
from schemas import REJECTED_REASON_HEADER, EventType, example_event

_DEADLINE = 120.0


@dataclass(frozen=True)
class Company:
    """A connected company: its id (= end-user sourceId) and the seeded QuickBooks ids."""

    id: str
    end_user: str
    customer_qbd: str
    item_qbd: str


def connect(stack: TestStack) -> Company:
    """Create an online end-user seeded with the demo company file."""
    company = unique_name("acct")
    client = Conductor(api_key=DEV_SECRET_KEY, base_url=stack.simulator.base_url, max_retries=0)
    end_user = client.end_users.create(company_name=company, email="o@example.com",
                                       source_id=company)  # fmt: skip
    stack.simulator.connect(end_user.id)
    stack.simulator.seed(end_user.id, demo=True)
    customer = stack.simulator.objects(end_user.id, "customers")[0]["id"]
    item = stack.simulator.objects(end_user.id, "service-items")[0]["id"]
    return Company(company, end_user.id, customer, item)


def _event(event_type: EventType, company: str, **data: Any) -> dict[str, Any]:
    event = example_event(event_type, companyid=company, id=unique_name(f"evt-{event_type}"))
    event["data"].update(data)
    return event


def mapping(company: str, object_type: str, app_id: str, qbd_id: str) -> dict[str, Any]:
    """A mapping.set event."""
    return _event(EventType.MAPPING_SET, company, object_type=object_type, app_id=app_id,
                  qbd_id=qbd_id)  # fmt: skip


def setup_events(company: Company) -> list[dict[str, Any]]:
    """Map the example customer and item to the company file's seeded ones."""
    return [
        mapping(company.id, "customer", "cus_1001", company.customer_qbd),
        mapping(company.id, "item", "item_consulting", company.item_qbd),
    ]


def invoice(company: str, ref: str, *, invoice_id: str | None = None) -> dict[str, Any]:
    """An invoice of the example customer and item, without terms, with ``ref`` as ref number."""
    event = _event(EventType.INVOICE_CREATED, company, invoice_id=invoice_id or f"inv_{ref}",
                   ref_number=ref)  # fmt: skip
    del event["data"]["terms_id"], event["data"]["due_date"]
    return event


def customer(company: str, n: int) -> dict[str, Any]:
    """A new customer with a unique name."""
    return _event(EventType.CUSTOMER_UPSERTED, company, customer_id=f"cus_n{n}",
                  name=f"Customer {n}", company_name=f"Customer {n} LLC")  # fmt: skip


def results_by_event(events: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Sync results grouped by inbound event id."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        grouped.setdefault(event["data"]["event_id"], []).append(event)
    return grouped


def external_ids(stack: TestStack, company: Company, *kinds: str) -> list[str]:
    """The externalId of every object of ``kinds`` in the company file (seeded ones have none)."""
    return [
        obj["externalId"]
        for kind in kinds
        for obj in stack.simulator.objects(company.end_user, kind)
        if obj.get("externalId")
    ]


async def settings_for(stack: TestStack, partitions: int, **overrides: Any) -> Settings:
    """Per-test topics with ``partitions`` each, and a per-test group."""
    settings = pipeline_settings(stack, **overrides)
    await create_topics(settings, partitions)
    return settings


async def wait_results(results: TopicReader, count: int) -> list[dict[str, Any]]:
    """Wait until ``count`` sync results are on the topic."""
    return await results.wait_for(lambda found: len(found) >= count, timeout=_DEADLINE)


async def wait_committed(
    settings: Settings, ends: dict[int, int], group_id: str | None = None
) -> None:
    """Wait until the group has committed up to ``ends`` (all records reached an end state)."""
    seen: list[dict[int, int]] = [{}]

    async def done() -> bool:
        seen[0] = await committed_positions(settings, group_id)
        return all(seen[0].get(partition) == end for partition, end in ends.items())

    try:
        await async_wait_for(done, timeout=_DEADLINE, interval=0.25, what="commits at the end")
    except TimeoutError as exc:
        raise TimeoutError(f"{exc}: committed {seen[0]}, end {ends}") from None


async def test_redelivered_events_create_nothing_new(stack: TestStack, reader: Any) -> None:
    """A second group reading the same events from the start writes and publishes nothing."""
    settings = await settings_for(stack, 4)
    companies = [connect(stack) for _ in range(3)]
    stream = [
        event
        for n, company in enumerate(companies)
        for event in [
            *setup_events(company),
            customer(company.id, n),
            *(invoice(company.id, f"R{n}-{i:03d}") for i in range(5)),
        ]
    ]
    results = reader(settings, settings.sync_results_topic)
    async with RunningService(settings):
        ends = await produce(settings, stream)
        await wait_results(results, len(stream))
    before = {c.id: external_ids(stack, c, "invoices", "customers") for c in companies}

    again = settings.model_copy(update={"group_id": unique_name("qbd-sync-again")})
    async with RunningService(again):
        await wait_committed(again, ends)
    await results.drain()

    assert {c.id: external_ids(stack, c, "invoices", "customers") for c in companies} == before
    assert sum(len(ids) for ids in before.values()) == 3 * 6
    grouped = results_by_event(results.events())
    assert len(results.records) == len(stream)
    assert sorted(grouped) == sorted(event["id"] for event in stream)


async def _ambiguous_run(
    stack: TestStack, reader: Any, *, companies: int, per_company: int, **overrides: Any
) -> tuple[list[dict[str, Any]], list[Company], list[dict[str, Any]]]:
    """Run invoices and customers for ``companies`` companies; return stream and results."""
    settings = await settings_for(stack, 4, max_concurrent_companies=64, **overrides)
    connected = [connect(stack) for _ in range(companies)]
    stream: list[dict[str, Any]] = []
    for company in connected:
        stream += setup_events(company)
        for i in range(per_company - 2):
            stream.append(customer(company.id, i) if i % 5 == 0 else
                          invoice(company.id, f"A{i:04d}"))  # fmt: skip
    results = reader(settings, settings.sync_results_topic)
    async with RunningService(settings):
        await produce(settings, stream)
        found = await wait_results(results, len(stream))
    return stream, connected, found


def _assert_one_object_per_event(
    stack: TestStack,
    stream: list[dict[str, Any]],
    companies: list[Company],
    found: list[dict[str, Any]],
) -> None:
    writes = [e for e in stream if e["type"] != EventType.MAPPING_SET]
    markers = [
        marker
        for company in companies
        for marker in external_ids(stack, company, "invoices", "customers")
    ]
    grouped = results_by_event(found)
    assert {event["type"] for event in found} == {"qbd.sync.succeeded"}
    assert sorted(grouped) == sorted(event["id"] for event in stream)
    assert all(len(results) == 1 for results in grouped.values())
    assert len(markers) == len(writes)
    assert Counter(markers) == Counter(external_id_for(event["id"]) for event in writes)


async def test_dropped_answers_at_30_percent_leave_one_object_per_event(
    stack: TestStack, faults: Any, reader: Any
) -> None:
    """With 30% of writes committed but their answers dropped, 1,000 events make 1,000 results."""
    faults.set_faults(ambiguous_rate=0.3, ambiguous_mode="drop")
    stream, companies, found = await _ambiguous_run(stack, reader, companies=20, per_company=50)

    lost = _ambiguous_writes(faults, companies)
    print(f"{lost} of {len(stream)} events had a write answer dropped")

    _assert_one_object_per_event(stack, stream, companies, found)
    assert len(stream) == 1000
    assert lost >= 150, "the fault did not fire often enough to test anything"


async def test_hung_writes_at_30_percent_leave_one_object_per_event(
    stack: TestStack, faults: Any, reader: Any
) -> None:
    """With 30% of writes committed but never answered (client timeout), one object per event."""
    faults.set_faults(ambiguous_rate=0.3, ambiguous_mode="hang", ambiguous_hang_s=5.0)
    stream, companies, found = await _ambiguous_run(
        stack, reader, companies=20, per_company=12, conductor_timeout=1.0
    )

    lost = _ambiguous_writes(faults, companies)
    print(f"{lost} of {len(stream)} events had a write hang past the client timeout")

    _assert_one_object_per_event(stack, stream, companies, found)
    assert lost >= 30, "the fault did not fire often enough to test anything"


def _ambiguous_writes(simulator: Any, companies: list[Company]) -> int:
    """How many writes of ``companies`` committed without their answer reaching us."""
    end_users = {company.end_user for company in companies}
    return sum(1 for e in simulator.log() if e["ambiguous"] and e["end_user_id"] in end_users)


async def test_each_company_writes_in_publish_order_while_companies_run_concurrently(
    stack: TestStack, faults: Any, reader: Any
) -> None:
    """200 companies on 4 partitions: each company's invoices land in the order published."""
    settings = await settings_for(stack, 4, max_concurrent_companies=64)
    companies = [connect(stack) for _ in range(200)]
    faults.set_faults(latency_ms=[20, 20])  # QuickBooks takes time, so overlap is visible
    per_company = 3
    stream = [event for company in companies for event in setup_events(company)]
    for i in range(per_company):  # interleaved, as independent producers would publish
        stream += [invoice(company.id, f"S{i:03d}") for company in companies]
    results = reader(settings, settings.sync_results_topic)
    async with RunningService(settings):
        await produce(settings, stream)
        found = await wait_results(results, len(stream))
    busy = _max_concurrent_writes(faults_log=stack.simulator.log(),
                                  end_users={c.end_user for c in companies})  # fmt: skip

    assert {event["type"] for event in found} == {"qbd.sync.succeeded"}
    for company in companies:
        refs = [obj["refNumber"] for obj in stack.simulator.objects(company.end_user, "invoices")]
        assert refs == [f"S{i:03d}" for i in range(per_company)], company.id
    assert busy > 4, "companies did not run concurrently"


def _max_concurrent_writes(*, faults_log: list[dict[str, Any]], end_users: set[str]) -> int:
    """How many of ``end_users``' invoice writes overlapped in time at most."""
    edges: list[tuple[float, int]] = []
    for entry in faults_log:
        if entry["end_user_id"] in end_users and entry["method"] == "POST" and \
                entry["path"].endswith("/invoices"):  # fmt: skip
            edges += [(entry["started_at"], 1), (entry["finished_at"], -1)]
    busy = peak = 0
    for _at, step in sorted(edges, key=lambda edge: (edge[0], edge[1])):
        busy += step
        peak = max(peak, busy)
    return peak


async def _healthy_span(
    stack: TestStack, faults: Any, db: asyncpg.Pool, reader: Any, *, with_slow: bool
) -> tuple[float, bool]:
    """Seconds from the first healthy event's ledger row to the last healthy sync.

    Also whether the slow company still had unsynced events when the healthy ones finished.
    """
    settings = await settings_for(stack, 1, max_concurrent_companies=64)
    healthy = [connect(stack) for _ in range(10)]
    slow = connect(stack)
    latency = {c.end_user: (10.0, 10.0) for c in healthy} | {slow.end_user: (1000.0, 1000.0)}
    faults.set_faults(company_latency_ms=latency)
    per_company = 20
    stream = [e for c in [*healthy, slow] for e in setup_events(c)]
    if with_slow:
        stream += [invoice(slow.id, f"W{i:03d}") for i in range(8)]
    for i in range(per_company):
        stream += [invoice(company.id, f"H{i:03d}") for company in healthy]
    healthy_ids = [e["id"] for e in stream if e["companyid"] != slow.id]
    results = reader(settings, settings.sync_results_topic)
    async with RunningService(settings):
        await produce(settings, stream)

        async def healthy_done() -> bool:
            await results.poll()
            done = {e["data"]["event_id"] for e in results.events()}
            return all(event_id in done for event_id in healthy_ids)

        await async_wait_for(healthy_done, timeout=_DEADLINE, what="healthy companies synced")
        slow_pending = (
            await db.fetchval(
                "SELECT count(*) FROM ledger WHERE company_id = $1 AND status <> 'synced'", slow.id
            )
            + 8
            - await db.fetchval("SELECT count(*) FROM ledger WHERE company_id = $1", slow.id)
        )
    span = await db.fetchval(
        """SELECT extract(epoch FROM max(updated_at) - min(created_at)) FROM ledger
           WHERE event_id = ANY($1::text[])""",
        healthy_ids,
    )
    return float(span), slow_pending > 2


async def test_a_slow_company_does_not_slow_healthy_companies_on_its_partition(
    stack: TestStack, faults: Any, db: asyncpg.Pool, reader: Any
) -> None:
    """10 companies at 10 ms finish as fast beside a 1 s company on one partition as without."""
    alone, _ = await _healthy_span(stack, faults, db, reader, with_slow=False)
    beside, slow_behind = await _healthy_span(stack, faults, db, reader, with_slow=True)
    print(f"healthy span alone {alone:.2f} s, beside a slow company {beside:.2f} s")

    assert slow_behind, "the slow company finished too early to have been in the way"
    assert beside <= 1.5 * alone + 0.25, (alone, beside)


def _poison(company: Company, valid: dict[str, Any]) -> list[tuple[str, bytes, bytes]]:
    """(kind, key, value) for every kind of record intake must reject."""
    key = company.id.encode()

    def variant(**changes: Any) -> bytes:
        event = orjson.loads(orjson.dumps(valid))
        event["id"] = unique_name("evt-poison")
        for path, value in changes.items():
            target = event
            *parents, last = path.split("__")
            for parent in parents:
                target = target[int(parent)] if isinstance(target, list) else target[parent]
            if value is None:
                del target[last]
            else:
                target[last] = value
        return orjson.dumps(event)

    nan = variant().replace(b'"125.00"', b"NaN", 1)
    return [
        ("not json", key, b"\x00\x01not json at all{"),
        ("not a cloudevent", key, b'{"hello": "world"}'),
        ("unknown type", key, variant(type="widget.created")),
        ("schema-invalid", key, variant(data__customer_id=None)),
        ("float amount", key, variant(data__lines__0__amount=125.0)),
        ("NaN literal", key, nan),
        ("NaN string", key, variant(data__lines__0__amount="NaN")),
        ("negative quantity", key, variant(data__lines__0__quantity=-2)),
        ("huge number", key, variant(data__lines__0__amount="1e400")),
        ("3 MB record (above the fetch size)", key, variant(data__memo="x" * 3_000_000)),
        ("key is not companyid", b"someone-else", variant()),
    ]


async def test_poison_records_are_rejected_with_a_reason_and_the_stream_goes_on(
    stack: TestStack, reader: Any
) -> None:
    """Every kind of bad record lands in the rejected topic; valid events behind it sync."""
    settings = await settings_for(stack, 1)
    company = connect(stack)
    setup = setup_events(company)
    poison = _poison(company, invoice(company.id, "P999"))
    valid = [invoice(company.id, f"P{i:03d}") for i in range(len(poison))]
    results = reader(settings, settings.sync_results_topic)
    rejected = reader(settings, settings.rejected_topic)
    async with RunningService(settings):
        await produce(settings, setup)
        for (_kind, key, value), event in zip(poison, valid, strict=True):
            await produce(settings, [value], key=key)
            await produce(settings, [event])
        found = await wait_results(results, len(setup) + len(valid))

        async def all_rejected() -> bool:  # raw records: most are not JSON
            return len(await rejected.poll()) >= len(poison)

        await async_wait_for(all_rejected, timeout=_DEADLINE, what="rejected records")
    await rejected.drain()
    reasons = [dict(record.headers).get(REJECTED_REASON_HEADER) for record in rejected.records]

    assert [record.value for record in rejected.records] == [value for _k, _key, value in poison]
    kinds = [kind for kind, _key, _value in poison]
    assert all(reason for reason in reasons), list(zip(kinds, reasons, strict=True))
    assert {event["type"] for event in found} == {"qbd.sync.succeeded"}
    refs = [obj["refNumber"] for obj in stack.simulator.objects(company.end_user, "invoices")]
    assert refs == [event["data"]["ref_number"] for event in valid]


async def test_payment_before_its_invoice_waits_then_applies(
    stack: TestStack, db: asyncpg.Pool, reader: Any
) -> None:
    """A payment published before its invoice waits for it, then applies; nothing fails."""
    settings = await settings_for(stack, 4)
    company = connect(stack)
    setup = [*setup_events(company), mapping(company.id, "account", "acct_undeposited",
                                             company.customer_qbd)]  # fmt: skip
    visa = next(
        pm["id"]
        for pm in stack.simulator.objects(company.end_user, "payment-methods")
        if pm["name"] == "Visa"
    )
    setup[-1] = mapping(company.id, "payment_method", "pm_card", visa)
    payment = _event(EventType.PAYMENT_RECEIVED, company.id, deposit_account_id=None)
    del payment["data"]["deposit_account_id"]
    the_invoice = invoice(company.id, "INV-5001", invoice_id="inv_5001")
    results = reader(settings, settings.sync_results_topic)
    async with RunningService(settings):
        await produce(settings, [*setup, payment])

        async def payment_waits() -> bool:
            status = await db.fetchval("SELECT status FROM ledger WHERE event_id = $1",
                                       payment["id"])  # fmt: skip
            return status == "waiting_dependency"

        await async_wait_for(payment_waits, timeout=_DEADLINE, what="the payment to wait")
        await produce(settings, [the_invoice])
        found = await wait_results(results, len(setup) + 2)
    by_event = {e["data"]["event_id"]: e for e in found}
    invoice_id = by_event[the_invoice["id"]]["data"]["qbd_id"]
    stored = stack.simulator.objects(company.end_user, "receive-payments")

    assert {event["type"] for event in found} == {"qbd.sync.succeeded"}
    assert by_event[payment["id"]]["data"]["status"] == "synced"
    assert len(stored) == 1
    assert stored[0]["appliedToTransactions"][0]["transactionId"] == invoice_id


async def test_rejected_data_fails_with_the_normalized_error_and_one_attention(
    stack: TestStack, reader: Any
) -> None:
    """Invoices naming an item QuickBooks does not have fail (3140) and raise one attention."""
    settings = await settings_for(stack, 4)
    company = connect(stack)
    setup = [
        mapping(company.id, "customer", "cus_1001", company.customer_qbd),
        mapping(company.id, "item", "item_consulting", "80009999-1111111111"),
    ]
    bad = [invoice(company.id, f"D{i:03d}") for i in range(3)]
    results = reader(settings, settings.sync_results_topic)
    attention = reader(settings, settings.needs_attention_topic)
    async with RunningService(settings):
        await produce(settings, [*setup, *bad])
        found = await wait_results(results, len(setup) + len(bad))
    await attention.drain()
    failed = [e["data"] for e in found if e["type"] == "qbd.sync.failed"]
    needed = [e for e in attention.events() if e["type"] == "qbd.attention.needed"]

    assert sorted(f["event_id"] for f in failed) == sorted(e["id"] for e in bad)
    assert all(f["error"]["type"] == "INTEGRATION_ERROR" for f in failed), failed
    assert all(f["error"]["integration_code"] == "3140" for f in failed), failed
    assert len(needed) == 1, needed
    assert needed[0]["data"]["category"] == "data"
    assert stack.simulator.objects(company.end_user, "invoices") == []


async def test_a_revoked_key_halts_without_commits_and_resumes_losing_nothing(
    stack: TestStack, faults: Any, reader: Any
) -> None:
    """Revoking our key stops consumption and readiness; restoring it completes every event."""
    settings = await settings_for(stack, 4)
    companies = [connect(stack) for _ in range(4)]
    first = [e for c in companies for e in [*setup_events(c), invoice(c.id, "K000")]]
    second = [invoice(c.id, f"K{i:03d}") for i in range(1, 4) for c in companies]
    results = reader(settings, settings.sync_results_topic)
    try:
        async with RunningService(settings) as service:
            ready_url = f"http://127.0.0.1:{service.http.port}/readyz"
            ends = await produce(settings, first)
            await wait_results(results, len(first))
            await wait_committed(settings, ends)
            before = await committed_positions(settings)
            faults.revoke_key(DEV_SECRET_KEY)
            ends = await produce(settings, second)
            async with httpx.AsyncClient() as http:

                async def not_ready() -> bool:
                    return (await http.get(ready_url)).status_code == 503

                await async_wait_for(not_ready, timeout=_DEADLINE, what="/readyz 503")
                probes = len(faults.log())

                async def probed_again() -> bool:  # the engine probed the key and still failed
                    return any(e["status"] == 401 for e in faults.log()[probes:])

                await async_wait_for(probed_again, timeout=_DEADLINE, what="a key probe")
                halted = await committed_positions(settings)
                halted_results = len(await results.poll())
                faults.restore_key(DEV_SECRET_KEY)
                found = await wait_results(results, len(first) + len(second))

                async def ready() -> bool:
                    return (await http.get(ready_url)).status_code == 200

                await async_wait_for(ready, timeout=_DEADLINE, what="/readyz 200")
            await wait_committed(settings, ends)
    finally:
        faults.restore_key()

    assert halted == before
    assert halted_results == len(first)
    assert {event["type"] for event in found} == {"qbd.sync.succeeded"}
    assert sorted(results_by_event(found)) == sorted(e["id"] for e in [*first, *second])
    for company in companies:
        refs = [obj["refNumber"] for obj in stack.simulator.objects(company.end_user, "invoices")]
        assert refs == [f"K{i:03d}" for i in range(4)]
