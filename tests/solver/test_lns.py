"""The close-routes search (``solver.lns``): pieces of a day solved again by VROOM."""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pytest

from solver.cost import route_cost
from solver.lns import improve_close_routes
from solver.seeders import installed_seeders, vroom_routes
from tests.solver.instances import assert_routes_fit, grid_instance

needs_vroom = pytest.mark.skipif(
    "vroom" not in installed_seeders(), reason="VROOM is an engine dependency"
)


def test_a_compacted_instance_keeps_only_the_locations_it_uses_and_costs_the_same() -> None:
    whole = grid_instance(12, 3, allowed=True, preferences=True)
    part = whole.restricted([7, 2, 9], [2, 0])
    small = part.compacted()
    small.check()
    # The depot (every vehicle's start and end) and the three nodes' points, in their order.
    assert small.travel_s.shape == (4, 4)
    assert small.node_location.tolist() == [2, 1, 3]
    assert [(v.start_location, v.end_location) for v in small.vehicles] == [(0, 0), (0, 0)]
    some: list[list[list[int]]] = [[[0, 2], [1]], [[], [2, 1]], [[], []]]
    for routes in some:
        assert route_cost(small, routes) == route_cost(part, routes)


@needs_vroom
def test_from_nothing_the_search_brings_in_left_out_visits_where_they_are_allowed() -> None:
    instance = grid_instance(40, 4, allowed=True, breaks=True, preferences=True)
    nothing: list[list[int]] = [[] for _ in range(instance.n_vehicles)]
    started = time.time()
    routes = improve_close_routes(instance, nothing, started + 1.0, seed=1)
    assert time.time() - started < 1.5  # the deadline holds, VROOM's last timeout with it
    assert_routes_fit(instance, routes)
    assert sum(map(len, routes)) > instance.n_nodes // 2
    assert route_cost(instance, routes) < route_cost(instance, nothing)


@needs_vroom
def test_the_search_never_makes_routes_dearer() -> None:
    # Tight: more visits than four vehicles can serve, so some are left out of VROOM's routes.
    instance = grid_instance(70, 4, seed=3, breaks=True, preferences=True)
    instance = replace(instance, penalty=np.where(np.arange(70) % 4 == 0, 10**7, 10**6))
    start = vroom_routes(instance, 0.2, level=0)
    routes = improve_close_routes(instance, start, time.time() + 1.0, seed=2)
    assert_routes_fit(instance, routes)
    assert route_cost(instance, routes) <= route_cost(instance, start)
