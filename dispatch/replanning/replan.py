"""Re-plan the rest of the day after a batch of events, moving as little as possible.

At clock time ``at`` each technician's route splits in two:

- the **frozen** part: stops done or under way, reported by events or, where nothing was
  reported, passed by the plan (reached by ``at`` even with the technician's reported delay).
  It is copied into the new version untouched, with the reported times added; only its last
  stop can be under way (they left the others: done). A stop nobody reported on before a
  later one reported reached sooner than the plan had it done was gone past
  (``dispatch.replanning.events.skipped_stops``): it is not frozen but planned again, and the
  leg into the stop or call after it comes from where the technician was before it;
- the **rest**, planned again. Each technician restarts from where they really are: the last
  frozen stop (or the base), free when its work ends (the reported start plus the visit's
  duration, or the plan's departure) or, if they were already driving to their next stop at
  ``at``, when they set off; plus any delay reported now; never before a frozen stop taken as
  done as planned ends. Breaks already taken stay (one idle with no route took those whose
  window has gone by); the others stay in their windows but not before that moment. A van
  keeps the room its frozen stops did not use. An unavailable technician gets nothing more.

The rest becomes a small day of its own (``Problem``): its visits are every visit not frozen
and not cancelled, windows clipped to ``at`` so nothing is planned in the past. It is solved from
the old routes (warm start) with two soft costs (``dispatch.planning.compile.Keep``): moving a
visit to another technician, and moving its service start (per minute moved).
A small event therefore gives a small change. ``changes`` lists every visit whose technician or
arrival moved, with ``notify`` where the customer must be called (``dispatch.planning.promise``).

A visit the technician **could not complete** (``not_completed``) leaves the plan as a
cancelled one does, with one difference: the technician did go there. Its stop stays on their
route, frozen and ``done`` with the reported times (they left at the report's time), so the
route's day and the time-tracking card keep the drive and the minutes spent; and the visit is
listed in ``unassigned`` with code ``not_completed`` and the reason, for the desk to book again
(its change has ``notify``: the customer must be called). So such a visit is the one exception
to "in exactly one route or in ``unassigned``": its attempt is a done stop, its booking is
unassigned (``dispatch.verify`` knows the pair). Later versions carry both forward unchanged.
The stop is not rewritten to the time actually spent: its planned times stay the plan's history,
as for every frozen stop, and the actual ones say what happened.

**Spare parts.** The stock is the day's. A depot call **made** is history
(``dispatch.replanning.events.calls_made``): one begun before ``at`` (the visit it was made
for need not be reached yet), or one before a frozen stop.
It stays on the route as it was, and what it took is in the van: the technician restarts from
the depot (free when the call ends, or when they set off from it), and the visit it was made
for is served from the van, not by a second call. A frozen visit used its parts (an attempt
not completed used none); what events reported used, faulty or missing is gone (folded into
the day by ``apply_to_problem``). So the rest of the day starts each van with its stock less
what its frozen stops used plus what its calls made took, and each depot with its stock less
what every call made took, also by a technician who became unavailable: their calls stay on
their route and the parts leave with their van, they are not at the depot for anyone else.
A cancelled visit, leaving the plan, releases what it would have used or taken. The old route
is the warm start, each visit on the same way as before (from the van, or via the same depot)
where that way still exists.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from itertools import takewhile
from typing import NamedTuple

from dispatch.errors import InputError
from dispatch.model import (
    Break,
    BreakSlot,
    Capacity,
    Change,
    Depot,
    DepotId,
    DepotStop,
    Hold,
    OnTheWay,
    PartQuantity,
    Plan,
    Problem,
    Route,
    Site,
    Stop,
    StopStatus,
    Technician,
    TechnicianId,
    TimeWindow,
    Unassigned,
    UnassignedCode,
    Visit,
    VisitId,
    WithoutRoute,
)
from dispatch.planning import SolveParams, policy_params, search_from
from dispatch.planning.compile import IdMap, Keep, build_sites, compile_problem
from dispatch.planning.decode import decode
from dispatch.planning.kpi import compute_kpis
from dispatch.planning.lines import with_road_lines
from dispatch.planning.promise import needs_call, promise_for
from dispatch.replanning.events import (
    EventBatch,
    calls_made,
    passed_stops,
    running_late,
    skipped_stops,
    still_there,
    with_progress,
)
from dispatch.stock import depots_less
from dispatch.travel import NoRoadError, SnapError, TravelTimeProvider, provider_for
from dispatch.units import (
    after,
    duration_to_s,
    earliest,
    elapsed,
    format_clock,
    latest,
    m_as_km,
    round_up_travel_s,
    s_to_duration,
    seconds_after,
    shifted,
    whole_minutes,
)

__all__ = ["MOVE_COST", "driven_through", "idle_breaks", "replan_day"]

#: Travel seconds charged per second a visit's service start moves. Every move is priced, not
#: only those past the notification tolerance: the solver's schedule is otherwise free to
#: shuffle times inside the tolerance, and a dispatcher would see dozens of pointless changes.
MOVE_COST = 1


@dataclass(frozen=True, slots=True)
class _Restart:
    """Where a technician's rest of the day begins."""

    frozen: tuple[Stop, ...]
    taken_breaks: tuple[BreakSlot, ...]
    site_visit: Visit | None
    free_at: datetime
    used: tuple[float, float]
    #: When the plan sent them home from their last stop, every stop done; ``None`` otherwise.
    homeward_since: datetime | None = None
    #: The departure from that stop that the old route's end was counted from: as expected
    #: from the reports the old version had (``_expected_departure``), not this batch's.
    homeward_counted_from: datetime | None = None
    #: A delay reported now (the rest of their day starts that much later).
    delay: timedelta = timedelta(0)
    #: The depot calls made (history; what was struck from them by part events taken off).
    calls: tuple[DepotStop, ...] = ()
    #: Where they are when a call made comes after their last frozen stop: that depot.
    depot_site: Site | None = None
    #: The old route's indexes of stops the technician went past (``skipped_stops``).
    skipped: frozenset[int] = frozenset()
    #: Held up by a delay (this batch's, or an earlier one still standing).
    hold: Hold | None = None
    #: Set off from the restart site for their next stop as the plan has them (no delay, no
    #: hold): where they are on that drive at ``free_at``.
    on_the_way: OnTheWay | None = None
    #: A stop's reports were taken back (``retracted``): when the old route left its base may
    #: have been read from them.
    taken_back: bool = False


def replan_day(
    problem: Problem,
    plan: Plan,
    batch: EventBatch,
    *,
    provider: TravelTimeProvider | None = None,
    params: SolveParams | None = None,
) -> Plan:
    """The next version of ``plan`` for ``problem`` (with the batch's changes already in it,
    ``dispatch.replanning.events.apply_to_problem``) after ``batch``.

    Raises
    ------
    InputError
        Sites the road provider could not place on a road or join to the others, each named
        by the visit, technician or depot of ``problem`` there, as planning the day names them
        (``dispatch.planning.compile.build_sites``): the re-plan asks the roads for single legs
        and for a day of its own (the rest of the day, from where each technician is), whose
        sites and places in it the caller knows nothing of.
    """
    provider = provider or provider_for(problem)
    try:
        return _replanned(problem, plan, batch, provider, params)
    except (SnapError, NoRoadError, InputError) as error:
        found = error.__cause__ if isinstance(error, InputError) else error
        if not isinstance(found, SnapError | NoRoadError):
            raise
        build_sites(problem, provider)  # raises them named, when the whole day has them too
        raise


