"""The week document (``docs/contract.md``, Week plan): a horizon's plan as the contract's JSON.

Each date points at its own stored day plan; the week adds what only a week shows: per day and
technician the stops, hours and utilisation, what was left out with its promise, every due
date of every round with its status, and the week's headline figures. The rules the
independent checker found broken in a day's plan are counted on that day and in the figures:
a day plan is stored even then, as a single day's is, and the week says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dispatch.model import (
    Horizon,
    Plan,
    Problem,
    TimeWindow,
    Unassigned,
    UnassignedCode,
    Visit,
    VisitId,
)
from dispatch.units import after, earliest, elapsed, hours_on, iso

__all__ = ["WeekDay", "promise_end", "span_end", "week_document"]


@dataclass(frozen=True, slots=True)
class WeekDay:
    """One date of a planned horizon: its stored day plan, or nothing when nobody works."""

    date: date
    plan_id: str | None = None
    problem_id: str | None = None
    problem: Problem | None = None
    plan: Plan | None = None
    #: Rules the independent checker found broken in the day's plan.
    violations: int = 0


def promise_end(visit: Visit) -> datetime | None:
    """The latest service start the customer was promised: the appointment, the urgent
    deadline or the end of the window (a span; with daily hours, ``span_end``)."""
    if visit.appointment is not None:
        return visit.appointment
    span = span_end(visit.window, visit.daily_window) if visit.window else None
    ends = [moment for moment in (visit.deadline, span) if moment]
    return min(ends) if ends else None


def span_end(window: TimeWindow, daily: tuple[timedelta, timedelta] | None) -> datetime:
    """The end of the span ``window``; with ``daily`` hours (offsets from local midnight), their
    close on the span's last day that has them, as the horizon reads a day's hours
    (``dispatch.horizon.days``): a round due by Saturday, 14:00-16:00, ended at 16:00, not at
    the midnight after."""
    zone = window.end.tzinfo
    if daily is None or not isinstance(zone, ZoneInfo):
        return window.end
    day = window.end.date()
    while day >= window.start.date():
        first, last = hours_on(day, daily, zone)
        if not after(first, window.end) and not after(window.start, last):
            return earliest(window.end, last)
        day -= timedelta(days=1)
    return window.end


def _hours(duration: timedelta) -> float:
    return round(duration.total_seconds() / 3600, 2)


def _day(entry: WeekDay) -> dict[str, Any]:
    if entry.plan is None or entry.problem is None or entry.plan.kpis is None:
        return {
            "date": entry.date.isoformat(),
            "plan_id": None,
            "problem_id": None,
            "visits": 0,
            "distance_km": 0.0,
            "utilisation": 0.0,
            "violations": 0,
            "technicians": [],
        }
    shifts = {t.id: elapsed(t.shift.start, t.working_end) for t in entry.problem.technicians}
    technicians = [
        {
            "technician_id": route.technician_id,
            "stops": len(route.stops),
            "hours": _hours(elapsed(route.start_time, route.end_time)),
            "utilisation": round((route.travel + route.service) / shifts[route.technician_id], 4)
            if shifts[route.technician_id]
            else 0.0,
        }
        for route in entry.plan.routes
    ]
    return {
        "date": entry.date.isoformat(),
        "plan_id": entry.plan_id,
        "problem_id": entry.problem_id,
        "visits": entry.plan.kpis.assigned,
        "distance_km": entry.plan.kpis.distance_km,
        "utilisation": entry.plan.kpis.utilisation,
        "violations": entry.violations,
        "technicians": technicians,
    }


def week_document(
    horizon: Horizon,
    days: Sequence[WeekDay],
    unassigned: Sequence[Unassigned],
    *,
    week_id: str,
    problem_id: str,
    created_at: datetime,
    solve_s: float,
) -> dict[str, Any]:
    """The week document of a planned horizon."""
    visits: dict[VisitId, Visit] = {visit.id: visit for visit in horizon.visits}
    # Visits filed before the solve (beyond it, nobody able at work) still have a promise.
    promises: dict[VisitId, Visit] = visits | {visit.id: visit for visit in horizon.filed}
    served: dict[VisitId, tuple[date, datetime]] = {}
    for entry in days:
        for route in entry.plan.routes if entry.plan else ():
            for stop in route.stops:
                served[stop.visit_id] = (entry.date, stop.service_start)
    within = sum(  # an overdue visit's promise was broken before the horizon began
        1
        for visit_id, (_, start) in served.items()
        if visit_id not in horizon.due_now
        and ((end := promise_end(visits[visit_id])) is None or not after(start, end))
    )
    left = {u.visit_id: u for u in unassigned}
    rounds = []
    for occurrence in horizon.rounds:
        placed = served.get(occurrence.visit_id)
        if placed is not None:
            status = "overdue" if occurrence.overdue_since else "planned"
        elif (
            left.get(occurrence.visit_id)
            and left[occurrence.visit_id].code is UnassignedCode.BEYOND_HORIZON
        ):
            status = "beyond_horizon"
        else:
            status = "unassigned"
        rounds.append(
            {
                "round_id": occurrence.round_id,
                "visit_id": occurrence.visit_id,
                "due": occurrence.due.isoformat(),
                "earliest": occurrence.earliest.isoformat(),
                "latest": occurrence.latest.isoformat(),
                "status": status,
                "date": placed[0].isoformat() if placed else None,
                "overdue_since": occurrence.overdue_since.isoformat()
                if occurrence.overdue_since
                else None,
            }
        )
    shaped = [_day(entry) for entry in days]
    working = [day["utilisation"] for day, entry in zip(shaped, days, strict=True) if entry.plan]
    return {
        "week_id": week_id,
        "problem_id": problem_id,
        "created_at": iso(created_at),
        "timezone": horizon.timezone.key,
        "dates": [day.isoformat() for day in horizon.dates],
        "days": shaped,
        "unassigned": [
            {
                "visit_id": item.visit_id,
                "code": item.code.value,
                "reason": item.reason,
                "latest": iso(end)
                if item.visit_id in promises and (end := promise_end(promises[item.visit_id]))
                else None,
                "candidates": list(item.candidates),
            }
            for item in unassigned
        ],
        "rounds": rounds,
        "kpis": {
            "visits": len(horizon.visits) + len(horizon.beyond),
            "assigned": len(served),
            "within_promise": within,
            "distance_km": round(sum(day["distance_km"] for day in shaped), 1),
            "utilisation_max": max(working, default=0.0),
            "utilisation_min": min(working, default=0.0),
            "violations": sum(entry.violations for entry in days),
            "solve_s": round(solve_s, 2),
        },
    }
