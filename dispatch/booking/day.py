"""One day plan seen for booking: its routes in numbers, every promise held as a hard bound.

``BookingDay.of`` compiles the plan's day (``dispatch.planning.compile``, as the solver sees
it) with three changes that turn "never break a promise" into windows the solver's own rules
check (``solver.insertion``):

- every routed visit is pinned to the technician it has;
- a visit without an appointment may start only inside the window promised to its customer
  (``promised_window``, intersected with its own window): its arrival may move, its promise not;
- a stop done, under way, or reached before the booking's clock time ``at`` is fixed at the
  time it has, and nothing is inserted before it; so are a route's departure from the base and
  its breaks begun before ``at``, and no other break is placed before ``at`` (``_history_kept``);
  the first stop not reached starts no sooner than ``at`` (``_first_unreached``), and the new
  visit's parts are not loaded before leaving a base the route left before ``at``.
  A stop the technician is on the way to at ``at`` (the plan has them set off for it) is
  fixed as a stop reached is (``fixed_prefix``). A depot call begun before ``at`` is history
  too: the stop after it is fixed likewise, and the booked plan keeps the call as it was
  (``dispatch.booking.book``). A route with a depot call made that is not
  the way the next stop's parts come (its visit left the route; a morning pick list may load
  any visit of the route, the first may come from the van) cannot be read: nothing is booked
  into it (``_calls_kept``); but a call made none of whose units any visit reserves is read
  as units riding in the van (``_with_riding``), as the re-plan has them. When such a call is
  the route's last stop, the new visit after it is reached from its depot once the call is
  left (``FromCall``), and the booked route drives it so (``dispatch.booking.book``).

Appointments keep their door time (fixed in the compiled day), or under
``policy.appointment_start`` ``on_arrival`` their band (a fixed one its service start, as any
fixed stop), and an urgent visit its deadline. Visits the plan left out are not part of the
booking day. The new visit is compiled with the day's other rules (skills, crew, radius, van,
shift reach: its screening), so a visit nobody may serve says why at once (``excluded``).
``fits`` asks the insertion of the new visit for a time window or an appointment: the one
feasibility of slots and of the booking. ``timed`` times the route a fit makes by the solver's
own model (``solver.insertion.schedule_insertion``): the one timing of a slot shown and of the
plan that books it.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import NamedTuple

from dispatch.errors import InputError
from dispatch.model import (
    Break,
    BreakSlot,
    DepotId,
    DepotStop,
    PartQuantity,
    Plan,
    Problem,
    Route,
    Site,
    Technician,
    TechnicianId,
    TimeWindow,
    Unassigned,
    Visit,
    VisitId,
)
from dispatch.planning.compile import IdMap, appointment_bounds, compile_problem
from dispatch.replanning.events import calls_made
from dispatch.replanning.replan import idle_breaks
from dispatch.stock import Option, depots_less
from dispatch.travel import TravelTimeProvider
from dispatch.units import (
    after,
    elapsed,
    latest,
    moment_after,
    round_up_travel_s,
    seconds_after,
    shifted,
)
from solver import Instance, RouteSolution
from solver.insertion import Insertion, insertions, route_holds, schedule_insertion

__all__ = ["BookingDay", "Fit", "FromCall", "had_at_base"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Fit:
    """The cheapest feasible insertion of the new visit into one technician's route: ``node``
    is the new visit's node inserted (one way its spare parts come, when it needs any), its
    service starting inside ``window_s`` and lasting ``service_s`` (the question asked)."""

    technician_id: TechnicianId
    vehicle: int
    node: int
    insertion: Insertion
    busy_s: int
    window_s: tuple[int, int]
    service_s: int


class FromCall(NamedTuple):
    """The drive to the new visit from a depot call made that is a route's last stop: its
    seconds and metres, and when the call was left (solver seconds)."""

    drive_s: int
    drive_m: int
    left_s: int


def _narrowed(
    visit: Visit,
    route: Route,
    k: int,
    fixed: bool,
    on_arrival: bool,
    not_before: datetime | None,
) -> Visit:
    """``visit``, the ``k``-th stop of ``route``, as booking must keep it (module docstring);
    ``on_arrival``: the policy's appointments start on arrival, anywhere in their band;
    ``not_before``: the soonest its work may start (``_first_unreached``)."""
    stop = route.stops[k]
    visit = replace(visit, pinned_to=route.technician_id)
    if visit.appointment is not None and not (fixed and on_arrival):
        return visit
    if fixed:
        here = TimeWindow(stop.service_start, stop.service_start)
        return replace(visit, appointment=None, window=here, deadline=None, daily_window=None)
    promise = stop.promised or (visit.window if not_before is not None else None)
    if promise is None:
        return visit
    low = max(promise.start, visit.window.start) if visit.window else promise.start
    high = min(promise.end, visit.window.end) if visit.window else promise.end
    if not_before is not None:
        low = max(low, not_before)
    if not low <= stop.service_start <= high:
        low = high = stop.service_start  # promised elsewhere already: keep it where it is
    return replace(visit, window=TimeWindow(low, high))


def fixed_prefix(route: Route, at: datetime) -> int:
    """How many of ``route``'s first stops booking fixes at ``at``: done, under way, or
    reached before it, with every stop before them, and the stop after them when the
    technician is on the way to it, a depot call just before it begun (the parts taken) or the
    drive into it (``_set_off``): nothing goes in between, and it keeps its time. Put before
    it, a visit was timed from the last stop as if they had not left it (a drive 30 minutes
    along is 30 minutes from there)."""
    fixed = 0
    for stop in route.stops:
        if not (stop.frozen or stop.arrival < at):
            break
        fixed += 1
    if fixed == len(route.stops):
        return fixed
    calls = [call for call in route.depot_stops if call.before == fixed]
    if any(call.arrival < at for call in calls) or (not calls and _set_off(route, fixed) < at):
        fixed += 1
    return fixed


def _set_off(route: Route, k: int) -> datetime:
    """When ``route`` has its technician leave for its stop ``k`` (no depot call before it):
    the drive before its arrival, and the breaks the route has on the way."""
    stop = route.stops[k]
    left = route.stops[k - 1].departure if k else route.start_time
    resting = sum(
        (elapsed(b.start, b.end) for b in route.breaks if left <= b.start < stop.arrival),
        timedelta(0),
    )
    return shifted(stop.arrival, -(stop.travel + resting))


def _first_unreached(route: Route, fixed: int, at: datetime) -> datetime | None:
    """The soonest the first stop of ``route`` not reached by ``at`` (after its ``fixed``
    ones, ``fixed_prefix``) may start in a booked plan: not before ``at`` (nobody said they
    are there), and after a depot call just before it (not made: ``fixed_prefix`` fixes the
    stop after a call made) no sooner than that call lets it be reached: made once they get
    to the depot, the drive there from ``at`` (on the way to it already, as the plan has them
    there: counted from ``at`` at the depot, a call due at 09:55 was made at 09:40).
    ``None`` when every stop is reached."""
    if fixed >= len(route.stops):
        return None
    stop = route.stops[fixed]
    call = max(
        (c for c in route.depot_stops if c.before == fixed), key=lambda c: c.arrival, default=None
    )
    if call is None:
        return at
    there = shifted(at, call.travel)
    if shifted(call.arrival, -call.travel) < at:  # set off for it
        there = call.arrival
    return shifted(there, elapsed(call.arrival, call.departure) + stop.travel)


def had_at_base(route: Route, at: datetime) -> tuple[BreakSlot, ...]:
    """The breaks of ``route`` had at the base by ``at``: begun before it and before the route
    left the base (a lunch before a late first stop, the route gone or not). They are history
    outside the booking's model, which begins the day when they end, or when the route left
    (``_history_kept``); the booked route keeps them (``dispatch.booking.book``)."""
    return tuple(slot for slot in route.breaks if slot.start < min(at, route.start_time))


def _history_kept(
    tech: Technician, route: Route | None, at: datetime, held: datetime | None
) -> Technician:
    """``tech`` as booking must keep their route's past at ``at``: gone from the base when the
    route left it, and each break begun before ``at`` where it was taken; the others not
    before ``at`` where their window still allows. Free, the solver's timing moved a lunch
    due after a stop into the drive to it, hours before the booking, under a route that had
    left at its old time. A route not gone by ``at`` (or none) leaves no sooner than ``at``:
    timed freely, a booking at 10:15 had the technician leave the base at 09:55 to be at the
    door at 10:15. Held up by a delay until ``held`` (``Plan.holds``): no sooner than the
    hold's end either, and no break is moved into the hold. A break had at the base before
    ``at`` (``had_at_base``) is history, out of the model: kept as a window before a shift
    begun at ``at``, nothing fitted (no slot for the afternoon of a technician who had lunch
    at the base before a late first stop)."""
    shift = tech.shift
    # Idle until ``at`` (no route): a break whose window has gone by was had then, at the
    # window's start, and one still going on holds them until it ends.
    had = idle_breaks(tech, at) if route is None else had_at_base(route, at)
    if route is not None and route.start_time < at:
        shift = TimeWindow(route.start_time, max(route.start_time, shift.end))
    else:  # not gone by ``at`` (or no route): they leave no sooner, nor before a hold ends
        begin = latest(shift.start, at, *(slot.end for slot in had))
        if held is not None:
            begin = latest(begin, held)
        if after(shift.end, begin):
            shift = TimeWindow(begin, shift.end)
    if route is None:
        return replace(tech, shift=shift, breaks=tech.breaks[len(had) :])
    if len(route.breaks) != len(tech.breaks):
        return replace(tech, shift=shift)
    free = at if held is None else latest(at, held)
    breaks = tuple(
        Break(TimeWindow(slot.start, slot.end), rule.duration)
        if slot.start < at
        else (
            Break(TimeWindow(free, rule.window.end), rule.duration)
            if rule.window.start < free <= shifted(rule.window.end, -rule.duration)
            else rule
        )
        for rule, slot in zip(tech.breaks, route.breaks, strict=True)
        if slot not in had
    )
    return replace(tech, shift=shift, breaks=breaks)


@dataclass(frozen=True, slots=True)
class BookingDay:
    """A day plan compiled for booking ``visit`` (see the module docstring).

    ``routes`` holds, per vehicle, its node list and how many of its first nodes are fixed;
    ``unreadable`` the vehicles whose route could not be read as promised (nothing goes into
    them); ``nodes`` are the new visit's nodes (one, or one per way its spare parts can come:
    ``dispatch.stock.supply``), none with the reason in ``excluded``.
    """

    problem: Problem
    instance: Instance
    id_map: IdMap
    visit: Visit
    nodes: tuple[int, ...]
    excluded: Unassigned | None
    routes: dict[int, tuple[list[int], int]]
    unreadable: frozenset[int]
    at_s: int
    #: Vehicles whose route left the base before ``at``: their morning pick list is behind them.
    set_out: frozenset[int] = frozenset()
    #: Vehicles held up by a delay (``Plan.holds``) past ``at``: until then, in solver seconds.
    holds_s: Mapping[int, int] = field(default_factory=dict)
    #: Vehicles whose last stop is a depot call made (``_last_call``): the drive from its depot
    #: to the new visit and the call's departure, in solver seconds: the visit is reached from
    #: there, not from the stop before the call.
    from_call_s: Mapping[int, FromCall] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        problem: Problem,
        plan: Plan,
        visit: Visit,
        at: datetime,
        provider: TravelTimeProvider,
    ) -> BookingDay:
        """The booking day of ``plan`` (for ``problem``) and the new ``visit`` at ``at``."""
        visits = {v.id: v for v in problem.visits}
        kept: list[Visit] = []
        order: dict[TechnicianId, tuple[list[VisitId], int]] = {}
        on_arrival = problem.policy.appointment_start == "on_arrival"
        holds = {hold.technician_id: hold.until for hold in plan.holds if after(hold.until, at)}
        for route in plan.routes:
            fixed = fixed_prefix(route, at)
            first = _first_unreached(route, fixed, at)
            held = holds.get(route.technician_id)
            if first is not None and held is not None:  # not left before the hold ends
                first = latest(first, shifted(held, route.stops[fixed].travel))
            for k, stop in enumerate(route.stops):
                kept.append(
                    _narrowed(
                        visits[stop.visit_id],
                        route,
                        k,
                        k < fixed,
                        on_arrival,
                        first if k == fixed else None,
                    )
                )
            order[route.technician_id] = ([stop.visit_id for stop in route.stops], fixed)
        routes_of = {route.technician_id: route for route in plan.routes}
        technicians = tuple(
            _history_kept(tech, routes_of.get(tech.id), at, holds.get(tech.id))
            for tech in problem.technicians
        )
        day = replace(problem, technicians=technicians, visits=(*kept, visit))
        instance, id_map = _compiled(day, provider, at, plan)
        # Calls made whose units no visit of the day reserves (for a visit that left the
        # route, or on a route of a technician gone home ill): they left with the van, and
        # booking sold them again (the checker refused it: a 500). A call none of whose units
        # is reserved puts them in the van, the route's from then on (every place booking may
        # use is after the call): a visit the re-plan gave such a unit was unreadable, and
        # its route with it. Read again with them there, the other units no visit reserves
        # (a morning load's beyond what its visits use, calls still to make) are nobody's.
        riding = [u for u in _calls_unreserved(plan, day, instance, id_map, at) if u.whole]
        if riding:
            day = replace(
                day,
                depots=depots_less(day.depots, [u.call for u in riding]),
                technicians=tuple(_with_riding(tech, riding) for tech in day.technicians),
            )
            instance, id_map = _compiled(day, provider, at, plan)
        rest = [u for u in _calls_unreserved(plan, day, instance, id_map, at) if not u.whole]
        if rest:
            day = replace(day, depots=depots_less(day.depots, [u.call for u in rest]))
            instance, id_map = _compiled(day, provider, at, plan)
        riding_calls: dict[TechnicianId, set[int]] = {}
        for u in riding:
            riding_calls.setdefault(u.technician_id, set()).add(u.call_index)
        node_of: dict[VisitId, list[int]] = {}
        for node, i in enumerate(id_map.node_visit):
            node_of.setdefault(day.visits[i].id, []).append(node)
        vehicle_of = {tech.id: v for v, tech in enumerate(day.technicians)}
        depot_of = {depot.id: d for d, depot in enumerate(day.depots)}
        routes: dict[int, tuple[list[int], int]] = {}
        unreadable: set[int] = set()
        from_call: dict[int, FromCall] = {}
        depots = {depot.id: depot for depot in problem.depots}
        for route in plan.routes:
            ids, fixed = order[route.technician_id]
            vehicle = vehicle_of.get(route.technician_id)
            if vehicle is None:
                continue
            made = calls_made(route, fixed, at)
            nodes = [
                _way(instance, id_map, node_of.get(visit_id, []), vehicle, route, k, depot_of, made)
                for k, visit_id in enumerate(ids)
            ]
            tech_id = route.technician_id
            listed = [node for node in nodes if node is not None]
            riding_here = riding_calls.get(tech_id, set())
            if not _calls_kept(route, nodes, id_map, depot_of, fixed, at, riding_here):
                logger.warning("the route of %s made a call booking cannot keep", tech_id)
                unreadable.add(vehicle)
                continue
            if len(listed) < len(nodes) or not route_holds(instance, vehicle, listed):
                logger.warning("the route of %s does not hold as promised", tech_id)
                unreadable.add(vehicle)
                continue
            routes[vehicle] = (listed, fixed)
            last = _last_call(route, made)
            if last is not None:  # the next stop is driven to from its depot, once it is left
                left_s = seconds_after(last.departure, problem.midnight)
                from_call[vehicle] = _drive(
                    provider, depots[last.depot_id].site, visit.site, left_s
                )
        excluded = next((u for u in id_map.excluded if u.visit_id == visit.id), None)
        return cls(
            problem=day,
            instance=instance,
            id_map=id_map,
            visit=visit,
            nodes=tuple(node_of.get(visit.id, ())),
            excluded=excluded,
            routes=routes,
            unreadable=frozenset(unreadable),
            at_s=seconds_after(at, problem.midnight),
            set_out=frozenset(
                vehicle_of[route.technician_id]
                for route in plan.routes
                if route.start_time < at and route.technician_id in vehicle_of
            ),
            holds_s={
                vehicle_of[tech_id]: seconds_after(until, problem.midnight)
                for tech_id, until in holds.items()
                if tech_id in vehicle_of
            },
            from_call_s=from_call,
        )

    @property
    def vehicles(self) -> tuple[int, ...]:
        """The vehicles that may serve the new visit (none when it was screened out)."""
        return tuple(sorted({v for node in self.nodes for v in self._allowed(node)}))

    def _allowed(self, node: int) -> tuple[int, ...]:
        allowed = self.instance.allowed[node] if self.instance.allowed else None
        return tuple(range(self.instance.n_vehicles)) if allowed is None else allowed

    def seconds(self, moment: datetime) -> int:
        """``moment`` in the day's solver seconds."""
        return seconds_after(moment, self.problem.midnight)

    def fits(
        self,
        windows_s: Sequence[tuple[int, int]],
        *,
        appointment: bool,
        vehicles: Sequence[int] | None = None,
    ) -> list[list[Fit]]:
        """Per asked window (service-start bounds in solver seconds; for an ``appointment``,
        the appointment itself), the cheapest insertion per technician who can take it.

        The new visit's own bounds (an urgent deadline) and the booking's clock time cut each
        window; an appointment is bounded as compile bounds one (``appointment_bounds``: the
        door time, moved up to an urgent deadline inside the band, and the minutes from it to
        the appointment added to the service, or the band when it starts on arrival).
        """
        answers: list[list[Fit]] = [[] for _ in windows_s]
        asking = self.vehicles if vehicles is None else vehicles
        for node in self.nodes:  # each way the new visit's parts can come: the cheapest wins
            for k, fit in enumerate(self._fits_node(node, windows_s, appointment, asking)):
                for candidate in fit:
                    same = next(
                        (j for j, f in enumerate(answers[k]) if f.vehicle == candidate.vehicle),
                        None,
                    )
                    if same is None:
                        answers[k].append(candidate)
                    elif _cheaper(candidate, answers[k][same]):
                        answers[k][same] = candidate
        return answers

    def _fits_node(
        self,
        node: int,
        windows_s: Sequence[tuple[int, int]],
        appointment: bool,
        vehicles: Sequence[int],
    ) -> list[list[Fit]]:
        """``fits`` for one node of the new visit."""
        answers: list[list[Fit]] = [[] for _ in windows_s]
        own_low, own_high = (int(x) for x in self.instance.window_s[node])
        service = int(self.instance.service_s[node])
        asked: list[list[tuple[int, int]]] = []
        services: list[int] = []  # per window: an appointment's door buffer is added
        if appointment:
            deadline = self.id_map.visit(node).deadline
            deadline_s = None if deadline is None else seconds_after(deadline, self.id_map.origin)
            for low, _ in windows_s:
                earliest, latest, buffer = appointment_bounds(self.problem.policy, low, deadline_s)
                earliest, latest = max(earliest, own_low, self.at_s), min(latest, own_high)
                asked.append([(earliest, latest)] if earliest <= latest else [])
                services.append(service + buffer)
        else:
            for low, high in windows_s:
                low, high = max(low, own_low, self.at_s), min(high, own_high)
                asked.append([(low, high)] if low <= high else [])
                services.append(service)
        live = [k for k, a in enumerate(asked) if a]
        if not live:
            return answers
        allowed = self._allowed(node)
        option = self.id_map.option(node)
        late = self.set_out if option is not None and option.morning else frozenset()
        for vehicle in vehicles:
            if vehicle not in allowed or vehicle in self.unreadable or vehicle in late:
                continue
            nodes, fixed = self.routes.get(vehicle, ([], 0))
            theirs = self._from_where_they_are(
                [asked[k] for k in live], vehicle, nodes[:fixed], node
            )
            busy = self._busy_s(vehicle, nodes)
            tech_id = self.id_map.technician(vehicle).id
            for service_s in sorted({services[k] for k in live}):  # one or two: see above
                alike = [i for i, k in enumerate(live) if services[k] == service_s]
                found = insertions(
                    self.instance,
                    vehicle,
                    nodes,
                    node,
                    [theirs[i] for i in alike],
                    service_s=service_s,
                    first_position=fixed,
                )
                for i, options in zip(alike, found, strict=True):
                    if options:
                        best = min(options, key=lambda f: (f.added_travel_s, f.position))
                        answers[live[i]].append(
                            Fit(tech_id, vehicle, node, best, busy, theirs[i][0], service_s)
                        )
        return answers

    def _from_where_they_are(
        self,
        windows: list[list[tuple[int, int]]],
        vehicle: int,
        fixed: Sequence[int],
        node: int,
    ) -> list[list[tuple[int, int]]]:
        """``windows`` cut for where the vehicle is at ``at``: the new visit starts no sooner
        than the drive from there (the last fixed stop, or their start) made from ``at``, or
        from the end of a delay holding them up or of a break they are having. Nobody sets
        off for a visit before it is booked: timed from the last stop's departure, a booking
        at 13:23 had the technician leave at 13:15 to be at the door at 13:19 (and one at
        12:35, at lunch until 13:00, leave at 12:40)."""
        instance = self.instance
        resting = [
            rule.earliest_start_s + rule.duration_s
            for rule in instance.vehicles[vehicle].breaks
            if rule.latest_start_s < self.at_s < rule.earliest_start_s + rule.duration_s
        ]
        free = max(self.at_s, self.holds_s.get(vehicle, self.at_s), *resting)
        here = (
            int(instance.node_location[fixed[-1]])
            if fixed
            else instance.vehicles[vehicle].start_location
        )
        soonest = free + int(instance.travel_s[here, int(instance.node_location[node])])
        if vehicle in self.from_call_s:  # their last stop is a depot call made: from there
            leg = self.from_call_s[vehicle]
            soonest = max(free, leg.left_s) + leg.drive_s
        return [
            [(max(low, soonest), high) for low, high in w if max(low, soonest) <= high]
            for w in windows
        ]

    def timed(self, fit: Fit) -> RouteSolution:
        """The route of ``fit``'s technician with the new visit in its place, timed by the
        solver's own model: the times a plan booked with it shows (``SolverError`` when the
        model refuses it)."""
        nodes, _ = self.routes.get(fit.vehicle, ([], 0))
        return schedule_insertion(
            self.instance,
            fit.vehicle,
            nodes,
            fit.node,
            fit.insertion.position,
            fit.window_s,
            service_s=fit.service_s,
        )

    def service_start(self, fit: Fit) -> datetime:
        """When the new visit's work starts in the plan that books ``fit``: its cumul in
        ``timed``, plus the band's near edge for an appointment held from its door time (the
        near edge is in the compiled visit's door buffer, or, asked as an appointment of a
        visit without one, in ``fit.service_s``; none on arrival), as
        ``dispatch.planning.decode`` reads it."""
        route = self.timed(fit)
        cumul = route.cumul_s[fit.insertion.position]
        asked = fit.service_s - int(self.instance.service_s[fit.node])
        buffer = asked + int(self.id_map.door_buffer_s[fit.node])
        return moment_after(self.id_map.origin, cumul + buffer)

    def _busy_s(self, vehicle: int, nodes: list[int]) -> int:
        """Service already on the route, in seconds (how full the day is): the work, without
        an appointment's minutes at the door before it (in its node's service, they made four
        30-minute appointments 2 h 20 min of work)."""
        service = self.instance.service_s
        return int(sum(int(service[n]) - int(self.id_map.door_buffer_s[n]) for n in nodes))


