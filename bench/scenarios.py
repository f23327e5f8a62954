"""The scenarios of issue 8 (and issue 19's recovery); each adds rows and keys to the ``Bench``."""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import asdict

from bench.harness import (
    CREATE_PATH,
    Measured,
    Topics,
    companies_for,
    customer_events,
    produce,
    sample_rss,
    sync_requests,
    until,
)
from bench.model import (
    LatencyModel,
    latency_bound,
    makespan_bound,
    physical_bound,
    ratio,
    window_of,
)
from bench.realistic import realistic
from bench.recovery import GOAL_S, model_outage, stack_comeback
from bench.runner import FAST, MODELS, REPLAY, SLOW, Bench, Row, Run, creates_in

__all__ = ["SCENARIOS"]

_MB = 1024 * 1024


async def _start(bench: Bench, process: Measured, topics: Topics, warm: list[str]) -> None:
    """Wait until ``process`` consumes: one event per warm company reaches QuickBooks."""
    base = await bench.sim.writes(set(warm))
    await produce(bench.bootstrap, topics.input, customer_events(warm, 1, f"s{topics.tag}"))
    await bench.wait_writes(process, set(warm), base + len(warm), timeout=120)


async def efficiency_and_parallel_consumer(bench: Bench) -> None:
    """(1) throughput / physical bound and CPU per event from 10 to 2,000 companies in
    flight; (2) vs naive and the Parallel Consumer shape; (3) isolation; (4) CPU overhead."""
    scale = bench.scale
    slow_efficiencies: list[float] = []
    slow_cpu: list[float] = []
    over_bare: list[float] = []
    pc_run: Run | None = None
    slow_run: Run | None = None
    for partitions in sorted({runs[0] for runs in scale.runs}):
        runs = [(count, MODELS[model]) for p, count, model in scale.runs if p == partitions]
        topics = Topics.new(partitions)
        await topics.create(bench.stack)
        companies = companies_for(topics.tag, max(count for count, _ in runs) + 1)
        await bench.sim.set_state(companies, "online")
        process = bench.qbd_sync(topics)
        try:
            await _start(bench, process, topics, companies[:1])
            for count, model in runs:
                chosen = companies[:count]
                steady = latency_bound([model.mean_s] * count)
                pc_shape = partitions == 1 and count == 100 and model is FAST
                per = (
                    scale.pc_events // count
                    if pc_shape
                    else scale.events_per_company(steady, count)
                )
                if pc_shape and bench.profile_requested:
                    bench.profile = bench.workdir.parent / f"profile-{scale.name}.txt"
                bound = await _bound(bench, model, count, per)
                run = await bench.measure(
                    process,
                    topics,
                    chosen,
                    per,
                    model,
                    warm=chosen,
                    expected_rate=min(bound, scale.cpu_rate),
                )
                efficiency = ratio(run.rate, bound)
                versus_bare: dict[str, float] = {}
                if model is SLOW:
                    slow_efficiencies.append(efficiency)
                    slow_cpu.append(run.all_cpu_per_event_ms)
                    # What any consumer of this shape pays per event here: the bare loop at
                    # the same concurrency and latency.
                    bare = await bench.bare_run(count, model, run.events)
                    over_bare.append(ratio(run.all_cpu_per_event_ms, bare.all_cpu_per_event_ms))
                    versus_bare = {
                        "bare_all_cpu_ms_per_event": round(bare.all_cpu_per_event_ms, 3),
                        "all_cpu_over_bare": round(over_bare[-1], 3),
                    }
                if pc_shape:
                    pc_run = run
                if partitions == 1 and count == 100 and model is SLOW:
                    slow_run = run
                bench.add(
                    Row(
                        "1 efficiency vs bound",
                        f"{count} cos, {model.label}, {partitions} part, {run.events} ev",
                        f"{run.rate:,.0f} ev/s, {run.all_cpu_per_event_ms:.2f} ms CPU/ev",
                        f"bound {bound:,.0f} ev/s",
                        "of bound",
                        efficiency,
                        {
                            "companies": count,
                            "latency": model.label,
                            "partitions": partitions,
                            "bound_rate": round(bound, 2),
                            "latency_bound_steady": round(steady, 2),
                            **run.raw(),
                            **versus_bare,
                        },
                    )
                )
            if partitions == 1:
                await _isolation(bench, process, topics, companies)
        finally:
            process.kill()
    bench.keys["efficiency_vs_bound"] = min(slow_efficiencies)
    bench.keys["efficiency_vs_bound_median"] = statistics.median(slow_efficiencies)
    bench.keys["all_cpu_ms_per_event_max"] = max(slow_cpu)
    bench.keys["all_cpu_ms_per_event_spread"] = ratio(max(slow_cpu), min(slow_cpu))
    bench.keys["all_cpu_over_bare_max"] = max(over_bare)
    bench.keys["all_cpu_over_bare_spread"] = ratio(max(over_bare), min(over_bare))
    assert pc_run is not None
    assert slow_run is not None
    await _baselines(bench, slow_run, pc_run)


