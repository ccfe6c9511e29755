"""Can one more node go into a route, where, and at what cost: insertion feasibility in numbers.

The one answer to "can this visit be inserted at this time into this route without breaking
any promise?" (DESIGN.md, "Horizon, booking, parts"): booking's slots and the booking itself
ask it here. It reads the rules of an ``Instance`` exactly as ``solver.model`` states them:

- a node's cumul is its service start, inside one of its windows (``Instance.windows``: the
  window without its gaps); waiting is free;
- the leg ``i -> j`` needs ``service(i) + travel(i, j)`` between the two cumuls, and every break
  taken in that gap must lie wholly inside it (a break never overlaps a service, and travel
  stops while it lasts); through a stop on the way in (``Instance.stopover_s``), a break is
  taken on the way to the stop, in the wait for it to open, or on the drive on;
- a vehicle leaves no earlier than its shift start and is back by its shift end; each of its
  breaks (``BreakRule``) starts inside its own bounds, in the order of the rules; a break after
  the last service may also be taken once home;
- the loads along the route stay within the vehicle's capacity, and a commodity the vehicle
  carries and uses up (``Instance.stock_delta``, when the instance has any) never goes below
  zero along the route.

Feasibility is decided by timing a route forwards, every service as early as the route allows,
keeping one earliest time per number of breaks already taken: the state of the route after
each node (``forward_states``). Inserting node ``x`` between positions ``p - 1`` and ``p``
starts from the state before ``p``, puts ``x`` in, and times forwards again until the state
equals the route's own (then the rest holds as it did): a few nodes on average, never more than
the route. Nothing here knows ids, clocks or the plan's promises: the caller narrows the windows
of the route's nodes to what was promised before asking.

The times a plan *shows* are not these earliest times but the model's (``schedule``): OR-Tools'
finalizer packs a route whose time dimension has breaks (its cumul optimizer brings the return
as early as it can, then the departure as late as that return allows), so a route that would
wait somewhere (for a break's earliest start, a window's opening) leaves later, and the services
before that wait move later with it: a route that left at 09:00 and waited 3 minutes for its
lunch leaves at 09:03, its first service at 09:17 instead of 09:14. ``schedule_insertion``
therefore times one chosen insertion by the model itself, the one timing of an offered slot and
of the booking that takes it; ``Insertion.service_start_s`` is only the earliest start.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from solver.instance import BreakRule, Instance, in_turn
from solver.result import RouteSolution
from solver.search import schedule

__all__ = [
    "NEVER",
    "Insertion",
    "empty_day_holds",
    "forward_states",
    "holds_alone",
    "insertions",
    "latest_start",
    "route_holds",
    "schedule_insertion",
    "stranded_idle",
]

#: The state of a route that cannot be reached with that many breaks taken.
NEVER = 2**62

#: One earliest cumul per number of breaks taken (``NEVER`` when impossible).
_State = tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Insertion:
    """Node ``node`` inserted into ``vehicle``'s route before its ``position``-th node.

    ``service_start_s`` is the earliest cumul of the node there from which the rest of the route
    holds (the model may serve it later: ``schedule_insertion`` gives the time it does);
    ``added_travel_s`` and ``added_distance_m`` are what the detour adds to the route.
    """

    vehicle: int
    position: int
    service_start_s: int
    added_travel_s: int
    added_distance_m: int


def _take_breaks(
    free_s: int, travel_s: int, rules: Sequence[BreakRule], first: int, last: int
) -> int:
    """The earliest moment a gap starting at ``free_s`` allows the next cumul, taking rules
    ``first .. last - 1`` inside it (each packed as early as its bounds allow), or ``NEVER``."""
    moment = free_s
    rested = 0
    for rule in rules[first:last]:
        moment = max(moment, rule.earliest_start_s)
        if moment > rule.latest_start_s:
            return NEVER
        moment += rule.duration_s
        rested += rule.duration_s
    return max(free_s + travel_s + rested, moment)


def _first_in(windows: Sequence[tuple[int, int]], ready_s: int) -> int:
    """The earliest moment at or after ``ready_s`` inside ``windows``, or ``NEVER``."""
    for low, high in windows:
        if ready_s <= high:
            return max(ready_s, low)
    return NEVER


def _through_stop(
    free_s: int,
    travel_s: int,
    rules: Sequence[BreakRule],
    first: int,
    last: int,
    stopover: tuple[int, int, int],
) -> int:
    """``_take_breaks`` for a gap whose way ends through a stop (``Instance.stopover_s``):
    each break is taken on the way to the stop, in the wait for it, or on the drive on."""
    opens, stop, on = stopover
    best = NEVER
    for middle in range(first, last + 1):
        reached = _take_breaks(free_s, travel_s - stop - on, rules, first, middle)
        if reached >= NEVER:
            break  # more breaks before the stop cannot be taken either
        best = min(best, _take_breaks(max(reached, opens) + stop, on, rules, middle, last))
    return best


def _leg(
    state: _State,
    service_s: int,
    travel_s: int,
    windows: Sequence[tuple[int, int]],
    rules: Sequence[BreakRule],
    stopover: tuple[int, int, int] | None = None,
) -> _State:
    """The state after a leg into a node with ``windows`` (and ``stopover`` on its way in, if
    any) from a node left in ``state``."""
    n_breaks = len(rules)
    found = [NEVER] * (n_breaks + 1)
    for taken, cumul in enumerate(state):
        if cumul >= NEVER:
            continue
        free = cumul + service_s
        for after in range(taken, n_breaks + 1):
            ready = (
                _take_breaks(free, travel_s, rules, taken, after)
                if stopover is None
                else _through_stop(free, travel_s, rules, taken, after, stopover)
            )
            if ready >= NEVER:
                break  # a later break cannot be taken either: the earlier one is missed
            start = _first_in(windows, ready)
            if start < found[after]:
                found[after] = start
    return tuple(found)


def _home(state: _State, service_s: int, travel_s: int, rules: Sequence[BreakRule]) -> int:
    """The earliest return to the end of the route from the last node left in ``state``, every
    break taken (in the last gap, or once home); ``NEVER`` when none fits."""
    n_breaks = len(rules)
    best = NEVER
    for taken, cumul in enumerate(state):
        if cumul >= NEVER:
            continue
        free = cumul + service_s
        in_gap = _take_breaks(free, travel_s, rules, taken, n_breaks)
        best = min(best, in_gap)
        at_home = free + travel_s
        if _take_breaks(at_home, 0, rules, taken, n_breaks) < NEVER:
            best = min(best, at_home)
    return best


@dataclass(frozen=True, slots=True)
class _Route:
    """What timing one vehicle's route needs, read once from the instance."""

    locations: list[int]
    services: list[int]
    windows: list[list[tuple[int, int]]]
    travel: np.ndarray
    distance: np.ndarray
    start: int
    end: int
    shift: tuple[int, int]
    rules: tuple[BreakRule, ...]
    stopovers: list[tuple[int, int, int] | None]


