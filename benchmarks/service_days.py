"""Field days planned through ``fieldroute serve`` beside the engine in a process of its own.

``python -m benchmarks.service_days --makes dayset city rural --sizes 60 250 --seeds 3
--budgets 2 10`` draws, for each maker, size, seed and budget, the day ``benchmarks.field_seeds``
draws, and plans it twice with the engine's defaults:

- ``direct``: ``benchmarks.field_seeds``' own ``ours`` run, in a fresh process;
- ``service``: through one ``fieldroute serve`` (the script users run, on the embedded default:
  a SQLite store, jobs in the service's own worker process), started once for the whole run and
  given one small job first, so that its worker is up as on a service already running. Each day
  is posted (``POST /v1/problems``), solved as a job with the budget (``POST /v1/plans``) and
  waited for, one job at a time; its plan is read back (``GET /v1/plans/{id}``).

Both plans are weighed as issue 18 counts (priority-weighted visits: urgent 100, high 30,
normal 10, low 3) and judged by the independent checker. A plan made through the service
should be worth the direct one at the same budget: what the service costs a solve (its job
queue, the store, helper processes that import more than the engine) shows here as a gap, where
every other benchmark, run with ``python -m``, cannot see it (a side process importing the whole
command line cost the service's solves 2-3 s of their budget until the script stopped
importing it). Reported per maker, size and budget: the means of both, the mean gap, and the
mean time from the job's submission until it was seen done beside the direct run's wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.field_seeds import MAKES, WEIGHT, generate
from benchmarks.results import record
from benchmarks.throughput import FIELDROUTE, api_key, call
from dispatch.contract.validate import parse_problem
from dispatch.travel import pair_lookup, provider_for
from dispatch.verify import check_plan

__all__ = ["Service", "judged", "main", "serving", "through_service"]

#: How often a job's state is asked for while it runs.
POLL_S = 0.05
#: How long the service has to answer its first health check.
START_S = 120.0


@dataclass(frozen=True, slots=True)
class Service:
    """A running ``fieldroute serve``: its port and a dispatcher key."""

    port: int
    key: str

    def call(self, method: str, path: str, body: Any = None) -> Any:
        """One request; its JSON answer."""
        return call(method, path, self.key, body, port=self.port)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@contextmanager
def serving(folder: Path) -> Iterator[Service]:
    """``fieldroute serve`` on a SQLite store in ``folder`` (its log there too), on a free port
    of 127.0.0.1, until the block ends."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDROUTE_")}
    env["FIELDROUTE_DATABASE_URL"] = f"sqlite:///{folder / 'store.db'}"
    key = api_key(env, "bench")
    port = _free_port()
    with (folder / "serve.log").open("wb") as log:
        process = subprocess.Popen(
            [FIELDROUTE, "serve", "--port", str(port)], env=env, stdout=log, stderr=log
        )
        try:
            deadline = time.monotonic() + START_S
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
                    break
                except OSError:
                    if time.monotonic() > deadline or process.poll() is not None:
                        raise
                    time.sleep(0.2)
            yield Service(port, key)
        finally:
            process.terminate()
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def through_service(
    service: Service, raw: Mapping[str, Any], budget_s: float
) -> tuple[dict[str, Any], float]:
    """``raw`` posted and solved as one job of ``budget_s``: the plan, and the seconds from
    the job's submission until it was seen done.

    Raises
    ------
    RuntimeError
        The job failed (its error).
    """
    problem_id = service.call("POST", "/v1/problems", raw)["problem_id"]
    started = time.perf_counter()
    job = service.call("POST", "/v1/plans", {"problem_id": problem_id, "time_limit_s": budget_s})
    while job["state"] not in ("done", "failed"):
        time.sleep(POLL_S)
        job = service.call("GET", f"/v1/jobs/{job['id']}")
    wall_s = time.perf_counter() - started
    if job["state"] == "failed":
        raise RuntimeError(f"job {job['id']} failed: {job['error']}")
    return service.call("GET", f"/v1/plans/{job['plan_id']}"), wall_s


def judged(raw: Mapping[str, Any], document: Mapping[str, Any]) -> dict[str, Any]:
    """The plan ``document`` of ``raw`` weighed and checked as ``benchmarks.field_seeds``
    does: priority-weighted visits, appointments in the band and violations, as the
    independent checker finds them."""
    problem = parse_problem(raw)
    priority = {str(visit.id): visit.priority.label for visit in problem.visits}
    weighted = sum(
        WEIGHT[priority[stop["visit_id"]]]
        for route in document["routes"]
        for stop in route["stops"]
        if stop.get("visit_id") is not None
    )
    report = check_plan(raw, document, pair_lookup(provider_for(problem)))
    return {
        "weighted": weighted,
        "in_band": report.appointments_in_band,
        "appointments": report.appointment_stops,
        "violations": len(report.violations),
    }


