"""Events of the day: parse a batch, check it against the plan it applies to, fold it in.

``parse_events`` is the one door for events, as ``parse_problem`` is for problems: it raises
one ``InputError`` listing every bad event with its index and id (``events[3] (V0007): V0007
was cancelled at 10:05; it cannot start``), and the batch is then refused whole.
What the events change in the day itself (new visits, visits moved by hand, technicians who
became unavailable) is applied twice, to two representations of the same day: ``apply_to_problem``
to the domain ``Problem`` that re-planning solves (no JSON is edited and parsed again), and
``apply_to_problem_json`` to the day's JSON, so the next version's problem is stored as plain
contract input. ``tests/dispatch/test_events.py`` holds the two to the same day.

The reports a phone sends from a visit (``arrived``, ``started``, ``completed``,
``not_completed``; see ``FIELD_REPORTS``) are facts of the field: a phone that was offline sends
them late, so their own clock times may be earlier than the plan's last re-plan; they then only
fill in what happened (the actual times), while the batch's ``at`` must still move forward.
Other clock times (the desk's ``departed``) may not be before the last re-plan. A technician
is at one visit at a time: reports whose times at two visits overlap by more than
``REPORT_OVERLAP``, in either order, are refused (``_Checker.one_door_at_a_time``).
A visit reported ``not_completed`` counts as left at its time (its stop is done for the route)
and as waiting to be booked again: no later event may report on it, cancel it or move it.
``retracted`` takes back the reports of a visit reached and not left (a tap at the wrong
stop): for the whole batch, whatever its place in it, the stop is not reached (``with_progress``,
``passed_stops`` and ``skipped_stops`` read it as one to make again), and a stop before it
taken as done because of it is read again from its own reports.

Spare parts: ``part_used`` (a unit used beyond what the plan counted), ``part_faulty`` and
``part_missing`` take units out of a technician's van or a depot for good. Each takes effect
on a unit the holder really holds at the batch's time, or the event is refused naming its
index, the holder's field and the part (with what the holder does hold): a van holds its
stock when the day started and what the calls it already made took, less what its visits
already done used; a depot its stock and the arrivals already in, less what calls already
made took (``dispatch.stock.loss`` says which lot each unit comes out of). The units are then
folded into the day: the van's ``van_stock``, a call already made (it took that much less),
the depot's ``stock`` or an arrival, so the re-plan, which counts what the route used and
took from there, plans the rest of the day with what is really left.

What is history at the batch's time is decided here once, for the part events and for the
re-plan (``dispatch.replanning.replan``): ``passed_stops`` (stops done, under way, or reached
by the plan with the reported delay), ``skipped_stops`` (among those, stops nobody reported on
that the technician went past: a later stop was reported reached before the plan had them done,
so they are planned again) and ``calls_made`` (depot calls begun before the batch's time, or
before a passed stop the technician did not go past).
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from dispatch.contract.schema import (
    CancelledIn,
    DelayIn,
    EventBatchIn,
    MovedIn,
    NewVisitIn,
    NotCompletedIn,
    PartEventIn,
    RetractedIn,
    UnavailableIn,
    VisitClockIn,
)
from dispatch.contract.validate import (
    END_OF_DAY,
    ends_of_day,
    load_json,
    parse_problem,
    pydantic_errors,
)
from dispatch.errors import FieldError, InputError
from dispatch.model import (
    DepotId,
    PartArrival,
    PartQuantity,
    Plan,
    Problem,
    Route,
    Stop,
    StopStatus,
    TechnicianId,
    TimeWindow,
    UnassignedCode,
    Visit,
    VisitId,
)
from dispatch.stock.loss import Losses
from dispatch.units import after, clock_to_datetime, format_clock, latest, shifted

__all__ = [
    "FIELD_REPORTS",
    "EventBatch",
    "Move",
    "VisitProgress",
    "ahead_of_now",
    "apply_to_problem",
    "apply_to_problem_json",
    "calls_made",
    "parse_events",
    "passed_stops",
    "read_batch",
    "running_late",
    "skipped_stops",
    "still_there",
    "with_progress",
    "with_returned",
]


#: How far after the caller's clock a batch of today's plan may be timed: a phone's clock a
#: few minutes fast, a tap late by a quarter of an hour, as the reports' overlap allows.
AHEAD_ALLOWED = timedelta(minutes=15)

#: Reports from a visit whose own clock time may be before the plan's last re-plan (sent late
#: by a phone that was offline): they only fill in the actual times.
FIELD_REPORTS = frozenset({"arrived", "started", "completed", "not_completed"})

#: How far a technician's reports at two visits may overlap: a late tap on the last visit's
#: phone, or a clock a few minutes off. Beyond it they put the technician at two doors at once.
REPORT_OVERLAP = timedelta(minutes=15)


@dataclass(slots=True)
class VisitProgress:
    """What was reported at one visit: actual arrival, start of work and departure."""

    arrived: datetime | None = None
    started: datetime | None = None
    departed: datetime | None = None

    @property
    def status(self) -> StopStatus:
        """The stop's status these reports give."""
        if self.departed:
            return StopStatus.DONE
        if self.started:
            return StopStatus.IN_PROGRESS
        return StopStatus.ARRIVED if self.arrived else StopStatus.PLANNED


@dataclass(frozen=True, slots=True)
class Move:
    """A visit moved by hand: to a technician, to an appointment or to a window."""

    technician: TechnicianId | None = None
    appointment: datetime | None = None
    window: TimeWindow | None = None


