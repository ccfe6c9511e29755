"""The time-tracking card: planned against actual, per stop, per technician, per kind of visit.

Every stop a technician reported on (``arrived``, ``started``, ``completed``/``departed``
events) is compared with the plan version in force when it happened, which the frozen stop
keeps. ``late_min`` is how far the actual arrival was after the latest allowed start (the
appointment, the window's end or the urgent deadline); ``overrun_min`` is the actual time on
site (start, or arrival, to departure) beyond the visit's duration, work at an appointment
under ``at_time`` without a reported start beginning at its time, and a stop left no later
than the next one was reached (a "Done" tapped late); actual travel is the gap
between the previous stop's departure so read and this arrival, planned travel the same gap
as the plan had it: the drive and any time idle before an appointment's door (the drive
alone read a 2-minute drive to an appointment 80 minutes on as 76 minutes lost on the road);
the plan's idle before a window opens is waiting at the door, as a reported one is. The day's
KPIs are over the stops with a reported arrival: on-time rate (handbook target 90 %), urgent
faults reached within the response time, and appointments reached inside the early band.

Where the minutes went (``TimeSpent``, per technician, over what was reported): on the way
(previous departure to arrival: driving, and time idle before the door), waiting at the door
(arrival to the start of work), service within its estimate, and service over it: what slows
the team, in one row each. ``stored_time_card`` is the use case the CLI (``fieldroute
report``) and the service's page call.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from dispatch.contract.record import read_record
from dispatch.contract.schema import PlanOut
from dispatch.contract.serialize import read_plan
from dispatch.contract.validate import parse_stored_day
from dispatch.model import Plan, Problem, Route, Stop, UnassignedCode, Visit, VisitId
from dispatch.persistence import Store
from dispatch.units import (
    after,
    earliest,
    elapsed,
    format_clock,
    latest,
    shifted,
    whole_minutes,
)

__all__ = [
    "DayCard",
    "KindRow",
    "StopRecord",
    "TechnicianRow",
    "TimeSpent",
    "stored_time_card",
    "time_card",
    "to_csv",
]


@dataclass(frozen=True, slots=True)
class StopRecord:
    """One stop, planned against actual (minutes; ``None`` where nothing was reported)."""

    technician_id: str
    visit_id: str
    kind: str
    status: str
    planned_arrival: str
    actual_arrival: str | None
    arrival_delta_min: int | None
    late_min: int | None
    planned_service_min: int
    actual_service_min: int | None
    overrun_min: int | None
    planned_travel_min: int
    actual_travel_min: int | None
    actual_wait_min: int | None = None


@dataclass(frozen=True, slots=True)
class TechnicianRow:
    """A technician's day so far."""

    technician_id: str
    stops: int
    reported: int
    on_time: int
    mean_arrival_delta_min: float | None
    #: Minutes over the estimates, each job's own (one 30 over and the next 30 under read
    #: "+0", where the minutes went said 30 over).
    overrun_min: int
    planned_travel_min: int
    actual_travel_min: int


@dataclass(frozen=True, slots=True)
class KindRow:
    """Service time against plan for one kind of visit (install, repair, ...)."""

    kind: str
    reported: int
    mean_overrun_min: float
    planned_service_min: int
    actual_service_min: int


@dataclass(frozen=True, slots=True)
class TimeSpent:
    """Where a technician's reported minutes went."""

    technician_id: str
    travel_min: int
    waiting_min: int
    service_min: int
    over_estimate_min: int

    @property
    def total_min(self) -> int:
        """Every reported minute of the four."""
        return self.travel_min + self.waiting_min + self.service_min + self.over_estimate_min


@dataclass(frozen=True, slots=True)
class DayCard:
    """The whole card and the day's KPIs over reported arrivals."""

    stops: tuple[StopRecord, ...]
    technicians: tuple[TechnicianRow, ...]
    kinds: tuple[KindRow, ...]
    spent: tuple[TimeSpent, ...]
    reported_arrivals: int
    on_time_rate: float | None
    urgent_reported: int
    urgent_within_response: float | None
    appointments_reported: int
    early_band_rate: float | None


