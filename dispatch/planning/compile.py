"""Compile a day into numbers for the solver, and keep the map back (``IdMap``).

This is where the modelling choices of DESIGN.md become arrays:

- time is seconds after the plan's local midnight; travel is rounded up to whole minutes;
- an appointment at ``T`` becomes a node whose cumul is fixed at the *door time*
  ``T - band_near`` (5 min by default) and whose service is ``band_near + duration``: the
  technician is at the door by then, never later, and a break can never fall into those minutes.
  ``decode`` then places the arrival as late as the plan allows inside the band (see there).
  Under ``policy.appointment_start`` ``on_arrival`` the service starts on arrival instead: the
  node's cumul lies anywhere in the band ``[T - band_far, T - band_near]`` and its service is
  the duration alone (``appointment_bounds``);
- a window ``[a, b]`` bounds the service start; an urgent fault's deadline caps it too;
- eligibility (``dispatch.planning.eligibility``) gives each node its allowed vehicles; visits
  nobody may serve do not become nodes at all;
- spare parts (``dispatch.stock.supply``, where the modelling is written down): a visit needing
  parts becomes one node per way its parts can come (from the van, or via a depot call folded
  into the way there, at a location of its own, one twin per time its technicians can be at the
  door after the call with their breaks: ``calls``), alternatives of one group; the parts vans hold
  too little of become commodities the routes carry. A day without parts compiles exactly as it
  did (no group, no commodity, no extra location);
- drop penalties grow with priority (x4 a step) from a base above the travel and preference
  costs of any whole plan (and, on a horizon, the balance one visit can add), so the solver
  leaves a visit out only when it does not fit: no saving of kilometres is worth a visit (the
  base used to be twice the longest leg, and on the 250-visit day the search left out a low
  visit it had placed, to save more than that).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from dataclasses import field as dataclass_field
from datetime import datetime, time, timedelta

import numpy as np
from numpy.typing import NDArray

from dispatch.errors import FieldError, InputError
from dispatch.model import (
    Depot,
    DepotStop,
    OnTheWay,
    Policy,
    Priority,
    Problem,
    Site,
    Technician,
    TechnicianId,
    Unassigned,
    UnassignedCode,
    Visit,
    VisitId,
)
from dispatch.planning.calls import by_door
from dispatch.planning.eligibility import TimeBounds, screen_visits, wanted_time
from dispatch.stock.supply import Option, Supply, Way, plan_supply
from dispatch.travel import NoRoadError, SnapError, TravelTimeProvider, provider_for
from dispatch.units import (
    QUANTITY_SCALE,
    SECONDS_PER_MINUTE,
    after,
    duration_to_s,
    quantity_units,
    seconds_after,
    shifted,
)
from solver import BreakRule, Instance, Vehicle

__all__ = [
    "BALANCE_COST",
    "BALANCE_SLACK",
    "DUE_WEIGHT",
    "PRIORITY_WEIGHT",
    "PROMISED_WEIGHT",
    "QUANTITY_SCALE",
    "IdMap",
    "Keep",
    "SiteTable",
    "appointment_bounds",
    "build_sites",
    "compile_problem",
]

#: Drop penalty of each priority, in units above the cost of any whole plan. A high visit is
#: worth three normal ones and a normal one three low ones and a bit, as service desks count
#: them (issue 18 scores plans urgent 100, high 30, normal 10, low 3); an urgent fault, which
#: must be reached within its response time, is worth sixteen high visits, not three: it is
#: never given up for a few others.
PRIORITY_WEIGHT = {Priority.LOW: 3, Priority.NORMAL: 10, Priority.HIGH: 30, Priority.URGENT: 480}

#: A re-plan adds this to the priority weight of each visit the previous version had placed:
#: a promised low visit (3 + 30) then outweighs any visit of high priority (30) that had no
#: place, so a re-plan calls off a promise for an urgent breakdown only, not to place a visit
#: the previous version had left out.
PROMISED_WEIGHT = PRIORITY_WEIGHT[Priority.HIGH]

#: A horizon adds this to the priority weight of each visit whose promise ends inside it: a
#: normal visit due this week (10 + 30) outranks a high one (30) that could wait for the next.
DUE_WEIGHT = PRIORITY_WEIGHT[Priority.HIGH]

#: A horizon's working day may be busy (service and travel) up to this multiple of the service
#: the visits ask for, spread over every shift in proportion to its length, before each second
#: more costs ``BALANCE_COST`` seconds of travel: the days fill evenly, not the first ones first.
BALANCE_SLACK = 1.3
BALANCE_COST = 1


@dataclass(frozen=True, slots=True)
class SiteTable:
    """Deduplicated sites and the matrices between them; rows of technicians and visits."""

    sites: tuple[Site, ...]
    travel_s: NDArray[np.int64]
    distance_m: NDArray[np.int64]
    visit_row: NDArray[np.int64]
    start_row: NDArray[np.int64]
    end_row: NDArray[np.int64]
    base_row: NDArray[np.int64]
    #: Rows of the depots (spare parts), after every other row; empty without depots.
    depot_row: NDArray[np.int64] = dataclass_field(
        default_factory=lambda: np.zeros(0, dtype=np.int64)
    )


@dataclass(frozen=True, slots=True)
class Keep:
    """What a re-plan tries to keep (all soft): each visit's technician and promised time.

    ``technician`` maps a visit to the technician it had; moving it costs ``reassign_s`` of
    travel, and leaving it out costs ``PROMISED_WEIGHT`` more (see there).
    ``promised_s`` maps a visit to the service start it had, in solver seconds; each
    second beyond ``tolerance_s`` either way costs ``move_cost`` seconds of travel.
    ``not_before_s``: nothing is planned before this moment (the re-plan's clock time).
    """

    technician: dict[VisitId, TechnicianId]
    promised_s: dict[VisitId, int]
    reassign_s: int
    tolerance_s: int
    move_cost: int
    not_before_s: int


@dataclass(frozen=True, slots=True)
class IdMap:
    """What ``decode`` needs to turn solver numbers back into a plan."""

    problem: Problem
    origin: datetime
    sites: SiteTable
    node_visit: tuple[int, ...]
    door_buffer_s: NDArray[np.int64]
    excluded: tuple[Unassigned, ...]
    candidates: tuple[tuple[int, ...], ...]
    not_before_s: int = 0
    #: Spare parts: per node, the way its parts come (``None``: no parts, or none of a depot).
    node_option: tuple[Option | None, ...] = ()
    #: Spare parts: the day's options and scarce parts (``None`` for a day without parts).
    supply: Supply | None = None

    def option(self, node: int) -> Option | None:
        """How the parts of a node's visit come (``None`` when it needs none from a depot)."""
        return self.node_option[node] if self.node_option else None

    def visit(self, node: int) -> Visit:
        """The visit of a solver node."""
        return self.problem.visits[self.node_visit[node]]

    def technician(self, vehicle: int) -> Technician:
        """The technician of a solver vehicle."""
        return self.problem.technicians[vehicle]


def _site_key(site: Site) -> tuple[float, ...]:
    if site.matrix_index is not None:
        return (float(site.matrix_index),)
    assert site.location is not None  # validation guarantees one or the other
    return (round(site.location.lat, 7), round(site.location.lon, 7))


def build_sites(problem: Problem, provider: TravelTimeProvider) -> SiteTable:
    """Deduplicate every site of the day and ask ``provider`` for one matrix over them.

    Travel is rounded up to whole minutes (``dispatch.units``).

    Raises
    ------
    InputError
        Sites the road provider could not place on a road (``SnapError``) or join to the
        others (``NoRoadError``), each named by the visit, technician or depot there.
    """
    rows: dict[tuple[float, ...], int] = {}
    unique: list[Site] = []

    def row_of(site: Site) -> int:
        key = _site_key(site)
        if key not in rows:
            rows[key] = len(unique)
            unique.append(site)
        return rows[key]

    start_row = np.array([row_of(t.start) for t in problem.technicians], dtype=np.int64)
    end_row = np.array([row_of(t.end) for t in problem.technicians], dtype=np.int64)
    visit_row = np.array([row_of(v.site) for v in problem.visits], dtype=np.int64)
    base_row = np.array([row_of(t.home) for t in problem.technicians], dtype=np.int64)
    # Depots are sites only on a day whose visits need parts: other days keep their matrix.
    stores = problem.depots if any(visit.parts for visit in problem.visits) else ()
    depot_row = np.array([row_of(d.site) for d in stores], dtype=np.int64)
    toward_row = {
        v: row_of(tech.on_the_way.toward)
        for v, tech in enumerate(problem.technicians)
        if tech.on_the_way is not None
    }
    try:
        durations_s, distances_m = provider.matrix(unique)
    except SnapError as error:
        why = f"m from the nearest road (policy.travel.snap_limit_m is {error.limit_m:g})"
        far = {row: f"{metres:.0f} {why}" for row, metres in error.too_far}
        raise _named(problem, far, visit_row, start_row, end_row, depot_row, stores) from error
    except NoRoadError as error:
        cut = {row: f"the roads do not join it to the others both ways: {pairs} pairs of "
                    "the day's places with it have no route (a one-way road out of the "
                    "extract, an island)"
               for row, pairs in error.cut_off}  # fmt: skip
        raise _named(problem, cut, visit_row, start_row, end_row, depot_row, stores) from error
    minute = SECONDS_PER_MINUTE
    travel_s = (-(-durations_s // minute) * minute).astype(np.int64)
    distance_m = np.asarray(distances_m, dtype=np.int64)
    for v, toward in toward_row.items():
        on_the_way = problem.technicians[v].on_the_way
        assert on_the_way is not None
        travel_s, distance_m = _on_the_road(
            travel_s, distance_m, int(start_row[v]), toward, on_the_way
        )
        unique.append(problem.technicians[v].start)  # drawn from there
        start_row[v] = len(unique) - 1
    return SiteTable(
        tuple(unique), travel_s, distance_m, visit_row, start_row, end_row, base_row, depot_row
    )


def _on_the_road(
    travel_s: NDArray[np.int64],
    distance_m: NDArray[np.int64],
    origin: int,
    toward: int,
    on_the_way: OnTheWay,
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The matrices with one more row and column: a place on the drive from row ``origin``
    toward row ``toward`` (``on_the_way``). From it every row is reached on through
    ``toward`` or back through ``origin``, whichever is sooner; coming to it is coming to
    ``origin`` and driving on (nothing comes back to a place on the road, but the matrix has
    no hole). Its distances are ``origin``'s: a leg's are counted from the place before it."""
    driven_s = duration_to_s(on_the_way.driven)
    n = len(travel_s)
    travel = np.zeros((n + 1, n + 1), dtype=np.int64)
    distance = np.zeros((n + 1, n + 1), dtype=np.int64)
    travel[:n, :n], distance[:n, :n] = travel_s, distance_m
    travel[n, :n] = np.minimum(
        driven_s + travel_s[origin], duration_to_s(on_the_way.ahead) + travel_s[toward]
    )
    travel[:n, n] = travel_s[:, origin] + driven_s
    distance[n, :n], distance[:n, n] = distance_m[origin], distance_m[:, origin]
    return travel, distance


def _named(
    problem: Problem,
    found: Mapping[int, str],
    visit_row: NDArray[np.int64],
    start_row: NDArray[np.int64],
    end_row: NDArray[np.int64],
    depot_row: NDArray[np.int64],
    depots: Sequence[Depot],
) -> InputError:
    """What the road provider ``found`` wrong with some of the day's distinct sites (by row),
    told of the visits, technicians and depots standing there, each named by its field and
    id (a site nobody stands on, which should not be, by its row: never an empty error)."""
    errors = [
        FieldError(f"visits[{i}].location", found[row], visit.id)
        for i, (visit, row) in enumerate(zip(problem.visits, visit_row.tolist(), strict=True))
        if row in found
    ]
    named = set(visit_row.tolist())
    for i, tech in enumerate(problem.technicians):
        start, end = int(start_row[i]), int(end_row[i])
        named |= {start, end}
        if start in found:
            errors.append(FieldError(f"technicians[{i}].start", found[start], tech.id))
        if end in found and end != start:
            errors.append(FieldError(f"technicians[{i}].end", found[end], tech.id))
    for d, depot in enumerate(depots):
        row = int(depot_row[d])
        named.add(row)
        if row in found:
            errors.append(FieldError(f"depots[{d}].location", found[row], depot.id))
    errors += [
        FieldError("travel", f"site {row}: {why}") for row, why in found.items() if row not in named
    ]
    return InputError(errors)


def _nights(visit: Visit, origin: datetime, horizon_s: int) -> tuple[tuple[int, int], ...]:
    """The gaps of a visit served in the same hours each day (``daily_window``): from each
    midnight to the opening, and from the closing to the next midnight."""
    if visit.daily_window is None:
        return ()
    opens, closes = visit.daily_window
    gaps: list[tuple[int, int]] = []
    day = origin.date()
    while True:
        midnight = datetime.combine(day, time(0), tzinfo=origin.tzinfo)
        if seconds_after(midnight, origin) > horizon_s:
            return tuple(gaps)
        next_midnight = datetime.combine(day + timedelta(days=1), time(0), tzinfo=origin.tzinfo)
        start_s, end_s = seconds_after(midnight, origin), seconds_after(next_midnight, origin)
        open_s, close_s = (
            seconds_after(midnight + opens, origin),
            seconds_after(midnight + closes, origin),
        )
        if open_s > start_s:
            gaps.append((start_s, open_s - 1))
        if close_s < end_s - 1:
            gaps.append((close_s + 1, end_s - 1))
        day += timedelta(days=1)


def appointment_bounds(
    policy: Policy, appointment_s: int, deadline_s: int | None = None
) -> tuple[int, int, int]:
    """An appointment at ``appointment_s`` as the solver sees it: the earliest and latest cumul
    of its node and its door buffer, the seconds from the cumul to the service start, which its
    service lasts longer by (the module docstring): ``at_time`` the door time twice and the
    band's near edge; ``on_arrival`` the band and nothing.

    An urgent fault's ``deadline_s`` inside the band moves the door time up to it (reached
    by 10:00 for an appointment at 10:08, the technician at the door from 10:00 to 10:08,
    not from 10:03); before the band, no cumul fits (earliest after latest)."""
    near, far = (duration_to_s(edge) for edge in policy.early_band)
    latest = appointment_s - near
    if deadline_s is not None:
        latest = min(latest, deadline_s)
    if policy.appointment_start == "on_arrival":
        return appointment_s - far, latest, 0
    return max(latest, appointment_s - far), latest, appointment_s - latest


def _time_bounds(problem: Problem, visit: Visit, origin: datetime, horizon_s: int) -> TimeBounds:
    service = duration_to_s(visit.duration)
    deadline = None if visit.deadline is None else seconds_after(visit.deadline, origin)
    buffer = 0
    if visit.appointment is not None:
        earliest, latest, buffer = appointment_bounds(
            problem.policy, seconds_after(visit.appointment, origin), deadline
        )
        service += buffer
    elif visit.window is not None:
        earliest = seconds_after(visit.window.start, origin)
        latest = seconds_after(visit.window.end, origin)
    else:
        earliest, latest = 0, horizon_s
    if visit.reported_at is not None:  # nobody knows of a fault before it is reported
        earliest = max(earliest, seconds_after(visit.reported_at, origin))
    if deadline is not None:
        latest = min(latest, deadline)
    return TimeBounds(
        earliest, latest, service, _nights(visit, origin, horizon_s), door_buffer_s=buffer
    )


def _quantities(problem: Problem, nodes: Sequence[int]) -> list[str]:
    """The capacity quantities that matter: demanded by a node and limited on some van."""
    used = []
    for name in QUANTITY_SCALE:
        demanded = any(getattr(problem.visits[i].demand, name) > 0 for i in nodes)
        limited = any(getattr(t.capacity, name) is not None for t in problem.technicians)
        if demanded and limited:
            used.append(name)
    return used


def _weight(visit: Visit, keep: Keep | None, due: frozenset[VisitId] | None) -> int:
    """What leaving ``visit`` out weighs: its priority's, and more for a re-plan's promise
    (``keep``) or a horizon's promise ending inside it (``due``)."""
    return (
        PRIORITY_WEIGHT[visit.priority]
        + (PROMISED_WEIGHT if keep and visit.id in keep.technician else 0)
        + (DUE_WEIGHT if due and visit.id in due else 0)
    )


def compile_problem(
    problem: Problem,
    provider: TravelTimeProvider | None = None,
    keep: Keep | None = None,
    due: frozenset[VisitId] | None = None,
    balance: bool = False,
    newcomer: VisitId | None = None,
    booked_at_s: int = 0,
    ways: Mapping[VisitId, DepotStop] | None = None,
) -> tuple[Instance, IdMap]:
    """Turn ``problem`` into a solver ``Instance`` and the ``IdMap`` that reads its answer.

    With ``keep`` (re-planning), each visit prefers the technician it had over its customer's
    preferred one, and its promised time becomes a soft interval. ``due`` (a horizon) names
    the visits whose promise ends inside it: they weigh ``DUE_WEIGHT`` more. A person may
    appear once per working day (a horizon): their days form one vehicle group, so a visit's
    preferred technician is preferred on any of them. ``balance`` (a horizon) spreads the work:
    each second a working day is busier than the fleet's average share (``BALANCE_SLACK`` over
    it) costs ``BALANCE_COST`` seconds of travel. ``newcomer`` (a booking) names the visit
    booked into the plan the others come from: spare parts go to it after them, and a call
    for them is made no sooner than the booking's clock time ``booked_at_s``; ``ways`` names
    the visits the plan serves through a depot call, with that call: they keep the units it
    takes (``dispatch.stock.plan_supply``).
    """
    table = build_sites(problem, provider or provider_for(problem))
    origin = problem.midnight
    horizon_s = max((seconds_after(t.working_end, origin) for t in problem.technicians), default=0)
    bounds = [_time_bounds(problem, visit, origin, horizon_s) for visit in problem.visits]
    screenings = screen_visits(
        problem,
        bounds,
        table.travel_s,
        table.distance_m,
        table.visit_row,
        table.start_row,
        table.end_row,
        table.base_row,
    )
    nodes = [i for i, s in enumerate(screenings) if s.unassigned is None]
    excluded = tuple(s.unassigned for s in screenings if s.unassigned is not None)
    breaks = [_break_rules(tech, origin) for tech in problem.technicians]
    supply: Supply | None = None
    options: list[Option | None] = [None] * len(nodes)
    if any(problem.visits[i].parts for i in nodes):
        last = next((i for i, v in enumerate(problem.visits) if v.id == newcomer), None)
        supply = plan_supply(
            problem,
            {i: screenings[i].allowed for i in nodes},
            bounds,
            table.travel_s,
            table.visit_row,
            table.depot_row,
            table.start_row,
            last=last,
            ways=_ways_of(problem, ways or {}),
            weights={i: _weight(problem.visits[i], keep, due) for i in nodes},
        )
        not_before_s = dict.fromkeys(nodes, keep.not_before_s if keep else 0)
        if last is not None:
            not_before_s[last] = max(not_before_s.get(last, 0), booked_at_s)
        nodes, options, unreached = _option_nodes(
            nodes, supply, problem, table, bounds, breaks, not_before_s
        )
        excluded = (*excluded, *supply.left_out.values(), *unreached)
    quantities = _quantities(problem, nodes)

    demand = np.array(
        [
            [quantity_units(getattr(problem.visits[i].demand, q), q, up=True) for q in quantities]
            for i in nodes
        ],
        dtype=np.int64,
    ).reshape(len(nodes), len(quantities))
    unlimited = int(demand.sum()) + 1
    vehicles = tuple(
        Vehicle(
            start_location=int(table.start_row[v]),
            end_location=int(table.end_row[v]),
            shift_start_s=seconds_after(tech.shift.start, origin),
            shift_end_s=seconds_after(tech.working_end, origin),
            capacity=tuple(
                unlimited
                if getattr(tech.capacity, q) is None
                else quantity_units(getattr(tech.capacity, q), q, up=False)
                for q in quantities
            ),
            breaks=breaks[v],
        )
        for v, tech in enumerate(problem.technicians)
    )
    node_rows = table.visit_row[nodes] if nodes else np.zeros(0, dtype=np.int64)
    travel_s, distance_m = table.travel_s, table.distance_m
    if supply is not None:
        travel_s, distance_m, node_rows = _via_depots(problem, table, nodes, options)
    relevant = np.concatenate([node_rows, table.start_row, table.end_row])
    largest_leg = int(travel_s[np.ix_(relevant, relevant)].max(initial=0))
    group_of: dict[TechnicianId, int] = {}
    for tech in problem.technicians:
        group_of.setdefault(tech.id, len(group_of))
    bonus = duration_to_s(problem.policy.preferred_technician_bonus)
    preferred_list: list[int] = []
    cost_list: list[int] = []
    for i in nodes:
        visit = problem.visits[i]
        kept = keep.technician.get(visit.id) if keep else None
        if kept is not None and kept in group_of:
            preferred_list.append(group_of[kept])
            cost_list.append(keep.reassign_s if keep else 0)
        elif visit.preferred is not None and visit.preferred in group_of:
            preferred_list.append(group_of[visit.preferred])
            cost_list.append(bonus)
        else:
            preferred_list.append(-1)
            cost_list.append(0)
    preferred = np.array(preferred_list, dtype=np.int64)
    preference_cost = np.array(cost_list, dtype=np.int64)
    soft = np.full((len(nodes), 2), -1, dtype=np.int64)
    if keep is not None:
        for k, i in enumerate(nodes):
            promised = keep.promised_s.get(problem.visits[i].id)
            if promised is not None and problem.visits[i].appointment is None:
                soft[k] = (max(0, promised - keep.tolerance_s), promised + keep.tolerance_s)
    # Every node and every route end is reached by one leg at most ``largest_leg`` long.
    most_travel = largest_leg * (len(nodes) + len(vehicles))
    base_penalty = most_travel + int(preference_cost.sum()) + 1
    busy_target = np.zeros(0, dtype=np.int64)
    if balance and vehicles:
        shifts = np.array([v.shift_end_s - v.shift_start_s for v in vehicles], dtype=np.int64)
        work = sum(bounds[i].service_s for i in dict.fromkeys(nodes))
        share = min(1.0, BALANCE_SLACK * work / max(1, int(shifts.sum())))
        busy_target = (shifts * share).astype(np.int64)
        # Above what serving a visit can add to the balance too: its detour and its work. Below
        # it, a week's one visit at its technician's base (no travel, a penalty of 10) was left
        # out to save the 210 seconds its day went past its share of the week's work.
        longest = max((bounds[i].service_s for i in nodes), default=0)
        base_penalty += (2 * largest_leg + longest) * BALANCE_COST
    instance = Instance(
        travel_s=travel_s,
        distance_m=distance_m,
        node_location=node_rows.astype(np.int64),
        service_s=np.array([bounds[i].service_s for i in nodes], dtype=np.int64),
        window_s=np.array(
            [
                (bounds[i].earliest_s, bounds[i].latest_s)
                if option is None
                else (option.earliest_s, option.latest_s)
                for i, option in zip(nodes, options, strict=True)
            ],
            dtype=np.int64,
        ).reshape(len(nodes), 2),
        demand=demand,
        penalty=np.array(
            [base_penalty * _weight(problem.visits[i], keep, due) for i in nodes],
            dtype=np.int64,
        ),
        vehicles=vehicles,
        allowed=tuple(
            screenings[i].allowed if option is None else option.vehicles
            for i, option in zip(nodes, options, strict=True)
        ),
        preferred=preferred,
        preference_cost=preference_cost,
        soft_window_s=soft,
        soft_window_cost=keep.move_cost if keep else 0,
        vehicle_group=np.array([group_of[t.id] for t in problem.technicians], dtype=np.int64),
        busy_target_s=busy_target,
        busy_cost=BALANCE_COST if busy_target.size else 0,
        gaps_s=tuple(bounds[i].gaps_s for i in nodes)
        if any(bounds[i].gaps_s for i in nodes)
        else (),
    )
    if supply is not None:
        instance = _with_stock(instance, problem, supply, nodes, options)
        instance = _with_stopovers(instance, problem, table, nodes, options)
    buffers = np.array([bounds[i].door_buffer_s for i in nodes], dtype=np.int64)
    id_map = IdMap(
        problem=problem,
        origin=origin,
        sites=table,
        node_visit=tuple(nodes),
        door_buffer_s=buffers,
        excluded=excluded,
        candidates=tuple(screenings[i].allowed for i in nodes),
        not_before_s=keep.not_before_s if keep else 0,
        node_option=tuple(options) if supply is not None else (),
        supply=supply,
    )
    return instance, id_map


def _ways_of(problem: Problem, ways: Mapping[VisitId, DepotStop]) -> dict[int, Way]:
    """``ways`` by visit and depot index (those of visits and depots the day has)."""
    visit_of = {visit.id: i for i, visit in enumerate(problem.visits)}
    depot_of = {depot.id: d for d, depot in enumerate(problem.depots)}
    return {
        visit_of[visit_id]: Way(
            depot_of[call.depot_id], call.taken, seconds_after(call.departure, problem.midnight)
        )
        for visit_id, call in ways.items()
        if visit_id in visit_of and call.depot_id in depot_of
    }


def _break_rules(tech: Technician, origin: datetime) -> tuple[BreakRule, ...]:
    """``tech``'s breaks in solver seconds; one that cannot end inside the working day is none,
    and so is one whose window is not over when the technician is off (``unavailable_from``),
    as the checker reads it: sent home at 10:43, nobody takes a lunch of 10:12-11:00 (it was
    planned 10:15-10:45, past the end of their day)."""
    gone = tech.unavailable_from
    return tuple(
        BreakRule(
            seconds_after(b.window.start, origin),
            seconds_after(b.window.end, origin) - duration_to_s(b.duration),
            duration_to_s(b.duration),
        )
        for b in tech.breaks
        if shifted(b.window.start, b.duration) <= tech.working_end
        and (gone is None or not after(b.window.end, gone))
    )


def _option_nodes(
    nodes: Sequence[int],
    supply: Supply,
    problem: Problem,
    table: SiteTable,
    bounds: Sequence[TimeBounds],
    breaks: Sequence[Sequence[BreakRule]],
    not_before_s: Mapping[int, int],
) -> tuple[list[int], list[Option | None], list[Unassigned]]:
    """The visit of each node and its parts' option: one node per option of a visit needing
    parts (none when it has none left), a call on the way split by when its technicians can be
    at the door (``calls.by_door``), made no sooner than the visit's ``not_before_s`` (a
    re-plan's or a booking's clock time: a call planned before it is one nobody made), one
    node for a visit needing none; and the visits whose only ways were calls after which no
    technician reaches them in time."""
    visits: list[int] = []
    options: list[Option | None] = []
    unreached: list[Unassigned] = []
    for i in nodes:
        if i in supply.left_out:
            continue
        found: list[Option | None] = []
        for option in supply.options.get(i, (None,)):
            if option is None or option.depot is None or option.morning:
                found.append(option)
                continue
            handling = duration_to_s(problem.depots[option.depot].handling)
            leg = int(table.travel_s[int(table.depot_row[option.depot]), int(table.visit_row[i])])
            floor = not_before_s.get(i, 0)
            if option.ready_s < floor:
                earliest = max(option.earliest_s, floor + handling + leg)
                option = replace(option, ready_s=floor, earliest_s=earliest)
            found.extend(by_door(option, breaks, handling, leg, bounds[i].service_s))
        if not found:
            unreached.append(_unreached(problem, i, supply.options[i]))
        visits.extend(i for _ in found)
        options.extend(found)
    return visits, options, unreached


def _unreached(problem: Problem, i: int, calls: Sequence[Option]) -> Unassigned:
    """Why visit ``i`` is out when every way to it is a call after which its technicians'
    breaks leave no time to reach it (``window``, as a break in the way is)."""
    visit = problem.visits[i]
    names = tuple(
        dict.fromkeys(problem.technicians[v].id for option in calls for v in option.vehicles)
    )
    depots = ", ".join(
        dict.fromkeys(problem.depots[o.depot].id for o in calls if o.depot is not None)
    )
    shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
    return Unassigned(
        visit.id,
        UnassignedCode.WINDOW,
        f"{wanted_time(visit)} cannot be reached by any eligible technician ({shown}) after "
        f"the call at depot {depots} for its parts: their break falls on the drive on",
        names,
    )


def _via_depots(
    problem: Problem,
    table: SiteTable,
    nodes: Sequence[int],
    options: Sequence[Option | None],
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Matrices with one more location per via-depot node, and each node's location.

    The way into such a location from anywhere is the way to the depot, the call (its handling
    time) and the way on to the visit; the way out of it is the way out of the visit.
    """
    rows = table.visit_row[list(nodes)].astype(np.int64) if nodes else np.zeros(0, np.int64)
    via = [
        k
        for k, option in enumerate(options)
        if option is not None and option.depot is not None and not option.morning
    ]
    if not via:
        return table.travel_s, table.distance_m, rows
    size = table.travel_s.shape[0]
    depots = [d for k in via if (d := _depot_of(options[k])) is not None]
    depot = np.array([int(table.depot_row[d]) for d in depots], dtype=np.int64)
    visit = rows[via]
    handling = np.array([duration_to_s(problem.depots[d].handling) for d in depots], dtype=np.int64)
    extended: list[NDArray[np.int64]] = []
    for matrix, extra in ((table.travel_s, handling), (table.distance_m, 0 * handling)):
        into = matrix[:, depot] + (extra + matrix[depot, visit])[None, :]
        out = matrix[visit, :]
        between = matrix[np.ix_(visit, depot)] + (extra + matrix[depot, visit])[None, :]
        top = np.concatenate([matrix, into], axis=1)
        bottom = np.concatenate([out, between], axis=1)
        extended.append(np.concatenate([top, bottom], axis=0).astype(np.int64))
    rows = rows.copy()
    rows[via] = size + np.arange(len(via), dtype=np.int64)
    return extended[0], extended[1], rows


def _depot_of(option: Option | None) -> int | None:
    return None if option is None else option.depot


def _with_stock(
    instance: Instance,
    problem: Problem,
    supply: Supply,
    nodes: Sequence[int],
    options: Sequence[Option | None],
) -> Instance:
    """``instance`` with its alternatives grouped by visit and the scarce parts as
    commodities: each node uses what its option takes from the van."""
    group = np.array(nodes, dtype=np.int64)
    delta = np.zeros((len(nodes), len(supply.scarce)), dtype=np.int64)
    column = {part: k for k, part in enumerate(supply.scarce)}
    for k, (i, option) in enumerate(zip(nodes, options, strict=True)):
        from_van = option.from_van if option is not None else problem.visits[i].parts
        for item in from_van:
            if item.part in column:
                delta[k, column[item.part]] -= item.quantity
    start = np.array(
        [
            [
                next((p.quantity for p in tech.van_stock if p.part == part), 0)
                for part in supply.scarce
            ]
            for tech in problem.technicians
        ],
        dtype=np.int64,
    ).reshape(len(problem.technicians), len(supply.scarce))
    return replace(instance, node_group=group, stock_delta=delta, stock_start=start)


def _with_stopovers(
    instance: Instance,
    problem: Problem,
    table: SiteTable,
    nodes: Sequence[int],
    options: Sequence[Option | None],
) -> Instance:
    """``instance`` with the depot call on the way into each via-depot node as its stopover:
    open from when the call may begin, its handling, and the drive on."""
    stopover = np.full((len(nodes), 3), -1, dtype=np.int64)
    for k, (i, option) in enumerate(zip(nodes, options, strict=True)):
        if option is None or option.depot is None or option.morning:
            continue
        handling = duration_to_s(problem.depots[option.depot].handling)
        leg = int(table.travel_s[int(table.depot_row[option.depot]), int(table.visit_row[i])])
        stopover[k] = (option.ready_s, handling, leg)
    if (stopover < 0).all():
        return instance
    return replace(instance, stopover_s=stopover)
