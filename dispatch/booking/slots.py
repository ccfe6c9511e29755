"""Slots: the times a new visit can be offered, each one the plan can really keep.

For each day plan of the span (one day plan, or the days of a stored week between two dates),
the day is compiled for booking (``dispatch.booking.day``: every promise a hard bound) and the
candidate times of the shape asked are put to the one insertion check (``solver.insertion``):

- ``two_hours``: windows of two hours on the even hour, from the first shift's start (rounded
  down to the hour) to the last shift's end;
- ``half_day``: the morning (shift start to 12:00) and the afternoon (12:00 to shift end);
- ``appointment``: an exact time on each half hour of the working day.

A window slot means the service starts inside it; an appointment slot that it starts then,
with the technician at the door in the policy's band (or, under ``policy.appointment_start``
``on_arrival``, that the technician reaches the door in the band and starts there). Each
candidate time that some technician can take becomes one slot, with the technician whose
insertion grades best (``dispatch.booking.grade``), the minutes and km it adds, and when the
work would start: for a window, the time the plan that books it will show, the technician's
route timed with the visit in that place by the solver's own model (``BookingDay.timed``, as
``book_into`` times it; only the slots listed are timed so); for an appointment, the
appointment itself (served on arrival, the time the plan will show, as for a window).

The booking's clock time (``booking_at``) is the one asked; else, for a plan of today (the
date of ``now`` in the problem's time zone), now, never before the plan's last re-plan; else
the plan's last re-plan, else the start of the day.

An urgent fault's ``reported_at`` is on the first date asked for, as the clock time is: it
is offered on that date only.

When no time fits, the answer says why (``code``, ``reason``): the visit's screening on the
first day (``no_skill``, ``crew_size``, ``pinned``, ``radius``, ``window``, ``capacity``:
the codes of an unassigned visit), ``no_working_day`` when nobody works in the span (every
technician off or unavailable; with the first later date with room), or
``span_full`` when eligible technicians work but every route is full around it, with the first
later date of the week that has room (``first_date_with_room``), when there is one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from dispatch.booking.day import BookingDay, Fit
from dispatch.booking.grade import Fill, grade
from dispatch.booking.schema import Shape
from dispatch.contract.validate import parse_problem
from dispatch.errors import FieldError, InputError
from dispatch.model import Plan, Problem, TechnicianId, UnassignedCode, Visit, VisitId
from dispatch.travel import TravelTimeProvider
from dispatch.units import after, clock_to_datetime, format_clock, local_moment, s_to_duration

__all__ = [
    "APPOINTMENT_STEP",
    "HALF_DAY_SPLIT",
    "WINDOW_LENGTH",
    "DayPlan",
    "Slot",
    "SlotAsk",
    "SlotsAnswer",
    "booking_at",
    "booking_visit",
    "candidate_times",
    "day_over",
    "day_slots",
    "offer",
    "shape_of",
]

#: Length of a ``two_hours`` window.
WINDOW_LENGTH = timedelta(hours=2)
#: Where the morning ends and the afternoon begins (``half_day``).
HALF_DAY_SPLIT = time(12, 0)
#: Appointments are offered on each half hour.
APPOINTMENT_STEP = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class DayPlan:
    """A stored day plan's latest version: its id, number, day (as stored and validated) and
    plan; and, of a day of a week, the technicians of the week's roster who do not work that
    date (``off``: a visit naming one is not naming an unknown technician)."""

    plan_id: str
    version: int
    raw: Mapping[str, Any]
    problem: Problem
    plan: Plan
    off: frozenset[str] = frozenset()

    @property
    def date(self) -> date:
        """The plan's date."""
        return self.problem.date


@dataclass(frozen=True, slots=True)
class SlotAsk:
    """What the desk asked for besides the visit: shape, grading, how many, the clock time of
    the booking (``HH:MM`` on the first date, or ``None``) and the present (``now``, aware, from
    the caller's clock: it makes the default clock time of a plan of today; ``None``: no
    clock)."""

    shape: Shape = "two_hours"
    preferred: tuple[time, time] | None = None
    fill: Fill = "fuller"
    limit: int = 20
    at: str | None = None
    now: datetime | None = None


@dataclass(frozen=True, slots=True)
class Slot:
    """One time the visit can be offered, on one day plan, with who would take it."""

    plan_id: str
    version: int
    date: date
    start: datetime
    end: datetime
    appointment: bool
    technician_id: TechnicianId
    service_start: datetime
    added_travel: timedelta
    added_km: float
    grade: float
    position: int

    def sort_key(self) -> tuple[float, datetime, str]:
        """Best first: grade, then start, then technician."""
        return (self.grade, self.start, self.technician_id)


