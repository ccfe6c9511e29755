"""Search parameters: what ``SolveParams`` becomes in OR-Tools' terms, and what is refused."""

from __future__ import annotations

import pytest

from solver import SolveParams, SolverError
from solver.params import METAHEURISTIC, check_strategies, search_parameters


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


def test_unknown_strategies_are_refused_by_name() -> None:
    with pytest.raises(SolverError, match="first solution strategy 'nearest'"):
        search_parameters(SolveParams(first_solution="nearest"))
    with pytest.raises(SolverError, match="metaheuristic 'annealing'"):
        check_strategies(SolveParams(metaheuristic="annealing"))
    # A reproducible run descends greedily whatever it was asked: nothing unknown is run.
    check_strategies(SolveParams(metaheuristic="annealing", reproducible=True))
