"""A generated week planned as one horizon against day by day with rollover, same total time.

``python -m benchmarks.week --visits-per-day 250 --seconds-per-day 20`` generates a week
(``benchmarks.weekset``: fixed appointments and windows, faults with 2-hour and 24-hour
promises arriving each day, spans, weekly and monthly rounds) and plans it twice:

- **horizon**: one solve of the whole week (``dispatch.desk.week.solve_week``), given
  ``days x seconds-per-day``;
- **day by day**, the way a desk works today: each morning a one-day horizon holding what is
  due that day or could be served that day and was not served yet (fixed visits of that date,
  faults reported by the end of that day, spans and round due dates open that day), each given
  ``seconds-per-day``; what is not served rolls into the next day.

Both see the same visits and the same geodesic travel. Reported per method: visits served,
served inside their promise (of those promised within the week), round due dates served within
their tolerance, the busiest and the quietest day's utilisation (balance), km, the checker's
violations over every day plan, wall time, and for the horizon the time to its first valid
plan. Results go to ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from benchmarks.results import record
from benchmarks.weekset import generate_week
from dispatch.contract.horizon import parse_horizon
from dispatch.contract.week import promise_end
from dispatch.desk.week import SolvedWeek, solve_week
from dispatch.model import Horizon, Visit
from dispatch.persistence.store import StoredDay
from dispatch.planning import Progress, SolveParams

__all__ = ["Outcome", "day_by_day", "main", "one_horizon"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one method made of the week."""

    served: dict[str, tuple[date, datetime]]
    utilisation: dict[date, float]
    distance_km: float
    violations: int
    wall_s: float
    first_plan_s: float | None = None


def _solve(
    raw: Mapping[str, Any], seconds: float, seed: int
) -> tuple[SolvedWeek, list[StoredDay], float | None]:
    stored: list[StoredDay] = []
    first: list[float] = []
    started = time.perf_counter()

    def heard(progress: Progress) -> None:
        if not first and progress.placed:
            first.append(time.perf_counter() - started)

    week = solve_week(
        raw,
        parse_horizon(raw),
        params=SolveParams(time_limit_s=seconds, seed=seed),
        save=lambda _document, days: stored.extend(days),
        on_progress=heard,
    )
    return week, stored, first[0] if first else None


def _served(days: Sequence[StoredDay]) -> dict[str, tuple[date, datetime]]:
    served = {}
    for day in days:
        on = date.fromisoformat(day.problem["date"])
        for route in day.plan["routes"]:
            for stop in route["stops"]:
                served[stop["visit_id"]] = (on, datetime.fromisoformat(stop["service_start"]))
    return served


def _utilisation(week: SolvedWeek) -> dict[date, float]:
    return {
        date.fromisoformat(day["date"]): day["utilisation"]
        for day in week.document["days"]
        if day["plan_id"]
    }


def one_horizon(raw: Mapping[str, Any], seconds: float, seed: int) -> Outcome:
    """Plan the week in one solve of ``seconds``."""
    started = time.perf_counter()
    week, days, first = _solve(raw, seconds, seed)
    return Outcome(
        _served(days),
        _utilisation(week),
        week.document["kpis"]["distance_km"],
        week.violations,
        time.perf_counter() - started,
        first,
    )


def _as_spans(raw: Mapping[str, Any], horizon: Horizon) -> list[dict[str, Any]]:
    """The week's round due dates as visits with a span, so each morning's horizon of one day
    sees them exactly as the week does."""
    rounds = {row["id"]: row for row in raw.get("rounds", [])}
    round_only = {"every", "tolerance_days", "last_served", "first_due", "window"}
    visits = []
    for occurrence in horizon.rounds:
        row = {k: v for k, v in rounds[occurrence.round_id].items() if k not in round_only}
        row["id"] = occurrence.visit_id
        row["earliest"] = f"{occurrence.earliest.isoformat()}T00:00"
        row["latest"] = f"{occurrence.latest.isoformat()}T23:59"
        if "window" in rounds[occurrence.round_id]:
            row["window"] = rounds[occurrence.round_id]["window"]
        visits.append(row)
    return visits


def _open_on(row: Mapping[str, Any], day: date) -> bool:
    """Whether a visit could be served on ``day`` (by what the desk knows by its end)."""
    if "date" in row:
        return bool(row["date"] == day.isoformat())
    opens = row.get("reported_at") or row.get("earliest")
    return opens is None or date.fromisoformat(opens[:10]) <= day


