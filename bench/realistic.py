"""Issue 16's realistic scenario: hundreds of companies at QuickBooks latency, default settings.

Each company gets 6 ``customer.upserted``, published interleaved across companies as a real
stream would be, while every company file answers in 2-4 s. A processor started fresh with
nothing but its connection settings (so every default, concurrency included, is what a user
gets) syncs them. Measured against the physical bound: QuickBooks' own (each company's 6
writes one after another, the run lasting as long as its slowest company) or, if lower, what
the CPU allows a bare consume -> call -> produce loop at the same concurrency.
"""

from __future__ import annotations

from bench.harness import Topics, companies_for
from bench.model import latency_bound, makespan_bound, physical_bound, ratio
from bench.runner import QUICKBOOKS, Bench, Row

__all__ = ["PER_COMPANY", "realistic"]

PER_COMPANY = 6


async def realistic(bench: Bench) -> None:
    """300 (and, in full, 1,000) companies x 6 events at 2-4 s with default settings."""
    efficiencies = []
    for count in bench.scale.realistic_companies:
        topics = Topics.new(1)
        await topics.create(bench.stack)
        companies = companies_for(topics.tag, count + 1)
        await bench.sim.set_state(companies, "online")
        chosen, starter = companies[:count], companies[count:]
        events = count * PER_COMPANY
        makespan = makespan_bound(QUICKBOOKS, count, PER_COMPANY)
        bound = physical_bound(events / makespan, await bench.cpu_bound(count))
        process = bench.qbd_sync(topics, name=f"qbd-sync-{count}")
        if bench.profile_requested:
            bench.profile = bench.workdir.parent / f"profile-realistic-{count}.txt"
        try:
            # Only a company that is not measured warms the consumer up: the measured ones
            # start cold, so their first contact (health checks) is part of the run.
            run = await bench.measure(
                process,
                topics,
                chosen,
                PER_COMPANY,
                QUICKBOOKS,
                warm=starter,
                expected_rate=bound,
            )
        finally:
            process.kill()
        efficiency = ratio(run.rate, bound)
        efficiencies.append(efficiency)
        bench.keys[f"realistic_{count}_of_bound"] = efficiency
        bench.keys[f"realistic_{count}_all_cpu_ms_per_event"] = run.all_cpu_per_event_ms
        bench.add(
            Row(
                "0 QuickBooks latency",
                f"{count:,} cos x {PER_COMPANY}, {QUICKBOOKS.label}, defaults, {events:,} ev",
                f"{run.rate:,.0f} ev/s, {run.all_cpu_per_event_ms:.2f} ms CPU/ev",
                f"bound {bound:,.0f} ev/s ({makespan:.1f} s)",
                "of bound",
                efficiency,
                {
                    "companies": count,
                    "latency": QUICKBOOKS.label,
                    "bound_rate": round(bound, 2),
                    "bound_seconds": round(makespan, 2),
                    "cpu_bound_rate": round(await bench.cpu_bound(count), 2),
                    "latency_bound_steady": round(latency_bound([QUICKBOOKS.mean_s] * count), 2),
                    **run.raw(),
                },
            )
        )
    bench.keys["realistic_of_bound"] = min(efficiencies)
