"""OR-Tools' search from given routes: warm starts, repair of broken starts, exact timing."""

from __future__ import annotations

import gc
import time
import weakref
from typing import Any

import numpy as np
import pytest
from ortools.constraint_solver import pywrapcp

from solver import Instance, Progress, Solution, SolveParams, SolverError, schedule, solve
from solver.cost import route_cost
from solver.model import RoutingHandles, build_routing_model
from solver.params import search_parameters
from solver.search import _extract, feasible_start, routes_of, search
from tests.solver.instances import DAY, grid_instance, line_instance

#: OR-Tools alone to its first local optimum: quick and deterministic.
QUICK_ORTOOLS = SolveParams(time_limit_s=2, metaheuristic="greedy_descent", seeders=())


def test_a_search_out_of_time_before_any_solution_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    # It said "no solution found (status 4)", which dispatch reported as its own bug: the
    # largest day asked for 20 s failed as "the solver failed".
    monkeypatch.setattr("solver.search.MIN_POLISH_S", 0.0)  # 1 ms left of the budget
    instance = grid_instance(n=300, n_vehicles=5)
    with pytest.raises(
        SolverError, match=r"^no solution found within the time limit of 1 s$"
    ) as out:
        search(instance, SolveParams(time_limit_s=1), started=time.monotonic() - 10)
    assert type(out.value).__name__ == "NoSolutionInTimeError"
    assert out.value.time_limit_s == 1  # type: ignore[attr-defined]


def test_a_searched_model_is_freed_once_its_search_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    # Its callbacks (the stall stop, the progress reports) held the model, which held them: a
    # cycle through OR-Tools that no collection breaks. Every model searched stayed in memory
    # with its matrices until the process ended: an idle job worker grew by 1 GB a
    # 5,000-visit day, 5.9 GB after four.
    models: list[weakref.ref[pywrapcp.RoutingModel]] = []

    def kept(instance: Instance) -> RoutingHandles:
        handles = build_routing_model(instance)
        models.append(weakref.ref(handles.routing))
        return handles

    monkeypatch.setattr("solver.search.build_routing_model", kept)
    reports: list[Progress] = []
    params = SolveParams(time_limit_s=1, seeders=())
    solution = search(grid_instance(n=20, n_vehicles=2), params, on_progress=reports.append)
    # The callbacks were called (reports are throttled: the last improvement may go unheard).
    assert reports and min(r.best_cost for r in reports) >= solution.objective
    search(grid_instance(n=20, n_vehicles=2), params, on_progress=reports.append, snapshots=True)
    gc.collect()
    assert len(models) == 2 and [model() for model in models] == [None, None]


def test_warm_start_improves_a_poor_route_and_keeps_every_node() -> None:
    instance = line_instance([100, 200, 300, 400])
    # Zig-zag: 0 -> 400 -> 100 -> 300 -> 200 -> 0 is 1,200 s; out and back is 800 s.
    poor = [[3, 0, 2, 1]]
    start_cost = schedule(instance, poor).objective
    assert start_cost == 1200
    reports: list[Progress] = []
    solution = search(instance, QUICK_ORTOOLS, initial_routes=poor, on_progress=reports.append)
    # The search's first solution is the poor route itself, and it went on from there.
    assert reports[0].best_cost == start_cost and reports[0].placed == 4
    assert solution.objective == 800
    assert sorted(solution.routes[0].nodes) == [0, 1, 2, 3]
    assert solution.dropped == ()


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


def _times(solution: Solution) -> list[tuple[object, ...]]:
    return [(r.nodes, r.start_s, r.cumul_s, r.breaks, r.end_s) for r in solution.routes]


def _locked_solve(
    instance: Instance,
) -> tuple[RoutingHandles, list[list[int]], pywrapcp.Assignment]:
    """A solve's routes, and the assignment a first solution from their locks gives."""
    found = solve(instance, SolveParams(time_limit_s=1, seeders=()))
    routes = [list(route.nodes) for route in found.routes]
    handles = build_routing_model(instance)
    handles.routing.CloseModelWithParameters(search_parameters(SolveParams()))
    assert handles.routing.ApplyLocksToAllVehicles(routes, True)
    locked = handles.routing.SolveWithParameters(search_parameters(SolveParams(solution_limit=1)))
    return handles, routes, locked