@dataclass(frozen=True, slots=True)
class EventBatch:
    """A checked batch: what happened, by visit and by technician, at clock time ``at``.

    A new visit is held twice: as the contract's JSON row (``new_visits``, to store) and as
    the domain ``Visit`` it was validated into (``added``, to plan); a move likewise as the
    wire event (``moved``) and as the visit's new pin and times (``moves``).
    """

    at: datetime
    version: int | None
    raw: dict[str, Any]
    progress: dict[VisitId, VisitProgress] = field(default_factory=dict)
    delays: dict[TechnicianId, timedelta] = field(default_factory=dict)
    delay_reasons: dict[TechnicianId, str] = field(default_factory=dict)
    cancelled: dict[VisitId, str] = field(default_factory=dict)
    #: Visits the technician could not complete, with the reason given.
    not_completed: dict[VisitId, str] = field(default_factory=dict)
    #: Visits whose reports of arrival and start were taken back, with the reason given.
    retracted: dict[VisitId, str] = field(default_factory=dict)
    unavailable: dict[TechnicianId, str] = field(default_factory=dict)
    moved: dict[VisitId, MovedIn] = field(default_factory=dict)
    moves: dict[VisitId, Move] = field(default_factory=dict)
    new_visits: tuple[dict[str, Any], ...] = ()
    added: tuple[Visit, ...] = ()
    #: Spare parts gone for good (used, faulty, missing), by the lot they come out of
    #: (``dispatch.stock.loss.Losses``): units off a van's stock when the day started, by
    #: technician then part; off what the ``k``-th depot call of a technician's route took,
    #: by ``(technician, k)`` then part; off a depot's stock, by depot then part; off a
    #: depot's ``k``-th arrival, by depot then ``k``.
    van_cut: dict[TechnicianId, dict[str, int]] = field(default_factory=dict)
    call_cut: dict[tuple[TechnicianId, int], dict[str, int]] = field(default_factory=dict)
    depot_cut: dict[DepotId, dict[str, int]] = field(default_factory=dict)
    arrival_cut: dict[DepotId, dict[int, int]] = field(default_factory=dict)


#: How far a stop can get, in order: a late report never takes a stop back (a stop the plan
#: took as done stays done when an arrival reported offline comes in after it).
_PROGRESS = (StopStatus.PLANNED, StopStatus.ARRIVED, StopStatus.IN_PROGRESS, StopStatus.DONE)


def ahead_of_now(problem: Problem, plan: Plan, at: datetime, now: datetime | None) -> str | None:
    """Why ``at`` may not be the time of a batch (or a booking) of ``plan``, a plan of today by
    the caller's clock ``now``: later than now (``AHEAD_ALLOWED`` spared) and than the plan's
    last re-plan; ``None`` when it may (or there is no clock)."""
    if now is None:
        return None
    now = now.astimezone(problem.timezone)
    allowed = latest(shifted(now, AHEAD_ALLOWED), *([plan.at] if plan.at else []))
    if now.date() != problem.date or not after(at, allowed):
        return None
    return (
        f"{format_clock(at)} is later than the time now ({format_clock(now)} in "
        f"{problem.timezone.key}): events report what has happened; send them once it has"
    )


def with_progress(
    route: Route,
    progress: Mapping[VisitId, VisitProgress],
    retracted: Collection[VisitId] = (),
) -> Route:
    """``route`` with the reports of ``progress``: statuses and actual times. A stop of
    ``retracted`` has its reports taken back (not reached: planned, no actual times), and on a
    route with one, a stop reported reached and not left is as its reports say: taken as done
    because a later stop was reported reached (the one taken back, maybe), it is read afresh
    (``passed_stops``)."""
    taken_back = any(stop.visit_id in retracted for stop in route.stops)
    stops = []
    for stop in route.stops:
        report = progress.get(stop.visit_id)
        if stop.visit_id in retracted:
            stop = replace(
                stop,
                status=StopStatus.PLANNED,
                actual_arrival=None,
                actual_start=None,
                actual_departure=None,
            )
        elif taken_back and still_reached(stop):
            reached = VisitProgress(stop.actual_arrival, stop.actual_start)
            stop = replace(stop, status=reached.status)
        if report is not None:
            stop = replace(
                stop,
                status=max(report.status, stop.status, key=_PROGRESS.index),
                actual_arrival=report.arrived,
                actual_start=report.started,
                actual_departure=report.departed,
            )
        stops.append(stop)
    return _in_reported_order(replace(route, stops=tuple(stops)))


def with_returned(plan: Plan, returned: Mapping[VisitId, tuple[TechnicianId, Stop]]) -> Plan:
    """``plan`` with each stop of ``returned`` back on its technician's route, as the stop it
    was (not yet reported on), after the stops done or under way, and out of ``unassigned``:
    a visit left out after its technician went past it, that a report now says they served
    (its place in the route is then the reports', ``with_progress``). One whose technician
    has no route in ``plan`` stays out."""
    routes: list[Route] = []
    back_on: set[VisitId] = set()
    for route in plan.routes:
        back = [
            replace(
                stop,
                status=StopStatus.PLANNED,
                actual_arrival=None,
                actual_start=None,
                actual_departure=None,
            )
            for tech_id, stop in returned.values()
            if tech_id == route.technician_id
        ]
        if not back:
            routes.append(route)
            continue
        cut = max((k + 1 for k, stop in enumerate(route.stops) if stop.frozen), default=0)
        routes.append(
            replace(
                route,
                stops=(*route.stops[:cut], *back, *route.stops[cut:]),
                depot_stops=tuple(
                    replace(call, before=call.before + len(back)) if call.before >= cut else call
                    for call in route.depot_stops
                ),
            )
        )
        back_on.update(stop.visit_id for stop in back)
    if not back_on:
        return plan
    unassigned = tuple(item for item in plan.unassigned if item.visit_id not in back_on)
    return replace(plan, routes=tuple(routes), unassigned=unassigned)


