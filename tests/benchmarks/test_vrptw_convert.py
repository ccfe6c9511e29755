"""Scaling an instance to integers under each convention, and our solver's instance from it."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from benchmarks.vrptw import Convention, VrptwInstance
from benchmarks.vrptw_check import check_routes
from benchmarks.vrptw_convert import (
    Objective,
    exact_isqrt,
    scale_problem,
    to_solver_instance,
)
from solver import SolveParams, solve

# Tiny instance: 0 (0,0), 1 (3,4), 2 (6,8), 3 (4,0). d01 5, d02 10, d03 4, d12 5,
# d13 sqrt(17) = 4.1231, d23 sqrt(68) = 8.2462.
DIMACS_ARCS = [[0, 50, 100, 40], [50, 0, 50, 41], [100, 50, 0, 82], [40, 41, 82, 0]]
HIERARCHICAL_ARCS = [
    [0, 5000, 10000, 4000],
    [5000, 0, 5000, 4124],
    [10000, 5000, 0, 8247],
    [4000, 4124, 8247, 0],
]


def test_exact_isqrt_is_exact_where_float_roots_are_not() -> None:
    k = 10**8 + 7  # k^2 > 2^53: the float root of k^2 - 1 rounds up to k
    values = np.array([0, 1, 2, 3, 4, 15, 16, 17, k * k - 1, k * k, k * k + 1], dtype=np.int64)
    assert exact_isqrt(values).tolist() == [0, 1, 1, 1, 2, 3, 4, 4, k - 1, k, k]


def test_distance_objective_truncates_arcs_to_tenths(tiny: VrptwInstance) -> None:
    problem = scale_problem(tiny, Objective.DISTANCE)
    assert (problem.convention, problem.scale) == (Convention.DIMACS, 10)
    assert problem.arcs.tolist() == DIMACS_ARCS
    assert problem.ready.tolist() == [0, 0, 300, 0]
    assert problem.due.tolist() == [1000, 200, 400, 100]
    assert problem.service.tolist() == [0, 20, 20, 10]
    assert problem.fixed_cost == 0
    # Leaving a customer out costs more than any complete solution: (3 + 2) arcs of at most 100.
    assert problem.drop_penalty == 501


def test_vehicles_objective_rounds_arcs_up_and_prices_vehicles_above_any_distance(
    tiny: VrptwInstance,
) -> None:
    problem = scale_problem(tiny, Objective.VEHICLES)
    assert (problem.convention, problem.scale) == (Convention.HIERARCHICAL, 1000)
    assert problem.arcs.tolist() == HIERARCHICAL_ARCS
    assert problem.due.tolist() == [100_000, 20_000, 40_000, 10_000]
    assert problem.fixed_cost > (3 + 2) * 10_000
    assert problem.drop_penalty > 2 * problem.fixed_cost + (3 + 2) * 10_000


@pytest.mark.parametrize("objective", list(Objective))
def test_solver_instance_carries_the_scaled_numbers(
    tiny: VrptwInstance, objective: Objective
) -> None:
    problem = scale_problem(tiny, objective)
    instance = to_solver_instance(problem)
    instance.check()
    assert instance.node_location.tolist() == [1, 2, 3]
    assert instance.window_s.tolist() == [
        [int(problem.ready[c]), int(problem.due[c])] for c in (1, 2, 3)
    ]
    assert instance.service_s.tolist() == problem.service[1:].tolist()
    assert instance.demand.tolist() == [[6], [6], [3]]
    assert (instance.time_weight, instance.distance_weight) == (0, 1)
    assert len(instance.vehicles) == 2
    assert {
        (v.capacity, v.fixed_cost, v.shift_start_s, v.shift_end_s) for v in instance.vehicles
    } == {((10,), problem.fixed_cost, 0, int(problem.due[0]))}


@pytest.mark.parametrize(
    ("objective", "distance"),
    [(Objective.DISTANCE, Decimal("32.2")), (Objective.VEHICLES, Decimal("32.2462"))],
)
def test_tiny_round_trip_finds_the_hand_worked_optimum(
    tiny: VrptwInstance, objective: Objective, distance: Decimal
) -> None:
    # Capacity 10 keeps customers 1 and 2 apart; 3 rides with 2 (4 + 8.2 + 10 + 5 + 5 = 32.2)
    # rather than with 1 (4 + 4.1 + 5 + 10 + 10 = 33.1), and only before 2: 3 closes at 10.
    problem = scale_problem(tiny, objective)
    solution = solve(to_solver_instance(problem), SolveParams(time_limit_s=1, seed=0))
    routes = [tuple(node + 1 for node in route.nodes) for route in solution.routes]
    assert sorted(r for r in routes if r) == [(1,), (3, 2)]
    checked = check_routes(tiny, routes, problem.convention)
    assert checked.feasible and checked.vehicles == 2
    assert checked.distance.quantize(distance) == distance
