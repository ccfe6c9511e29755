"""Compile a day into numbers for the solver, and keep the map back (``IdMap``).

This is where the modelling choices of DESIGN.md become arrays:

- time is seconds after the plan's local midnight; travel is rounded up to whole minutes;
- an appointment at ``T`` becomes a node whose cumul is fixed at the *door time*
  ``T - band_near`` (5 min by default) and whose service is ``band_near + duration``: the
  technician is at the door by then, never later, and a break can never fall into those minutes.
  ``decode`` then places the arrival as late as the plan allows inside the band (see there);
- a window ``[a, b]`` bounds the service start; an urgent fault's deadline caps it too;
- eligibility (``dispatch.planning.eligibility``) gives each node its allowed vehicles; visits
  nobody may serve do not become nodes at all;
- drop penalties grow with priority (x4 a step) from a base above the travel and preference
  costs of any whole plan, so the solver leaves a visit out only when it does not fit: no
  saving of kilometres is worth a visit (the base used to be twice the longest leg, and on the
  250-visit day the search left out a low visit it had placed, to save more than that).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta

import numpy as np
from numpy.typing import NDArray

from dispatch.errors import FieldError, InputError
from dispatch.model import (
    Priority,
    Problem,
    Site,
    Technician,
    TechnicianId,
    Unassigned,
    Visit,
    VisitId,
)
from dispatch.planning.eligibility import TimeBounds, screen_visits
from dispatch.travel import SnapError, TravelTimeProvider, provider_for
from dispatch.units import SECONDS_PER_MINUTE, duration_to_s, seconds_after
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
    "build_sites",
    "compile_problem",
]

#: Drop penalty of each priority, in units above the cost of any whole plan.
PRIORITY_WEIGHT = {Priority.LOW: 1, Priority.NORMAL: 4, Priority.HIGH: 16, Priority.URGENT: 256}

#: A re-plan adds this to the priority weight of each visit the previous version had placed:
#: a promised low visit (1 + 16) then outweighs any visit of high priority (16) that had no
#: place, so a re-plan calls off a promise for an urgent breakdown only, not to place a visit
#: the previous version had left out.
PROMISED_WEIGHT = PRIORITY_WEIGHT[Priority.HIGH]

#: A horizon adds this to the priority weight of each visit whose promise ends inside it: a
#: normal visit due this week (4 + 16) outranks a high one (16) that could wait for the next.
DUE_WEIGHT = PRIORITY_WEIGHT[Priority.HIGH]

#: A horizon's working day may be busy (service and travel) up to this multiple of the service
#: the visits ask for, spread over every shift in proportion to its length, before each second
#: more costs ``BALANCE_COST`` seconds of travel: the days fill evenly, not the first ones first.
BALANCE_SLACK = 1.3
BALANCE_COST = 1

#: Integer units of the capacity quantities: 0.1 kg and 1 litre.
QUANTITY_SCALE = {"weight_kg": 10, "volume_m3": 1000}


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
        Sites the road provider could not place on a road (``SnapError``), each named by the
        visit or technician that stands there.
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
    try:
        durations_s, distances_m = provider.matrix(unique)
    except SnapError as error:
        raise _off_the_roads(problem, error, visit_row, start_row, end_row) from error
    minute = SECONDS_PER_MINUTE
    travel_s = (-(-durations_s // minute) * minute).astype(np.int64)
    return SiteTable(tuple(unique), travel_s, distances_m, visit_row, start_row, end_row, base_row)


def _off_the_roads(
    problem: Problem,
    error: SnapError,
    visit_row: NDArray[np.int64],
    start_row: NDArray[np.int64],
    end_row: NDArray[np.int64],
) -> InputError:
    """The ``SnapError`` of a matrix over the day's distinct sites, told of the visits and
    technicians standing on those sites."""
    far = dict(error.too_far)
    why = f"m from the nearest road (policy.travel.snap_limit_m is {error.limit_m:g})"
    found = [
        FieldError(f"visits[{i}].location", f"{far[row]:.0f} {why}", visit.id)
        for i, (visit, row) in enumerate(zip(problem.visits, visit_row.tolist(), strict=True))
        if row in far
    ]
    for i, tech in enumerate(problem.technicians):
        for field, row in (("start", int(start_row[i])), ("end", int(end_row[i]))):
            if row in far and not (field == "end" and row == int(start_row[i])):
                found.append(
                    FieldError(f"technicians[{i}].{field}", f"{far[row]:.0f} {why}", tech.id)
                )
    return InputError(found)


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


def _time_bounds(problem: Problem, visit: Visit, origin: datetime, horizon_s: int) -> TimeBounds:
    service = duration_to_s(visit.duration)
    if visit.appointment is not None:
        buffer = duration_to_s(problem.policy.early_band[0])
        door = seconds_after(visit.appointment, origin) - buffer
        earliest, latest, service = door, door, service + buffer
    elif visit.window is not None:
        earliest = seconds_after(visit.window.start, origin)
        latest = seconds_after(visit.window.end, origin)
    else:
        earliest, latest = 0, horizon_s
    if visit.deadline is not None:
        latest = min(latest, seconds_after(visit.deadline, origin))
    return TimeBounds(earliest, latest, service, _nights(visit, origin, horizon_s))


def _quantities(problem: Problem, nodes: Sequence[int]) -> list[str]:
    """The capacity quantities that matter: demanded by a node and limited on some van."""
    used = []
    for name in QUANTITY_SCALE:
        demanded = any(getattr(problem.visits[i].demand, name) > 0 for i in nodes)
        limited = any(getattr(t.capacity, name) is not None for t in problem.technicians)
        if demanded and limited:
            used.append(name)
    return used


def compile_problem(
    problem: Problem,
    provider: TravelTimeProvider | None = None,
    keep: Keep | None = None,
    due: frozenset[VisitId] | None = None,
    balance: bool = False,
) -> tuple[Instance, IdMap]:
    """Turn ``problem`` into a solver ``Instance`` and the ``IdMap`` that reads its answer.

    With ``keep`` (re-planning), each visit prefers the technician it had over its customer's
    preferred one, and its promised time becomes a soft interval. ``due`` (a horizon) names
    the visits whose promise ends inside it: they weigh ``DUE_WEIGHT`` more. A person may
    appear once per working day (a horizon): their days form one vehicle group, so a visit's
    preferred technician is preferred on any of them. ``balance`` (a horizon) spreads the work:
    each second a working day is busier than the fleet's average share (``BALANCE_SLACK`` over
    it) costs ``BALANCE_COST`` seconds of travel.
    """
    table = build_sites(problem, provider or provider_for(problem))
    origin = problem.midnight
    horizon_s = max(seconds_after(t.working_end, origin) for t in problem.technicians)
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
    quantities = _quantities(problem, nodes)

    demand = np.array(
        [
            [round(getattr(problem.visits[i].demand, q) * QUANTITY_SCALE[q]) for q in quantities]
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
                else round(getattr(tech.capacity, q) * QUANTITY_SCALE[q])
                for q in quantities
            ),
            breaks=tuple(
                BreakRule(
                    seconds_after(b.window.start, origin),
                    seconds_after(b.window.end - b.duration, origin),
                    duration_to_s(b.duration),
                )
                for b in tech.breaks
                if b.window.start + b.duration <= tech.working_end
            ),
        )
        for v, tech in enumerate(problem.technicians)
    )
    node_rows = table.visit_row[nodes] if nodes else np.zeros(0, dtype=np.int64)
    relevant = np.concatenate([node_rows, table.start_row, table.end_row])
    largest_leg = int(table.travel_s[np.ix_(relevant, relevant)].max(initial=0))
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
        work = sum(bounds[i].service_s for i in nodes)
        share = min(1.0, BALANCE_SLACK * work / max(1, int(shifts.sum())))
        busy_target = (shifts * share).astype(np.int64)
    instance = Instance(
        travel_s=table.travel_s,
        distance_m=table.distance_m,
        node_location=node_rows.astype(np.int64),
        service_s=np.array([bounds[i].service_s for i in nodes], dtype=np.int64),
        window_s=np.array(
            [(bounds[i].earliest_s, bounds[i].latest_s) for i in nodes], dtype=np.int64
        ).reshape(len(nodes), 2),
        demand=demand,
        penalty=np.array(
            [
                base_penalty
                * (
                    PRIORITY_WEIGHT[problem.visits[i].priority]
                    + (PROMISED_WEIGHT if keep and problem.visits[i].id in keep.technician else 0)
                    + (DUE_WEIGHT if due and problem.visits[i].id in due else 0)
                )
                for i in nodes
            ],
            dtype=np.int64,
        ),
        vehicles=vehicles,
        allowed=tuple(screenings[i].allowed for i in nodes),
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
    buffers = np.array(
        [
            duration_to_s(problem.policy.early_band[0])
            if problem.visits[i].appointment is not None
            else 0
            for i in nodes
        ],
        dtype=np.int64,
    )
    id_map = IdMap(
        problem=problem,
        origin=origin,
        sites=table,
        node_visit=tuple(nodes),
        door_buffer_s=buffers,
        excluded=excluded,
        candidates=tuple(screenings[i].allowed for i in nodes),
        not_before_s=keep.not_before_s if keep else 0,
    )
    return instance, id_map
