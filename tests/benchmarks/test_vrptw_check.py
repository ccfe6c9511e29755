"""The independent checker: verdicts and distances on the hand-worked tiny instance."""

from __future__ import annotations

import dataclasses
import math
from decimal import Decimal

import pytest

from benchmarks.vrptw import Convention, VrptwInstance
from benchmarks.vrptw_check import check_routes

OPTIMUM = [[3, 2], [1]]


def test_the_optimum_passes_with_its_distance_in_each_convention(tiny: VrptwInstance) -> None:
    dimacs = check_routes(tiny, [*OPTIMUM, []], Convention.DIMACS)
    assert (dimacs.feasible, dimacs.complete, dimacs.violations) == (True, True, ())
    assert dimacs.vehicles == 2  # the empty route is not a vehicle used
    assert dimacs.distance == Decimal("32.2")  # 4.0 + 8.2 + 10.0 + 5.0 + 5.0, exactly
    real = check_routes(tiny, OPTIMUM, Convention.HIERARCHICAL)
    assert real.feasible
    assert math.isclose(float(real.distance), 24 + math.sqrt(68), abs_tol=1e-12)


@pytest.mark.parametrize("convention", list(Convention))
@pytest.mark.parametrize(
    ("routes", "message"),
    [
        # 2 first: served at 30, leaves at 32, reaches 3 at 40.2 (40.246 real); 3 closes at 10.
        ([[2, 3], [1]], "customer 3 served at 40.2"),
        ([[1, 2], [3]], "load 12 over capacity 10"),
        ([[1]], "2 customers not served: [2, 3]"),
        ([[3, 2], [1, 3]], "served more than once: [3]"),
        ([[1], [2], [3]], "3 routes for 2 vehicles"),
        ([[3, 2], [1, 4]], "not customers of the instance: [4]"),
    ],
)
def test_a_broken_solution_is_caught(
    tiny: VrptwInstance, convention: Convention, routes: list[list[int]], message: str
) -> None:
    checked = check_routes(tiny, routes, convention)
    assert not checked.feasible
    assert any(message in problem for problem in checked.violations), checked.violations


def test_late_return_to_the_depot_is_caught(tiny: VrptwInstance) -> None:
    early_close = dataclasses.replace(tiny, due=(41, 20, 40, 10))
    # 3 then 2: 2 served at 30, leaves at 32, back at 42.0 (10 units away).
    checked = check_routes(early_close, OPTIMUM, Convention.DIMACS)
    assert checked.violations == ("route 0: back at the depot at 42, after its due time 41",)
    assert checked.complete and not checked.feasible


def test_an_incomplete_solution_is_not_complete(tiny: VrptwInstance) -> None:
    checked = check_routes(tiny, [[3, 2]], Convention.DIMACS)
    assert not checked.complete and not checked.feasible


def test_a_whole_dimacs_distance_keeps_its_decimal(tiny: VrptwInstance) -> None:
    # Customer 1 alone: 5.0 out and 5.0 back, shown as the best-known values are, "10.0".
    assert str(check_routes(tiny, [[1]], Convention.DIMACS).distance) == "10.0"
