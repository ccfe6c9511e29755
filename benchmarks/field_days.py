"""Field-day benchmark: realistic generated days solved end to end, checked, and recorded.

``python -m benchmarks.field_days --sizes 60 250 800 2500 --time-limit 30`` plans each
generated day (``benchmarks.dayset``, fixed seed) with the engine's defaults and, beside it,
with VROOM alone on the same compiled instance (the same travel matrix, service times, windows,
shifts, lunch breaks and van room; eligibility as VROOM skills, one per distinct set of allowed
technicians; priorities in proportion to our drop penalties) under the same time limit. VROOM's
routes are timed by the engine's model (``solver.schedule``), decoded like ours and judged by the
same independent checker, so both rows count the same way: visits assigned per priority, the
priority-weighted total (``dispatch.planning.compile.PRIORITY_WEIGHT``), the early-band and on-time
rates, km, wall time, peak memory and violations. Each (size, solver) runs in a fresh process
so its peak memory is its own. The table goes to ``benchmarks/RESULTS.md`` with the command,
date, commit and machine.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from benchmarks.dayset import generate_day
from benchmarks.results import record
from dispatch.contract.serialize import plan_document
from dispatch.contract.validate import parse_problem
from dispatch.model import Plan, Problem
from dispatch.planning import SolveParams, plan_day
from dispatch.planning.compile import PRIORITY_WEIGHT, IdMap, compile_problem
from dispatch.planning.decode import decode
from dispatch.planning.kpi import compute_kpis
from dispatch.planning.promise import with_promises
from dispatch.travel import pair_lookup, provider_for
from dispatch.verify import check_plan
from solver import Instance, schedule
from solver.seeders import SEEDERS, Routes, pyvrp_routes, vroom_routes

__all__ = ["SOLVERS", "main", "run_size"]

SEED = 2026
#: Who plans the day: the engine; the engine without seeders (OR-Tools alone); VROOM alone on
#: the engine's compiled instance.
SOLVERS = ("ours", "ours-unseeded", "vroom")


def plan_with_vroom(problem: Problem, time_limit_s: float, threads: int = 1) -> Plan:
    """VROOM's plan of ``problem``: its routes on our instance (``threads`` threads), timed
    and decoded by the engine.

    Raises ``solver.SolverError`` if a VROOM route breaks one of the engine's rules.
    """
    instance, id_map = compile_problem(problem, provider_for(problem))
    return _timed_plan(
        problem, instance, id_map, vroom_routes(instance, time_limit_s, threads=threads)
    )


def plan_with_pyvrp(problem: Problem, time_limit_s: float, seed: int = 0) -> Plan:
    """PyVRP's plan of ``problem``: its routes on our instance (one thread, seed ``seed``),
    timed and decoded by the engine. Each distinct set of allowed technicians is a profile of
    its own, however many there are (the engine's seeder takes PyVRP only up to
    ``MAX_PROFILES``, a bound on its memory on big days; a user of PyVRP alone has none).

    Raises ``ValueError`` if PyVRP cannot express the day (a technician's break), and
    ``solver.SolverError`` if a PyVRP route breaks one of the engine's rules.
    """
    instance, id_map = compile_problem(problem, provider_for(problem))
    if any(vehicle.breaks for vehicle in instance.vehicles):
        raise ValueError("PyVRP cannot express this day: a technician takes a break")
    return _timed_plan(problem, instance, id_map, pyvrp_routes(instance, time_limit_s, seed))


def _timed_plan(problem: Problem, instance: Instance, id_map: IdMap, routes: Routes) -> Plan:
    """A peer's ``routes`` on ``instance`` as the plan of ``problem``: timed by the engine's
    model, decoded, with promises and KPIs, as the engine's own plans are."""
    solution = schedule(instance, routes)
    visits = {visit.id: visit for visit in problem.visits}
    plan = with_promises(decode(solution, id_map, instance), visits, problem.policy)
    return replace(plan, kpis=compute_kpis(problem, plan))


def run_size(visits: int, time_limit_s: float, solver: str = "ours") -> dict[str, Any]:
    """Plan the generated day of ``visits`` visits with ``solver`` and return its figures."""
    raw = generate_day(visits, SEED)
    problem = parse_problem(raw)
    started = time.perf_counter()
    if solver == "vroom":
        plan = plan_with_vroom(problem, time_limit_s)
    else:
        seeders = () if solver == "ours-unseeded" else SEEDERS
        plan = plan_day(problem, params=SolveParams(time_limit_s=time_limit_s, seeders=seeders))
    wall_s = time.perf_counter() - started
    document = plan_document(
        problem, plan, plan_id="pl_bench", version=1, created_at=datetime.now(UTC)
    ).model_dump(mode="json")
    report = check_plan(raw, document, pair_lookup(provider_for(problem)))
    kpis = document["kpis"]
    by_priority = kpis["assigned_by_priority"]
    priority_of = {visit.id: visit.priority for visit in problem.visits}
    weighted = sum(
        PRIORITY_WEIGHT[priority_of[stop["visit_id"]]]
        for route in document["routes"]
        for stop in route["stops"]
        if stop.get("visit_id")
    )
    return {
        "visits": visits,
        "solver": solver,
        "technicians": len(problem.technicians),
        "assigned": kpis["assigned"],
        "weighted": weighted,
        "by_priority": " ".join(
            f"{name[0].upper()}{c['assigned']}/{c['visits']}" for name, c in by_priority.items()
        ),
        "left_out_radius": sum(1 for u in document["unassigned"] if u["code"] == "radius"),
        "early_band": f"{kpis['appointments_in_band']}/{kpis['appointment_stops']}",
        "on_time": kpis["on_time_rate"],
        "km": kpis["distance_km"],
        "wall_s": round(wall_s, 1),
        # The engine's second search runs in a child process: both peaks count.
        "peak_mb": round(
            (
                resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                + resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            )
            / 1024
        ),
        "violations": len(report.violations),
    }


def _table(rows: Sequence[dict[str, Any]]) -> str:
    head = (
        "| visits | solver | techs | assigned | by priority (U/H/N/L) | priority-weighted "
        "| radius | early band | on time | km | wall s | peak MB | violations |\n"
        "|---:|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    )
    body = "".join(
        f"| {r['visits']} | {r['solver']} | failed: {r['failed']} |" + " |" * 10 + "\n"
        if "failed" in r
        else f"| {r['visits']} | {r['solver']} | {r['technicians']} | {r['assigned']} "
        f"| {r['by_priority']} | {r['weighted']} "
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
    parser.add_argument(
        "--solvers", nargs="+", choices=SOLVERS, default=["ours", "vroom"], help="who plans"
    )
    parser.add_argument("--no-record", action="store_true", help="do not append to RESULTS.md")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # child process: one size
    parser.add_argument("--solver", choices=SOLVERS, default="ours", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        row = run_size(args.one, args.time_limit, args.solver)
        sys.stdout.write(json.dumps(row) + "\n")
        return 0
    rows = []
    for size in args.sizes:
        for solver in args.solvers:
            rows.append(_run_child(size, solver, args.time_limit))
            sys.stdout.write(json.dumps(rows[-1]) + "\n")
            sys.stdout.flush()
    sys.stdout.write(_table(rows))
    command = "python -m benchmarks.field_days " + " ".join(
        [
            "--sizes",
            *map(str, args.sizes),
            "--time-limit",
            f"{args.time_limit:g}",
            "--solvers",
            *args.solvers,
        ]
    )
    if not args.no_record:
        record(
            "Field days",
            command,
            f"Generated days of `benchmarks/dayset.py`, seed {SEED}; {args.time_limit:g} s per "
            "day and solver; ours = engine defaults (seeders on), ours-unseeded = OR-Tools "
            "alone, vroom = VROOM 1 thread, exploration 5, on the same compiled instance "
            "(see the module notes). Priority-weighted = urgent 256, high 16, normal 4, "
            "low 1 per assigned visit.\n\n" + _table(rows),
        )
    return 0


def _run_child(size: int, solver: str, time_limit_s: float) -> dict[str, Any]:
    """One (size, solver) in a fresh process; a failure becomes a row saying so."""
    child = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.field_days",
            "--one",
            str(size),
            "--solver",
            solver,
            "--time-limit",
            str(time_limit_s),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if child.returncode == 0:
        row: dict[str, Any] = json.loads(child.stdout.splitlines()[-1])
        return row
    reason = (child.stderr.strip().splitlines() or ["no output"])[-1]
    return {"visits": size, "solver": solver, "failed": reason}


if __name__ == "__main__":
    raise SystemExit(main())
