"""Matching unmapped app records to QuickBooks list objects: evidence and auto-apply rules."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from processors.matching import (
    AppRecord,
    MatchKind,
    QbdRecord,
    name_key,
    suggest,
    suggest_all,
)

_WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=8).filter(
    lambda word: word not in {"inc", "llc", "ltd", "co", "corp", "lp", "llp", "plc", "and"}
)
_NAMES = st.lists(_WORDS, min_size=1, max_size=4).map(" ".join)
_SUFFIXES = ["", " Inc.", ", Inc", " LLC", " Ltd", " Co.", " CO", ", L.L.C."]


def _variant(name: str, rng: random.Random) -> str:
    """The same name written differently: case, punctuation, spacing, company suffix."""
    words = name.split()
    cased = [w.upper() if rng.random() < 0.3 else w.capitalize() for w in words]
    joined = rng.choice([" ", "  ", " - ", ". "]).join(cased)
    return f"  {joined}{rng.choice(_SUFFIXES)} "


@given(_NAMES, st.integers(min_value=0, max_value=2**32))
def test_name_key_ignores_case_punctuation_spacing_and_suffixes(name: str, seed: int) -> None:
    """Every spelling variant of a name has the same normalized key."""
    variant = _variant(name, random.Random(seed))

    assert name_key(variant) == name_key(name)
    assert name_key(name_key(name)) == name_key(name)


def test_name_key_keeps_a_name_that_is_only_a_suffix() -> None:
    """'Co' alone stays a name; trailing suffixes go, ampersands read as 'and'."""

    assert name_key("Co") == "co"
    assert name_key("Smith & Sons Co., Inc.") == "smith and sons"
    assert name_key("Café Zoë") == "cafe zoe"


def test_evidence_kinds_are_reported_per_candidate() -> None:
    """Exact name, normalized name, email and ref each show up as evidence."""
    records = [
        QbdRecord("1", "Acme Inc.", email="ap@acme.example"),
        QbdRecord("2", "ACME, Inc"),
        QbdRecord("3", "Other", email="AP@acme.example"),
        QbdRecord("4", "Ref Holder", refs=("A-100",)),
    ]
    app = AppRecord("customer", "c1", "Acme Inc.", email="ap@acme.example", ref="a-100")

    found = suggest(app, records, auto_map="exact")

    kinds = {c.record.qbd_id: c.kinds for c in found.candidates}
    assert kinds["1"] == (MatchKind.EXACT_NAME, MatchKind.NORMALIZED_NAME, MatchKind.EMAIL)
    assert kinds["2"] == (MatchKind.NORMALIZED_NAME,)
    assert kinds["3"] == (MatchKind.EMAIL,)
    assert kinds["4"] == (MatchKind.REF,)
    assert found.candidates[0].record.qbd_id == "1"
    assert found.auto is None


def test_unambiguous_exact_match_is_auto_applied_only_in_exact_mode() -> None:
    """One exact, active, unmapped match with no near-duplicates applies; off never does."""
    records = [QbdRecord("1", "Acme Inc."), QbdRecord("2", "Brightwater Dental")]
    app = AppRecord("customer", "c1", "Acme Inc.")

    exact = suggest(app, records, auto_map="exact")
    off = suggest(app, records, auto_map="off")

    assert exact.auto is not None
    assert exact.auto.record.qbd_id == "1"
    assert off.auto is None
    assert [c.record.qbd_id for c in off.candidates] == ["1"]


def test_exact_match_is_not_applied_when_inactive_taken_or_email_differs() -> None:
    """Inactive, already mapped or contradicting-email matches stay suggestions."""
    app = AppRecord("customer", "c1", "Acme", email="a@acme.example")

    inactive = suggest(app, [QbdRecord("1", "Acme", is_active=False)], auto_map="exact")
    taken = suggest(app, [QbdRecord("1", "Acme")], auto_map="exact", taken=frozenset({"1"}))
    email = suggest(app, [QbdRecord("1", "Acme", email="b@x.example")], auto_map="exact")

    assert (inactive.auto, taken.auto, email.auto) == (None, None, None)
    assert "inactive" in inactive.reason
    assert "already mapped" in taken.reason
    assert "emails differ" in email.reason


def test_two_app_records_claiming_one_object_both_become_suggestions() -> None:
    """If two unmapped records exactly match the same object, neither is auto-applied."""
    records = [QbdRecord("1", "Acme")]
    apps = [AppRecord("customer", "c1", "Acme"), AppRecord("customer", "c2", "Acme")]

    found = suggest_all(apps, records, auto_map="exact")

    assert [s.auto for s in found] == [None, None]
    assert all(s.candidates for s in found)


@st.composite
def _seeded_sets(draw: st.DrawFn) -> tuple[list[QbdRecord], list[tuple[AppRecord, str | None]]]:
    """QuickBooks objects with near-duplicates, and app records with their true match."""
    bases = draw(st.lists(_NAMES, min_size=1, max_size=12, unique_by=name_key))
    rng = random.Random(draw(st.integers(min_value=0, max_value=2**32)))
    records: list[QbdRecord] = []
    names: set[str] = set()
    for base in bases:
        spellings = {base.title()} | {
            _variant(base, rng).strip() for _ in range(draw(st.integers(0, 2)))
        }
        for spelling in sorted(spellings):
            if spelling.casefold() not in names:  # QuickBooks names are unique, ignoring case
                names.add(spelling.casefold())
                records.append(QbdRecord(f"q{len(records)}", spelling))
    apps: list[tuple[AppRecord, str | None]] = []
    for n, record in enumerate(records):
        choice = draw(st.sampled_from(["exact", "variant", "none"]))
        if choice == "exact":
            apps.append((AppRecord("customer", f"a{n}", record.name), record.qbd_id))
        elif choice == "variant":
            apps.append((AppRecord("customer", f"a{n}", _variant(record.name, rng)), record.qbd_id))
    fresh = draw(st.lists(_NAMES, max_size=3))
    apps += [(AppRecord("customer", f"new{n}", name), None) for n, name in enumerate(fresh)]
    return records, apps


@given(_seeded_sets())
def test_auto_applied_matches_are_always_the_true_match(
    seeded: tuple[list[QbdRecord], list[tuple[AppRecord, str | None]]],
) -> None:
    """Precision is 100%: every auto-applied match is the record's true QuickBooks object."""
    records, apps = seeded

    found = suggest_all([app for app, _ in apps], records, auto_map="exact")

    truth = {app.app_id: qbd_id for app, qbd_id in apps}
    for suggestion in found:
        if suggestion.auto is not None:
            assert suggestion.auto.record.qbd_id == truth[suggestion.app.app_id]
            assert suggestion.app.name.strip() == suggestion.auto.record.name