def _replanned(
    problem: Problem,
    plan: Plan,
    batch: EventBatch,
    provider: TravelTimeProvider,
    params: SolveParams | None,
) -> Plan:
    """``replan_day`` on ``provider``."""
    at = batch.at
    visits = {visit.id: visit for visit in problem.visits}
    routes = {
        route.technician_id: with_progress(route, batch.progress, batch.retracted)
        for route in plan.routes
    }
    depots = {depot.id: depot for depot in problem.depots}
    before = {route.technician_id: route for route in plan.routes}
    kept = {tech.id: holds_kept(plan, tech.id, batch) for tech in problem.technicians}
    restarts = {
        tech.id: _restart(
            tech,
            routes.get(tech.id),
            before.get(tech.id),
            visits,
            batch,
            at,
            depots,
            provider,
            kept[tech.id],
        )
        for tech in problem.technicians
    }
    frozen_ids = {stop.visit_id for r in restarts.values() for stop in r.frozen}
    cancelled = {
        item.visit_id: item for item in plan.unassigned if item.code is UnassignedCode.CANCELLED
    }
    for visit_id, reason in batch.cancelled.items():
        text = f"cancelled at {format_clock(at)}" + (f": {reason}" if reason else "")
        cancelled[visit_id] = Unassigned(visit_id, UnassignedCode.CANCELLED, text)
    # Not completed: the attempt stays a frozen stop (its departure is reported), the visit
    # waits here to be booked again.
    not_completed = {
        item.visit_id: item for item in plan.unassigned if item.code is UnassignedCode.NOT_COMPLETED
    }
    for visit_id, reason in batch.not_completed.items():
        left = batch.progress[visit_id].departed or at
        text = f"could not be completed ({reason}); left at {format_clock(left)}: book it again"
        not_completed[visit_id] = Unassigned(visit_id, UnassignedCode.NOT_COMPLETED, text)

    available = [
        tech
        for tech in problem.technicians
        if tech.id not in batch.unavailable
        and (tech.unavailable_from is None or tech.unavailable_from > restarts[tech.id].free_at)
    ]
    passed: list[Unassigned] = []
    rest_visits: list[Visit] = []
    for visit in problem.visits:
        if visit.id in frozen_ids or visit.id in cancelled:
            continue
        clipped = _clip(visit, at, problem, {t.id for t in available})
        if clipped is None:
            if visit.appointment is not None:
                missed = f"the appointment at {format_clock(visit.appointment)}"
            else:
                assert visit.window is not None
                window = visit.window
                missed = (
                    f"the window {format_clock(window.start)}-"
                    f"{format_clock(window.end, window.start.date())}"
                )
            passed.append(
                Unassigned(
                    visit.id,
                    UnassignedCode.WINDOW,
                    f"{missed} can no longer be reached on time (re-planned at {format_clock(at)})",
                )
            )
        else:
            rest_visits.append(clipped)

    home = _ways_home(available, restarts, provider)
    calls = {tech.id: restarts[tech.id].calls for tech in problem.technicians}
    attempts = set(not_completed)
    rest_techs = tuple(
        replace(
            _rest_technician(t, restarts[t.id], home[t.id]),
            van_stock=_van_left(t, restarts[t.id], calls[t.id], visits, attempts),
        )
        for t in available
    )
    old_owner = {
        stop.visit_id: route.technician_id for route in plan.routes for stop in route.stops
    }
    old_stop = {stop.visit_id: stop for route in plan.routes for stop in route.stops}
    rest = replace(
        problem,
        technicians=rest_techs,
        visits=tuple(rest_visits),
        depots=depots_less(problem.depots, [c for found in calls.values() for c in found]),
    )
    tail, id_map = _solve_rest(rest, plan, old_owner, old_stop, at, provider, params, calls)

    new_routes: list[Route] = []
    tail_routes = {route.technician_id: route for route in tail.routes}
    for tech in problem.technicians:
        restart = restarts[tech.id]
        merged = _merge(
            tech,
            restart,
            tail_routes.get(tech.id),
            id_map,
            routes.get(tech.id),
            provider,
            at,
            calls.get(tech.id, ()),
        )
        if merged is not None:
            new_routes.append(_promise(merged, old_stop, visits, problem, frozen_ids))
    order = {visit.id: i for i, visit in enumerate(problem.visits)}
    unassigned = sorted(
        [
            *(_skills_off_duty(item, visits, problem, available) for item in tail.unassigned),
            *passed,
            *cancelled.values(),
            *not_completed.values(),
        ],
        key=lambda u: order[u.visit_id],
    )
    new_plan = Plan(
        routes=tuple(new_routes),
        unassigned=tuple(unassigned),
        solve_s=tail.solve_s,
        objective=tail.objective,
        at=at,
        without_route=_without_route(problem, plan, tail, new_routes),
        holds=_holds(problem, kept, restarts, batch),
    )
    new_plan = with_road_lines(new_plan, problem, provider)
    return replace(
        new_plan,
        changes=_changes(plan, new_plan, batch, problem),
        kpis=compute_kpis(problem, new_plan),
    )


def _without_route(
    problem: Problem, before: Plan, tail: Plan, routes: list[Route]
) -> tuple[WithoutRoute, ...]:
    """Who still has no route at all, and why: those the rest of the day could not route
    (``tail``), and those the version ``before`` could not, as it said then (the rest of the
    day sees a technician from where they are, never stranded)."""
    found = {item.technician_id: item for item in (*before.without_route, *tail.without_route)}
    routed = {route.technician_id for route in routes}
    return tuple(
        found[tech.id] for tech in problem.technicians if tech.id in found and tech.id not in routed
    )


def _van_left(
    tech: Technician,
    restart: _Restart,
    calls: tuple[DepotStop, ...],
    visits: Mapping[VisitId, Visit],
    attempts: set[VisitId],
) -> tuple[PartQuantity, ...]:
    """What the van holds when the rest of the day starts (see the module docstring)."""
    stock = {item.part: item.quantity for item in tech.van_stock}
    for call in calls:
        for item in call.taken:
            stock[item.part] = stock.get(item.part, 0) + item.quantity
    for stop in restart.frozen:
        if stop.visit_id in attempts:
            continue
        for item in visits[stop.visit_id].parts:
            stock[item.part] = stock.get(item.part, 0) - item.quantity
    return tuple(PartQuantity(part, max(0, quantity)) for part, quantity in stock.items())


