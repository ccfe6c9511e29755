"""Validate a horizon problem (several days, ``docs/contract.md``, Horizon) into a ``Horizon``.

Every rule of a day problem holds for each of its days: a technician's working day is checked
by the day's own rules (``build_technician``), a visit's fields by ``build_visit``. This module
adds what only a horizon has: calendars (which dates each technician works, with which shift),
spans (``date``, ``earliest``/``latest``, ``reported_at`` with its date, a daily ``window``)
and recurring rounds expanded into dated visits (``dispatch.horizon.rounds``). Every problem is
named with its path and id, and all of them are reported at once. Leave is not a problem: a
visit nobody able to serve works during is left out (``no_capacity_in_span``) saying who is off.

Spare parts are planned on a day problem only: a horizon does not carry stock from one day to
the next (a van's stock on Tuesday is what Monday left, a depot's what every route took), so
a horizon with visits needing ``parts``, vans with ``van_stock`` or ``depots`` is refused,
each entry named, rather than planned as if every day started full (``PARTS_ON_A_DAY``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dispatch.contract.schema import (
    LAST_YEAR,
    MAX_HORIZON_PLACES,
    HorizonProblemIn,
    HorizonTechnicianIn,
    HorizonVisitIn,
    RoundIn,
    TechnicianIn,
    VisitIn,
    WindowIn,
    WorkdayIn,
)
from dispatch.contract.validate import (
    Scope,
    addressless,
    build_policy,
    build_technician,
    build_travel,
    build_visit,
    check_unique,
    ends_of_day,
    load_json,
    read_wire,
    time_zone,
)
from dispatch.errors import FieldError, InputError
from dispatch.horizon.rounds import Every, due_dates
from dispatch.model import (
    Horizon,
    Policy,
    Priority,
    RoundOccurrence,
    Technician,
    TechnicianId,
    TimeWindow,
    Unassigned,
    UnassignedCode,
    Visit,
    VisitId,
)
from dispatch.units import after, clock_to_datetime, iso, local_moment, shifted

__all__ = [
    "PARTS_ON_A_DAY",
    "WEEKDAYS",
    "is_horizon",
    "occurrence_id",
    "parse_horizon",
    "workday_of",
]

#: Why a horizon refuses spare parts (see the module docstring).
PARTS_ON_A_DAY = (
    "spare parts are planned on a day problem (a horizon does not carry stock from day to "
    "day); plan each date with its day problem"
)

#: Weekday names of a calendar, Monday first (``date.weekday()`` order).
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: Keys of a visit that only a horizon has; a day problem of the horizon drops them.
_HORIZON_VISIT_KEYS = frozenset({"date", "earliest", "latest", "reported_at"})


def is_horizon(raw: object) -> bool:
    """Whether decoded JSON is a horizon problem (it has ``horizon`` rather than ``date``)."""
    return isinstance(raw, Mapping) and "horizon" in raw


def occurrence_id(round_id: str, due: date) -> str:
    """The visit id of a round's due date: ``R1@2026-12-08``."""
    return f"{round_id}@{due.isoformat()}"


def workday_of(technician: HorizonTechnicianIn, day: date) -> WorkdayIn | None:
    """The shift and breaks ``technician`` works on ``day``, or ``None`` for a day off:
    a date override first, then days off, then the weekday, then the usual shift."""
    usual = WorkdayIn(shift=technician.shift, breaks=technician.breaks)
    calendar = technician.calendar
    if calendar is None:
        return usual
    text = day.isoformat()
    if text in calendar.dates:
        return calendar.dates[text]
    if text in calendar.days_off:
        return None
    weekday = WEEKDAYS[day.weekday()]
    if weekday in calendar.weekdays:
        return calendar.weekdays[weekday]
    return usual


def parse_horizon(raw: str | bytes | Mapping[str, Any], *, stored: bool = False) -> Horizon:
    """Validate a horizon problem given as JSON text or decoded JSON.

    ``stored``: read with the lenient types of a stored problem (see ``parse_problem``).

    Raises
    ------
    InputError
        Listing every problem found, each with its path and entity id.
    """
    data = load_json(raw) if isinstance(raw, str | bytes) else raw
    errors: list[FieldError] = []
    if isinstance(data, Mapping) and "depots" in data:
        errors.append(FieldError("depots", PARTS_ON_A_DAY))
        data = {key: value for key, value in data.items() if key != "depots"}
    try:
        wire = read_wire(data, HorizonProblemIn, stored=stored)
    except InputError as error:
        raise InputError([*errors, *error.errors]) from error
    _refuse_parts(wire, errors)
    if not stored:
        errors.extend([*addressless(wire.technicians), *ends_of_day(wire.visits)])
    horizon = _build(wire, errors)
    if errors or horizon is None:
        unique = list(dict.fromkeys(errors))  # a technician's error repeats on each workday
        raise InputError(unique)
    return horizon


