"""The chaos invariant checker passes a clean run and fails each kind of broken one."""

from __future__ import annotations

from dataclasses import replace

from processors.markers import external_id_for
from schemas import EventType
from tests.chaos.kit import (
    ChaosCompany,
    LedgerRow,
    Observations,
    QbObject,
    Result,
    Workload,
    check,
    commit_violations,
    generate_workload,
)

_CREATES = {EventType.CUSTOMER_UPSERTED, EventType.ITEM_UPSERTED, EventType.INVOICE_CREATED}
_TOPIC = "events"


def _workload() -> Workload:
    companies = [ChaosCompany(f"acct-{n}", f"end_usr_{n}", "C1", "I1", "A1") for n in range(3)]
    return generate_workload(companies, 30, seed=7, sync_requested_rate=0.1)


def _perfect(workload: Workload) -> Observations:
    """What a flawless run of ``workload`` leaves behind."""
    objects: dict[str, list[QbObject]] = {c.id: [] for c in workload.companies}
    results, ledger = [], {}
    for offset, event in enumerate(workload.events):
        qbd_id = None
        if event["type"] in _CREATES:
            qbd_id = f"Q{offset}"
            objects[event["companyid"]].append(
                QbObject(qbd_id, external_id_for(event["id"]), "invoices")
            )
        if event["type"] != EventType.SYNC_REQUESTED:
            results.append(Result(event["id"], "synced", qbd_id))
        ledger[event["id"]] = LedgerRow("synced", qbd_id, (_TOPIC, 0, offset))
    end = len(workload.events)
    return Observations(objects, results, ledger, {(_TOPIC, 0): end}, {(_TOPIC, 0): end})


def _first_create(workload: Workload) -> dict:
    return next(e for e in workload.events if e["type"] in _CREATES)


def test_a_flawless_run_passes() -> None:
    """A run that did everything right is OK, with every count where it should be."""
    workload = _workload()
    verdict = check(workload, _perfect(workload))

    assert verdict.ok, verdict.problems
    assert verdict.events == verdict.synced == len(workload.events)
    assert verdict.objects == sum(e["type"] in _CREATES for e in workload.events)
    assert "lost=0 duplicated=0 reordered=0" in verdict.line()


def test_a_duplicate_object_fails() -> None:
    """A second QuickBooks object with the same externalId counts as duplicated."""
    workload = _workload()
    seen = _perfect(workload)
    company = workload.companies[0].id
    twin = replace(seen.objects[company][0], id="Q-twin")
    objects = {**seen.objects, company: [*seen.objects[company], twin]}
    verdict = check(workload, replace(seen, objects=objects))

    assert not verdict.ok
    assert verdict.duplicated == 1
    assert "duplicated=1" in verdict.line()


def test_a_lost_object_fails() -> None:
    """An event the ledger calls synced but with no object in QuickBooks counts as lost."""
    workload = _workload()
    seen = _perfect(workload)
    company = workload.companies[1].id
    objects = {**seen.objects, company: seen.objects[company][1:]}
    verdict = check(workload, replace(seen, objects=objects))

    assert not verdict.ok
    assert verdict.lost == 1


def test_an_event_without_an_end_state_fails() -> None:
    """An event with no ledger row and no result counts as lost."""
    workload = _workload()
    seen = _perfect(workload)
    event = _first_create(workload)
    ledger = {k: v for k, v in seen.ledger.items() if k != event["id"]}
    results = [r for r in seen.results if r.event_id != event["id"]]
    objects = {
        company: [o for o in objs if o.external_id != external_id_for(event["id"])]
        for company, objs in seen.objects.items()
    }
    verdict = check(workload, replace(seen, ledger=ledger, results=results, objects=objects))

    assert not verdict.ok
    assert verdict.lost == 1


def test_a_synced_event_without_a_result_fails() -> None:
    """A synced event whose result never reached the results topic counts as lost."""
    workload = _workload()
    seen = _perfect(workload)
    event = _first_create(workload)
    verdict = check(
        workload, replace(seen, results=[r for r in seen.results if r.event_id != event["id"]])
    )

    assert verdict.lost == 1


