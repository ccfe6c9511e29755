"""Field days over many seeds and two makers: the engine beside its peers, means with their spread.

``python -m benchmarks.field_seeds --makes dayset city rural --sizes 60 250 --seeds 10
--budgets 2 10 30`` plans, for each maker, size, seed and budget, one generated day up to eight
ways, each in a fresh process:

- ``ours``: the engine's defaults (``dispatch.planning.plan_day``), drafts on, so the time at
  which its best plan first reached VROOM's (``match s``) is known;
- ``vroom-ours``: VROOM on the engine's compiled instance, so under our appointment rule (at the
  door by T-5 and held from then), with ``--vroom-threads`` threads, at the exploration level
  that fits the budget on them (``solver.seeders.vroom_level``); its routes are timed and
  decoded by the engine and judged by the independent checker, as ours are;
- ``vroom-own``: VROOM under its own looser rule: an appointment is a window ``[T-10, T]`` in
  which service starts on arrival, no holding: the day is compiled under that rule
  (``own_rule_day``, the very instance ``ours-own`` searches, screened under it too), and
  VROOM's routes are timed, decoded and checked against it. Some of the visits they serve are
  beyond our rule's reach (``beyond_reach``): no technician allowed to serve one could, even
  alone, reach its door by T-5 and hold it to the end of the work (on the generated days, a
  lunch break the held work leaves no room for); VROOM searches the day again without them
  (``in_reach``), so that ``vs vroom-own in reach`` compares with what its rule serves of
  the visits both rules can serve. Its plan still has the looser rule's room there, so the
  column is not all that our rule costs;
- ``ours-arrival``: as ``ours``, with the day's ``policy.appointment_start`` set to
  ``on_arrival`` (the technician reaches the door in the band ``[T-10, T-5]`` and starts
  then): the engine under a rule near VROOM's own, its plans checked against that rule;
- ``vroom-arrival``: as ``vroom-ours``, under that same ``on_arrival`` rule: the peer
  ``ours-arrival`` is compared with on equal terms. VROOM's own rule is looser still (its
  window runs to ``T``, five minutes past our band), so this separates what the rule is worth
  from what the search is;
- ``ours-own``: as ``ours``, with the day's policy set to VROOM's own rule (``own_rule_day``:
  ``appointment_start`` ``on_arrival`` and ``early_arrival_min`` ``[0, 10]``, so the door is
  reached in ``[T-10, T]`` and service starts then): the engine on the very instance
  ``vroom-own`` searches, its plans checked against that rule. Beside ``vroom-own`` it tells
  the two searches apart on equal terms; beside ``ours`` it tells what our rule costs.
- ``pyvrp-ours``: PyVRP (one thread, seed 0) on the engine's compiled instance, so under our
  rule, until the budget; its routes timed, decoded and checked as VROOM's are. PyVRP has no
  breaks: it plans only days run with ``--no-breaks``, where no technician takes a lunch break
  (each maker's day with its breaks taken out);
- ``ortools``: the engine with no seeder (``SolveParams.seeders`` empty): OR-Tools' own first
  solution, then the engine's search settings (guided local search, its stall stop) on the
  engine's model: what OR-Tools alone does with our model, not a stranger's setup of it.

Makers: ``dayset`` (``benchmarks.dayset``, a Guangdong service centre) and ``city``/``rural``
(``benchmarks.townset``, built differently); each staffs its day itself, and ``--technicians``
gives a ``dayset`` day a roster of that size instead (``--sizes 2500 --technicians 200``: the
issue's tight 2,500-visit day); ``--no-breaks`` takes every technician's breaks out of the days,
so that PyVRP can plan them too; ``--shapes`` plans each maker's days reshaped
(``benchmarks.day_shapes``: a tea break inside every lunch window, every visit an appointment,
crews, narrow trades, ...), a row group per maker and shape (``dayset+crews``).
``--first-seed`` starts at a later seed, to carry an earlier run on (``--seeds 10
--first-seed 6`` after ``--seeds 5``). Figures per run: visits served weighted by
priority as issue 18 counts them (urgent 100, high 30, normal 10, low 3), the share of served
appointments inside the 5-10 minute band, checker violations, wall seconds and CPU seconds
(user and system of the run and every process it started). The table gives, per maker, size,
budget and solver, the mean over the seeds with its standard deviation, the mean gaps to
``vroom-ours``, to ``vroom-own``, to ``vroom-arrival``, to ``pyvrp-ours`` and to ``vroom-own``
in reach on the same days, and the median time to match; it goes to ``benchmarks/RESULTS.md``
with the command, date, commit and machine.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import numpy as np

from benchmarks.day_shapes import SHAPES, reshape
from benchmarks.dayset import generate_day
from benchmarks.field_days import plan_with_pyvrp, plan_with_vroom
from benchmarks.results import record
from benchmarks.ringset import generate_ring_day
from benchmarks.townset import AREAS, generate_town_day
from dispatch.contract.serialize import plan_document
from dispatch.contract.validate import parse_problem
from dispatch.model import Plan, Policy
from dispatch.planning import SolveParams, plan_day
from dispatch.planning.compile import IdMap, compile_problem
from dispatch.travel import pair_lookup, provider_for
from dispatch.units import as_minutes
from dispatch.verify import check_plan
from solver import Instance
from solver.insertion import holds_alone

__all__ = [
    "MAKES",
    "PEERS",
    "SOLVERS",
    "WEIGHT",
    "beyond_reach",
    "generate",
    "main",
    "own_rule_day",
    "run_one",
]

#: Who makes the days: ``ring`` gives an explicit one-way-biased matrix (``benchmarks.ringset``).
MAKES = ("dayset", *AREAS, "ring")
#: Who plans them.
SOLVERS = (
    "ours",
    "vroom-ours",
    "vroom-own",
    "ours-arrival",
    "vroom-arrival",
    "ours-own",
    "pyvrp-ours",
    "ortools",
)
#: The peers' runs each solver's weighted total is compared with, in the table's order.
PEERS = ("vroom-ours", "vroom-own", "vroom-arrival", "pyvrp-ours")
#: The column comparing with VROOM under its own rule on the visits within our rule's reach.
IN_REACH = "vroom-own in reach"
#: Whose plan each of ours is timed to match: VROOM under the same rule.
TARGET_OF = {"ours": "vroom-ours", "ours-arrival": "vroom-arrival", "ours-own": "vroom-own"}
#: A served visit's worth by priority, as issue 18 counts.
WEIGHT = {"urgent": 100, "high": 30, "normal": 10, "low": 3}


def generate(
    make: str, visits: int, seed: int, technicians: int | None = None, *, breaks: bool = True
) -> dict[str, Any]:
    """The day of ``visits`` visits that ``make`` draws from ``seed``; ``technicians`` sets the
    roster's size instead of the maker's own (``dayset`` only: the town and ring makers staff
    their days themselves); ``breaks=False`` takes every technician's breaks out. ``make`` may name
    a shape after a ``+`` (``dayset+crews``): the day is then reshaped so
    (``benchmarks.day_shapes``)."""
    make, _, shape = make.partition("+")
    if make == "dayset":
        day = generate_day(visits, seed, technicians)
    elif make not in MAKES:
        raise ValueError(f"make must be one of {', '.join(MAKES)}, got {make!r}")
    elif technicians is not None:
        raise ValueError(f"only the dayset maker takes a roster size, not {make!r}")
    elif make == "ring":
        day = generate_ring_day(visits, seed)
    else:
        day = generate_town_day(visits, seed, "city" if make == "city" else "rural")
    if shape:
        day = reshape(day, shape, seed)
    if not breaks:
        for technician in day["technicians"]:
            technician.pop("breaks", None)
    return day


def own_rule(instance: Instance, door_buffer_s: np.ndarray, band_s: tuple[int, int]) -> Instance:
    """``instance`` with each appointment a window ``[T - far, T]`` in which service starts on
    arrival: VROOM's own reading of a time window, without our hold at ``T - near``."""
    near, far = band_s
    appointment = door_buffer_s > 0
    window = instance.window_s.copy()
    door = window[appointment, 0]  # T - near, where our rule fixes the service start
    window[appointment, 0] = door - (far - near)
    window[appointment, 1] = door + near
    service = instance.service_s.copy()
    service[appointment] -= door_buffer_s[appointment]
    return replace(instance, window_s=window, service_s=service)


