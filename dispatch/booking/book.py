"""Book a visit into a slot: the next plan version, made as a ``new_visit`` event batch makes it.

The batch ``{"at": …, "version": …, "events": [{"type": "new_visit", "visit": …}]}`` (the visit
with the slot's ``window`` or ``appointment``) is checked and folded into the day by the events'
own code (``dispatch.replanning.events``), so the stored day, the history of batches and the
call list read as for any event. What differs from a re-plan is the plan: nothing is solved
again. The slot is checked once more against the plan as it now is (``BookingDay.fits``, the
one insertion check) and the visit goes into the cheapest place that holds on the slot's
technician (another when they no longer can: ``SlotGoneError`` when nobody can). Only that
technician's route is timed again, by the solver's own model (``BookingDay.timed``, the timing
the slot showed), every other stop inside the window promised to its customer; no other route
is touched. Each other stop
keeps its promise; the new stop gets one (``promise_for``) and a change with ``notify``.
"""

from __future__ import annotations

import logging
import time as clock
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from dispatch.booking.day import BookingDay, Fit, FromCall, fixed_prefix, had_at_base
from dispatch.booking.slots import DayPlan, booking_visit
from dispatch.errors import DispatchError, InternalError
from dispatch.model import Change, DepotStop, Plan, Problem, Route, Stop, TechnicianId, Visit
from dispatch.planning.decode import decode
from dispatch.planning.kpi import compute_kpis
from dispatch.planning.lines import with_road_lines
from dispatch.planning.promise import needs_call, promise_for
from dispatch.replanning.events import (
    apply_to_problem,
    apply_to_problem_json,
    calls_made,
    parse_events,
)
from dispatch.replanning.replan import driven_through, idle_breaks
from dispatch.travel import TravelTimeProvider
from dispatch.units import elapsed, latest, m_as_km, s_to_duration, shifted
from solver import Solution, SolverError

__all__ = ["Booked", "PromiseBrokenError", "SlotGoneError", "book_into"]

logger = logging.getLogger(__name__)


class SlotGoneError(DispatchError):
    """The slot no longer fits the plan as it now is (409): offer the fresh slots."""

    http_status = 409
    exit_code = 1


@dataclass(frozen=True, slots=True)
class Booked:
    """A booking made: the day and plan of the next version, and the batch that made it."""

    raw: dict[str, Any]
    problem: Problem
    plan: Plan
    events: dict[str, Any]
    technician_id: TechnicianId
    visit: Visit
    #: Where the visit went: the vehicle, the node and its position in the route.
    place: tuple[int, int, int] = (-1, -1, -1)