def _expected_departure(stop: Stop, visit: Visit) -> datetime:
    """When the technician leaves a frozen stop, from what was reported: reached and not
    started, the work starts on arrival, or as soon as the visit allows (its window opens,
    its fault is reported, the appointment's held start). Held to the plan's start instead, a
    technician reported at a visit with no time four hours early stood there until then, and
    four promised visits were left out."""
    if stop.actual_departure is not None:
        return stop.actual_departure
    if stop.actual_start is not None:
        return shifted(stop.actual_start, visit.duration)
    if stop.actual_arrival is not None:
        allowed = [stop.actual_arrival]
        if visit.appointment is not None:
            allowed.append(stop.service_start)
        elif visit.window is not None:
            allowed.append(visit.window.start)
        if visit.reported_at is not None:
            allowed.append(visit.reported_at)
        return shifted(max(allowed), visit.duration)
    return stop.departure


def _restart(
    tech: Technician,
    route: Route | None,
    before: Route | None,
    visits: Mapping[VisitId, Visit],
    batch: EventBatch,
    at: datetime,
    depots: Mapping[DepotId, Depot],
    provider: TravelTimeProvider,
    stalls: tuple[Hold, ...] = (),
) -> _Restart:
    held = _standing(stalls, at)
    delay = batch.delays.get(tech.id, timedelta(0))
    stops = route.stops if route else ()
    lags = running_late(route, before) if route and before else []
    passed = passed_stops(route, delay, at, batch.retracted, lags) if route else 0
    skipped = skipped_stops(route, passed, batch.retracted) if route else frozenset()
    kept = [k for k in range(passed) if k not in skipped]
    frozen = tuple(
        _history(stops[k], delay, lags[k] if lags else timedelta(0), at, moved_on=k != passed - 1)
        for k in kept
    )
    made = calls_made(route, passed, at, batch.retracted) if route else ()
    calls = tuple(
        _struck(route.depot_stops[k], batch.call_cut.get((tech.id, k), {}))
        for k in made
        if route is not None
    )
    if skipped or (before is not None and _reordered(stops, before.stops)):
        came_from = _places_before(tech, before, visits, depots) if before else {}
        frozen, calls = _rejoined(tech, frozen, calls, kept, visits, depots, provider, came_from)
    last_call = max((c for c in calls if c.before == passed), key=lambda c: c.arrival, default=None)
    following = stops[passed] if passed < len(stops) else None
    depot_site = None
    if last_call is not None:  # at the depot, or on the way from it
        departure = last_call.departure
        under_way = after(departure, at)
        depot_site = depots[last_call.depot_id].site
        site_visit: Visit | None = visits[frozen[-1].visit_id] if frozen else None
    elif frozen:
        tail = frozen[-1]
        departure = _expected_departure(tail, visits[tail.visit_id])
        if still_there(tail):
            departure = latest(departure, at)
        under_way = tail.actual_departure is None and after(departure, at)
        site_visit = visits[tail.visit_id]
    else:
        departure = tech.shift.start
        under_way = False
        site_visit = None
    if under_way:
        ready = departure
    else:
        # Idle until the plan's set-off, they may set off at once; unless a delay holds them.
        # The first leg begins when the route leaves the base: a break before that is taken
        # there, not on the way (read so, a lunch at the base put the set-off before it, and
        # a delay reported after it was counted from then and lost).
        leg_from = departure
        if route is not None and not frozen and last_call is None:
            leg_from = latest(departure, route.start_time)
        set_off = (
            _set_off(
                following,
                route.breaks if route else (),
                leg_from,
                through=not delay and held is None,
            )
            if following
            else at
        )
        ready = latest(departure, earliest(at, set_off))
    if held is not None:
        ready = latest(ready, held.until)
    free_at = shifted(ready, delay)
    hold = _holding(tech.id, free_at, at, delay, held)
    # A stop taken as done as planned keeps its hours even when a later one was reported left
    # before they ended (the plan had assumed it; a late report never takes it back).
    busy = [_expected_departure(s, visits[s.visit_id]) for s in frozen[:-1]]
    free_at = latest(free_at, tech.shift.start, *busy)
    if route is None:
        taken = idle_breaks(tech, at)
    else:
        # Taken: each break begun before they were free as planned, and each begun by ``at``
        # (history a delay reported then does not move, even one after the drive they are
        # taken to have set off on: planned again from the set-off and the delay, it went
        # before ``at`` and out of its window). One a technician falls ill in is left: their
        # day ends at ``at``, they go home from it.
        history = (
            shifted(free_at, -delay)
            if tech.id in batch.unavailable
            else latest(shifted(free_at, -delay), at)
        )
        taken = tuple(b for b in route.breaks if b.start < history or b.end <= at)
        if frozen and still_there(frozen[-1]):
            # Not one due after ``at`` over the work at the stop they are still at: kept, a
            # lunch at 12:00 lay over a job reported started at 11:31 until 12:06. (Reached
            # hours before an appointment, they may lunch while they wait: that one stays.)
            visit = visits[frozen[-1].visit_id]
            work_end = _expected_departure(frozen[-1], visit)
            work_start = shifted(work_end, -visit.duration)
            taken = tuple(
                b
                for b in taken
                if not (b.start >= at and b.start < work_end and b.end > work_start)
            )
    for slot in taken:
        free_at = latest(free_at, slot.end)
    on_the_way = None
    taken_back = any(stop.visit_id in batch.retracted for stop in stops)
    if taken_back:
        # A stop's reports taken back: the technician is where their history left them, free
        # from ``at``. Read on the road, the plan's drive to the stop taken back (timed before
        # the mistaken report) put them at its door: the one place they said they are not.
        free_at = latest(free_at, shifted(at, delay))
        hold = _holding(tech.id, free_at, at, delay, held)
    elif following is not None and route is not None and not under_way:
        # Set off for it (or a depot call before it) as the plan has them: the rest of the day
        # starts where they are on the road (counted from the stop they left, the drive
        # behind them was lost, and a visit elsewhere was promised as if they had not left). A
        # delay reported now keeps them there that much longer (traffic): counted from the
        # stop they left, a lunch on the way was taken again before setting off, and 5 minutes
        # late put them 18 behind.
        call = min(
            (c for k, c in enumerate(route.depot_stops) if c.before == passed and k not in made),
            key=lambda c: c.arrival,
            default=None,
        )
        drive = (
            _Drive(visits[following.visit_id].site, following.arrival, following.travel)
            if call is None
            else _Drive(depots[call.depot_id].site, call.arrival, call.travel)
        )
        on_road = latest(at, *busy, *(slot.end for slot in taken), *([held.until] if held else []))
        reported = bool(frozen) and last_call is None and frozen[-1].actual_departure is not None
        on_the_way = _driving(
            drive, (at, on_road), latest(departure, *busy), route, stalls, reported=reported
        )
        if on_the_way is not None:
            # there as the plan has it (a delay keeps it unreached): there that much later;
            # a break under way at ``at``, taken, holds them until it ends (reached before
            # it, the work went on from ``at`` under the lunch taken as begun at 11:30)
            free_at = latest(
                at,
                shifted(earliest(on_road, drive.arrival), delay),
                *(slot.end for slot in taken if after(slot.end, at)),
            )
            hold = _holding(tech.id, free_at, at, delay, held)
        elif ready < at:
            # Not set off after all (the plan's arrival leaves the whole drive ahead, though a
            # lunch on the way had it leave hours ago): still at the stop, free from ``at``.
            # Free since the set-off there, the rest of the day drove from the stop at 12:00
            # and made a depot call at 13:19 for a re-plan at 13:05, 78 minutes away.
            free_at = latest(free_at, shifted(at, delay))
            hold = _holding(tech.id, free_at, at, delay, held)
    used_weight = sum(visits[s.visit_id].demand.weight_kg for s in frozen)
    used_volume = sum(visits[s.visit_id].demand.volume_m3 for s in frozen)
    homeward = counted_from = None
    if (frozen or last_call is not None) and following is None and not under_way:
        # Gone home after their last stop or call (a call made, the visit it was for handed
        # back: restarted at the depot at the batch's time, the drive home already made was
        # made again, past their shift).
        assert before is not None
        homeward = departure
        if last_call is None:
            assert site_visit is not None
            last = next(s for s in before.stops if s.visit_id == frozen[-1].visit_id)
            counted_from = _expected_departure(last, site_visit)
        else:
            counted_from = last_call.departure
    return _Restart(
        frozen,
        taken,
        site_visit,
        free_at,
        (used_weight, used_volume),
        homeward,
        counted_from,
        delay,
        calls,
        depot_site,
        skipped,
        hold,
        on_the_way,
        taken_back,
    )


