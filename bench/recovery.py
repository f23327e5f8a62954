"""``python -m bench.recovery [--model-only]``: 1,000 parked companies, an hour, 100 come back.

Issue 19's benchmark, in two parts; both print their rows and go to
``bench/results/recovery.json``.

1. **The hour, on a simulated clock** (a second of CPU). Each company's probes follow the
   production ``ProbeSchedule`` and take a slot of the production ``ProbeBudget`` (given the
   simulated clock); the loop around them is ``CatchUp.probe_due`` as it runs in production:
   every tick (1 s, then the pass itself) takes the due companies oldest first, at most
   ``rate x tick + 1``, each waiting for its budget slot. 1,000 companies park within 10 s;
   at 60 minutes 100 come back; the rest stay parked for 12 hours, to count probes per
   company per hour as the outage ages. The same with 10,000 companies shows the bound
   holding when the schedule asks for more than it allows.
2. **The come-back, on the real stack** (a few minutes): ``qbd-sync run`` with default
   settings, the broker, PostgreSQL and the simulator. 1,000 companies are parked with one
   event each; their outage is made an hour old by moving ``parked_since`` back in
   PostgreSQL (the only thing the schedule reads: time is compressed, nothing else). Two
   minutes later, at the hour, 100 come back; the simulator's request log gives the probe
   rate and when each of the 100 synced its parked event.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import heapq
import json
import math
import random
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bench.harness import Topics, companies_for, customer_events, produce, until
from bench.runner import QUICK, Bench
from processors.config import Settings
from processors.pipeline.probes import ProbeBudget, ProbeSchedule

__all__ = ["ModelResult", "StackResult", "model_outage", "stack_comeback"]

GOAL_S = 120.0  # parked work syncs within two minutes of QuickBooks coming back
_HEALTH_PATH = "/v1/quickbooks-desktop/health-check"
_RESULTS = Path(__file__).resolve().parent / "results" / "recovery.json"


@dataclass(frozen=True)
class ModelResult:
    """The simulated outage: rates, probes per company per hour, come-back waits."""

    companies: int
    bound_per_s: float
    max_in_any_second: int
    max_rate_10s: float
    mean_rate_first_hour: float
    probes_per_company_by_hour: list[float]
    comeback_max_s: float
    comeback_median_s: float


@dataclass(frozen=True)
class StackResult:
    """The real come-back: probe rate before it, and how long the 100 took to sync."""

    companies: int
    came_back: int
    bound_per_s: float
    probes: int
    window_s: float
    mean_rate: float
    max_in_any_second: int
    max_rate_10s: float
    probes_per_company_per_hour: float
    synced_max_s: float
    synced_median_s: float
    first_probe_max_s: float
    """The longest wait from the come-back to a returning company's first probe after it."""
    other_probes: int
    """Health checks of companies not in this run (left parked by earlier scenarios)."""
    probe_to_write_max_s: float
    """The longest wait from that probe to the company's parked write."""