def _planned_door(stop: Stop, visit: Visit) -> datetime:
    """Where the plan's way to ``stop`` ends, read as a reported one is: at its arrival for an
    appointment (the handbook has the technician at the door in the band, not sooner: time
    idle before it is on the way), else at the soonest the plan has them there, its start
    of work less its wait. The plan reaches a window visit when the window opens, but a
    technician driving straight waits at the door, and the card reads that as waiting
    (``_began``): a plan's 20 minutes idle before a window read as 20 minutes of planned
    driving beside 20 reported minutes of waiting, counted once on each side."""
    if visit.appointment is not None:
        return stop.arrival
    return shifted(stop.service_start, -stop.wait)


def _planned_drive(stop: Stop, visit: Visit, planned_leaving: datetime) -> int:
    """The minutes the plan has on the way to ``stop``: from leaving the stop before to its
    door (``_planned_door``; breaks on the way included), or the leg's own drive where the
    stop before was planned after it (history in the order of the reports, each stop with the
    times of the version it was reported in: 09:50 after 14:10 read as -260 minutes)."""
    door = _planned_door(stop, visit)
    if door < planned_leaving:
        return whole_minutes(stop.travel)
    return whole_minutes(elapsed(planned_leaving, door))


def _planned_setting_out(route: Route, stop: Stop, visit: Visit) -> int:
    """The minutes the plan has on the way to the first ``stop`` of ``route``: its drive, the
    depot calls before it and the breaks between the route's start and its door
    (``_planned_door``), no more than the gap from the start. A re-planned route starts when
    the reports say the technician set off (``replan._left_base``: the first door reached
    less its drive), not when the plan had them leave: a stop planned at 08:50, 10 minutes
    from the base and reached at 08:20, read as 40 planned minutes on the way."""
    door = _planned_door(stop, visit)
    if door < route.start_time:
        return whole_minutes(stop.travel)
    calls = sum(
        (elapsed(c.arrival, c.departure) + c.travel for c in route.depot_stops if c.before == 0),
        timedelta(0),
    )
    rests = sum(
        (
            elapsed(latest(rest.start, route.start_time), earliest(rest.end, door))
            for rest in route.breaks
            if after(door, rest.start) and after(rest.end, route.start_time)
        ),
        timedelta(0),
    )
    return whole_minutes(min(elapsed(route.start_time, door), stop.travel + calls + rests))


def _left(stop: Stop, following: Stop | None) -> datetime | None:
    """When the technician left ``stop``, as the minutes count it: the reported departure, or
    the arrival at the stop after it when that came sooner (a "Done" tapped late, from the
    next door: the 8 minutes there were read as service here and -8 minutes on the way)."""
    there = None if following is None else following.actual_arrival or following.actual_start
    here = stop.actual_start or stop.actual_arrival
    if stop.actual_departure is None or there is None or (here and after(here, there)):
        return stop.actual_departure
    return earliest(stop.actual_departure, there)


def _began(stop: Stop, visit: Visit, at_time: bool, left: datetime | None) -> datetime | None:
    """When work at ``stop`` began: the reported start, else the arrival, or the moment work
    may begin when they were at the door before it: under ``appointment_start`` ``at_time``
    the appointment, else the window's start (the rules have them wait there until then: a
    driver on time by the handbook, tapping only "Arrived" and "Done", was read as 8 minutes
    over the estimate; one at the door 20 minutes before a window opened, as 20)."""
    if stop.actual_start is not None or stop.actual_arrival is None:
        return stop.actual_start
    if visit.appointment is not None:
        opens = visit.appointment if at_time else None
    else:
        opens = visit.window.start if visit.window is not None else None
    if opens is None or not after(opens, stop.actual_arrival):
        return stop.actual_arrival
    return opens if left is None else earliest(opens, left)