@dataclass(frozen=True, slots=True)
class SlotsAnswer:
    """Slots best first, or why there are none."""

    visit_id: VisitId
    shape: Shape
    slots: tuple[Slot, ...]
    code: str | None = None
    reason: str | None = None
    first_date_with_room: date | None = None


def day_over(day: DayPlan, now: datetime | None) -> str | None:
    """Why nothing can be booked on ``day`` by the caller's clock ``now`` (aware): its date is
    over where it is planned (before the date of ``now`` in the problem's time zone); ``None``
    when it is not, or there is no clock. A re-plan may still record what happened on such a
    day; a customer cannot be given a time on it."""
    if now is None:
        return None
    zone = day.problem.timezone
    today = now.astimezone(zone).date()
    if day.date >= today:
        return None
    return (
        f"plan {day.plan_id} is for {day.date}, a day already over (today is {today} in "
        f"{zone.key}): book on today's plan or a later one"
    )


def booking_at(day: DayPlan, asked: str | None, now: datetime | None = None) -> str:
    """The clock time of a booking on ``day`` (``HH:MM``): the one asked; else, when ``day`` is
    today where it is planned (the date of the aware ``now`` in the problem's time zone), now;
    else the plan's last re-plan, else the start of the day, ``00:00`` (a day not begun: every
    event of the day comes after it). Never before the plan's last re-plan: what the day
    holds then is known, and a booking is an event batch, which may not go back in time."""
    last = format_clock(day.plan.at, day.date) if day.plan.at is not None else "00:00"
    if asked is not None:
        return max(asked, last)
    if now is not None:
        local = now.astimezone(day.problem.midnight.tzinfo)
        if local.date() == day.date:
            return max(format_clock(local), last)
    return last


def booking_visit(
    day: DayPlan,
    row: Mapping[str, Any],
    *,
    at: str,
    slot: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], Visit]:
    """The visit to book on ``day``, as a contract row and as the domain ``Visit``.

    The row gets the slot's time (``window`` or ``appointment``) when one is given; an urgent
    visit without ``reported_at`` is taken as reported at ``at``, as a ``new_visit`` event is.

    Raises
    ------
    InputError
        The visit breaks a rule of the day (an unknown pinned technician, a duplicate id),
        or carries its own time; each problem named ``visit.…``. A technician of the week
        off that date (``DayPlan.off``) is no preference there, and pinned, is named so.
    """
    errors: list[FieldError] = []
    visit_id = str(row.get("id", ""))
    if row.get("technician") in day.off:
        errors.append(
            FieldError("visit.technician", f"{row['technician']} is off on {day.date}", visit_id)
        )
    for key in ("appointment", "window"):
        if key in row:
            errors.append(
                FieldError(
                    f"visit.{key}", "leave it out: the slot gives the visit's time", visit_id
                )
            )
    if any(v.id == visit_id for v in day.problem.visits):
        errors.append(
            FieldError("visit.id", f"duplicate visit id '{visit_id}' in the day", visit_id)
        )
    if errors:
        raise InputError(errors, what="visit")
    booked = dict(row)
    if booked.get("preferred_technician") in day.off:  # as the week's own days have it
        del booked["preferred_technician"]
    if booked.get("priority") == "urgent" and booked.get("reported_at") is None:
        booked["reported_at"] = at
    if slot is not None:
        booked.update(slot)
    trial = {**day.raw, "visits": [booked]}
    try:
        visit = parse_problem(trial, stored=True).visits[0]
    except InputError as error:
        found = [
            FieldError(item.path.replace("visits[0]", "visit", 1), item.message, item.entity_id)
            for item in error.errors
            if item.path.startswith("visits[0]")
        ]
        raise InputError(found or list(error.errors), what="visit") from error
    return booked, visit


def candidate_times(problem: Problem, shape: Shape) -> list[tuple[datetime, datetime]]:
    """The times of ``shape`` on the day of ``problem``, as ``(start, end)``; an appointment's
    two are equal (see the module docstring).

    Times step on the wall clock, as customers read them. An appointment at a clock time a
    daylight-saving change skips is not offered (``03:00`` the night Helsinki springs forward
    was offered beside ``04:00``, the same moment, under a time that never shows); a window's
    ends are read as ``local_moment`` reads any time.
    """
    zone = problem.timezone
    first = min(t.shift.start for t in problem.technicians)
    last = max(t.working_end for t in problem.technicians)
    hour = first.replace(minute=0, second=0, microsecond=0, tzinfo=None)

    def moment(wall: datetime) -> datetime:
        return local_moment(wall, zone)

    found: list[tuple[datetime, datetime]] = []
    if shape == "two_hours":
        start = hour - timedelta(hours=hour.hour % 2)
        while moment(start) < last:
            found.append((moment(start), moment(start + WINDOW_LENGTH)))
            start += WINDOW_LENGTH
    elif shape == "half_day":
        noon = moment(datetime.combine(problem.date, HALF_DAY_SPLIT))
        if first < noon:
            found.append((moment(hour), noon))
        if noon < last:
            found.append((max(noon, moment(hour)), last))
    else:
        start = hour
        while moment(start) <= last:
            shown = moment(start)
            if shown >= first and shown.replace(tzinfo=None) == start:
                found.append((shown, shown))
            start += APPOINTMENT_STEP
    return found


