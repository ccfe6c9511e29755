"""Long horizons against their budget: does a solve of 7 to 28 days end near its time limit?

``python -m benchmarks.long_horizon --days 7 14 28 --time-limit 2`` generates, per horizon
length, ten technicians (08:00-16:00, a lunch between 11:00 and 13:00) and 150 visits around
central Helsinki, half of them customers in at set hours on any day (a daily ``window``, no
date: each night of the horizon a hole in its time), and plans the horizon once
(``dispatch.desk.week.solve_week``, geodesic travel). Reported per length: the wall time
beside the limit, visits served and the checker's violations over the day plans. A hunt's
28-day horizon took 180 s at a 2 s limit, building the model (OR-Tools removes a hole from a
variable value by value).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from random import Random
from typing import Any

from benchmarks.results import record
from dispatch.contract.horizon import parse_horizon
from dispatch.desk.week import solve_week
from dispatch.planning import SolveParams

VISITS = 150
TECHNICIANS = 10


def horizon_problem(days: int, seed: int) -> dict[str, Any]:
    """The generated horizon of ``days`` days (see the module docstring)."""
    rng = Random(seed)
    technicians = [
        {"id": f"T{i}", "start": {"lat": 60.17, "lon": 24.94},
         "shift": {"start": "08:00", "end": "16:00"},
         "breaks": [{"start": "11:00", "end": "13:00", "duration_min": 30}]}
        for i in range(TECHNICIANS)
    ]  # fmt: skip
    visits: list[dict[str, Any]] = [
        {"id": f"V{j}",
         "location": {"lat": 60.17 + rng.uniform(-0.1, 0.1), "lon": 24.94 + rng.uniform(-0.1, 0.1)},
         "duration_min": rng.choice([30, 45, 60])}
        for j in range(VISITS)
    ]  # fmt: skip
    for visit in visits[::2]:
        start = rng.choice([9, 10, 12, 13])
        visit["window"] = {"start": f"{start:02d}:00", "end": f"{start + 2:02d}:00"}
    return {
        "horizon": {"start": "2027-03-01", "days": days},
        "timezone": "Europe/Helsinki",
        "technicians": technicians,
        "visits": visits,
    }


def run(days: int, time_limit_s: float, seed: int) -> dict[str, Any]:
    """One horizon of ``days`` planned at ``time_limit_s``: its wall time and outcome."""
    raw = horizon_problem(days, seed)
    horizon = parse_horizon(raw)
    started = time.monotonic()
    solved = solve_week(
        raw,
        horizon,
        params=SolveParams(time_limit_s=time_limit_s, seed=seed),
        save=lambda document, stored: None,
    )
    wall = time.monotonic() - started
    return {
        "days": days,
        "wall": wall,
        "served": solved.document["kpis"]["assigned"],
        "violations": solved.violations,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, nargs="+", default=[7, 14, 28])
    parser.add_argument("--time-limit", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-record", action="store_true", help="print only")
    args = parser.parse_args(argv)
    rows = [run(days, args.time_limit, args.seed) for days in args.days]
    body = (
        f"{TECHNICIANS} technicians, {VISITS} visits (half at set hours on any day), seed "
        f"{args.seed}; time limit {args.time_limit:g} s.\n\n"
        "| days | wall s | served | violations |\n|---|---|---|---|\n"
        + "".join(
            f"| {r['days']} | {r['wall']:.1f} | {r['served']}/{VISITS} | {r['violations']} |\n"
            for r in rows
        )
    )
    command = "python -m benchmarks.long_horizon " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    if args.no_record:
        sys.stdout.write(body)
    else:
        record("Long horizons against their budget", command, body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
