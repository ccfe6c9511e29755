"""Booking benchmark: how fast the slots of a new visit come, and whether they can be kept.

``python -m benchmarks.slots --visits 250 --days 5 --probes 15`` plans ``days`` generated days
(``benchmarks.dayset``, seeds 2026, 2027, ...) of ``visits`` visits each on consecutive dates
from 2026-12-07 and stores them as one week (a day plan per date), then asks for the slots of
``probes`` new visits (each near a visit of the first day, with its skills, 15-60 min, no time
of its own), timing ``dispatch.desk.book.slots_stored`` whole (load, compile, answer):

- over the first day's plan alone: target median <= 0.5 s (also reported: how many probes the
  first day had no room for at all, ``span_full``: the generated days are busy, with visits
  left out);
- over the whole week (``days`` dates): target median <= 2 s;
- bookable: every slot offered over the week is booked straight away on a copy of its day's
  plan (``dispatch.booking.book_into``, nothing stored) and the booked plan held to the
  independent checker; target >= 99 % booked with 0 violations;
- against a plain "insert cheapest" baseline, which offers one time a day: where the visit's
  cheapest insertion (least added travel, no time asked) lands, when it fits at all; the
  figure is the slots offered per day (and probe) by each.

Figures go to ``benchmarks/RESULTS.md`` with the command, commit and machine.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.dayset import generate_day
from benchmarks.field_days import SEED
from benchmarks.results import record
from dispatch.booking import DayPlan, SlotAsk, offer
from dispatch.booking.book import SlotGoneError, book_into
from dispatch.booking.day import BookingDay
from dispatch.booking.schema import Shape
from dispatch.booking.slots import booking_at, booking_visit
from dispatch.contract.record import plan_record, read_record
from dispatch.contract.serialize import plan_document
from dispatch.contract.validate import parse_problem
from dispatch.desk.book import slots_stored
from dispatch.desk.solve import check_day
from dispatch.persistence import Store, StoredDay
from dispatch.planning import SolveParams, plan_day
from dispatch.travel import provider_for
from dispatch.units import format_clock

__all__ = ["main"]

#: The first date of the benchmark's week.
FIRST_DATE = date(2026, 12, 7)


def _week(
    store: Store, visits: int, days: int, plan_time_limit: float, technicians: int | None
) -> tuple[str, list[str]]:
    """Plan and store ``days`` generated days as one week (``technicians`` on each day's roster,
    the generator's own by default); its id and the day plans' ids."""
    stored: list[StoredDay] = []
    plan_ids: list[str] = []
    entries: list[dict[str, Any]] = []
    for k in range(days):
        raw = generate_day(visits, SEED + k, technicians=technicians)
        raw["date"] = (FIRST_DATE + timedelta(days=k)).isoformat()
        problem = parse_problem(raw)
        plan = plan_day(problem, params=SolveParams(time_limit_s=plan_time_limit))
        plan_id = f"pl_bench{k}"
        document = plan_document(
            problem, plan, plan_id=plan_id, version=1, created_at=datetime.now(UTC)
        ).model_dump(mode="json")
        stored.append(StoredDay(f"pb_bench{k}", raw, document, plan_record(plan)))
        plan_ids.append(plan_id)
        entries.append({"date": raw["date"], "plan_id": plan_id, "problem_id": f"pb_bench{k}"})
    week = {"week_id": "wk_bench", "problem_id": "pb_bench", "days": entries}
    store.save_week(week=week, problem_id="pb_bench", problem=stored[0].problem, days=stored)
    return "wk_bench", plan_ids


def _probes(raw: dict[str, Any], count: int, seed: int) -> list[dict[str, Any]]:
    """New visits near visits of the day, with their skills and no time of their own."""
    rng = random.Random(seed)
    picked = rng.sample(raw["visits"], count)
    return [
        {
            "id": f"BENCH{k}",
            "customer": f"Bench customer {k}",
            "location": {
                "lat": round(v["location"]["lat"] + rng.uniform(-0.005, 0.005), 6),
                "lon": round(v["location"]["lon"] + rng.uniform(-0.005, 0.005), 6),
            },
            "duration_min": rng.choice([15, 30, 45, 60]),
            "required_skills": list(v.get("required_skills", [])),
        }
        for k, v in enumerate(picked)
    ]


def _day_plan(store: Store, plan_id: str) -> DayPlan:
    raw = store.load_problem_of_plan(plan_id, 1)
    record_ = store.load_plan_record(plan_id, 1)
    assert record_ is not None
    return DayPlan(plan_id, 1, raw, parse_problem(raw, stored=True), read_record(record_))


def _bookable(days: list[DayPlan], probe: dict[str, Any], shape: Shape) -> tuple[int, int, int]:
    """Slots offered over ``days``; those booked straight away on a copy of their day's plan
    and passing the checker; the checker's violations."""
    providers = {day.plan_id: provider_for(day.problem) for day in days}
    by_id = {day.plan_id: day for day in days}
    answer = offer(days, probe, SlotAsk(shape=shape, limit=10_000), lambda d: providers[d.plan_id])
    booked = violations = 0
    for slot in answer.slots:
        day, provider = by_id[slot.plan_id], providers[slot.plan_id]
        when: dict[str, Any] = (
            {"appointment": format_clock(slot.start)}
            if slot.appointment
            else {"window": {"start": format_clock(slot.start), "end": format_clock(slot.end)}}
        )
        try:
            made = book_into(
                day, probe, when, slot.technician_id, at=booking_at(day, None), provider=provider
            )
        except SlotGoneError:
            continue
        document = plan_document(
            made.problem, made.plan, plan_id=day.plan_id, version=2, created_at=datetime.now(UTC)
        ).model_dump(mode="json")
        report = check_day(made.raw, made.problem, document, provider)
        violations += len(report.violations)
        booked += report.ok
    return len(answer.slots), booked, violations


def _baseline(day: DayPlan, probe: dict[str, Any]) -> int:
    """Slots a plain "insert cheapest" offers on ``day``: the one time where the visit's
    cheapest insertion (no time asked) lands, when it fits anywhere; else none."""
    at = booking_at(day, None)
    _, visit = booking_visit(day, probe, at=at)
    moment = datetime.fromisoformat(f"{day.date}T{at}:00").replace(tzinfo=day.problem.timezone)
    booking = BookingDay.of(day.problem, day.plan, visit, moment, provider_for(day.problem))
    return int(bool(booking.fits([(booking.at_s, 10**9)], appointment=False)[0]))


def run(
    visits: int,
    days: int,
    probes: int,
    plan_time_limit: float,
    shape: Shape,
    technicians: int | None = None,
) -> dict[str, Any]:
    """Plan and store the week, then time and check the probes; the figures."""
    with tempfile.TemporaryDirectory() as folder:
        store = Store(f"sqlite:///{Path(folder) / 'slots.db'}")
        week_id, plan_ids = _week(store, visits, days, plan_time_limit, technicians)
        days_loaded = [_day_plan(store, plan_id) for plan_id in plan_ids]
        first = days_loaded[0]
        new_visits = _probes(dict(first.raw), probes, SEED)
        day_s: list[float] = []
        week_s: list[float] = []
        offered = booked = violations = baseline = full = 0
        for probe in new_visits:
            started = time.perf_counter()
            answer = slots_stored(store, {"visit": probe, "plan_id": plan_ids[0], "shape": shape})
            day_s.append(time.perf_counter() - started)
            full += answer.code == "span_full"
            started = time.perf_counter()
            slots_stored(store, {"visit": probe, "plan_id": week_id, "shape": shape})
            week_s.append(time.perf_counter() - started)
            n, ok, bad = _bookable(days_loaded, probe, shape)
            offered, booked, violations = offered + n, booked + ok, violations + bad
            baseline += sum(_baseline(day, probe) for day in days_loaded)
        store.engine.dispose()
    return {
        "visits": visits,
        "days": days,
        "probes": probes,
        "shape": shape,
        "day_median_s": round(statistics.median(day_s), 3),
        "day_max_s": round(max(day_s), 3),
        "week_median_s": round(statistics.median(week_s), 3),
        "week_max_s": round(max(week_s), 3),
        "offered": offered,
        "booked": booked,
        "violations": violations,
        "full_on_day_1": full,
        "slots_per_day": round(offered / (probes * days), 1),
        "baseline_per_day": round(baseline / (probes * days), 1),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, print the figures and append them to RESULTS.md."""
    parser = argparse.ArgumentParser(description="Booking (slots) benchmark")
    parser.add_argument("--visits", type=int, default=250)
    parser.add_argument("--days", type=int, default=5)
    parser.add_argument("--probes", type=int, default=15)
    parser.add_argument("--plan-time-limit", type=float, default=20.0)
    parser.add_argument(
        "--shape", choices=["two_hours", "half_day", "appointment"], default="two_hours"
    )
    parser.add_argument(
        "--technicians",
        type=int,
        default=None,
        help="each day's roster (technicians and crews); the generator's own by default, "
        "which books a 250-visit day nearly full",
    )
    args = parser.parse_args(argv)
    r = run(args.visits, args.days, args.probes, args.plan_time_limit, args.shape, args.technicians)
    command = (
        f"python -m benchmarks.slots --visits {args.visits} --days {args.days} "
        f"--probes {args.probes} --plan-time-limit {args.plan_time_limit:g} --shape {args.shape}"
        + (f" --technicians {args.technicians}" if args.technicians else "")
    )
    share = r["booked"] / r["offered"] if r["offered"] else 1.0
    roster = args.technicians or "the generator's"
    body = (
        f"{r['days']} generated days of {r['visits']} visits (seeds {SEED}..; {roster} "
        "technicians and crews a day), each planned "
        f"once ({args.plan_time_limit:g} s) and stored as one week; {r['probes']} new visits "
        f"asked for `{r['shape']}` slots (load, compile, answer). Targets: one day median "
        "<= 0.5 s, the week median <= 2 s, >= 99 % of offered slots bookable straight away.\n\n"
        "| day median s | day max s | week median s | week max s | day 1 full (probes) "
        "| slots offered (week) | booked on a copy | checker violations | slots per day "
        "| insert-cheapest baseline per day |\n"
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
        f"| {r['day_median_s']} | {r['day_max_s']} | {r['week_median_s']} | {r['week_max_s']} "
        f"| {r['full_on_day_1']} / {r['probes']} | {r['offered']} | {r['booked']} ({share:.1%}) "
        f"| {r['violations']} | {r['slots_per_day']} | {r['baseline_per_day']} |\n"
    )
    record("Booking slots", command, body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
