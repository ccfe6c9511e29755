"""Read the solver's answer back into a ``Plan``: times, legs, breaks and reasons.

The solver fixes, per node, the time its service starts (for an appointment, the door time
``T - band_near``) and where each break lies. The arrival is then placed *as late as the plan
allows*: a technician leaves the previous stop just in time, reaching an appointment in its
band ``[T - band_far, T - band_near]`` and a window visit when its service starts, instead of
waiting at the door. Formally, for the leg into node ``j``::

    ready   = departure(prev) + travel + breaks taken in the gap   (earliest possible arrival)
    arrival = max(ready, end of the last break in the gap, service_start(j) - band_far)
              for an appointment, and service_start(j) otherwise

which never exceeds the door time, because the solver kept ``ready`` and the breaks before it.
Under ``policy.appointment_start`` ``on_arrival`` an appointment's service starts on arrival
(its cumul, somewhere in the band): ``arrival = service_start(j)``, as for a window visit, and
the base is left as for one.
Visits the solver dropped get the reason "no room in the day", naming the technicians that were
eligible, unless none of those could serve the visit even alone while one could without its
breaks: then the code is ``window`` and the reason says the work leaves no room for their
break (an appointment held from 15:25 to 16:35 against a lunch to be started between 15:00 and
16:00). Visits screened out before solving keep the reason found then.

Spare parts: a node served via a depot (``dispatch.stock.supply``) becomes a depot call before
its stop, the technician driving there as soon as they leave the stop before (breaks in the
gap taken where the solver put them, a drive going on after a break that begins on the way,
and before the call when one would fall in its handling; taken first where that would not
reach the door in time), calling when the depot is open and the reserved units are in, and
going on to the visit; the call takes the option's parts. A visit with parts that none of its nodes
served is ``no_part`` when it could only be served from vans and every eligible van that held
the part has used it up by the end of its route, ``no_room`` otherwise.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from dispatch.model import (
    BreakSlot,
    DepotStop,
    PartQuantity,
    Plan,
    Problem,
    Route,
    Stop,
    Unassigned,
    UnassignedCode,
    Visit,
    WithoutRoute,
)
from dispatch.planning.calls import taken_on_the_way
from dispatch.planning.compile import IdMap
from dispatch.planning.eligibility import wanted_time
from dispatch.stock.ledger import ledger_of
from dispatch.stock.supply import no_part_reason
from dispatch.units import (
    duration_to_s,
    elapsed,
    format_clock,
    m_as_km,
    moment_after,
    s_to_duration,
    s_to_minutes,
    seconds_after,
)
from solver import BreakRule, Instance, RouteSolution, Solution
from solver.insertion import empty_day_holds, holds_alone
from solver.instance import in_turn

__all__ = ["decode", "without_route"]


def decode(solution: Solution, id_map: IdMap, instance: Instance) -> Plan:
    """Turn ``solution`` of ``instance`` into a ``Plan`` for the problem behind ``id_map``."""
    timed = [_route(route, id_map, instance) for route in solution.routes if route.nodes]
    routes = tuple(route for route, _ in timed if route.stops)
    untimed = {node: reason for _, left in timed for node, reason in left}
    served = {
        id_map.node_visit[node]
        for route in solution.routes
        for node in route.nodes
        if node not in untimed
    }
    # A visit of several nodes (spare parts' options) is dropped once, when none is served.
    first_dropped: dict[int, int] = {}
    for node in (*solution.dropped, *untimed):
        if id_map.node_visit[node] not in served:
            first_dropped.setdefault(id_map.node_visit[node], node)
    order = {visit.id: i for i, visit in enumerate(id_map.problem.visits)}
    plan = Plan(routes=routes, unassigned=(), solve_s=solution.elapsed_s)
    boards: dict[str, Any] = {}
    dropped = tuple(
        untimed[node] if node in untimed else _dropped(node, id_map, instance, plan, boards)
        for node in first_dropped.values()
    )
    stranded = without_route(id_map, instance, range(instance.n_vehicles))
    excluded = tuple(
        _as_planned(_pinned_to_the_stranded(item, id_map, stranded), id_map.problem, plan)
        for item in id_map.excluded
    )
    unassigned = tuple(sorted(excluded + dropped, key=lambda u: order[u.visit_id]))
    return Plan(
        routes=routes,
        unassigned=unassigned,
        solve_s=solution.elapsed_s,
        objective=solution.objective,
        without_route=stranded,
    )


def _pinned_to_the_stranded(
    item: Unassigned, id_map: IdMap, stranded: Sequence[WithoutRoute]
) -> Unassigned:
    """A visit screened out as ``pinned`` to a technician who gets no route at all: their
    reason, as the contract says (the screen's own blamed the visit's time, "cannot be reached
    and finished inside … shift", of a technician whose end is not their base)."""
    if item.code is not UnassignedCode.PINNED or not item.candidates:
        return item  # no candidate: the technician lacks the skill or the crew, said as such
    pinned_to = next(v.pinned_to for v in id_map.problem.visits if v.id == item.visit_id)
    found = next((w for w in stranded if w.technician_id == pinned_to), None)
    if found is None:
        return item
    reason = f"pinned to {pinned_to}, who gets no route: they {found.reason}"
    return replace(item, reason=reason, candidates=(found.technician_id,))


def without_route(
    id_map: IdMap, instance: Instance, vehicles: Iterable[int]
) -> tuple[WithoutRoute, ...]:
    """The technicians of ``vehicles`` (in that order) who cannot be given any route: serving
    nobody, they could not get from their start to their end inside their shift with their
    breaks (``solver.insertion.empty_day_holds``), so the solver leaves them idle."""
    found = []
    for vehicle in vehicles:
        if empty_day_holds(instance, vehicle):
            continue
        technician = id_map.technician(vehicle)
        spec = instance.vehicles[vehicle]
        drive_s = int(instance.travel_s[spec.start_location, spec.end_location])
        rest_s = sum(rule.duration_s for rule in spec.breaks)
        start, end = technician.shift.start, technician.working_end
        shift = f"{format_clock(start)}-{format_clock(end, start.date())}"
        reason = (
            f"cannot get from their start to their end inside their shift ({shift}) even serving "
            f"no visit: the drive takes {s_to_minutes(drive_s):.0f} min"
        )
        if rest_s:
            reason += f" and their breaks {s_to_minutes(rest_s):.0f} min"
        found.append(WithoutRoute(technician.id, reason))
    return tuple(found)


def _dropped(
    node: int, id_map: IdMap, instance: Instance, plan: Plan, boards: dict[str, Any]
) -> Unassigned:
    """Why the visit of a dropped node is left out: ``no_part`` when only vans could give its
    parts and every eligible one has used them up (see the module docstring), else
    ``_no_room``."""
    visit = id_map.visit(node)
    supply = id_map.supply
    options = supply.options.get(id_map.node_visit[node], ()) if supply else ()
    if not visit.parts or not options or any(o.depot is not None for o in options):
        return _no_room(node, id_map, instance)
    problem = id_map.problem
    if "on_board" not in boards:  # walked once, for the first such visit
        boards["on_board"] = ledger_of(problem, plan).on_board
    board = boards["on_board"]
    holders = {v for option in options for v in option.vehicles}
    for item in visit.parts:
        left = [
            board[tech.id][-1].get(item.part, 0)
            if tech.id in board
            else sum(p.quantity for p in tech.van_stock if p.part == item.part)
            for tech in (problem.technicians[v] for v in sorted(holders))
        ]
        if all(quantity < item.quantity for quantity in left):
            names = tuple(problem.technicians[v].id for v in id_map.candidates[node])
            return no_part_reason(problem, visit, item, names, _taken_by_calls(problem, plan))
    return _no_room(node, id_map, instance)


def _taken_by_calls(problem: Problem, plan: Plan) -> dict[tuple[int, str], int]:
    """The units the plan's depot calls take, by depot index and part."""
    index = {depot.id: d for d, depot in enumerate(problem.depots)}
    taken: dict[tuple[int, str], int] = {}
    for route in plan.routes:
        for call in route.depot_stops:
            for got in call.taken:
                key = (index[call.depot_id], got.part)
                taken[key] = taken.get(key, 0) + got.quantity
    return taken


def _as_planned(item: Unassigned, problem: Problem, plan: Plan) -> Unassigned:
    """A visit screened out ``no_part`` before the solve, its nearest supply read again with
    the units the plan's calls take: the units reserved before the solve to visits it did not
    serve are there after all ('no depot holds one to spare' beside a depot whose second unit
    no call took)."""
    if item.code is not UnassignedCode.NO_PART or item.part is None:
        return item
    visit = next(v for v in problem.visits if v.id == item.visit_id)
    missing = next((p for p in visit.parts if p.part == item.part), None)
    if missing is None:
        return item
    return no_part_reason(problem, visit, missing, item.candidates, _taken_by_calls(problem, plan))


def _no_room(node: int, id_map: IdMap, instance: Instance) -> Unassigned:
    """No room in the eligible technicians' days; or, when none of them could serve the visit
    even as their only one but could without their breaks, ``window``: its work leaves no
    room for their break (``_breaks_in_the_way``); or, for a visit pinned to a technician who
    gets no route at all (``without_route``), ``pinned`` with their reason, as the contract
    says (their breaks had been blamed, as ``window``); a visit pinned to one whose breaks
    keep it out is ``pinned`` too, saying so."""
    visit = id_map.visit(node)
    vehicles = id_map.candidates[node]
    stranded = without_route(id_map, instance, vehicles) if visit.pinned_to else ()
    if stranded:  # pinned to someone with no route at all: their reason, not a break's
        return Unassigned(
            visit.id,
            UnassignedCode.PINNED,
            f"pinned to {visit.pinned_to}, who gets no route: they {stranded[0].reason}",
            (stranded[0].technician_id,),
        )
    names = [id_map.technician(v).id for v in vehicles]
    shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
    if _breaks_in_the_way(instance, node, vehicles):
        if visit.pinned_to:  # what stops the one it is pinned to is said under ``pinned``
            return Unassigned(
                visit.id,
                UnassignedCode.PINNED,
                f"pinned to {visit.pinned_to}, who cannot serve {wanted_time(visit)} without "
                "working through their break: with travel from and back to base, the work "
                "leaves no room for it inside the break's bounds",
                tuple(names),
            )
        return Unassigned(
            visit.id,
            UnassignedCode.WINDOW,
            f"{wanted_time(visit)} cannot be served by any eligible technician ({shown}) "
            "without working through their break: with travel from and back to base, the "
            "work leaves no room for it inside the break's bounds",
            tuple(names),
        )
    return Unassigned(
        visit.id,
        UnassignedCode.NO_ROOM,
        f"no room in the day of the eligible technicians ({shown}): their routes are full "
        "around this visit's time",
        tuple(names),
    )


def _breaks_in_the_way(instance: Instance, node: int, vehicles: Sequence[int]) -> bool:
    """Whether no vehicle of ``vehicles`` could serve ``node`` even alone, and one could
    without its breaks: then the breaks, not the other visits, keep it out."""
    if not vehicles or holds_alone(instance, node, vehicles):
        return False
    unbroken = replace(
        instance, vehicles=tuple(replace(vehicle, breaks=()) for vehicle in instance.vehicles)
    )
    return holds_alone(unbroken, node, vehicles)


def _route(
    route: RouteSolution, id_map: IdMap, instance: Instance
) -> tuple[Route, list[tuple[int, Unassigned]]]:
    """``route`` as the plan shows it, and the nodes it leaves out, each with why: a visit
    whose depot call no placement of the breaks around it lets reach the door when the solver
    has it there (the solver counts a break anywhere between two stops, and its bound of the
    call's end is the depot's opening: ``solver.model._add_stopovers``). Shown anyway, the
    call fell under a lunch or the door was reached sooner than the drive allows; left out,
    the stops after it are reached as soon as before, or sooner."""

    def at(seconds: int) -> datetime:
        return moment_after(id_map.origin, seconds)

    table = id_map.sites
    vehicle = route.vehicle
    travel_s, distance_m = table.travel_s, table.distance_m
    band_far = duration_to_s(id_map.problem.policy.early_band[1])
    held = id_map.problem.policy.appointment_start == "at_time"
    breaks = sorted(route.breaks)
    rules = in_turn(instance.vehicles[vehicle].breaks)
    untimed: list[tuple[int, Unassigned]] = []
    stops: list[Stop] = []
    previous_row = int(table.start_row[vehicle])
    shift_start = seconds_after(id_map.technician(vehicle).shift.start, id_map.origin)
    departure = start_s = _leave_base(route, id_map, shift_start, band_far)
    total_wait = 0
    total_service = 0
    total_travel = 0
    total_distance = 0
    calls: list[DepotStop] = []
    loaded = _morning_load(route, id_map, start_s)
    if loaded is not None:
        calls.append(loaded)
        departure = start_s = min(start_s, seconds_after(loaded.departure, id_map.origin))
    for node, cumul in zip(route.nodes, route.cumul_s, strict=True):
        visit = id_map.visit(node)
        row = int(table.visit_row[id_map.node_visit[node]])
        service_start = cumul + int(id_map.door_buffer_s[node])
        # Breaks between leaving the last place and the door; one under way at departure
        # (taken at the base before the route starts) holds the departure until it ends.
        in_gap = [(s, d) for s, d in breaks if s < cumul and s + d > departure]
        moving = departure
        for start, length in in_gap:
            moving = max(moving, start + length) if start < moving else moving + length
        option = id_map.option(node)
        leg_s, leg_m = int(travel_s[previous_row, row]), int(distance_m[previous_row, row])
        ready = moving + leg_s
        resting = 0  # breaks of the gap taken at the door, after ``ready``: not waiting
        if option is not None and option.depot is not None and not option.morning:
            depot = id_map.problem.depots[option.depot]
            depot_row = int(table.depot_row[option.depot])
            to_s, to_m = (
                int(travel_s[previous_row, depot_row]),
                int(distance_m[previous_row, depot_row]),
            )
            handling = duration_to_s(depot.handling)
            leg_s, leg_m = int(travel_s[depot_row, row]), int(distance_m[depot_row, row])
            # The breaks where the solver put them, the drives around them; where that does
            # not reach the door in time, placed again around the call (the solver counts a
            # break anywhere between the stops, even where the call is made), else the visit
            # is left out (``untimed``).
            reached, left = _call_times(departure, to_s, handling, option.ready_s, in_gap)
            ready = _driven(left, leg_s, in_gap)
            around = None
            if ready > cumul and len(rules) == len(breaks):
                gap_rules = [rules[breaks.index(b)] for b in in_gap]
                timing = (departure, to_s, handling, option.ready_s, leg_s)
                around = _around_the_call(timing, gap_rules, cumul)
            if around is not None:
                placed, reached, ready = around
                left = reached + handling
                breaks = sorted([b for b in breaks if b not in in_gap] + placed)
                in_gap = placed
            elif ready > cumul:
                tech_id = id_map.technician(vehicle).id
                reason = (
                    f"{tech_id} cannot make the call at depot {depot.id} its parts need and "
                    "reach it in time around their breaks, as the plan has them"
                )
                untimed.append((node, Unassigned(visit.id, UnassignedCode.NO_ROOM, reason)))
                continue
            # Counted after the drive on, as every break of the gap is without a call: a
            # lunch taken at the door after the call was a stop's wait only behind a call.
            resting = sum(length for begins, length in in_gap if begins >= ready)
            calls.append(
                DepotStop(
                    depot_id=depot.id,
                    before=len(stops),
                    arrival=at(reached),
                    departure=at(left),
                    travel=s_to_duration(to_s),
                    distance_km=m_as_km(to_m),
                    taken=option.from_depot,
                )
            )
            total_travel += to_s
            total_distance += to_m
        if visit.appointment is not None and held:
            last_break_end = max((s + d for s, d in in_gap), default=ready)
            arrival = max(ready, last_break_end, service_start - band_far, id_map.not_before_s)
        else:
            arrival = cumul
        duration = duration_to_s(visit.duration)
        stops.append(
            Stop(
                visit_id=visit.id,
                arrival=at(arrival),
                service_start=at(service_start),
                departure=at(service_start + duration),
                travel=s_to_duration(leg_s),
                distance_km=m_as_km(leg_m),
                early=_early(visit, at(arrival)),
                late=_late(visit, at(arrival)),
                wait=s_to_duration(service_start - ready - resting),
            )
        )
        total_wait += service_start - ready - resting
        total_service += duration
        total_travel += leg_s
        total_distance += leg_m
        departure = service_start + duration
        previous_row = row
    end_row = int(table.end_row[vehicle])
    total_travel += int(travel_s[previous_row, end_row])
    total_distance += int(distance_m[previous_row, end_row])
    return Route(
        technician_id=id_map.technician(vehicle).id,
        start_time=at(start_s),
        end_time=at(route.end_s),
        stops=tuple(stops),
        breaks=tuple(BreakSlot(at(s), at(s + d)) for s, d in breaks),
        distance_km=m_as_km(total_distance),
        travel=s_to_duration(total_travel),
        service=s_to_duration(total_service),
        wait=s_to_duration(total_wait),
        depot_stops=tuple(calls),
    ), untimed


def _driven(start: int, drive_s: int, breaks: Sequence[tuple[int, int]]) -> int:
    """When a drive of ``drive_s`` begun at ``start`` ends, each break ``(start, length)``
    that begins on the way taken where it lies (one under way at ``start`` first)."""
    moment, left = start, drive_s
    for begins, length in sorted(breaks):
        if begins + length <= moment:
            continue
        if begins >= moment + left:
            break
        left -= max(0, begins - moment)
        moment = max(moment, begins) + length
    return moment + left


def _around_the_call(
    timing: tuple[int, int, int, int, int], rules: Sequence[BreakRule], door_s: int
) -> tuple[list[tuple[int, int]], int, int] | None:
    """The breaks ``rules`` of a gap with a depot call in it, each taken before the call or
    after it, as early as its bounds allow, so that the door is reached by ``door_s``: as
    ``(breaks, call begins, door reached)``, the soonest door of every such placement, or
    ``None`` when none reaches it. ``timing`` is ``(departure, drive to the depot, handling,
    the call's earliest start, drive on)``."""
    departure, to_s, handling, ready_s, leg_s = timing
    best: tuple[list[tuple[int, int]], int, int] | None = None
    for after in itertools.product((False, True), repeat=len(rules)):
        before = [rule for rule, late in zip(rules, after, strict=True) if not late]
        on = [rule for rule, late in zip(rules, after, strict=True) if late]
        there = taken_on_the_way(departure, to_s, before)
        if there is None:
            continue
        at_depot, placed = there
        reached = max(at_depot, ready_s)
        there = taken_on_the_way(reached + handling, leg_s, on)
        if there is None:
            continue
        door, placed_on = there
        if door <= door_s and (best is None or door < best[2]):
            best = (placed + placed_on, reached, door)
    return best


def _call_times(
    departure: int, to_s: int, handling: int, ready_s: int, breaks: Sequence[tuple[int, int]]
) -> tuple[int, int]:
    """When a depot call begins and ends: reached by a drive of ``to_s`` from ``departure``
    (``_driven``), not before the parts are in (``ready_s``), and after a break that would
    fall in its ``handling``."""
    reached = max(_driven(departure, to_s, breaks), ready_s)
    for begins, length in sorted(breaks):
        if begins < reached + handling and begins + length > reached:
            reached = begins + length
    return reached, reached + handling


def _morning_load(route: RouteSolution, id_map: IdMap, start_s: int) -> DepotStop | None:
    """The load before leaving of a route serving nodes loaded in the morning: one call at the
    depot the technician starts from, when they leave (at the shift start if the depot closes
    before they leave), taking what those nodes use; ``None`` when there are none."""
    options = [
        option
        for node in route.nodes
        if (option := id_map.option(node)) is not None and option.morning
    ]
    if not options:
        return None
    depot_index = options[0].depot
    assert depot_index is not None
    depot = id_map.problem.depots[depot_index]
    taken: dict[str, int] = {}
    for option in options:
        for item in option.from_depot:
            taken[item.part] = taken.get(item.part, 0) + item.quantity
    closes = seconds_after(depot.opening.end, id_map.origin)
    shift_start = seconds_after(id_map.technician(route.vehicle).shift.start, id_map.origin)
    moment = moment_after(id_map.origin, start_s if start_s <= closes else shift_start)
    return DepotStop(
        depot_id=depot.id,
        before=0,
        arrival=moment,
        departure=moment,
        travel=timedelta(0),
        distance_km=0.0,
        taken=tuple(PartQuantity(part, quantity) for part, quantity in taken.items()),
    )


def _leave_base(route: RouteSolution, id_map: IdMap, shift_start: int, band_far: int) -> int:
    """When to leave the base: early enough to reach a first appointment ``band_far`` ahead.

    The solver leaves as late as the route allows, which puts a first appointment at the band's
    near edge; leaving earlier (never before the shift) gives the whole band as a margin. An
    appointment served on arrival (``policy.appointment_start``) starts when it is reached: the
    base is left as the solver leaves it, as for a window visit.
    """
    node = route.nodes[0]
    option = id_map.option(node)
    if (
        id_map.visit(node).appointment is None
        or id_map.problem.policy.appointment_start == "on_arrival"
        or (option is not None and option.depot is not None)
    ):
        return route.start_s
    first_breaks = [d for s, d in route.breaks if route.start_s <= s < route.cumul_s[0]]
    door = route.cumul_s[0]
    service_start = door + int(id_map.door_buffer_s[node])
    target = service_start - band_far
    row = int(id_map.sites.visit_row[id_map.node_visit[node]])
    leg = int(id_map.sites.travel_s[int(id_map.sites.start_row[route.vehicle]), row])
    ready = route.start_s + leg + sum(first_breaks)
    leave = max(shift_start, route.start_s - max(0, ready - target))
    # Never leave in the middle of a break taken at the base.
    return max([leave, *(s + d for s, d in route.breaks if s < leave < s + d)])


def _early(visit: Visit, arrival: datetime) -> timedelta:
    target = visit.appointment or (visit.window.start if visit.window else None)
    return max(elapsed(arrival, target), timedelta(0)) if target else timedelta(0)


def _late(visit: Visit, arrival: datetime) -> timedelta:
    latest = visit.latest_arrival
    return max(elapsed(latest, arrival), timedelta(0)) if latest else timedelta(0)
