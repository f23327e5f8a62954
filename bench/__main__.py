"""``python -m bench --quick|--full [--only SCENARIO ...] [--profile]``: run, print, save."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.runner import FULL, HEADER, QUICK, Bench
from bench.scenarios import SCENARIOS
from processors.progress import progress

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_before": os.getloadavg()[0],
    }


def _keep_profiles(tmp: Path) -> None:
    for found in tmp.glob("profile-*.txt"):
        target = RESULTS / found.name
        target.write_bytes(found.read_bytes())
        print(f"py-spy profile: {target}")


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """Run the chosen scenarios on one stack; return the JSON document."""
    scale = FULL if args.full else QUICK
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="qbd-bench-") as tmp:
        bench = Bench(scale, Path(tmp) / "stack")
        bench.profile_requested = args.profile
        await bench.start()
        print(f"qbd-sync bench ({scale.name}), stack up in {time.monotonic() - started:.1f} s")
        print(HEADER)
        # ``isolation`` alone repeats what ``efficiency`` measures: only on request.
        names = args.only or [name for name in SCENARIOS if name != "isolation"]
        try:
            with progress("scenarios", total=len(names)) as tracker:
                for name in names:
                    await SCENARIOS[name](bench)
                    tracker.advance()
        finally:
            await bench.stop()
            if args.profile:
                _keep_profiles(Path(tmp))
    wall = time.monotonic() - started
    return {
        **{key: round(value, 4) for key, value in bench.keys.items()},
        "machine": machine(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "scale": scale.name,
        "wall_seconds": round(wall, 1),
        "scenarios": [
            {
                "scenario": row.scenario,
                "workload": row.workload,
                "ratio_name": row.ratio_name,
                "ratio": round(row.ratio, 4),
                **row.raw,
            }
            for row in bench.rows
        ],
    }


def main() -> None:
    """Parse arguments, run, print the summary and write ``bench/results/<scale>.json``."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="CI-sized (default)")
    size.add_argument("--full", action="store_true", help="the README's numbers")
    parser.add_argument("--only", nargs="+", choices=sorted(SCENARIOS), help="run only these")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="py-spy the processor during the Parallel Consumer run",
    )
    args = parser.parse_args()
    document = asyncio.run(run(args))
    RESULTS.mkdir(exist_ok=True)
    name = "full" if args.full else "quick"
    if args.only:
        name += "-partial"
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")
    keys = {k: v for k, v in document.items() if isinstance(v, int | float)}
    print(f"wall time {document['wall_seconds']} s; {json.dumps(keys)}")
    print(f"wrote {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")


if __name__ == "__main__":
    main()
