"""Alternatives and commodities in numbers: at most one node of a group is served, and no route
takes a vehicle's stock below zero; an instance without them builds the model it always did."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from solver import Instance, InstanceError, SolveParams, solve
from solver.seeders import seeding_applies
from tests.solver.instances import line_instance

QUICK = SolveParams(time_limit_s=1, seeders=(), metaheuristic="greedy_descent")


def _stocked(start: int) -> Instance:
    # Three nodes each using one unit of one commodity; the vehicle starts with ``start``.
    instance = line_instance([100, 200, 300])
    return replace(
        instance,
        stock_delta=np.array([[-1], [-1], [-1]], dtype=np.int64),
        stock_start=np.array([[start]], dtype=np.int64),
    )


@pytest.mark.parametrize("start", [0, 1, 2, 3])
def test_a_route_never_uses_more_than_it_carries(start: int) -> None:
    solution = solve(_stocked(start), QUICK)
    served = sum(len(route.nodes) for route in solution.routes)
    assert served == start
    assert len(solution.dropped) == 3 - start


def test_a_node_that_adds_stock_lets_later_nodes_use_it() -> None:
    # Node 3 (far out, cheap to leave) adds two units: serving it before nodes 1-2 is the only
    # way to serve them, and worth its detour.
    instance = line_instance([100, 200, 300, 50])
    instance = replace(
        instance,
        stock_delta=np.array([[0], [-1], [-1], [2]], dtype=np.int64),
        stock_start=np.array([[0]], dtype=np.int64),
        penalty=np.array([10**6, 10**6, 10**6, 0], dtype=np.int64),
    )
    (route,) = solve(instance, QUICK).routes
    assert set(route.nodes) == {0, 1, 2, 3}
    assert route.nodes.index(3) < min(route.nodes.index(1), route.nodes.index(2))


def test_at_most_one_node_of_a_group_is_served_and_the_group_costs_one_penalty() -> None:
    instance = replace(line_instance([100, 100, 200]), node_group=np.array([0, 0, 1]))
    solution = solve(instance, QUICK)
    served = [node for route in solution.routes for node in route.nodes]
    assert sorted(served) in ([0, 2], [1, 2])
    assert instance.has_alternatives and instance.groups_of_nodes() == [[0, 1], [2]]


def test_plain_instances_have_no_alternatives_and_may_be_seeded() -> None:
    plain = line_instance([100, 200])
    assert not plain.has_alternatives and plain.n_commodities == 0
    assert seeding_applies(plain)
    assert not seeding_applies(_stocked(1))


def test_restricting_keeps_groups_and_stock() -> None:
    instance = replace(_stocked(2), node_group=np.array([0, 0, 1]))
    part = instance.restricted([2, 0], [0])
    assert part.node_group.tolist() == [1, 0]
    assert part.stock_delta.tolist() == [[-1], [-1]]
    assert part.stock_start.tolist() == [[2]]


def test_stock_arrays_must_fit() -> None:
    instance = replace(_stocked(1), stock_start=np.array([[1], [1]], dtype=np.int64))
    with pytest.raises(InstanceError, match="stock_start"):
        instance.check()
