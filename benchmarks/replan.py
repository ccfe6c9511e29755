"""Re-planning benchmark: how fast a batch of events is answered, and how little it moves.

``python -m benchmarks.replan --visits 250 --repeats 7`` plans the generated day
(``benchmarks.dayset``, seed 2026) once, then answers the same batch at 10:40 — one
35-minute delay of the technician with the most work left, plus one urgent breakdown in
Chang'an — ``repeats`` times, each on a fresh SQLite store, timing ``replan_stored`` whole
(load, check, solve, store). It reports the median and worst answer time, the share of
*unaffected* visits (planned, not yet started, not the delayed technician's) that changed
technician, the customers to call and the checker's violations, and appends them to
``benchmarks/RESULTS.md``. Targets (issue 4): median <= 2 s, < 10 % of unaffected visits moved.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.dayset import generate_day
from benchmarks.field_days import SEED
from benchmarks.results import record
from dispatch.contract.record import plan_record
from dispatch.contract.serialize import plan_document
from dispatch.contract.validate import parse_problem
from dispatch.desk.replan import replan_stored
from dispatch.persistence import Store
from dispatch.planning import SolveParams, plan_day
from dispatch.travel import pair_lookup, provider_for
from dispatch.verify import check_plan

__all__ = ["main"]

AT = "10:40"


def _batch(plan: dict[str, Any]) -> tuple[dict[str, Any], str]:
    at = f"{plan['date']}T{AT}:00"

    def left(route: dict[str, Any]) -> int:
        return sum(1 for s in route["stops"] if s["arrival"][:16] > at[:16])

    busiest = max(plan["routes"], key=lambda r: (left(r), r["technician_id"]))
    urgent = {
        "id": "V9001",
        "customer": "Chen Jie",
        "phone": "+86 138 0000 9001",
        "address": "88 Zhen'an Middle Rd, Chang'an",
        "location": {"lat": 22.8102, "lon": 113.8123},
        "kind": "repair",
        "duration_min": 45,
        "priority": "urgent",
        "required_skills": ["air_conditioner"],
        "notes": "Breakdown: AC leaking onto the shop floor",
    }
    events = {
        "at": AT,
        "events": [
            {"type": "delay", "technician_id": busiest["technician_id"], "minutes": 35,
             "reason": "traffic on the G107"},
            {"type": "new_visit", "visit": urgent},
        ],
    }  # fmt: skip
    return events, busiest["technician_id"]


def run(visits: int, repeats: int, plan_time_limit: float) -> dict[str, Any]:
    """Plan the day once and answer the batch ``repeats`` times; return the figures."""
    raw = generate_day(visits, SEED)
    problem = parse_problem(raw)
    plan = plan_day(problem, params=SolveParams(time_limit_s=plan_time_limit))
    first = plan_document(
        problem, plan, plan_id="pl_bench", version=1, created_at=datetime.now(UTC)
    ).model_dump(mode="json")
    events, delayed = _batch(first)
    at = datetime.fromisoformat(f"{first['date']}T{AT}:00").replace(
        tzinfo=datetime.fromisoformat(first["routes"][0]["start_time"]).tzinfo
    )
    owner = {s["visit_id"]: r["technician_id"] for r in first["routes"] for s in r["stops"]}
    unaffected = {
        s["visit_id"]
        for r in first["routes"]
        for s in r["stops"]
        if r["technician_id"] != delayed and datetime.fromisoformat(s["arrival"]) > at
    }
    times: list[float] = []
    moved_shares: list[float] = []
    calls: list[int] = []
    changes: list[int] = []
    violations: list[int] = []
    with tempfile.TemporaryDirectory() as folder:
        for k in range(repeats):
            store = Store(f"sqlite:///{Path(folder) / f'run{k}.db'}")
            store.save_problem_and_plan(raw, first, problem_id="pb_bench", record=plan_record(plan))
            started = time.perf_counter()
            answer = replan_stored(store, "pl_bench", events).model_dump(mode="json")
            times.append(time.perf_counter() - started)
            now = {s["visit_id"]: r["technician_id"] for r in answer["routes"] for s in r["stops"]}
            moved = sum(1 for v in unaffected if now.get(v) != owner[v])
            moved_shares.append(moved / len(unaffected))
            calls.append(sum(1 for c in answer["changes"] if c["notify"]))
            changes.append(len(answer["changes"]))
            day = store.load_problem_of_plan("pl_bench", 2)
            report = check_plan(day, answer, pair_lookup(provider_for(parse_problem(day))))
            violations.append(len(report.violations))
            store.engine.dispose()
    return {
        "visits": visits,
        "repeats": repeats,
        "median_s": round(statistics.median(times), 2),
        "max_s": round(max(times), 2),
        "unaffected": len(unaffected),
        "moved_median": statistics.median(moved_shares),
        "moved_max": max(moved_shares),
        "calls_median": statistics.median(calls),
        "changes_median": statistics.median(changes),
        "violations_max": max(violations),
        "delayed": delayed,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, print the figures and append them to RESULTS.md."""
    parser = argparse.ArgumentParser(description="Re-planning benchmark")
    parser.add_argument("--visits", type=int, default=250)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--plan-time-limit", type=float, default=20.0)
    args = parser.parse_args(argv)
    r = run(args.visits, args.repeats, args.plan_time_limit)
    command = (
        f"python -m benchmarks.replan --visits {args.visits} --repeats {args.repeats} "
        f"--plan-time-limit {args.plan_time_limit:g}"
    )
    body = (
        f"Generated day of {r['visits']} visits (seed {SEED}), planned once; batch at {AT}: "
        f"{r['delayed']} delayed 35 min + one urgent new visit, answered {r['repeats']} times "
        "(load, check, solve, store). Targets: median <= 2 s; < 10 % of unaffected visits "
        "change technician.\n\n"
        "| answer median s | answer max s | unaffected visits | changed technician "
        "(median / max) | changes listed (median) | customers to call (median) "
        "| checker violations |\n"
        "|---:|---:|---:|---:|---:|---:|---:|\n"
        f"| {r['median_s']} | {r['max_s']} | {r['unaffected']} | {r['moved_median']:.1%} / "
        f"{r['moved_max']:.1%} | {r['changes_median']:g} | {r['calls_median']:g} "
        f"| {r['violations_max']} |\n"
    )
    record("Re-planning", command, body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
