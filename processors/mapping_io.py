"""Bulk mappings as CSV: ``company_id,object_type,app_id,qbd_id``, checked row by row.

Import reads the whole file, rejects bad rows with a reason and applies the good ones in
one statement (or only reports, with ``dry_run``). A row is rejected when it:

- is not valid CSV, or does not have exactly four fields, or has an empty field;
- names an ``object_type`` qbd-sync does not know;
- repeats an earlier row's ``(company_id, object_type, app_id)``, or maps an earlier row's
  QuickBooks list object to a second app id;
- names a ``qbd_id`` missing from the local copy of that QuickBooks list, when a full
  reference pull of the list has completed for the company (an item may be in the items,
  other-charge or discount items, terms in the standard or date-driven terms: every one of
  those must have been pulled to refuse a row; lists never pulled and transactions cannot
  be checked: those rows are applied and counted ``unchecked``).

``parse`` and ``validate`` are pure; ``import_mappings`` and ``export_mappings`` are the
PostgreSQL edges.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final, TextIO

import asyncpg

from processors.errors import QbdSyncError, UsageError
from processors.mappings import MappingStore
from processors.progress import Tracker
from processors.reference import MAPPABLE_LISTS
from schemas import ObjectType

__all__ = [
    "COLUMNS",
    "ImportReport",
    "MappingRow",
    "Rejected",
    "export_mappings",
    "import_mappings",
    "parse",
    "validate",
]

COLUMNS: Final = ("company_id", "object_type", "app_id", "qbd_id")
_TYPES: Final = frozenset(str(kind) for kind in ObjectType)

Known = Mapping[tuple[str, str], Mapping[str, str | None]]
"""(company_id, list) -> {qbd_id: revision} for every list a full pull has completed."""

_CHECK_CHUNK = 1000  # rows checked between two progress updates


@dataclass(frozen=True, slots=True)
class MappingRow:
    """One good row of a mappings file."""

    line: int
    company_id: str
    object_type: str
    app_id: str
    qbd_id: str


@dataclass(frozen=True, slots=True)
class Rejected:
    """A row that was not applied, and why."""

    line: int
    reason: str
    text: str = ""


@dataclass(slots=True)
class ImportReport:
    """What an import did (or, with ``dry_run``, would do)."""

    rows: int = 0
    applied: int = 0
    unchecked: int = 0
    dry_run: bool = False
    rejected: list[Rejected] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The human-readable report, one line each."""
        verb = "would apply" if self.dry_run else "applied"
        head = (
            f"{self.rows} rows: {verb} {self.applied}, rejected {len(self.rejected)}"
            f" ({self.unchecked} not checked: list never pulled or not a list)"
        )
        return [head, *(f"line {r.line}: {r.reason}: {r.text}" for r in self.rejected)]


def parse(text: str) -> tuple[list[MappingRow], list[Rejected]]:
    """Split a mappings file into well-formed rows and rejected ones (header required)."""
    lines = text.splitlines()
    header = [cell.strip().lower() for cell in lines[0].split(",")] if lines else []
    if tuple(header) != COLUMNS:
        raise UsageError(f"the first line must be the header {','.join(COLUMNS)}")
    rows, rejected = [], []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        try:
            cells = next(csv.reader([line], strict=True))
        except csv.Error as exc:
            rejected.append(Rejected(number, f"malformed CSV ({exc})", line[:200]))
            continue
        problem = _problem(cells)
        if problem:
            rejected.append(Rejected(number, problem, line[:200]))
            continue
        company_id, object_type, app_id, qbd_id = (cell.strip() for cell in cells)
        rows.append(MappingRow(number, company_id, object_type, app_id, qbd_id))
    return rows, rejected


def _problem(cells: list[str]) -> str | None:
    if len(cells) != len(COLUMNS):
        return f"expected {len(COLUMNS)} fields, found {len(cells)}"
    for name, cell in zip(COLUMNS, cells, strict=True):
        if not cell.strip():
            return f"empty {name}"
    if cells[1].strip() not in _TYPES:
        return f"unknown object_type {cells[1].strip()!r} (one of {', '.join(sorted(_TYPES))})"
    return None