async def _bound(bench: Bench, model: LatencyModel, companies: int, per: int) -> float:
    """The physical bound of a run: min(its latency bound, the bare loop's CPU bound).

    The latency bound of a finite run is its events over the expected time of its slowest
    company (``makespan_bound``); the CPU bound is measured at the same concurrency.
    """
    latency_rate = companies * per / makespan_bound(model, companies, per)
    return physical_bound(latency_rate, await bench.cpu_bound(companies))


async def _baselines(bench: Bench, slow_run: Run, pc_run: Run) -> None:
    """(2) the naive consumer on both shapes and (4) the bare loop on the PC shape."""
    scale = bench.scale
    shapes = [
        ("2 vs naive consumer", SLOW, scale.naive_slow_events, slow_run, "speedup_vs_naive"),
        (
            "2 Parallel Consumer shape",
            FAST,
            scale.pc_baseline_events,
            pc_run,
            "pc_workload_speedup_vs_serial",
        ),
    ]
    for scenario, model, events, ours, key in shapes:
        naive = await _baseline_run(bench, "naive", model, events)
        speedup = ratio(ours.rate, naive.rate)
        bench.keys[key] = speedup
        bench.add(
            Row(
                scenario,
                f"100 cos, {model.label}, 1 part, {naive.events} ev (naive)",
                f"qbd-sync {ours.rate:,.1f} ev/s",
                f"naive {naive.rate:,.1f} ev/s",
                "x faster",
                speedup,
                {"qbd_sync": ours.raw(), "naive": naive.raw()},
            )
        )
    bare = await _baseline_run(bench, "bare", FAST, scale.pc_baseline_events)
    overhead = ratio(pc_run.cpu_per_event_ms, bare.cpu_per_event_ms)
    bench.keys["cpu_overhead_ratio"] = overhead
    bench.add(
        Row(
            "4 CPU overhead",
            f"100 cos, {FAST.label}, 1 part, {bare.events} ev (bare)",
            f"qbd-sync {pc_run.cpu_per_event_ms:.2f} ms/ev",
            f"bare {bare.cpu_per_event_ms:.2f} ms/ev",
            "x the CPU",
            overhead,
            {"qbd_sync": pc_run.raw(), "bare": bare.raw()},
        )
    )


async def _baseline_run(bench: Bench, module: str, model: LatencyModel, events: int) -> Run:
    topics = Topics.new(1)
    await topics.create(bench.stack)
    companies = companies_for(topics.tag, 100)
    await bench.sim.set_state(companies, "online")
    process = bench.baseline(module, topics, concurrency=1 if module == "naive" else 100)
    try:
        await _start(bench, process, topics, companies[:1])
        per, extra = divmod(events, len(companies))
        chosen = companies if per else companies[:extra]
        return await bench.measure(
            process, topics, chosen, max(per, 1), model, warm=[], expected_rate=1 / model.mean_s
        )
    finally:
        process.kill()