def day_by_day(raw: Mapping[str, Any], seconds_per_day: float, seed: int) -> Outcome:
    """Plan each date alone, in order, rolling what was not served into the next."""
    horizon = parse_horizon(raw)
    pool = list(raw["visits"]) + _as_spans(raw, horizon)
    served: dict[str, tuple[date, datetime]] = {}
    utilisation: dict[date, float] = {}
    distance = 0.0
    violations = 0
    started = time.perf_counter()
    for day in horizon.dates:
        today = [row for row in pool if row["id"] not in served and _open_on(row, day)]
        morning = copy.deepcopy(dict(raw))
        morning["horizon"] = {"start": day.isoformat(), "days": 1}
        morning["visits"] = [_still_due(row, day) for row in today]
        morning["rounds"] = []
        week, days, _ = _solve(morning, seconds_per_day, seed)
        served.update(_served(days))
        utilisation.update(_utilisation(week))
        distance += week.document["kpis"]["distance_km"]
        violations += week.violations
    return Outcome(
        served, utilisation, round(distance, 1), violations, time.perf_counter() - started
    )


def _still_due(row: Mapping[str, Any], day: date) -> dict[str, Any]:
    """A visit as the desk types it in on ``day``: a span that already ended is due now."""
    kept = dict(row)
    latest = kept.get("latest")
    if latest is not None and latest[:10] < day.isoformat():
        kept["latest"] = f"{day.isoformat()}T23:59"
        if kept.get("earliest", "") > kept["latest"]:
            kept.pop("earliest")
    return kept


def _figures(
    name: str, outcome: Outcome, visits: Mapping[str, Visit], horizon: Horizon
) -> dict[str, Any]:
    promised = [v for v in horizon.promised if v in visits]
    inside = sum(
        1
        for visit_id in promised
        if visit_id in outcome.served
        and (end := promise_end(visits[visit_id])) is not None
        and outcome.served[visit_id][1] <= end
    )
    rounds_ok = sum(
        1
        for o in horizon.rounds
        if o.visit_id in outcome.served and o.earliest <= outcome.served[o.visit_id][0] <= o.latest
    )
    busy = list(outcome.utilisation.values())
    return {
        "method": name,
        "served": len(outcome.served),
        "visits": len(visits),
        "inside_promise": inside,
        "promised": len(promised),
        "rounds_ok": rounds_ok,
        "rounds": len(horizon.rounds),
        "busiest": max(busy, default=0.0),
        "quietest": min(busy, default=0.0),
        "km": outcome.distance_km,
        "violations": outcome.violations,
        "wall_s": round(outcome.wall_s, 1),
        "first_plan_s": round(outcome.first_plan_s, 1) if outcome.first_plan_s else None,
    }


def _table(rows: Sequence[Mapping[str, Any]]) -> str:
    lines = [
        "| method | served | inside promise | rounds in tolerance | busiest day | quietest day "
        "| km | violations | wall s | first plan s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['method']} | {r['served']}/{r['visits']} "
            f"| {r['inside_promise']}/{r['promised']} "
            f"| {r['rounds_ok']}/{r['rounds']} | {r['busiest']:.1%} | {r['quietest']:.1%} "
            f"| {r['km']:,.1f} | {r['violations']} | {r['wall_s']} | {r['first_plan_s'] or '-'} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the comparison and record it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits-per-day", type=int, default=250)
    parser.add_argument("--days", type=int, default=5)
    parser.add_argument("--seconds-per-day", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-record", action="store_true", help="print only")
    args = parser.parse_args(argv)
    raw = generate_week(args.visits_per_day, args.seed, args.days)
    horizon = parse_horizon(raw)
    visits: dict[str, Visit] = {v.id: v for v in horizon.visits}
    rows = [
        _figures(
            "one horizon",
            one_horizon(raw, args.seconds_per_day * args.days, args.seed),
            visits,
            horizon,
        ),
        _figures("day by day", day_by_day(raw, args.seconds_per_day, args.seed), visits, horizon),
    ]
    body = (
        f"A generated week: {args.days} days, {len(visits)} visits and round due dates "
        f"({len(horizon.beyond)} more beyond it), seed {args.seed}; "
        f"{args.seconds_per_day:g} s per day for each method.\n\n" + _table(rows)
    )
    command = "python -m benchmarks.week " + " ".join(argv if argv is not None else sys.argv[1:])
    if args.no_record:
        sys.stdout.write(body)
    else:
        record("Week: one horizon against day by day", command.strip(), body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