def _as_asked(error: InputError, compiled: str) -> InputError:
    """``error`` naming the new visit as the request does (``visit.location``), not by the
    index it was compiled at in the booking day (``visits[19].location``)."""
    return InputError(
        (
            replace(found, path="visit" + found.path[len(compiled) :])
            if found.path == compiled or found.path.startswith(f"{compiled}.")
            else found
            for found in error.errors
        ),
        what=error.what,
    )


def _cheaper(one: Fit, other: Fit) -> bool:
    return (one.insertion.added_travel_s, one.insertion.position) < (
        other.insertion.added_travel_s,
        other.insertion.position,
    )


def _compiled(
    day: Problem, provider: TravelTimeProvider, at: datetime, plan: Plan
) -> tuple[Instance, IdMap]:
    """``day`` compiled for booking its last visit, the new one (``newcomer``) at ``at`` (a
    call for its parts made no sooner), each visit ``plan`` serves through a depot call
    keeping that call's units (``_ways``); its errors named as the request names the visit."""
    try:
        at_s = seconds_after(at, day.midnight)
        return compile_problem(
            day, provider, newcomer=day.visits[-1].id, booked_at_s=at_s, ways=_ways(plan)
        )
    except InputError as error:
        raise _as_asked(error, f"visits[{len(day.visits) - 1}]") from error


