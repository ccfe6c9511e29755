"""Build the OR-Tools routing model of an ``Instance`` (see DESIGN.md, "Solver modelling notes").

Index spaces: OR-Tools *nodes* are the instance's visit nodes ``0 .. N-1`` followed by one start
and one end node per vehicle; OR-Tools *indices* are what the routing model uses, and we cross
between the two only through the manager. The model:

- arc cost ``time_weight * travel + distance_weight * distance``, from a C++-side matrix
  (``RegisterTransitMatrix``) so no Python runs in the search's inner loop;
- a time dimension whose cumul is the moment a node's service starts; transit ``i -> j`` is
  ``service(i) + travel(i, j)``; slack is waiting; the node's cumul is bounded by its window,
  each vehicle's start and end by its shift (see ``_register_time_transits`` for why its
  transits come from a Python function);
- breaks as fixed-duration intervals per vehicle that never overlap a node's service;
- one capacity dimension per quantity;
- every node optional through a one-node disjunction with its penalty;
- eligibility as the node's allowed vehicle set;
- the arcs between visits that no feasible route can use (``solver.arcs``: no vehicle allowed
  for both, alternatives of one group, a window that closes before the visit can be reached)
  removed from each visit's next-node variable, so the search never tries them;
- a soft preference: a dimension summing, along each route, the ``preference_cost`` of every
  node served by a vehicle outside the group it prefers; its span is the cost;
- a node's window may have gaps (the same hours on each day of a horizon), removed from its
  cumul's domain;
- soft intervals on service starts (promised times in a re-plan), priced per second outside;
- optionally a soft limit on each vehicle's busy time (a horizon's balance between days);
- optionally alternatives (``Instance.node_group``): one disjunction per group, at most one of
  its nodes served, and commodities carried (``Instance.stock_delta``): one dimension per
  commodity whose cumul is the vehicle's stock, fixed at its start to ``stock_start``, changed
  at each node by its delta (a negative transit) and never below zero (the cumul's domain).
  Neither exists in an instance without them: the model is then exactly the one it was.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from ortools.constraint_solver import pywrapcp
from ortools.constraint_solver.routing_parameters_pb2 import RoutingModelParameters
from ortools.constraint_solver.solver_parameters_pb2 import ConstraintSolverParameters

from solver.arcs import possible_arcs
from solver.instance import Instance, in_turn

__all__ = ["TIME", "RoutingHandles", "build_routing_model"]

#: Name of the time dimension.
TIME = "time"
#: Name of the dimension of busy time (service and travel, no waiting), when it is bounded.
BUSY = "busy"


@dataclass(frozen=True, slots=True, weakref_slot=True)
class RoutingHandles:
    """The built model and what decoding needs of it."""

    manager: pywrapcp.RoutingIndexManager
    routing: pywrapcp.RoutingModel
    time: pywrapcp.RoutingDimension
    breaks: tuple[tuple[pywrapcp.IntervalVar, ...], ...]
    horizon_s: int


def _node_arrays(instance: Instance) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Location and service time of every OR-Tools node (visits, then starts, then ends)."""
    starts = np.array([v.start_location for v in instance.vehicles], dtype=np.int64)
    ends = np.array([v.end_location for v in instance.vehicles], dtype=np.int64)
    locations = np.concatenate([instance.node_location, starts, ends])
    service = np.concatenate(
        [instance.service_s, np.zeros(2 * instance.n_vehicles, dtype=np.int64)]
    )
    return locations, service


def _model_parameters() -> RoutingModelParameters:
    """OR-Tools' defaults, but the search's trail (its undo log) is kept uncompressed.

    The default compresses it with zlib, which cost ~4 % of the search (RC2_10_1, 30 s from
    the first solution: 335 k -> 320 k) to save memory these sizes do not need.
    """
    parameters = pywrapcp.DefaultRoutingModelParameters()
    parameters.solver_parameters.compress_trail = ConstraintSolverParameters.NO_COMPRESSION
    return parameters


def _horizon(instance: Instance) -> int:
    latest = [v.shift_end_s for v in instance.vehicles]
    if instance.n_nodes:
        latest.append(int(instance.window_s[:, 1].max()) + int(instance.service_s.max()))
    return max(latest) + 1