def _holding(
    technician_id: TechnicianId,
    free_at: datetime,
    at: datetime,
    delay: timedelta,
    held: Hold | None,
) -> Hold | None:
    """The hold on a technician free at ``free_at``, after ``at``: a delay reported now (only
    reports after now end it) or the standing one ``held``, carried on; ``None`` when nothing
    holds them past ``at``."""
    if not after(free_at, at) or not (delay or held is not None):
        return None
    return Hold(technician_id, free_at, at if delay or held is None else held.since)


class _Drive(NamedTuple):
    """A drive of a route: where to, when the plan has it end, and how long it is."""

    toward: Site
    arrival: datetime
    travel: timedelta


def _driving(
    drive: _Drive,
    moments: tuple[datetime, datetime],
    since: datetime,
    route: Route,
    stalls: Sequence[Hold],
    *,
    reported: bool,
) -> OnTheWay | None:
    """Where a technician the plan has on ``drive`` at ``at`` is, ``moments``
    being ``at`` and when nothing keeps them from driving on (``at``, or the end of a break on
    the road or of a hold): as much of the drive ahead as the plan's arrival leaves after
    then, the route's breaks still to come taken where they lie, but no less than the drive
    since they could leave the stop before (``since``); reported gone then, as much as they
    have not driven since. Their breaks and their holds (``stalls``, over or standing: read
    from a reported departure, a hold over by now was counted as driving, and the next stop
    was put 5 minutes before they could be there) are not driving. ``None`` when the whole
    drive is ahead (they have not set off, or are still at the stop)."""
    at, free = moments

    stopped = sorted(
        [(b.start, b.end) for b in route.breaks] + [(h.since, h.until) for h in stalls]
    )

    def resting(start: datetime, end: datetime) -> timedelta:
        """The time in ``[start, end]`` a break or the hold takes (once where they overlap)."""
        total, moment = timedelta(0), start
        for a, b in stopped:
            a, b = max(a, moment), min(b, end)
            if a < b:
                total += elapsed(a, b)
                moment = b
        return total

    driven_since = elapsed(since, at) - resting(since, at) if since < at else timedelta(0)
    ahead = drive.travel - driven_since
    if not reported:  # where the plan has them, if they can be there
        ahead = max(ahead, elapsed(free, drive.arrival) - resting(free, drive.arrival))
    ahead = max(timedelta(0), ahead)
    if ahead >= drive.travel:
        return None
    return OnTheWay(drive.toward, drive.travel - ahead, ahead)


def _standing(kept: Sequence[Hold], at: datetime) -> Hold | None:
    """Of a technician's holds ``kept`` (``holds_kept``: no report from one of their stops at
    a moment after the batch that reported the delay ended them; where they are then says
    when they are free, not the delay's guess, and a report sent late by an offline phone from
    before it does not), the one that still stands at ``at``: not over by its clock time."""
    return next((hold for hold in kept if after(hold.until, at)), None)


def holds_kept(plan: Plan, technician_id: TechnicianId, batch: EventBatch) -> tuple[Hold, ...]:
    """The holds on ``technician_id`` at ``plan`` (standing or over) that no report from one of
    their stops at a moment after the hold began has ended: the time they stood still since
    the last place they were reported at."""
    route = next((r for r in plan.routes if r.technician_id == technician_id), None)
    reported = [
        moment
        for stop in (route.stops if route else ())
        if (report := batch.progress.get(stop.visit_id)) is not None
        for moment in (report.arrived, report.started, report.departed)
        if moment is not None
    ]
    return tuple(
        hold
        for hold in plan.holds
        if hold.technician_id == technician_id
        and not any(after(moment, hold.since) for moment in reported)
    )


def _holds(
    problem: Problem,
    kept: Mapping[TechnicianId, tuple[Hold, ...]],
    restarts: Mapping[TechnicianId, _Restart],
    batch: EventBatch,
) -> tuple[Hold, ...]:
    """The holds of the new version: each standing one first (one per technician), then the
    ones over that the next re-plan still reads (``holds_kept``), each cut short at the batch
    (or where a new delay reported while it stood began the next)."""
    standing = [hold for tech in problem.technicians if (hold := restarts[tech.id].hold)]
    over = []
    for tech in problem.technicians:
        hold = restarts[tech.id].hold
        for old in kept[tech.id]:
            if hold is not None and old.since == hold.since:
                continue  # the same hold, standing on
            end = earliest(old.until, batch.at, *([hold.since] if hold else []))
            over.append(replace(old, until=end))
    return (*standing, *over)


def idle_breaks(tech: Technician, at: datetime) -> tuple[BreakSlot, ...]:
    """The breaks of a technician the old version gave no route, idle until ``at``: each whose
    window no longer lets it start by ``at`` taken at the window's start (at their base, with
    nothing to do); the others are left to the rest of the day, which may still place them in
    their window. Planned again from ``at``, a lunch hour gone by was faulted as missed (and a
    booking offered such a technician nothing: ``dispatch.booking``)."""
    gone_by = takewhile(lambda rule: shifted(rule.window.end, -rule.duration) < at, tech.breaks)
    return tuple(_packed(list(gone_by), tech.shift.start, tech.working_end))


def _packed(rules: Sequence[Break], moment: datetime, day_end: datetime) -> list[BreakSlot]:
    """``rules`` taken one after another from ``moment``, each as early as its window allows,
    up to the first that would end after ``day_end``."""
    slots = []
    for rule in rules:
        start = max(rule.window.start, moment)
        moment = shifted(start, rule.duration)
        if moment > day_end:
            break
        slots.append(BreakSlot(start, moment))
    return slots


