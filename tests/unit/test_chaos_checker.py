"""The chaos invariant checker passes a clean run and fails each kind of broken one alone."""

from __future__ import annotations

import re
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from processors.markers import external_id_for
from schemas import EventType
from tests.chaos.kit import (
    LIFECYCLE,
    WRITE_MIX,
    ChaosCompany,
    LedgerRow,
    Observations,
    QbObject,
    Result,
    Workload,
    check,
    commit_violations,
    generate_workload,
    written_kind,
)
from tests.chaos.kit.final import expected

_TOPIC = "events"
_WRITES = [t for t in WRITE_MIX if t not in LIFECYCLE]
Event = dict[str, Any]
Injection = Callable[[Workload, Observations, Event], Observations]
_CLEAN = "lost 0, duplicated 0, reordered 0, wrong-company 0, untagged 0, uncommitted 0, stalled 0"


def _companies(count: int = 3) -> list[ChaosCompany]:
    return [
        ChaosCompany(
            id=f"acct-{n}",
            end_user=f"end_usr_{n}",
            customer_qbd="C1",
            vendor_qbd="V1",
            item_qbd="I1",
            income_account_qbd="A1",
            expense_account_qbd="A2",
            deposit_account_qbd="A3",
        )
        for n in range(count)
    ]


def _workload(seed: int = 7) -> Workload:
    return generate_workload(_companies(), 40, seed=seed, sync_requested_rate=0.1)


def _app_object(event: Event) -> tuple[str, str, str] | None:
    prefix = str(event["type"]).split(".")[0]
    app_id = event["data"].get(f"{prefix}_id")
    return None if app_id is None else (event["companyid"], prefix, str(app_id))


def _perfect(workload: Workload) -> Observations:
    """What a flawless run of ``workload`` leaves behind.

    One object per app object (its first create's), none for a deleted one, each in the
    final state its events say; every event synced with its object's id.
    """
    finals = expected(workload.events)
    objects: dict[str, list[QbObject]] = {c.id: [] for c in workload.companies}
    qbd_ids: dict[tuple[str, str, str], str] = {}
    results, ledger = [], {}
    for offset, event in enumerate(workload.events):
        key, qbd_id, kind = _app_object(event), None, written_kind(event)
        if key is not None and key in qbd_ids:
            qbd_id = qbd_ids[key]
        elif key is not None and kind is not None:
            qbd_id = qbd_ids[key] = f"Q{offset}"
            final = finals.get(key)
            if final is None or not final.gone:
                state = None if final is None else final.state
                mark = external_id_for(event["id"])
                objects[event["companyid"]].append(QbObject(qbd_id, mark, kind, state))
        if event["type"] != EventType.SYNC_REQUESTED:
            results.append(Result(event["id"], "synced", qbd_id))
        ledger[event["id"]] = LedgerRow("synced", qbd_id, (_TOPIC, 0, offset))
    end = len(workload.events)
    return Observations(objects, results, ledger, {(_TOPIC, 0): end}, {(_TOPIC, 0): end})


def _own(seen: Observations, event: Event) -> QbObject:
    """The object ``event`` wrote."""
    mark = external_id_for(event["id"])
    return next(o for o in seen.objects[event["companyid"]] if o.external_id == mark)


def _with_file(seen: Observations, company: str, objects: list[QbObject]) -> Observations:
    return replace(seen, objects={**seen.objects, company: objects})


def _other(workload: Workload, event: Event) -> str:
    return next(c.id for c in workload.companies if c.id != event["companyid"])


# -- one violation each ----------------------------------------------------------------------


def _duplicate(workload: Workload, seen: Observations, event: Event) -> Observations:
    """A second object with the event's externalId, written later (a re-write after a crash)."""
    company = event["companyid"]
    twin = replace(_own(seen, event), id="Q-twin")
    return _with_file(seen, company, [*seen.objects[company], twin])


def _loss(workload: Workload, seen: Observations, event: Event) -> Observations:
    """The ledger and results say synced, but the company file has no object."""
    company, own = event["companyid"], _own(seen, event)
    return _with_file(seen, company, [o for o in seen.objects[company] if o != own])


def _reorder(workload: Workload, seen: Observations, event: Event) -> Observations:
    """The event's object written just before the one published before it."""
    company = event["companyid"]
    objects = list(seen.objects[company])
    at = objects.index(_own(seen, event))
    objects[at - 1], objects[at] = objects[at], objects[at - 1]
    return _with_file(seen, company, objects)


def _wrong_company(workload: Workload, seen: Observations, event: Event) -> Observations:
    """A copy of the event's object in another company's file."""
    other = _other(workload, event)
    return _with_file(seen, other, [*seen.objects[other], replace(_own(seen, event), id="Q-x")])


