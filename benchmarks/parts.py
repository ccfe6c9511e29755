"""Spare-parts benchmark: the cost of stock on a realistic day.

``python -m benchmarks.parts --visits 250 --time-limit 30`` takes the generated field day of
``benchmarks.dayset`` (fixed seed) and gives it spare parts (``parts_day``): a catalogue of 50
part numbers, a third of the repairs needing one or two of them; half the catalogue (the
common parts, ``PN-01``..``PN-25``) rides in vans, each technician holding one or two units of
about half of those, the other half only at two depots (the service centre, open 08:00-18:00,
and a store in Humen, open 09:00-17:00), each holding 0-3 units of most parts, with a few
units due at 14:00 today and more tomorrow. The same day is planned twice with the engine's
defaults under the same time limit: **with parts**, and as if **every van held everything**
(the parts taken off the visits: the upper bound). Each row gives the visits served, those
left out for a part (``no_part``), the depot calls made, km, the plan's wall time and the
independent checker's violations (stock included); the gap between the rows is the cost of
stock. The table goes to ``benchmarks/RESULTS.md`` with the command, date, commit and machine.

``examples/parts-day.json`` is ``parts_day(60)`` written as JSON (``json.dumps(day,
ensure_ascii=False, indent=1)``).
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from random import Random
from typing import Any

from benchmarks.dayset import DATE, SERVICE_CENTRE, generate_day
from benchmarks.results import record
from dispatch.contract.serialize import plan_document
from dispatch.contract.validate import parse_problem
from dispatch.planning import SolveParams, plan_day
from dispatch.planning.compile import compile_problem
from dispatch.travel import pair_lookup, provider_for
from dispatch.verify import check_plan

__all__ = ["CATALOGUE", "main", "parts_day", "run"]

SEED = 2026
#: The catalogue: 50 part numbers; the first half are the common parts vans carry.
CATALOGUE = tuple(f"PN-{k:02d}" for k in range(1, 51))
VAN_PARTS = CATALOGUE[:25]
#: A second store, in Humen (the centre is the first).
HUMEN_STORE = (22.818, 113.673)
#: Who plans: with the day's parts, and as if every van held everything.
MODES = ("parts", "every-van-holds-everything")


def parts_day(visits: int, seed: int = SEED) -> dict[str, Any]:
    """The field day of ``visits`` visits with spare parts (see the module docstring)."""
    day = generate_day(visits, seed)
    rng = Random(seed + 24)
    # Popular parts first: a repair's part is drawn with weight falling along the catalogue's
    # halves, so some parts are in demand on many visits.
    weights = [1.0 / (1 + (k % 25)) for k in range(len(CATALOGUE))]
    repairs = [row for row in day["visits"] if row.get("kind", "repair") == "repair"]
    for row in rng.sample(repairs, len(repairs) // 3):
        count = 1 if rng.random() < 0.7 else 2
        chosen: list[str] = []
        while len(chosen) < count:
            part = rng.choices(CATALOGUE, weights)[0]
            if part not in chosen:
                chosen.append(part)
        row["parts"] = [{"part": part, "quantity": 1} for part in chosen]
    for tech in day["technicians"]:
        if tech.get("crew_size", 1) > 1:
            continue
        held = rng.sample(VAN_PARTS, len(VAN_PARTS) // 2)
        tech["van_stock"] = [{"part": p, "quantity": rng.choice((1, 1, 2))} for p in sorted(held)]
    tomorrow = f"{DATE[:-2]}{int(DATE[-2:]) + 1:02d}"
    day["depots"] = [
        _depot(rng, "DC", "Chang'an service centre", SERVICE_CENTRE, ("08:00", "18:00"), tomorrow),
        _depot(rng, "DH", "Humen store", HUMEN_STORE, ("09:00", "17:00"), tomorrow),
    ]
    return day


def _depot(
    rng: Random,
    depot_id: str,
    name: str,
    point: tuple[float, float],
    opening: tuple[str, str],
    tomorrow: str,
) -> dict[str, Any]:
    stock = [
        {"part": part, "quantity": rng.choice((0, 1, 1, 2, 3))}
        for part in CATALOGUE
        if rng.random() < 0.8
    ]
    arrivals = [
        {"part": part, "quantity": rng.randint(1, 3), "at": f"{DATE}T14:00"}
        for part in rng.sample(CATALOGUE, 5)
    ] + [
        {"part": part, "quantity": rng.randint(2, 6), "at": f"{tomorrow}T08:00"}
        for part in rng.sample(CATALOGUE, 20)
    ]
    return {
        "id": depot_id,
        "name": name,
        "location": {"lat": point[0], "lon": point[1]},
        "opening": {"start": opening[0], "end": opening[1]},
        "stock": stock,
        "arrivals": arrivals,
    }


def _without_parts(day: dict[str, Any]) -> dict[str, Any]:
    """The day as if every van held everything: no visit needs a part."""
    plain = copy.deepcopy(day)
    for row in plain["visits"]:
        row.pop("parts", None)
    for tech in plain["technicians"]:
        tech.pop("van_stock", None)
    plain.pop("depots", None)
    return plain


def run(visits: int, time_limit_s: float, mode: str) -> dict[str, Any]:
    """One plan of the parts day of ``visits`` in ``mode``; its figures as a row."""
    raw = parts_day(visits)
    if mode != "parts":
        raw = _without_parts(raw)
    problem = parse_problem(raw)
    provider = provider_for(problem)
    instance, _ = compile_problem(problem, provider)
    started = time.perf_counter()
    plan = plan_day(problem, provider=provider, params=SolveParams(time_limit_s=time_limit_s))
    wall_s = time.perf_counter() - started
    document = plan_document(
        problem, plan, plan_id="pl_bench", version=1, created_at=datetime.now(UTC)
    ).model_dump(mode="json")
    report = check_plan(raw, document, pair_lookup(provider))
    needing = sum(1 for row in raw["visits"] if row.get("parts"))
    served_needing = sum(
        1
        for route in plan.routes
        for stop in route.stops
        if any(v.id == stop.visit_id and v.parts for v in problem.visits)
    )
    return {
        "visits": visits,
        "mode": mode,
        "needing_parts": needing,
        "nodes": instance.n_nodes,
        "commodities": instance.n_commodities,
        "served": sum(len(route.stops) for route in plan.routes),
        "served_needing_parts": served_needing,
        "no_part": sum(1 for item in plan.unassigned if item.code.value == "no_part"),
        "unassigned": len(plan.unassigned),
        "depot_calls": sum(len(route.depot_stops) for route in plan.routes),
        "km": round(sum(route.distance_km for route in plan.routes), 1),
        "wall_s": round(wall_s, 1),
        "violations": len(report.violations),
    }


def _table(rows: Sequence[dict[str, Any]]) -> str:
    head = (
        "| visits | mode | need parts | nodes | commodities | served | served needing parts "
        "| no_part | unassigned | depot calls | km | wall s | violations |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
    )
    lines = [
        f"| {r['visits']} | {r['mode']} | {r['needing_parts']} | {r['nodes']} | "
        f"{r['commodities']} | {r['served']} | {r['served_needing_parts']} | {r['no_part']} | "
        f"{r['unassigned']} | {r['depot_calls']} | {r['km']} | {r['wall_s']} | "
        f"{r['violations']} |\n"
        for r in rows
    ]
    return head + "".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Plan the parts day both ways, print the table and append it to RESULTS.md."""
    parser = argparse.ArgumentParser(description="Spare-parts benchmark")
    parser.add_argument("--visits", type=int, default=250)
    parser.add_argument("--time-limit", type=float, default=30.0)
    parser.add_argument("--no-record", action="store_true", help="do not append to RESULTS.md")
    args = parser.parse_args(argv)
    rows = []
    for mode in MODES:
        rows.append(run(args.visits, args.time_limit, mode))
        sys.stdout.write(json.dumps(rows[-1]) + "\n")
        sys.stdout.flush()
    table = _table(rows)
    sys.stdout.write(table)
    if not args.no_record:
        record(
            "Spare parts",
            f"python -m benchmarks.parts --visits {args.visits} --time-limit {args.time_limit:g}",
            f"The field day of `benchmarks/dayset.py` (seed {SEED}) with spare parts "
            "(`benchmarks/parts.py`: 50 part numbers, a third of the repairs needing one or "
            "two, half the catalogue in vans, two depots), planned with parts and as if every "
            "van held everything (the upper bound); engine defaults, "
            f"{args.time_limit:g} s each.\n\n" + table,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