def book_into(
    day: DayPlan,
    row: Mapping[str, Any],
    slot: Mapping[str, Any],
    technician_id: str | None,
    *,
    at: str,
    provider: TravelTimeProvider,
    now: datetime | None = None,
    skip: frozenset[tuple[int, int, int]] = frozenset(),
) -> Booked:
    """Book the visit ``row`` into ``slot`` (``{"window": {...}}`` or ``{"appointment": ...}``,
    clock times on the day's date) of ``day``'s latest version. ``now`` (the caller's clock,
    aware) refuses an ``at`` of today's plan after it, as it refuses any batch's; places in
    ``skip`` (``Booked.place`` of tries the checker refused) are not tried again.

    Raises
    ------
    InputError
        The visit or the batch breaks a rule of the day (each problem named).
    SlotGoneError
        No technician can take the slot any more without breaking a promise.
    InternalError
        The solver's model refuses a route the insertion check accepted (a bug).
    """
    started = clock.monotonic()
    booked_row, _ = booking_visit(day, row, at=at, slot=slot)
    events = {
        "at": at,
        "version": day.version,
        "events": [{"type": "new_visit", "visit": booked_row}],
    }
    batch = parse_events(events, day.raw, day.problem, day.plan, now=now)
    next_problem = apply_to_problem(day.problem, batch)
    next_raw = apply_to_problem_json(day.raw, batch)
    visit = batch.added[0]
    booking = BookingDay.of(day.problem, day.plan, visit, batch.at, provider)
    fits = [f for f in _fits(booking, technician_id) if _place(f) not in skip]
    if not fits:
        raise SlotGoneError(f"no technician can take visit {visit.id} at that time any more")
    while True:
        route, fit = _timed(booking, fits)
        old = next((r for r in day.plan.routes if r.technician_id == fit.technician_id), None)
        try:
            merged = _merge(route, old, fit, booking, visit, next_problem, batch.at)
            break
        except PromiseBrokenError as error:
            # The engine's bug, logged; the next place, or the slot is gone (a 409 with fresh
            # slots), never a 500: on a day whose clocks go back 30 minutes, every slot of a
            # route answered 500 once one customer's promise had been read wrong.
            logger.error("booking %s at %s: %s", visit.id, _place(fit), error)
            fits = fits[fits.index(fit) + 1 :]
            if not fits:
                raise SlotGoneError(
                    f"no technician can take visit {visit.id} at that time without moving "
                    "another customer out of their promise"
                ) from error
    routes = [r for r in day.plan.routes if r.technician_id != fit.technician_id] + [merged]
    order = {tech.id: k for k, tech in enumerate(next_problem.technicians)}
    plan = Plan(
        routes=tuple(sorted(routes, key=lambda r: order[r.technician_id])),
        unassigned=day.plan.unassigned,
        solve_s=clock.monotonic() - started,
        objective=day.plan.objective,
        at=batch.at,
        without_route=day.plan.without_route,
        holds=day.plan.holds,  # over or standing: the next re-plan reads them all
    )
    plan = with_road_lines(plan, next_problem, provider)
    plan = replace(
        plan,
        changes=_changes(old, merged, visit, next_problem),
        kpis=compute_kpis(next_problem, plan),
    )
    return Booked(next_raw, next_problem, plan, events, fit.technician_id, visit, _place(fit))


def _place(fit: Fit) -> tuple[int, int, int]:
    return fit.vehicle, fit.node, fit.insertion.position


def _fits(booking: BookingDay, technician_id: str | None) -> list[Fit]:
    """The places that hold, the slot's own technician first, then the cheapest others."""
    if not booking.nodes:
        return []
    windows = booking.instance.window_s[list(booking.nodes)]
    low, high = int(windows[:, 0].min()), int(windows[:, 1].max())
    found = booking.fits([(low, high)], appointment=False)[0]
    found.sort(key=lambda f: (f.technician_id != technician_id, f.insertion.added_travel_s))
    return found


def _timed(booking: BookingDay, fits: list[Fit]) -> tuple[Route, Fit]:
    """The route of the first place the solver's model times (``BookingDay.timed``), as
    decoded."""
    untimed = False
    for fit in fits:
        try:
            timed = booking.timed(fit)
        except SolverError:
            continue
        decoded = decode(Solution((timed,), (), 0, 0.0), booking.id_map, booking.instance)
        shown = {stop.visit_id for route in decoded.routes for stop in route.stops}
        if any(booking.id_map.visit(node).id not in shown for node in timed.nodes):
            untimed = True  # a depot call there cannot be timed around the breaks (decode)
            continue
        return decoded.routes[0], fit
    if untimed:
        raise SlotGoneError(
            f"no technician can take visit {booking.visit.id} at that time: a depot call "
            "cannot be made around their breaks"
        )
    raise InternalError(
        f"the solver's model refused every place the insertion check found for {booking.visit.id}"
    )


