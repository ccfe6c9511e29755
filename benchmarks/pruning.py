"""Arc pruning on generated days: the share of visit-to-visit arcs no feasible route can use.

``python -m benchmarks.pruning --makes dayset city rural --sizes 250 800 2500 --seeds 1``
compiles each generated day (``benchmarks.field_seeds.generate``) as the desk does and reports,
per day, its nodes and vehicles, the share of the ``N (N - 1)`` arcs between visits that
``solver.arcs.possible_arcs`` rules out (and the share eligibility alone rules out), how long
that takes, and how long ``solver.model.build_routing_model`` takes (best of three), the
pruning included. The whole day is compiled as one instance (the solver may split it into
independent parts before building models).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from benchmarks.field_seeds import MAKES, generate
from benchmarks.results import record
from dispatch.contract.validate import parse_problem
from dispatch.planning.compile import compile_problem
from dispatch.travel import provider_for
from solver.arcs import possible_arcs
from solver.model import build_routing_model

__all__ = ["main", "measure"]

#: Builds of the model timed per day; the best is reported (the machine is shared).
BUILDS = 3


def _ruled_out_share(possible: np.ndarray) -> float:
    n = possible.shape[0]
    return float(1 - possible.sum() / max(1, n * (n - 1)))


def measure(make: str, visits: int, seed: int) -> dict[str, Any]:
    """The figures of one generated day (see the module docstring)."""
    problem = parse_problem(generate(make, visits, seed))
    instance, _ = compile_problem(problem, provider_for(problem))
    started = time.perf_counter()
    possible = possible_arcs(instance)
    prune_s = time.perf_counter() - started
    # Eligibility alone: the same rules with every window open all day.
    day = (int(instance.window_s.min()), int(instance.window_s.max()))
    open_all_day = np.tile(np.array(day, dtype=np.int64), (instance.n_nodes, 1))
    eligible = possible_arcs(replace(instance, window_s=open_all_day, gaps_s=()))
    builds = []
    for _ in range(BUILDS):
        started = time.perf_counter()
        build_routing_model(instance)
        builds.append(time.perf_counter() - started)
    return {
        "make": make,
        "visits": visits,
        "seed": seed,
        "nodes": instance.n_nodes,
        "vehicles": instance.n_vehicles,
        "ruled_out": _ruled_out_share(possible),
        "by_eligibility": _ruled_out_share(eligible),
        "prune_s": prune_s,
        "build_s": min(builds),
    }


def _table(rows: Sequence[dict[str, Any]]) -> str:
    lines = [
        "| maker | visits | seed | nodes | vehicles | arcs ruled out | by eligibility alone "
        "| pruning s | model build s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['make']} | {r['visits']:,} | {r['seed']} | {r['nodes']:,} | {r['vehicles']} "
            f"| {100 * r['ruled_out']:.1f} % | {100 * r['by_eligibility']:.1f} % "
            f"| {r['prune_s']:.2f} | {r['build_s']:.2f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Measure every (maker, size, seed) asked for, print the table and record it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--makes", nargs="+", choices=MAKES, default=list(MAKES))
    parser.add_argument("--sizes", type=int, nargs="+", default=[250, 800, 2500])
    parser.add_argument("--seeds", type=int, default=1, help="seeds 1..N per size")
    parser.add_argument("--no-record", action="store_true", help="do not append to RESULTS.md")
    args = parser.parse_args(argv)
    rows = [
        measure(make, size, seed)
        for make in args.makes
        for size in args.sizes
        for seed in range(1, args.seeds + 1)
    ]
    table = _table(rows)
    command = "python -m benchmarks.pruning " + " ".join(argv if argv is not None else sys.argv[1:])
    if args.no_record:
        sys.stdout.write(table)
    else:
        preface = (
            "Share of the N (N - 1) arcs between visits that no feasible route can use, each "
            "day compiled whole as one instance; by eligibility alone = the same rules with "
            "every window open all day; model build = best of "
            f"{BUILDS}, pruning included.\n\n"
        )
        record(
            "Arc pruning: arcs between visits no feasible route can use", command, preface + table
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