def _stopover(instance: Instance, node: int) -> tuple[int, int, int] | None:
    """The stop on the way into ``node`` (``Instance.stopover_s``), or ``None``."""
    if not instance.stopover_s.size or int(instance.stopover_s[node, 0]) < 0:
        return None
    opens, stop, on = (int(x) for x in instance.stopover_s[node])
    return opens, stop, on


def _read(instance: Instance, vehicle: int, route: Sequence[int]) -> _Route:
    spec = instance.vehicles[vehicle]
    return _Route(
        stopovers=[_stopover(instance, n) for n in route],
        locations=[int(instance.node_location[n]) for n in route],
        services=[int(instance.service_s[n]) for n in route],
        windows=[instance.windows(n) for n in route],
        travel=instance.travel_s,
        distance=instance.distance_m,
        start=spec.start_location,
        end=spec.end_location,
        shift=(spec.shift_start_s, spec.shift_end_s),
        rules=in_turn(spec.breaks),
    )


def _start_state(data: _Route) -> _State:
    """Leaving the start: at the shift's start, no break taken (service 0, travel 0)."""
    return (data.shift[0],) + (NEVER,) * len(data.rules)


def forward_states(instance: Instance, vehicle: int, route: Sequence[int]) -> list[_State]:
    """The state of ``vehicle``'s ``route`` before its first node and after each node:
    ``len(route) + 1`` tuples, one earliest cumul per number of breaks taken (``NEVER`` when
    that count cannot be). The first is the departure from the start."""
    data = _read(instance, vehicle, route)
    return _forward(data)