def _merge(
    route: Route,
    old: Route | None,
    fit: Fit,
    booking: BookingDay,
    visit: Visit,
    problem: Problem,
    at: datetime,
) -> Route:
    """The re-timed route with the old stops' history and promises kept, the new one promised,
    its departure kept once it left its base before ``at``, and the depot calls made by ``at``
    as they were (``_calls_in_time``)."""
    old_stops = {stop.visit_id: stop for stop in old.stops} if old else {}
    _, fixed = booking.routes.get(fit.vehicle, ([], 0))
    stops: list[Stop] = []
    for k, stop in enumerate(route.stops):
        before = old_stops.get(stop.visit_id)
        if before is None:
            stops.append(replace(stop, promised=promise_for(visit, stop.arrival, problem.policy)))
        elif k < fixed:
            stops.append(before)
        else:
            stops.append(replace(stop, promised=before.promised))
            _kept(before, stop)
    gone = old is not None and (fixed > 0 or old.start_time < at)  # when it left is history
    start = old.start_time if old is not None and gone else route.start_time
    merged = replace(route, stops=tuple(stops), start_time=start)
    if old is None:  # idle until ``at``: the breaks whose window went by were had then
        had = idle_breaks(problem.technicians[fit.vehicle], at)
        merged = replace(merged, breaks=(*had, *route.breaks))
    else:  # had at the base before ``at`` (and before leaving): history, as it was
        merged = replace(merged, breaks=(*had_at_base(old, at), *route.breaks))
    merged = replace(merged, depot_stops=_calls_in_time(merged, old, at))
    return _legs_kept(_from_last_call(merged, old, booking.from_call_s.get(fit.vehicle)), route)


def _legs_kept(merged: Route, timed: Route) -> Route:
    """``merged`` (``timed``, the model's route, with the history kept: its fixed stops and
    calls made as they were, a last call's drive on, ``_from_last_call``) with its distance
    and travel the legs it now has: the model's totals, its legs swapped for the kept ones.
    The model drives a call made whose units ride in the van (``BookingDay.of``) as no call:
    straight to the stop after it; off a straight line, the route said 32.5 km where its
    legs (via the depot) added up to 40, and the checker refused the booking of a slot
    offered."""

    def km(route: Route) -> float:
        return sum(s.distance_km for s in route.stops) + sum(
            c.distance_km for c in route.depot_stops
        )

    def driving(route: Route) -> timedelta:
        stops = sum((s.travel for s in route.stops), timedelta(0))
        return stops + sum((c.travel for c in route.depot_stops), timedelta(0))

    return replace(
        merged,
        distance_km=timed.distance_km - km(timed) + km(merged),
        travel=timed.travel - driving(timed) + driving(merged),
    )


def _from_last_call(route: Route, old: Route | None, leg: FromCall | None) -> Route:
    """``route`` with the drive into the new visit from the depot call made that was the old
    route's last stop (``leg``, ``BookingDay.from_call_s``; the route's totals are then
    counted by ``_legs_kept``): the booking's model, which knows no such call, drove it from
    the stop before the call (the route said 0 km where its legs added up to 10)."""
    k = 0 if old is None else len(old.stops)  # the new visit: after every stop, and the call
    if old is None or leg is None or len(route.stops) <= k:
        return route
    into = route.stops[k]
    driven = replace(into, travel=s_to_duration(leg.drive_s), distance_km=m_as_km(leg.drive_m))
    return replace(route, stops=(*route.stops[:k], driven, *route.stops[k + 1 :]))