def _in_reported_order(route: Route) -> Route:
    """``route`` with each stop reported on moved before the first stop reported on later (by
    each one's first report): the order the technician took them in. A stop gone past and
    planned again after the one they went to first, then reported done late (at a time before
    they reached that one) was read as taken after it: the stop they were still at was stored
    done, the one done before it with the plan's future times.

    A stop nobody reported on between two reported ones moves with the one after it, so it is
    judged against the reports after it as the plan had them (``skipped_stops``: moved with
    the one before, it was judged against none and stored done though gone past); those
    before the first reported stop and after the last stay first and last. A call keeps the
    stop it comes before, but for those before the first stop, made before leaving whichever
    stop came first (``calls_made``)."""
    head: list[int] = []
    groups: list[list[int]] = []
    pending: list[int] = []
    for k, stop in enumerate(route.stops):
        pending.append(k)
        if _first_report(stop) is not None:
            if groups:
                groups.append(pending)
            else:  # the stops before the first one reported stay first
                head, groups = pending[:-1], [pending[-1:]]
            pending = []
    # Stable: stops reported at the same minute keep the plan's order.
    groups.sort(key=lambda group: _first_report(route.stops[group[-1]]) or datetime.min)
    order = [*head, *(k for group in groups for k in group), *pending]
    if order == sorted(order):
        return route
    position = {k: n for n, k in enumerate(order)}
    return replace(
        route,
        stops=tuple(route.stops[k] for k in order),
        depot_stops=tuple(
            replace(call, before=position.get(call.before, call.before) if call.before else 0)
            for call in route.depot_stops
        ),
    )


def _first_report(stop: Stop) -> datetime | None:
    """The earliest time reported at ``stop`` (``None`` when nobody reported on it)."""
    reported = (stop.actual_arrival, stop.actual_start, stop.actual_departure)
    return min((moment for moment in reported if moment is not None), default=None)


def _unreported(stop: Stop) -> bool:
    """Whether nobody reported on ``stop`` and it is at most taken as under way by the plan's
    clock (one taken as done stays done: a late report never takes it back)."""
    reported = stop.actual_arrival or stop.actual_start or stop.actual_departure
    return reported is None and stop.status is not StopStatus.DONE


def still_reached(stop: Stop) -> bool:
    """Whether ``stop`` was reported reached (arrived or started) and not left."""
    reached = stop.actual_arrival is not None or stop.actual_start is not None
    return reached and stop.actual_departure is None


def still_there(stop: Stop) -> bool:
    """Whether ``stop`` was reported reached (arrived or started) and not left, nor taken as
    done: its technician is there at the re-plan, whatever the plan said they would have
    done by then."""
    return still_reached(stop) and stop.status is not StopStatus.DONE


def passed_stops(
    route: Route,
    delay: timedelta,
    at: datetime,
    retracted: Collection[VisitId] = (),
    lags: Sequence[timedelta] | None = None,
) -> int:
    """How many of ``route``'s stops (with its reports, ``with_progress``) are history at
    ``at``: up to the last one done or under way, or reached by the plan even with ``delay``
    (the technician's delay reported now), but for stops after one the technician is still at
    (``still_there``), which only their own reports make history (the plan's reach had a
    customer nobody saw stored as done), and for a stop whose reports were ``retracted`` and the
    stops after it: the technician is not there, and the plan timed the stops after it from
    there (read as reached at its times, a stop after it was driven to from the one before);
    among them, ``skipped_stops`` are not. ``lags`` (``running_late``) put each stop's reach
    later by as much (default: none)."""
    last, held = -1, False
    lags = lags or [timedelta(0)] * len(route.stops)
    for k, stop in enumerate(route.stops):
        if stop.frozen:
            last, held = k, still_there(stop)
        elif stop.visit_id in retracted:
            held = True
        elif not held and shifted(stop.arrival, delay + lags[k]) <= at:
            last = k
    return last + 1


def running_late(route: Route, stored: Route) -> list[timedelta]:
    """How late each of ``route``'s stops (with the batch's reports) is for the plan's reach:
    by as much as the last stop reported left in this batch, before it, was left after its
    planned departure (a job that overran). Read at the plan's times, the stop after a job
    reported done at 11:05 that the plan had done by 11:00 was taken as done, its customer
    never seen nor called. A departure ``stored`` already has was known to the plan, which
    timed the stops after it from there: counted again, they were reached 95 minutes late."""
    known = {stop.visit_id: stop.actual_departure for stop in stored.stops}
    then = {a.visit_id: b.visit_id for a, b in zip(stored.stops, stored.stops[1:], strict=False)}
    lags: list[timedelta] = []
    lag = timedelta(0)
    for k, stop in enumerate(route.stops):
        lags.append(lag)
        left = stop.actual_departure
        if left is not None and known.get(stop.visit_id) != left:
            # Late for the set-off the plan timed the next stop from (its arrival less its
            # drive): a stop's own planned departure is its history, hours off once its work
            # was reported begun early (left at 13:52, planned to 13:53, the next stop timed
            # from 13:42), and not the stop the plan timed the next one from once reports
            # put it elsewhere (``with_progress``: left at 09:30 where the plan had it left at
            # 08:40 before two others, the stop after it was read 50 minutes late).
            following = route.stops[k + 1] if k + 1 < len(route.stops) else None
            set_off = shifted(following.arrival, -following.travel) if following else left
            if following is None or then.get(stop.visit_id) == following.visit_id:
                set_off = min(set_off, stop.departure)
            lag = max(timedelta(0), left - set_off)
        elif stop.frozen:
            lag = timedelta(0)
    return lags


def skipped_stops(route: Route, passed: int, retracted: Collection[VisitId] = ()) -> frozenset[int]:
    """The stops among ``route``'s first ``passed`` (``passed_stops``) that the technician went
    past: nobody reported on them, and a later stop was reported reached before the plan had
    them done (they went there first), or their reports were ``retracted``. They are not
    history: they are planned again. A stop an earlier version only took as under way by the
    plan's clock is such a stop too: taken so by another technician's batch a minute before,
    it was then taken as done, its customer neither seen nor called."""
    skipped: set[int] = set()
    seen: datetime | None = None  # the earliest report at a later stop
    for k in reversed(range(passed)):
        stop = route.stops[k]
        if stop.visit_id in retracted or (
            _unreported(stop) and seen is not None and stop.departure > seen
        ):
            skipped.add(k)
        moments = (seen, stop.actual_arrival, stop.actual_start, stop.actual_departure)
        seen = min((moment for moment in moments if moment is not None), default=None)
    return frozenset(skipped)


