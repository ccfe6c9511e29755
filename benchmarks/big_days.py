"""Big days: the time to a first valid plan, the final plan inside the budget, peak memory, and
a day of several regions solved as one against its regions one after another.

``python -m benchmarks.big_days --sizes 250 800 2500 --time-limit 60`` plans each generated
day (``benchmarks.dayset``) end to end as the desk's solve does it (validation, the matrix,
the search, decoding, the independent checker), each in a fresh process so that its peak
memory (its own and its side process's, the larger of the two and their sum) is its own, and
reports the first valid plan's time (the search's first report of placed visits), the wall
time from the raw day to the checked plan, the longest pause of the planning process's other
threads (``LongestPause``: a job's heartbeat, written every 0.5 s, is such a thread), visits
served by priority and the early band.
Each day has the generator's roster for its size (about one technician per nine visits) unless
``--technicians`` sets it: ``--sizes 2500 --technicians 200`` is the issue's 2,500-visit /
200-technician day (technicians and crews together; the generator's ``technicians``).

``python -m benchmarks.big_days --regions 4 --visits 10000 --time-limit 120`` builds a day of
four service centres 300 km apart (four generated days, ids prefixed by region), plans it as
one day (the solver finds the four independent regions and solves them apart) and, beside it,
plans each region as its own day one after another with the same total budget: the two
should serve alike, the first at no extra cost for being one request.

``python -m benchmarks.big_days --regions 4 --visits 10000 --time-limit 120 --celery-workers 1 2``
also runs that day through the API on Celery (``FIELDROUTE_JOBS=celery``, throwaway PostgreSQL
and Redis of ``benchmarks.throughput``), once with each number of ``fieldroute worker``
processes: the job fans out one task per region found (``dispatch.planning.regions``: the four
centres, and groups such as the centres' delivery crews and the visits nobody may serve), each
searched for its share of the job's ``--time-limit`` by its visits (as the one process shares
it), and its last region joins them. Reported: the wall time from the job's submission
to its plan stored, when every region first had a plan (a draft or done: the job's
``first_plan_s``, when its draft of the whole day can first be read), visits served
and the independent checker's violations, beside the one-process plan whose regions are solved
one after another (sharing ``--time-limit`` by their visits).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.dayset import MIN_TECHNICIANS, generate_day
from benchmarks.results import record
from benchmarks.throughput import api_key, call, running, services
from dispatch.contract.validate import parse_problem
from dispatch.desk.solve import check_day, solve_day
from dispatch.planning import Progress, SolveParams
from dispatch.planning.regions import regions
from dispatch.travel import provider_for

__all__ = ["LongestPause", "main", "region_day", "run_day", "run_fanned_out"]

SEED = 2026
#: How often the thread measuring the planning process's longest pause wakes (``LongestPause``).
PAUSE_TICK_S = 0.05
#: Degrees of longitude between two regions' service centres: about 300 km at 22.8 N, three
#: times the service radius, so no technician of one may serve another.
REGION_STEP_DEG = 2.9


def _shift(location: dict[str, Any], k: int) -> dict[str, Any]:
    return {**location, "lon": location["lon"] + k * REGION_STEP_DEG}


def region_day(visits: int, regions: int, seed: int = SEED) -> dict[str, Any]:
    """``regions`` generated days of ``visits / regions`` visits each, side by side as one."""
    merged: dict[str, Any] | None = None
    for k in range(regions):
        day = generate_day(visits // regions, seed + k)
        prefix = f"R{k + 1}-"
        for tech in day["technicians"]:
            tech["id"] = prefix + tech["id"]
            for key in ("start", "end"):
                if key in tech:
                    tech[key] = _shift(tech[key], k)
        for visit in day["visits"]:
            visit["id"] = prefix + visit["id"]
            visit["location"] = _shift(visit["location"], k)
            for key in ("technician", "preferred_technician"):
                if visit.get(key):
                    visit[key] = prefix + visit[key]
        if merged is None:
            merged = day
        else:
            merged["technicians"] += day["technicians"]
            merged["visits"] += day["visits"]
    assert merged is not None
    return merged


class LongestPause:
    """The longest interval between two wakes of a thread of this process that sleeps
    ``PAUSE_TICK_S`` between them, from entering to leaving (``s``): a C call that holds the
    interpreter (VROOM's search does) stops every other thread as long, a job's heartbeat and
    drafts among them."""

    def __init__(self) -> None:
        self.s = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._tick, name="pause-ticks", daemon=True)

    def __enter__(self) -> LongestPause:
        self._last = time.perf_counter()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _tick(self) -> None:
        while True:
            stopped = self._stop.wait(PAUSE_TICK_S)
            now = time.perf_counter()
            self.s = max(self.s, now - self._last)
            self._last = now
            if stopped:
                return


def run_day(raw: dict[str, Any], time_limit_s: float) -> dict[str, Any]:
    """Plan ``raw`` as ``fieldroute solve`` does and measure it (see the module docstring)."""
    started = time.perf_counter()
    first: list[float] = []

    def heard(progress: Progress) -> None:
        if not first and progress.placed:
            first.append(time.perf_counter() - started)

    problem = parse_problem(raw)
    with LongestPause() as pause:
        solved = solve_day(
            raw,
            problem,
            params=SolveParams(time_limit_s=time_limit_s),
            save=lambda _document, _record: None,
            on_progress=heard,
        )
    wall = time.perf_counter() - started
    kpis = solved.document.kpis
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    side = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {
        "visits": kpis.visits,
        "technicians": len(problem.technicians),
        "assigned": kpis.assigned,
        "by_priority": {k: [v.visits, v.assigned] for k, v in kpis.assigned_by_priority.items()},
        "band": f"{kpis.appointments_in_band}/{kpis.appointment_stops}",
        "violations": len(solved.report.violations),
        "first_plan_s": round(first[0], 1) if first else None,
        "wall_s": round(wall, 1),
        "longest_pause_s": round(pause.s, 2),
        "peak_mb": round(max(own, side)),
        "peak_sum_mb": round(own + side),
    }


def run_fanned_out(raw: dict[str, Any], time_limit_s: float, workers: int) -> dict[str, Any]:
    """Solve ``raw`` through the API on Celery with ``workers`` workers (a fresh PostgreSQL and
    Redis) in a job of ``time_limit_s``, its regions fanned out; measured
    from the job's submission to its plan stored (see the module docstring)."""
    services("start")
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDROUTE_")}
        env |= {
            "FIELDROUTE_DATABASE_URL": services("url"),
            "FIELDROUTE_JOBS": "celery",
            "FIELDROUTE_BROKER_URL": services("redis-url"),
            "FIELDROUTE_JOB_TIME_LIMIT_MAX_S": str(max(600.0, time_limit_s)),
            "FIELDROUTE_MAX_UPLOAD_MB": "100",
        }
        key = api_key(env, "bench-regions")
        log_dir = Path(f"/tmp/fieldroute-bench-regions-{workers}")
        log_dir.mkdir(exist_ok=True)
        with running(env, workers, log_dir):
            problem_id = call("POST", "/v1/problems", key, raw)["problem_id"]
            body = {"problem_id": problem_id, "time_limit_s": time_limit_s}
            started = time.monotonic()
            job = call("POST", "/v1/plans", key, body)
            while job["state"] not in ("done", "failed"):
                time.sleep(0.5)
                job = call("GET", f"/v1/jobs/{job['id']}", key)
            wall = time.monotonic() - started
            if job["state"] != "done":
                raise RuntimeError(f"job {job['id']} failed: {job['error']}")
            plan = call("GET", f"/v1/plans/{job['plan_id']}", key)
    finally:
        services("stop")
    problem = parse_problem(raw)
    report = check_day(raw, problem, plan, provider_for(problem))
    first = job["progress"]["first_plan_s"]
    return {
        "workers": workers,
        "assigned": plan["kpis"]["assigned"],
        "violations": len(report.violations),
        "first_plan_s": None if first is None else round(first, 1),
        "wall_s": round(wall, 1),
    }


def _child(argv: Sequence[str]) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter (its own peak memory)."""
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.big_days", "--child", *argv],
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _size_table(rows: Sequence[dict[str, Any]], time_limit_s: float) -> str:
    lines = [
        f"Budget {time_limit_s:g} s each; wall time from the raw day to the checked plan.\n",
        "| visits | technicians | served | urgent | high | normal | low | band | first plan s "
        "| wall s | longest pause s | peak MB (largest / sum) | violations |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        p = r["by_priority"]
        lines.append(
            f"| {r['visits']:,} | {r['technicians']} | {r['assigned']:,} "
            + " ".join(f"| {p[k][1]}/{p[k][0]}" for k in ("urgent", "high", "normal", "low"))
            + f" | {r['band']} | {r['first_plan_s']} | {r['wall_s']} | {r['longest_pause_s']} "
            f"| {r['peak_mb']:,} / {r['peak_sum_mb']:,} | {r['violations']} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the measurements asked for and record them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[])
    parser.add_argument("--regions", type=int, default=0)
    parser.add_argument("--visits", type=int, default=10_000)
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument(
        "--technicians",
        type=int,
        default=None,
        help="with --sizes: this many technicians and crews on each day's roster instead of "
        "the generator's (about one per nine visits)",
    )
    parser.add_argument(
        "--celery-workers",
        type=int,
        nargs="*",
        default=[],
        help="with --regions: also solve the day through the API on Celery with each number of "
        "workers (its regions fanned out, one task each)",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--region", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args(argv)
    if args.technicians is not None:
        if not args.sizes:
            parser.error("--technicians sets the roster of the --sizes days: give --sizes")
        if args.technicians < MIN_TECHNICIANS:
            parser.error(f"--technicians must be at least {MIN_TECHNICIANS}")
    if args.child:
        if args.regions:
            raw = region_day(args.visits, args.regions)
            if args.region:
                prefix = f"R{args.region}-"
                raw["technicians"] = [t for t in raw["technicians"] if t["id"].startswith(prefix)]
                raw["visits"] = [v for v in raw["visits"] if v["id"].startswith(prefix)]
        else:
            raw = generate_day(args.sizes[0], SEED, technicians=args.technicians)
        print(json.dumps(run_day(raw, args.time_limit)))
        return 0
    command = "python -m benchmarks.big_days " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    body = ""
    if args.sizes:
        roster = [] if args.technicians is None else ["--technicians", str(args.technicians)]
        rows = [
            _child(["--sizes", str(size), "--time-limit", str(args.time_limit), *roster])
            for size in args.sizes
        ]
        body += _size_table(rows, args.time_limit)
    if args.regions:
        whole = _child(
            [
                "--regions",
                str(args.regions),
                "--visits",
                str(args.visits),
                "--time-limit",
                str(args.time_limit),
            ]
        )
        apart = [
            _child(
                [
                    "--regions",
                    str(args.regions),
                    "--visits",
                    str(args.visits),
                    "--region",
                    str(k + 1),
                    "--time-limit",
                    str(args.time_limit / args.regions),
                ]
            )
            for k in range(args.regions)
        ]
        body += (
            f"\n{args.visits:,} visits in {args.regions} regions 300 km apart, "
            f"{args.time_limit:g} s in all.\n\n"
            "| plan | served | violations | first plan s | wall s | peak MB (largest) |\n"
            "|---|---|---|---|---|---|\n"
            f"| one day, regions found and solved apart | {whole['assigned']:,} "
            f"| {whole['violations']} | {whole['first_plan_s']} | {whole['wall_s']} "
            f"| {whole['peak_mb']:,} |\n"
            f"| each region its own day, one after another | "
            f"{sum(r['assigned'] for r in apart):,} | {sum(r['violations'] for r in apart)} "
            f"| {apart[0]['first_plan_s']} | {sum(r['wall_s'] for r in apart):.1f} "
            f"| {max(r['peak_mb'] for r in apart):,} |\n"
        )
        if args.celery_workers:
            raw = region_day(args.visits, args.regions)
            found = len(regions(parse_problem(raw)))
            fanned = [
                run_fanned_out(raw, args.time_limit, workers) for workers in args.celery_workers
            ]
            body += (
                f"\nThe same day through the API on Celery: one task per region ({found} found, "
                f"each searching for its share of the {args.time_limit:g} s by its visits), the "
                "last region joining them; wall time from "
                "the job's submission to its plan stored. Beside it, the one-process plan above, "
                "its regions one after another.\n\n"
                "| plan | workers | served | violations | first plan s | wall s |\n"
                "|---|---|---|---|---|---|\n"
                f"| one process, regions one after another | - | {whole['assigned']:,} "
                f"| {whole['violations']} | {whole['first_plan_s']} | {whole['wall_s']} |\n"
                + "".join(
                    f"| Celery, regions fanned out | {r['workers']} | {r['assigned']:,} "
                    f"| {r['violations']} | {r['first_plan_s']} | {r['wall_s']} |\n"
                    for r in fanned
                )
            )
    if args.no_record:
        sys.stdout.write(body)
    else:
        record("Big days: first plan, budget, memory, regions", command.strip(), body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
