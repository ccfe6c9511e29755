"""Starting routes from PyVRP and VROOM, for the instances they can express.

OR-Tools stays the model that enforces every constraint: ``solver.solve`` reads each seed as an
assignment of its own model (a seed breaking any rule is repaired or refused there), keeps the
cheapest and searches on from it. This module only translates an ``Instance`` into the two
libraries' terms and their answers back into node lists, one per vehicle.

What each seeder sees:

- PyVRP (iterated local search): the arc cost matrix as its distance, travel times as its
  durations, service, windows, shifts, capacities, fixed vehicle costs, every node optional with
  its penalty as prize, and eligibility as one routing *profile* per distinct set of nodes a
  vehicle may not serve (an arc into a forbidden node costs more than the whole day). It has no
  breaks, so it is not asked when any vehicle has one, nor when eligibility needs more than
  ``MAX_PROFILES`` profiles.
- VROOM: the same matrices, breaks, and eligibility as *skills* (one skill per distinct set of
  allowed vehicles); it has no prizes, so penalties become its priorities (0-100, in proportion).

Neither sees the preferred-vehicle costs (OR-Tools weighs them in choosing among seeds and in
its search from the chosen one); with soft windows (re-planning) nothing is seeded.
"""

from __future__ import annotations

import math
import time as clock
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray

from solver.instance import Instance

__all__ = [
    "MAX_PROFILES",
    "PYVRP_NODE_ITERATIONS_PER_S",
    "SEEDERS",
    "VROOM_SECONDS_AT_250",
    "VROOM_SHARE",
    "installed_seeders",
    "pyvrp_iterations",
    "pyvrp_routes",
    "route_cost",
    "run_seeder",
    "seedable",
    "vroom_level",
    "vroom_routes",
]

#: Most distinct eligibility patterns PyVRP is given (one distance matrix copy each).
MAX_PROFILES = 8
#: The seeders by name, in the order they are tried.
SEEDERS = ("pyvrp", "vroom")
#: PyVRP iterations a second times the number of nodes, on the reference machine (2 cores,
#: x86_64; measured 1,600-2,300 x 100 on Solomon, 255 x 1,000 on Homberger): the rate that
#: turns a reproducible run's budget into iterations.
PYVRP_NODE_ITERATIONS_PER_S = 200_000
#: Seconds VROOM takes at each exploration level (0-5) on a 250-visit field day, one thread,
#: on the reference machine; about quadratic in the number of nodes.
VROOM_SECONDS_AT_250 = (0.3, 0.7, 1.5, 2.8, 6.3, 8.8)
#: Part of its budget the VROOM-then-PyVRP search leaves VROOM at most (it often stops sooner).
VROOM_SHARE = 0.5
#: VROOM's priorities run 0-100.
_VROOM_TOP_PRIORITY = 100

Routes = list[list[int]]


def installed_seeders(names: Sequence[str] = SEEDERS) -> tuple[str, ...]:
    """The seeders among ``names`` whose library can be imported here."""
    import importlib.util

    modules = {"pyvrp": "pyvrp", "vroom": "vroom"}
    return tuple(name for name in names if importlib.util.find_spec(modules[name]) is not None)


def seedable(instance: Instance) -> tuple[str, ...]:
    """The seeders able to express ``instance``'s rules (none when it has soft windows)."""
    has_soft_windows = bool(instance.soft_window_cost and instance.soft_window_s.size)
    if instance.n_nodes == 0 or has_soft_windows:
        return ()
    able = ["vroom"]
    has_breaks = any(vehicle.breaks for vehicle in instance.vehicles)
    if not has_breaks and len(_forbidden_patterns(instance)[0]) <= MAX_PROFILES:
        able.insert(0, "pyvrp")
    return tuple(able)


def arc_costs(instance: Instance) -> NDArray[np.int64]:
    """The ``(L, L)`` cost of each arc, as the OR-Tools model prices it."""
    cost = instance.time_weight * instance.travel_s
    if instance.distance_weight:
        cost = cost + instance.distance_weight * instance.distance_m
    return np.asarray(cost, dtype=np.int64)