def _ways(plan: Plan) -> dict[VisitId, DepotStop]:
    """The visits ``plan`` serves through a call on the way (one with handling time, not a
    morning pick list), with that call. Ranked afresh, one was given the units of its van
    instead, and the units the plan takes at the depot went to a second visit (a booking
    refused by the checker: one unit handed out twice)."""
    return {
        route.stops[call.before].visit_id: call
        for route in plan.routes
        for call in route.depot_stops
        if _on_the_way(call) and call.before < len(route.stops)
    }


def _on_the_way(call: DepotStop) -> bool:
    """Whether ``call`` is made on the way to its stop (it takes handling time), not the
    morning pick list loaded before leaving (which takes none)."""
    return call.departure > call.arrival


class _Unreserved(NamedTuple):
    """Units of a depot call that no visit of the booking day reserves: ``call`` is the
    ``call_index``-th call of ``technician_id``'s route, or the part of it unreserved;
    ``whole`` when the call is made (history, its units in the van) and none of its units is
    reserved."""

    technician_id: TechnicianId
    call_index: int
    call: DepotStop
    whole: bool


def _unreserved(route: Route, k: int, call: DepotStop, made: Sequence[int]) -> _Unreserved:
    """``call`` (the ``k``-th of ``route``'s, or the part of it) unreserved, ``made`` the
    indexes of the route's calls made."""
    return _Unreserved(route.technician_id, k, call, k in made and call == route.depot_stops[k])