def _forward(data: _Route) -> list[_State]:
    states = [_start_state(data)]
    previous_location, previous_service = data.start, 0
    for k, location in enumerate(data.locations):
        travel = int(data.travel[previous_location, location])
        states.append(
            _leg(
                states[-1],
                previous_service,
                travel,
                data.windows[k],
                data.rules,
                data.stopovers[k],
            )
        )
        previous_location, previous_service = location, data.services[k]
    return states


def _holds(data: _Route, states: list[_State]) -> bool:
    last = data.locations[-1] if data.locations else data.start
    service = data.services[-1] if data.services else 0
    if not data.locations:
        return True  # an empty route: nothing to time
    home = _home(states[-1], service, int(data.travel[last, data.end]), data.rules)
    return home <= data.shift[1]


def route_holds(instance: Instance, vehicle: int, route: Sequence[int]) -> bool:
    """Whether ``route`` (node list, in order) is feasible for ``vehicle`` in time and load."""
    data = _read(instance, vehicle, route)
    if not _fits_load(instance, vehicle, route, None) or not _stock_holds(instance, vehicle, route):
        return False
    states = _forward(data)
    return all(min(s) < NEVER for s in states) and _holds(data, states)


def holds_alone(instance: Instance, node: int, vehicles: Sequence[int] | None = None) -> bool:
    """Whether some vehicle of ``vehicles`` (default: those allowed to serve ``node``) could
    serve ``node`` as the only node of its route (``route_holds``): when none could, no plan
    serves it with them (but for a travel matrix that breaks the triangle inequality)."""
    if vehicles is None:
        vehicles = instance.allowed_vehicles(node)
    return any(route_holds(instance, vehicle, [node]) for vehicle in vehicles)


def within_reach(instance: Instance) -> Instance:
    """``instance`` with no vehicle allowed to serve a node that none of its allowed vehicles
    could serve alone even if travel took no time: no plan serves it, on any travel matrix
    (``holds_alone`` on the travel matrix trusts the triangle inequality, which road matrices
    break: OSRM's by up to 240 s on a day in Helsinki). The searches then leave it out at once
    instead of trying to place it: an appointment whose held work leaves no room for any
    eligible technician's lunch. The same instance when every node is within reach.

    A node alone is the easiest for a route to take only while nothing another node does helps
    it: an instance with a negative demand or a stock a node adds is returned as it is.
    """
    if (instance.demand < 0).any() or (instance.stock_delta > 0).any():
        return instance
    out = [node for node in range(instance.n_nodes) if not holds_alone(instance, node)]
    if out:  # and the same without travel (np.zeros writes no page of its own until read)
        no_travel = replace(instance, travel_s=np.zeros(instance.travel_s.shape, dtype=np.int64))
        out = [node for node in out if not holds_alone(no_travel, node)]
    if not out:
        return instance
    allowed = list(instance.allowed or (None,) * instance.n_nodes)
    for node in out:
        allowed[node] = ()
    return replace(instance, allowed=tuple(allowed))


def empty_day_holds(instance: Instance, vehicle: int) -> bool:
    """Whether ``vehicle`` serving nobody gets from its start to its end inside its shift,
    every break taken on the way or once there, as the model asks of every vehicle, used or
    not (``route_holds`` of an empty route says yes: it has nothing to time)."""
    data = _read(instance, vehicle, ())
    home = _home(_start_state(data), 0, int(data.travel[data.start, data.end]), data.rules)
    return home <= data.shift[1]


def stranded_idle(instance: Instance) -> Instance:
    """``instance`` with every vehicle whose day cannot hold even empty (the drive from its
    start to its end and its breaks outlast its shift: an end far from the start, a shift too
    short for the way) left idle: it may serve no node, and its day is stretched to the bare
    drive, breaks dropped, so that its empty route holds. The model asks every vehicle's
    empty route to hold; one such vehicle left as it is meant no plan at all. No route of it
    could hold anyway while travel keeps the triangle inequality (a node only adds time). The
    same instance when every vehicle's empty day holds.
    """
    stranded = {v for v in range(instance.n_vehicles) if not empty_day_holds(instance, v)}
    if not stranded:
        return instance
    vehicles = list(instance.vehicles)
    for v in stranded:
        vehicle = vehicles[v]
        drive = int(instance.travel_s[vehicle.start_location, vehicle.end_location])
        vehicles[v] = replace(
            vehicle,
            shift_end_s=max(vehicle.shift_end_s, vehicle.shift_start_s + drive),
            breaks=(),
        )
    allowed = tuple(
        tuple(v for v in instance.allowed_vehicles(node) if v not in stranded)
        for node in range(instance.n_nodes)
    )
    return replace(instance, vehicles=tuple(vehicles), allowed=allowed)