def own_rule_day(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The day ``raw`` under VROOM's own rule, as a policy the engine takes: service starts on
    arrival anywhere from ``T - far`` to ``T`` (``early_arrival_min`` ``[0, far]``), which
    compiles to ``own_rule`` of the day's instance."""
    policy = dict(raw.get("policy", {}))
    far = policy.get("early_arrival_min", [as_minutes(edge) for edge in Policy().early_band])[1]
    policy.update(appointment_start="on_arrival", early_arrival_min=[0, far])
    return {**raw, "policy": policy}


def run_one(
    make: str,
    visits: int,
    seed: int,
    budget_s: float,
    solver: str,
    *,
    target: float | None = None,
    vroom_threads: int = 1,
    technicians: int | None = None,
    breaks: bool = True,
) -> dict[str, Any]:
    """Plan one day with ``solver`` and return its figures (``target``: the weighted total
    whose first reach by ``ours`` is timed; ``technicians`` and ``breaks``: see
    ``generate``)."""
    raw = generate(make, visits, seed, technicians, breaks=breaks)
    ours_rule = raw
    if solver in ("ours-arrival", "vroom-arrival"):
        raw["policy"] = {**raw.get("policy", {}), "appointment_start": "on_arrival"}
    if solver in ("ours-own", "vroom-own"):
        raw = own_rule_day(raw)
    problem = parse_problem(raw)
    priority = {str(visit.id): visit.priority.label for visit in problem.visits}
    started = time.perf_counter()
    matched: list[float] = []
    if solver in ("vroom-ours", "vroom-arrival", "vroom-own"):
        plan = plan_with_vroom(problem, budget_s, vroom_threads)
    elif solver == "pyvrp-ours":
        plan = plan_with_pyvrp(problem, budget_s)
    elif solver == "ortools":
        plan = plan_day(problem, params=SolveParams(time_limit_s=budget_s, seeders=()))
    elif solver in ("ours", "ours-arrival", "ours-own"):

        def on_draft(draft: Plan) -> None:
            if target is not None and not matched and _weighted(draft, priority) >= target:
                matched.append(time.perf_counter() - started)

        plan = plan_day(problem, params=SolveParams(time_limit_s=budget_s), on_draft=on_draft)
    else:
        raise ValueError(f"solver must be one of {', '.join(SOLVERS)}, got {solver!r}")
    wall_s = time.perf_counter() - started
    weighted = _weighted(plan, priority)
    if target is not None and not matched and weighted >= target:
        matched.append(wall_s)
    document = plan_document(
        problem, plan, plan_id="pl_bench", version=1, created_at=datetime.now(UTC)
    ).model_dump(mode="json")
    report = check_plan(raw, document, pair_lookup(provider_for(problem)))
    row: dict[str, Any] = {
        "weighted": weighted,
        # As the checker measured them, not as the plan's own KPIs claim.
        "in_band": report.appointments_in_band,
        "appointments": report.appointment_stops,
        "violations": len(report.violations),
        "wall_s": wall_s,
        "match_s": matched[0] if matched else None,
    }
    if solver == "vroom-own":
        row["in_reach"] = _in_reach(ours_rule, raw, weighted, budget_s, vroom_threads, priority)
    return row


def _weighted(plan: Plan, priority: Mapping[str, str]) -> int:
    return sum(
        WEIGHT[priority[stop.visit_id]]
        for route in plan.routes
        for stop in route.stops
        if stop.visit_id is not None
    )


def beyond_reach(instance: Instance, id_map: IdMap) -> set[int]:
    """The visits (indices into the problem's) that no technician allowed to serve them could
    serve under ``instance``'s rule even as the only visit of the day: no node of theirs
    ``holds_alone`` on its allowed vehicles, or they have none (nobody may serve them). No
    plan serves them."""
    reachable = {
        visit for node, visit in enumerate(id_map.node_visit) if holds_alone(instance, node)
    }
    return set(range(len(id_map.problem.visits))) - reachable


def _in_reach(
    ours_raw: Mapping[str, Any],
    own_raw: Mapping[str, Any],
    weighted: int,
    budget_s: float,
    threads: int,
    priority: Mapping[str, str],
) -> int:
    """What VROOM under its own rule serves of the day without the visits beyond our rule's
    reach (``beyond_reach`` of our rule's instance): searched again without them, not its
    plan less them (the time they took would have gone to others: that undercounted VROOM by
    about 0.4 % on rural days). ``weighted`` when no visit is beyond reach."""
    ours = parse_problem(ours_raw)
    instance, id_map = compile_problem(ours, provider_for(ours))
    beyond = {ours.visits[i].id for i in beyond_reach(instance, id_map)}
    if not beyond:
        return weighted
    reduced = {**own_raw, "visits": [v for v in own_raw["visits"] if v["id"] not in beyond]}
    return _weighted(plan_with_vroom(parse_problem(reduced), budget_s, threads), priority)


def _mean_sd(values: Sequence[float]) -> str:
    if not values:
        return "-"
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.fmean(values):,.1f} ± {spread:,.1f}"


