"""PyVRP's iterated local search as a seeder, for the instances it can express.

What PyVRP sees: the arc cost matrix as its distance, travel times as its durations, service,
windows, shifts, capacities, fixed vehicle costs, every node optional with its penalty as
prize, and eligibility as one routing *profile* per distinct set of nodes a vehicle may not
serve (an arc into a forbidden node costs more than the whole day). It has no breaks, so it
does not seed an instance where any vehicle has one, nor one whose eligibility needs more than
``MAX_PROFILES`` profiles. PyVRP is imported only when it runs.
"""

from __future__ import annotations

import math
import time as clock
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from solver.cost import arc_costs
from solver.errors import SolverError
from solver.instance import Instance
from solver.seeders.base import Routes, seeding_applies

__all__ = [
    "MAX_PROFILES",
    "PYVRP",
    "PYVRP_NODE_ITERATIONS_PER_S",
    "PyVRPSeeder",
    "pyvrp_iterations",
    "pyvrp_routes",
]

#: Most distinct eligibility patterns PyVRP is given (one distance matrix copy each).
MAX_PROFILES = 8
#: PyVRP iterations a second times the number of nodes, on the reference machine (2 cores,
#: x86_64): the rate that turns a reproducible run's budget into iterations.
PYVRP_NODE_ITERATIONS_PER_S = 200_000


class PyVRPSeeder:
    """PyVRP as a ``Seeder``: its routes from nothing, until a deadline or for an amount of work."""

    name = "pyvrp"

    def can_seed(self, instance: Instance) -> bool:
        """Whether PyVRP can express ``instance``: no breaks, at most ``MAX_PROFILES`` patterns."""
        if not seeding_applies(instance):
            return False
        has_breaks = any(vehicle.breaks for vehicle in instance.vehicles)
        return not has_breaks and len(_forbidden_patterns(instance)[0]) <= MAX_PROFILES

    def routes(
        self,
        instance: Instance,
        deadline: float,
        seed: int,
        work_s: float | None = None,
        on_best: Callable[[int], None] | None = None,
        stall_s: float | None = None,
    ) -> Routes:
        """``pyvrp_routes`` until the wall-clock ``deadline`` (see ``Seeder.routes``)."""
        budget = deadline - clock.time()
        return pyvrp_routes(instance, budget, seed, work_s=work_s, on_best=on_best, stall_s=stall_s)


#: The PyVRP seeder.
PYVRP = PyVRPSeeder()


def pyvrp_iterations(n_nodes: int, work_s: float) -> int:
    """PyVRP iterations worth ``work_s`` seconds on the reference machine for ``n_nodes``."""
    return max(1, round(work_s * PYVRP_NODE_ITERATIONS_PER_S / max(1, n_nodes)))


