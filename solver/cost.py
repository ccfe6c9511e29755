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

__all__ = ["arc_costs", "route_cost"]


def arc_costs(instance: Instance) -> NDArray[np.int64]:
    """The ``(L, L)`` cost of each arc, as the OR-Tools model prices it."""
    cost = instance.time_weight * instance.travel_s
    if instance.distance_weight:
        cost = cost + instance.distance_weight * instance.distance_m
    return np.asarray(cost, dtype=np.int64)


def route_cost(instance: Instance, routes: Sequence[Sequence[int]]) -> int:
    """The OR-Tools objective of ``routes`` (one per vehicle) on an instance without soft windows.

    Arc costs from each vehicle's start through its nodes to its end, the fixed cost of every
    used vehicle, the preference cost of every node served outside the vehicle group it prefers, and
    the penalty of every node left out.
    """
    cost = arc_costs(instance)
    preferred = instance.preferred
    miss_cost = np.broadcast_to(
        np.asarray(instance.preference_cost, dtype=np.int64), (instance.n_nodes,)
    )
    groups = instance.groups
    total = 0
    served = np.zeros(instance.n_nodes, dtype=bool)
    for v, (vehicle, route) in enumerate(zip(instance.vehicles, routes, strict=True)):
        if not route:
            continue
        if preferred.size:
            nodes = np.asarray(route, dtype=np.int64)
            missed = (preferred[nodes] >= 0) & (preferred[nodes] != groups[v])
            total += int(miss_cost[nodes][missed].sum())
        path = [
            vehicle.start_location,
            *instance.node_location[list(route)].tolist(),
            vehicle.end_location,
        ]
        total += int(cost[path[:-1], path[1:]].sum()) + vehicle.fixed_cost
        served[list(route)] = True
    return total + int(instance.penalty[~served].sum())