def _history(stop: Stop, delay: timedelta, lag: timedelta, at: datetime, *, moved_on: bool) -> Stop:
    """A stop that is history, with its status: as reported, or from the plan (shifted by
    the batch's ``delay`` and the ``lag`` of a job before it that overran) where nobody
    reported on it; done when the technician has ``moved_on`` to a later stop that is history
    (only the last can be under way). One under way is shown reached later by the ``lag``
    (the batch's delay holds them on: ``_restart``): at its planned hours, the stop after a
    job reported left at 09:05 was taken as reached at 08:40 and left at 09:10, and the stops
    after it kept their hours, nobody called."""
    if moved_on:
        return replace(stop, status=StopStatus.DONE)
    if stop.frozen:
        return stop
    status = _assumed(stop, delay + lag, at)
    if status is StopStatus.IN_PROGRESS and lag:
        stop = replace(
            stop,
            arrival=shifted(stop.arrival, lag),
            service_start=shifted(stop.service_start, lag),
            departure=shifted(stop.departure, lag),
        )
    return replace(stop, status=status)


def _reordered(stops: Sequence[Stop], stored: Sequence[Stop]) -> bool:
    """Whether the reports put ``stops`` in another order than the ``stored`` route's
    (``dispatch.replanning.events.with_progress``)."""
    return [s.visit_id for s in stops] != [s.visit_id for s in stored]


#: What a leg is driven to: a stop (its visit) or a call (its depot and arrival).
_LegEnd = VisitId | tuple[DepotId, datetime]


def _places_before(
    tech: Technician,
    route: Route,
    visits: Mapping[VisitId, Visit],
    depots: Mapping[DepotId, Depot],
) -> dict[_LegEnd, Site]:
    """Where each stop and call of ``route`` is driven to from, as the route has them."""
    came_from: dict[_LegEnd, Site] = {}
    place = tech.start
    for position in range(len(route.stops) + 1):
        for call in sorted(
            (c for c in route.depot_stops if c.before == position), key=lambda c: c.arrival
        ):
            came_from[(call.depot_id, call.arrival)] = place
            place = depots[call.depot_id].site
        if position < len(route.stops):
            came_from[route.stops[position].visit_id] = place
            place = visits[route.stops[position].visit_id].site
    return came_from


def _rejoined(
    tech: Technician,
    frozen: tuple[Stop, ...],
    calls: tuple[DepotStop, ...],
    kept: list[int],
    visits: Mapping[VisitId, Visit],
    depots: Mapping[DepotId, Depot],
    provider: TravelTimeProvider,
    came_from: Mapping[_LegEnd, Site],
) -> tuple[tuple[Stop, ...], tuple[DepotStop, ...]]:
    """History once the stops the technician went past are out of it and the rest is in the
    order the reports say: each leg that no longer comes from where the stored route had it
    come from (``came_from``, ``_places_before``) is driven from where they were before it (the
    last stop or call that is history, or their start). ``kept`` are the route's indexes of
    ``frozen``; the calls keep theirs (``_merge`` numbers them on the new route)."""
    at_stop = dict(zip(kept, frozen, strict=True))
    out_stops: list[Stop] = []
    out_calls: list[DepotStop] = []
    place = tech.start
    for position in range(kept[-1] + 1):
        for call in sorted((c for c in calls if c.before == position), key=lambda c: c.arrival):
            site = depots[call.depot_id].site
            if came_from.get((call.depot_id, call.arrival)) != place:
                travel, km = _leg(provider, place, site)
                call = replace(call, travel=travel, distance_km=km)
            out_calls.append(call)
            place = site
        stop = at_stop.get(position)
        if stop is None:
            continue  # went past it
        site = visits[stop.visit_id].site
        if came_from.get(stop.visit_id) != place:
            travel, km = _leg(provider, place, site)
            stop = replace(stop, travel=travel, distance_km=km)
        out_stops.append(stop)
        place = site
    out_calls += [c for c in calls if c.before > kept[-1]]
    return tuple(out_stops), tuple(out_calls)


def _leg(provider: TravelTimeProvider, origin: Site, site: Site) -> tuple[timedelta, float]:
    """The drive from ``origin`` to ``site``: its time as the solver counts it (whole minutes,
    rounded up) and its km."""
    durations, distances = provider.matrix([origin, site])
    return s_to_duration(round_up_travel_s(float(durations[0, 1]))), m_as_km(float(distances[0, 1]))


def _struck(call: DepotStop, cut: Mapping[str, int]) -> DepotStop:
    """A call made, less the units events struck from what it took (never usable: they are
    gone, and the depot's day holds that much less, ``dispatch.stock.loss``)."""
    if not cut:
        return call
    taken = tuple(
        PartQuantity(item.part, item.quantity - cut.get(item.part, 0))
        for item in call.taken
        if item.quantity > cut.get(item.part, 0)
    )
    return replace(call, taken=taken)


def _set_off(
    following: Stop, breaks: tuple[BreakSlot, ...], departure: datetime, *, through: bool
) -> datetime:
    """When the plan has the technician leave for ``following`` at the latest.

    A break on the way (between the last departure and the arrival) is taken before the
    arrival, so the technician has set off by the break's start less the drive at the latest:
    counting from the arrival alone put them back at the last stop after their lunch, too late
    for a window the plan kept. When the drive does not fit between the departure and the
    break, the plan drives from the departure and takes the breaks where they lie on the way:
    ``through`` (nobody held up), they set off the drive and the breaks before the arrival
    (taken as gone the drive before the arrival, in the middle of their lunch, the drive before
    it was lost and the next stop moved for nothing). Otherwise, or when that is before the
    departure too, the breaks are taken before setting off, and they leave the drive before
    the arrival: taken as gone before the work ended, they were free before the break, which
    was then planned again late, out of its window, under a delay reported after it (a delay
    counts from that set-off: the lunch on the way does not absorb it).
    """
    on_the_way = [b for b in breaks if departure <= b.start < following.arrival]
    leave_by = shifted(min([following.arrival, *(b.start for b in on_the_way)]), -following.travel)
    if leave_by >= departure:
        return leave_by
    resting = sum((elapsed(b.start, b.end) for b in on_the_way), timedelta(0))
    driving_through = shifted(following.arrival, -(following.travel + resting))
    if through and on_the_way and departure <= driving_through <= on_the_way[0].start:
        return driving_through
    return shifted(following.arrival, -following.travel)


def _assumed(stop: Stop, delay: timedelta, at: datetime) -> StopStatus:
    """The status of a stop nobody reported on, from the plan (shifted by the delay)."""
    return StopStatus.DONE if shifted(stop.departure, delay) <= at else StopStatus.IN_PROGRESS


