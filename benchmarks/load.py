"""Load benchmark of the HTTP service: N concurrent clients read plans and drivers' routes
from a real ``fieldroute serve`` for a fixed time; requests/s, p50/p99 latency and errors.

    python -m benchmarks.load --database sqlite --clients 50 --seconds 60
    python -m benchmarks.load --database "$(scripts/services.sh url)" --clients 50 --seconds 60

The load comes from wrk (Debian's ``wrk``; a C load generator, so the client takes little of
the 2 cores from the server): each of the N connections sends one request after another, half
of them as the desk (an API key: the whole plan, or a route), half as drivers (a signed link:
their own route). The traffic goes to 127.0.0.1 only, is bounded in time and stops by itself.
Target: p99 < 100 ms and no errors.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from api.links import LINK_SECRET, sign_route_link
from benchmarks.dayset import generate_day
from benchmarks.results import record
from dispatch.contract.serialize import plan_document
from dispatch.contract.validate import parse_problem
from dispatch.persistence import Store, new_id
from dispatch.planning import SolveParams, plan_day


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
        issuer, key = store.create_api_key("load-benchmark")
        secret = store.secret(LINK_SECRET)
    finally:
        store.close()
    technicians = [route.technician_id for route in document.routes]
    expires = datetime.now(UTC) + timedelta(hours=1)
    tokens = {
        t: sign_route_link(secret, plan_id, t, expires, issued_by=issuer.id) for t in technicians
    }
    return plan_id, technicians, key, tokens


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _requests(plan_id: str, key: str, tokens: dict[str, str]) -> list[tuple[str, str]]:
    """The mix of reads, as ``(path, header line)``: half the desk's (the whole plan, or one
    route, with the API key), half drivers' (their own route, with their link)."""
    mix: list[tuple[str, str]] = []
    for technician, token in sorted(tokens.items()):
        route = f"/v1/plans/{plan_id}/routes/{technician}"
        mix.append((f"/v1/plans/{plan_id}", f"Bearer {key}"))
        mix.append((route, f"Bearer {key}"))
        mix.extend([(f"{route}?token={token}", "")] * 2)
    return mix


def _lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _wrk_script(mix: list[tuple[str, str]]) -> str:
    """A wrk script: each request picks one of ``mix`` at random; at the end, one JSON line of
    figures (latencies in microseconds; non-2xx answers and socket errors counted apart)."""
    entries = ",\n".join(
        f"  {{{_lua_string(path)}, {_lua_string(authorization)}}}" for path, authorization in mix
    )
    return f"""
local mix = {{
{entries}
}}
math.randomseed(7)
request = function()
  local pick = mix[math.random(#mix)]
  local headers = {{}}
  if pick[2] ~= "" then headers["Authorization"] = pick[2] end
  return wrk.format("GET", pick[1], headers)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{{"requests": %d, "micros": %d, "p50": %d, "p99": %d, "non_2xx": %d, "socket": %d}}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
end
"""


def _run_wrk(base: str, script: Path, clients: int, seconds: float) -> dict[str, int]:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("the load benchmark drives the service with wrk: apt-get install wrk")
    command = [wrk, "-t2", f"-c{clients}", f"-d{seconds:.0f}s", "--timeout", "10s"]
    answer = subprocess.run(
        [*command, "-s", str(script), base], capture_output=True, text=True, check=True
    )
    figures: dict[str, int] = json.loads(answer.stdout.strip().splitlines()[-1])
    return figures


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
    parser.add_argument(
        "--processes", type=int, default=2, help="server processes (fieldroute serve --processes)"
    )
    parser.add_argument("--no-record", action="store_true", help="print only")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as folder:
        url = args.database
        if url == "sqlite":
            url = f"sqlite:///{Path(folder) / 'load.db'}"
        plan_id, technicians, key, tokens = _seed_plan(url, args.visits)
        script = Path(folder) / "mix.lua"
        script.write_text(_wrk_script(_requests(plan_id, key, tokens)), encoding="utf-8")
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        fieldroute = Path(sys.executable).parent / "fieldroute"
        server = subprocess.Popen(
            [str(fieldroute), "serve", "--port", str(port), "--processes", str(args.processes)],
            env=os.environ | {"FIELDROUTE_DATABASE_URL": url},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_healthy(base, server)
            figures = _run_wrk(base, script, args.clients, args.seconds)
        finally:
            server.terminate()
            server.wait(timeout=30)

    elapsed = figures["micros"] / 1e6
    p50, p99 = figures["p50"] / 1000, figures["p99"] / 1000
    errors = figures["non_2xx"] + figures["socket"]
    dialect = url.split(":", 1)[0].split("+", 1)[0]
    verdict = "met" if p99 < 100 and not errors else "NOT met"
    body = (
        f"\n| database | clients | seconds | requests | requests/s | p50 ms | p99 ms | errors |\n"
        f"|---|---|---|---|---|---|---|---|\n"
        f"| {dialect} | {args.clients} | {elapsed:.0f} | {figures['requests']} | "
        f"{figures['requests'] / elapsed:.0f} | {p50:.1f} | {p99:.1f} | {errors} |\n\n"
        f"Plan of {args.visits} visits, {len(technicians)} routes; `fieldroute serve --processes "
        f"{args.processes}` (uvicorn, access log on) and the load generator (wrk, 2 threads, "
        f"{args.clients} connections: "
        f"half the reads with the desk's key, half with drivers' links) on the same 2 cores. "
        f"Target p99 < 100 ms, 0 errors: {verdict}.\n"
    )
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