def calls_made(
    route: Route, passed: int, at: datetime, retracted: Collection[VisitId] = ()
) -> tuple[int, ...]:
    """The depot calls of ``route`` that are history at ``at`` (indexes in ``depot_stops``):
    those that began before ``at`` (what a call took is in the van once it has begun) after
    the ``passed`` stops before them (a delay reported now that keeps the stop before a call
    unreached, or a stop they are still at, keeps the call unmade: made, the stop was served
    after the call it came before), and those due later before one of its ``passed`` stops,
    but not before one the technician went past (``skipped_stops``): going past it, they did
    not make its call either. The load before leaving (calls before the first stop) is the
    exception: once any stop is passed the technician has left, with it, whichever stop they
    went to first."""
    skipped = skipped_stops(route, passed, retracted)
    # Still at the last stop passed: the calls after it wait, whatever the plan's clock says.
    held = passed > 0 and still_there(route.stops[passed - 1])
    return tuple(
        k
        for k, call in enumerate(route.depot_stops)
        if (call.arrival < at and (call.before < passed or (call.before == passed and not held)))
        or (call.before < passed and (call.before == 0 or call.before not in skipped))
    )


def parse_events(
    raw: str | bytes | Mapping[str, Any],
    problem_raw: Mapping[str, Any],
    problem: Problem,
    plan: Plan,
    *,
    now: datetime | None = None,
) -> EventBatch:
    """Check a batch of events against the day (``problem_raw``, parsed as ``problem``) and
    its current ``plan``; ``now`` (the caller's clock, aware) refuses a batch of today's plan
    timed more than ``AHEAD_ALLOWED`` after it.

    Raises
    ------
    InputError
        Listing every bad event with its index and the visit or technician id.
    """
    data, wire = read_batch(raw)
    return _Checker(problem_raw, problem, plan, wire, dict(data), now).run()


def read_batch(raw: str | bytes | Mapping[str, Any]) -> tuple[Mapping[str, Any], EventBatchIn]:
    """A batch's JSON and its shapes checked (keys, types, formats, valid text), before any
    rule that needs the day or the plan: what an edge reading raw JSON calls first.

    Raises
    ------
    InputError
        Not JSON, nested deeper than ``dispatch.contract.validate.MAX_JSON_DEPTH``, or every
        bad field with its path and the id of its event.
    """
    data = load_json(raw, what="events") if isinstance(raw, str | bytes) else raw
    if not isinstance(data, Mapping):
        raise InputError([FieldError("", "events must be a JSON object")], what="events")
    try:
        return data, EventBatchIn.model_validate(data)
    except ValidationError as error:
        raise InputError(pydantic_errors(error, data), what="events") from error


def _fills_in(progress: VisitProgress, kind: str, moment: datetime) -> bool:
    """Whether a late ``arrived`` or ``started`` at ``moment`` only fills in a time of a visit
    already reported left: none of its kind on record, and in time order with the others (a
    phone that held its Arrived tap sent it after the Done: refused, the card lost the
    arrival, as the contract says such reports fill in the actual times)."""
    assert progress.departed is not None
    if kind == "arrived":
        mine, later = progress.arrived, [progress.started, progress.departed]
        return mine in (None, moment) and all(moment <= t for t in later if t is not None)
    if kind == "started":
        mine, earlier = progress.started, progress.arrived
        before = moment <= progress.departed
        return mine in (None, moment) and before and (earlier is None or earlier <= moment)
    return False