def latest_start(
    instance: Instance, vehicle: int, route: Sequence[int], position: int, taken: int
) -> int | None:
    """The latest service start of ``route[position]`` from which ``vehicle``'s route holds in
    time from there on, with the first ``taken`` of its breaks (in order of their bounds)
    already taken before it; ``None`` when no start inside the node's windows does.

    Waiting being free, a later start never makes the rest hold where an earlier one did not:
    the latest start is found by halving inside each window. Loads are not read.
    """
    data = _read(instance, vehicle, route)

    def rest_holds(cumul: int) -> bool:
        state: _State = tuple(cumul if k == taken else NEVER for k in range(len(data.rules) + 1))
        for k in range(position + 1, len(route)):
            travel = int(data.travel[data.locations[k - 1], data.locations[k]])
            state = _leg(
                state,
                data.services[k - 1],
                travel,
                data.windows[k],
                data.rules,
                data.stopovers[k],
            )
            if min(state) >= NEVER:
                return False
        home = _home(
            state, data.services[-1], int(data.travel[data.locations[-1], data.end]), data.rules
        )
        return home <= data.shift[1]

    latest = None
    for low, high in data.windows[position]:
        if not rest_holds(low):
            break  # a later window starts later still
        while low < high:
            middle = (low + high + 1) // 2
            low, high = (middle, high) if rest_holds(middle) else (low, middle - 1)
        latest = low
    return latest


def _fits_load(instance: Instance, vehicle: int, route: Sequence[int], extra: int | None) -> bool:
    if not instance.n_quantities:
        return True
    nodes = list(route) + ([] if extra is None else [extra])
    load = instance.demand[nodes].sum(axis=0) if nodes else np.zeros(instance.n_quantities)
    capacity = np.asarray(instance.vehicles[vehicle].capacity, dtype=np.int64)
    return bool((load <= capacity).all())


def _stock_floor(
    instance: Instance, vehicle: int, route: Sequence[int]
) -> NDArray[np.int64] | None:
    """``(len(route) + 1, K)``: per position, the lowest stock of each commodity on board from
    just before that position to the end of the route (the stock the inserted node's delta
    comes out of); ``None`` when the vehicle carries no commodities."""
    delta: NDArray[np.int64] = getattr(instance, "stock_delta", np.zeros((0, 0), np.int64))
    if delta.ndim != 2 or not delta.shape[1]:
        return None
    start: NDArray[np.int64] = getattr(instance, "stock_start")[vehicle]  # noqa: B009
    levels = np.vstack([start[None, :], start[None, :] + np.cumsum(delta[list(route)], axis=0)])
    return np.minimum.accumulate(levels[::-1], axis=0)[::-1].astype(np.int64)


def _stock_holds(instance: Instance, vehicle: int, route: Sequence[int]) -> bool:
    floor = _stock_floor(instance, vehicle, route)
    return floor is None or bool((floor[0] >= 0).all())


