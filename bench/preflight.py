"""``python -m bench.preflight``: how many wrong documents still reach QuickBooks and fail there.

Runs a seeded stream of plausible accounting documents, about half of them wrong
(`bench.books_fuzz`), through a real processor on the embedded stack against the simulator,
whose company files close their books on the same date as qbd-sync is told. Then it counts,
per kind of mistake, where each document ended (rejected at intake, refused by pre-flight,
waiting for a mapping, synced, failed in QuickBooks), and reads the simulator's request log
for QuickBooks data errors (status 3xxx) on writes. The goal: under 1 % of the writes that
reach QuickBooks fail there.

    python -m bench.preflight [--companies 4] [--documents 250] [--seed 17] [--save]
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from conductor import Conductor

from bench.books_fuzz import CLOSING_DATE, Book, Doc, company_stream, expected_end
from processors.config import Settings
from processors.db import connect_pool
from processors.devstack import DevStack, run_coroutine
from processors.logs import configure_logging
from processors.testing import RunningService, TopicReader, async_wait_for, produce
from qbdsim import SimulatorServer

__all__ = ["FuzzReport", "main", "measure"]

RESULTS = Path(__file__).resolve().parent / "results" / "preflight.json"
ENDS = ("rejected", "preflight", "waiting", "synced", "quickbooks")
_DEMO_KINDS = (
    "accounts",
    "sales-tax-codes",
    "sales-tax-items",
    "sales-tax-group-items",
    "payment-methods",
)


@dataclass
class FuzzReport:
    """Where each fuzzed document ended, by mistake, and what QuickBooks refused."""

    events: int = 0
    seconds: float = 0.0
    ends: dict[str, Counter[str]] = field(default_factory=dict)
    unexpected: list[dict[str, Any]] = field(default_factory=list)
    writes: int = 0
    data_errors: Counter[str] = field(default_factory=Counter)

    @property
    def failed_in_quickbooks(self) -> int:
        """Writes QuickBooks refused with a data error (31xx)."""
        return sum(self.data_errors.values())

    @property
    def miss_rate(self) -> float:
        """Share of the writes that reached QuickBooks and failed there."""
        return self.failed_in_quickbooks / self.writes if self.writes else 0.0

    def lines(self) -> list[str]:
        """The report as a table, for people."""
        rows = [f"{'mistake':<15}" + "".join(f"{end:>11}" for end in ("docs", *ENDS))]
        for mistake, ends in sorted(self.ends.items()):
            cells = "".join(f"{ends[end]:>11}" for end in ENDS)
            rows.append(f"{mistake:<15}{sum(ends.values()):>11}{cells}")
        rows.append(
            f"{self.events} events in {self.seconds:.1f} s; {self.writes} writes reached "
            f"QuickBooks, {self.failed_in_quickbooks} failed there with a data error "
            f"({self.miss_rate:.2%}){'' if not self.data_errors else f': {dict(self.data_errors)}'}"
        )
        rows.append(
            f"documents that ended elsewhere than their mistake predicts: {len(self.unexpected)}"
        )
        return rows

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return {
            "events": self.events,
            "seconds": round(self.seconds, 1),
            "ends": {mistake: dict(ends) for mistake, ends in self.ends.items()},
            "writes_reaching_quickbooks": self.writes,
            "failed_in_quickbooks": self.failed_in_quickbooks,
            "data_errors": dict(self.data_errors),
            "miss_rate": round(self.miss_rate, 5),
            "unexpected": self.unexpected[:20],
        }


def connect_book(
    settings: Settings, simulator: SimulatorServer, company_id: str
) -> tuple[Book, str]:
    """A company whose end-user exists, is online and holds the demo file; and its end-user."""
    with Conductor(
        api_key=settings.secret("conductor_secret_key"), base_url=simulator.base_url, max_retries=0
    ) as client:
        end_user = client.end_users.create(
            company_name=company_id, email="fuzz@example.com", source_id=company_id
        ).id
    simulator.connect(end_user)
    simulator.seed(end_user, demo=True)
    simulator.set_closing_date(end_user, CLOSING_DATE.isoformat())
    qbd = {
        obj["name"]: obj["id"] for kind in _DEMO_KINDS for obj in simulator.objects(end_user, kind)
    }
    return Book(company_id, qbd), end_user


def _end(status: str | None, error: dict[str, Any] | None) -> str:
    if status is None:
        return "rejected"
    if status == "waiting_dependency":
        return "waiting"
    if status == "synced":
        return "synced"
    return "preflight" if (error or {}).get("type") == "PREFLIGHT_ERROR" else "quickbooks"


async def _settle(
    settings: Settings, docs: list[Doc], timeout: float
) -> dict[str, tuple[str | None, Any]]:
    """Wait until every document ended (or waits); return each one's ledger status and error."""
    ids = [doc.event["id"] for doc in docs]
    pool = await connect_pool(settings.secret("database_url"), min_size=1, max_size=2)
    rejected = TopicReader(settings, settings.rejected_topic)
    found: dict[str, tuple[str | None, Any]] = {}
    try:

        async def settled() -> bool:
            rows = await pool.fetch(
                """SELECT event_id, status, error FROM ledger WHERE event_id = ANY($1::text[])
                     AND status IN ('synced', 'failed', 'waiting_dependency')""",
                ids,
            )
            found.clear()
            found.update({row["event_id"]: (row["status"], row["error"]) for row in rows})
            for record in await rejected.poll():
                event_id = orjson.loads(record.value).get("id")
                found.setdefault(event_id, (None, None))
            return len(found) >= len(ids)

        await async_wait_for(settled, timeout=timeout, interval=0.25, what="the fuzzed stream")
    finally:
        await rejected.close()
        await pool.close()
    return found


