"""Solve jobs through the API: the in-process default against Celery workers.

``python -m benchmarks.throughput --jobs 20 --visits 250 --time-limit 10`` starts throwaway
PostgreSQL and Redis (``scripts/services.sh``, on ports of their own), then for each setup
a fresh ``fieldroute serve`` on that store: the in-process default (``FIELDROUTE_WORKERS=1``),
then ``FIELDROUTE_JOBS=celery`` with one ``fieldroute worker`` and with two. Each setup gets
the same generated day posted once and ``--jobs`` solve jobs of it submitted at once; reported
are the wall time from the first submission to the last job done, jobs per minute, the median
and the longest time a job waited and took, and how many ended done.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks.dayset import generate_day
from benchmarks.results import record

__all__ = ["API_PORT", "api_key", "call", "main", "run_setup", "running", "services"]

ROOT = Path(__file__).resolve().parents[1]
FIELDROUTE = str(Path(sys.executable).parent / "fieldroute")
PORTS = {
    "FIELDROUTE_PG_PORT": "55449",
    "FIELDROUTE_PG_DIR": "/tmp/fieldroute-bench-pg",
    "FIELDROUTE_REDIS_PORT": "56399",
    "FIELDROUTE_REDIS_DIR": "/tmp/fieldroute-bench-redis",
}
API_PORT = 8799


def services(command: str) -> str:
    """``scripts/services.sh command`` on the benchmarks' own ports; its output."""
    env = os.environ | PORTS
    done = subprocess.run(
        ["bash", "scripts/services.sh", command],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


def call(method: str, path: str, key: str, body: Any = None, *, port: int = API_PORT) -> Any:
    """One request to the service under test (on ``port`` of 127.0.0.1); its JSON answer."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.loads(answer.read())


def api_key(env: dict[str, str], name: str) -> str:
    """A new dispatcher key named ``name`` in the store ``env`` points at."""
    created = subprocess.run(
        [FIELDROUTE, "apikey", "create", name], env=env, check=True, capture_output=True, text=True
    )
    return created.stdout.strip().splitlines()[-1]


@contextmanager
def running(env: dict[str, str], workers: int, log_dir: Path) -> Iterator[None]:
    """``fieldroute serve`` and ``workers`` ``fieldroute worker`` processes on ``env``, until
    the block ends; their logs in ``log_dir``."""
    processes = [
        subprocess.Popen(
            [FIELDROUTE, "serve", "--port", str(API_PORT)],
            env=env,
            stdout=(log_dir / "serve.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
    ]
    for k in range(workers):
        processes.append(
            subprocess.Popen(
                [FIELDROUTE, "worker", "--name", f"bench{k}"],
                env=env,
                stdout=(log_dir / f"worker{k}.log").open("wb"),
                stderr=subprocess.STDOUT,
            )
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{API_PORT}/healthz", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        yield
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()


def run_setup(
    name: str, jobs: int, visits: int, time_limit_s: float, celery_workers: int
) -> dict[str, Any]:
    """One setup: a fresh database, the service (and workers), ``jobs`` jobs at once."""
    database = services("url")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDROUTE_")}
    env |= {"FIELDROUTE_DATABASE_URL": database, "FIELDROUTE_WORKERS": "1"}
    if celery_workers:
        env |= {
            "FIELDROUTE_JOBS": "celery",
            "FIELDROUTE_BROKER_URL": services("redis-url"),
            "FIELDROUTE_JOB_TIME_LIMIT_MAX_S": "600",
        }
    key = api_key(env, f"bench-{name}")
    log_dir = Path(f"/tmp/fieldroute-bench-{name.replace(' ', '-')}")
    log_dir.mkdir(exist_ok=True)
    with running(env, celery_workers, log_dir):
        problem = call("POST", "/v1/problems", key, generate_day(visits, 2026))["problem_id"]
        started = time.monotonic()
        ids = [
            call("POST", "/v1/plans", key, {"problem_id": problem, "time_limit_s": time_limit_s})[
                "id"
            ]
            for _ in range(jobs)
        ]
        finished: dict[str, dict[str, Any]] = {}
        while len(finished) < jobs:
            for job_id in ids:
                if job_id not in finished:
                    job = call("GET", f"/v1/jobs/{job_id}", key)
                    if job["state"] in ("done", "failed"):
                        finished[job_id] = job
            time.sleep(0.5)
        wall = time.monotonic() - started
    took = [job["progress"]["elapsed_s"] for job in finished.values()]
    return {
        "setup": name,
        "done": sum(1 for job in finished.values() if job["state"] == "done"),
        "jobs": jobs,
        "wall_s": round(wall, 1),
        "per_minute": round(jobs / wall * 60, 1),
        "median_job_s": round(statistics.median(took), 1),
        "longest_job_s": round(max(took), 1),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run the three setups and record them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--visits", type=int, default=250)
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args(argv)
    setups = (("in-process", 0), ("celery, 1 worker", 1), ("celery, 2 workers", 2))
    rows = []
    for name, workers in setups:
        services("start")
        try:
            rows.append(run_setup(name, args.jobs, args.visits, args.time_limit, workers))
        finally:
            services("stop")
    body = (
        f"{args.jobs} solve jobs of one {args.visits}-visit day, {args.time_limit:g} s each, "
        "submitted at once through the API; PostgreSQL store.\n\n"
        "| setup | done | wall s | jobs/min | median job s | longest job s |\n"
        "|---|---|---|---|---|---|\n"
        + "".join(
            f"| {r['setup']} | {r['done']}/{r['jobs']} | {r['wall_s']} | {r['per_minute']} "
            f"| {r['median_job_s']} | {r['longest_job_s']} |\n"
            for r in rows
        )
    )
    command = "python -m benchmarks.throughput " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    if args.no_record:
        sys.stdout.write(body)
    else:
        record("Solve jobs through the API: in-process and Celery workers", command.strip(), body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