def _clip(
    visit: Visit, at: datetime, problem: Problem, available: set[TechnicianId]
) -> Visit | None:
    """The visit as the rest of the day sees it; ``None`` when its appointment or the end of its
    window has passed (clipped to ``at`` alone, it was served then, late, by whoever happened
    to be at its door)."""
    changes: dict[str, object] = {}
    if visit.pinned_to is not None and visit.pinned_to not in available:
        changes["pinned_to"] = None  # its technician is gone: back to the pool
    if visit.preferred is not None and visit.preferred not in available:
        changes["preferred"] = None
    if visit.appointment is not None:
        if shifted(visit.appointment, -problem.policy.early_band[0]) < at:
            return None
    elif visit.window is not None:
        if visit.window.end < at:
            return None
        if visit.window.start < at:
            changes["window"] = TimeWindow(at, visit.window.end)
    else:
        end = max(t.shift.end for t in problem.technicians)
        changes["window"] = TimeWindow(at, max(at, end))
    return replace(visit, **changes) if changes else visit  # type: ignore[arg-type]


def _ways_home(
    technicians: list[Technician],
    restarts: Mapping[TechnicianId, _Restart],
    provider: TravelTimeProvider,
) -> dict[TechnicianId, timedelta]:
    """The drive from where each technician restarts to the end of their day, as the solver
    counts it (whole minutes, rounded up); one matrix for all of them."""
    here = [_restart_site(tech, restarts[tech.id]) for tech in technicians]
    toward = [
        way.toward if (way := restarts[tech.id].on_the_way) else here[k]
        for k, tech in enumerate(technicians)
    ]
    durations, _ = provider.matrix([*here, *toward, *(tech.end for tech in technicians)])
    n = len(technicians)
    ways = {}
    for k, tech in enumerate(technicians):
        drive = s_to_duration(round_up_travel_s(float(durations[k, 2 * n + k])))
        on_the_way = restarts[tech.id].on_the_way
        if on_the_way is not None:  # back through where they came from, or on
            on = s_to_duration(round_up_travel_s(float(durations[n + k, 2 * n + k])))
            drive = min(on_the_way.driven + drive, on_the_way.ahead + on)
        ways[tech.id] = drive
    return ways


def _restart_site(tech: Technician, restart: _Restart) -> Site:
    if restart.depot_site is not None:
        return restart.depot_site
    return restart.site_visit.site if restart.site_visit else tech.start


def _rest_technician(tech: Technician, restart: _Restart, way_home: timedelta) -> Technician:
    """The technician as the rest of the day sees them: from where and when they restart,
    with the breaks not yet taken and the room left in the van. A break whose window events
    have pushed past is due as soon as they are free and the breaks before it are taken:
    two due at once (a tea and a lunch both missed) left no room for any visit.

    Their day ends when it was to end (the shift's end, or when they become unavailable) or,
    when events keep them out past it, once they are home with the breaks still due taken on
    the way: a delay past the end of the day is overtime the events force, not a day with no
    plan.
    """
    free_at = restart.free_at
    breaks = []
    # the breaks still due, each no sooner than the one before can end
    moment = free_at
    for rule in tech.breaks[len(restart.taken_breaks) :]:
        start = max(rule.window.start, moment)
        end = shifted(start, rule.duration)
        if end <= tech.working_end:
            breaks.append(Break(TimeWindow(start, max(rule.window.end, end)), rule.duration))
            moment = end
    still_due = sum((rule.duration for rule in breaks), timedelta())
    weight, volume = restart.used
    capacity = Capacity(
        None if tech.capacity.weight_kg is None else max(0.0, tech.capacity.weight_kg - weight),
        None if tech.capacity.volume_m3 is None else max(0.0, tech.capacity.volume_m3 - volume),
    )
    return replace(
        tech,
        start=_restart_site(tech, restart),
        base=tech.home,
        shift=TimeWindow(free_at, max(tech.working_end, shifted(free_at, way_home + still_due))),
        unavailable_from=None,  # folded into the shift's end
        breaks=tuple(breaks),
        capacity=capacity,
        set_out=tech.set_out
        or bool(restart.frozen)
        or restart.site_visit is not None
        or restart.depot_site is not None,
        on_the_way=restart.on_the_way,
    )


def _solve_rest(
    rest: Problem,
    plan: Plan,
    old_owner: Mapping[VisitId, TechnicianId],
    old_stop: Mapping[VisitId, Stop],
    at: datetime,
    provider: TravelTimeProvider,
    params: SolveParams | None,
    made: Mapping[TechnicianId, tuple[DepotStop, ...]],
) -> tuple[Plan, IdMap]:
    origin = rest.midnight
    policy = rest.policy
    kept = {
        visit_id: seconds_after(stop.service_start, origin) for visit_id, stop in old_stop.items()
    }
    keep = Keep(
        technician=dict(old_owner),
        promised_s=kept,
        reassign_s=duration_to_s(policy.reassign_cost),
        tolerance_s=0,
        move_cost=MOVE_COST,
        not_before_s=seconds_after(at, origin),
    )
    instance, id_map = compile_problem(rest, provider, keep)
    # A visit's nodes: one, or one per way its parts come (``dispatch.stock.supply``).
    nodes_of: dict[VisitId, list[int]] = {}
    for node, i in enumerate(id_map.node_visit):
        nodes_of.setdefault(rest.visits[i].id, []).append(node)
    vehicle_of = {tech.id: v for v, tech in enumerate(rest.technicians)}
    initial: list[list[int]] = [[] for _ in rest.technicians]
    for route in plan.routes:
        v = vehicle_of.get(route.technician_id)
        if v is None:
            continue
        # A call made is history: the visit it was made for takes its parts from the van.
        done = {(call.before, call.arrival) for call in made.get(route.technician_id, ())}
        via = {
            call.before: call.depot_id
            for call in route.depot_stops
            if (call.before, call.arrival) not in done
        }
        for k, stop in enumerate(route.stops):
            way = _same_way(
                nodes_of.get(stop.visit_id, []), via.get(k), v, instance.allowed, id_map
            )
            if way is not None:
                initial[v].append(way)
    params = params or policy_params(policy, policy.replan_time_limit_s)
    solution = search_from(instance, params, initial)
    return decode(solution, id_map, instance), id_map


def _same_way(
    nodes: list[int],
    depot_id: str | None,
    vehicle: int,
    allowed: tuple[tuple[int, ...] | None, ...],
    id_map: IdMap,
) -> int | None:
    """The node of a visit that serves it the way the old route did (via the same depot, or
    from the van), else any of its nodes the vehicle may serve; ``None`` when none."""

    def may(node: int) -> bool:
        options = allowed[node] if allowed else None
        return options is None or vehicle in options

    def depot_of(node: int) -> str | None:
        option = id_map.option(node)
        if option is None or option.depot is None:
            return None
        return id_map.problem.depots[option.depot].id

    usable = [node for node in nodes if may(node)]
    same = [node for node in usable if depot_of(node) == depot_id]
    return next(iter(same or usable), None)


