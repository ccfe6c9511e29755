"""Load benchmark of the HTTP service: N concurrent clients read plans and drivers' routes
from a real ``fieldroute serve`` for a fixed time; requests/s, p50/p99 latency and errors.

    python -m benchmarks.load --database sqlite --clients 50 --seconds 60
    python -m benchmarks.load --database "$(scripts/services.sh url)" --clients 50 --seconds 60

Half the clients read as the desk (an API key: the whole plan, or a route), half as drivers
(a signed link: their own route). The traffic goes to 127.0.0.1 only, is bounded in time and
stops by itself. Target: p99 < 100 ms and no errors.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx2 as httpx

from benchmarks.dayset import generate_day
from benchmarks.results import record
from dispatch.links import sign_route_link
from dispatch.persistence import Store, new_id
from dispatch.planning import SolveParams, plan_day
from dispatch.serialize import plan_document
from dispatch.validate import parse_problem


def _seed_plan(url: str, visits: int) -> tuple[str, list[str], str, dict[str, str]]:
    """Store one solved day; ``(plan_id, technicians with routes, api key, driver tokens)``."""
    raw = generate_day(visits, seed=7)
    problem = parse_problem(raw)
    plan = plan_day(problem, params=SolveParams(time_limit_s=5))
    plan_id = new_id("pl")
    document = plan_document(
        problem, plan, plan_id=plan_id, version=1, created_at=datetime.now(UTC)
    )
    store = Store(url)
    try:
        store.save_problem_and_plan(raw, document.model_dump(mode="json"), problem_id=new_id("pb"))
        key = store.create_api_key("load-benchmark")[1]
        secret = store.secret("driver_links")
    finally:
        store.close()
    technicians = [route.technician_id for route in document.routes]
    expires = datetime.now(UTC) + timedelta(hours=1)
    tokens = {t: sign_route_link(secret, plan_id, t, expires) for t in technicians}
    return plan_id, technicians, key, tokens


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def _client(
    number: int,
    base: str,
    plan_id: str,
    key: str,
    tokens: dict[str, str],
    deadline: float,
    latencies: list[float],
    errors: list[str],
) -> None:
    technicians = sorted(tokens)
    chooser = random.Random(number)
    desk = number % 2 == 0
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        while time.monotonic() < deadline:
            technician = chooser.choice(technicians)
            if desk:
                path = (
                    f"/v1/plans/{plan_id}"
                    if chooser.random() < 0.5
                    else (f"/v1/plans/{plan_id}/routes/{technician}")
                )
                headers, params = {"Authorization": f"Bearer {key}"}, {}
            else:
                path = f"/v1/plans/{plan_id}/routes/{technician}"
                headers, params = {}, {"token": tokens[technician]}
            started = time.perf_counter()
            try:
                answer = await http.get(path, headers=headers, params=params)
                if answer.status_code != 200:
                    errors.append(f"{answer.status_code} {path}")
            except httpx.HTTPError as error:
                errors.append(f"{type(error).__name__} {path}")
            latencies.append(time.perf_counter() - started)


async def _load(
    base: str, plan_id: str, key: str, tokens: dict[str, str], clients: int, seconds: float
) -> tuple[list[float], list[str], float]:
    latencies: list[float] = []
    errors: list[str] = []
    started = time.monotonic()
    deadline = started + seconds
    await asyncio.gather(
        *(
            _client(n, base, plan_id, key, tokens, deadline, latencies, errors)
            for n in range(clients)
        )
    )
    return latencies, errors, time.monotonic() - started


def _wait_healthy(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("fieldroute serve stopped; see its output above")
        try:
            with urllib.request.urlopen(f"{base}/healthz") as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("fieldroute serve did not answer /healthz within 60 s")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and record its figures."""
    parser = argparse.ArgumentParser(description="HTTP service load benchmark")
    parser.add_argument("--database", default="sqlite", help="'sqlite' (a fresh file) or a URL")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--visits", type=int, default=250, help="size of the day served")
    parser.add_argument("--no-record", action="store_true", help="print only")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as folder:
        url = args.database
        if url == "sqlite":
            url = f"sqlite:///{Path(folder) / 'load.db'}"
        plan_id, technicians, key, tokens = _seed_plan(url, args.visits)
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        fieldroute = Path(sys.executable).parent / "fieldroute"
        server = subprocess.Popen(
            [str(fieldroute), "serve", "--port", str(port)],
            env=os.environ | {"FIELDROUTE_DATABASE_URL": url},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_healthy(base, server)
            latencies, errors, elapsed = asyncio.run(
                _load(base, plan_id, key, tokens, args.clients, args.seconds)
            )
        finally:
            server.terminate()
            server.wait(timeout=30)

    latencies.sort()
    quantiles = statistics.quantiles(latencies, n=100)
    p50, p99 = quantiles[49] * 1000, quantiles[98] * 1000
    dialect = url.split(":", 1)[0].split("+", 1)[0]
    verdict = "met" if p99 < 100 and not errors else "NOT met"
    body = (
        f"\n| database | clients | seconds | requests | requests/s | p50 ms | p99 ms | errors |\n"
        f"|---|---|---|---|---|---|---|---|\n"
        f"| {dialect} | {args.clients} | {elapsed:.0f} | {len(latencies)} | "
        f"{len(latencies) / elapsed:.0f} | {p50:.1f} | {p99:.1f} | {len(errors)} |\n\n"
        f"Plan of {args.visits} visits, {len(technicians)} routes; one `fieldroute serve` process "
        f"(uvicorn, 1 worker) and the client on the same 2 cores. Target p99 < 100 ms, 0 errors: "
        f"{verdict}.\n"
    )
    if errors:
        body += f"First errors: {errors[:5]}\n"
    command = "python -m benchmarks.load " + " ".join(
        a if a != url or args.database == "sqlite" else "$URL" for a in (argv or sys.argv[1:])
    )
    if args.no_record:
        print(body)
    else:
        record(f"HTTP service load, {dialect}", command.strip(), body)
    return 0 if verdict == "met" else 1


if __name__ == "__main__":
    raise SystemExit(main())