def validate(
    rows: Iterable[MappingRow], known: Known
) -> tuple[list[MappingRow], list[Rejected], int]:
    """Good rows, rejected rows and how many good rows could not be checked."""
    good: list[MappingRow] = []
    rejected: list[Rejected] = []
    by_app: dict[tuple[str, str, str], int] = {}
    by_qbd: dict[tuple[str, str, str], MappingRow] = {}
    unchecked = 0
    for row in rows:
        text = f"{row.company_id},{row.object_type},{row.app_id},{row.qbd_id}"
        app_key = (row.company_id, row.object_type, row.app_id)
        if app_key in by_app:
            rejected.append(Rejected(row.line, f"duplicate of line {by_app[app_key]}", text))
            continue
        by_app[app_key] = row.line
        lists = MAPPABLE_LISTS.get(row.object_type)
        if lists is None:
            unchecked += 1
            good.append(row)
            continue
        qbd_key = (row.company_id, row.object_type, row.qbd_id)
        first = by_qbd.get(qbd_key)
        if first is not None:
            reason = f"qbd_id already mapped to app_id {first.app_id!r} on line {first.line}"
            rejected.append(Rejected(row.line, reason, text))
            continue
        pulled = [known[key] for lst in lists if (key := (row.company_id, str(lst))) in known]
        if not any(row.qbd_id in ids for ids in pulled):
            if len(pulled) < len(lists):
                unchecked += 1
            else:
                names = " or ".join(str(lst) for lst in lists)
                reason = f"unknown qbd_id: not in the pulled QuickBooks {names} of {row.company_id}"
                rejected.append(Rejected(row.line, reason, text))
                continue
        by_qbd[qbd_key] = row
        good.append(row)
    return good, rejected, unchecked


async def _known(
    pool: asyncpg.Pool, company_ids: list[str]
) -> dict[tuple[str, str], dict[str, str | None]]:
    pulled = await pool.fetch(
        """SELECT company_id, list FROM reference_pulls
           WHERE company_id = ANY($1::text[]) AND last_full_at IS NOT NULL""",
        company_ids,
    )
    known: dict[tuple[str, str], dict[str, str | None]] = {
        (row["company_id"], row["list"]): {} for row in pulled
    }
    rows = await pool.fetch(
        """SELECT company_id, list, qbd_id, revision_number FROM qbd_objects
           WHERE company_id = ANY($1::text[]) AND deleted_at IS NULL""",
        company_ids,
    )
    for row in rows:
        ids = known.get((row["company_id"], row["list"]))
        if ids is not None:
            ids[row["qbd_id"]] = row["revision_number"]
    return known


async def import_mappings(
    pool: asyncpg.Pool, text: str, *, dry_run: bool = False, tracker: Tracker | None = None
) -> ImportReport:
    """Check every row of a mappings file and apply the good ones in one statement.

    ``tracker`` hears each checked row (``qbd-sync mappings import`` draws it on a terminal).
    """
    rows, rejected = parse(text)
    try:
        known = await _known(pool, sorted({row.company_id for row in rows}))
    except asyncpg.UndefinedTableError as exc:
        raise QbdSyncError("the database has no qbd-sync tables; run `qbd-sync migrate`") from exc
    good: list[MappingRow] = []
    invalid: list[Rejected] = []
    unchecked = 0
    if tracker is not None:
        tracker.total(len(rows))
    for start in range(0, len(rows), _CHECK_CHUNK):
        chunk = rows[start : start + _CHECK_CHUNK]
        chunk_good, chunk_invalid, chunk_unchecked = validate(chunk, known)
        good += chunk_good
        invalid += chunk_invalid
        unchecked += chunk_unchecked
        if tracker is not None:
            tracker.advance(len(chunk))
    report = ImportReport(
        rows=len(rows) + len(rejected),
        applied=len(good),
        unchecked=unchecked,
        dry_run=dry_run,
        rejected=sorted([*rejected, *invalid], key=lambda r: r.line),
    )
    if dry_run or not good:
        return report
    revisions = [_revision(known, row) for row in good]
    await pool.execute(
        """INSERT INTO mappings (company_id, object_type, app_id, qbd_id, revision_number, source)
           SELECT c, t, a, q, r, 'import'
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
                AS u(c, t, a, q, r)
           ON CONFLICT (company_id, object_type, app_id) DO UPDATE
              SET qbd_id = EXCLUDED.qbd_id, revision_number = EXCLUDED.revision_number,
                  source = EXCLUDED.source, updated_at = now()""",
        [row.company_id for row in good],
        [row.object_type for row in good],
        [row.app_id for row in good],
        [row.qbd_id for row in good],
        revisions,
    )
    return report


def _revision(known: Known, row: MappingRow) -> str | None:
    """The pulled revision of the row's QuickBooks object, if a pull has seen it."""
    for lst in MAPPABLE_LISTS.get(row.object_type, ()):
        revision = known.get((row.company_id, str(lst)), {}).get(row.qbd_id)
        if revision is not None:
            return revision
    return None


async def export_mappings(pool: asyncpg.Pool, out: TextIO, company_id: str | None = None) -> int:
    """Write every mapping (of one company) as CSV with a header; return the row count."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    mappings = await MappingStore(pool).all(company_id)
    writer.writerows((m.company_id, m.object_type, m.app_id, m.qbd_id) for m in mappings)
    return len(mappings)