def _with_riding(tech: Technician, riding: Sequence[_Unreserved]) -> Technician:
    """``tech`` with the units of their calls in ``riding`` (made, none reserved: in the van)
    added to the van's stock."""
    units = [item for u in riding if u.technician_id == tech.id for item in u.call.taken]
    if not units:
        return tech
    stock = Counter({item.part: item.quantity for item in tech.van_stock})
    for item in units:
        stock[item.part] += item.quantity
    return replace(tech, van_stock=tuple(PartQuantity(p, q) for p, q in sorted(stock.items())))


def _calls_unreserved(
    plan: Plan, day: Problem, instance: Instance, id_map: IdMap, at: datetime
) -> list[_Unreserved]:
    """The depot calls ``plan`` had made by ``at`` that no visit of the compiled ``day``
    reserves units for: the stop after each is not served via that depot (``_way``), or it
    has left the route, or its technician is not on the day, or a later call on the way
    before the same stop at the same depot stands for it (a visit's option reserves one
    call's units: the last, as ``_ways`` reads the plan; the call of a visit cancelled since,
    left before the next stop's own, was read as that one's, and its units sold again); and
    of a morning pick list, what it took beyond what the visits it loaded still reserve. A
    call still to make on the way counts too when its visit is not served through it here."""
    node_of: dict[VisitId, list[int]] = {}
    for n, i in enumerate(id_map.node_visit):
        node_of.setdefault(day.visits[i].id, []).append(n)
    vehicle_of = {tech.id: v for v, tech in enumerate(day.technicians)}
    depot_of = {depot.id: d for d, depot in enumerate(day.depots)}
    lost: list[_Unreserved] = []
    for route in plan.routes:
        vehicle = vehicle_of.get(route.technician_id)
        made = calls_made(route, fixed_prefix(route, at), at)
        nodes = [
            _way(
                instance, id_map, node_of.get(stop.visit_id, []), vehicle, route, j, depot_of, made
            )
            if vehicle is not None
            else None
            for j, stop in enumerate(route.stops)
        ]
        # Calls still to make on the way are the plan's too: one whose visit no option of
        # the day serves through it (a visit a delay made unreachable in the booking's model)
        # still takes its units, and booking sold them again.
        to_make = [
            k
            for k, call in enumerate(route.depot_stops)
            if k not in made and _on_the_way(call) and call.before < len(nodes)
        ]
        last_on_the_way = {
            (route.depot_stops[k].before, route.depot_stops[k].depot_id): k
            for k in sorted((*made, *to_make))
            if _on_the_way(route.depot_stops[k])
        }
        for k in (*made, *to_make):
            call = route.depot_stops[k]
            if _on_the_way(call) and last_on_the_way[(call.before, call.depot_id)] != k:
                lost.append(_unreserved(route, k, call, made))
                continue
            node = nodes[call.before] if call.before < len(nodes) else None
            option = id_map.option(node) if node is not None else None
            depot = depot_of.get(call.depot_id)
            if _on_the_way(call) and (option is None or option.depot != depot):
                lost.append(_unreserved(route, k, call, made))
            elif not _on_the_way(call):
                # A morning pick list: what it took beyond what the visits still loaded by it
                # reserve left with the van (a visit cancelled since sold its units again).
                # It loads for any visit of the route: the first may come from the van.
                options = [id_map.option(n) for n in nodes if n is not None]
                held = Counter[str]()
                for taken in options:
                    if taken is not None and taken.depot == depot and taken.morning:
                        held.update({i.part: i.quantity for i in taken.from_depot})
                if (
                    option is not None
                    and option.depot == depot
                    and not option.morning
                    and (call.before, call.depot_id) not in last_on_the_way
                ):
                    held.update({i.part: i.quantity for i in option.from_depot})
                beyond = Counter({i.part: i.quantity for i in call.taken})
                beyond.subtract(held)
                excess = tuple(PartQuantity(p, q) for p, q in sorted(beyond.items()) if q > 0)
                if excess:
                    lost.append(_unreserved(route, k, replace(call, taken=excess), made))
    return lost