def time_card(problem: Problem, plan: Plan) -> DayCard:
    """The time-tracking card of ``plan`` (usually the latest version) of ``problem``."""
    visits: dict[VisitId, Visit] = {visit.id: visit for visit in problem.visits}
    near, far = problem.policy.early_band
    # A visit not completed keeps its stop and its minutes on site (the time was spent) but is
    # no job done: it has no overrun and is no job of its kind (10 minutes without the part
    # read as a 30-minute repair done in 10), and its status says so (it said "done").
    unfinished = {u.visit_id for u in plan.unassigned if u.code is UnassignedCode.NOT_COMPLETED}
    records: list[StopRecord] = []
    on_time = urgent_ok = urgent_n = band_ok = band_n = 0
    at_time = problem.policy.appointment_start == "at_time"
    for route in plan.routes:
        previous_departure: datetime | None = None
        planned_leaving = route.start_time  # of the stop before; the first: _planned_setting_out
        for k, stop in enumerate(route.stops):
            visit = visits[stop.visit_id]
            arrived = stop.actual_arrival or stop.actual_start
            left = _left(stop, route.stops[k + 1] if k + 1 < len(route.stops) else None)
            began = _began(stop, visit, at_time, left)
            service = whole_minutes(elapsed(began, left)) if left and began else None
            latest = visit.latest_arrival
            late = None
            if arrived is not None:
                late = max(0, whole_minutes(elapsed(latest, arrived))) if latest else 0
                on_time += late == 0
                if visit.deadline is not None and visit.reported_at is not None:
                    urgent_n += 1
                    urgent_ok += not after(arrived, visit.deadline)  # in real time
                if visit.appointment is not None:
                    band_n += 1
                    band_ok += (
                        shifted(visit.appointment, -far)
                        <= arrived
                        <= shifted(visit.appointment, -near)
                    )
            travel = (
                whole_minutes(elapsed(previous_departure, arrived))
                if arrived is not None and previous_departure is not None
                else None
            )
            planned_service = whole_minutes(visit.duration)
            waited = (
                whole_minutes(elapsed(stop.actual_arrival, began))
                if began and stop.actual_arrival and began != stop.actual_arrival
                else None
            )
            records.append(
                StopRecord(
                    technician_id=route.technician_id,
                    visit_id=stop.visit_id,
                    kind=visit.kind,
                    status=(
                        UnassignedCode.NOT_COMPLETED.value
                        if stop.visit_id in unfinished
                        else stop.status.value
                    ),
                    planned_arrival=format_clock(stop.arrival),
                    actual_arrival=format_clock(arrived) if arrived else None,
                    arrival_delta_min=whole_minutes(arrived - stop.arrival) if arrived else None,
                    late_min=late,
                    planned_service_min=planned_service,
                    actual_service_min=service,
                    overrun_min=(
                        service - planned_service
                        if service is not None and stop.visit_id not in unfinished
                        else None
                    ),
                    planned_travel_min=(
                        _planned_drive(stop, visit, planned_leaving)
                        if k
                        else _planned_setting_out(route, stop, visit)
                    ),
                    actual_travel_min=travel,
                    actual_wait_min=waited,
                )
            )
            previous_departure = left
            planned_leaving = stop.departure
    reported = sum(1 for r in records if r.actual_arrival is not None)
    return DayCard(
        stops=tuple(records),
        technicians=_by_technician(records),
        kinds=_by_kind(records, visits),
        spent=_time_spent(records),
        reported_arrivals=reported,
        on_time_rate=round(on_time / reported, 4) if reported else None,
        urgent_reported=urgent_n,
        urgent_within_response=round(urgent_ok / urgent_n, 4) if urgent_n else None,
        appointments_reported=band_n,
        early_band_rate=round(band_ok / band_n, 4) if band_n else None,
    )


def _by_technician(records: Sequence[StopRecord]) -> tuple[TechnicianRow, ...]:
    groups: dict[str, list[StopRecord]] = defaultdict(list)
    for record in records:
        groups[record.technician_id].append(record)
    rows = []
    for tech, items in groups.items():
        deltas = [r.arrival_delta_min for r in items if r.arrival_delta_min is not None]
        travelled = [r for r in items if r.actual_travel_min is not None]
        rows.append(
            TechnicianRow(
                technician_id=tech,
                stops=len(items),
                reported=len(deltas),
                on_time=sum(1 for r in items if r.late_min == 0),
                mean_arrival_delta_min=round(sum(deltas) / len(deltas), 1) if deltas else None,
                overrun_min=sum(max(0, r.overrun_min or 0) for r in items),
                planned_travel_min=sum(r.planned_travel_min for r in travelled),
                actual_travel_min=sum(r.actual_travel_min or 0 for r in travelled),
            )
        )
    return tuple(rows)