class _Checker:
    def __init__(
        self,
        problem_raw: Mapping[str, Any],
        problem: Problem,
        plan: Plan,
        wire: EventBatchIn,
        raw: dict[str, Any],
        now: datetime | None = None,
    ) -> None:
        self.problem_raw = problem_raw
        self.now = now
        self.problem, self.plan, self.wire, self.raw = problem, plan, wire, raw
        self.errors: list[FieldError] = []
        self.at = clock_to_datetime(wire.at, problem.date, problem.timezone)
        self.visits = {visit.id: visit for visit in problem.visits}
        self.technicians = {tech.id: tech for tech in problem.technicians}
        self.stops = {stop.visit_id: stop for route in plan.routes for stop in route.stops}
        self.owner = {
            stop.visit_id: route.technician_id for route in plan.routes for stop in route.stops
        }
        self.was_cancelled = {
            item.visit_id for item in plan.unassigned if item.code is UnassignedCode.CANCELLED
        }
        self.was_not_completed = {
            item.visit_id for item in plan.unassigned if item.code is UnassignedCode.NOT_COMPLETED
        }
        self.batch = EventBatch(at=self.at, version=wire.version, raw=raw)
        self.new_ids: set[str] = set()
        self.new_rows: list[dict[str, Any]] = []
        self.added: dict[VisitId, Visit] = {}
        self.part_events: list[tuple[int, PartEventIn]] = []
        #: The index of the event that cancelled or moved each visit, for ``taken_as_history``.
        self.desk_events: dict[VisitId, tuple[int, str]] = {}
        #: The index of the last report taken at each visit, for ``one_door_at_a_time``.
        self.reported: dict[VisitId, int] = {}
        self._history: (
            dict[TechnicianId, tuple[Route, int, tuple[int, ...], frozenset[int]]] | None
        ) = None

    def error(self, index: int | None, entity: str | None, message: str) -> None:
        path = "at" if index is None else f"events[{index}]"
        self.errors.append(FieldError(path, message, entity))

    def not_ahead_of_now(self) -> None:
        """A batch of today's plan is not timed after the caller's clock (``AHEAD_ALLOWED``
        spared): one phone with a clock hours fast moved the plan there, and every report
        after it was refused as before the last re-plan until that hour. At the plan's own last
        re-plan time it is, though (it moves the plan nowhere): a plan re-planned the evening
        before for 08:15 took nothing from midnight until 07:45, neither then (after the
        clock) nor sooner (before its last re-plan)."""
        message = ahead_of_now(self.problem, self.plan, self.at, self.now)
        if message is not None:
            self.error(None, None, message)

    def clock(self, index: int, entity: str, text: str | None, *, report: bool = False) -> datetime:
        """An event's own clock time (default: the batch's). Never after the batch's time; a
        ``report`` from a visit may be before the last re-plan (a phone that was offline), any
        other time may not."""
        moment = clock_to_datetime(text, self.problem.date, self.problem.timezone) if text else None
        if moment is None:
            return self.at
        if moment > self.at:
            self.error(index, entity, f"{text} is after the batch's time {self.wire.at}")
        if not report and self.plan.at is not None and moment < self.plan.at:
            self.error(
                index,
                entity,
                f"{text} is before the previous re-plan at "
                f"{format_clock(self.plan.at, self.problem.date)}",
            )
        return moment

    def run(self) -> EventBatch:
        self.not_ahead_of_now()
        if self.plan.at is not None and self.at < self.plan.at:
            self.error(
                None,
                None,
                f"{self.wire.at} is before the plan's last re-plan at "
                f"{format_clock(self.plan.at, self.problem.date)}; "
                "events must move forward in time",
            )
        # Taken back first: the batch's other events see the visit as not reached.
        for index, event in enumerate(self.wire.events):
            if isinstance(event, RetractedIn):
                self.retracted(index, event)
        for index, event in enumerate(self.wire.events):
            if isinstance(event, VisitClockIn):
                self.visit_clock(index, event)
            elif isinstance(event, NotCompletedIn):
                if self.visit_clock(index, event):
                    self.batch.not_completed[VisitId(event.visit_id)] = event.reason
            elif isinstance(event, DelayIn):
                if self.known_technician(index, event.technician_id):
                    tech = TechnicianId(event.technician_id)
                    self.batch.delays[tech] = self.batch.delays.get(tech, timedelta(0)) + timedelta(
                        minutes=event.minutes
                    )
                    self.batch.delay_reasons[tech] = event.reason
            elif isinstance(event, CancelledIn):
                self.cancelled(index, event)
            elif isinstance(event, MovedIn):
                self.moved(index, event)
            elif isinstance(event, UnavailableIn):
                if self.known_technician(index, event.technician_id):
                    self.batch.unavailable[TechnicianId(event.technician_id)] = event.reason
            elif isinstance(event, NewVisitIn):
                self.new_visit(index, event)
            elif isinstance(event, PartEventIn):
                self.part_events.append((index, event))
        self.one_door_at_a_time()
        self.taken_as_history()
        self.part_gone()
        if self.errors:
            raise InputError(self.errors, what="events")
        return replace(
            self.batch, new_visits=tuple(self.new_rows), added=tuple(self.added.values())
        )

    def known_technician(self, index: int, tech_id: str) -> bool:
        if tech_id not in self.technicians:
            self.error(index, tech_id, f"unknown technician '{tech_id}'")
            return False
        return True

    def known_visit(self, index: int, visit_id: str, *, report: bool = False) -> bool:
        """Whether ``visit_id`` is a visit an event may name. A ``report`` of arrival or start
        is judged by its time against the one this batch says the visit could not be
        completed at (``visit_clock``): listed after it, an arrival before it was refused,
        though one listed after a completion is taken (an offline phone's batch out of
        order)."""
        if visit_id not in self.visits and visit_id not in self.new_ids:
            self.error(index, visit_id, f"unknown visit '{visit_id}'")
            return False
        if visit_id in self.was_cancelled or visit_id in self.batch.cancelled:
            self.error(index, visit_id, f"{visit_id} was cancelled")
            return False
        if visit_id in self.was_not_completed or (
            visit_id in self.batch.not_completed and not report
        ):
            self.error(
                index,
                visit_id,
                f"{visit_id} could not be completed and waits to be booked again",
            )
            return False
        return True

    def visit_clock(self, index: int, event: VisitClockIn | NotCompletedIn) -> bool:
        """A report from a visit on a route; whether it was taken."""
        visit_id = VisitId(event.visit_id)
        if not self.known_visit(index, visit_id, report=event.type in ("arrived", "started")):
            return False
        if visit_id not in self.stops:
            self.error(
                index,
                visit_id,
                f"{visit_id} is on no technician's route; move it to a technician first",
            )
            return False
        if visit_id in self.batch.retracted:
            self.error(
                index,
                visit_id,
                f"{visit_id}'s reports are taken back in this batch; report it again in a "
                "later one",
            )
            return False
        errors = len(self.errors)
        moment = self.clock(index, visit_id, event.at, report=event.type in FIELD_REPORTS)
        known = self.visits.get(visit_id) or self.added.get(visit_id)
        if known is not None and known.reported_at is not None and moment < known.reported_at:
            # Taken, a report from before anyone knew of the fault made the stops before it
            # done (a fresh-eyes hunt: simulated field days).
            self.error(
                index,
                visit_id,
                f"{visit_id} was reported at {format_clock(known.reported_at)}: nobody was at "
                f"it at {format_clock(moment)}",
            )
            return False
        stop = self.stops[visit_id]
        progress = self.batch.progress.setdefault(
            visit_id,
            VisitProgress(stop.actual_arrival, stop.actual_start, stop.actual_departure),
        )
        if progress.departed == moment and event.type in ("completed", "departed"):
            return len(self.errors) == errors  # the same report again: it changes nothing
        if progress.departed is not None and not _fills_in(progress, event.type, moment):
            self.error(
                index,
                visit_id,
                f"{visit_id} was already completed at {format_clock(progress.departed)}",
            )
            return False
        # A report sent again at the same time changes nothing; at another, it would move one.
        if event.type == "arrived":
            if progress.arrived is not None and progress.arrived != moment:
                was = format_clock(progress.arrived)
                self.error(index, visit_id, f"{visit_id} was already reported arrived at {was}")
            elif progress.started and moment > progress.started:
                self.error(index, visit_id, f"arrived after it started ({event.at})")
            progress.arrived = moment
        elif event.type == "started":
            if progress.started is not None and progress.started != moment:
                was = format_clock(progress.started)
                self.error(index, visit_id, f"{visit_id} was already reported started at {was}")
            elif progress.arrived and moment < progress.arrived:
                self.error(index, visit_id, f"started before it arrived ({event.at})")
            progress.started = moment
        else:  # completed, departed or not_completed: the technician leaves
            what = "left" if event.type == "not_completed" else "completed"
            if progress.started and moment < progress.started:
                self.error(index, visit_id, f"{what} before it started ({event.at})")
            elif progress.arrived and moment < progress.arrived:
                self.error(index, visit_id, f"{what} before it arrived ({event.at})")
            progress.departed = moment
        if len(self.errors) > errors:
            return False
        self.reported[visit_id] = index
        return True

    def retracted(self, index: int, event: RetractedIn) -> None:
        """A visit's reports of arrival and start taken back: it was reported reached and not
        left (a tap at the wrong visit). Its stop is then not reached for the rest of the
        batch."""
        visit_id = VisitId(event.visit_id)
        if not self.known_visit(index, visit_id):
            return
        stop = self.stops.get(visit_id)
        if stop is None:
            self.error(index, visit_id, f"{visit_id} is on no technician's route")
            return
        if stop.actual_departure is not None:
            self.error(
                index,
                visit_id,
                f"{visit_id} was completed at {format_clock(stop.actual_departure)}; only a "
                "visit reported reached and not left can be taken back",
            )
            return
        if not still_reached(stop):
            self.error(
                index,
                visit_id,
                f"{visit_id} was not reported reached; there is no report to take back",
            )
            return
        self.batch.retracted[visit_id] = event.reason
        self.stops[visit_id] = replace(
            stop, status=StopStatus.PLANNED, actual_arrival=None, actual_start=None
        )

    def one_door_at_a_time(self) -> None:
        """Refuse a report that puts a technician at two visits at once: the times reported at
        each (arrival to departure) may overlap another's by ``REPORT_OVERLAP`` at most, in
        either order (a technician may take their stops in another order than planned). A
        visit reported reached and not left lasts until the next report elsewhere, or the
        batch's time (read as a moment, a visit tapped reached by mistake beside another under
        way let that one be reported done half an hour later, and it could then be closed by
        no report). Judged once every report of the batch is read; reports taken in earlier
        batches are not judged again against each other."""
        for route in self.plan.routes:
            reports: list[tuple[VisitId, list[datetime], bool]] = []
            for stop in with_progress(route, self.batch.progress, self.batch.retracted).stops:
                reported = (stop.actual_arrival, stop.actual_start, stop.actual_departure)
                times = [t for t in reported if t]
                if times:
                    reports.append((stop.visit_id, times, stop.actual_departure is None))
            # (visit, first report, last report, until when they were there)
            spans: list[tuple[VisitId, datetime, datetime, datetime]] = []
            for visit_id, times, still_there in reports:
                last = until = max(times)
                if still_there:
                    later = [t for v, ts, _ in reports if v != visit_id for t in ts if t > last]
                    until = max(last, min([self.batch.at, *later]))
                spans.append((visit_id, min(times), last, until))
            for i, (first, start1, last1, end1) in enumerate(spans):
                for second, start2, last2, end2 in spans[i + 1 :]:
                    new = [self.reported[v] for v in (first, second) if v in self.reported]
                    if not new or min(end1 - start2, end2 - start1) <= REPORT_OVERLAP:
                        continue
                    index = max(new)
                    visit = first if self.reported.get(first) == index else second
                    self.error(
                        index,
                        visit,
                        f"{route.technician_id} would be at {first} {_span(start1, last1)} and "
                        f"at {second} {_span(start2, last2)}: one visit at a time (reports may "
                        f"overlap by {REPORT_OVERLAP.seconds // 60} min, a late tap)",
                    )

    def cancelled(self, index: int, event: CancelledIn) -> None:
        visit_id = VisitId(event.visit_id)
        if not self.known_visit(index, visit_id):
            return
        stop = self.stops.get(visit_id)
        progress = self.batch.progress.get(visit_id)
        if (stop and stop.frozen) or (progress and progress.status is not StopStatus.PLANNED):
            self.error(index, visit_id, f"{visit_id} is done or under way; it cannot be cancelled")
            return
        self.batch.cancelled[visit_id] = event.reason
        self.desk_events[visit_id] = (index, "cancelled")

    def moved(self, index: int, event: MovedIn) -> None:
        visit_id = VisitId(event.visit_id)
        if not self.known_visit(index, visit_id):
            return
        stop = self.stops.get(visit_id)
        if (stop and stop.frozen) or visit_id in self.batch.progress:
            self.error(index, visit_id, f"{visit_id} is done or under way; it cannot be moved")
            return
        if event.appointment is not None and event.window is not None:
            self.error(index, visit_id, "give either an appointment or a window, not both")
            return
        if event.appointment == "24:00":  # read as the day's start, 00:00, as a problem's
            self.errors.append(FieldError(f"events[{index}].appointment", END_OF_DAY, visit_id))
            return
        if event.technician_id is None and event.appointment is None and event.window is None:
            self.error(
                index, visit_id, "say where to move it: technician_id, appointment or window"
            )
            return
        if event.technician_id is not None:
            if not self.known_technician(index, event.technician_id):
                return
            tech = self.technicians[TechnicianId(event.technician_id)]
            gone = tech.unavailable_from is not None and not after(tech.unavailable_from, self.at)
            if gone or tech.id in self.batch.unavailable:
                # Pinned to someone off for the rest of the day, it went back to the pool
                # unsaid and was left out as "no technician is left to work the day".
                self.error(index, visit_id, f"{tech.id} is off for the rest of the day")
                return
            visit = self.visits.get(visit_id) or self.added.get(visit_id)
            if visit is not None:
                missing = sorted(visit.required_skills - tech.skills)
                if missing:
                    self.error(
                        index, visit_id, f"{tech.id} lacks skill {', '.join(map(repr, missing))}"
                    )
                    return
                if tech.crew_size < visit.crew_size:
                    self.error(
                        index,
                        visit_id,
                        f"needs a crew of {visit.crew_size}; {tech.id} "
                        f"works in a crew of {tech.crew_size}",
                    )
                    return
        day, zone = self.problem.date, self.problem.timezone
        for clock in (event.appointment, event.window.end if event.window else None):
            if clock and clock_to_datetime(clock, day, zone) < self.at:
                self.error(index, visit_id, f"{clock} has already passed ({self.wire.at})")
                return
        window = None
        if event.window is not None:
            window = TimeWindow(
                clock_to_datetime(event.window.start, day, zone),
                clock_to_datetime(event.window.end, day, zone),
            )
            if window.end < window.start:
                self.error(
                    index,
                    visit_id,
                    f"window.end {event.window.end} is before start {event.window.start}",
                )
                return
        self.batch.moved[visit_id] = event
        self.desk_events[visit_id] = (index, "moved")
        self.batch.moves[visit_id] = Move(
            technician=TechnicianId(event.technician_id) if event.technician_id else None,
            appointment=clock_to_datetime(event.appointment, day, zone)
            if event.appointment
            else None,
            window=window,
        )

    def part_gone(self) -> None:
        """The batch's part events, once every report and delay of the batch is known (they
        decide what is history): each struck from a lot its holder holds now, in order."""
        if not self.part_events:
            return
        history = {
            tech: (passed, calls, skipped)
            for tech, (_, passed, calls, skipped) in self.history().items()
        }
        not_used = self.was_not_completed | set(self.batch.not_completed)
        losses = Losses.of(self.problem, self.plan, history, not_used, self.at)
        under_way = {
            stop.visit_id
            for route, passed, _, skipped in self.history().values()
            if passed and passed - 1 not in skipped
            for stop in route.stops[passed - 1 : passed]
            if stop.actual_departure is None and stop.visit_id not in not_used
        }
        for index, event in self.part_events:
            self.part_event(index, event, losses, under_way)
        self.batch.van_cut.update(losses.van_cut)
        self.batch.call_cut.update(losses.call_cut)
        self.batch.depot_cut.update(losses.depot_cut)
        self.batch.arrival_cut.update(losses.arrival_cut)

    def history(self) -> dict[TechnicianId, tuple[Route, int, tuple[int, ...], frozenset[int]]]:
        """Each route with the batch's reports, and what of it is history at the batch's time,
        every report and delay of the batch known: its passed stops (``passed_stops``), the
        depot calls made (``calls_made``) and the stops gone past (``skipped_stops``)."""
        if self._history is None:
            self._history = {}
            for route in self.plan.routes:
                retracted = self.batch.retracted
                seen = with_progress(route, self.batch.progress, retracted)
                delay = self.batch.delays.get(route.technician_id, timedelta(0))
                lags = running_late(seen, route)
                passed = passed_stops(seen, delay, self.at, retracted, lags)
                self._history[route.technician_id] = (
                    seen,
                    passed,
                    calls_made(seen, passed, self.at, retracted),
                    skipped_stops(seen, passed, retracted),
                )
        return self._history

    def taken_as_history(self) -> None:
        """Refuse cancelling or moving a visit that is history at the batch's time, once every
        report and delay of the batch is known: reported on later in the batch, or reached by
        the plan (with the delays reported now) and nobody reporting on it, so taken as under
        way or done. History neither leaves nor moves: kept, it was both on its route and
        cancelled, or its move was lost or held against its report. A stop the technician
        went past is not history."""
        if not self.desk_events:
            return
        for tech, (route, passed, _, skipped) in self.history().items():
            for k, stop in enumerate(route.stops[:passed]):
                event = self.desk_events.get(stop.visit_id)
                if event is None or k in skipped:
                    continue
                index, verb = event
                if stop.frozen:  # reported on later in the batch (one frozen before was refused)
                    self.error(
                        index,
                        stop.visit_id,
                        f"{stop.visit_id} is done or under way; it cannot be {verb}",
                    )
                    continue
                there = shifted(stop.arrival, self.batch.delays.get(tech, timedelta(0)))
                self.error(
                    index,
                    stop.visit_id,
                    f"{stop.visit_id} is taken as under way or done: the plan had {tech} there "
                    f"at {format_clock(there)} "
                    f"and nothing says otherwise, so it cannot be {verb}; report it completed "
                    "or not_completed",
                )

    def part_event(
        self, index: int, event: PartEventIn, losses: Losses, under_way: Collection[VisitId]
    ) -> None:
        """Units of a part gone from a van or a depot (see the module docstring); a unit
        refused at a visit ``under_way`` says how to report it."""
        holders = [h for h in (event.technician_id, event.depot_id) if h is not None]
        if len(holders) != 1:
            self.error(
                index,
                event.visit_id,
                f"{event.type} names the van (technician_id) or the depot (depot_id) the part "
                "is gone from: exactly one of the two",
            )
            return
        # A part gone at a visit this batch says could not be completed (the unit it was to
        # use found faulty at the door) names it as its report does.
        if event.visit_id is not None and not self.known_visit(index, event.visit_id, report=True):
            return
        units = f"{event.quantity} unit{'s' if event.quantity > 1 else ''}"
        if event.technician_id is not None:
            if not self.known_technician(index, event.technician_id):
                return
            tech = TechnicianId(event.technician_id)
            held = losses.from_van(tech, event.part, event.quantity)
            if held is not None:
                self.errors.append(
                    FieldError(
                        f"events[{index}].technician_id",
                        f"{event.type} of {units} of part {event.part!r}: {tech}'s van holds "
                        f"{held} of it at {self.wire.at} (its stock when the day started and "
                        "what it took at depots, less what its visits done used)"
                        + (
                            f"; {event.visit_id} is under way and counts its units as used: "
                            "if it cannot be done, report it not_completed in the same batch"
                            if event.visit_id in under_way
                            else ""
                        ),
                        tech,
                    )
                )
            return
        assert event.depot_id is not None
        if event.depot_id not in {depot.id for depot in self.problem.depots}:
            self.error(index, event.depot_id, f"unknown depot '{event.depot_id}'")
            return
        store = DepotId(event.depot_id)
        held = losses.from_depot(store, event.part, event.quantity)
        if held is not None:
            self.errors.append(
                FieldError(
                    f"events[{index}].depot_id",
                    f"{event.type} of {units} of part {event.part!r}: depot {store!r} holds "
                    f"{held} of it at {self.wire.at} (its stock and the arrivals already in, "
                    "less what calls made took; an arrival due later cannot be gone yet)",
                    store,
                )
            )

    def new_visit(self, index: int, event: NewVisitIn) -> None:
        row = event.visit.model_dump(mode="json", exclude_none=True)
        if event.visit.id in self.visits or event.visit.id in self.new_ids:
            self.error(index, event.visit.id, f"duplicate visit id '{event.visit.id}'")
            return
        if event.visit.priority == "urgent" and event.visit.reported_at is None:
            row["reported_at"] = self.wire.at  # reported now: the response clock starts
        # The visit's own rules (window order, skills' technicians, matrix index) are the
        # problem's rules: check it inside a copy of the day.
        trial = {**self.problem_raw, "visits": [row]}
        # The day is read as it was accepted (stored); the new visit as a day sent now is.
        found = ends_of_day([event.visit])
        try:
            added = parse_problem(trial, stored=True).visits[0]
        except InputError as error:
            found.extend(error.errors)
        if found:
            for item in found:
                if item.path.startswith("visits[0]"):
                    where = item.path.replace("visits[0]", f"events[{index}].visit", 1)
                    self.errors.append(FieldError(where, item.message, event.visit.id))
            return
        self.new_ids.add(event.visit.id)
        self.new_rows.append(row)
        self.added[added.id] = added  # a later event of the batch may move it


