"""Independent parts (regions sharing no vehicle) are found, solved apart and joined into one
solution over the whole instance's numbering."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from solver import Instance, SolveParams, Vehicle, insertion, portfolio, solve
from solver.cost import route_cost
from solver.parts import CORES_PER_SOLVE, Part, components, parts, solve_in_parts
from solver.result import Progress, Solution
from solver.seeders import Routes
from tests.solver.instances import HOUR, assert_routes_fit, line_instance


def _two_regions() -> tuple[list[int], tuple[tuple[int, ...] | None, ...]]:
    # Nodes 0-3 on vehicles 0-1 (west), nodes 4-7 on vehicle 2 (east), node 8 nowhere.
    positions = [100, 200, 300, 400, 5000, 5100, 5200, 5300, 9000]
    allowed = ((0, 1), (0,), (1,), (0, 1), (2,), (2,), (2,), (2,), ())
    return positions, allowed


def _instance() -> Instance:
    positions, allowed = _two_regions()
    vehicles = tuple(Vehicle(0, 0, 0, 20 * HOUR) for _ in range(3))
    return line_instance(positions, vehicles=vehicles, allowed=allowed, service=600)


def test_a_part_without_the_technicians_its_visits_prefer_is_still_planned() -> None:
    # Three visits at one fixed time, two preferring vehicle 0, in a part of vehicles 1 and 2:
    # while they still preferred vehicle 0 there, OR-Tools refused every plan of the part,
    # even the one serving nobody, and the day ended in an error (a property test's day).
    whole = Instance(
        travel_s=np.array([[0, 1020], [1020, 0]]),
        distance_m=np.array([[0, 10200], [10200, 0]]),
        node_location=np.ones(3, dtype=np.int64),
        service_s=np.full(3, 900),
        window_s=np.full((3, 2), 7 * HOUR),
        demand=np.zeros((3, 0), dtype=np.int64),
        penalty=np.full(3, 10**6),
        vehicles=tuple(Vehicle(0, 0, 6 * HOUR, 10 * HOUR) for _ in range(3)),
        preferred=np.array([0, 0, 1]),
        preference_cost=1800,
    )
    part = whole.restricted([0, 1, 2], [1, 2])
    assert part.preferred.tolist() == [-1, -1, 1]
    solution = solve(part, SolveParams(time_limit_s=0.5, metaheuristic="greedy_descent"))
    assert_routes_fit(part, [list(route.nodes) for route in solution.routes])
    assert len(solution.dropped) == 1  # two vehicles, three visits at one time


def test_parts_follow_eligibility_and_leave_out_nodes_allowed_nowhere() -> None:
    instance = _instance()
    assert parts(instance) == [Part((0, 1, 2, 3), (0, 1)), Part((4, 5, 6, 7), (2,))]


def test_one_part_when_some_node_may_go_anywhere() -> None:
    instance = _instance()
    anywhere = replace(instance, allowed=(None, *instance.allowed[1:]))
    assert len(parts(anywhere)) == 1


def test_the_parts_share_what_the_whole_left_of_the_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The whole's check and screening are inside the budget: on 800-visit days of an explicit
    # matrix they took 0.1-0.2 s, and the parts, sharing the whole budget after them, ended
    # past it.
    screen = insertion.within_reach

    def screening_slowly(instance: Instance) -> Instance:
        time.sleep(0.4)
        return screen(instance)

    shares: list[float] = []
    solve_part = portfolio._solve_part

    def heard(instance: Instance, params: SolveParams, *args: Any, **kwargs: Any) -> Solution:
        shares.append(params.time_limit_s)
        return solve_part(instance, params, *args, **kwargs)

    monkeypatch.setattr("solver.portfolio.within_reach", screening_slowly)
    monkeypatch.setattr(portfolio, "_solve_part", heard)
    monkeypatch.setattr(os, "cpu_count", lambda: CORES_PER_SOLVE)  # one part after the other
    solution = solve(_instance(), SolveParams(time_limit_s=2, seeders=()))
    assert solution.dropped == (8,)
    assert len(shares) == 2
    assert shares[0] <= (2 - 0.4) / 2  # half the nodes: half of what the screening left


def test_a_solve_in_parts_is_joined_into_the_whole_numbering() -> None:
    instance = _instance()
    calls: list[int] = []

    def solve_one(
        piece: Instance,
        params: SolveParams,
        on_progress: Callable[[Progress], None] | None,
        known: Routes | None = None,
    ) -> Solution:
        calls.append(piece.n_nodes)
        return solve(piece, params, on_progress=on_progress)

    joined = solve_in_parts(instance, SolveParams(time_limit_s=2, seeders=()), solve_one)
    assert joined is not None and sorted(calls) == [4, 4]
    routes = [list(r.nodes) for r in joined.routes]
    assert_routes_fit(instance, routes)
    assert sorted(n for r in routes for n in r) == list(range(8))
    assert joined.dropped == (8,)
    assert [r.vehicle for r in joined.routes] == [0, 1, 2]


def test_parts_in_turn_go_smallest_first_and_the_time_one_leaves_goes_to_the_next(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("solver.parts.os.cpu_count", lambda: 2)  # one solve at a time
    positions = [100, 200, 300, 400, 500, 600, 5000, 5100]
    allowed = ((0, 1),) * 6 + ((2,),) * 2  # six nodes in the west, two in the east
    vehicles = tuple(Vehicle(0, 0, 0, 20 * HOUR) for _ in range(3))
    instance = line_instance(positions, vehicles=vehicles, allowed=allowed, service=600)
    budgets: list[tuple[int, float]] = []

    def answers_at_once(
        piece: Instance,
        params: SolveParams,
        on_progress: Callable[[Progress], None] | None,
        known: Routes | None = None,
    ) -> Solution:
        budgets.append((piece.n_nodes, params.time_limit_s))
        dropped = tuple(range(piece.n_nodes))
        return Solution((), dropped, int(piece.penalty.sum()), elapsed_s=0.0)

    joined = solve_in_parts(instance, SolveParams(time_limit_s=100), answers_at_once)
    assert joined is not None and joined.dropped == tuple(range(8))
    # The east's two nodes have a quarter of the budget; what they left is the west's, whole.
    (first, first_s), (second, second_s) = budgets
    assert (first, second) == (2, 6)
    assert first_s == pytest.approx(25, abs=1)
    assert second_s == pytest.approx(100, abs=1)


def _dies_in_a_worker_on_the_east(
    piece: Instance,
    params: SolveParams,
    on_progress: Callable[[Progress], None] | None,
    known: Routes | None = None,
) -> Solution:
    """``solve``, except that a pool worker given the east part (its one vehicle) is killed."""
    if piece.n_vehicles == 1 and multiprocessing.parent_process() is not None:
        os.kill(os.getpid(), signal.SIGKILL)
    return solve(piece, params, on_progress=on_progress)


def test_a_part_whose_worker_dies_side_by_side_is_searched_here(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr("solver.parts.os.cpu_count", lambda: 4)  # two solves side by side
    instance = _instance()
    params = SolveParams(time_limit_s=1, metaheuristic="greedy_descent", seeders=())
    joined = solve_in_parts(instance, params, _dies_in_a_worker_on_the_east)
    # The day is whole: the east's worker died (and broke the pool), its part searched again.
    assert joined is not None
    routes = [list(r.nodes) for r in joined.routes]
    assert_routes_fit(instance, routes)
    assert sorted(n for r in routes for n in r) == list(range(8))
    assert joined.dropped == (8,)
    assert "the worker solving part" in caplog.text and "died" in caplog.text


def test_solve_splits_regions_by_itself_and_its_objective_is_the_whole_instances() -> None:
    instance = _instance()
    split = solve(instance, SolveParams(time_limit_s=2, seeders=()))
    routes = [list(r.nodes) for r in split.routes]
    assert sorted(n for r in routes for n in r) == list(range(8))
    assert split.objective == route_cost(instance, routes)


def test_components_chain_ties_and_name_each_by_its_least_item() -> None:
    # 5-3 and 3-1 chain into one component named 1; 4-2 one named 2; 0 and 6 alone; a group
    # of one or none ties nothing.
    groups = [(5, 3), (4, 2), (), (6,), (3, 1)]
    assert components(7, groups).tolist() == [0, 1, 2, 1, 2, 1, 6]
    assert components(3, []).tolist() == [0, 1, 2]
    # 2 meets 1 only through 3, whose name drops in the same round: a second round ties it.
    assert components(4, [(2, 3), (3, 1)]).tolist() == [0, 1, 1, 1]
    # A long chain given from its far end still ends under one name.
    chain = [(k + 1, k) for k in reversed(range(199))]
    assert set(components(200, chain).tolist()) == {0}
