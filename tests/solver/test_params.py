"""Search parameters: what ``SolveParams`` becomes in OR-Tools' terms, and what is refused."""

from __future__ import annotations

import pytest

from solver import SolveParams, SolverError
from solver.params import (
    ILS_RUINED_ROUTES,
    METAHEURISTIC,
    MIN_STALL_S,
    SEEDER_STALL_S_PER_NODE,
    STALL_S_PER_NODE,
    STALL_SHARE,
    check_strategies,
    search_parameters,
    seeder_stall_s,
    stall_s,
)


def test_seed_and_time_limit_reach_the_search_parameters() -> None:
    search = search_parameters(SolveParams(time_limit_s=2.5, seed=7))
    assert search.sat_parameters.random_seed == 7
    assert search.time_limit.ToMilliseconds() == 2500
    assert search_parameters(SolveParams()).sat_parameters.random_seed == 0


def test_a_reproducible_search_stops_at_its_first_local_optimum() -> None:
    timed = search_parameters(SolveParams(metaheuristic="guided_local_search"))
    assert timed.local_search_metaheuristic == METAHEURISTIC["guided_local_search"]
    counted = search_parameters(SolveParams(metaheuristic="guided_local_search", reproducible=True))
    assert counted.local_search_metaheuristic == METAHEURISTIC["greedy_descent"]


def test_iterated_local_search_descends_greedily_between_ruins_of_close_routes() -> None:
    search = search_parameters(SolveParams(metaheuristic="iterated_local_search"))
    assert search.local_search_metaheuristic == METAHEURISTIC["greedy_descent"]
    assert search.use_iterated_local_search
    (ruin,) = search.iterated_local_search_parameters.ruin_recreate_parameters.ruin_strategies
    assert ruin.spatially_close_routes.num_ruined_routes == ILS_RUINED_ROUTES
    # Guided local search and a reproducible run never ruin.
    assert not search_parameters(SolveParams()).use_iterated_local_search
    counted = SolveParams(metaheuristic="iterated_local_search", reproducible=True)
    assert not search_parameters(counted).use_iterated_local_search


def test_unknown_strategies_are_refused_by_name() -> None:
    with pytest.raises(SolverError, match="first solution strategy 'nearest'"):
        search_parameters(SolveParams(first_solution="nearest"))
    with pytest.raises(SolverError, match="metaheuristic 'annealing'"):
        check_strategies(SolveParams(metaheuristic="annealing"))
    # A reproducible run descends greedily whatever it was asked: nothing unknown is run.
    check_strategies(SolveParams(metaheuristic="annealing", reproducible=True))


def test_the_wait_for_one_more_improvement_grows_with_the_day_not_the_budget() -> None:
    ten = SolveParams(time_limit_s=10)
    assert stall_s(ten, 4) == MIN_STALL_S
    assert stall_s(ten, 70) == pytest.approx(70 * STALL_S_PER_NODE)
    # A large day waits at most the share of its budget, however many nodes it has.
    assert stall_s(ten, 5_000) == pytest.approx(STALL_SHARE * 10)
    assert stall_s(SolveParams(time_limit_s=60), 70) == stall_s(ten, 70)
    # Never early when told not to, nor in a reproducible run.
    assert stall_s(SolveParams(time_limit_s=10, stall_share=0), 70) is None
    assert stall_s(SolveParams(time_limit_s=10, reproducible=True), 70) is None


def test_pyvrp_waits_longer_than_or_tools_for_one_more_improvement_but_by_size_too() -> None:
    ten = SolveParams(time_limit_s=10)
    assert seeder_stall_s(ten, 60) == pytest.approx(60 * SEEDER_STALL_S_PER_NODE)
    assert 60 * SEEDER_STALL_S_PER_NODE > 60 * STALL_S_PER_NODE  # PyVRP's longer strides
    assert seeder_stall_s(ten, 1) == MIN_STALL_S
    # A day of hundreds of nodes waits the whole share of its budget.
    assert seeder_stall_s(ten, 1_000) == pytest.approx(STALL_SHARE * 10)
    assert seeder_stall_s(SolveParams(time_limit_s=10, stall_share=0.05), 1_000) == pytest.approx(
        0.5
    )
    # A small day waits as long on any budget: a longer one is only a cap.
    assert seeder_stall_s(SolveParams(time_limit_s=30), 60) == seeder_stall_s(ten, 60)
    assert seeder_stall_s(SolveParams(time_limit_s=10, stall_share=0), 60) is None
    assert seeder_stall_s(SolveParams(time_limit_s=10, reproducible=True), 60) is None