def _span(start: datetime, end: datetime) -> str:
    """The clock times reported at a visit: ``at 11:53``, or ``11:26-14:24``."""
    if start == end:
        return f"at {format_clock(start)}"
    return f"{format_clock(start)}-{format_clock(end, start.date())}"


def apply_to_problem(problem: Problem, batch: EventBatch) -> Problem:
    """The day with the batch's new visits, hand moves and unavailabilities: what is planned."""
    # New visits first: a batch may add a visit and then move it.
    visits = [*problem.visits, *batch.added]
    for k, visit in enumerate(visits):
        move = batch.moves.get(visit.id)
        if move is None:
            continue
        if move.technician is not None:
            visit = replace(visit, pinned_to=move.technician)
        if move.appointment is not None:
            visit = replace(visit, appointment=move.appointment, window=None)
        if move.window is not None:
            visit = replace(visit, appointment=None, window=move.window)
        visits[k] = visit
    technicians = tuple(
        replace(
            tech,
            unavailable_from=min(batch.at, tech.unavailable_from or batch.at),
        )
        if tech.id in batch.unavailable
        else tech
        for tech in problem.technicians
    )
    technicians = tuple(
        replace(tech, van_stock=_less(tech.van_stock, batch.van_cut[tech.id]))
        if tech.id in batch.van_cut
        else tech
        for tech in technicians
    )
    depots = tuple(
        replace(
            depot,
            stock=_less(depot.stock, batch.depot_cut.get(depot.id, {})),
            arrivals=tuple(
                PartArrival(a.part, a.quantity - cut, a.at)
                for k, a in enumerate(depot.arrivals)
                if (cut := batch.arrival_cut.get(depot.id, {}).get(k, 0)) < a.quantity
            ),
        )
        if depot.id in batch.depot_cut or depot.id in batch.arrival_cut
        else depot
        for depot in problem.depots
    )
    return replace(problem, technicians=technicians, visits=tuple(visits), depots=depots)


