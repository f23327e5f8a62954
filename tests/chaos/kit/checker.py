"""The pure invariant checker: what a chaos run must have left behind, counted per company.

``check(workload, observations)`` does no I/O and never raises on bad data. For every
company of the workload it looks at every object the processor wrote into that company's
file (every type in ``OBJECT_KINDS``) and counts, each on its own:

- ``lost``: an event that ended ``synced`` whose object is not in its company's file, or
  whose end state never reached the results topic;
- ``duplicated``: a second object for one app object (one event, or two events for the
  same app id);
- ``reordered``: writes out of publish order, per company, across every type (the file's
  creation sequence): how many objects must be taken out for the rest to be in order;
- ``wrong_company``: an object whose ``externalId`` belongs to another company's event;
- ``untagged``: an object the processor wrote with no ``externalId``, or one that matches
  no event of the workload;
- ``uncommitted``: input offsets below the end that the group never committed;
- ``stalled``: an event with no end state at all (no ledger row, or still attempting,
  waiting or parked), or a record still parked in the DLQ;
- ``conflicting``: end states that disagree (two results, the ledger and the results, or
  the ledger and QuickBooks, or an object for an event that failed);
- ``wrong_state``: a transaction whose events all synced but whose final state in QuickBooks
  is not what its events say (``tests.chaos.kit.final``): the memo or total of its last
  create, re-send, update or void, or still there after its delete.

A re-sent create (same app id, new event id) updates the app object's one QuickBooks object:
it is expected to write no object of its own, and one that does is a duplicate.
"""

from __future__ import annotations

import bisect
import itertools
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, NamedTuple

from processors.markers import external_id_for
from schemas import EventType
from tests.chaos.kit.final import Expected, expected
from tests.chaos.kit.workload import Workload

__all__ = [
    "OBJECT_KINDS",
    "LedgerRow",
    "Observations",
    "QbObject",
    "Result",
    "Verdict",
    "check",
    "commit_violations",
    "marker",
    "written_kind",
]

OBJECT_KINDS: Final = (
    "customers",
    "vendors",
    "service-items",
    "non-inventory-items",
    "invoices",
    "receive-payments",
    "bills",
    "sales-receipts",
    "purchase-orders",
)
"""Every simulator list the processor writes to."""

# Event type -> (the data field holding the app id, the list its object is created in).
_CREATES: Final[dict[str, tuple[str, str]]] = {
    EventType.CUSTOMER_UPSERTED: ("customer_id", "customers"),
    EventType.VENDOR_UPSERTED: ("vendor_id", "vendors"),
    EventType.ITEM_UPSERTED: ("item_id", "service-items"),
    EventType.INVOICE_CREATED: ("invoice_id", "invoices"),
    EventType.PAYMENT_RECEIVED: ("payment_id", "receive-payments"),
    EventType.BILL_CREATED: ("bill_id", "bills"),
    EventType.SALES_RECEIPT_CREATED: ("sales_receipt_id", "sales-receipts"),
    EventType.PURCHASE_ORDER_CREATED: ("purchase_order_id", "purchase-orders"),
}
_ITEM_KINDS: Final = {"service": "service-items", "non_inventory": "non-inventory-items"}
_FINAL: Final = frozenset({"synced", "failed"})
_DURABLE: Final = _FINAL | {"parked", "waiting_dependency", "rejected"}
_CONFLICT: Final = "IDEMPOTENCY_CONFLICT"
_FAILURES: Final = (
    "lost",
    "duplicated",
    "reordered",
    "wrong_company",
    "untagged",
    "uncommitted",
    "stalled",
    "conflicting",
    "wrong_state",
)


def marker(external_id: str) -> str:
    """An ``externalId`` in one canonical form (QuickBooks may change braces and case)."""
    return external_id.strip().strip("{}").lower()


def written_kind(event: Mapping[str, Any]) -> str | None:
    """The simulator list the event's object is created in (None: the event writes none)."""
    create = _CREATES.get(event.get("type", ""))
    if create is None:
        return None
    if event["type"] == EventType.ITEM_UPSERTED:
        return _ITEM_KINDS.get(event["data"].get("kind"), create[1])
    return create[1]


