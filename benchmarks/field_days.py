"""Field-day benchmark: realistic generated days solved end to end, checked, and recorded.

``python -m benchmarks.field_days --sizes 60 250 --time-limit 20`` plans each generated day
(``benchmarks.dayset``, fixed seed) with the engine's defaults, checks the plan with the
independent checker, prints one row per size and appends the table to ``benchmarks/RESULTS.md``
with the command, date, commit and machine. Each size runs in a fresh process so its peak
memory is its own.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from benchmarks.dayset import generate_day
from benchmarks.results import record
from dispatch.planning import SolveParams, plan_day
from dispatch.serialize import plan_document
from dispatch.travel import pair_lookup, provider_for
from dispatch.validate import parse_problem
from dispatch.verify import check_plan

__all__ = ["main", "run_size"]

SEED = 2026


def run_size(visits: int, time_limit_s: float) -> dict[str, Any]:
    """Plan the generated day of ``visits`` visits and return its figures."""
    raw = generate_day(visits, SEED)
    problem = parse_problem(raw)
    started = time.perf_counter()
    plan = plan_day(problem, params=SolveParams(time_limit_s=time_limit_s))
    wall_s = time.perf_counter() - started
    document = plan_document(
        problem, plan, plan_id="pl_bench", version=1, created_at=datetime.now(UTC)
    ).model_dump(mode="json")
    report = check_plan(raw, document, pair_lookup(provider_for(problem)))
    kpis = document["kpis"]
    by_priority = kpis["assigned_by_priority"]
    return {
        "visits": visits,
        "technicians": len(problem.technicians),
        "assigned": kpis["assigned"],
        "by_priority": " ".join(
            f"{name[0].upper()}{c['assigned']}/{c['visits']}" for name, c in by_priority.items()
        ),
        "left_out_radius": sum(1 for u in document["unassigned"] if u["code"] == "radius"),
        "early_band": f"{kpis['appointments_in_band']}/{kpis['appointment_stops']}",
        "on_time": kpis["on_time_rate"],
        "km": kpis["distance_km"],
        "wall_s": round(wall_s, 1),
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "violations": len(report.violations),
    }


def _table(rows: Sequence[dict[str, Any]]) -> str:
    head = (
        "| visits | techs | assigned | by priority (U/H/N/L) | radius | early band | on time "
        "| km | wall s | peak MB | violations |\n"
        "|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|\n"
    )
    body = "".join(
        f"| {r['visits']} | {r['technicians']} | {r['assigned']} | {r['by_priority']} "
        f"| {r['left_out_radius']} | {r['early_band']} | {r['on_time']:.0%} | {r['km']} "
        f"| {r['wall_s']} | {r['peak_mb']} | {r['violations']} |\n"
        for r in rows
    )
    return head + body


def main(argv: Sequence[str] | None = None) -> int:
    """Run the sizes asked for, print the table and append it to RESULTS.md."""
    parser = argparse.ArgumentParser(description="Field-day benchmark")
    parser.add_argument("--sizes", type=int, nargs="+", default=[60, 250])
    parser.add_argument("--time-limit", type=float, default=20.0)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # child process: one size
    args = parser.parse_args(argv)
    if args.one:
        sys.stdout.write(json.dumps(run_size(args.one, args.time_limit)) + "\n")
        return 0
    rows = []
    for size in args.sizes:
        child = subprocess.run(
            [
                sys.executable,
                "-m",
                "benchmarks.field_days",
                "--one",
                str(size),
                "--time-limit",
                str(args.time_limit),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        rows.append(json.loads(child.stdout.splitlines()[-1]))
        sys.stdout.write(json.dumps(rows[-1]) + "\n")
    command = "python -m benchmarks.field_days " + " ".join(
        ["--sizes", *map(str, args.sizes), "--time-limit", f"{args.time_limit:g}"]
    )
    record(
        "Field days",
        command,
        f"Generated days of `benchmarks/dayset.py`, seed {SEED}; engine defaults "
        f"(guided local search), {args.time_limit:g} s per day.\n\n" + _table(rows),
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
