"""Route costs priced without the model must be what the OR-Tools model reports."""

from __future__ import annotations

import dataclasses

import numpy as np

from solver import SolveParams, solve
from solver.cost import route_cost
from tests.solver.instances import grid_instance


def test_route_cost_is_the_objective_or_tools_reports() -> None:
    # Fixed costs, preferences (of vehicle groups numbered apart from the vehicles), distance
    # beside time and a node nobody can reach in time all count.
    base = grid_instance(20, 3, allowed=True, preferences=True, fixed_cost=777)
    windows = base.window_s.copy()
    windows[4] = (0, 1)  # unreachable: dropped, its penalty paid
    instance = dataclasses.replace(
        base, window_s=windows, distance_weight=2, vehicle_group=np.array([2, 0, 1])
    )
    solution = solve(instance, SolveParams(time_limit_s=1, seeders=()))
    routes = [list(route.nodes) for route in solution.routes]
    assert 4 in solution.dropped
    assert route_cost(instance, routes) == solution.objective