async def measure(
    settings: Settings,
    simulator: SimulatorServer,
    *,
    companies: int = 4,
    documents: int = 250,
    seed: int = 17,
    mistake_rate: float = 0.5,
    timeout: float = 600.0,
) -> FuzzReport:
    """Run the fuzzed stream through a processor and report where every document ended."""
    tag = f"{seed}-{time.monotonic_ns() % 10**8:08d}"
    books = [connect_book(settings, simulator, f"fz{n}-{tag}") for n in range(companies)]
    docs = [
        doc
        for n, (book, _) in enumerate(books)
        for doc in company_stream(
            book, seed=seed * 1000 + n, documents=documents, mistake_rate=mistake_rate
        )
    ]
    report = FuzzReport(events=len(docs))
    started = time.monotonic()
    async with RunningService(settings):
        await produce(settings, [doc.event for doc in docs])
        found = await _settle(settings, docs, timeout)
    report.seconds = time.monotonic() - started
    for doc in docs:
        status, error = found[doc.event["id"]]
        end = _end(status, error)
        mistake = str(doc.mistake or "none")
        report.ends.setdefault(mistake, Counter())[end] += 1
        if end != expected_end(doc.mistake):
            report.unexpected.append(
                {"mistake": mistake, "end": end, "error": error, "event": doc.event}
            )
    end_users = {end_user for _, end_user in books}
    for entry in simulator.log():
        if entry["end_user_id"] in end_users and entry["method"] == "POST":
            report.writes += 1
            code = entry.get("integration_code") or ""
            if code.startswith("3"):
                report.data_errors[code] += 1
    return report


def main(argv: list[str] | None = None) -> None:
    """Measure on the embedded stack and print the table (``--save``: also as JSON)."""
    parser = argparse.ArgumentParser(prog="python -m bench.preflight", description=__doc__)
    parser.add_argument("--companies", type=int, default=4)
    parser.add_argument("--documents", type=int, default=250, help="per company, after setup")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--mistake-rate", type=float, default=0.5)
    parser.add_argument("--save", action="store_true", help=f"write {RESULTS.name} to results/")
    args = parser.parse_args(argv)
    configure_logging("warning")
    with DevStack(partitions=4, auto_connect=True) as stack:
        settings = stack.settings(http_port=0, catchup_interval="1h")
        report = run_coroutine(
            measure(
                settings,
                stack.simulator,
                companies=args.companies,
                documents=args.documents,
                seed=args.seed,
                mistake_rate=args.mistake_rate,
            )
        )
    for line in report.lines():
        print(line)
    if args.save:
        RESULTS.write_text(json.dumps({"seed": args.seed, **report.as_dict()}, indent=2) + "\n")


if __name__ == "__main__":
    main()