def _untagged(workload: Workload, seen: Observations, event: Event) -> Observations:
    """An object of the event's type with no externalId in the event's company file."""
    company, kind = event["companyid"], written_kind(event) or "customers"
    return _with_file(seen, company, [*seen.objects[company], QbObject("Q-bare", None, kind)])


def _foreign(workload: Workload, seen: Observations, event: Event) -> Observations:
    """An object whose externalId matches no event of the workload."""
    company, kind = event["companyid"], written_kind(event) or "customers"
    stranger = QbObject("Q-stranger", "{" + str(uuid.uuid4()).upper() + "}", kind)
    return _with_file(seen, company, [*seen.objects[company], stranger])


def _stall(workload: Workload, seen: Observations, event: Event) -> Observations:
    """The event never got further than 'attempting': no result, no object."""
    company = event["companyid"]
    objects = [o for o in seen.objects[company] if o.external_id != external_id_for(event["id"])]
    return replace(
        _with_file(seen, company, objects),
        ledger={**seen.ledger, event["id"]: LedgerRow("attempting")},
        results=[r for r in seen.results if r.event_id != event["id"]],
    )


def _uncommitted(workload: Workload, seen: Observations, event: Event) -> Observations:
    """The group's committed offset stops at the event's record."""
    row = seen.ledger[event["id"]]
    assert row.source is not None
    topic, partition, offset = row.source
    return replace(seen, committed={(topic, partition): offset})


_INJECTIONS: dict[str, tuple[str, Injection, Callable[[Workload, Event], int]]] = {
    "duplicate": ("duplicated", _duplicate, lambda w, e: 1),
    "loss": ("lost", _loss, lambda w, e: 1),
    "reorder": ("reordered", _reorder, lambda w, e: 1),
    "wrong company": ("wrong_company", _wrong_company, lambda w, e: 1),
    "no externalId": ("untagged", _untagged, lambda w, e: 1),
    "foreign externalId": ("untagged", _foreign, lambda w, e: 1),
    "stall": ("stalled", _stall, lambda w, e: 1),
    "uncommitted": ("uncommitted", _uncommitted, lambda w, e: len(w.events) - w.events.index(e)),
}
"""Violation -> (the counter it must raise, how to inject it, by how much)."""


def _targets(workload: Workload, violation: str) -> list[Event]:
    """Events a violation can be injected at: creates whose object is in the company file
    (a reorder needs an earlier write to swap with)."""
    seen = _perfect(workload)
    marks = {o.external_id for objects in seen.objects.values() for o in objects}
    writes = [
        e
        for e in workload.events
        if written_kind(e) is not None and external_id_for(e["id"]) in marks
    ]
    if violation != "reorder":
        return writes
    firsts = {c.id: next(e for e in writes if e["companyid"] == c.id) for c in workload.companies}
    return [e for e in writes if e is not firsts[e["companyid"]]]


def _assert_only(verdict: Any, counter: str, expected: int) -> None:
    failures = verdict.failures()

    assert not verdict.ok
    assert failures[counter] == expected, verdict.problems
    assert {k: v for k, v in failures.items() if k != counter and v} == {}, verdict.problems
    assert re.search(rf"\b{counter.replace('_', '-')} {expected}[,;]", verdict.line())


# -- tests ------------------------------------------------------------------------------------


def _surviving(workload: Workload) -> dict[tuple[str, str, str], str]:
    """App object -> the list its object is in, for every app object not deleted at the end."""
    finals = expected(workload.events)
    first: dict[tuple[str, str, str], str] = {}
    for event in workload.events:
        key, kind = _app_object(event), written_kind(event)
        if key is not None and kind is not None:
            first.setdefault(key, kind)
    return {key: kind for key, kind in first.items() if key not in finals or not finals[key].gone}


def test_a_flawless_run_passes() -> None:
    """A run that did everything right is OK, with every count where it should be."""
    workload = _workload()
    verdict = check(workload, _perfect(workload))
    surviving = _surviving(workload)
    kinds = Counter(surviving.values())
    files = {
        c.id: Counter(kind for key, kind in surviving.items() if key[0] == c.id)
        for c in workload.companies
    }

    assert verdict.ok, verdict.problems
    assert verdict.events == verdict.synced == len(workload.events)
    assert verdict.objects == sum(kinds.values())
    assert verdict.kinds == kinds
    assert verdict.files == files
    assert _CLEAN in verdict.line()