async def isolation(bench: Bench) -> None:
    """(3) alone, on its own processor (``--only isolation``; ``efficiency`` runs it too)."""
    topics = Topics.new(1)
    await topics.create(bench.stack)
    companies = companies_for(topics.tag, 101)
    await bench.sim.set_state(companies, "online")
    process = bench.qbd_sync(topics)
    try:
        await _start(bench, process, topics, companies[:1])
        await _isolation(bench, process, topics, companies)
    finally:
        process.kill()


async def _isolation(bench: Bench, process: Measured, topics: Topics, companies: list[str]) -> None:
    """(3) 100 healthy companies with and without one company at 10x their latency."""
    healthy, slow = companies[:100], companies[-1]
    steady = latency_bound([SLOW.mean_s] * 100)
    # Twice the usual length: a ratio of two short windows is mostly noise.
    per = 2 * bench.scale.events_per_company(steady, 100)
    alone = await bench.measure(
        process, topics, healthy, per, SLOW, warm=[slow], expected_rate=steady
    )
    stuck = LatencyModel(SLOW.low_ms * 10, SLOW.high_ms * 10)
    with_slow = await bench.measure(
        process,
        topics,
        healthy,
        per,
        SLOW,
        warm=[],
        expected_rate=steady,
        per_company_latency={slow: stuck},
        also=[slow],
    )
    # Each run against the bound its own drawn latencies set (its busiest company's writes
    # back to back): the two runs draw different latencies, and their raw rates differ by
    # up to 15 % from that alone.
    with_of_bound = ratio(with_slow.timing["busiest_s"], with_slow.window.seconds)
    alone_of_bound = ratio(alone.timing["busiest_s"], alone.window.seconds)
    isolation = ratio(with_of_bound, alone_of_bound)
    bench.keys["isolation_ratio"] = isolation
    bench.add(
        Row(
            "3 isolation",
            f"100 cos {SLOW.label} + 1 at {stuck.label}, 1 part, {per * 100} ev",
            f"with {with_slow.rate:,.0f} ev/s ({with_of_bound:.2f} of its bound)",
            f"without {alone.rate:,.0f} ev/s ({alone_of_bound:.2f})",
            "with/without",
            isolation,
            {
                "with": with_slow.raw(),
                "without": alone.raw(),
                "rate_ratio": round(ratio(with_slow.rate, alone.rate), 4),
            },
        )
    )


async def replay(bench: Bench) -> None:
    """(5) parked events replayed after a reconnect: one company at 0-5 ms (CPU per replayed
    event), and many companies at 0.5-1 s against their own bound (one write at a time)."""
    scale = bench.scale
    topics = Topics.new(1)
    await topics.create(bench.stack)
    many, per_many = scale.slow_replay
    everyone = companies_for(topics.tag, 2 + many)
    await bench.sim.set_state(everyone[:1], "online")
    await bench.sim.latency(FAST)
    process = bench.qbd_sync(topics)
    efficiencies = []
    slow_timing: dict[str, float] = {}
    try:
        await _start(bench, process, topics, everyone[:1])
        cases = ((everyone[1:2], scale.replay_one, FAST), (everyone[2:], per_many, REPLAY))
        for parked, per, model in cases:
            run, park_seconds = await _park_and_replay(bench, process, topics, parked, per, model)
            latency_rate = run.events / makespan_bound(model, len(parked), per)
            bound = physical_bound(latency_rate, await bench.cpu_bound(len(parked)))
            efficiency = ratio(run.rate, bound)
            efficiencies.append(efficiency)
            slow_timing = run.timing
            bench.add(
                Row(
                    "5 replay",
                    f"{run.events} parked ev, {len(parked)} cos, {model.label}",
                    f"{run.rate:,.0f} ev/s, {run.all_cpu_per_event_ms:.2f} ms CPU/ev",
                    f"bound {bound:,.0f} ev/s",
                    "of bound",
                    efficiency,
                    {
                        "companies": len(parked),
                        "latency": model.label,
                        "bound_rate": round(bound, 2),
                        "park_seconds": round(park_seconds, 2),
                        "parked_per_second": round(run.events / park_seconds, 1),
                        **run.raw(),
                    },
                )
            )
    finally:
        process.kill()
    bench.keys["replay_efficiency"] = efficiencies[-1]
    # Each company against its own bound (one request at a time): the worst and the median.
    bench.keys["replay_company_of_own_bound_min"] = slow_timing["busy_min"]
    bench.keys["replay_company_of_own_bound_median"] = slow_timing["busy_median"]
    bench.keys["replay_one_company_cpu_bound_ratio"] = efficiencies[0]


