"""`qbd-sync mappings import/export` against PostgreSQL and a local copy of QuickBooks lists."""

from __future__ import annotations

import io
import time

import asyncpg
import pytest
from typer.testing import CliRunner

from processors.cli import app
from processors.mapping_io import export_mappings, import_mappings
from processors.testing import RecordingTracker, TestStack, unique_name

ROWS, BAD = 10_000, 100


async def _pulled_company(db: asyncpg.Pool, customers: int) -> tuple[str, list[str]]:
    """A company whose customers list has had a full pull (its local copy, written directly)."""
    company = unique_name("acct")
    ids = [f"8{n:07X}-1700000000" for n in range(customers)]
    await db.execute(
        """INSERT INTO qbd_objects (company_id, list, qbd_id, object_type, resource, name,
                                    match_key, revision_number, raw)
           SELECT $1, 'customers', id, 'qbd_customer', 'customers', 'C ' || id, 'c ' || id,
                  '17', '{}'::jsonb FROM unnest($2::text[]) AS id""",
        company, ids,
    )  # fmt: skip
    await db.execute(
        """INSERT INTO reference_pulls (company_id, list, high_water_mark, last_full_at,
                                        pass_id, pass_state, pass_full, pass_started_at, run_id)
           VALUES ($1, 'customers', now(), now(), 'p', 'complete', true, now(), 'r')""",
        company,
    )
    return company, ids


def _file(company: str, ids: list[str]) -> tuple[str, dict[int, str]]:
    """10,000 rows, 1% bad; returns the text and the reason words expected per bad line."""
    lines = ["company_id,object_type,app_id,qbd_id"]
    bad: dict[int, str] = {}
    for n in range(ROWS):
        line_number = n + 2
        row = f"{company},customer,cust_{n},{ids[n]}"
        if n % 100 == 37:
            kind = (n // 100) % 5
            row, bad[line_number] = [
                (f"{company},customer,cust_{n},NOPE-{n}", "unknown qbd_id"),
                (f"{company},custmer,cust_{n},{ids[n]}", "unknown object_type"),
                (f"{company},customer,cust_{n - 1},{ids[n]}", "duplicate of line"),
                (f'{company},customer,"cust_{n},{ids[n]}', "malformed CSV"),
                (f"{company},customer,,{ids[n]}", "empty app_id"),
            ][kind]
        lines.append(row)
    return "\n".join(lines) + "\n", bad


async def test_import_applies_good_rows_and_lists_bad_ones_with_reasons(
    stack: TestStack, db: asyncpg.Pool, tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """10,000 rows with 1% bad: 9,900 applied, the 100 bad ones listed by line and reason."""
    company, ids = await _pulled_company(db, ROWS)
    text, bad = _file(company, ids)
    path = tmp_path / "mappings.csv"  # type: ignore[operator]
    path.write_text(text)
    monkeypatch.setenv("QBD_SYNC_DATABASE_URL", stack.database_url)
    started = time.perf_counter()

    result = CliRunner().invoke(app, ["mappings", "import", str(path)])

    elapsed = time.perf_counter() - started
    applied = await db.fetchval("SELECT count(*) FROM mappings WHERE company_id = $1", company)
    assert result.exit_code == 1, result.output
    assert applied == ROWS - BAD
    assert f"{ROWS} rows: applied {ROWS - BAD}, rejected {BAD}" in result.stdout
    listed = [line for line in result.stdout.splitlines() if line.startswith("line ")]
    assert len(listed) == BAD
    for line in listed:
        number = int(line.split(":")[0].removeprefix("line "))
        assert bad[number] in line, line
    assert "100 of 10000 rows rejected" in result.stderr
    assert elapsed < 10, f"import took {elapsed:.1f} s"


async def test_dry_run_reports_without_applying(db: asyncpg.Pool) -> None:
    """--dry-run checks every row and reports, but writes no mapping."""
    company, ids = await _pulled_company(db, 3)
    text = f"company_id,object_type,app_id,qbd_id\n{company},customer,a,{ids[0]}\n"
    text += f"{company},customer,b,missing\n{company},payment_method,pm,PM-1\n"

    report = await import_mappings(db, text, dry_run=True)

    assert (report.rows, report.applied, report.unchecked) == (3, 2, 1)
    assert [r.line for r in report.rejected] == [3]
    assert report.lines()[0].startswith("3 rows: would apply 2, rejected 1")
    assert await db.fetchval("SELECT count(*) FROM mappings WHERE company_id = $1", company) == 0


async def test_rows_for_unpulled_lists_are_applied_unchecked(db: asyncpg.Pool) -> None:
    """A list never pulled cannot be checked: its rows are applied and counted unchecked."""
    company = unique_name("acct")
    text = f"company_id,object_type,app_id,qbd_id\n{company},vendor,v1,80000001-1\n"

    report = await import_mappings(db, text)

    assert (report.applied, report.unchecked, report.rejected) == (1, 1, [])
    row = await db.fetchrow("SELECT * FROM mappings WHERE company_id = $1", company)
    assert (row["qbd_id"], row["source"]) == ("80000001-1", "import")


async def test_export_writes_what_import_applied(db: asyncpg.Pool) -> None:
    """Export is a header plus one line per mapping, in import's own format."""
    company, ids = await _pulled_company(db, 2)
    lines = ["company_id,object_type,app_id,qbd_id", f"{company},customer,b,{ids[1]}",
             f"{company},customer,a,{ids[0]}"]  # fmt: skip
    await import_mappings(db, "\n".join(lines))
    out = io.StringIO()

    count = await export_mappings(db, out, company)

    assert count == 2
    assert out.getvalue().splitlines() == [lines[0], lines[2], lines[1]]


async def test_a_file_without_the_header_is_refused(db: asyncpg.Pool) -> None:
    """The header line is required, so a shifted or foreign file is never half-applied."""
    from processors.errors import UsageError

    with pytest.raises(UsageError, match="header"):
        await import_mappings(db, "acct,customer,a,b\n")


async def test_import_reports_every_checked_row_to_its_progress(db: asyncpg.Pool) -> None:
    """The progress line of `mappings import` counts the rows really checked, of the total."""
    company, ids = await _pulled_company(db, 2500)
    lines = ["company_id,object_type,app_id,qbd_id"]
    lines += [f"{company},customer,c{n},{qbd_id}" for n, qbd_id in enumerate(ids)]
    tracker = RecordingTracker()

    report = await import_mappings(db, "\n".join(lines) + "\n", tracker=tracker)

    assert report.applied == 2500
    assert tracker.totals == [2500]
    assert tracker.done == 2500
