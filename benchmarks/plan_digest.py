"""Digests of reproducible plans: proof that a change of layout did not change behaviour.

Runs the user's own commands in reproducible mode (``--seed``) on the demo day and on two
generated days (60 and 250 visits, seed 7), each in a fresh SQLite store: ``fieldroute solve``,
then ``fieldroute replan`` of a batch (the busiest technician 35 minutes late at 10:40). Each
plan and version is reduced to what the engine decided (ids, timestamps and timings dropped)
and hashed; the same code gives the same digests on the same machine, and a refactoring must
too. The time limit is only a cap in reproducible mode, and a run that reaches it is no longer
reproducible (at 20 s the demo day's side search sometimes missed its deadline): 60 s leaves
these days (about 10 s of work each) far from it. The table goes to ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.dayset import generate_day
from benchmarks.results import record

__all__ = ["digest", "main"]

_REPOSITORY = Path(__file__).resolve().parents[1]
DEMO_DAY = _REPOSITORY / "examples" / "changan-day.json"
#: Keys that change from run to run without the engine deciding anything different.
_VOLATILE = {"plan_id", "created_at", "solve_s", "problem_id"}
AT = "10:40"


def _decided(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _decided(v) for k, v in value.items() if k not in _VOLATILE}
    if isinstance(value, list):
        return [_decided(v) for v in value]
    return value


def digest(plan: dict[str, Any]) -> str:
    """The first 16 hex digits of the SHA-256 of what the engine decided in ``plan``."""
    text = json.dumps(_decided(plan), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _fieldroute(args: list[str], store: str) -> None:
    command = [str(Path(sys.executable).parent / "fieldroute"), *args]
    env = os.environ | {"DATABASE_URL": store}
    subprocess.run(command, env=env, check=True, capture_output=True, timeout=600)


def _case(name: str, day: Path, seed: int, time_limit: float, folder: Path) -> dict[str, str]:
    store = f"sqlite:///{folder / f'{name}.db'}"
    first = folder / f"{name}-plan.json"
    _fieldroute(
        ["solve", str(day), "-o", str(first), "--seed", str(seed), "--time-limit", str(time_limit)],
        store,
    )
    plan = json.loads(first.read_text(encoding="utf-8"))
    busiest = max(
        plan["routes"],
        key=lambda r: (sum(s["arrival"][11:16] > AT for s in r["stops"]), r["technician_id"]),
    )
    events = folder / f"{name}-events.json"
    batch = {
        "at": AT,
        "events": [{"type": "delay", "technician_id": busiest["technician_id"], "minutes": 35}],
    }
    events.write_text(json.dumps(batch), encoding="utf-8")
    second = folder / f"{name}-v2.json"
    _fieldroute(["replan", plan["plan_id"], str(events), "-o", str(second), "--seed", "1"], store)
    version = json.loads(second.read_text(encoding="utf-8"))
    return {
        "plan": digest(plan),
        "replan": digest(version),
        "assigned": str(plan["kpis"]["assigned"]),
        "changes": str(len(version["changes"])),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Solve and re-plan the three days, print the digests and append them to RESULTS.md."""
    parser = argparse.ArgumentParser(description="Digests of reproducible plans")
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-record", action="store_true", help="do not append to RESULTS.md")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        days = {"demo": DEMO_DAY}
        for visits in (60, 250):
            path = folder / f"generated-{visits}.json"
            path.write_text(json.dumps(generate_day(visits, 7)), encoding="utf-8")
            days[path.stem] = path
        for name, day in days.items():
            found = _case(name, day, args.seed, args.time_limit, folder)
            rows.append(
                f"| {name} | {found['assigned']} | `{found['plan']}` | {found['changes']} "
                f"| `{found['replan']}` |"
            )
            print(rows[-1], flush=True)
    command = (
        f"python -m benchmarks.plan_digest --time-limit {args.time_limit:g} --seed {args.seed}"
    )
    body = (
        f"`fieldroute solve --seed {args.seed}` then `fieldroute replan --seed 1` (the busiest "
        f"technician 35 min late at {AT}); SHA-256 of each plan without ids, timestamps and "
        "timings.\n\n"
        "Days: demo = examples/changan-day.json; generated-N = `generate_day(N, 7)`.\n\n"
        "| day | assigned | plan digest | changes | re-plan digest |\n"
        "|---|---:|---|---:|---|\n" + "\n".join(rows) + "\n"
    )
    if not args.no_record:
        record("Plan digests", command, body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
