"""The arcs no feasible route can use (``solver.arcs``) and their removal from the model."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

import solver.model
from solver import Instance, SolveParams, Vehicle, schedule
from solver.arcs import possible_arcs
from solver.model import _int_lists, build_routing_model
from solver.params import search_parameters
from solver.search import search
from tests.solver.instances import HOUR, grid_instance

#: OR-Tools alone to its first local optimum: deterministic.
QUICK_ORTOOLS = SolveParams(time_limit_s=5, metaheuristic="greedy_descent", seeders=())

A, B, C, D, E = range(5)


def _five() -> Instance:
    """Five visits on a line, the base where C is; service 100 s everywhere.

    A (at 100) only for vehicle 0 and B (at 200) only for vehicle 1; C (at 300) must start by
    500; D (at 1300) may start any time but its first 2,000 s are a gap; E (at 1400) must start
    by 1,200: reached from C at the earliest at 0 + 100 + 1,100 = 1,200, just in time.
    """
    points = np.array([300, 100, 200, 300, 1300, 1400], dtype=np.int64)  # the base, then A-E
    travel = np.abs(points[:, None] - points[None, :])
    day = 24 * HOUR
    return Instance(
        travel_s=travel,
        distance_m=travel * 10,
        node_location=np.arange(1, 6, dtype=np.int64),
        service_s=np.full(5, 100, dtype=np.int64),
        window_s=np.array([(0, day), (0, day), (0, 500), (0, day), (0, 1200)], dtype=np.int64),
        demand=np.zeros((5, 0), dtype=np.int64),
        penalty=np.full(5, 10**6, dtype=np.int64),
        vehicles=(Vehicle(0, 0, 0, day), Vehicle(0, 0, 0, day)),
        allowed=((0,), (1,), None, None, None),
        gaps_s=((), (), (), ((0, 1999),), ()),
    )


def _ruled_out(possible: NDArray[np.bool_]) -> set[tuple[int, int]]:
    n = possible.shape[0]
    return {(i, j) for i in range(n) for j in range(n) if i != j and not possible[i, j]}


def test_exactly_the_arcs_eligibility_windows_and_gaps_forbid_are_ruled_out() -> None:
    assert _ruled_out(possible_arcs(_five())) == {
        (A, B),  # no vehicle may serve both
        (B, A),
        (D, C),  # C closes at 500: D starts at 2,000 at the earliest (its gap)
        (E, C),  # 0 + 100 + 1,100 > 500
        (A, E),  # 0 + 100 + 1,300 > 1,200
        (B, E),  # 0 + 100 + 1,200 > 1,200
        (D, E),  # 2,000 + 100 + 100 > 1,200: only its gap rules this one out
    }
    # C -> E is tight (1,200 exactly) and stays: the route through it holds.
    timed = schedule(_five(), [[C, E], []])
    assert timed.routes[0].cumul_s == (0, 1200)


def test_alternatives_of_one_group_never_follow_each_other() -> None:
    grouped = replace(_five(), node_group=np.array([A, B, A, D, E], dtype=np.int64))  # A, C
    assert _ruled_out(possible_arcs(grouped)) == _ruled_out(possible_arcs(_five())) | {
        (A, C),
        (C, A),
    }


def _ladder(n: int = 30) -> Instance:
    """``n`` visits at one place, each in a ten-second slot an hour after the one before: a
    visit can be followed only by the later ones (the last by none, the first by all)."""
    slots = np.arange(n, dtype=np.int64) * HOUR
    return Instance(
        travel_s=np.full((2, 2), 60, dtype=np.int64) * (1 - np.eye(2, dtype=np.int64)),
        distance_m=np.zeros((2, 2), dtype=np.int64),
        node_location=np.ones(n, dtype=np.int64),
        service_s=np.full(n, 600, dtype=np.int64),
        window_s=np.column_stack([slots, slots + 10]),
        demand=np.zeros((n, 0), dtype=np.int64),
        penalty=np.full(n, 10**6, dtype=np.int64),
        vehicles=(Vehicle(0, 0, 0, (n + 1) * HOUR),),
    )


@pytest.mark.parametrize("instance", [_five(), _ladder()], ids=["five", "ladder"])
def test_the_model_takes_out_of_each_next_variable_exactly_the_ruled_out_visits(
    instance: Instance,
) -> None:
    # The ladder's late visits keep fewer successors than they lose: their domains are written
    # as what stays, the others' as what goes; both must say the same.
    possible = possible_arcs(instance)
    handles = build_routing_model(instance)
    routing, manager = handles.routing, handles.manager
    n = instance.n_nodes
    for i in range(n):
        next_var = routing.NextVar(manager.NodeToIndex(i))
        for j in range(n):
            assert next_var.Contains(manager.NodeToIndex(j)) == (i == j or possible[i, j]), (i, j)
        for v in range(instance.n_vehicles):
            assert next_var.Contains(routing.End(v))
    assert (~possible).sum() > n  # something was taken out


def _without_pruning(instance: Instance) -> NDArray[np.bool_]:
    possible = np.ones((instance.n_nodes, instance.n_nodes), dtype=np.bool_)
    np.fill_diagonal(possible, False)
    return possible


def test_pruning_changes_no_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    instance = grid_instance(30, 4, allowed=True, breaks=True)
    assert (~possible_arcs(instance)).sum() > 30 * 29 // 4  # a good share is pruned
    pruned = search(instance, QUICK_ORTOOLS)
    monkeypatch.setattr(solver.model, "possible_arcs", _without_pruning)
    whole = search(instance, QUICK_ORTOOLS)
    assert pruned.objective == whole.objective
    assert [r.nodes for r in pruned.routes] == [r.nodes for r in whole.routes]


def test_routes_that_hold_are_still_read_whole_as_a_start() -> None:
    # A re-plan's kept routes (visits pinned to their technician, tight windows) start the
    # search as they are: pruning keeps every arc a route that holds can use.
    instance = grid_instance(30, 4, allowed=True, breaks=True)
    routes = [list(route.nodes) for route in search(instance, QUICK_ORTOOLS).routes]
    assert sum(map(len, routes)) > 20
    handles = build_routing_model(instance)
    handles.routing.CloseModelWithParameters(search_parameters(QUICK_ORTOOLS))
    assert handles.routing.ReadAssignmentFromRoutes(routes, True) is not None
    again = search(instance, QUICK_ORTOOLS, initial_routes=routes)
    assert sum(len(route.nodes) for route in again.routes) >= sum(map(len, routes))


def test_the_cost_matrix_goes_to_or_tools_as_it_is_with_one_int_per_value() -> None:
    rng = np.random.default_rng(3)
    matrix = rng.integers(0, 40, size=(50, 50)).astype(np.int64) * 60
    lists = _int_lists(matrix)
    assert lists == matrix.tolist()
    flat = [value for row in lists for value in row]
    assert len({id(value) for value in flat}) == len(set(flat))  # one object per value
    wide = np.array([[0, 10**12], [-5, 7]], dtype=np.int64)  # no table for these
    assert _int_lists(wide) == wide.tolist()


def test_timing_given_routes_prunes_nothing_and_times_them_as_a_pruned_model_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # ``schedule`` only times routes it is given: the pruning, exact, changes no time, and it
    # took 40-60 % of timing the routes of 800- to 2,150-node days.
    instance = grid_instance(30, 4, allowed=True, breaks=True)
    routes = [list(route.nodes) for route in search(instance, QUICK_ORTOOLS).routes]
    pruned: list[Instance] = []
    prune = solver.model._remove_impossible_arcs

    def heard_prune(instance: Instance, *rest: Any) -> None:
        pruned.append(instance)
        prune(instance, *rest)

    monkeypatch.setattr(solver.model, "_remove_impossible_arcs", heard_prune)
    timed = schedule(instance, routes)
    assert pruned == []
    monkeypatch.setattr(
        "solver.search.build_routing_model",
        lambda instance, pruned: build_routing_model(instance, pruned=True),
    )
    timed_pruned = schedule(instance, routes)
    assert pruned == [instance]
    assert timed.routes == timed_pruned.routes and timed.objective == timed_pruned.objective
    assert sum(len(route.nodes) for route in timed.routes) > 20