async def _park_and_replay(
    bench: Bench,
    process: Measured,
    topics: Topics,
    parked: list[str],
    per: int,
    model: LatencyModel,
) -> tuple[Run, float]:
    """Park ``per`` events of each offline company, reconnect them, time the replay."""
    await bench.sim.latency(FAST)
    await bench.sim.set_state(parked, "offline")
    total = len(parked) * per
    started = time.monotonic()
    tag = f"p{topics.tag[:4]}{len(parked)}"
    await produce(bench.bootstrap, topics.input, customer_events(parked, per, tag))

    async def all_parked() -> bool:
        process.check_alive()
        found: int = await bench.sql(
            "SELECT count(*) FROM dlq_index WHERE company_id = ANY($1)", parked
        )
        return found >= total

    await until(all_parked, timeout=60 + total / 20, what=f"{total} parked events")
    park_seconds = time.monotonic() - started
    await bench.sim.set_state(parked, "online")
    await bench.sim.latency(model)
    chosen = set(parked)
    base = await bench.sim.writes(chosen)
    since = len(await bench.sim.log())
    cpu_before, stack_before = process.cpu(), bench.stack_cpu()
    await produce(bench.bootstrap, topics.input, sync_requests(parked, tag))
    timeout = 60 + total / 20 + per * model.high_ms / 1000
    await bench.wait_writes(process, chosen, base + total, timeout=timeout)
    stack_after = bench.stack_cpu()
    cpu = process.cpu() - cpu_before
    stack = {name: stack_after[name] - stack_before.get(name, 0.0) for name in stack_after}
    entries = [e for e in (await bench.sim.log())[since:] if e["end_user_id"] in chosen]
    run = Run.from_log(total, window_of(creates_in(entries)), cpu, stack, entries)
    return run, park_seconds


async def memory(bench: Bench) -> None:
    """(6) peak RSS of the processor with a big backlog vs a small one."""
    scale = bench.scale
    peaks: dict[int, int] = {}
    for backlog in (scale.memory_small, scale.memory_big):
        topics = Topics.new(1)
        await topics.create(bench.stack)
        companies = companies_for(topics.tag, 100)
        await bench.sim.set_state(companies, "online")
        await bench.sim.latency(FAST)
        per = backlog // len(companies)
        for chunk in range(0, per, 100):
            events = customer_events(companies, min(100, per - chunk), f"b{topics.tag}{chunk}")
            await produce(bench.bootstrap, topics.input, events)
        process = bench.qbd_sync(topics)
        stop = asyncio.Event()
        sampler = asyncio.create_task(sample_rss([process], stop))
        try:
            await asyncio.sleep(scale.memory_seconds)
            process.check_alive()
        finally:
            stop.set()
            await sampler
            process.kill()
        peaks[backlog] = process.peak_rss
    small, big = peaks[scale.memory_small], peaks[scale.memory_big]
    bench.keys["memory_ratio"] = ratio(big, small)
    bench.add(
        Row(
            "6 memory",
            f"backlog {scale.memory_big:,} vs {scale.memory_small:,} ev, 100 cos",
            f"peak {big / _MB:,.0f} MB",
            f"peak {small / _MB:,.0f} MB",
            "big/small",
            ratio(big, small),
            {"peak_rss_small": small, "peak_rss_big": big, "sampled_seconds": scale.memory_seconds},
        )
    )