@pytest.mark.parametrize("event_type", _WRITES)
@pytest.mark.parametrize("violation", list(_INJECTIONS))
def test_each_violation_alone_raises_exactly_its_counter(
    violation: str, event_type: EventType
) -> None:
    """For every written type, one injected violation raises its own counter and no other."""
    counter, inject, expected = _INJECTIONS[violation]
    workload = _workload()
    event = next(e for e in _targets(workload, violation) if e["type"] == event_type)
    verdict = check(workload, inject(workload, _perfect(workload), event))

    _assert_only(verdict, counter, expected(workload, event))


@settings(max_examples=150, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    violation=st.sampled_from(list(_INJECTIONS)),
    pick=st.integers(min_value=0),
)
def test_any_single_violation_on_any_workload_is_counted_alone(
    seed: int, violation: str, pick: int
) -> None:
    """Whatever the workload and the event hit, one violation raises exactly its counter."""
    workload = generate_workload(_companies(2), 12, seed=seed, sync_requested_rate=0.1)
    targets = _targets(workload, violation)
    if not targets:
        return  # a workload with too few writes for this violation
    event = targets[pick % len(targets)]
    counter, inject, expected = _INJECTIONS[violation]
    verdict = check(workload, inject(workload, _perfect(workload), event))

    _assert_only(verdict, counter, expected(workload, event))


def test_an_object_moved_to_another_company_is_misplaced_and_lost() -> None:
    """Moving an object into another company's file (it passed before) is caught twice."""
    workload = _workload()
    seen = _perfect(workload)
    event = next(e for e in workload.events if e["type"] == EventType.BILL_CREATED)
    moved = _loss(workload, _wrong_company(workload, seen, event), event)
    verdict = check(workload, moved)

    assert verdict.wrong_company == 1
    assert verdict.lost == 1


def test_stalled_covers_missing_rows_waiting_events_and_parked_records() -> None:
    """No ledger row, still waiting, or still parked in the DLQ: each event counts once."""
    workload = _workload()
    seen = _perfect(workload)
    control = [e for e in workload.events if written_kind(e) is None]
    gone, waiting, parked = control[0], control[1], control[2]
    ledger = {k: v for k, v in seen.ledger.items() if k != gone["id"]}
    ledger[waiting["id"]] = LedgerRow("waiting_dependency")
    results = [r for r in seen.results if r.event_id not in (gone["id"], waiting["id"])]
    stalled = replace(seen, ledger=ledger, results=results, parked={parked["id"], "other-evt"})
    verdict = check(workload, stalled)

    _assert_only(verdict, "stalled", 4)


def test_a_synced_event_without_a_result_is_lost() -> None:
    """A synced event whose result never reached the results topic counts as lost."""
    workload = _workload()
    seen = _perfect(workload)
    event = next(e for e in workload.events if e["type"] == EventType.PAYMENT_RECEIVED)
    verdict = check(
        workload, replace(seen, results=[r for r in seen.results if r.event_id != event["id"]])
    )

    _assert_only(verdict, "lost", 1)


def test_disagreeing_end_states_conflict() -> None:
    """A success and a failure published for one event count as conflicting."""
    workload = _workload()
    seen = _perfect(workload)
    event = next(e for e in workload.events if e["type"] == EventType.SALES_RECEIPT_CREATED)
    verdict = check(workload, replace(seen, results=[*seen.results, Result(event["id"], "failed")]))

    _assert_only(verdict, "conflicting", 1)


def test_an_object_of_a_failed_event_conflicts() -> None:
    """QuickBooks holding an object for an event reported failed counts as conflicting."""
    workload = _workload()
    seen = _perfect(workload)
    event = next(e for e in workload.events if e["type"] == EventType.VENDOR_UPSERTED)
    ledger = {**seen.ledger, event["id"]: LedgerRow("failed")}
    results = [
        Result(r.event_id, "failed") if r.event_id == event["id"] else r for r in seen.results
    ]
    verdict = check(workload, replace(seen, ledger=ledger, results=results))

    _assert_only(verdict, "conflicting", 1)
    assert verdict.failed == 1


def test_repeated_identical_results_and_id_conflicts_are_counted_not_failed() -> None:
    """At-least-once result publishing and idempotency conflicts are reported, not failures."""
    workload = _workload()
    seen = _perfect(workload)
    event = next(e for e in workload.events if written_kind(e) is not None)
    again = next(r for r in seen.results if r.event_id == event["id"])
    conflict = Result(event["id"], "failed", None, "IDEMPOTENCY_CONFLICT")
    verdict = check(workload, replace(seen, results=[*seen.results, again, conflict]))

    assert verdict.ok, verdict.problems
    assert verdict.redelivered_results == 1
    assert verdict.idempotency_conflicts == 1