def _calls_in_time(route: Route, old: Route | None, at: datetime) -> tuple[DepotStop, ...]:
    """``route``'s depot calls as history has them at ``at``: the calls ``old`` had made (all
    of them) in place of the re-timed one before the same visit at the same depot (``BookingDay.of``
    reads a route only when its calls made are there, or their units are the van's, and fixes
    the stop after each), or where they were when the route has none there, and
    each other call that the route's timing (from its fixed stops' planned times) put before
    ``at`` made no sooner than they can be there from ``at`` (as the version before has them
    get there, when they had set off for it), nor in a break (the booking day holds the stop
    after it no sooner than that allows: ``_first_unreached``)."""
    position = {stop.visit_id: k for k, stop in enumerate(route.stops)}
    made: dict[tuple[int, str], list[DepotStop]] = {}
    if old is not None:
        for k in calls_made(old, fixed_prefix(old, at), at):
            call = old.depot_stops[k]
            # The stops before a call made were reached before it: the booked route has them
            # first, as they were.
            now = call.before
            if call.before < len(old.stops) and old.stops[call.before].visit_id in position:
                now = position[old.stops[call.before].visit_id]
            made.setdefault((now, call.depot_id), []).append(replace(call, before=now))
    planned: dict[tuple[str, str], DepotStop] = {}
    if old is not None:
        for call in old.depot_stops:
            if call.before < len(old.stops):
                planned[(old.stops[call.before].visit_id, call.depot_id)] = call
    calls: list[DepotStop] = []
    shown: set[tuple[int, str]] = set()  # where the calls made are
    for call in route.depot_stops:
        if (call.before, call.depot_id) in made:
            # every call made there, as it was: the morning pick list and a call with handling
            # made at one moment are two calls, which the re-timed route shows as one
            calls.extend(made.pop((call.before, call.depot_id)))
            shown.add((call.before, call.depot_id))
            continue
        if (call.before, call.depot_id) in shown:
            # one of the calls made there, shown again (not a new call there: a booking's
            # call at a technician's base beside their morning load was dropped, its parts
            # never taken)
            continue
        kept = None
        if call.arrival < at:
            handling = elapsed(call.arrival, call.departure)
            begin = shifted(at, call.travel)  # from the stop before, left no sooner
            was = (
                planned.get((route.stops[call.before].visit_id, call.depot_id))
                if call.before < len(route.stops)
                else None
            )
            if was is not None and shifted(was.arrival, -was.travel) < at:
                begin = latest(at, was.arrival)  # on the way to it: there as planned
            for rest in sorted(route.breaks, key=lambda slot: slot.start):
                if rest.start < shifted(begin, handling) and rest.end > begin:
                    begin = rest.end  # not in a break: made at 12:32 under a lunch 12:30-13:30
            late = replace(call, arrival=begin, departure=shifted(begin, handling))
            reach = route.stops[call.before] if call.before < len(route.stops) else None
            if (
                reach is None
                or driven_through(late.departure, reach.travel, route.breaks) <= reach.arrival
            ):
                kept = late
        calls.append(kept or call)
    # Calls made that are no way of the booked route's visits (made for a visit that has left
    # the route: their units ride in the van, the booking's model has them as the van's).
    calls.extend(call for left in made.values() for call in left)
    return tuple(sorted(calls, key=lambda call: (call.before, call.arrival)))


class PromiseBrokenError(InternalError):
    """A re-timed stop's arrival left the window promised to its customer (a bug: the
    insertion check said the place keeps every promise)."""


def _kept(before: Stop, after: Stop) -> None:
    """Refuse (a bug) a re-timed stop whose arrival left the window promised to its customer."""
    promise = before.promised
    if promise is not None and not promise.start <= after.arrival <= promise.end:
        raise PromiseBrokenError(
            f"booking would move visit {after.visit_id} to {after.arrival:%H:%M}, outside "
            f"its promised {promise.start:%H:%M}-{promise.end:%H:%M}"
        )


def _changes(old: Route | None, new: Route, visit: Visit, problem: Problem) -> tuple[Change, ...]:
    """The new visit (call: it is new) and each stop of the route whose arrival moved."""
    before = {stop.visit_id: stop for stop in old.stops} if old else {}
    changes: list[Change] = []
    for stop in new.stops:
        was = before.get(stop.visit_id)
        if was is None:
            changes.append(
                Change(
                    stop.visit_id,
                    None,
                    new.technician_id,
                    None,
                    stop.arrival,
                    True,
                    "new visit (booked)",
                )
            )
        elif was.arrival != stop.arrival:
            notify = was.promised is not None and needs_call(
                was.promised, stop.arrival, problem.policy
            )
            changes.append(
                Change(
                    stop.visit_id,
                    new.technician_id,
                    new.technician_id,
                    was.arrival,
                    stop.arrival,
                    notify,
                    f"re-timed inside its promised window around booking {visit.id}",
                )
            )
    return tuple(changes)