def direct(make: str, visits: int, seed: int, budget_s: float) -> dict[str, Any]:
    """``benchmarks.field_seeds``' ``ours`` run of the day, in a fresh process."""
    one = f"{make}:{visits}:{seed}:{budget_s}:ours"
    child = subprocess.run(
        [sys.executable, "-m", "benchmarks.field_seeds", "--one", one],
        capture_output=True,
        text=True,
        check=False,
    )
    if child.returncode != 0:
        reason = (child.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"the direct run of {one} failed: {reason}")
    row: dict[str, Any] = json.loads(child.stdout.splitlines()[-1])
    return row


def _mean(values: Sequence[float]) -> str:
    return f"{statistics.fmean(values):,.1f}"


def _table(rows: Sequence[Mapping[str, Any]]) -> str:
    """Means per maker, size and budget, the service beside the direct run."""
    groups: dict[tuple[str, int, float], list[Mapping[str, Any]]] = {}
    for row in rows:
        groups.setdefault((row["make"], row["visits"], row["budget_s"]), []).append(row)
    lines = [
        "| maker | visits | budget s | days | direct weighted | service weighted | gap "
        "| direct s | service s | violations | in band |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (make, visits, budget_s), found in groups.items():
        direct_w = [row["direct"]["weighted"] for row in found]
        service_w = [row["service"]["weighted"] for row in found]
        gap = 100 * (sum(service_w) - sum(direct_w)) / max(1, sum(direct_w))
        both = [row[way] for row in found for way in ("direct", "service")]
        violations = sum(plan["violations"] for plan in both)
        appointments = sum(plan["appointments"] for plan in both)
        in_band = sum(plan["in_band"] for plan in both)
        share = f"{100 * in_band / appointments:.0f} %" if appointments else "-"
        lines.append(
            f"| {make} | {visits} | {budget_s:g} | {len(found)} | {_mean(direct_w)} "
            f"| {_mean(service_w)} | {gap:+.2f} % "
            f"| {_mean([row['direct']['wall_s'] for row in found])} "
            f"| {_mean([row['service']['wall_s'] for row in found])} | {violations} | {share} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Plan each day both ways, print a JSON line per day and record the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--makes", nargs="+", choices=MAKES, default=list(MAKES))
    parser.add_argument("--sizes", nargs="+", type=int, default=[60, 250])
    parser.add_argument("--seeds", type=int, default=3, help="seeds 1 to this")
    parser.add_argument("--budgets", nargs="+", type=float, default=[2.0, 10.0])
    parser.add_argument("--no-record", action="store_true", help="do not append to RESULTS.md")
    args = parser.parse_args(argv)
    rows: list[dict[str, Any]] = []
    days = [
        (make, visits, seed, budget_s)
        for make in args.makes
        for visits in args.sizes
        for seed in range(1, args.seeds + 1)
        for budget_s in args.budgets
    ]
    with (
        tempfile.TemporaryDirectory(prefix="fieldroute-service-days-") as folder,
        serving(Path(folder)) as service,
    ):
        through_service(service, generate("dayset", 10, 1), 1.0)  # its worker up
        for make, visits, seed, budget_s in days:
            raw = generate(make, visits, seed)
            ran = direct(make, visits, seed, budget_s)
            document, wall_s = through_service(service, raw, budget_s)
            row = {
                "make": make,
                "visits": visits,
                "seed": seed,
                "budget_s": budget_s,
                "direct": {key: ran[key] for key in (*_JUDGED, "wall_s")},
                "service": {**judged(raw, document), "wall_s": wall_s},
            }
            sys.stdout.write(json.dumps(row) + "\n")
            sys.stdout.flush()
            rows.append(row)
    body = (
        "Each day planned by the engine in a fresh process (`direct`) and as a job of one "
        "`fieldroute serve` (SQLite, in-process jobs), one job at a time; service seconds run "
        "from the job's submission until it was seen done (polled every "
        f"{POLL_S:g} s).\n\n" + _table(rows)
    )
    command = "python -m benchmarks.service_days " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    if args.no_record:
        sys.stdout.write(body)
    else:
        record("Field days through the service", command.strip(), body)
    return 0


#: What ``judged`` measures of a plan, as ``benchmarks.field_seeds`` names it.
_JUDGED = ("weighted", "in_band", "appointments", "violations")


if __name__ == "__main__":
    raise SystemExit(main())