def _merged(intervals: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """``intervals`` (inclusive) as the sorted, disjoint intervals covering the same seconds."""
    merged: list[tuple[int, int]] = []
    for low, high in sorted(intervals):
        if merged and low <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return merged


def _domain(
    windows: list[tuple[int, int]],
    gaps: Iterable[tuple[int, int]],
    shifts: list[tuple[int, int]],
    earliest: int,
    latest: int,
) -> tuple[int, int, list[tuple[int, int]]]:
    """The cumul range of a node with gaps and the holes to remove from it: its ``windows``
    (its window without its gaps) where a vehicle that may serve it works (``shifts``,
    merged and sorted). Elsewhere its cumul never is (a route's cumuls lie inside its
    vehicle's shift), and OR-Tools removes an interval value by value: a 28-day horizon's
    visits in at set hours each day took 3 ms a night, 170 s of a 2 s week; one day of it
    now has a range and no hole. Nowhere to serve it: its window and every gap inside a
    shift (the model leaves it out)."""
    served = [
        (max(low, shift_low), min(high, shift_high))
        for low, high in windows
        for shift_low, shift_high in shifts
        if max(low, shift_low) <= min(high, shift_high)
    ]
    if not served:
        return earliest, latest, list(_within(gaps, shifts))
    between = [(low + 1, high - 1) for (_, low), (high, _) in itertools.pairwise(served)]
    return served[0][0], served[-1][1], list(_within(between, shifts))


def _within(
    gaps: Iterable[tuple[int, int]], shifts: list[tuple[int, int]]
) -> Iterator[tuple[int, int]]:
    """The parts of ``gaps`` (disjoint) inside ``shifts`` (merged, sorted)."""
    k = 0
    for gap_low, gap_high in sorted(gaps):
        while k < len(shifts) and shifts[k][1] < gap_low:
            k += 1
        j = k
        while j < len(shifts) and shifts[j][0] <= gap_high:
            yield max(gap_low, shifts[j][0]), min(gap_high, shifts[j][1])
            j += 1


def build_routing_model(instance: Instance, *, pruned: bool = True) -> RoutingHandles:
    """Build the routing model of ``instance``; nothing is solved yet.

    ``pruned`` takes the arcs no feasible route can use out of the model
    (``_remove_impossible_arcs``): a search then never tries them. A model that only times
    given routes (``solver.search.schedule``) is built without: the pruning is exact, so it
    changes no timing, and it took 40-60 % of timing 800- to 2,150-node days' routes.
    """
    instance.check()
    n, n_vehicles = instance.n_nodes, instance.n_vehicles
    starts = [n + v for v in range(n_vehicles)]
    ends = [n + n_vehicles + v for v in range(n_vehicles)]
    manager = pywrapcp.RoutingIndexManager(n + 2 * n_vehicles, n_vehicles, starts, ends)
    routing = pywrapcp.RoutingModel(manager, _model_parameters())
    horizon = _horizon(instance)
    if pruned:
        _remove_impossible_arcs(instance, manager, routing)

    locations, service = _node_arrays(instance)
    # Matrices over OR-Tools *indices*, not nodes: the two orders differ.
    index_to_node = np.array(
        [manager.IndexToNode(i) for i in range(manager.GetNumberOfIndices())], dtype=np.int64
    )
    index_locations = locations[index_to_node]
    index_service = service[index_to_node]
    pick = np.ix_(index_locations, index_locations)
    travel = instance.travel_s[pick]
    cost = travel if instance.time_weight == 1 else instance.time_weight * travel
    if instance.distance_weight:
        cost = cost + instance.distance_weight * instance.distance_m[pick]
    cost_callback = routing.RegisterTransitMatrix(_int_lists(cost))
    routing.SetArcCostEvaluatorOfAllVehicles(cost_callback)

    time_transits = np.ascontiguousarray(travel + index_service[:, None])
    time_callback = _register_time_transits(routing, time_transits)
    routing.AddDimension(time_callback, horizon, horizon, False, TIME)
    time = routing.GetDimensionOrDie(TIME)
    working: dict[tuple[int, ...], list[tuple[int, int]]] = {}  # merged shifts per fleet
    for node in range(n):
        earliest, latest = (int(x) for x in instance.window_s[node])
        holes: list[tuple[int, int]] = []
        if instance.gaps_s and instance.gaps_s[node]:
            fleet = tuple(instance.allowed_vehicles(node))
            if fleet not in working:
                working[fleet] = _merged(
                    (instance.vehicles[v].shift_start_s, instance.vehicles[v].shift_end_s)
                    for v in fleet
                )
            earliest, latest, holes = _domain(
                instance.windows(node), instance.gaps_s[node], working[fleet], earliest, latest
            )
        cumul = time.CumulVar(manager.NodeToIndex(node))
        cumul.SetRange(earliest, latest)
        for hole_low, hole_high in holes:
            cumul.RemoveInterval(hole_low, hole_high)
    for v, vehicle in enumerate(instance.vehicles):
        time.CumulVar(routing.Start(v)).SetRange(vehicle.shift_start_s, vehicle.shift_end_s)
        time.CumulVar(routing.End(v)).SetRange(vehicle.shift_start_s, vehicle.shift_end_s)
        if vehicle.fixed_cost:
            routing.SetFixedCostOfVehicle(vehicle.fixed_cost, v)

    if instance.busy_cost and instance.busy_target_s.size:
        routing.AddDimension(time_callback, 0, horizon, True, BUSY)
        busy = routing.GetDimensionOrDie(BUSY)
        for v, target in enumerate(instance.busy_target_s.tolist()):
            busy.SetCumulVarSoftUpperBound(routing.End(v), int(target), instance.busy_cost)
    breaks = _add_breaks(instance, routing, time, index_service.tolist())
    _add_stopovers(instance, manager, routing, time, breaks)
    _add_capacities(instance, manager, routing)
    _add_optional_nodes(instance, manager, routing)
    _add_stock(instance, routing)
    _add_preferences(instance, manager, routing)
    _add_soft_windows(instance, manager, time)

    # Serve every visit as early as its route allows (slack before each window closes), come
    # back as early as possible, then leave the base as late as those times still allow.
    for node in range(n):
        routing.AddVariableMinimizedByFinalizer(time.CumulVar(manager.NodeToIndex(node)))
    for v in range(n_vehicles):
        routing.AddVariableMinimizedByFinalizer(time.CumulVar(routing.End(v)))
    for v in range(n_vehicles):
        routing.AddVariableMaximizedByFinalizer(time.CumulVar(routing.Start(v)))
    return RoutingHandles(manager, routing, time, breaks, horizon)


def _int_lists(matrix: NDArray[np.int64]) -> list[list[int]]:
    """``matrix`` as the list of lists of Python ints OR-Tools' ``RegisterTransitMatrix`` takes
    (nothing else is accepted), each distinct value one shared int object.

    ``matrix.tolist()`` makes one int object per entry (32 bytes, besides the list's 8): with
    3,000 indices 290 MB more at the peak of the build, for a matrix of travel times in whole
    minutes that holds a few hundred distinct values. Where the values are not small
    non-negative numbers (a table of them would be larger than the matrix), ``tolist`` it is.
    """
    if not matrix.size or matrix.min() < 0 or int(matrix.max()) >= matrix.size:
        return list(matrix.tolist())
    present = np.zeros(int(matrix.max()) + 1, dtype=np.bool_)
    present[matrix.ravel()] = True
    values = np.flatnonzero(present)
    table = np.empty(present.size, dtype=object)
    table[values] = values.tolist()
    return [table[row].tolist() for row in matrix]


def _remove_impossible_arcs(
    instance: Instance, manager: pywrapcp.RoutingIndexManager, routing: pywrapcp.RoutingModel
) -> None:
    """Take every visit no feasible route lets follow a visit out of that visit's next-node
    variable (``solver.arcs.possible_arcs``); the visit's own index (left out) and every
    index that is not a visit's stay.

    Each domain is written the shorter way, as the visits taken out or as what stays: the
    values cross into C++ one Python int each (2,424 visits: 0.35 s one way, less the other).
    """
    n = instance.n_nodes
    if n < 2:
        return
    possible = possible_arcs(instance)
    kept = possible.sum(axis=1)
    visit_index = np.array([manager.NodeToIndex(node) for node in range(n)], dtype=np.int64)
    others = sorted(set(range(routing.Size() + instance.n_vehicles)) - set(visit_index.tolist()))
    for node in np.flatnonzero(kept < n - 1).tolist():
        row = possible[node]
        index = int(visit_index[node])
        if kept[node] + 1 + len(others) < n - 1 - kept[node]:
            routing.NextVar(index).SetValues([*visit_index[row].tolist(), index, *others])
        else:
            ruled_out = ~row
            ruled_out[node] = False
            routing.NextVar(index).RemoveValues(visit_index[ruled_out].tolist())


def _register_time_transits(routing: pywrapcp.RoutingModel, transits: NDArray[np.int64]) -> int:
    """Register the time dimension's transit function (``transits`` over OR-Tools indices).

    OR-Tools copies a dimension's transit function where it reads it (9.15: the time filter's
    ``PathCumulFilter::AcceptPath``, the break constraint's ``FillDimensionValuesFromRouting
    Dimension``), and a function from ``RegisterTransitMatrix`` owns its whole matrix: each
    copy copied (nodes + 2 vehicles)² numbers, 66-78 % of the search time at 800-1,000 nodes,
    and timing 2,424 unassigned visits with breaks took 155 s. The transits are therefore read
    by a Python function through a view of ``transits``, which copies as a reference and costs
    ~0.15 µs per call.
    """
    view = transits.data  # a memoryview: indexing it gives Python ints

    def transit(from_index: int, to_index: int) -> int:
        return int(view[from_index, to_index])

    return int(routing.RegisterTransitCallback(transit))


def _add_breaks(
    instance: Instance,
    routing: pywrapcp.RoutingModel,
    time: pywrapcp.RoutingDimension,
    visit_transits: list[int],
) -> tuple[tuple[pywrapcp.IntervalVar, ...], ...]:
    solver = routing.solver()
    per_vehicle: list[tuple[pywrapcp.IntervalVar, ...]] = []
    for v, vehicle in enumerate(instance.vehicles):
        intervals = tuple(
            solver.FixedDurationIntervalVar(
                rule.earliest_start_s, rule.latest_start_s, rule.duration_s, False, f"break {v}.{k}"
            )
            for k, rule in enumerate(in_turn(vehicle.breaks))
        )
        for earlier, later in itertools.pairwise(intervals):
            # OR-Tools keeps each break off the route's services and travel, not off the
            # vehicle's other breaks: two of them could overlap (one rest counted twice).
            solver.Add(later.StartExpr() >= earlier.EndExpr())
        if intervals:
            time.SetBreakIntervalsOfVehicle(list(intervals), v, visit_transits)
        per_vehicle.append(intervals)
    return tuple(per_vehicle)


def _add_stopovers(
    instance: Instance,
    manager: pywrapcp.RoutingIndexManager,
    routing: pywrapcp.RoutingModel,
    time: pywrapcp.RoutingDimension,
    breaks: tuple[tuple[pywrapcp.IntervalVar, ...], ...],
) -> None:
    """Keep each break off the wait for a stop on the way into a node (``stopover_s``).

    OR-Tools counts a break anywhere between two services when their gap has room for it, so
    a break could fill the wait for the stop to open while the drive on seemed to hold it too.
    For a node ``j`` reached through a stop opening at ``o``, ``s`` long, and ``d`` more
    seconds of driving, a break ``b`` of the vehicle serving ``j`` begins once ``j``'s service
    has begun, or ends early enough for the stop to follow it (``end(b) + s + d <= cumul(j)``,
    which holds a break over by ``o`` too), or is taken on the drive on (``start(b) >= o + s``
    and ``cumul(j) >= o + s + d + duration(b)``).
    """
    if not instance.stopover_s.size:
        return
    solver = routing.solver()
    for node in range(instance.n_nodes):
        opens, stop, on = (int(x) for x in instance.stopover_s[node])
        if opens < 0:
            continue
        index = manager.NodeToIndex(node)
        cumul = time.CumulVar(index)
        earliest, latest = (int(x) for x in instance.window_s[node])
        for v in instance.allowed_vehicles(node):
            rules = in_turn(instance.vehicles[v].breaks)
            for interval, rule in zip(breaks[v], rules, strict=True):
                if rule.latest_start_s + rule.duration_s + stop + on <= earliest:
                    continue  # always over in time for the stop
                if rule.earliest_start_s >= latest:
                    continue  # always after the service has begun
                on_the_drive = solver.Min(
                    (interval.StartExpr() >= opens + stop).Var(),
                    (cumul >= opens + stop + on + rule.duration_s).Var(),
                )
                solver.Add(
                    solver.Max(
                        [
                            (routing.VehicleVar(index) != v).Var(),
                            (interval.StartExpr() >= cumul).Var(),
                            (interval.EndExpr() + stop + on <= cumul).Var(),
                            on_the_drive.Var(),
                        ]
                    )
                    == 1
                )


def _add_capacities(
    instance: Instance, manager: pywrapcp.RoutingIndexManager, routing: pywrapcp.RoutingModel
) -> None:
    depots = np.zeros(2 * instance.n_vehicles, dtype=np.int64)
    for k in range(instance.n_quantities):
        per_node = np.concatenate([instance.demand[:, k], depots])
        callback = routing.RegisterUnaryTransitVector(per_node.tolist())
        capacities = [vehicle.capacity[k] for vehicle in instance.vehicles]
        routing.AddDimensionWithVehicleCapacity(callback, 0, capacities, True, f"quantity {k}")
    del manager  # the unary vector is indexed by node; OR-Tools maps it through the manager


def _add_optional_nodes(
    instance: Instance, manager: pywrapcp.RoutingIndexManager, routing: pywrapcp.RoutingModel
) -> None:
    if instance.node_group.size:
        for group in instance.groups_of_nodes():
            indices = [manager.NodeToIndex(node) for node in group]
            routing.AddDisjunction(indices, int(instance.penalty[group[0]]), 1)
    for node in range(instance.n_nodes):
        index = manager.NodeToIndex(node)
        if not instance.node_group.size:
            routing.AddDisjunction([index], int(instance.penalty[node]))
        allowed = instance.allowed[node] if instance.allowed else None
        if allowed is not None and len(allowed) < instance.n_vehicles:
            routing.VehicleVar(index).SetValues([-1, *allowed])


def _add_stock(instance: Instance, routing: pywrapcp.RoutingModel) -> None:
    """One dimension per commodity: its cumul is the stock on board, fixed at each vehicle's
    start, changed by each node's delta, never below zero (nor above all there could be)."""
    depots = np.zeros(2 * instance.n_vehicles, dtype=np.int64)
    for k in range(instance.n_commodities):
        delta = instance.stock_delta[:, k]
        callback = routing.RegisterUnaryTransitVector(np.concatenate([delta, depots]).tolist())
        gains = int(np.clip(delta, 0, None).sum())
        starts = [int(x) for x in instance.stock_start[:, k].tolist()]
        capacities = [start + gains for start in starts]
        name = f"stock {k}"
        routing.AddDimensionWithVehicleCapacity(callback, 0, capacities, False, name)
        dimension = routing.GetDimensionOrDie(name)
        for v, start in enumerate(starts):
            dimension.CumulVar(routing.Start(v)).SetValue(start)


def _add_preferences(
    instance: Instance, manager: pywrapcp.RoutingIndexManager, routing: pywrapcp.RoutingModel
) -> None:
    preferred = instance.preferred
    if not np.any(instance.preference_cost) or not preferred.size or (preferred < 0).all():
        return
    cost = np.broadcast_to(np.asarray(instance.preference_cost, dtype=np.int64), preferred.shape)
    depots = np.zeros(2 * instance.n_vehicles, dtype=np.int64)
    has_preference = preferred >= 0
    callbacks: dict[int, int] = {}
    per_vehicle: list[int] = []
    for group in instance.groups.tolist():
        key = group if (preferred == group).any() else -1  # unpreferred groups share a vector
        if key not in callbacks:
            misses = np.where(has_preference & (preferred != group), cost, 0)
            callbacks[key] = routing.RegisterUnaryTransitVector(
                np.concatenate([misses, depots]).tolist()
            )
        per_vehicle.append(callbacks[key])
    total = int(np.where(has_preference, cost, 0).sum()) + 1
    routing.AddDimensionWithVehicleTransits(per_vehicle, 0, total, True, "preference misses")
    routing.GetDimensionOrDie("preference misses").SetSpanCostCoefficientForAllVehicles(1)
    del manager


def _add_soft_windows(
    instance: Instance, manager: pywrapcp.RoutingIndexManager, time: pywrapcp.RoutingDimension
) -> None:
    if not instance.soft_window_cost or not instance.soft_window_s.size:
        return
    for node, (low, high) in enumerate(instance.soft_window_s.tolist()):
        if low < 0 and high < 0:
            continue
        index = manager.NodeToIndex(node)
        time.SetCumulVarSoftLowerBound(index, int(low), instance.soft_window_cost)
        time.SetCumulVarSoftUpperBound(index, int(high), instance.soft_window_cost)