async def restart(bench: Bench) -> None:
    """(7) kill -9 at half the run, restart, count creates repeated for synced events."""
    scale = bench.scale
    topics = Topics.new(1)
    await topics.create(bench.stack)
    companies = companies_for(topics.tag, scale.restart_companies)
    await bench.sim.set_state(companies, "online")
    await bench.sim.latency(SLOW)
    chosen = set(companies)
    since = len(await bench.sim.log())
    records = customer_events(companies, scale.restart_per_company, f"r{topics.tag}")
    first = bench.qbd_sync(topics, name="qbd-sync-1")
    try:
        await produce(bench.bootstrap, topics.input, records)
        await bench.wait_writes(first, chosen, len(records) // 2, timeout=120)
    finally:
        first.kill()
    killed_at = await bench.sim.writes(chosen)
    second = bench.qbd_sync(topics, name="qbd-sync-2")
    try:

        async def all_synced() -> bool:
            second.check_alive()
            synced: int = await bench.sql(
                "SELECT count(*) FROM ledger WHERE company_id = ANY($1) AND status = 'synced'",
                companies,
            )
            return synced >= len(records)

        await until(all_synced, timeout=180, what="every event synced after the restart")
    finally:
        second.kill()
    log = (await bench.sim.log())[since:]
    creates = [
        e
        for e in log
        if e["method"] == "POST" and e["path"] == CREATE_PATH and e["end_user_id"] in chosen
    ]
    lookups = [
        e
        for e in log
        if e["method"] == "GET" and e["path"] == CREATE_PATH and e["end_user_id"] in chosen
    ]
    repeated = len(creates) - len(records)
    bench.keys["repeated_calls_after_crash"] = repeated
    bench.add(
        Row(
            "7 restart after kill -9",
            f"{len(records)} ev, {len(companies)} cos, {SLOW.label}",
            f"{len(creates)} creates, {len(lookups)} lookups",
            f"{len(records)} events, killed at {killed_at}",
            "repeated",
            repeated,
            {
                "events": len(records),
                "creates": len(creates),
                "lookups": len(lookups),
                "writes_at_kill": killed_at,
                "window": window_of(creates).seconds,
            },
        )
    )


async def recovery(bench: Bench) -> None:
    """(8) issue 19: 1,000 companies parked for an hour, then 100 come back.

    The simulated hour runs in every scale (a second of CPU); the real come-back (a few
    minutes on the stack) only in ``--full``. See ``bench.recovery``.
    """
    model = model_outage()
    bench.add(
        Row(
            "8 recovery, simulated",
            f"{model.companies:,} parked 1 h, 100 back",
            f"wait <= {model.comeback_max_s:.0f} s, {model.max_rate_10s:.1f} probes/s",
            f"goal {GOAL_S:.0f} s, {model.bound_per_s:g}/s",
            "of goal",
            ratio(model.comeback_max_s, GOAL_S),
            asdict(model),
        )
    )
    bench.keys["recovery_probes_per_company_first_hour"] = model.probes_per_company_by_hour[0]
    if bench.scale.name != "full":
        return
    stack = await stack_comeback(bench)
    bench.add(
        Row(
            "8 recovery, real stack",
            f"{stack.companies:,} parked 1 h, {stack.came_back} back",
            f"synced <= {stack.synced_max_s:.0f} s, {stack.max_rate_10s:.1f} probes/s",
            f"goal {GOAL_S:.0f} s, {stack.bound_per_s:g}/s",
            "of goal",
            ratio(stack.synced_max_s, GOAL_S),
            asdict(stack),
        )
    )
    bench.keys["recovery_comeback_of_goal"] = ratio(stack.synced_max_s, GOAL_S)


SCENARIOS = {
    "realistic": realistic,
    "efficiency": efficiency_and_parallel_consumer,
    "isolation": isolation,
    "replay": replay,
    "memory": memory,
    "restart": restart,
    "recovery": recovery,
}