def _last_call(route: Route, made: Sequence[int]) -> DepotStop | None:
    """``route``'s last stop when it is a depot call made (one of ``made``, indexes in
    ``depot_stops``, with no stop after it: made for a visit that has left the route since);
    ``None`` when a stop comes after every call made."""
    trailing = [
        route.depot_stops[k] for k in made if route.depot_stops[k].before >= len(route.stops)
    ]
    return max(trailing, key=lambda call: call.departure, default=None)


def _drive(provider: TravelTimeProvider, start: Site, end: Site, left_s: int) -> FromCall:
    """The drive from ``start`` to ``end`` (seconds rounded up as the day's matrix has them,
    and metres), set off at ``left_s``."""
    durations_s, distances_m = provider.matrix([start, end])
    return FromCall(round_up_travel_s(float(durations_s[0][1])), int(distances_m[0][1]), left_s)


def _calls_kept(
    route: Route,
    nodes: Sequence[int | None],
    id_map: IdMap,
    depot_of: dict[DepotId, int],
    fixed: int,
    at: datetime,
    riding: Collection[int] = (),
) -> bool:
    """Whether every depot call ``route`` had made by ``at`` (``calls_made``, its ``fixed``
    stops the passed ones) is the way the parts of the stop after it come (``nodes``, read by
    ``_way``), or one whose units no visit reserves (``riding``, indexes in ``depot_stops``:
    made for a visit that has left the route since, they ride in the van, the booking's model
    has them as the van's, and the booked plan keeps the call as it was): the booking's model
    knows a call only so."""
    for k in calls_made(route, fixed, at):
        if k in riding:
            continue
        call = route.depot_stops[k]
        depot = depot_of.get(call.depot_id)
        if not _on_the_way(call):
            # A morning pick list loads the parts of any visit of the route, not only the
            # first's (which may come from the van).
            options = [id_map.option(node) for node in nodes if node is not None]
            if any(o is not None and o.morning and o.depot == depot for o in options):
                continue
        node = nodes[call.before] if call.before < len(nodes) else None
        option = id_map.option(node) if node is not None else None
        if option is None or option.depot != depot:
            return False
    return True