def test_seeded_near_duplicate_set_precision_and_recall() -> None:
    """On 2,000 seeded records with near-duplicates: no wrong auto-match, the rest suggested."""
    rng = random.Random(20261124)
    stems = [
        f"{rng.choice(['North', 'Blue', 'Cedar', 'Iron'])} {w} {n}"
        for n, w in enumerate(rng.choices(["Farms", "Dental", "Auto", "Cafe"], k=1000))
    ]
    records = [QbdRecord(f"q{n}", stem) for n, stem in enumerate(stems)]
    records += [QbdRecord(f"d{n}", f"{stem}, Inc.") for n, stem in enumerate(stems[:300])]
    apps = [(AppRecord("customer", f"a{n}", stem), f"q{n}") for n, stem in enumerate(stems)]
    apps += [
        (AppRecord("customer", f"v{n}", f"{stem.upper()} LLC"), f"q{n}")
        for n, stem in enumerate(stems[500:1000], start=500)
    ]

    found = suggest_all([app for app, _ in apps], records, auto_map="exact")

    truth = {app.app_id: qbd_id for app, qbd_id in apps}
    auto = [s for s in found if s.auto is not None]
    wrong = [s for s in auto if s.auto is not None and s.auto.record.qbd_id != truth[s.app.app_id]]
    assert wrong == []
    # stems 0-299 have a near-duplicate in QuickBooks: only 300-999 are unambiguous
    assert len(auto) == 700
    assert all(s.candidates for s in found)