def shape_of(problem: Problem, start: datetime, end: datetime) -> Shape:
    """The shape a slot from ``start`` to ``end`` on the day of ``problem`` was offered in: an
    appointment when the two are equal, else the window shape whose candidate times hold it,
    else (a window no shape offers) ``half_day`` when it is longer than two hours."""
    if start == end:
        return "appointment"
    for shape in ("two_hours", "half_day"):
        if (start, end) in candidate_times(problem, shape):
            return shape
    return "half_day" if end - start > WINDOW_LENGTH else "two_hours"


@dataclass(frozen=True, slots=True)
class _Option:
    """A candidate time some technician can take, graded, before its service start is timed."""

    day: DayPlan
    booking: BookingDay
    start: datetime
    end: datetime
    appointment: bool
    fit: Fit
    grade: float

    def sort_key(self) -> tuple[float, datetime, str]:
        """Best first, as ``Slot.sort_key``."""
        return (self.grade, self.start, self.fit.technician_id)

    def slot(self) -> Slot:
        """The slot, its service start as the plan that books it will show (module docstring)."""
        fit = self.fit
        return Slot(
            plan_id=self.day.plan_id,
            version=self.day.version,
            date=self.day.date,
            start=self.start,
            end=self.end,
            appointment=self.appointment,
            technician_id=fit.technician_id,
            service_start=self.start
            if self.appointment and self.booking.problem.policy.appointment_start == "at_time"
            else self.booking.service_start(fit),
            added_travel=s_to_duration(fit.insertion.added_travel_s),
            added_km=round(fit.insertion.added_distance_m / 1000, 1),
            grade=self.grade,
            position=fit.insertion.position,
        )


def day_slots(
    day: DayPlan,
    row: Mapping[str, Any],
    ask: SlotAsk,
    provider: TravelTimeProvider,
    *,
    at: str,
    span_start: datetime,
) -> tuple[list[Slot], BookingDay]:
    """Every slot of ``ask.shape`` on ``day`` for the visit ``row``, graded, unsorted; and the
    booking day they were found on (its ``excluded`` says why a visit fits nobody)."""
    options, booking = _day_options(day, row, ask, provider, at=at, span_start=span_start)
    return [option.slot() for option in options], booking


def _day_options(
    day: DayPlan,
    row: Mapping[str, Any],
    ask: SlotAsk,
    provider: TravelTimeProvider,
    *,
    at: str,
    span_start: datetime,
) -> tuple[list[_Option], BookingDay]:
    """``day_slots`` before the service starts are timed."""
    _, visit = booking_visit(day, row, at=at)
    moment = clock_to_datetime(at, day.date, day.problem.timezone)
    booking = BookingDay.of(day.problem, day.plan, visit, moment, provider)
    times = candidate_times(day.problem, ask.shape)
    appointment = ask.shape == "appointment"
    bounds = [(booking.seconds(start), booking.seconds(end)) for start, end in times]
    fits = booking.fits(bounds, appointment=appointment)
    options: list[_Option] = []
    for (start, end), found in zip(times, fits, strict=True):
        graded = [
            (
                grade(
                    start=start,
                    end=end,
                    span_start=span_start,
                    added_travel=s_to_duration(fit.insertion.added_travel_s),
                    technician_id=fit.technician_id,
                    preferred_technician=visit.preferred,
                    preferred_time=ask.preferred,
                    busy=s_to_duration(fit.busy_s),
                    fill=ask.fill,
                    policy=day.problem.policy,
                ),
                fit.technician_id,
                fit,
            )
            for fit in found
        ]
        if graded:
            score, _, fit = min(graded, key=lambda g: (g[0], g[1]))
            options.append(_Option(day, booking, start, end, appointment, fit, score))
    return options, booking


def _reported(row: Mapping[str, Any]) -> bool:
    """Whether the visit ``row`` is an urgent fault with its ``reported_at``."""
    return row.get("priority") == "urgent" and row.get("reported_at") is not None


