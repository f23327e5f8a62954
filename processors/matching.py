"""Matching: which QuickBooks list objects an unmapped app record probably is. Pure, no I/O.

Evidence, strongest first:

    exact_name       the app's name equals the QuickBooks name or full name, character for character
    normalized_name  equal after `name_key` (case, accents, punctuation, whitespace, "&",
                     and trailing company suffixes such as Inc., LLC, Ltd, Co)
    email            the same email address (case-insensitive)
    ref              the app's reference equals an account number or SKU

Auto-applying is deliberately narrow, because a wrong mapping silently sends the app's
changes to somebody else's record: a match is applied only when ``auto_map="exact"`` and
exactly one QuickBooks object matched on any evidence at all, that match is an exact name,
the object is active and not already mapped, and no email on either side contradicts it.
A near-duplicate ("Acme Inc" next to "Acme, Inc.") therefore always turns an exact match
into a suggestion for the user.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final, Literal

__all__ = [
    "AUTO_MAP_MODES",
    "AppRecord",
    "AutoMap",
    "Candidate",
    "MatchKind",
    "QbdRecord",
    "Suggestion",
    "name_key",
    "qbd_record",
    "suggest",
    "suggest_all",
]

AutoMap = Literal["off", "exact"]
AUTO_MAP_MODES: Final = ("off", "exact")

_SUFFIXES: Final = frozenset(
    {
        "inc",
        "incorporated",
        "llc",
        "ltd",
        "limited",
        "co",
        "corp",
        "corporation",
        "company",
        "plc",
        "lp",
        "llp",
        "gmbh",
    }
)
_NOT_WORD = re.compile(r"[^0-9a-z]+")


def name_key(name: str) -> str:
    """The normalized form of a name: what "the same name, written differently" shares."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()
    # Dots and apostrophes join ("L.L.C." is "llc", "O'Neil" is "oneil"); other marks split.
    joined = folded.replace(".", "").replace("'", "").replace("&", " and ")
    words = _NOT_WORD.sub(" ", joined).split()
    while len(words) > 1 and words[-1] in _SUFFIXES:
        words.pop()
    return " ".join(words)


class MatchKind(StrEnum):
    """One piece of evidence that an app record is a QuickBooks object."""

    EXACT_NAME = "exact_name"
    NORMALIZED_NAME = "normalized_name"
    EMAIL = "email"
    REF = "ref"


@dataclass(frozen=True, slots=True)
class AppRecord:
    """An app record that has no mapping yet."""

    object_type: str
    app_id: str
    name: str
    email: str | None = None
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class QbdRecord:
    """A QuickBooks list object from the local copy."""

    qbd_id: str
    name: str
    full_name: str | None = None
    email: str | None = None
    refs: tuple[str, ...] = ()
    is_active: bool = True
    resource: str | None = None
    revision_number: str | None = None