def insertions(
    instance: Instance,
    vehicle: int,
    route: Sequence[int],
    node: int,
    windows: Sequence[Sequence[tuple[int, int]]],
    *,
    service_s: int | None = None,
    first_position: int = 0,
) -> list[list[Insertion]]:
    """Every feasible insertion of ``node`` into ``vehicle``'s ``route``, per asked window.

    Parameters
    ----------
    instance
        The numbers; ``node`` is one of its nodes and is not in ``route``.
    vehicle
        The vehicle whose route it is.
    route
        The route's nodes in visit order; it must hold (``route_holds``), else nothing fits.
    node
        The node to insert.
    windows
        One entry per question: the intervals (inclusive, sorted) the node's service may start
        in (an appointment is one interval of one second).
    service_s
        The node's service time, when it differs from the instance's (an appointment's door
        time adds the band's near edge); default ``instance.service_s[node]``.
    first_position
        Positions before this one are not tried (stops already done or under way).

    Returns
    -------
    list of list of Insertion
        Per entry of ``windows``, the feasible insertions, by position.
    """
    data = _read(instance, vehicle, route)
    answers: list[list[Insertion]] = [[] for _ in windows]
    if not _fits_load(instance, vehicle, route, node):
        return answers
    states = _forward(data)
    if any(min(s) >= NEVER for s in states) or not _holds(data, states):
        return answers
    floor = _stock_floor(instance, vehicle, route)
    if floor is not None and (floor[0] < 0).any():
        return answers
    location = int(instance.node_location[node])
    service = int(instance.service_s[node]) if service_s is None else service_s
    rules = data.rules
    stopover = _stopover(instance, node)
    n = len(route)
    for position in range(max(0, first_position), n + 1):
        if floor is not None:
            used: NDArray[np.int64] = getattr(instance, "stock_delta")[node]  # noqa: B009
            if (floor[position] + used < 0).any():
                continue
        before = data.locations[position - 1] if position else data.start
        before_service = data.services[position - 1] if position else 0
        after = data.locations[position] if position < n else data.end
        into = int(data.travel[before, location])
        out = int(data.travel[location, after])
        added_s = into + out - int(data.travel[before, after])
        added_m = (
            int(data.distance[before, location])
            + int(data.distance[location, after])
            - int(data.distance[before, after])
        )
        for k, asked in enumerate(windows):
            state = _leg(states[position], before_service, into, asked, rules, stopover)
            if min(state) >= NEVER:
                continue
            if _rest_holds(data, states, position, state, service, location):
                earliest = _earliest_kept(data, states, position, state, service, location)
                answers[k].append(Insertion(vehicle, position, earliest, added_s, added_m))
    return answers


def _earliest_kept(
    data: _Route,
    states: list[_State],
    position: int,
    state: _State,
    service: int,
    location: int,
) -> int:
    """The earliest cumul of the inserted node from which the rest of the route still holds:
    an earlier one may have left a break no place after it."""
    finite = sorted((cumul, taken) for taken, cumul in enumerate(state) if cumul < NEVER)
    for cumul, taken in finite[:-1]:
        alone = tuple(cumul if k == taken else NEVER for k in range(len(state)))
        if _rest_holds(data, states, position, alone, service, location):
            return cumul
    return finite[-1][0]


def _rest_holds(
    data: _Route,
    states: list[_State],
    position: int,
    state: _State,
    service: int,
    location: int,
) -> bool:
    """Whether the route's nodes from ``position`` on still fit after the inserted node, left
    in ``state``: timed forwards until the route's own state is reached again."""
    previous_location, previous_service = location, service
    for k in range(position, len(data.locations)):
        travel = int(data.travel[previous_location, data.locations[k]])
        state = _leg(
            state, previous_service, travel, data.windows[k], data.rules, data.stopovers[k]
        )
        if min(state) >= NEVER:
            return False
        if all(new <= old for new, old in zip(state, states[k + 1], strict=True)):
            return True  # as early as before in every count of breaks: the rest holds
        previous_location, previous_service = data.locations[k], data.services[k]
    home = _home(state, previous_service, int(data.travel[previous_location, data.end]), data.rules)
    return home <= data.shift[1]


def schedule_insertion(
    instance: Instance,
    vehicle: int,
    route: Sequence[int],
    node: int,
    position: int,
    window: tuple[int, int],
    *,
    service_s: int | None = None,
) -> RouteSolution:
    """``vehicle``'s ``route`` with ``node`` inserted before its ``position``-th node, timed by
    the solver's own model (``schedule``): the times a plan made of it shows.

    The node's service starts inside ``window`` (for an appointment, one second) and lasts
    ``service_s`` (default the instance's), as asked of ``insertions``. Only this route is
    modelled (``Instance.restricted``): a route's times depend on nothing else.

    Returns
    -------
    RouteSolution
        The route in the numbering of ``instance`` (``vehicle``, its nodes), with its times.

    Raises
    ------
    SolverError
        The model refuses the route.
    """
    nodes = [*route[:position], node, *route[position:]]
    part = instance.restricted(nodes, [vehicle])
    window_s = part.window_s.copy()
    window_s[position] = window
    service = part.service_s.copy()
    if service_s is not None:
        service[position] = service_s
    gaps = tuple(() if k == position else g for k, g in enumerate(part.gaps_s))
    part = replace(part, window_s=window_s, service_s=service, gaps_s=gaps)
    timed = schedule(part, [list(range(len(nodes)))]).routes[0]
    return replace(timed, vehicle=vehicle, nodes=tuple(nodes))