def test_a_reorder_fails() -> None:
    """Two of a company's writes swapped in its company file count as reordered."""
    workload = _workload()
    seen = _perfect(workload)
    company = workload.companies[2].id
    first, second, *rest = seen.objects[company]
    verdict = check(workload, replace(seen, objects={**seen.objects,
                                                     company: [second, first, *rest]}))  # fmt: skip

    assert not verdict.ok
    assert verdict.reordered == 1


def test_an_event_left_in_flight_fails() -> None:
    """An event still 'attempting' and a record still parked count as in flight."""
    workload = _workload()
    seen = _perfect(workload)
    event = _first_create(workload)
    ledger = {**seen.ledger, event["id"]: LedgerRow("parked")}
    objects = {
        company: [o for o in objs if o.external_id != external_id_for(event["id"])]
        for company, objs in seen.objects.items()
    }
    verdict = check(workload, replace(seen, ledger=ledger, objects=objects, parked=1))

    assert not verdict.ok
    assert verdict.in_flight == 2


def test_uncommitted_offsets_fail() -> None:
    """A committed offset short of the end counts every offset in between."""
    workload = _workload()
    seen = _perfect(workload)
    end = len(workload.events)
    verdict = check(workload, replace(seen, committed={(_TOPIC, 0): end - 3}))

    assert not verdict.ok
    assert verdict.uncommitted == 3


def test_disagreeing_end_states_fail() -> None:
    """A success and a failure published for one event count as conflicting."""
    workload = _workload()
    seen = _perfect(workload)
    event = _first_create(workload)
    verdict = check(workload, replace(seen, results=[*seen.results, Result(event["id"], "failed")]))

    assert not verdict.ok
    assert verdict.conflicting == 1


def test_repeated_identical_results_and_conflicts_are_counted_not_failed() -> None:
    """At-least-once result publishing and idempotency conflicts are reported, not failures."""
    workload = _workload()
    seen = _perfect(workload)
    event = _first_create(workload)
    again = next(r for r in seen.results if r.event_id == event["id"])
    conflict = Result(event["id"], "failed", None, "IDEMPOTENCY_CONFLICT")
    verdict = check(workload, replace(seen, results=[*seen.results, again, conflict]))

    assert verdict.ok, verdict.problems
    assert verdict.redelivered_results == 1
    assert verdict.idempotency_conflicts == 1


def test_an_object_of_a_failed_event_is_stray() -> None:
    """QuickBooks holding an object for an event reported failed counts as stray."""
    workload = _workload()
    seen = _perfect(workload)
    event = _first_create(workload)
    ledger = {**seen.ledger, event["id"]: LedgerRow("failed")}
    results = [Result(r.event_id, "failed") if r.event_id == event["id"] else r
               for r in seen.results]  # fmt: skip
    verdict = check(workload, replace(seen, ledger=ledger, results=results))

    assert not verdict.ok
    assert verdict.stray == 1
    assert verdict.failed == 1


def test_commits_past_unfinished_work_are_found() -> None:
    """A committed offset above an event still 'attempting' is a violation; 'parked' is not."""
    records = {(_TOPIC, 0, 0): "a", (_TOPIC, 0, 1): "b", (_TOPIC, 0, 2): None, (_TOPIC, 0, 3): "c"}
    ledger = {"a": LedgerRow("synced"), "b": LedgerRow("parked"), "c": LedgerRow("attempting")}

    assert commit_violations({(_TOPIC, 0): 3}, records, ledger) == []
    assert len(commit_violations({(_TOPIC, 0): 4}, records, ledger)) == 1


def test_the_workload_is_seeded_and_keeps_per_company_sequence() -> None:
    """The same seed gives the same stream; each company's ref numbers rise in publish order."""
    workload = _workload()
    again = _workload()

    assert workload.events == again.events
    for company in workload.companies:
        invoices = [e for e in workload.events if e["type"] == EventType.INVOICE_CREATED]
        refs = [e["data"]["ref_number"] for e in invoices if e["companyid"] == company.id]
        assert refs == sorted(refs)
        assert len(refs) > 5
