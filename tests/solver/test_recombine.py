"""Routes a search has seen, packed again (``solver.recombine``)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from solver.cost import route_cost
from solver.recombine import RoutePool
from tests.solver.instances import grid_instance


def test_a_packings_worth_is_what_route_cost_saves_on_leaving_every_node_out() -> None:
    # Arcs priced on distance too, a fixed cost a vehicle, visits preferring a group.
    instance = replace(grid_instance(12, 3, fixed_cost=500, preferences=True), distance_weight=2)
    pool = RoutePool(instance)
    nothing: list[list[int]] = [[], [], []]
    for routes in ([[0, 1], [2], []], [[3, 4, 5], [6, 7], [8, 9, 10, 11]], nothing):
        worth = sum(pool.worth(v, route) for v, route in enumerate(routes))
        assert worth == route_cost(instance, nothing) - route_cost(instance, routes)


def test_the_packing_takes_each_vehicles_route_from_different_answers() -> None:
    """Two answers, each refused whole, each with one route better than its vehicle's: the
    packing takes vehicle 0's from one and vehicle 1's from the other, no node twice."""
    instance = grid_instance(8, 3)
    pool = RoutePool(instance)
    current = [[0], [1], [7]]
    answers = [
        [[0, 2], [1, 3, 4], [7]],  # vehicle 1 takes 3 and 4 from here
        [[0, 2, 5], [1], [7, 4]],  # vehicle 0 takes 2 and 5 from here
    ]
    for routes in (current, *answers):
        for v, route in enumerate(routes):
            pool.add(v, route)
    packed = pool.best_packing(current, [0, 1, 2], seconds=5.0)
    assert packed is not None
    served = [node for route in packed for node in route]
    assert len(served) == len(set(served))
    assert sorted(served) == [0, 1, 2, 3, 4, 5, 7]
    assert packed[0] == [0, 2, 5] and packed[1] == [1, 3, 4]
    assert route_cost(instance, packed) < min(route_cost(instance, r) for r in answers)
    assert pool.added_since_packing == 0


def test_a_packing_worth_no_more_than_the_routes_is_not_answered() -> None:
    instance = grid_instance(6, 2)
    pool = RoutePool(instance)
    current = [[0, 1, 2], [3, 4, 5]]
    for v, route in enumerate(current):
        pool.add(v, route)
    pool.add(0, [0, 1])  # a part of what vehicle 0 serves now
    pool.add(1, [5, 4])  # a part of what vehicle 1 serves
    assert pool.best_packing(current, [0, 1], seconds=5.0) is None


def test_vehicles_not_packed_keep_their_routes_and_their_nodes() -> None:
    """Only the vehicles named are packed again; a route in the pool of another is not used."""
    instance = replace(grid_instance(6, 3), penalty=np.full(6, 10**7, dtype=np.int64))
    pool = RoutePool(instance)
    current = [[0], [1], [2]]
    for v, route in enumerate(current):
        pool.add(v, route)
    pool.add(0, [0, 3])
    pool.add(2, [2, 4, 5])  # better, but vehicle 2 is not packed here
    packed = pool.best_packing(current, [0, 1], seconds=5.0)
    assert packed == [[0, 3], [1], [2]]
    assert len(pool) == 5
    pool.add(0, [0, 3])
    pool.add(1, [])
    assert len(pool) == 5 and pool.added_since_packing == 0