def _by_kind(records: Sequence[StopRecord], visits: Mapping[VisitId, Visit]) -> tuple[KindRow, ...]:
    """Service time against plan per kind of visit, over the jobs done and reported. The
    planned minutes are the visits' durations summed, then rounded once, as the plan's own
    ``service_min`` is: three repairs of 59.6 minutes read 180 (60 each), the plan said 179."""
    groups: dict[str, list[StopRecord]] = defaultdict(list)
    for record in records:
        if record.overrun_min is not None:  # a job done, its minutes reported
            groups[record.kind].append(record)
    return tuple(
        KindRow(
            kind=kind,
            reported=len(items),
            mean_overrun_min=round(sum(r.overrun_min or 0 for r in items) / len(items), 1),
            planned_service_min=whole_minutes(
                sum((visits[VisitId(r.visit_id)].duration for r in items), timedelta(0))
            ),
            actual_service_min=sum(r.actual_service_min or 0 for r in items),
        )
        for kind, items in sorted(groups.items())
    )


def _time_spent(records: Sequence[StopRecord]) -> tuple[TimeSpent, ...]:
    groups: dict[str, list[StopRecord]] = defaultdict(list)
    for record in records:
        groups[record.technician_id].append(record)
    rows = []
    for tech, items in groups.items():
        served = [r for r in items if r.actual_service_min is not None]
        rows.append(
            TimeSpent(
                technician_id=tech,
                travel_min=sum(r.actual_travel_min or 0 for r in items),
                waiting_min=sum(max(0, r.actual_wait_min or 0) for r in items),
                service_min=sum(
                    min(r.actual_service_min or 0, r.planned_service_min) for r in served
                ),
                over_estimate_min=sum(max(0, r.overrun_min or 0) for r in served),
            )
        )
    return tuple(rows)


def stored_time_card(store: Store, plan_id: str) -> tuple[PlanOut, DayCard]:
    """The latest version of a stored plan and its time-tracking card.

    The card reads the version's full-precision record (``dispatch.contract.record``), or its
    document for a version stored before records were kept.

    Raises
    ------
    NotFoundError
        Unknown plan.
    """
    document = PlanOut.model_validate(store.load_plan(plan_id))
    raw = store.load_problem_of_plan(plan_id, document.version)
    problem = parse_stored_day(raw, plan_id=plan_id, version=document.version)
    record = store.load_plan_record(plan_id, document.version)
    plan = read_record(record) if record is not None else read_plan(document)
    return document, time_card(problem, plan)


#: What a spreadsheet reads as the start of a formula (or, for tab and carriage return, can
#: shift a cell so that the next character starts one): OWASP's list for CSV injection.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _inert(value: object) -> object:
    """``value`` as a spreadsheet shows it without running it: text that could start a formula
    (an id typed as ``=1+2``) gets a leading ``'``, as OWASP recommends. Numbers (a negative
    ``arrival_delta_min``) and ``None`` are left as they are, so they stay numbers."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return f"'{value}"
    return value


def to_csv(records: Sequence[StopRecord]) -> str:
    """The per-stop card as CSV text, one row per stop, header first; no text cell starts a
    formula (ids, kinds and statuses are the dispatcher's own text).

    Lines end in CRLF (RFC 4180): the csv module quotes a cell holding a character of the line
    ending, so a carriage return in an id stays inside its quoted cell."""
    buffer = io.StringIO()
    fields = list(StopRecord.__dataclass_fields__)
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\r\n")
    writer.writeheader()
    for record in records:
        writer.writerow({name: _inert(value) for name, value in asdict(record).items()})
    return buffer.getvalue()