def _anyone_works(day: DayPlan) -> bool:
    """Whether some technician of ``day`` works there: not off, nor ``unavailable`` from
    their shift's start."""
    return any(
        after(tech.working_end, tech.shift.start)
        for tech in day.problem.technicians
        if tech.id not in day.off
    )


def _room(
    later: Sequence[DayPlan],
    row: Mapping[str, Any],
    ask: SlotAsk,
    provider_for_day: Callable[[DayPlan], TravelTimeProvider],
    first: DayPlan,
) -> date | None:
    """The first date of ``later`` with a slot for the visit ``row`` (graded from the start
    of ``first``, the first date asked for), or ``None``."""
    for day in later:
        options, _ = _day_options(
            day,
            row,
            replace(ask, at=None),
            provider_for_day(day),
            at=booking_at(day, None, ask.now),
            span_start=first.problem.midnight,
        )
        if options:
            return day.date
    return None


def offer(
    days: Sequence[DayPlan],
    row: Mapping[str, Any],
    ask: SlotAsk,
    provider_for_day: Callable[[DayPlan], TravelTimeProvider],
    *,
    later: Sequence[DayPlan] = (),
) -> SlotsAnswer:
    """The slots of the visit ``row`` over ``days``, best first, at most ``ask.limit``; or why
    there are none (see the module docstring). ``later`` are the days after the span where the
    first date with room is looked for."""
    visit_id = VisitId(str(row.get("id", "")))
    working_days = [day for day in days if _anyone_works(day)]
    if _reported(row):
        # An urgent fault's ``reported_at`` is on the first date asked for, as ``at`` is:
        # read on each date's own, a week offered it 24 and 48 hours after the call.
        working_days = [day for day in working_days if day is days[0]]
        later = ()
    if not working_days:
        # Every technician off or unavailable there: the screening read shifts of no length
        # ("inside any eligible shift (08:00-08:00)", code window).
        room = None if not days else _room(later, row, ask, provider_for_day, days[0])
        return SlotsAnswer(
            visit_id,
            ask.shape,
            (),
            "no_working_day",
            "nobody works on the dates asked for",
            room,
        )
    first = days[0]  # the first date asked for: its clock time, the grades' start
    span_start = first.problem.midnight
    days = working_days
    found: list[_Option] = []
    bookings: list[BookingDay] = []
    # A visit another date of the week left out may be booked again by its own id on the
    # others: that date is not offered (its day has the id), the others are.
    holding = {day.plan_id for day in days if any(v.id == visit_id for v in day.problem.visits)}
    routed = [  # on a route there (an attempt not completed is left out, and may be booked)
        day
        for day in days
        if any(stop.visit_id == visit_id for route in day.plan.routes for stop in route.stops)
        and all(item.visit_id != visit_id for item in day.plan.unassigned)
    ]
    if len(days) > 1 and not routed and len(holding) < len(days):
        days = [day for day in days if day.plan_id not in holding]
    pinned = row.get("technician")
    working = [day for day in days if pinned not in day.off]
    if not working:
        dates = f"{days[0].date}" if len(days) == 1 else f"{days[0].date} to {days[-1].date}"
        why = f"pinned to {pinned}, who is off on {dates}"
        return SlotsAnswer(visit_id, ask.shape, (), UnassignedCode.PINNED.value, why)
    days = working
    for day in days:
        at = booking_at(day, ask.at if day is first else None, ask.now)
        options, booking = _day_options(
            day, row, ask, provider_for_day(day), at=at, span_start=span_start
        )
        found.extend(options)
        bookings.append(booking)
    if found:
        best = sorted(found, key=_Option.sort_key)[: ask.limit]
        return SlotsAnswer(visit_id, ask.shape, tuple(option.slot() for option in best))
    screened = [b.excluded for b in bookings if b.excluded is not None]
    if len(screened) == len(bookings):
        reason = screened[0]
        return SlotsAnswer(visit_id, ask.shape, (), reason.code.value, reason.reason)
    names = sorted(
        {b.id_map.technician(v).id for b in bookings for v in b.vehicles},
    )
    dates = f"{days[0].date}" if len(days) == 1 else f"{days[0].date} to {days[-1].date}"
    room = _room(later, row, ask, provider_for_day, first)
    reason_text = (
        f"every eligible technician's day ({', '.join(names)}) is full on {dates}: no "
        f"{ask.shape.replace('_', ' ')} slot fits without breaking a promise"
    )
    if room is not None:
        reason_text += f"; the first date with room is {room}"
    return SlotsAnswer(visit_id, ask.shape, (), "span_full", reason_text, room)