def _mean_gap(gaps: Sequence[float]) -> str:
    return f"{statistics.fmean(gaps):+.2f} %" if gaps else "-"


def _table(rows: Sequence[dict[str, Any]]) -> str:
    head = (
        "| maker | visits | budget s | solver | days | weighted (mean ± sd) "
        + "".join(f"| vs {peer} " for peer in PEERS)
        + f"| vs {IN_REACH} "
        + "| in band | valid | wall s | CPU s | match s (median) |\n"
        + "|---|---:|---:|---|---:|---:"
        + "|---:" * (len(PEERS) + 1)
        + "|---:|---:|---:|---:|---:|\n"
    )
    groups: dict[tuple[str, int, float, str], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault((row["make"], row["visits"], row["budget_s"], row["solver"]), []).append(
            row
        )
    reference = {
        peer: {
            (row["make"], row["visits"], row["budget_s"], row["seed"]): row["weighted"]
            for row in rows
            if row["solver"] == peer and "weighted" in row
        }
        for peer in PEERS
    }
    reference[IN_REACH] = {
        (row["make"], row["visits"], row["budget_s"], row["seed"]): row["in_reach"]
        for row in rows
        if row["solver"] == "vroom-own" and "in_reach" in row
    }
    lines = []
    for (make, visits, budget, solver), runs in groups.items():
        done = [run for run in runs if "weighted" in run]
        gaps = {
            peer: [
                100 * (run["weighted"] - weights[key]) / weights[key]
                for run in done
                if (key := (make, visits, budget, run["seed"])) in weights and weights[key]
            ]
            for peer, weights in reference.items()
        }
        checked = [run for run in done if "violations" in run]
        appointments = sum(run["appointments"] for run in checked)
        in_band = (
            f"{100 * sum(run['in_band'] for run in checked) / appointments:.1f} %"
            if appointments
            else "-"
        )
        valid = (
            f"{sum(run['violations'] == 0 for run in checked)}/{len(checked)}" if checked else "-"
        )
        match = "-"
        peer = TARGET_OF.get(solver)
        timed = [
            run
            for run in done
            if peer is not None and (make, visits, budget, run["seed"]) in reference[peer]
        ]
        if timed:  # days whose target ran
            matches = [run["match_s"] for run in timed if run.get("match_s") is not None]
            median = f"{statistics.median(matches):.1f} " if matches else ""
            match = f"{median}({len(matches)}/{len(timed)})"
        failed = len(runs) - len(done)
        lines.append(
            f"| {make} | {visits} | {budget:g} | {solver} | {len(done)}"
            f"{f' ({failed} failed)' if failed else ''} "
            f"| {_mean_sd([run['weighted'] for run in done])} "
            f"| {' | '.join(_mean_gap(gaps[peer]) for peer in (*PEERS, IN_REACH))} | {in_band} "
            f"| {valid} "
            f"| {_mean_sd([run['wall_s'] for run in done])} "
            f"| {_mean_sd([run['cpu_s'] for run in done])} | {match} |\n"
        )
    return head + "".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run every (maker, size, seed, budget) asked for, print the table, record it."""
    parser = argparse.ArgumentParser(description="Field days over many seeds, beside VROOM")
    parser.add_argument("--makes", nargs="+", choices=MAKES, default=list(MAKES))
    parser.add_argument("--sizes", type=int, nargs="+", default=[60, 250])
    parser.add_argument("--seeds", type=int, default=10, help="seeds 1..N per size")
    parser.add_argument(
        "--first-seed",
        type=int,
        default=1,
        help="start at this seed instead of 1, e.g. to carry an earlier run of seeds 1-5 on to 10",
    )
    parser.add_argument("--budgets", type=float, nargs="+", default=[2.0, 10.0, 30.0])
    parser.add_argument(
        "--big-budget",
        type=float,
        default=120.0,
        help="replaces the largest budget for days of 2,500 visits or more",
    )
    parser.add_argument("--solvers", nargs="+", choices=SOLVERS, default=list(SOLVERS))
    parser.add_argument("--vroom-threads", type=int, default=2)
    parser.add_argument(
        "--technicians",
        type=int,
        help="this many technicians and crews on each day's roster (dayset only), e.g. 200 "
        "for issue 18's 2,500-visit day",
    )
    parser.add_argument(
        "--no-breaks",
        action="store_true",
        help="take every technician's breaks out of the days (the days PyVRP can plan)",
    )
    parser.add_argument(
        "--shapes",
        nargs="+",
        choices=list(SHAPES),
        default=[],
        help="plan each maker's days reshaped so (benchmarks.day_shapes), one row group each",
    )
    parser.add_argument("--no-record", action="store_true", help="do not append to RESULTS.md")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # child: make:size:seed:budget:solver
    parser.add_argument("--target", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.technicians is not None and not args.one and set(args.makes) != {"dayset"}:
        parser.error("--technicians: only the dayset maker takes a roster size")
    if not 1 <= args.first_seed <= args.seeds:
        parser.error(f"--first-seed: {args.first_seed} is not between 1 and --seeds {args.seeds}")
    if args.one:
        make, size, seed, budget, solver = args.one.split(":")
        row = run_one(
            make,
            int(size),
            int(seed),
            float(budget),
            solver,
            target=args.target,
            vroom_threads=args.vroom_threads,
            technicians=args.technicians,
            breaks=not args.no_breaks,
        )
        sys.stdout.write(json.dumps(row) + "\n")
        return 0
    # The VROOM runs first: each is the target one of ours is timed to (``TARGET_OF``).
    order = sorted(args.solvers, key=lambda name: name not in TARGET_OF.values())
    rows: list[dict[str, Any]] = []
    makes = [f"{make}+{shape}" for make in args.makes for shape in args.shapes] or args.makes
    for make in makes:
        for size in args.sizes:
            budgets = list(args.budgets)
            if size >= 2500 and budgets:
                budgets[budgets.index(max(budgets))] = args.big_budget
            for budget in budgets:
                for seed in range(args.first_seed, args.seeds + 1):
                    targets: dict[str, float] = {}
                    for solver in order:
                        key = {"make": make, "visits": size, "seed": seed, "budget_s": budget}
                        target = targets.get(TARGET_OF.get(solver, ""))
                        row = {**key, "solver": solver, **_child(key, solver, target, args)}
                        if "weighted" in row:
                            targets[solver] = row["weighted"]
                        rows.append(row)
                        sys.stdout.write(json.dumps(row) + "\n")
                        sys.stdout.flush()
    table = _table(rows)
    sys.stdout.write(table)
    command = "python -m benchmarks.field_seeds " + " ".join(
        [
            "--makes",
            *args.makes,
            "--sizes",
            *map(str, args.sizes),
            "--seeds",
            str(args.seeds),
            *([] if args.first_seed == 1 else ["--first-seed", str(args.first_seed)]),
            "--budgets",
            *(f"{b:g}" for b in args.budgets),
            "--big-budget",
            f"{args.big_budget:g}",
            "--solvers",
            *args.solvers,
            "--vroom-threads",
            str(args.vroom_threads),
            *([] if args.technicians is None else ["--technicians", str(args.technicians)]),
            *(["--no-breaks"] if args.no_breaks else []),
            *(["--shapes", *args.shapes] if args.shapes else []),
        ]
    )
    roster = "" if args.technicians is None else f", {args.technicians} technicians a day"
    roster += ", no technician takes a break" if args.no_breaks else ""
    roster += f", reshaped ({', '.join(args.shapes)}: benchmarks.day_shapes)" if args.shapes else ""
    if not args.no_record:
        record(
            "Field days over seeds, beside VROOM",
            command,
            f"Seeds {args.first_seed}-{args.seeds} per maker and size{roster}; "
            "weighted = urgent 100, high 30, normal 10, low 3 per served visit; "
            "vs vroom-ours = mean of each day's gap to VROOM "
            "under our rule, vs vroom-own to VROOM under its own, vs vroom-arrival to VROOM "
            "under the on-arrival rule of ours-arrival, vs pyvrp-ours to PyVRP under our "
            "rule, vs vroom-own in reach to VROOM under "
            "its own rule searching the day again without the visits beyond our rule's reach "
            "(no technician allowed could serve one even alone under our rule); "
            "ours-own = ours under VROOM's own rule; ortools = ours with no seeder; "
            "in band = served appointments reached 5-10 min early (ours-own, vroom-own: "
            "0-10, their rule), as the checker measured them; valid = plans "
            "with no checker violation (a plan the engine could not time is failed); "
            "CPU s = user + system of the run and its processes (with the start-up of its "
            "process and the checker; wall s is the search alone); "
            "match s = median seconds until ours (ours-arrival, ours-own) first held a plan "
            "worth VROOM's under the same rule "
            f"(days that got there / days VROOM ran). VROOM: {args.vroom_threads} thread(s), the "
            "exploration level that fits the budget; PyVRP: 1 thread, seed 0.\n\n" + table,
        )
    return 0


def _child(
    key: Mapping[str, Any], solver: str, target: float | None, args: argparse.Namespace
) -> dict[str, Any]:
    """One run in a fresh process, with its wall and CPU time; a failure says why."""
    one = f"{key['make']}:{key['visits']}:{key['seed']}:{key['budget_s']}:{solver}"
    command = [sys.executable, "-m", "benchmarks.field_seeds", "--one", one]
    command += ["--vroom-threads", str(args.vroom_threads)]
    if args.technicians is not None:
        command += ["--technicians", str(args.technicians)]
    if args.no_breaks:
        command.append("--no-breaks")
    if target is not None:
        command += ["--target", str(target)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    child = subprocess.run(command, capture_output=True, text=True, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if child.returncode == 0:
        row: dict[str, Any] = json.loads(child.stdout.splitlines()[-1])
        return {**row, "cpu_s": cpu_s}
    reason = (child.stderr.strip().splitlines() or ["no output"])[-1]
    return {"failed": reason}


if __name__ == "__main__":
    raise SystemExit(main())
