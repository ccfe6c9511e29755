"""Cut a planned horizon into day problems: the contract's JSON of one date of it.

Each day of a horizon plan is stored as an ordinary day plan, so it keeps every day's tool
(map, driver links, events, time-tracking card, the independent checker). Its day problem lists
the technicians working that date, with that date's shift and breaks, and the visits placed on
it, each with the times that hold on that date: a fixed visit keeps its appointment or window,
a visit due within a span gets the part of the span that falls on the date (and the daily
hours it is served in) as its ``window``, an urgent fault keeps its ``reported_at`` when
reported that date (else its deadline bounds the window), a round's due date becomes a visit
of its own. ``day_span`` says whether, and when, a visit's span allows it on a date (the
re-plan of a day of a week asks it before moving a visit to a later date).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from dispatch.model import Horizon, Technician, TimeWindow, Visit
from dispatch.units import as_minutes, hours_on, local_moment

__all__ = ["day_problem", "day_span"]

#: Keys only a horizon has, left out of a day problem.
_HORIZON_ONLY = frozenset(
    {
        "calendar",
        "date",
        "earliest",
        "latest",
        "reported_at",
        "every",
        "tolerance_days",
        "last_served",
        "first_due",
        "window",
        "appointment",
    }
)


def _clock(moment: datetime, day: date) -> str:
    """``HH:MM`` of ``moment`` on ``day``; the next midnight is ``24:00``."""
    if moment.date() > day:
        return "24:00"
    return moment.strftime("%H:%M")


def _midnight(day: date, horizon: Horizon) -> datetime:
    return local_moment(datetime.combine(day, time()), horizon.timezone)


def _technician(raw: Mapping[str, Any], workday: Technician, day: date) -> dict[str, Any]:
    row = {key: value for key, value in raw.items() if key not in _HORIZON_ONLY}
    row["shift"] = {
        "start": _clock(workday.shift.start, day),
        "end": _clock(workday.shift.end, day),
    }
    row["breaks"] = [
        {
            "start": _clock(b.window.start, day),
            "end": _clock(b.window.end, day),
            "duration_min": as_minutes(b.duration),
        }
        for b in workday.breaks
    ]
    return row


def _reported_on(visit: Visit, day: date) -> bool:
    """Whether ``visit`` is an urgent fault reported on ``day``: its deadline is then its
    ``reported_at`` that day, not a cut of its window."""
    return (
        visit.deadline is not None
        and visit.reported_at is not None
        and visit.reported_at.date() == day
    )


def _bounds(visit: Visit, day: date, horizon: Horizon) -> tuple[datetime, datetime]:
    """The bounds of the visit's service start on ``day`` (an appointment aside): its span,
    its daily hours and, unless reported that day, its urgent deadline, cut to the date."""
    opens, closes = _midnight(day, horizon), _midnight(day + timedelta(days=1), horizon)
    low, high = opens, closes
    if visit.window is not None:
        low, high = max(low, visit.window.start), min(high, visit.window.end)
    if visit.daily_window is not None:
        first, last = hours_on(day, visit.daily_window, horizon.timezone)
        low, high = max(low, first), min(high, last)
    if visit.deadline is not None and not _reported_on(visit, day):
        high = min(high, visit.deadline)
    return low, high


def day_span(visit: Visit, day: date, horizon: Horizon) -> TimeWindow | None:
    """When on ``day`` the service of ``visit`` (of ``horizon``) may start, or ``None`` when
    its span leaves no time that date: an appointment holds on its date alone (as the
    appointment itself); a span, a round's tolerance or a promise on the part of the date
    they cover."""
    if visit.appointment is not None:
        if visit.appointment.date() != day:
            return None
        return TimeWindow(visit.appointment, visit.appointment)
    low, high = _bounds(visit, day, horizon)
    if visit.deadline is not None:
        high = min(high, visit.deadline)
    return TimeWindow(low, high) if low < high else None


def _times(visit: Visit, day: date, horizon: Horizon) -> dict[str, Any]:
    """The visit's time fields on ``day``."""
    if visit.appointment is not None:
        return {"appointment": _clock(visit.appointment, day)}
    opens, closes = _midnight(day, horizon), _midnight(day + timedelta(days=1), horizon)
    low, high = _bounds(visit, day, horizon)
    times: dict[str, Any] = {}
    if _reported_on(visit, day) and visit.reported_at is not None:
        times["reported_at"] = _clock(visit.reported_at, day)
    if (low, high) != (opens, closes):
        times["window"] = {"start": _clock(low, day), "end": _clock(high, day)}
    return times


def day_problem(
    raw: Mapping[str, Any], horizon: Horizon, day: date, visit_ids: Collection[str]
) -> dict[str, Any]:
    """The day problem of ``day`` in the horizon ``raw`` (validated as ``horizon``) holding
    the visits ``visit_ids`` placed on it."""
    working = {t.id: t for t in horizon.workdays if t.shift.start.date() == day}
    technicians = [
        _technician(row, working[row["id"]], day)
        for row in raw["technicians"]
        if row["id"] in working
    ]
    sources: dict[str, Mapping[str, Any]] = {row["id"]: row for row in raw["visits"]}
    rounds = {row["id"]: row for row in raw.get("rounds", [])}
    for occurrence in horizon.rounds:
        sources[occurrence.visit_id] = {**rounds[occurrence.round_id], "id": occurrence.visit_id}
    wanted = set(visit_ids)
    visits = []
    for visit in horizon.visits:
        if visit.id not in wanted:
            continue
        row = {key: value for key, value in sources[visit.id].items() if key not in _HORIZON_ONLY}
        if row.get("preferred_technician") not in working:
            row.pop("preferred_technician", None)
        row.update(_times(visit, day, horizon))
        visits.append(row)
    document: dict[str, Any] = {
        "date": day.isoformat(),
        "timezone": raw.get("timezone", "UTC"),
        "technicians": technicians,
        "visits": visits,
    }
    for key in ("policy", "travel"):
        if key in raw:
            document[key] = raw[key]
    return document