def _takes(call: DepotStop, option: Option | None) -> bool:
    """Whether ``call`` took what ``option`` takes at its depot: a morning pick list before the
    first stop loads the parts of later visits too, and a first visit served from the van was
    read as served from it (the van's unit then offered to a booking, and sold twice)."""
    if option is None:
        return True
    taken = Counter({item.part: item.quantity for item in call.taken})
    return all(taken[item.part] >= item.quantity for item in option.from_depot)


def _way(
    instance: Instance,
    id_map: IdMap,
    candidates: Sequence[int],
    vehicle: int,
    route: Route,
    k: int,
    depot_of: dict[DepotId, int],
    made: Sequence[int] = (),
) -> int | None:
    """The node of the ``k``-th stop of ``route``: of its visit's nodes (one per way its spare
    parts can come), the one the plan took: via a depot the route calls at just before it
    (one of the calls ``made``, indexes in ``depot_stops``, only if it took the visit's parts:
    a morning pick list made loads later visits' parts too, and the first may have come from
    the van), else from the van, else loaded in the morning. ``None`` when the plan's way is
    not there (the route is then not read: nothing is inserted into it). A call not made yet
    is the booking's to change: the visit may take its parts there."""
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    calls = [(c, j in made) for j, c in enumerate(route.depot_stops) if c.before == k]

    def allowed(node: int) -> bool:
        vehicles = instance.allowed[node] if instance.allowed else None
        return vehicles is None or vehicle in vehicles

    def rank(node: int) -> int | None:
        option = id_map.option(node)
        depot = None if option is None else option.depot
        morning = option is not None and option.morning
        there = [
            c
            for c, history in calls
            if depot_of.get(c.depot_id) == depot and (not history or _takes(c, option))
        ]
        if depot is not None and there:
            # A morning load takes no handling time; a call on the way does.
            return 0 if any(morning != _on_the_way(c) for c in there) else 1
        # A call before the first stop may be the morning load of later visits only.
        if depot is None and (not calls or k == 0):
            return 2
        if morning and not calls:
            return 3
        return None

    ranked = [(r, node) for node in candidates if allowed(node) and (r := rank(node)) is not None]
    return min(ranked)[1] if ranked else None
