"""What routes cost as the OR-Tools model prices them, computed without building the model.

The seeders price arcs with ``arc_costs`` and the portfolio compares seeds with
``route_cost``; both must agree with ``solver.model`` (a test holds ``route_cost`` to the
objective OR-Tools reports). Soft windows (re-planning) are not priced here: such instances
are never seeded.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from solver.instance import Instance

__all__ = ["arc_costs", "route_cost", "vehicle_route_cost"]


def arc_costs(instance: Instance) -> NDArray[np.int64]:
    """The ``(L, L)`` cost of each arc, as the OR-Tools model prices it."""
    cost = instance.time_weight * instance.travel_s
    if instance.distance_weight:
        cost = cost + instance.distance_weight * instance.distance_m
    return np.asarray(cost, dtype=np.int64)


def route_cost(instance: Instance, routes: Sequence[Sequence[int]]) -> int:
    """The OR-Tools objective of ``routes`` (one per vehicle) on an instance without soft windows.

    What each vehicle's route costs (``vehicle_route_cost``) and the penalty of every node
    left out.
    """
    if len(routes) != instance.n_vehicles:
        raise ValueError(f"{len(routes)} routes for {instance.n_vehicles} vehicles")
    served = np.zeros(instance.n_nodes, dtype=bool)
    total = 0
    for v, route in enumerate(routes):
        total += vehicle_route_cost(instance, v, route)
        served[list(route)] = True
    return total + int(instance.penalty[~served].sum())


def vehicle_route_cost(instance: Instance, vehicle: int, route: Sequence[int]) -> int:
    """What ``vehicle`` serving ``route`` costs in the OR-Tools objective (0 when empty): the
    arcs from its start through the nodes to its end, its fixed cost, and the preference cost
    of every node served outside the vehicle group it prefers."""
    if not len(route):
        return 0
    nodes = np.asarray(route, dtype=np.int64)
    spec = instance.vehicles[vehicle]
    path = np.asarray(
        [spec.start_location, *instance.node_location[nodes].tolist(), spec.end_location],
        dtype=np.int64,
    )
    arcs = instance.time_weight * instance.travel_s[path[:-1], path[1:]].astype(np.int64)
    if instance.distance_weight:
        arcs = arcs + instance.distance_weight * instance.distance_m[path[:-1], path[1:]]
    cost = int(arcs.sum()) + spec.fixed_cost
    if instance.preferred.size:
        miss = np.broadcast_to(
            np.asarray(instance.preference_cost, dtype=np.int64), (instance.n_nodes,)
        )
        preferred = instance.preferred[nodes]
        group = instance.vehicle_group[vehicle] if instance.vehicle_group.size else vehicle
        missed = (preferred >= 0) & (preferred != group)
        cost += int(miss[nodes][missed].sum())
    return cost