def _refuse_parts(wire: HorizonProblemIn, errors: list[FieldError]) -> None:
    """Every technician's ``van_stock`` and every visit's ``parts`` given: refused (see the
    module docstring)."""
    for i, tech in enumerate(wire.technicians):
        if tech.van_stock:
            errors.append(FieldError(f"technicians[{i}].van_stock", PARTS_ON_A_DAY, tech.id))
    for i, visit in enumerate(wire.visits):
        if visit.parts:
            errors.append(FieldError(f"visits[{i}].parts", PARTS_ON_A_DAY, visit.id))


def _dates(wire: HorizonProblemIn, errors: list[FieldError]) -> tuple[date, ...] | None:
    try:
        first = date.fromisoformat(wire.horizon.start)
    except ValueError:
        errors.append(FieldError("horizon.start", f"{wire.horizon.start!r} is not a date"))
        return None
    dates = tuple(first + timedelta(days=k) for k in range(wire.horizon.days))
    if dates[-1].year > LAST_YEAR:  # its day plans' dates would be refused at the solve
        errors.append(
            FieldError("horizon.days", f"runs to {dates[-1]}, past the years 1900-{LAST_YEAR}")
        )
        return None
    return dates


def _build(wire: HorizonProblemIn, errors: list[FieldError]) -> Horizon | None:
    dates = _dates(wire, errors)
    zone = time_zone(wire.timezone, errors)
    policy = build_policy(wire.policy, errors)
    travel = build_travel(wire.travel, errors)
    check_unique(wire.technicians, "technicians", errors)
    check_unique(wire.visits, "visits", errors)
    check_unique(wire.rounds, "rounds", errors)
    if dates is None or zone is None:
        return None
    matrix_size = len(travel.durations_min) if travel else None
    start = datetime.combine(dates[0], datetime.min.time(), tzinfo=zone)
    end = datetime.combine(dates[-1] + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    workdays = [
        workday
        for i, row in enumerate(wire.technicians)
        for workday in _workdays(
            row, Scope(errors, f"technicians[{i}]", row.id), dates, zone, matrix_size
        )
    ]
    known = {row.id for row in wire.technicians}
    context = _Context(dates, zone, policy, matrix_size, known, start, end)
    context.roster, context.workdays = wire.technicians, workdays
    visits: list[Visit] = []
    promised: set[VisitId] = set()
    beyond: list[Unassigned] = []
    filed: list[Visit] = []
    for i, row in enumerate(wire.visits):
        found = _visit(row, Scope(errors, f"visits[{i}]", row.id), context)
        if found is not None:
            _place(found[0], found[1], context, visits, promised, beyond, filed)
    occurrences: list[RoundOccurrence] = []
    for j, round_row in enumerate(wire.rounds):
        scope = Scope(errors, f"rounds[{j}]", round_row.id)
        _check_round_staff(round_row, wire.technicians, scope)
        for occurrence, visit, is_promised in _round(round_row, scope, context):
            occurrences.append(occurrence)
            if occurrence.overdue_since is not None:
                context.due_now.add(visit.id)
            _place(visit, is_promised, context, visits, promised, beyond, filed)
    _check_size(len(wire.visits) + len(occurrences), len(workdays), errors)
    taken = {row.id for row in wire.visits}
    for occurrence in occurrences:
        if occurrence.visit_id in taken:
            errors.append(
                FieldError(
                    "visits",
                    f"id {occurrence.visit_id} is also a due date of round {occurrence.round_id}",
                    occurrence.visit_id,
                )
            )
    return Horizon(
        dates=dates,
        timezone=zone,
        policy=policy,
        workdays=tuple(sorted(workdays, key=lambda t: t.shift.start)),
        visits=tuple(visits),
        promised=frozenset(promised),
        due_now=frozenset(context.due_now & {visit.id for visit in visits}),
        rounds=tuple(occurrences),
        beyond=tuple(beyond),
        travel=travel,
        filed=tuple(filed),
    )


def _check_size(due: int, workdays: int, errors: list[FieldError]) -> None:
    """An error naming ``horizon.days`` when ``due`` visits and rounds' due dates and
    ``workdays`` technician workdays are more than the solver is given on the largest day
    allowed (``MAX_HORIZON_PLACES``): each list was within its limit, the horizon they
    expand to was not."""
    places = due + 2 * workdays
    if places > MAX_HORIZON_PLACES:
        errors.append(
            FieldError(
                "horizon.days",
                f"the horizon holds {due:,} visits and rounds' due dates and {workdays:,} "
                f"technician workdays: {places:,} places to plan (each workday's start and end "
                f"two), more than the {MAX_HORIZON_PLACES:,} of the largest day allowed; plan "
                "fewer days at a time",
            )
        )


class _Context:
    """What every visit of a horizon is read against."""

    def __init__(
        self,
        dates: tuple[date, ...],
        zone: ZoneInfo,
        policy: Policy,
        matrix_size: int | None,
        technicians: set[str],
        start: datetime,
        end: datetime,
    ) -> None:
        self.dates, self.zone, self.policy = dates, zone, policy
        self.matrix_size, self.technicians = matrix_size, technicians
        self.start, self.end = start, end
        #: Everyone on the roster, and each one's working days (``Technician`` per date).
        self.roster: list[HorizonTechnicianIn] = []
        self.workdays: list[Technician] = []
        #: The visits due now: their span ended, or their urgent response ran out, before it.
        self.due_now: set[VisitId] = set()

    def moment(self, scope: Scope, field: str, text: str) -> datetime | None:
        """A local ``YYYY-MM-DDTHH:MM`` as an aware moment in the horizon's zone."""
        try:
            naive = datetime.fromisoformat(text)
        except ValueError:
            scope.add(field, f"{text!r} is not a moment YYYY-MM-DDTHH:MM")
            return None
        return local_moment(naive, self.zone)

    def day(self, scope: Scope, field: str, text: str) -> date | None:
        """A date of the horizon."""
        try:
            found = date.fromisoformat(text)
        except ValueError:
            scope.add(field, f"{text!r} is not a date YYYY-MM-DD")
            return None
        if found not in self.dates:
            scope.add(
                field,
                f"{text} is outside the horizon {self.dates[0].isoformat()} to "
                f"{self.dates[-1].isoformat()}",
            )
            return None
        return found


def _place(
    visit: Visit,
    is_promised: bool,
    context: _Context,
    visits: list[Visit],
    promised: set[VisitId],
    beyond: list[Unassigned],
    filed: list[Visit],
) -> None:
    """File a visit as planned in the horizon, as beyond it when its span starts after, or as
    left out when everyone able to serve it is off during its span (the visit kept in
    ``filed``)."""
    assert visit.window is not None or visit.appointment is not None
    opens = visit.appointment or (visit.window.start if visit.window else context.start)
    if not after(context.end, opens):
        beyond.append(
            Unassigned(
                visit.id,
                UnassignedCode.BEYOND_HORIZON,
                f"due from {iso(opens)}, after the horizon: it goes into the next one",
            )
        )
        filed.append(visit)
        return
    off = _all_off(visit, context)
    if off is not None:
        beyond.append(off)
        filed.append(visit)
        return
    visits.append(visit)
    if is_promised:
        promised.add(visit.id)


def _all_off(visit: Visit, context: _Context) -> Unassigned | None:
    """``no_capacity_in_span`` when someone on the roster could serve ``visit`` (skills, crew,
    its pinned technician) but none of them works during its span: the true reason, where the
    solver would only see that nobody working has the skill. ``None`` otherwise (including when
    nobody on the roster could ever serve it: the day's screening says why)."""
    able = [
        row.id
        for row in context.roster
        if visit.required_skills <= set(row.skills)
        and row.crew_size >= visit.crew_size
        and (visit.pinned_to is None or row.id == visit.pinned_to)
    ]
    if not able:
        if context.workdays:
            return None
        # Nobody works a day of the horizon: no day screens it, and "no room" would read as
        # beyond the horizon, where nobody could ever serve it.
        pool = [row for row in context.roster if visit.pinned_to in (None, row.id)]
        skills = _named_skills(set(visit.required_skills))
        if any(visit.required_skills <= set(row.skills) for row in pool):
            who = (
                f"its technician {visit.pinned_to}"
                if visit.pinned_to
                else f"everyone with {skills}"
            )
            reason = f"needs a crew of {visit.crew_size}; {who} works in a smaller one"
            return Unassigned(visit.id, UnassignedCode.CREW_SIZE, reason)
        if visit.pinned_to:
            return Unassigned(
                visit.id,
                UnassignedCode.NO_SKILL,
                f"its technician {visit.pinned_to} lacks {skills}",
            )
        return Unassigned(visit.id, UnassignedCode.NO_SKILL, f"nobody on the roster has {skills}")
    if visit.appointment is not None:
        opens = closes = visit.appointment
        span = iso(visit.appointment)
    else:
        assert visit.window is not None
        # An urgent fault's span is its response: someone able working after its deadline
        # came too late (it read as "window": no shift could reach it in time).
        until = visit.deadline or visit.window.end
        opens, closes = (
            visit.window.start,
            until if after(visit.window.end, until) else visit.window.end,
        )
        span = f"{iso(opens)} to {iso(until)}"
    working = {
        t.id
        for t in context.workdays
        if t.id in able and not after(t.shift.start, closes) and not after(opens, t.shift.end)
    }
    if working:
        return None
    if visit.appointment is None and after(until, context.end):  # served after it: the next one's
        return Unassigned(
            visit.id,
            UnassignedCode.BEYOND_HORIZON,
            f"nobody able to serve it works inside the horizon during its span ({span}): it "
            "goes into the next horizon",
            tuple(TechnicianId(t) for t in able),
        )
    if visit.pinned_to is not None:
        reason = f"its technician {visit.pinned_to} works no day of its span ({span})"
    else:
        crew = f" in a crew of {visit.crew_size} or more" if visit.crew_size > 1 else ""
        needed = set(visit.required_skills)
        who = f"nobody with {_named_skills(needed)}{crew}" if needed else f"nobody{crew}"
        shown = ", ".join(able[:8]) + (f" and {len(able) - 8} more" if len(able) > 8 else "")
        reason = (
            f"{who} works during its span ({span}): {shown} {'is' if len(able) == 1 else 'are'} off"
        )
    return Unassigned(
        visit.id, UnassignedCode.NO_CAPACITY_IN_SPAN, reason, tuple(TechnicianId(t) for t in able)
    )


def _workdays(
    row: HorizonTechnicianIn,
    scope: Scope,
    dates: tuple[date, ...],
    zone: ZoneInfo,
    matrix_size: int | None,
) -> list[Technician]:
    calendar = row.calendar
    if calendar is not None:
        for k, text in enumerate(calendar.days_off):
            if text in calendar.dates:
                scope.add(f"calendar.days_off[{k}]", f"{text} is also a working date in 'dates'")
            _a_date(scope, f"calendar.days_off[{k}]", text)
        for text in calendar.dates:
            _a_date(scope, f"calendar.dates.{text}", text)
    day_row = TechnicianIn.model_validate(row.model_dump(exclude={"calendar"}))
    found = []
    for day in dates:
        workday = workday_of(row, day)
        if workday is None:
            continue
        where = _workday_path(row, day)
        shifted = day_row.model_copy(update={"shift": workday.shift, "breaks": workday.breaks})
        day_scope = Scope(scope.errors, f"{scope.path}{where}", scope.entity_id)
        found.append(build_technician(shifted, day_scope, day, zone, matrix_size))
    return found


def _workday_path(row: HorizonTechnicianIn, day: date) -> str:
    """Where a day's shift was written: ``.calendar.dates.2026-12-10``, ``.calendar.weekdays.sat``
    or nothing (the usual ``shift``)."""
    calendar = row.calendar
    if calendar is None:
        return ""
    if day.isoformat() in calendar.dates:
        return f".calendar.dates.{day.isoformat()}"
    weekday = WEEKDAYS[day.weekday()]
    return f".calendar.weekdays.{weekday}" if weekday in calendar.weekdays else ""


def _a_date(scope: Scope, field: str, text: str) -> None:
    try:
        date.fromisoformat(text)
    except ValueError:
        scope.add(field, f"{text!r} is not a date YYYY-MM-DD")


def _daily(scope: Scope, window: WindowIn) -> tuple[timedelta, timedelta]:
    """A daily window as offsets from midnight."""
    opens = clock_to_datetime(window.start, date(2000, 1, 3), ZoneInfo("UTC"))
    closes = clock_to_datetime(window.end, date(2000, 1, 3), ZoneInfo("UTC"))
    midnight = datetime(2000, 1, 3, tzinfo=ZoneInfo("UTC"))
    if closes < opens:
        scope.add("window.end", f"{window.end} is before start {window.start}")
    return opens - midnight, closes - midnight


def _visit(row: HorizonVisitIn, scope: Scope, context: _Context) -> tuple[Visit, bool] | None:
    """The visit of a horizon with its span, and whether its promise ends inside the horizon."""
    day_fields = row.model_dump(exclude=set(_HORIZON_VISIT_KEYS))
    if row.date is not None:
        if row.earliest is not None or row.latest is not None:
            scope.add("date", "a visit fixed on a date has no 'earliest' or 'latest'")
        day = context.day(scope, "date", row.date)
        if day is None:
            return None
        if row.reported_at is not None:
            scope.add("reported_at", "a visit fixed on a date is not reported at a moment")
        visit = build_visit(
            VisitIn.model_validate(day_fields),
            scope,
            day,
            context.zone,
            context.policy,
            context.matrix_size,
            context.technicians,
        )
        if visit.appointment is None and visit.window is None:
            visit = replace(
                visit,
                window=TimeWindow(
                    clock_to_datetime("00:00", day, context.zone),
                    clock_to_datetime("24:00", day, context.zone),
                ),
            )
        return visit, True
    if row.appointment is not None:
        scope.add("appointment", "needs a 'date' in a horizon")
    daily = _daily(scope, row.window) if row.window is not None else None
    day_fields.pop("window", None)
    visit = build_visit(
        VisitIn.model_validate(day_fields),
        scope,
        context.dates[0],
        context.zone,
        context.policy,
        context.matrix_size,
        context.technicians,
    )
    opens, closes, is_promised = context.start, context.end, False
    reported = context.moment(scope, "reported_at", row.reported_at) if row.reported_at else None
    deadline = None
    if reported is not None:
        opens = reported
        if row.priority == Priority.URGENT.label:
            deadline = shifted(reported, context.policy.urgent_response)
            is_promised = not after(deadline, context.end)
        else:
            closes = shifted(reported, context.policy.general_response)
            is_promised = not after(closes, context.end)
    earliest = context.moment(scope, "earliest", row.earliest) if row.earliest else None
    if earliest is not None and after(earliest, opens):
        opens = earliest
    latest = context.moment(scope, "latest", row.latest) if row.latest else None
    if latest is not None:
        closes, is_promised = latest, not after(latest, context.end)
        if earliest is not None and after(earliest, latest):
            scope.add("latest", f"{row.latest} is before earliest {row.earliest}")
        if reported is not None and after(reported, latest):
            scope.add("latest", f"{row.latest} is before reported_at {row.reported_at}")
    if reported is not None and earliest is not None:
        _check_promise(row, scope, context.policy, reported, earliest, latest)
    if deadline is not None and not after(deadline, context.start):
        # The urgent response ran out before the horizon began: due now, first among equals.
        opens, closes, deadline, is_promised = context.start, context.end, None, True
        context.due_now.add(visit.id)
    elif not after(closes, context.start):
        # The span ended before the horizon began (at its start: nothing of it inside, read
        # as an empty span and left out as nobody working in it): due now, first among
        # equals; an urgent response still running holds.
        opens, closes, is_promised = context.start, context.end, True
        context.due_now.add(visit.id)
    if after(context.start, opens):
        opens = context.start
    # As its day reads it: a day problem writes the end as a clock time, which in the hour a
    # clock change repeats reads as its first occurrence, an hour sooner than a promise ending
    # in the second (24 hours from 02:30 EDT). Planned by the week to the later one, the day's
    # checker faulted a plan inside the promise and a re-plan of the day dropped the visit.
    closes = local_moment(closes.replace(tzinfo=None, fold=0), context.zone)
    if after(opens, closes):
        closes = opens
    return (
        replace(
            visit,
            window=TimeWindow(opens, closes),
            daily_window=daily,
            reported_at=reported,
            deadline=deadline,
        ),
        is_promised,
    )


def _check_promise(
    row: HorizonVisitIn,
    scope: Scope,
    policy: Policy,
    reported: datetime,
    earliest: datetime,
    latest: datetime | None,
) -> None:
    """An ``earliest`` after the promise made when the fault was reported would break it: the
    urgent response, or the general one unless ``latest`` gives the deadline instead."""
    if row.priority == Priority.URGENT.label:
        deadline = shifted(reported, policy.urgent_response)
        promise = f"urgent response {round(policy.urgent_response.total_seconds() / 60)} min"
    elif latest is None:
        deadline = shifted(reported, policy.general_response)
        promise = f"general response {round(policy.general_response.total_seconds() / 3600)} h"
    else:
        return  # a later earliest than latest is refused on its own
    if after(earliest, deadline):
        scope.add(
            "earliest",
            f"{row.earliest} is after the promise deadline {deadline:%Y-%m-%dT%H:%M} "
            f"(reported_at {row.reported_at} + {promise}): the promise could not be kept",
        )


def _check_round_staff(row: RoundIn, technicians: list[HorizonTechnicianIn], scope: Scope) -> None:
    """A round nobody on the roster could ever serve is an input error, not a silent gap."""
    needed = set(row.required_skills)
    able = [t for t in technicians if needed <= set(t.skills) and t.crew_size >= row.crew_size]
    if not able:
        scope.add(
            "required_skills",
            f"no technician has {_named_skills(needed)} in a crew of {row.crew_size} or more: "
            "no one can serve it",
        )
    for field, ref in (
        ("technician", row.technician),
        ("preferred_technician", row.preferred_technician),
    ):
        if ref is not None and not any(t.id == ref for t in technicians):
            scope.add(field, f"unknown technician '{ref}'")
    pinned = next((t for t in technicians if t.id == row.technician), None)
    if pinned is not None and able and pinned not in able:
        # A preferred technician is only a preference; a pinned one is the only one allowed.
        lacks = ", ".join(f"'{skill}'" for skill in sorted(needed - set(pinned.skills)))
        why = f"lacks {lacks}" if lacks else f"is a crew of {pinned.crew_size}"
        scope.add(
            "technician",
            f"{pinned.id} {why} (the round needs {_named_skills(needed)} in a crew of "
            f"{row.crew_size} or more): pinned to them, it could never be served",
        )


def _named_skills(skills: set[str]) -> str:
    """Skills as a message names them: ``'cctv', 'gas'``, or ``no skill``."""
    return ", ".join(f"'{skill}'" for skill in sorted(skills)) or "no skill"


def _round(
    row: RoundIn, scope: Scope, context: _Context
) -> list[tuple[RoundOccurrence, Visit, bool]]:
    every = row.every
    if (every.weeks is None) == (every.months is None):
        scope.add("every", "give either 'weeks' or 'months' (one of them)")
        return []
    period = Every(weeks=every.weeks or 0, months=every.months or 0)
    if 2 * row.tolerance_days >= period.shortest_days:
        scope.add(
            "tolerance_days",
            f"{row.tolerance_days} days either side would let two due dates overlap "
            f"(the period is {period.shortest_days} days or more)",
        )
        return []
    if (row.last_served is None) == (row.first_due is None):
        scope.add("last_served", "give either 'last_served' or 'first_due' (one of them)")
        return []
    try:
        if row.last_served is not None:
            first_due = period.after(date.fromisoformat(row.last_served))
        else:
            first_due = date.fromisoformat(row.first_due or "")
    except ValueError:
        field = "last_served" if row.last_served is not None else "first_due"
        scope.add(field, f"{row.last_served or row.first_due!r} is not a date YYYY-MM-DD")
        return []
    daily = _daily(scope, row.window) if row.window is not None else None
    job = row.model_dump(
        exclude={"id", "every", "tolerance_days", "last_served", "first_due", "window"}
    )
    found = []
    for due in due_dates(period, row.tolerance_days, first_due, context.dates):
        visit_id = occurrence_id(row.id, due.due)
        visit = build_visit(
            VisitIn.model_validate({"id": visit_id, **job}),
            scope,
            context.dates[0],
            context.zone,
            context.policy,
            context.matrix_size,
            context.technicians,
        )
        opens = clock_to_datetime("00:00", due.earliest, context.zone)
        closes = clock_to_datetime("24:00", due.latest, context.zone)
        visit = replace(visit, window=TimeWindow(opens, closes), daily_window=daily)
        occurrence = RoundOccurrence(
            row.id, VisitId(visit_id), due.due, due.earliest, due.latest, due.overdue_since
        )
        # Overdue, it ranks with what must be served now, however long it may still wait.
        found.append(
            (occurrence, visit, not after(closes, context.end) or due.overdue_since is not None)
        )
    return found
