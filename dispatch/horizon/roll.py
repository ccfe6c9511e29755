"""Roll a week forward: the next horizon from what the last one left undone (pure).

``docs/contract.md``, Week plan, *Rolling forward*. The next horizon is the stored horizon
``raw`` with a new ``horizon`` (``start``, and ``days``: by default as many as before) and:

- **technicians**, ``policy``, ``travel``, ``timezone`` and anything else: kept as they are,
  each technician with their calendar;
- **a visit done** (reported done, or taken as done) or **cancelled** leaves; every other visit
  (not completed, left out, still planned, beyond the old horizon, or simply not named in the
  outcomes) comes back with its own fields and its span;
- **a visit fixed on a date** (``date`` with or without ``appointment``/``window``) keeps it
  while that date is ``start`` or later and no attempt at it failed. One fixed on a date before
  ``start``, or not completed, loses ``date``, ``appointment`` and ``window`` and is due from
  ``start`` with ``latest`` its old promise end (the appointment, the window's end, the end of
  its date): when that has passed, ``parse_horizon`` reads it as overdue, due now, so it ranks
  with what must be served first on the first working day with room; its priority and notes
  are kept;
- **a span's** ``earliest`` that is before ``start`` is dropped (the horizon's start is where
  the span begins anyway); a span whose ``latest`` passed, or a fault whose response time ran
  out, is left as it is: ``parse_horizon`` reads it as overdue, due now;
- **a round** whose occurrence (``R1@2026-12-08``) was reported done gets ``last_served`` the
  latest date one of them was done, and no ``first_due``; one whose latest settled occurrence
  was cancelled skips that due date (``first_due`` the due date plus one period, no
  ``last_served``); otherwise it is unchanged, so a due date nobody served is overdue in the
  next horizon and the week says since when.

A visit reported both done and not completed (the attempt stays on its route as a ``done`` stop)
counts as not completed. ``added_visit`` turns a visit a day plan's events added
(``new_visit``) into a visit of a horizon, fixed on that day, so it rolls like the others.

No store and no clock here: ``dispatch.desk.roll`` reads the outcomes from the stored plans.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dispatch.contract.horizon import parse_horizon
from dispatch.errors import FieldError, InputError
from dispatch.horizon.rounds import Every
from dispatch.model import Priority
from dispatch.units import clock_to_datetime, local_moment

__all__ = ["Outcomes", "added_visit", "next_horizon"]

#: Keys that fix a horizon visit on one date; a visit whose date passed loses them.
_FIXED = ("date", "appointment", "window")
#: A local moment of a horizon span, ``YYYY-MM-DDTHH:MM``.
_MOMENT = "%Y-%m-%dT%H:%M"


@dataclass(frozen=True, slots=True)
class Outcomes:
    """What became of the visits of a week, by visit id (a round's occurrences by theirs,
    ``R1@2026-12-08``); a visit named nowhere is still open.

    Parameters
    ----------
    done
        Visits reported (or taken as) done, each with the date it was done on.
    cancelled
        Visits the customer cancelled.
    not_completed
        Visits the technician attempted but could not finish; they win over ``done``.
    """

    done: Mapping[str, date] = field(default_factory=dict)
    cancelled: frozenset[str] = frozenset()
    not_completed: frozenset[str] = frozenset()

    def is_done(self, visit_id: str) -> bool:
        """Whether ``visit_id`` was done (and not merely attempted)."""
        return visit_id in self.done and visit_id not in self.not_completed


def next_horizon(
    raw: Mapping[str, Any], outcomes: Outcomes, *, start: date, days: int | None = None
) -> dict[str, Any]:
    """The horizon that follows ``raw`` from ``start``, given what became of its visits.

    Parameters
    ----------
    raw
        The week's horizon problem as stored (the contract's JSON); not modified.
    outcomes
        What became of its visits and round occurrences.
    start
        The first date of the next horizon.
    days
        How many dates it plans; default: as many as ``raw``.

    Returns
    -------
    dict
        The next horizon problem, in the contract's JSON.

    Raises
    ------
    InputError
        The next horizon is not valid (``parse_horizon``'s errors): ``days`` out of range, or
        a visit fixed on a date after the next horizon's last date.
    """
    zone = ZoneInfo(str(raw.get("timezone", "UTC")))
    midnight = datetime(start.year, start.month, start.day, tzinfo=zone)
    span = raw["horizon"]
    document: dict[str, Any] = copy.deepcopy(dict(raw))
    document["horizon"] = {
        "start": start.isoformat(),
        "days": int(span["days"]) if days is None else days,
    }
    document["visits"] = [
        _carried(row, outcomes, midnight, zone)
        for row in raw["visits"]
        if not outcomes.is_done(row["id"]) and row["id"] not in outcomes.cancelled
    ]
    if "rounds" in raw:
        plain = {row["id"] for row in raw["visits"]}
        document["rounds"] = [_rolled(row, outcomes, plain) for row in raw["rounds"]]
    _check_days(document, start)
    parse_horizon(document, stored=True)
    return document


def _check_days(document: Mapping[str, Any], start: date) -> None:
    """Refuse, naming ``days``, a next horizon that ends before a visit still fixed on a later
    date (refused visit by visit, 63 errors blamed a week's visits for the ``days`` asked).

    Raises
    ------
    InputError
        Naming ``days``, the last date it gives and the fewest days that hold every visit.
    """
    days = document["horizon"]["days"]
    if not isinstance(days, int) or isinstance(days, bool) or days < 1:
        return  # parse_horizon says what is wrong with it
    last = start + timedelta(days=days - 1)
    fixed = sorted(
        (date.fromisoformat(row["date"]), str(row["id"]))
        for row in document["visits"]
        if isinstance(row.get("date"), str) and _is_date(row["date"])
    )
    later = [(day, visit_id) for day, visit_id in fixed if day > last]
    if not later:
        return
    shown = ", ".join(f"{visit_id} on {day}" for day, visit_id in later[:3])
    more = f" and {len(later) - 3} more" if len(later) > 3 else ""
    needed = (later[-1][0] - start).days + 1
    why = (
        f"{days} day(s) from {start} end on {last}, before visits fixed on later dates "
        f"({shown}{more}): roll at least {needed} days"
    )
    raise InputError([FieldError("days", why)], what="roll")


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def added_visit(row: Mapping[str, Any], day: date) -> dict[str, Any]:
    """A visit an event added to the day plan of ``day``, as a visit of a horizon.

    It is fixed on ``day`` (with its ``appointment`` or ``window`` when the dispatcher gave
    one), except an urgent fault with its ``reported_at`` and no set time: that one is
    reported at that moment, and must be reached within the urgent response of it.
    """
    visit = copy.deepcopy(dict(row))
    reported = visit.pop("reported_at", None)
    timed = visit.get("appointment") is not None or visit.get("window") is not None
    if reported is not None and not timed and visit.get("priority") == Priority.URGENT.label:
        # Wall-clock arithmetic only ("24:00" is the next midnight): any zone does.
        moment = clock_to_datetime(str(reported), day, ZoneInfo("UTC"))
        visit["reported_at"] = moment.strftime(_MOMENT)
    else:
        visit["date"] = day.isoformat()
    return visit


def _carried(
    row: Mapping[str, Any], outcomes: Outcomes, midnight: datetime, zone: ZoneInfo
) -> dict[str, Any]:
    """A visit that comes back, with the times it holds from ``midnight`` (the next start)."""
    visit = copy.deepcopy(dict(row))
    earliest = visit.get("earliest")
    if earliest is not None and _moment(earliest, zone) < midnight:
        del visit["earliest"]
    if "date" not in visit:
        return visit
    day = date.fromisoformat(visit["date"])
    if day >= midnight.date() and visit["id"] not in outcomes.not_completed:
        return visit
    # Its old promise end, passed or not: passed, ``parse_horizon`` reads it as overdue, due
    # now over the whole horizon (the end of ``start``'s day, as it was, left a visit rolled
    # from a Saturday nobody works with no day to be served on).
    latest = _promise_end(visit, day, zone)
    for key in _FIXED:
        visit.pop(key, None)
    visit["latest"] = latest.astimezone(zone).strftime(_MOMENT)
    return visit


def _promise_end(visit: Mapping[str, Any], day: date, zone: ZoneInfo) -> datetime:
    """The end of what a visit fixed on ``day`` was promised: its appointment, the end of its
    window, or the end of its date."""
    if visit.get("appointment") is not None:
        return clock_to_datetime(visit["appointment"], day, zone)
    window = visit.get("window")
    if window is not None:
        return clock_to_datetime(window["end"], day, zone)
    return clock_to_datetime("24:00", day, zone)


def _moment(text: str, zone: ZoneInfo) -> datetime:
    """A local ``YYYY-MM-DDTHH:MM`` in ``zone``."""
    return local_moment(datetime.fromisoformat(text), zone)


def _due(visit_id: str, round_id: str) -> date | None:
    """The due date of an occurrence id of ``round_id`` (``R1@2026-12-08``), else ``None``."""
    prefix = f"{round_id}@"
    if not visit_id.startswith(prefix):
        return None
    try:
        return date.fromisoformat(visit_id.removeprefix(prefix))
    except ValueError:
        return None


def _rolled(row: Mapping[str, Any], outcomes: Outcomes, plain: set[str]) -> dict[str, Any]:
    """A round with its last service (or its next due date) after the week's outcomes."""
    rolled = copy.deepcopy(dict(row))
    served: dict[date, date] = {}  # due date -> date done
    for visit_id, done_on in outcomes.done.items():
        due = _due(visit_id, row["id"]) if visit_id not in plain else None
        if due is not None and outcomes.is_done(visit_id):
            served[due] = done_on
    skipped = [
        due
        for visit_id in outcomes.cancelled
        if visit_id not in plain and (due := _due(visit_id, row["id"])) is not None
    ]
    last_skipped = max(skipped, default=None)
    if last_skipped is not None and (not served or last_skipped > max(served)):
        every = row.get("every") or {}
        period = Every(weeks=every.get("weeks") or 0, months=every.get("months") or 0)
        if period.weeks or period.months:
            rolled.pop("last_served", None)
            rolled["first_due"] = period.after(last_skipped).isoformat()
        return rolled
    if served:
        rolled.pop("first_due", None)
        rolled["last_served"] = max(served.values()).isoformat()
    return rolled