def test_schedule_restores_routes_with_the_times_a_solve_from_locks_gives(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Restored routes are timed by the model's finalizer, as a first solution from locks is
    (a route that waits for lunch leaves later); a refused restore falls back to the locks."""
    instance = grid_instance(16, 2, breaks=True)
    handles, routes, locked = _locked_solve(instance)
    reference = _extract(handles, instance, locked, 0.0)
    restored = schedule(instance, routes)
    assert _times(restored) == _times(reference)
    assert restored.objective == reference.objective
    monkeypatch.setattr(
        pywrapcp.RoutingModel, "ReadAssignmentFromRoutes", lambda *args, **kwargs: None
    )
    assert _times(schedule(instance, routes)) == _times(reference)


def test_a_route_s_end_is_read_as_when_it_is_back_however_late_the_search_left_it() -> None:
    """OR-Tools' cumul optimiser (soft windows with breaks, as a re-plan has) may leave a
    route's end anywhere it costs nothing, up to the end of the shift: it is read as the drive
    back after the last service, with the breaks taken on it."""
    instance = grid_instance(16, 2, breaks=True)
    handles, _, locked = _locked_solve(instance)
    tight = _extract(handles, instance, locked, 0.0)
    late = handles.routing.solver().Assignment(locked)
    for v in range(instance.n_vehicles):
        late.SetValue(handles.time.CumulVar(handles.routing.End(v)), DAY)
    assert _times(_extract(handles, instance, late, 0.0)) == _times(tight)
    assert all(route.end_s < DAY for route in tight.routes if route.nodes)


def test_repairing_a_start_stops_at_its_deadline() -> None:
    instance = grid_instance(12, 3)
    handles = build_routing_model(instance)
    routing = handles.routing
    routing.CloseModelWithParameters(search_parameters(SolveParams()))
    order = np.argsort(instance.window_s[:, 0]).tolist()
    broken = [list(reversed(order[:6])), list(reversed(order[6:])), []]
    late = feasible_start(routing, broken, until=0.0)
    assert late is not None  # each broken route cut to a prefix that holds, the rest left
    kept = routes_of(handles, instance, late)
    assert all(route == broken[v][: len(route)] for v, route in enumerate(kept))
    assert all(kept[:2])  # not cleared: a one-second re-plan lost whole routes so
    assert sum(map(len, kept)) < 12
    repaired = feasible_start(routing, broken)
    assert repaired is not None
    assert any(routes_of(handles, instance, repaired))


def test_a_start_keeps_every_route_that_holds_whatever_the_deadline() -> None:
    instance = grid_instance(12, 3)
    handles = build_routing_model(instance)
    routing = handles.routing
    routing.CloseModelWithParameters(search_parameters(SolveParams()))
    holding = [list(route.nodes) for route in solve(instance, QUICK_ORTOOLS).routes]
    assert sum(map(len, holding)) >= 6
    order = np.argsort(instance.window_s[:, 0]).tolist()
    # Vehicle 2's route breaks its windows (latest first); the others hold as they are.
    spare = [node for node in order if node not in holding[0] and node not in holding[1]]
    broken = [holding[0], holding[1], list(reversed(spare))]
    assert routing.ReadAssignmentFromRoutes([[], [], broken[2]], True) is None
    late = feasible_start(routing, broken, until=0.0)
    assert late is not None
    kept = routes_of(handles, instance, late)
    assert kept[:2] == [holding[0], holding[1]]
    assert kept[2] == broken[2][: len(kept[2])]


@pytest.mark.parametrize("from_routes", [False, True], ids=["first-solution", "from-routes"])
def test_a_search_whose_best_stalls_stops_before_its_time_limit(from_routes: bool) -> None:
    # Four nodes on a line: guided local search has the best at once and nothing to add.
    instance = line_instance([100, 200, 300, 400])
    start = [[3, 0, 2, 1]] if from_routes else None
    params = SolveParams(time_limit_s=6, seeders=(), stall_share=0.1)
    reports: list[Progress] = []
    solution = search(instance, params, initial_routes=start, on_progress=reports.append)
    assert solution.objective == 800
    # Stopped 0.6 s after its best was found, long before its 6 s.
    assert solution.elapsed_s < 3
    assert solution.elapsed_s >= reports[-1].elapsed_s


def test_a_search_told_not_to_stop_on_a_stall_runs_to_its_time_limit() -> None:
    instance = line_instance([100, 200, 300, 400])
    solution = search(instance, SolveParams(time_limit_s=1.5, seeders=(), stall_share=0))
    assert solution.objective == 800 and solution.elapsed_s >= 1.4


def test_the_model_s_build_is_inside_the_search_s_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    # A 28-day horizon's windows took seconds to build into the model, and the search then had
    # its whole budget on top: 4-7 s for a 2 s solve.
    def slowly(instance: Instance) -> RoutingHandles:
        time.sleep(0.8)
        return build_routing_model(instance)

    limits_ms: list[int] = []
    solve_with = pywrapcp.RoutingModel.SolveWithParameters

    def heard(routing: pywrapcp.RoutingModel, parameters: Any) -> Any:
        limits_ms.append(parameters.time_limit.ToMilliseconds())
        return solve_with(routing, parameters)

    monkeypatch.setattr("solver.search.build_routing_model", slowly)
    monkeypatch.setattr(pywrapcp.RoutingModel, "SolveWithParameters", heard)
    solution = search(line_instance([0, 100, 200]), SolveParams(time_limit_s=2, seeders=()))
    assert solution.dropped == ()
    assert len(limits_ms) == 1 and limits_ms[0] <= 2000 - 800