@dataclass(frozen=True, slots=True)
class QbObject:
    """An object the processor wrote into a company file (``external_id`` None: untagged)."""

    id: str
    external_id: str | None
    kind: str
    state: Mapping[str, str | None] | None = field(default=None, compare=False)
    """Its memo and total (``tests.chaos.kit.final.held``); None: not observed."""


@dataclass(frozen=True, slots=True)
class Result:
    """One record on the sync-results topic."""

    event_id: str
    status: str
    qbd_id: str | None = None
    error_code: str | None = None


@dataclass(frozen=True, slots=True)
class LedgerRow:
    """The parts of a ledger row the checker needs."""

    status: str
    qbd_id: str | None = None
    source: tuple[str, int, int] | None = None  # topic, partition, offset


@dataclass(frozen=True, slots=True)
class Observations:
    """Everything observed after (or during) a run."""

    objects: Mapping[str, Sequence[QbObject]]
    """Company id -> the objects the processor wrote into its file, in creation order."""
    results: Sequence[Result]
    ledger: Mapping[str, LedgerRow]
    committed: Mapping[tuple[str, int], int]
    ends: Mapping[tuple[str, int], int]
    parked: Collection[str] = frozenset()
    """Event ids of the workload's companies still parked in the DLQ index."""


@dataclass(slots=True)
class Verdict:
    """Counts of what a run got right and wrong; ``ok`` when nothing was wrong."""

    events: int = 0
    synced: int = 0
    failed: int = 0
    objects: int = 0
    kinds: Counter[str] = field(default_factory=Counter)  # objects per type, all companies
    files: dict[str, Counter[str]] = field(default_factory=dict)  # company -> per type
    lost: int = 0
    duplicated: int = 0
    reordered: int = 0
    wrong_company: int = 0
    untagged: int = 0
    uncommitted: int = 0
    stalled: int = 0
    conflicting: int = 0
    wrong_state: int = 0
    redelivered_results: int = 0  # repeated identical results (at-least-once publishing)
    idempotency_conflicts: int = 0  # an event id re-used with another body, refused
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Nothing lost, duplicated, reordered, misplaced, untagged, uncommitted, stalled,
        conflicting or left in the wrong final state."""
        return not any(getattr(self, name) for name in _FAILURES)

    def failures(self) -> dict[str, int]:
        """The failure counters, by name."""
        return {name: getattr(self, name) for name in _FAILURES}

    def line(self) -> str:
        """The one-line verdict."""
        head = "OK" if self.ok else "FAIL"
        kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(self.kinds.items()))
        counts = ", ".join(f"{name.replace('_', '-')} {n}" for name, n in self.failures().items())
        return (
            f"chaos verdict {head}: {self.events} events ({self.synced} synced, "
            f"{self.failed} failed), {self.objects} objects ({kinds or 'none'}); {counts}; "
            f"redelivered results {self.redelivered_results}, "
            f"idempotency conflicts {self.idempotency_conflicts}"
        )

    def note(self, problem: str) -> None:
        """Keep the first problems for the failure message."""
        if len(self.problems) < 20:
            self.problems.append(problem)


class _Written(NamedTuple):
    """A workload event that creates an object: where it stands and what it creates."""

    position: int  # in publish order
    event_id: str
    company: str
    kind: str
    app_object: tuple[str, str]  # event type, app id
    first: bool  # the app object's first create (a later one is a re-send: an update)


def check(workload: Workload, seen: Observations) -> Verdict:
    """Compare what happened with what must have happened; never raises on bad data."""
    verdict = Verdict(events=len(workload.events))
    written = _written(workload.events)
    finals = expected(workload.events)
    stalled = _check_end_states(workload, seen, verdict)
    for company in workload.companies:
        _check_file(company.id, seen.objects.get(company.id, ()), written, seen, verdict)
    _check_present(written, finals, seen, stalled, verdict)
    _check_finals(finals, written, seen, verdict)
    for (topic, partition), end in sorted(seen.ends.items()):
        behind = end - seen.committed.get((topic, partition), 0)
        if behind > 0:
            verdict.uncommitted += behind
            verdict.note(f"{topic}[{partition}] committed {end - behind} of {end}")
    return verdict


def _written(events: Iterable[Mapping[str, Any]]) -> dict[str, _Written]:
    """Canonical marker -> the event whose object carries it."""
    written = {}
    created: set[tuple[str, tuple[str, str]]] = set()
    for position, event in enumerate(events):
        kind = written_kind(event)
        if kind is None:
            continue
        app_id = str(event["data"].get(_CREATES[event["type"]][0]))
        app_object = (str(event["type"]).split(".")[0], app_id)
        first = (event["companyid"], app_object) not in created
        created.add((event["companyid"], app_object))
        written[marker(external_id_for(event["id"]))] = _Written(
            position, event["id"], event["companyid"], kind, app_object, first
        )
    return written


def _check_end_states(workload: Workload, seen: Observations, verdict: Verdict) -> set[str]:
    """Count end states and results; return the ids of stalled events."""
    results: dict[str, list[Result]] = defaultdict(list)
    for result in seen.results:
        if result.error_code == _CONFLICT:
            verdict.idempotency_conflicts += 1
        else:
            results[result.event_id].append(result)
    stalled = set()
    for event in workload.events:
        event_id = event["id"]
        row = seen.ledger.get(event_id)
        if row is None or row.status not in _FINAL or event_id in seen.parked:
            state = "no ledger row" if row is None else row.status
            stalled.add(event_id)
            verdict.note(f"{event_id} ({event['type']}) has no end state: {state}")
            continue
        verdict.synced += row.status == "synced"
        verdict.failed += row.status == "failed"
        if event["type"] == EventType.SYNC_REQUESTED:
            continue  # acknowledged in the ledger; it publishes no result
        found = results.get(event_id, [])
        if not found:
            verdict.lost += 1
            verdict.note(f"{event_id} is {row.status} but its result never reached the topic")
            continue
        if len({(r.status, r.qbd_id) for r in found}) > 1 or found[0].status != row.status:
            verdict.conflicting += 1
            verdict.note(f"{event_id}: results {found} disagree with ledger {row.status}")
        verdict.redelivered_results += len(found) - 1
    leftover = set(seen.parked) - stalled
    for event_id in sorted(leftover):
        verdict.note(f"{event_id} is still parked in the DLQ")
    verdict.stalled = len(stalled) + len(leftover)
    return stalled


def _check_file(
    company: str,
    objects: Sequence[QbObject],
    written: Mapping[str, _Written],
    seen: Observations,
    verdict: Verdict,
) -> None:
    """One company file: untagged, misplaced, duplicated and reordered objects."""
    verdict.objects += len(objects)
    verdict.files[company] = Counter(obj.kind for obj in objects)
    verdict.kinds.update(verdict.files[company])
    per_app_object: dict[tuple[str, str], list[QbObject]] = defaultdict(list)
    sequence: list[_Written] = []
    for obj in objects:
        event = written.get(marker(obj.external_id)) if obj.external_id else None
        if event is None:
            verdict.untagged += 1
            tag = obj.external_id or "no externalId"
            verdict.note(f"{company}: {obj.kind} {obj.id} is untagged ({tag})")
            continue
        if event.company != company:
            verdict.wrong_company += 1
            owner = f"{event.company}'s {event.event_id}"
            verdict.note(f"{company}: {obj.kind} {obj.id} belongs to {owner}")
            continue
        row = seen.ledger.get(event.event_id)
        if row is not None and row.status == "failed":
            verdict.conflicting += 1
            verdict.note(f"{event.event_id} failed yet {obj.kind} {obj.id} exists")
        twins = per_app_object[event.app_object]
        twins.append(obj)
        if len(twins) == 1:
            sequence.append(event)
    for app_object, twins in per_app_object.items():
        if len(twins) > 1:
            verdict.duplicated += len(twins) - 1
            ids = ", ".join(obj.id for obj in twins)
            verdict.note(f"{company}: {len(twins)} objects for {app_object}: {ids}")
        elif len(twins) == 1:
            _check_ledger_id(twins[0], written, seen, verdict)
    out_of_order = len(sequence) - _longest_ordered(e.position for e in sequence)
    if out_of_order:
        verdict.reordered += out_of_order
        late = next(b for a, b in itertools.pairwise(sequence) if b.position < a.position)
        verdict.note(
            f"{company}: {out_of_order} write(s) out of publish order, e.g. "
            f"{late.kind} of {late.event_id} written after a later event's"
        )


def _check_ledger_id(
    obj: QbObject, written: Mapping[str, _Written], seen: Observations, verdict: Verdict
) -> None:
    event = written[marker(obj.external_id or "")]
    row = seen.ledger.get(event.event_id)
    if row is not None and row.status == "synced" and row.qbd_id not in (None, obj.id):
        verdict.conflicting += 1
        verdict.note(f"{event.event_id}: ledger says {row.qbd_id}, QuickBooks has {obj.id}")


def _longest_ordered(positions: Iterable[int]) -> int:
    """The length of the longest non-decreasing subsequence (patience sorting)."""
    tails: list[int] = []
    for position in positions:
        at = bisect.bisect_right(tails, position)
        if at == len(tails):
            tails.append(position)
        else:
            tails[at] = position
    return len(tails)


def _check_present(
    written: Mapping[str, _Written],
    finals: Mapping[tuple[str, str, str], Expected],
    seen: Observations,
    stalled: set[str],
    verdict: Verdict,
) -> None:
    """Every synced create's object is in its own company's file, in the right list.

    Unless its app object was deleted since (``_check_finals`` sees to that) or the event
    re-sent an app object that already had one.
    """
    present = {
        (company, obj.kind, marker(obj.external_id))
        for company, objects in seen.objects.items()
        for obj in objects
        if obj.external_id
    }
    for key, event in written.items():
        row = seen.ledger.get(event.event_id)
        if event.event_id in stalled or row is None or row.status != "synced":
            continue
        final = finals.get((event.company, *event.app_object))
        if not event.first or (final is not None and final.gone):
            continue
        if (event.company, event.kind, key) not in present:
            verdict.lost += 1
            where = f"{event.company}'s {event.kind}"
            verdict.note(f"{event.event_id} is synced but {where} hold no object for it")


def _check_finals(
    finals: Mapping[tuple[str, str, str], Expected],
    written: Mapping[str, _Written],
    seen: Observations,
    verdict: Verdict,
) -> None:
    """Each transaction whose events all synced is in the final state its events say."""
    held: dict[tuple[str, str, str], list[QbObject]] = defaultdict(list)
    for company, objects in seen.objects.items():
        for obj in objects:
            event = written.get(marker(obj.external_id)) if obj.external_id else None
            if event is not None and event.company == company:
                held[(company, *event.app_object)].append(obj)
    for key, final in finals.items():
        rows = [seen.ledger.get(event_id) for event_id in final.event_ids]
        if any(row is None or row.status != "synced" for row in rows):
            continue  # not final yet, or failed: counted where it belongs
        objects = held.get(key, [])
        if final.gone:
            if objects:
                verdict.wrong_state += 1
                verdict.note(f"{key} was deleted by {final.event_ids[-1]} yet is still there")
            continue
        for obj in objects[:1]:
            if obj.state is not None and dict(obj.state) != final.state:
                verdict.wrong_state += 1
                verdict.note(f"{key}: QuickBooks holds {dict(obj.state)}, events say {final.state}")


def commit_violations(
    committed: Mapping[tuple[str, int], int],
    records: Mapping[tuple[str, int, int], str | None],
    ledger: Mapping[str, LedgerRow],
) -> list[str]:
    """Input records below a committed offset whose event is not in a durable end state.

    ``records`` maps (topic, partition, offset) to the record's event id (None: not an
    event, so it was rejected, which is durable once published).
    """
    bad = []
    for (topic, partition, offset), event_id in sorted(records.items()):
        if event_id is None or offset >= committed.get((topic, partition), 0):
            continue
        row = ledger.get(event_id)
        if row is None or row.status not in _DURABLE:
            state = "no ledger row" if row is None else row.status
            bad.append(f"{topic}[{partition}]@{offset} {event_id} committed while {state}")
    return bad
