"""Golden tests of the numbers-only solver on instances small enough to solve by hand."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from solver import BreakRule, Instance, InstanceError, Progress, SolveParams, Vehicle, solve
from solver.solve import search_parameters

HOUR = 3600
QUICK = SolveParams(time_limit_s=2, metaheuristic="greedy_descent")


def line_instance(
    positions: list[int],
    *,
    windows: list[tuple[int, int]] | None = None,
    service: int = 0,
    vehicles: tuple[Vehicle, ...] | None = None,
    demand: list[list[int]] | None = None,
    allowed: tuple[tuple[int, ...] | None, ...] = (),
    penalty: int = 10**6,
    preferred: list[int] | None = None,
    preference_cost: int = 0,
) -> Instance:
    """Locations on a line at ``positions`` (seconds apart); location 0 is the depot."""
    points = np.array([0, *positions], dtype=np.int64)
    travel = np.abs(points[:, None] - points[None, :]).astype(np.int64)
    n = len(positions)
    return Instance(
        travel_s=travel,
        distance_m=travel * 10,
        node_location=np.arange(1, n + 1, dtype=np.int64),
        service_s=np.full(n, service, dtype=np.int64),
        window_s=np.array(windows or [(0, 24 * HOUR)] * n, dtype=np.int64),
        demand=np.array(demand, dtype=np.int64) if demand else np.zeros((n, 0), dtype=np.int64),
        penalty=np.full(n, penalty, dtype=np.int64),
        vehicles=vehicles or (Vehicle(0, 0, 0, 24 * HOUR),),
        allowed=allowed,
        preferred=np.array(preferred, dtype=np.int64) if preferred else np.zeros(0, np.int64),
        preference_cost=preference_cost,
    )


def test_one_vehicle_visits_a_line_out_and_back() -> None:
    solution = solve(line_instance([300, 100, 200]), QUICK)
    # Optimum: out to the far end and back, 600 s, whatever the order of the near two.
    assert solution.objective == 600
    assert sorted(solution.routes[0].nodes) == [0, 1, 2]
    assert solution.dropped == ()


def test_two_sides_of_the_depot_make_one_round_trip() -> None:
    # Nodes at -200, -100, 100, 200: one tour costs 800; zig-zagging costs more.
    solution = solve(line_instance([-200, 100, -100, 200]), QUICK)
    assert solution.objective == 800
    nodes = solution.routes[0].nodes
    sides = [(-1 if n in (0, 2) else 1) for n in nodes]
    assert sides in ([-1, -1, 1, 1], [1, 1, -1, -1])


def test_time_windows_force_the_order() -> None:
    # Node 0 (at 100) only late, node 1 (at 200) only early: go out to 200 first.
    instance = line_instance([100, 200], windows=[(1000, 1100), (0, 250)])
    route = solve(instance, QUICK).routes[0]
    assert route.nodes == (1, 0)
    assert route.cumul_s[0] <= 250
    assert 1000 <= route.cumul_s[1] <= 1100


def test_unreachable_window_is_dropped_not_served_late() -> None:
    # Node 0 sits 500 s away but must start by 100 s: impossible from a start at 0.
    instance = line_instance([500, 50], windows=[(0, 100), (0, 24 * HOUR)])
    solution = solve(instance, QUICK)
    assert solution.dropped == (0,)
    assert solution.routes[0].nodes == (1,)


def test_allowed_vehicles_are_respected() -> None:
    fleet = (Vehicle(0, 0, 0, 24 * HOUR), Vehicle(0, 0, 0, 24 * HOUR))
    instance = line_instance([100, 100, 100], vehicles=fleet, allowed=((1,), None, (1,)))
    solution = solve(instance, QUICK)
    on = {node: route.vehicle for route in solution.routes for node in route.nodes}
    assert on[0] == 1 and on[2] == 1


def test_capacity_splits_the_load() -> None:
    fleet = (Vehicle(0, 0, 0, 24 * HOUR, (10,)), Vehicle(0, 0, 0, 24 * HOUR, (10,)))
    instance = line_instance([100, 110, 120], vehicles=fleet, demand=[[6], [6], [4]])
    solution = solve(instance, QUICK)
    loads = [sum([6, 6, 4][n] for n in route.nodes) for route in solution.routes]
    assert sorted(loads) == [6, 10]
    assert solution.dropped == ()


def test_break_is_taken_in_its_window_and_never_during_service() -> None:
    lunch = BreakRule(earliest_start_s=2 * HOUR, latest_start_s=3 * HOUR, duration_s=HOUR // 2)
    fleet = (Vehicle(0, 0, 0, 10 * HOUR, breaks=(lunch,)),)
    instance = line_instance([60, 120, 180, 240], service=HOUR, vehicles=fleet)
    route = solve(instance, QUICK).routes[0]
    ((start, duration),) = route.breaks
    assert 2 * HOUR <= start <= 3 * HOUR and duration == HOUR // 2
    for cumul in route.cumul_s:
        assert start + duration <= cumul or cumul + HOUR <= start


def test_shift_end_bounds_the_day() -> None:
    fleet = (Vehicle(0, 0, 0, 2 * HOUR),)
    instance = line_instance([100, 200, 300], service=HOUR, vehicles=fleet)
    solution = solve(instance, QUICK)
    assert len(solution.routes[0].nodes) == 1  # two hours of service plus travel do not fit
    assert solution.routes[0].end_s <= 2 * HOUR


def test_preferred_vehicle_wins_between_equals() -> None:
    fleet = (Vehicle(0, 0, 0, 24 * HOUR), Vehicle(0, 0, 0, 24 * HOUR))
    instance = line_instance([100, 100], vehicles=fleet, preferred=[1, 0], preference_cost=1000)
    solution = solve(instance, QUICK)
    on = {node: route.vehicle for route in solution.routes for node in route.nodes}
    assert on == {0: 1, 1: 0}


def test_higher_penalty_is_kept_when_only_one_fits() -> None:
    fleet = (Vehicle(0, 0, 0, HOUR + 200),)
    instance = line_instance([100, 100], service=HOUR, vehicles=fleet)
    instance = dataclasses.replace(instance, penalty=np.array([10**5, 10**7], dtype=np.int64))
    solution = solve(instance, QUICK)
    assert solution.routes[0].nodes == (1,) and solution.dropped == (0,)


def test_warm_start_from_initial_routes() -> None:
    instance = line_instance([100, 200, 300])
    solution = solve(instance, QUICK, initial_routes=[[0, 1, 2]])
    assert solution.objective == 600


def test_progress_is_reported() -> None:
    reports: list[Progress] = []
    solve(line_instance([100, 200, 300]), QUICK, on_progress=reports.append)
    assert reports and reports[0].total == 3 and reports[-1].placed == 3


def test_inconsistent_instance_is_refused() -> None:
    instance = line_instance([100, 200])
    broken = dataclasses.replace(instance, service_s=np.zeros(3, dtype=np.int64))
    with pytest.raises(InstanceError, match="service_s"):
        solve(broken, QUICK)


def test_seed_and_time_limit_reach_the_search_parameters() -> None:
    search = search_parameters(SolveParams(time_limit_s=2.5, seed=7))
    assert search.sat_parameters.random_seed == 7
    assert search.time_limit.ToMilliseconds() == 2500
    assert search_parameters(SolveParams()).sat_parameters.random_seed == 0