def route_cost(instance: Instance, routes: Sequence[Sequence[int]]) -> int:
    """The OR-Tools objective of ``routes`` (one per vehicle) on a ``seedable`` instance.

    Arc costs from each vehicle's start through its nodes to its end, the fixed cost of every
    used vehicle, the preference cost of every node served by a vehicle it does not prefer, and
    the penalty of every node left out.
    """
    cost = arc_costs(instance)
    preferred = instance.preferred
    miss_cost = np.broadcast_to(
        np.asarray(instance.preference_cost, dtype=np.int64), (instance.n_nodes,)
    )
    total = 0
    served = np.zeros(instance.n_nodes, dtype=bool)
    for v, (vehicle, route) in enumerate(zip(instance.vehicles, routes, strict=True)):
        if not route:
            continue
        if preferred.size:
            nodes = np.asarray(route, dtype=np.int64)
            missed = (preferred[nodes] >= 0) & (preferred[nodes] != v)
            total += int(miss_cost[nodes][missed].sum())
        path = [
            vehicle.start_location,
            *instance.node_location[list(route)].tolist(),
            vehicle.end_location,
        ]
        total += int(cost[path[:-1], path[1:]].sum()) + vehicle.fixed_cost
        served[list(route)] = True
    return total + int(instance.penalty[~served].sum())


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
) -> Routes:
    """Routes PyVRP finds for ``instance`` in ``time_limit_s``, one node list per vehicle.

    ``start`` (one node list per vehicle) is its warm start when given. With ``work_s``, PyVRP
    stops after ``pyvrp_iterations(n, work_s)`` iterations (the same routes for the same seed
    on any machine) or at ``time_limit_s``, whichever comes first. ``on_best`` hears the cost
    of each better feasible solution as PyVRP finds it (its routes are read only at the end).
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
    routes: Routes = [[] for _ in instance.vehicles]
    unused = [list(members) for members in members_of_type]
    for route in result.best.routes():
        v = unused[route.vehicle_type()].pop(0)
        routes[v] = [
            int(activity.idx) for activity in route if activity.type == pyvrp.ActivityType.CLIENT
        ]
    return routes


def vroom_level(n_nodes: int, budget_s: float) -> int:
    """VROOM's most thorough exploration level expected to end within ``budget_s``.

    A level cut short by VROOM's timeout does far worse than a lower level run to its end
    (250 visits in 5 s: level 5 cut 537,443, level 3 to its end ~2 s later); the table of
    ``VROOM_SECONDS_AT_250`` times ``(n / 250) ** 2`` predicts each level's time.
    """
    scale = (max(1, n_nodes) / 250) ** 2
    fitting = [
        level for level, seconds in enumerate(VROOM_SECONDS_AT_250) if seconds * scale <= budget_s
    ]
    return max(fitting, default=0)


def vroom_routes(
    instance: Instance,
    time_limit_s: float,
    plan_s: float | None = None,
    *,
    level: int | None = None,
) -> Routes:
    """Routes VROOM finds for ``instance`` within about ``time_limit_s``, one list per vehicle.

    The exploration ``level`` is, by default, the highest expected to end within ``plan_s``
    (default: the time limit), which stays VROOM's timeout.
    """
    import vroom

    model = vroom.Input()
    model.set_durations_matrix("car", np.asarray(instance.travel_s, dtype=np.int64))
    model.set_costs_matrix("car", arc_costs(instance))
    skill_sets: dict[frozenset[int], int] = {}
    node_skills: list[set[int]] = []
    for allowed in instance.allowed or (None,) * instance.n_nodes:
        if allowed is None or len(set(allowed)) == instance.n_vehicles:
            node_skills.append(set())
            continue
        skill = skill_sets.setdefault(frozenset(allowed), len(skill_sets))
        node_skills.append({skill})
    vehicle_skills: list[set[int]] = [set() for _ in instance.vehicles]
    for vehicles, skill in skill_sets.items():
        for v in vehicles:
            vehicle_skills[v].add(skill)
    top_penalty = max(1, int(instance.penalty.max()))
    model.add_vehicle(
        [
            vroom.Vehicle(
                v,
                start=vehicle.start_location,
                end=vehicle.end_location,
                capacity=list(vehicle.capacity),
                skills=vehicle_skills[v],
                time_window=vroom.TimeWindow(vehicle.shift_start_s, vehicle.shift_end_s),
                breaks=[
                    vroom.Break(
                        k,
                        time_windows=[vroom.TimeWindow(rule.earliest_start_s, rule.latest_start_s)],
                        service=rule.duration_s,
                    )
                    for k, rule in enumerate(vehicle.breaks)
                ],
                costs=vroom.VehicleCosts(fixed=vehicle.fixed_cost),
            )
            for v, vehicle in enumerate(instance.vehicles)
        ]
    )
    model.add_job(
        [
            vroom.Job(
                node,
                location=int(instance.node_location[node]),
                default_service=int(instance.service_s[node]),
                delivery=[int(q) for q in instance.demand[node]],
                skills=node_skills[node],
                priority=round(_VROOM_TOP_PRIORITY * int(instance.penalty[node]) / top_penalty),
                time_windows=[vroom.TimeWindow(*(int(t) for t in instance.window_s[node]))],
            )
            for node in range(instance.n_nodes)
        ]
    )
    if level is None:
        level = vroom_level(instance.n_nodes, time_limit_s if plan_s is None else plan_s)
    solution = model.solve(
        exploration_level=level, nb_threads=1, timeout=timedelta(seconds=max(0.1, time_limit_s))
    )
    steps = solution.routes
    jobs = steps[steps["type"] == "job"]
    routes: Routes = [[] for _ in instance.vehicles]
    for vehicle, group in jobs.groupby("vehicle_id", sort=True):
        routes[int(vehicle)] = [int(node) for node in group["id"]]
    return routes


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


def vroom_then_pyvrp(
    instance: Instance, time_limit_s: float, seed: int, work_s: float | None = None
) -> Routes:
    """VROOM's routes, improved by PyVRP from them for what is left of ``time_limit_s``.

    The second of the two diverse searches ``solver.solve`` runs side by side; PyVRP is skipped
    when it cannot express the instance, and the VROOM routes are returned as they are. With
    ``work_s`` (reproducible), VROOM runs to its own end (``time_limit_s`` its cap) and PyVRP
    for the work of the rest of ``work_s``.
    """
    if "pyvrp" not in seedable(instance):
        return vroom_routes(instance, time_limit_s, work_s)
    started = clock.time()
    share = time_limit_s if work_s is not None else time_limit_s * VROOM_SHARE
    routes = vroom_routes(instance, share, None if work_s is None else work_s * VROOM_SHARE)
    left = time_limit_s - (clock.time() - started)
    if work_s is not None:
        return pyvrp_routes(instance, left, seed, routes, work_s * (1 - VROOM_SHARE))
    return pyvrp_routes(instance, left, seed, start=routes) if left > 0.1 else routes


def run_seeder(
    name: str,
    instance: Instance,
    deadline: float,
    seed: int,
    work_s: float | None = None,
    on_best: Callable[[int], None] | None = None,
) -> Routes:
    """Run the seeder ``name`` (``pyvrp`` or ``vroom``) until the wall-clock ``deadline``.

    ``vroom`` is VROOM followed by PyVRP from its routes when PyVRP can express the instance.
    With ``work_s`` the search counts work instead (reproducible) and ``deadline`` is only its
    cap. ``deadline`` is ``time.time()``-based, so it means the same in another process.
    ``on_best`` hears PyVRP's better costs as it runs (``pyvrp`` only).
    """
    budget = deadline - clock.time()
    if name == "pyvrp":
        return pyvrp_routes(instance, budget, seed, work_s=work_s, on_best=on_best)
    if name == "vroom":
        return vroom_then_pyvrp(instance, budget, seed, work_s)
    raise ValueError(f"unknown seeder {name!r}")