def _merge(
    tech: Technician,
    restart: _Restart,
    tail: Route | None,
    id_map: IdMap,
    old: Route | None,
    provider: TravelTimeProvider,
    at: datetime,
    calls: tuple[DepotStop, ...] = (),
) -> Route | None:
    if not restart.frozen and not calls and tail is None:
        return None
    frozen = restart.frozen
    # The calls made come before stops of the old route; stops gone past are not on this one.
    calls = tuple(
        replace(call, before=call.before - sum(k < call.before for k in restart.skipped))
        for call in calls
    )
    travel = sum((s.travel for s in frozen), timedelta(0)) + sum(
        (c.travel for c in calls), timedelta(0)
    )
    distance = sum(s.distance_km for s in frozen) + sum(c.distance_km for c in calls)
    service = sum((elapsed(s.service_start, s.departure) for s in frozen), timedelta(0))
    wait = sum((s.wait for s in frozen), timedelta(0))
    if tail is not None and restart.on_the_way is not None:
        tail = _with_drive_behind(tail, restart.on_the_way)
    if tail is not None:
        set_out = frozen or calls or restart.on_the_way is not None
        start = old.start_time if set_out and old else tail.start_time
        if restart.taken_back:  # read from the report taken back, maybe: from its reports
            start = latest(start, tech.shift.start)
        start = _left_base(start, tail.end_time, frozen, calls, tech.shift.start)
        return Route(
            technician_id=tech.id,
            start_time=start,
            end_time=tail.end_time,
            stops=frozen + tail.stops,
            breaks=restart.taken_breaks + tail.breaks,
            distance_km=distance + tail.distance_km,
            travel=travel + tail.travel,
            service=service + tail.service,
            wait=wait + tail.wait,
            depot_stops=calls
            + tuple(replace(c, before=c.before + len(frozen)) for c in tail.depot_stops),
        )
    back_s, back_m = _way_back(tech, restart, id_map, provider)
    behind = restart.on_the_way.driven if restart.on_the_way else timedelta(0)
    assert old is not None
    if restart.homeward_since is None:
        rest, home = _last_breaks(tech, restart, s_to_duration(back_s))
        breaks = restart.taken_breaks + rest
    else:  # gone home after the last stop as planned (or later): a delay counts on the way
        assert restart.homeward_counted_from is not None
        home = _home_after(old, restart.homeward_since, restart.homeward_counted_from, back_s, at)
        if after(home, at):
            home = shifted(home, restart.delay)
        breaks = old.breaks
    return Route(
        technician_id=tech.id,
        start_time=_left_base(
            latest(old.start_time, tech.shift.start) if restart.taken_back else old.start_time,
            home,
            frozen,
            calls,
            tech.shift.start,
        ),
        end_time=home,
        stops=frozen,
        breaks=breaks,
        distance_km=distance + m_as_km(back_m),
        travel=travel + behind + s_to_duration(back_s),  # from the stop they left
        service=service,
        wait=wait,
        depot_stops=calls,
    )


def _with_drive_behind(route: Route, way: OnTheWay) -> Route:
    """``route``, the rest of a day begun on the road, with the drive behind them (``way``)
    counted in its first leg's travel, a depot call's or a stop's, and in its total: that leg
    is from the stop they left, as every other leg is from the stop before it (its distance
    is already)."""
    calls, stops = route.depot_stops, route.stops
    first = min(
        (k for k, call in enumerate(calls) if call.before == 0),
        key=lambda k: calls[k].arrival,
        default=None,
    )
    if first is not None:
        call = calls[first]
        longer = replace(call, travel=call.travel + way.driven)
        calls = (*calls[:first], longer, *calls[first + 1 :])
    elif stops:
        stop = stops[0]
        longer_leg = replace(stop, travel=stop.travel + way.driven)
        stops = (longer_leg, *stops[1:])
    return replace(route, stops=stops, depot_stops=calls, travel=route.travel + way.driven)


def _left_base(
    start: datetime,
    end: datetime,
    frozen: Sequence[Stop],
    calls: Sequence[DepotStop],
    shift_start: datetime,
) -> datetime:
    """When a route left its base: ``start``, as the plan had it, unless the reports at its
    first stop come before that, or end the route (at ``end``) before it (a job reported done
    at 07:10 on a route planned to leave at 08:40; one done at 09:00 on a route planned to
    leave at 10:40 for it, with stops after it). Then when they say the technician set off:
    the first stop reached (or started) less its drive; with only its end reported, the end
    less the planned work and the drive, but no sooner than the shift's start when the report
    leaves room for that (the work took less than planned: the route left at 07:00, before
    the shift, though nothing said so); never after ``end``. A first stop reached a little
    after the planned start leaves it as planned (five minutes early says little of when they
    left)."""
    if not frozen:
        return start
    first = frozen[0]
    reports = [
        moment
        for moment in (first.actual_arrival, first.actual_start, first.actual_departure)
        if moment is not None
    ]
    if not reports or (end >= start and min(reports) >= start):
        return start
    travel = timedelta(0) if any(call.before == 0 for call in calls) else first.travel
    reached = first.actual_arrival or first.actual_start
    if reached is not None:
        left = shifted(reached, -travel)
    else:
        assert first.actual_departure is not None
        set_off_by = shifted(first.actual_departure, -travel)  # they had set off by then
        work = elapsed(first.service_start, first.departure)
        left = shifted(set_off_by, -work)
        if left < shift_start <= set_off_by:
            left = shift_start
    return min(start, end, left)


def _home_after(
    old: Route, left: datetime, counted_from: datetime, back_s: int, at: datetime
) -> datetime:
    """When a technician who has left their last stop at ``left`` is home, the old version
    having counted from ``counted_from``: sooner by as much when they left sooner, and later by
    each break of the old version the sooner drive passes (a stop reported done hours early:
    the lunch shown between it and the old drive lies on the way home now); when they
    left later, no sooner than the drive home and the breaks the old version had after
    ``counted_from`` and not begun by ``at`` allow, its end otherwise (an end the old version
    left later than the drive needed, as a search may, took the overrun: shifted, a 35-minute
    overrun put a technician home at 18:00 back at 18:35, past their shift). A break begun
    before ``at`` is history, shown where it was (the route keeps the old version's breaks):
    counted again, a Done tapped an hour late put a technician home 45 minutes after a lunch
    already shown as taken, past their shift. Left while one is under way, the drive begins
    when it ends."""
    if left <= counted_from:
        home = shifted(old.end_time, -elapsed(left, counted_from))
        for rest in sorted(old.breaks, key=lambda slot: slot.start):
            if rest.start < left < rest.end:
                # Left during a break shown as taken: the drive begins when it ends (counted
                # from the departure, it overlapped the break).
                home = shifted(home, elapsed(left, rest.end))
            elif left <= rest.start < min(home, counted_from):
                home = shifted(home, elapsed(rest.start, rest.end))
        return home
    ahead = max(counted_from, at)
    after = sum((elapsed(b.start, b.end) for b in old.breaks if b.start >= ahead), timedelta(0))
    return max(old.end_time, shifted(left, s_to_duration(back_s) + after))


