"""Solver quality on the VRPTW benchmarks: ours against best-known solutions and peer solvers.

``python -m benchmarks.vrp`` runs every solver asked for (``benchmarks.vrp_peers``: ours, PyVRP,
VROOM, plain OR-Tools) on every instance asked for (default: the 56 Solomon instances) with the
same time limit and seed, checks each returned solution independently
(``benchmarks.vrptw_check``), prints one line per run and, per class (C1, C2, R1, R2, RC1, RC2),
a table: instances solved with every customer served, mean gap to the best-known distance, total
vehicles against the best-known, mean wall time, and the ratio of our mean distance to each
peer's on the instances both solved. The tables, the versions and the exact command go to
``benchmarks/RESULTS.md`` (``--no-record`` to skip).

Objectives: ``distance`` (vehicles free, DIMACS rows of ``bks.csv``, exact tenths) and
``vehicles`` (fixed cost per vehicle, hierarchical rows, real-valued distance). A run whose
routes break any rule, or leave a customer out, counts as unsolved; its distance is not used.

    python -m benchmarks.vrp --instances 'C1*' --time-limit 10 --objective both
    python -m benchmarks.vrp --set homberger --instances 'C1_2_*' --peers ours,pyvrp
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from statistics import fmean

from benchmarks.results import record
from benchmarks.vrp_peers import (
    PEERS,
    VROOM_EXPLORATION_LEVEL,
    VROOM_THREADS,
    installed,
    versions,
)
from benchmarks.vrptw import (
    BestKnown,
    Convention,
    VrptwInstance,
    data_dir,
    instance_paths,
    read_bks,
    read_instance,
)
from benchmarks.vrptw_check import check_routes
from benchmarks.vrptw_convert import CONVENTION, Objective, scale_problem

__all__ = ["FAMILIES", "Run", "main", "run_one", "summary_table"]

#: The classes of the Solomon and Homberger sets, in the order tables list them.
FAMILIES = ("C1", "C2", "R1", "R2", "RC1", "RC2")
_SETS = ("solomon", "homberger")


@dataclass(frozen=True, slots=True)
class Run:
    """One solver on one instance, as checked.

    ``distance`` in the convention's arithmetic, rounded as the best-known value is (``None``
    when unsolved); ``gap_pct`` to the best-known distance; ``solved``: feasible with every
    customer served.
    """

    instance: str
    family: str
    solver: str
    solved: bool
    distance: Decimal | None
    vehicles: int
    best_distance: Decimal
    best_vehicles: int
    wall_s: float
    violations: tuple[str, ...]
    note: str = ""

    @property
    def gap_pct(self) -> float | None:
        """Gap of ``distance`` to the best-known distance, in percent."""
        if self.distance is None:
            return None
        return float((self.distance - self.best_distance) / self.best_distance * 100)


def run_one(
    instance: VrptwInstance,
    best: BestKnown,
    objective: Objective,
    solver: str,
    time_limit_s: float,
    seed: int,
) -> Run:
    """Run ``solver`` on ``instance`` for ``objective`` and check what it returns."""
    convention = CONVENTION[objective]
    if best.convention is not convention:
        raise ValueError(f"{best.instance}: best-known row is {best.convention}, not {convention}")
    result = PEERS[solver](scale_problem(instance, objective), time_limit_s, seed)
    checked = check_routes(instance, result.routes, convention)
    distance = checked.distance  # exact tenths under DIMACS
    if convention is Convention.HIERARCHICAL:  # only the total is rounded, as the best-known
        distance = distance.quantize(best.distance, rounding=ROUND_HALF_EVEN)
    return Run(
        instance=instance.name,
        family=instance.family,
        solver=solver,
        solved=checked.feasible,
        distance=distance if checked.feasible else None,
        vehicles=checked.vehicles,
        best_distance=best.distance,
        best_vehicles=best.vehicles,
        wall_s=result.wall_s,
        violations=checked.violations,
        note=result.note,
    )


def _line(run: Run) -> str:
    if run.solved:
        verdict = f"distance {run.distance} ({run.gap_pct:+.2f}%), {run.vehicles} vehicles"
    else:
        reasons = run.note or "; ".join(run.violations[:3]) or "no routes"
        verdict = f"UNSOLVED: {reasons}"
    return (
        f"{run.instance:<10} {run.solver:<8} {verdict} "
        f"[best {run.best_distance}, {run.best_vehicles} vehicles; {run.wall_s:.1f} s]\n"
    )


def _ratio(ours: Sequence[Run], theirs: Sequence[Run]) -> str:
    """Our mean distance over theirs, on the instances both solved."""
    mine = {r.instance: r.distance for r in ours if r.distance is not None}
    both = [
        (mine[r.instance], r.distance)
        for r in theirs
        if r.distance is not None and r.instance in mine
    ]
    if not both:
        return "—"
    return (
        f"{fmean(float(a) for a, _ in both) / fmean(float(b) for _, b in both):.3f} ({len(both)})"
    )


def summary_table(runs: Sequence[Run], solvers: Sequence[str]) -> str:
    """The per-class table (and an ``all`` row per solver) of ``runs``, in Markdown."""
    head = (
        "| class | solver | solved | mean gap % | vehicles (best-known) | mean wall s "
        "| ours / solver distance (instances) |\n"
        "|---|---|---:|---:|---:|---:|---:|\n"
    )
    rows: list[str] = []
    present = [f for f in FAMILIES if any(r.family == f for r in runs)]
    for family in [*present, "all"]:
        in_family = [r for r in runs if family in ("all", r.family)]
        ours = [r for r in in_family if r.solver == "ours"]
        for solver in solvers:
            mine = [r for r in in_family if r.solver == solver]
            solved = [r for r in mine if r.solved]
            gaps = [r.gap_pct for r in solved if r.gap_pct is not None]
            gap = f"{fmean(gaps):.2f}" if gaps else "—"
            vehicles = (
                f"{sum(r.vehicles for r in solved)} ({sum(r.best_vehicles for r in solved)})"
                if solved
                else "—"
            )
            ratio = "—" if solver == "ours" or not ours else _ratio(ours, mine)
            rows.append(
                f"| {family} | {solver} | {len(solved)}/{len(mine)} | {gap} | {vehicles} "
                f"| {fmean(r.wall_s for r in mine):.1f} | {ratio} |\n"
            )
    return head + "".join(rows)


def _parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.vrp", description="VRPTW solver quality"
    )
    parser.add_argument(
        "--instances",
        nargs="+",
        metavar="NAME",
        help="instance names or globs (default: every instance of the set)",
    )
    parser.add_argument("--set", choices=_SETS, default="solomon", dest="instance_set")
    parser.add_argument("--time-limit", type=float, default=10.0, metavar="S")
    parser.add_argument(
        "--objective", choices=[*(o.value for o in Objective), "both"], default="distance"
    )
    parser.add_argument(
        "--peers",
        default=",".join(installed()),
        help=f"comma-separated, of {', '.join(PEERS)} (default: all installed)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-record", action="store_true", help="print only")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, print the results and record them (unless ``--no-record``)."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    args = _parse(arguments)
    solvers = [name.strip() for name in args.peers.split(",") if name.strip()]
    unknown = [name for name in solvers if name not in PEERS]
    missing = [name for name in solvers if name in PEERS and name not in installed()]
    if unknown or missing or not solvers:
        sys.stderr.write(
            f"unknown solvers {unknown}; not installed {missing} "
            "(pip install -e .); choose from: " + ", ".join(PEERS) + "\n"
        )
        return 2
    folder = data_dir()
    if not (folder / args.instance_set).is_dir():
        sys.stderr.write(f"no {args.instance_set}/ in {folder}: set FIELDROUTE_BENCHMARK_DATA\n")
        return 2
    paths = instance_paths(folder / args.instance_set, args.instances)
    best_known = read_bks(folder / "bks.csv")
    objectives = list(Objective) if args.objective == "both" else [Objective(args.objective)]
    instances = [read_instance(path) for path in paths]
    sections: list[str] = []
    for objective in objectives:
        convention = CONVENTION[objective]
        runs: list[Run] = []
        for instance in instances:
            best = best_known[(instance.name, convention)]
            for solver in solvers:
                run = run_one(instance, best, objective, solver, args.time_limit, args.seed)
                runs.append(run)
                sys.stdout.write(_line(run))
                sys.stdout.flush()
        table = summary_table(runs, solvers)
        sys.stdout.write(f"\nObjective {objective} ({_convention_note(convention)})\n{table}")
        sections.append(f"**Objective `{objective}`** ({_convention_note(convention)}).\n\n{table}")
    if not args.no_record:
        names = ", ".join(f"{package} {version}" for package, version in versions(solvers).items())
        record(
            f"VRPTW quality, {args.instance_set}",
            "python -m benchmarks.vrp " + shlex.join(arguments),
            f"{len(instances)} instances, {args.time_limit:g} s per solver and instance, seed "
            f"{args.seed}; solvers: {', '.join(solvers)} ({names}); VROOM at exploration level "
            f"{VROOM_EXPLORATION_LEVEL} on {VROOM_THREADS} thread, timeout = time limit. "
            "Solved = checked feasible with every customer served.\n\n" + "\n".join(sections),
        )
    return 0


def _convention_note(convention: Convention) -> str:
    if convention is Convention.DIMACS:
        return "vehicles free; DIMACS distance, arcs truncated to 0.1"
    return "vehicles first; hierarchical distance, real-valued arcs"


if __name__ == "__main__":
    raise SystemExit(main())