def pyvrp_routes(
    instance: Instance,
    time_limit_s: float,
    seed: int,
    start: Sequence[Sequence[int]] | None = None,
    work_s: float | None = None,
    on_best: Callable[[int], None] | None = None,
    stall_s: float | None = None,
) -> Routes:
    """Routes PyVRP finds for ``instance`` in ``time_limit_s``, one node list per vehicle.

    Parameters
    ----------
    instance
        The numbers to route; ``PYVRP.can_seed(instance)`` holds.
    time_limit_s
        Wall-clock budget.
    seed
        PyVRP's random seed.
    start
        One node list per vehicle to start from (default: none, PyVRP's own start).
    work_s
        When given, PyVRP stops after ``pyvrp_iterations(n, work_s)`` iterations (the same
        routes for the same seed on any machine) or at ``time_limit_s``, whichever comes
        first. Default ``None``: the time limit alone.
    on_best
        Hears the cost of each better feasible solution as PyVRP finds it (its routes are read
        only at the end); default none.
    stall_s
        When given, PyVRP also stops once its best has not improved for this many seconds
        (``solver.params.seeder_stall_s``), as OR-Tools' search does: a small day is answered when
        it is solved, not at the end of its budget. Default ``None``: the limits above alone.

    Returns
    -------
    Routes
        One node list per vehicle.

    Raises
    ------
    SolverError
        If PyVRP's best solution breaks its rules (none within them was found in time) or
        gives a vehicle a node it may not serve (to PyVRP only a dear arc).
    """
    import pyvrp
    from pyvrp.stop import MaxIterations, MaxRuntime, MultipleCriteria, StoppingCriterion

    n = instance.n_nodes
    depot_locations = sorted(
        {v.start_location for v in instance.vehicles} | {v.end_location for v in instance.vehicles}
    )
    depot_of = {location: k for k, location in enumerate(depot_locations)}
    # One PyVRP location per depot, then one per node, so a profile can forbid a single node.
    rows = np.array([*depot_locations, *instance.node_location.tolist()], dtype=np.int64)
    pick = np.ix_(rows, rows)
    cost = arc_costs(instance)[pick]
    duration = np.asarray(instance.travel_s, dtype=np.int64)[pick]
    # Staying put is free in PyVRP's terms (and two nodes may share a location).
    np.fill_diagonal(cost, 0)
    np.fill_diagonal(duration, 0)
    patterns, pattern_of = _forbidden_patterns(instance)
    # An arc into a forbidden node costs more than any whole solution without it.
    barrier = int(cost.sum() // max(1, len(rows)) + instance.penalty.sum()) + 1
    distances: list[Any] = []
    for pattern in patterns:
        profile = cost.copy()
        if pattern:
            columns = [len(depot_locations) + node for node in sorted(pattern)]
            profile[:, columns] = barrier
            np.fill_diagonal(profile, 0)
        distances.append(profile)
    durations: list[Any] = [duration] * len(patterns)

    clients = [
        pyvrp.Client(
            location=len(depot_locations) + node,
            delivery=[int(q) for q in instance.demand[node]],
            service_duration=int(instance.service_s[node]),
            tw_early=int(instance.window_s[node, 0]),
            tw_late=int(instance.window_s[node, 1]),
            prize=int(instance.penalty[node]),
            required=False,
        )
        for node in range(n)
    ]
    depots = [pyvrp.Depot(location=k) for k in range(len(depot_locations))]
    type_of: dict[tuple[Any, ...], list[int]] = {}
    for v, vehicle in enumerate(instance.vehicles):
        key = (
            vehicle.start_location,
            vehicle.end_location,
            vehicle.shift_start_s,
            vehicle.shift_end_s,
            vehicle.capacity,
            vehicle.fixed_cost,
            pattern_of[v],
        )
        type_of.setdefault(key, []).append(v)
    vehicle_types = [
        pyvrp.VehicleType(
            num_available=len(members),
            capacity=list(capacity),
            start_depot=depot_of[start_location],
            end_depot=depot_of[end_location],
            fixed_cost=fixed_cost,
            tw_early=shift_start,
            tw_late=shift_end,
            profile=profile,
        )
        for (
            start_location,
            end_location,
            shift_start,
            shift_end,
            capacity,
            fixed_cost,
            profile,
        ), members in type_of.items()
    ]
    locations = [pyvrp.Location(x=0.0, y=0.0) for _ in rows]
    data = pyvrp.ProblemData(locations, clients, depots, vehicle_types, distances, durations)
    members_of_type = list(type_of.values())
    initial = None
    if start is not None:
        type_of_vehicle = {v: t for t, members in enumerate(members_of_type) for v in members}
        initial = pyvrp.Solution(
            data,
            [
                pyvrp.Route(data, list(route), type_of_vehicle[v])
                for v, route in enumerate(start)
                if route
            ],
        )
    stop: StoppingCriterion = MaxRuntime(max(0.0, time_limit_s))
    if work_s is not None:
        stop = MultipleCriteria([MaxIterations(pyvrp_iterations(n, work_s)), stop])
    if stall_s is not None:
        stop = MultipleCriteria([_Stalled(stall_s), stop])
    if on_best is not None:
        stop = _ReportingStop(stop, on_best)
    result = pyvrp.solve(
        data,
        stop,
        seed=seed,
        collect_stats=False,
        display=False,
        initial_solution=initial,
    )
    if not result.best.is_feasible():
        raise SolverError("PyVRP found no routes within the rules in its time")
    routes: Routes = [[] for _ in instance.vehicles]
    unused = [list(members) for members in members_of_type]
    for route in result.best.routes():
        v = unused[route.vehicle_type()].pop(0)
        routes[v] = [
            int(activity.idx) for activity in route if activity.type == pyvrp.ActivityType.CLIENT
        ]
    for v, nodes in enumerate(routes):
        wrong = [node for node in nodes if v not in instance.allowed_vehicles(node)]
        if wrong:  # a forbidden arc is only dear to PyVRP: its search had not left it yet
            raise SolverError(f"PyVRP's routes give vehicle {v} nodes it may not serve: {wrong}")
    return routes


def _forbidden_patterns(instance: Instance) -> tuple[list[frozenset[int]], list[int]]:
    """Distinct sets of nodes a vehicle may not serve, and each vehicle's pattern index."""
    forbidden: list[set[int]] = [set() for _ in instance.vehicles]
    for node, allowed in enumerate(instance.allowed):
        if allowed is None:
            continue
        allowed_set = set(allowed)
        for v in range(instance.n_vehicles):
            if v not in allowed_set:
                forbidden[v].add(node)
    patterns: list[frozenset[int]] = []
    of_vehicle: list[int] = []
    for nodes in forbidden:
        key = frozenset(nodes)
        if key not in patterns:
            patterns.append(key)
        of_vehicle.append(patterns.index(key))
    return patterns, of_vehicle


class _Stalled:
    """A PyVRP stopping criterion: true once a feasible best has not improved for ``stall_s``
    seconds (while the best is infeasible, PyVRP searches on)."""

    def __init__(self, stall_s: float) -> None:
        self._stall_s = stall_s
        self._best: float = math.inf
        self._improved = clock.monotonic()

    def __call__(self, best_cost: float) -> bool:
        now = clock.monotonic()
        if best_cost < self._best:
            self._best, self._improved = best_cost, now
            return False
        return self._best < math.inf and now - self._improved >= self._stall_s


class _ReportingStop:
    """A PyVRP stopping criterion that also reports each better feasible cost it is shown."""

    def __init__(self, stop: Callable[[int], bool], on_best: Callable[[int], None]) -> None:
        self._stop, self._on_best = stop, on_best
        self._best: float = math.inf

    def __call__(self, best_cost: int) -> bool:
        if best_cost < self._best:
            self._best = best_cost
            self._on_best(int(best_cost))
        return self._stop(best_cost)