def _last_breaks(
    tech: Technician, restart: _Restart, way_home: timedelta
) -> tuple[tuple[BreakSlot, ...], datetime]:
    """The breaks not yet taken of a technician with nothing left to do but go home, and when
    they are home: once home, each as early as its window allows; when that misses a window,
    as early as it allows from when they are free, on the way home where it falls on the
    drive (waiting for it at the last stop, a lunch two hours off sent them home after their
    shift); when both miss (events kept them past it), once home anyway, as the rest of a day
    with visits would place it (``_rest_technician``). A break that would end after their day
    is not taken."""
    rules = tech.breaks[len(restart.taken_breaks) :]
    home = shifted(restart.free_at, way_home)
    at_home = _packed(rules, home, tech.working_end)
    before = _packed(rules, restart.free_at, tech.working_end)

    def inside(slots: list[BreakSlot]) -> bool:
        """Every break it takes inside its window, and as many as either way takes (the day's
        end may leave no room for the last: an unavailable technician's ends early)."""
        return len(slots) == max(len(at_home), len(before)) and all(
            slot.end <= rule.window.end for slot, rule in zip(slots, rules, strict=False)
        )

    if inside(at_home):
        return tuple(at_home), home
    if inside(before) and before:
        return tuple(before), driven_through(restart.free_at, way_home, before)
    return tuple(at_home), home


def driven_through(leave: datetime, drive: timedelta, breaks: Sequence[BreakSlot]) -> datetime:
    """When a drive of ``drive`` begun at ``leave`` ends (home, or to a stop after a depot
    call), each of ``breaks`` that begins on the way taken where it lies (the drive stops for
    it)."""
    moment, left = leave, drive
    for rest in sorted(breaks, key=lambda slot: slot.start):
        if rest.end <= moment:
            continue
        if rest.start >= shifted(moment, left):
            break
        if after(rest.start, moment):
            left -= elapsed(moment, rest.start)
        moment = rest.end
    return shifted(moment, left)


def _way_back(
    tech: Technician, restart: _Restart, id_map: IdMap, provider: TravelTimeProvider
) -> tuple[int, int]:
    """Seconds and metres from where a technician restarts to the end of their day."""
    for v, rest_tech in enumerate(id_map.problem.technicians):
        if rest_tech.id == tech.id:
            table = id_map.sites
            start, end = int(table.start_row[v]), int(table.end_row[v])
            return int(table.travel_s[start, end]), int(table.distance_m[start, end])
    way = restart.on_the_way
    here = _restart_site(tech, restart)
    durations, distances = provider.matrix([here, way.toward if way else here, tech.end])
    back_s = round_up_travel_s(float(durations[0, 2]))
    if way is not None:  # from where they are on the road, as ``compile`` counts it
        on_s = duration_to_s(way.ahead) + round_up_travel_s(float(durations[1, 2]))
        back_s = min(duration_to_s(way.driven) + back_s, on_s)
    return back_s, int(distances[0, 2])


def _promise(
    route: Route,
    old_stop: Mapping[VisitId, Stop],
    visits: Mapping[VisitId, Visit],
    problem: Problem,
    frozen: set[VisitId],
) -> Route:
    stops = []
    for stop in route.stops:
        if stop.visit_id not in frozen:
            before = old_stop.get(stop.visit_id)
            promise = before.promised if before else None
            visit = visits[stop.visit_id]
            told = promise_for(visit, stop.arrival, problem.policy)
            # An appointment's promise is its own (T - 10 to T): a visit moved to 12:20 kept
            # the 30 minutes around its old arrival that happened to end then, 11:50-12:20.
            if (
                promise is None
                or needs_call(promise, stop.arrival, problem.policy)
                or (visit.appointment is not None and promise != told)
            ):
                promise = told
            stop = replace(stop, promised=promise)
        stops.append(stop)
    return replace(route, stops=tuple(stops))


def _changes(old: Plan, new: Plan, batch: EventBatch, problem: Problem) -> tuple[Change, ...]:
    before = {
        stop.visit_id: (route.technician_id, stop) for route in old.routes for stop in route.stops
    }
    after = {
        stop.visit_id: (route.technician_id, stop) for route in new.routes for stop in route.stops
    }
    left_out = {item.visit_id: item for item in new.unassigned}
    added = {visit.id for visit in batch.added}
    changes: list[Change] = []
    for visit in problem.visits:
        old_tech, old_stop = before.get(visit.id, (None, None))
        new_tech, new_stop = after.get(visit.id, (None, None))
        if visit.id in batch.not_completed:
            # The attempt stays on the route; the booking left it: call to book again.
            reason = left_out[visit.id].reason
            old_arrival = old_stop.arrival if old_stop else None
            changes.append(Change(visit.id, old_tech, None, old_arrival, None, True, reason))
            continue
        if old_stop is None and new_stop is None:
            if visit.id in added and visit.id in left_out:  # the caller waits for an answer
                reason = f"new visit, not placed: {left_out[visit.id].reason}"
                changes.append(Change(visit.id, None, None, None, None, True, reason))
            continue
        old_arrival = old_stop.arrival if old_stop else None
        new_arrival = new_stop.arrival if new_stop else None
        if old_tech == new_tech and old_arrival == new_arrival and visit.id not in batch.moves:
            continue  # (a move that keeps the arrival still changes what was promised)
        if new_stop is None:
            item = left_out[visit.id]
            cancelled = item.code is UnassignedCode.CANCELLED
            notify, reason = not cancelled, item.reason
        elif old_stop is None:
            notify, reason = True, "new visit" if visit.id in added else "placed in a route"
        else:
            promise = old_stop.promised
            notify = promise is not None and needs_call(promise, new_stop.arrival, problem.policy)
            if visit.id in batch.moves:
                notify, reason = True, "moved by the dispatcher"
            else:
                reason = _why(old_tech, new_tech, batch)
        changes.append(
            Change(visit.id, old_tech, new_tech, old_arrival, new_arrival, notify, reason)
        )
    return tuple(changes)


def _skills_off_duty(
    item: Unassigned,
    visits: Mapping[VisitId, Visit],
    problem: Problem,
    available: Sequence[Technician],
) -> Unassigned:
    """``item`` with its reason said of those still working: a visit left for skills (or a
    crew) that only technicians gone for the day have read "no technician has skill
    'water_heater'" of a day whose T1, unavailable, has it."""
    if item.code not in (UnassignedCode.NO_SKILL, UnassignedCode.CREW_SIZE):
        return item
    visit = visits[item.visit_id]
    working = {tech.id for tech in available}
    gone = [
        tech.id
        for tech in problem.technicians
        if tech.id not in working
        and visit.required_skills <= tech.skills
        and tech.crew_size >= visit.crew_size
    ]
    if not gone:
        return item
    who = f"{', '.join(gone)}, who could serve it, {'is' if len(gone) == 1 else 'are'} off"
    return replace(item, reason=f"{item.reason}, of those still working today ({who})")


def _why(old: TechnicianId | None, new: TechnicianId | None, batch: EventBatch) -> str:
    if old is not None and old in batch.unavailable:
        return f"{old} is unavailable" + (
            f" ({batch.unavailable[old]})" if batch.unavailable[old] else ""
        )
    if old is not None and old in batch.delays:
        minutes = whole_minutes(batch.delays[old])
        reason = batch.delay_reasons.get(old, "")
        text = f"{old} is running {minutes} min late" + (f" ({reason})" if reason else "")
        return text if old == new else f"{text}; handed to {new}"
    if old != new:
        return f"handed from {old} to {new} to fit the day's changes"
    return "re-timed around the day's changes"