def test_external_ids_match_whatever_their_braces_and_case() -> None:
    """QuickBooks echoing the marker in lower case or without braces is still the marker."""
    workload = _workload()
    seen = _perfect(workload)
    echoed = {
        company: [replace(o, external_id=(o.external_id or "").strip("{}").lower()) for o in objs]
        for company, objs in seen.objects.items()
    }
    verdict = check(workload, replace(seen, objects=echoed))

    assert verdict.ok, verdict.problems


def test_commits_past_unfinished_work_are_found() -> None:
    """A committed offset above an event still 'attempting' is a violation; 'parked' is not."""
    records = {(_TOPIC, 0, 0): "a", (_TOPIC, 0, 1): "b", (_TOPIC, 0, 2): None, (_TOPIC, 0, 3): "c"}
    ledger = {"a": LedgerRow("synced"), "b": LedgerRow("parked"), "c": LedgerRow("attempting")}

    assert commit_violations({(_TOPIC, 0): 3}, records, ledger) == []
    assert len(commit_violations({(_TOPIC, 0): 4}, records, ledger)) == 1


# -- final state of each app object ------------------------------------------------------------


def _changed_later(workload: Workload, verb: str, *, kept: bool = True) -> tuple[Event, Event]:
    """A create and a later event of the same app object whose type ends in ``verb``.

    ``kept``: only an app object still in QuickBooks at the end (not deleted afterwards).
    """
    finals = expected(workload.events)
    for later in workload.events:
        if str(later["type"]).endswith(verb) and written_kind(later) is None:
            key = _app_object(later)
            assert key is not None
            if kept and finals[key].gone:
                continue
            create = next(e for e in workload.events if _app_object(e) == key)
            return create, later
    raise AssertionError(f"the workload has no {verb} event")


def _restate(seen: Observations, create: Event, **state: str) -> Observations:
    """The create's object, showing ``state`` instead of what it should."""
    company, own = create["companyid"], _own(seen, create)
    restated = replace(own, state={**dict(own.state or {}), **state})
    return _with_file(seen, company, [restated if o == own else o for o in seen.objects[company]])


def test_an_update_that_did_not_land_is_the_wrong_final_state() -> None:
    """An updated transaction still showing its old memo counts as wrong_state, alone."""
    workload = _workload()
    create, _ = _changed_later(workload, ".updated")
    verdict = check(workload, _restate(_perfect(workload), create, memo="the old memo"))

    _assert_only(verdict, "wrong_state", 1)


def test_a_void_that_left_the_total_is_the_wrong_final_state() -> None:
    """A voided transaction whose total is not zero counts as wrong_state, alone."""
    workload = _workload()
    create, _ = _changed_later(workload, ".voided")
    verdict = check(workload, _restate(_perfect(workload), create, total="12.34"))

    _assert_only(verdict, "wrong_state", 1)


def test_an_object_still_there_after_its_delete_is_the_wrong_final_state() -> None:
    """A delete that synced but left the object in QuickBooks counts as wrong_state, alone."""
    workload = _workload()
    create, _ = _changed_later(workload, ".deleted", kept=False)
    seen = _perfect(workload)
    offset = workload.events.index(create)
    left = QbObject(f"Q{offset}", external_id_for(create["id"]), written_kind(create) or "")
    company = create["companyid"]
    objects = list(seen.objects[company])
    later = [n for n, o in enumerate(objects) if int(o.id.removeprefix("Q")) > offset]
    objects.insert(later[0] if later else len(objects), left)
    verdict = check(workload, _with_file(seen, company, objects))

    _assert_only(verdict, "wrong_state", 1)


def test_a_resend_that_wrote_a_second_object_is_a_duplicate() -> None:
    """A re-sent create (new event id) must update the app object's one object, not add one."""
    workload = _workload()
    resend = next(
        e
        for n, e in enumerate(workload.events)
        if e["type"] == EventType.INVOICE_CREATED
        and any(_app_object(o) == _app_object(e) for o in workload.events[:n])
    )
    seen = _perfect(workload)
    company = resend["companyid"]
    twin = QbObject("Q-resent", external_id_for(resend["id"]), "invoices")
    verdict = check(workload, _with_file(seen, company, [*seen.objects[company], twin]))

    assert verdict.duplicated == 1
    assert verdict.untagged == 0


def test_a_final_state_is_only_judged_once_every_event_of_it_synced() -> None:
    """An update still waiting is a stall, not a wrong final state."""
    workload = _workload()
    create, update = _changed_later(workload, ".updated")
    seen = _restate(_perfect(workload), create, memo="the old memo")
    waiting = replace(
        seen,
        ledger={**seen.ledger, update["id"]: LedgerRow("waiting_dependency")},
        results=[r for r in seen.results if r.event_id != update["id"]],
    )
    verdict = check(workload, waiting)

    _assert_only(verdict, "stalled", 1)