@dataclass(frozen=True, slots=True)
class Candidate:
    """A QuickBooks object that may be the app record, and why."""

    record: QbdRecord
    kinds: tuple[MatchKind, ...]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, for attention messages."""
        return {
            "qbd_id": self.record.qbd_id,
            "name": self.record.full_name or self.record.name,
            "is_active": self.record.is_active,
            "matched_on": [str(k) for k in self.kinds],
        }


@dataclass(frozen=True, slots=True)
class Suggestion:
    """The candidates for one app record, best first, and the one to apply (if any)."""

    app: AppRecord
    candidates: tuple[Candidate, ...] = ()
    auto: Candidate | None = None
    reason: str = field(default="")


def qbd_record(obj: Mapping[str, Any], resource: str | None = None) -> QbdRecord:
    """A `QbdRecord` from a Conductor object (camelCase keys)."""
    refs = tuple(str(obj[key]) for key in ("accountNumber", "sku") if obj.get(key))
    return QbdRecord(
        qbd_id=str(obj["id"]),
        name=str(obj.get("name") or ""),
        full_name=obj.get("fullName"),
        email=obj.get("email"),
        refs=refs,
        is_active=obj.get("isActive") is not False,
        resource=resource,
        revision_number=obj.get("revisionNumber"),
    )


def _fold(text: str | None) -> str:
    return (text or "").strip().casefold()


class _Index:
    """Lookups from each kind of evidence to the QuickBooks objects that carry it."""

    def __init__(self, records: Iterable[QbdRecord]) -> None:
        self.exact: dict[str, list[QbdRecord]] = defaultdict(list)
        self.key: dict[str, list[QbdRecord]] = defaultdict(list)
        self.email: dict[str, list[QbdRecord]] = defaultdict(list)
        self.ref: dict[str, list[QbdRecord]] = defaultdict(list)
        for record in records:
            for name in {record.name.strip(), (record.full_name or "").strip()} - {""}:
                self.exact[name].append(record)
                self.key[name_key(name)].append(record)
            if record.email:
                self.email[_fold(record.email)].append(record)
            for ref in record.refs:
                self.ref[_fold(ref)].append(record)

    def evidence(self, app: AppRecord) -> dict[str, tuple[QbdRecord, set[MatchKind]]]:
        found: dict[str, tuple[QbdRecord, set[MatchKind]]] = {}

        def add(records: Iterable[QbdRecord], kind: MatchKind) -> None:
            for record in records:
                found.setdefault(record.qbd_id, (record, set()))[1].add(kind)

        name = app.name.strip()
        add(self.exact.get(name, ()), MatchKind.EXACT_NAME)
        if name_key(name):
            add(self.key.get(name_key(name), ()), MatchKind.NORMALIZED_NAME)
        if app.email:
            add(self.email.get(_fold(app.email), ()), MatchKind.EMAIL)
        if app.ref:
            add(self.ref.get(_fold(app.ref), ()), MatchKind.REF)
        return found


_ORDER: Final = {kind: rank for rank, kind in enumerate(MatchKind)}


def _candidate(record: QbdRecord, kinds: set[MatchKind]) -> Candidate:
    return Candidate(record, tuple(sorted(kinds, key=_ORDER.__getitem__)))


def _strength(candidate: Candidate) -> tuple[int, int, str]:
    return (_ORDER[candidate.kinds[0]], -len(candidate.kinds), candidate.record.qbd_id)


def _decide(
    app: AppRecord, candidates: tuple[Candidate, ...], taken: frozenset[str], auto_map: AutoMap
) -> Suggestion:
    if auto_map != "exact":
        return Suggestion(app, candidates, None, "auto-mapping is off")
    if len(candidates) != 1:
        return Suggestion(
            app, candidates, None, "no candidate" if not candidates else "several candidates"
        )
    only = candidates[0]
    record = only.record
    if MatchKind.EXACT_NAME not in only.kinds:
        return Suggestion(app, candidates, None, "no exact name match")
    if not record.is_active:
        return Suggestion(app, candidates, None, "the match is inactive in QuickBooks")
    if record.qbd_id in taken:
        return Suggestion(app, candidates, None, "the match is already mapped to another record")
    if app.email and record.email and _fold(app.email) != _fold(record.email):
        return Suggestion(app, candidates, None, "the emails differ")
    return Suggestion(app, candidates, only, "unambiguous exact name")


def suggest(
    app: AppRecord,
    records: Iterable[QbdRecord],
    *,
    auto_map: AutoMap = "off",
    taken: frozenset[str] = frozenset(),
) -> Suggestion:
    """The candidates for one app record among ``records``; ``taken`` are already-mapped ids."""
    return suggest_all([app], records, auto_map=auto_map, taken=taken)[0]


def suggest_all(
    apps: Iterable[AppRecord],
    records: Iterable[QbdRecord],
    *,
    auto_map: AutoMap = "off",
    taken: frozenset[str] = frozenset(),
) -> list[Suggestion]:
    """`suggest` for many app records against one list, indexing the list once.

    Two app records that would auto-apply to the same QuickBooks object both become
    suggestions instead: one of them must be wrong.
    """
    index = _Index(records)
    out = []
    for app in apps:
        found = index.evidence(app)
        candidates = tuple(sorted((_candidate(r, k) for r, k in found.values()), key=_strength))
        out.append(_decide(app, candidates, taken, auto_map))
    claims: dict[str, int] = defaultdict(int)
    for suggestion in out:
        if suggestion.auto is not None:
            claims[suggestion.auto.record.qbd_id] += 1
    return [
        Suggestion(s.app, s.candidates, None, "another record matches the same object")
        if s.auto is not None and claims[s.auto.record.qbd_id] > 1
        else s
        for s in out
    ]