def model_outage(
    companies: int = 1_000,
    back: int = 100,
    *,
    back_at_s: float = 3_600.0,
    hours: int = 12,
    seed: int = 19,
) -> ModelResult:
    """Simulate ``hours`` of outage for ``companies``; ``back`` of them return at ``back_at_s``."""
    settings = Settings(_env_file=None)
    schedule = ProbeSchedule.from_settings(settings)
    now = [0.0]
    budget = ProbeBudget(settings.max_probes_per_second, clock=lambda: now[0])
    rng = random.Random(seed)
    parked_at = [rng.uniform(0.0, 10.0) for _ in range(companies)]
    # Parking schedules the first probe (CompanyConnection._set): the young interval.
    due = [(at + _delay(schedule, 0.0, rng), company) for company, at in enumerate(parked_at)]
    heapq.heapify(due)
    returning = set(rng.sample(range(companies), back))
    tick = min(1.0, max(0.1, settings.catchup_interval.total_seconds() / 4))
    room = math.ceil(budget.per_second * tick) + 1
    probes: list[float] = []
    by_hour = [0] * hours
    waits: list[float] = []
    end = hours * 3_600.0
    while due and now[0] < end:
        started = now[0]
        for _ in range(room):
            if not due or due[0][0] > now[0]:
                break
            _, company = heapq.heappop(due)
            if not budget.take():  # CatchUp._turn: wait for the next slot
                now[0] += budget.wait_seconds()
                budget.take()
            probes.append(now[0])
            age = now[0] - parked_at[company]
            if int(age // 3_600) < hours:
                by_hour[int(age // 3_600)] += 1
            if company in returning and now[0] >= back_at_s:
                waits.append(now[0] - back_at_s)  # healthy: its replay starts now
                continue
            heapq.heappush(due, (now[0] + _delay(schedule, age, rng), company))
        now[0] += max(0.0, tick - (now[0] - started))  # run_forever sleeps the rest of a tick
    first_hour = [t for t in probes if t < 3_600.0]
    parked_by_hour = [companies - (back if h >= 1 else 0) for h in range(hours)]
    return ModelResult(
        companies=companies,
        bound_per_s=budget.per_second,
        max_in_any_second=_max_in_window(probes, 1.0),
        max_rate_10s=_max_in_window(probes, 10.0) / 10,
        mean_rate_first_hour=round(len(first_hour) / 3_600.0, 2),
        probes_per_company_by_hour=[
            round(n / parked, 1) for n, parked in zip(by_hour, parked_by_hour, strict=True)
        ],
        comeback_max_s=round(max(waits, default=math.inf), 1),
        comeback_median_s=round(statistics.median(waits), 1) if waits else math.inf,
    )


def _delay(schedule: ProbeSchedule, age_s: float, rng: random.Random) -> float:
    return schedule.delay(timedelta(seconds=age_s), draw=rng.random()).total_seconds()


def _max_in_window(times: list[float], window: float) -> int:
    """The most events in any half-open window of ``window`` seconds (``times`` sorted)."""
    ordered = sorted(times)
    return max(
        (bisect.bisect_left(ordered, t + window) - i for i, t in enumerate(ordered)), default=0
    )


async def stack_comeback(
    bench: Bench, companies: int = 1_000, back: int = 100, *, lead_s: float = 120.0
) -> StackResult:
    """Park ``companies`` on the real stack, age their outage to an hour, bring ``back`` back."""
    topics = Topics.new(4)
    await topics.create(bench.stack)
    everyone = companies_for(topics.tag, companies)
    await bench.sim.set_state(everyone, "offline")
    process = bench.qbd_sync(topics, "qbd-sync-recovery")
    try:
        await produce(bench.bootstrap, topics.input, customer_events(everyone, 1, "r"))

        async def all_parked() -> bool:
            process.check_alive()
            found: int = await bench.sql(
                "SELECT count(*) FROM dlq_index WHERE company_id = ANY($1)", everyone
            )
            return found >= companies

        await until(all_parked, timeout=300, what=f"{companies} parked companies")
        since = len(await bench.sim.log())
        # Compress time: the outage is an hour old when the 100 come back, lead_s from now.
        await bench.sql(
            """UPDATE companies SET parked_since = now() - make_interval(secs => $2)
               WHERE company_id = ANY($1)""",
            everyone,
            3_600.0 - lead_s,
        )
        await asyncio.sleep(lead_s)  # the outage goes on: probes run at their own pace
        returning = random.Random(19).sample(everyone, back)
        await bench.sim.set_state(returning, "online")
        came_back = time.time()

        async def synced() -> bool:
            process.check_alive()
            return await bench.sim.writes(set(returning)) >= back

        await until(synced, timeout=GOAL_S * 3, what=f"{back} companies replayed")
        log = (await bench.sim.log())[since:]
    finally:
        process.kill()
    # Only this run's companies: a stack that ran other scenarios may hold parked companies
    # of theirs, which this processor probes too (they share its database).
    ours = set(everyone)
    checks = [
        _at(e["started_at"]) for e in log if e["path"] == _HEALTH_PATH and e["end_user_id"] in ours
    ]
    others = sum(1 for e in log if e["path"] == _HEALTH_PATH and e["end_user_id"] not in ours)
    window = max(checks) - min(checks) if checks else 0.0
    wrote: dict[str, float] = {}
    for entry in log:
        if entry["method"] == "POST" and entry["status"] == 200:
            wrote.setdefault(entry["end_user_id"], _at(entry["finished_at"]) - came_back)
    took = [wrote[company] for company in returning if company in wrote]
    probed: dict[str, float] = {}
    for entry in log:
        at = _at(entry["started_at"]) - came_back
        if entry["path"] == _HEALTH_PATH and at >= 0:
            probed.setdefault(entry["end_user_id"], at)
    first = [probed[company] for company in returning if company in probed]
    after = [wrote[c] - probed[c] for c in returning if c in wrote and c in probed]
    return StackResult(
        companies=companies,
        came_back=back,
        bound_per_s=Settings(_env_file=None).max_probes_per_second,
        probes=len(checks),
        window_s=round(window, 1),
        mean_rate=round(len(checks) / window, 2) if window else 0.0,
        max_in_any_second=_max_in_window(checks, 1.0),
        max_rate_10s=_max_in_window(checks, 10.0) / 10,
        probes_per_company_per_hour=round(len(checks) / companies / (window / 3_600), 1)
        if window
        else 0.0,
        synced_max_s=round(max(took), 1),
        synced_median_s=round(statistics.median(took), 1),
        first_probe_max_s=round(max(first, default=math.inf), 1),
        other_probes=others,
        probe_to_write_max_s=round(max(after, default=math.inf), 1),
    )


def _at(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def _print_model(result: ModelResult) -> None:
    hours = ", ".join(f"{n:g}" for n in result.probes_per_company_by_hour)
    print(
        f"model  {result.companies:>6,} parked: busiest 10 s {result.max_rate_10s:.1f}/s, "
        f"busiest second {result.max_in_any_second} (bound {result.bound_per_s:g}/s), "
        f"{result.mean_rate_first_hour:.1f}/s in the first hour; come-back wait max "
        f"{result.comeback_max_s:.0f} s, median {result.comeback_median_s:.0f} s "
        f"(goal {GOAL_S:.0f} s)"
    )
    print(f"       probes per company in outage hours 1..{len(result.probes_per_company_by_hour)}:")
    print(f"       {hours}")


def _print_stack(result: StackResult) -> None:
    print(
        f"stack  {result.companies:,} parked, an hour old: {result.probes} probes in "
        f"{result.window_s:.0f} s = {result.mean_rate:.1f}/s, busiest 10 s "
        f"{result.max_rate_10s:.1f}/s, busiest second {result.max_in_any_second} "
        f"(bound {result.bound_per_s:g}/s), {result.probes_per_company_per_hour} "
        f"per company per hour; {result.came_back} came back and synced in at most "
        f"{result.synced_max_s:.0f} s, median {result.synced_median_s:.0f} s "
        f"(goal {GOAL_S:.0f} s); first probe after the come-back within "
        f"{result.first_probe_max_s:.0f} s, write within {result.probe_to_write_max_s:.0f} s "
        "of it"
    )


async def run(model_only: bool) -> dict[str, Any]:
    """Run the parts; return the JSON document."""
    document: dict[str, Any] = {}
    started = time.process_time()
    models = [model_outage(), model_outage(10_000, 1_000, hours=3)]
    for result in models:
        _print_model(result)
    document["model"] = [asdict(result) for result in models]
    document["model_cpu_s"] = round(time.process_time() - started, 1)
    if not model_only:
        with tempfile.TemporaryDirectory(prefix="qbd-bench-recovery-") as tmp:
            bench = Bench(QUICK, Path(tmp) / "stack")
            await bench.start()
            try:
                stack = await stack_comeback(bench)
            finally:
                await bench.stop()
        _print_stack(stack)
        document["stack"] = asdict(stack)
    return document


def main() -> None:
    """Parse arguments, run, print and write ``bench/results/recovery.json``."""
    parser = argparse.ArgumentParser(prog="python -m bench.recovery", description=__doc__)
    parser.add_argument(
        "--model-only", action="store_true", help="only the simulated hour (a second of CPU)"
    )
    args = parser.parse_args()
    document = asyncio.run(run(args.model_only))
    if not args.model_only:
        _RESULTS.write_text(json.dumps(document, indent=2, default=str) + "\n")
        print(f"wrote {_RESULTS.name}")


if __name__ == "__main__":
    main()
