"""Seeding: PyVRP's and VROOM's routes translated both ways, priced as OR-Tools prices them,
and used (or safely not used) by ``solve``."""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest

from solver import BreakRule, Instance, SolveParams, SolverError, Vehicle, schedule, solve
from solver.seeding import (
    MAX_PROFILES,
    PYVRP_NODE_ITERATIONS_PER_S,
    installed_seeders,
    pyvrp_iterations,
    pyvrp_routes,
    route_cost,
    seedable,
    vroom_level,
    vroom_routes,
)
from solver.solve import Seed

# ``solver.solve`` the module (the package exports the function under the same name).
solve_module = importlib.import_module("solver.solve")
HOUR = 3600
DAY = 10 * HOUR
#: OR-Tools alone to its first local optimum: quick and deterministic.
QUICK_ORTOOLS = SolveParams(time_limit_s=2, metaheuristic="greedy_descent", seeders=())
needs_both = pytest.mark.skipif(
    installed_seeders() != ("pyvrp", "vroom"), reason="PyVRP and VROOM are engine dependencies"
)


def grid_instance(
    n: int = 30,
    n_vehicles: int = 4,
    *,
    seed: int = 7,
    allowed: bool = False,
    breaks: bool = False,
    preferences: bool = False,
    fixed_cost: int = 0,
) -> Instance:
    """``n`` random points around a depot, windows of two hours, capacity for about ``n / 2``."""
    rng = np.random.default_rng(seed)
    points = np.vstack([[50, 50], rng.integers(0, 100, size=(n, 2))])
    travel = np.rint(np.hypot(*(points[:, None, :] - points[None, :, :]).transpose(2, 0, 1)) * 60)
    travel = travel.astype(np.int64)
    starts = rng.integers(0, DAY - 3 * HOUR, size=n)
    lunch = (BreakRule(4 * HOUR, 5 * HOUR, 1800),) if breaks else ()
    vehicles = tuple(
        Vehicle(0, 0, 0, DAY, capacity=(n // 2,), breaks=lunch, fixed_cost=fixed_cost)
        for _ in range(n_vehicles)
    )
    return Instance(
        travel_s=travel,
        distance_m=travel * 8,
        node_location=np.arange(1, n + 1, dtype=np.int64),
        service_s=np.full(n, 900, dtype=np.int64),
        window_s=np.column_stack([starts, starts + 2 * HOUR]).astype(np.int64),
        demand=np.ones((n, 1), dtype=np.int64),
        penalty=np.full(n, 10**6, dtype=np.int64),
        vehicles=vehicles,
        allowed=tuple((k % n_vehicles,) if k % 3 == 0 else None for k in range(n))
        if allowed
        else (),
        preferred=np.array([k % n_vehicles if k % 5 == 0 else -1 for k in range(n)])
        if preferences
        else np.zeros(0, dtype=np.int64),
        preference_cost=5000 if preferences else 0,
    )


def assert_routes_fit(instance: Instance, routes: Sequence[Sequence[int]]) -> None:
    """One list per vehicle, each node at most once, every node where it is allowed, and the
    whole accepted by the OR-Tools model."""
    assert len(routes) == instance.n_vehicles
    served = [node for route in routes for node in route]
    assert len(served) == len(set(served))
    for v, route in enumerate(routes):
        for node in route:
            allowed = instance.allowed[node] if instance.allowed else None
            assert allowed is None or v in allowed, (node, v)
    schedule(instance, routes)


def test_route_cost_is_the_objective_or_tools_reports() -> None:
    # Fixed costs, preferences and a node nobody can reach in time all count.
    base = grid_instance(20, 3, allowed=True, preferences=True, fixed_cost=777)
    windows = base.window_s.copy()
    windows[4] = (0, 1)  # unreachable: dropped, its penalty paid
    instance = dataclasses.replace(base, window_s=windows)
    solution = solve(instance, SolveParams(time_limit_s=1, seeders=()))
    routes = [list(route.nodes) for route in solution.routes]
    assert 4 in solution.dropped
    assert route_cost(instance, routes) == solution.objective


def test_seedable_names_what_each_library_can_express() -> None:
    assert seedable(grid_instance()) == ("pyvrp", "vroom")
    assert seedable(grid_instance(allowed=True)) == ("pyvrp", "vroom")
    assert seedable(grid_instance(preferences=True)) == ("pyvrp", "vroom")
    # PyVRP has no breaks; VROOM has.
    assert seedable(grid_instance(breaks=True)) == ("vroom",)
    # Too many eligibility patterns for PyVRP's profiles.
    many = grid_instance(40, MAX_PROFILES + 2)
    one_each = tuple((k % many.n_vehicles,) for k in range(many.n_nodes))
    assert seedable(dataclasses.replace(many, allowed=one_each)) == ("vroom",)
    # Soft windows (re-planning) are priced by OR-Tools alone.
    instance = grid_instance()
    soft = dataclasses.replace(instance, soft_window_s=instance.window_s.copy(), soft_window_cost=1)
    assert seedable(soft) == ()


@needs_both
def test_pyvrp_routes_keep_eligibility_and_every_rule() -> None:
    instance = grid_instance(30, 4, allowed=True)
    routes = pyvrp_routes(instance, 1.0, seed=1)
    assert_routes_fit(instance, routes)
    assert sum(map(len, routes)) == instance.n_nodes


@needs_both
def test_pyvrp_starts_from_given_routes() -> None:
    instance = grid_instance(25, 3)
    start = pyvrp_routes(instance, 0.5, seed=1)
    again = pyvrp_routes(instance, 0.2, seed=2, start=start)
    assert route_cost(instance, again) <= route_cost(instance, start)


@needs_both
def test_vroom_routes_keep_eligibility_breaks_and_every_rule() -> None:
    instance = grid_instance(30, 4, allowed=True, breaks=True)
    routes = vroom_routes(instance, 2.0)
    assert_routes_fit(instance, routes)
    solution = schedule(instance, routes)
    for route in solution.routes:
        if route.nodes:
            ((start, duration),) = route.breaks
            assert 4 * HOUR <= start <= 5 * HOUR and duration == 1800


def test_schedule_times_given_routes_and_names_a_broken_one() -> None:
    instance = grid_instance(10, 2)
    order = np.argsort(instance.window_s[:, 0]).tolist()
    solution = solve(instance, SolveParams(time_limit_s=1, seeders=()))
    routes = [list(route.nodes) for route in solution.routes]
    timed = schedule(instance, routes)
    assert [list(route.nodes) for route in timed.routes] == routes
    assert timed.objective == route_cost(instance, routes)
    # The latest window first, the earliest (closed by then) after it.
    assert instance.window_s[order[-1], 0] > instance.window_s[order[0], 1]
    backwards = [list(reversed(order)), []]
    with pytest.raises(SolverError, match="vehicle 0"):
        schedule(instance, backwards)


@needs_both
def test_solve_starts_from_the_cheaper_seed_and_never_does_worse(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    instance = grid_instance(40, 5)
    called: list[str] = []
    seeded: list[int] = []
    real: Callable[..., Seed] = solve_module.seed_search

    def spy(
        name: str, inst: Instance, deadline: float, seed: int, work: float | None, report: Any
    ) -> Seed:
        called.append(name)
        found = real(name, inst, deadline, seed, work, report)
        seeded.append(route_cost(inst, found.routes))
        return found

    monkeypatch.setattr(solve_module, "seed_search", spy)
    solution = solve(instance, SolveParams(time_limit_s=4))
    assert called == ["pyvrp"]  # VROOM-then-PyVRP ran in the second process
    assert solution.dropped == ()
    assert solution.objective <= seeded[0]
    assert_routes_fit(instance, [list(route.nodes) for route in solution.routes])


@needs_both
def test_without_a_second_process_the_searches_take_turns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    called: list[str] = []
    real: Callable[..., Seed] = solve_module.seed_search

    def spy(
        name: str, inst: Instance, deadline: float, seed: int, work: float | None, report: Any
    ) -> Seed:
        called.append(name)
        return real(name, inst, deadline, seed, work, report)

    class Daemonic:
        daemon = True

    monkeypatch.setattr(solve_module, "seed_search", spy)
    monkeypatch.setattr(solve_module.multiprocessing, "current_process", Daemonic)
    solution = solve(grid_instance(20, 3), SolveParams(time_limit_s=3))
    assert called == ["vroom", "pyvrp"]
    assert solution.dropped == ()


def test_a_failing_or_missing_seeder_only_loses_its_seed(monkeypatch: pytest.MonkeyPatch) -> None:
    instance = grid_instance(14, 2)

    def broken(name: str, inst: Instance, deadline: float, seed: int, work: float | None) -> Seed:
        raise RuntimeError("seeder crashed")

    class Daemonic:
        daemon = True

    monkeypatch.setattr(solve_module, "seed_search", broken)
    monkeypatch.setattr(solve_module.multiprocessing, "current_process", Daemonic)
    assert solve(instance, SolveParams(time_limit_s=2)).dropped == ()
    monkeypatch.setattr(solve_module, "installed_seeders", lambda names: ())
    assert solve(instance, SolveParams(time_limit_s=1)).dropped == ()


@needs_both
def test_with_breaks_two_vroom_led_searches_race(monkeypatch: pytest.MonkeyPatch) -> None:
    instance = grid_instance(25, 4, breaks=True, preferences=True)
    called: list[str] = []
    real: Callable[..., Seed] = solve_module.seed_search

    found: list[Seed] = []

    def spy(
        name: str, inst: Instance, deadline: float, seed: int, work: float | None, report: Any
    ) -> Seed:
        called.append(name)
        found.append(real(name, inst, deadline, seed, work, report))
        return found[-1]

    class Daemonic:
        daemon = True

    monkeypatch.setattr(solve_module, "seed_search", spy)
    monkeypatch.setattr(solve_module.multiprocessing, "current_process", Daemonic)
    solution = solve(instance, SolveParams(time_limit_s=3))
    assert called == ["vroom", "vroom-full"]
    assert solution.dropped == ()
    assert_routes_fit(instance, [list(route.nodes) for route in solution.routes])
    # Both searches end in OR-Tools' own model: the cheaper one's timed solution is the answer.
    assert all(seed.timed is not None for seed in found)
    cheaper = min(found, key=lambda seed: route_cost(instance, seed.routes))
    assert cheaper.timed is not None
    assert solution.routes == cheaper.timed.routes
    assert solution.objective == cheaper.timed.objective == route_cost(instance, cheaper.routes)


@needs_both
def test_reproducible_runs_give_the_same_routes_whatever_the_clock_says() -> None:
    instance = grid_instance(40, 5, allowed=True)
    params = SolveParams(time_limit_s=3, seed=3, reproducible=True)
    first = solve(instance, params)
    second = solve(instance, params)
    assert [r.nodes for r in first.routes] == [r.nodes for r in second.routes]
    assert first.objective == second.objective
    assert first.dropped == ()


@needs_both
def test_reproducible_pyvrp_counts_iterations() -> None:
    instance = grid_instance(30, 4)
    # A generous clock, a small amount of work: the work decides, so two runs agree.
    runs = [pyvrp_routes(instance, 60.0, seed=5, work_s=0.05) for _ in range(2)]
    assert runs[0] == runs[1]
    assert pyvrp_iterations(100, 1.0) == PYVRP_NODE_ITERATIONS_PER_S // 100


def test_vroom_level_is_the_most_thorough_that_ends_in_time() -> None:
    assert vroom_level(100, 10.0) == 5
    assert vroom_level(250, 0.01) == 0  # never below the fastest level
    levels = [vroom_level(800, budget) for budget in (1, 5, 20, 60, 200)]
    assert levels == sorted(levels) and levels[0] < levels[-1]
    by_size = [vroom_level(n, 20.0) for n in (60, 250, 800, 2500)]
    assert by_size == sorted(by_size, reverse=True) and by_size[0] > by_size[-1]


def test_repairing_a_start_stops_at_its_deadline() -> None:
    from solver.model import build_routing_model

    instance = grid_instance(12, 3)
    handles = build_routing_model(instance)
    routing = handles.routing
    routing.CloseModelWithParameters(solve_module.search_parameters(SolveParams()))
    order = np.argsort(instance.window_s[:, 0]).tolist()
    broken = [list(reversed(order[:6])), list(reversed(order[6:])), []]
    late = solve_module._feasible_start(routing, broken, until=0.0)
    assert late is not None  # every route left to the search: an empty, valid start
    assert solve_module._routes_of(handles, instance, late) == [[], [], []]
    repaired = solve_module._feasible_start(routing, broken)
    assert repaired is not None
    assert any(solve_module._routes_of(handles, instance, repaired))


def test_a_start_keeps_every_route_that_holds_whatever_the_deadline() -> None:
    from solver.model import build_routing_model

    instance = grid_instance(12, 3)
    handles = build_routing_model(instance)
    routing = handles.routing
    routing.CloseModelWithParameters(solve_module.search_parameters(SolveParams()))
    holding = [list(route.nodes) for route in solve(instance, QUICK_ORTOOLS).routes]
    assert sum(map(len, holding)) >= 6
    order = np.argsort(instance.window_s[:, 0]).tolist()
    # Vehicle 2's route breaks its windows (latest first); the others hold as they are.
    spare = [node for node in order if node not in holding[0] and node not in holding[1]]
    broken = [holding[0], holding[1], list(reversed(spare))]
    assert routing.ReadAssignmentFromRoutes([[], [], broken[2]], True) is None
    late = solve_module._feasible_start(routing, broken, until=0.0)
    assert late is not None
    assert solve_module._routes_of(handles, instance, late) == [holding[0], holding[1], []]