def _less(stock: tuple[PartQuantity, ...], lost: Mapping[str, int]) -> tuple[PartQuantity, ...]:
    """``stock`` less the units ``lost`` (the lots hold them: ``dispatch.stock.loss``)."""
    return tuple(PartQuantity(item.part, item.quantity - lost.get(item.part, 0)) for item in stock)


def _less_rows(rows: list[dict[str, Any]], lost: Mapping[str, int]) -> None:
    """``_less`` on the contract's stock rows, in place."""
    for row in rows:
        row["quantity"] = int(row["quantity"]) - lost.get(row["part"], 0)


def apply_to_problem_json(problem_raw: Mapping[str, Any], batch: EventBatch) -> dict[str, Any]:
    """The day's JSON with the batch's new visits, hand moves and unavailabilities: what is
    stored (``apply_to_problem`` in the contract's words)."""
    raw = copy.deepcopy(dict(problem_raw))
    # New visits first: a batch may add a visit and then move it.
    raw["visits"] = [*raw["visits"], *copy.deepcopy(list(batch.new_visits))]
    rows = {row["id"]: row for row in raw["visits"]}
    for visit_id, move in batch.moved.items():
        row = rows[visit_id]
        if move.technician_id is not None:
            row["technician"] = move.technician_id
        if move.appointment is not None:
            row.pop("window", None)
            row["appointment"] = move.appointment
        if move.window is not None:
            row.pop("appointment", None)
            row["window"] = move.window.model_dump(mode="json")
    at = format_clock(batch.at, date.fromisoformat(raw["date"]))
    for tech in raw["technicians"]:
        if tech["id"] in batch.unavailable:
            tech["unavailable_from"] = min(at, tech.get("unavailable_from") or at)
        if tech["id"] in batch.van_cut:
            _less_rows(tech.get("van_stock", []), batch.van_cut[tech["id"]])
    for depot in raw.get("depots", []):
        if depot["id"] in batch.depot_cut:
            _less_rows(depot.get("stock", []), batch.depot_cut[depot["id"]])
        if depot["id"] in batch.arrival_cut:
            cut = batch.arrival_cut[depot["id"]]
            arrivals = []
            for k, row in enumerate(depot.get("arrivals", [])):
                left = int(row["quantity"]) - cut.get(k, 0)
                if left > 0:
                    arrivals.append({**row, "quantity": left})
            depot["arrivals"] = arrivals
    return raw
