"""The close-routes search (``solver.lns``): pieces of a day solved again by VROOM."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from solver import BreakRule, Instance, Vehicle
from solver.cost import route_cost
from solver.insertion import within_reach
from solver.lns import improve_close_routes, split_close_routes
from solver.params import LNS_CLOSE_ROUTES, LNS_ROUTES
from solver.recombine import RoutePool
from solver.seeders import installed_seeders, vroom_routes
from tests.solver.instances import DEADLINE_SLACK_S, HOUR, assert_routes_fit, grid_instance

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
    assert time.time() < started + 1.0 + DEADLINE_SLACK_S  # VROOM's last timeout within it
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


@needs_vroom
def test_the_search_tells_its_routes_each_time_they_get_cheaper() -> None:
    instance = grid_instance(70, 4, seed=3, breaks=True, preferences=True)
    instance = replace(instance, penalty=np.where(np.arange(70) % 4 == 0, 10**7, 10**6))
    start = vroom_routes(instance, 0.2, level=0)
    told: list[tuple[int, list[list[int]]]] = []

    def tell(routes: list[list[int]]) -> None:
        told.append((route_cost(instance, routes), [list(route) for route in routes]))

    routes = improve_close_routes(instance, start, time.time() + 1.0, seed=2, tell=tell)
    assert told, "the search from VROOM's quickest routes of a tight day finds cheaper ones"
    costs = [cost for cost, _ in told]
    assert costs == sorted(set(costs), reverse=True)
    assert costs[0] < route_cost(instance, start)
    for _, heard in told:
        assert_routes_fit(instance, heard)
    assert told[-1][1] == routes  # the answer is the last routes told


@needs_vroom
def test_a_long_enough_search_packs_the_routes_its_steps_saw_and_once_at_its_end(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every ``LNS_PACK_EVERY_S`` when new routes came in, its own vehicles only, and once in
    the last ``LNS_PACK_S``, which its steps leave for it and take back what it leaves; a
    search shorter than ``LNS_PACK_EVERY_S`` never packs."""
    instance = grid_instance(70, 4, seed=3, breaks=True, preferences=True)
    instance = replace(instance, penalty=np.where(np.arange(70) % 4 == 0, 10**7, 10**6))
    start = vroom_routes(instance, 0.2, level=0)
    packings: list[tuple[float, int, list[int]]] = []
    best_packing = RoutePool.best_packing

    ends: list[float] = []  # when each packing and step was given to end

    def heard(
        pool: RoutePool, routes: list[list[int]], vehicles: list[int], seconds: float
    ) -> list[list[int]] | None:
        packings.append((time.time(), len(pool), list(vehicles)))
        ends.append(time.time() + seconds)
        return best_packing(pool, routes, vehicles, seconds)

    def heard_vroom_routes(instance: Instance, seconds: float, **kwargs: Any) -> list[list[int]]:
        steps.append(time.time())
        ends.append(time.time() + seconds)
        return vroom_routes(instance, seconds, **kwargs)

    monkeypatch.setattr(RoutePool, "best_packing", heard)
    improve_close_routes(instance, start, time.time() + 1.0, seed=2)
    assert packings == []
    monkeypatch.setattr("solver.lns.LNS_PACK_S", 0.1)
    monkeypatch.setattr("solver.lns.LNS_PACK_EVERY_S", 0.3)
    steps: list[float] = []
    monkeypatch.setattr("solver.lns.vroom_routes", heard_vroom_routes)
    started = time.time()
    routes = improve_close_routes(instance, start, started + 1.2, seed=2, own=[0, 2])
    # Nothing was given time past the deadline (each end read just after the search set it).
    assert steps and max(ends) <= started + 1.2 + 0.05
    assert time.time() < started + 1.2 + DEADLINE_SLACK_S
    # On the way, each time new routes came in since the last packing.
    assert packings and packings[0][0] >= started + 0.3
    assert [size for _, size, _ in packings] == sorted({size for _, size, _ in packings})
    assert all(vehicles == [0, 2] for _, _, vehicles in packings)
    assert routes[1] == start[1] and routes[3] == start[3]
    assert_routes_fit(instance, routes)
    assert route_cost(instance, routes) <= route_cost(instance, start)
    # At the end, in the time its steps left for it; steps take what the packing leaves (a
    # share of 0.3 s, which a pool this small never needs: with 0.1 s, a packing that began
    # as late as it may under load left no step the 0.05 s it needs).
    monkeypatch.setattr("solver.lns.LNS_PACK_EVERY_S", 1.0)
    monkeypatch.setattr("solver.lns.LNS_PACK_S", 0.3)
    packings.clear()
    steps.clear()
    deadline = time.time() + 1.05
    routes = improve_close_routes(instance, start, deadline, seed=2)
    assert len(packings) == 1 and deadline - 0.3 - 0.07 <= packings[0][0] < deadline - 0.1
    assert packings[0][2] == [0, 1, 2, 3]
    assert steps[-1] > packings[0][0]
    assert_routes_fit(instance, routes)
    assert route_cost(instance, routes) <= route_cost(instance, start)


@needs_vroom
@pytest.mark.parametrize(("n_vehicles", "round_of_steps"), [(2, 1), (8, 2)])
def test_a_stalled_search_stops_after_a_round_of_steps_when_asked(
    monkeypatch: pytest.MonkeyPatch, n_vehicles: int, round_of_steps: int
) -> None:
    """One step per six routes (``LNS_ROUTES``) improving nothing in a row ends the search;
    otherwise it goes on to its deadline."""
    instance = grid_instance(12, n_vehicles, seed=5)
    start = vroom_routes(instance, 0.2, level=5)
    steps: list[float] = []

    def heard_vroom_routes(*args: Any, **kwargs: Any) -> list[list[int]]:
        steps.append(time.time())
        return vroom_routes(*args, **kwargs)

    monkeypatch.setattr("solver.lns.vroom_routes", heard_vroom_routes)
    # VROOM's thorough level on a dozen visits: no piece of its routes gets cheaper.
    improve_close_routes(instance, start, time.time() + 5.0, seed=1, stop_when_stalled=True)
    assert len(steps) == round_of_steps
    steps.clear()
    improve_close_routes(instance, start, time.time() + 0.3, seed=1)
    assert len(steps) > round_of_steps


def test_a_left_out_node_no_vehicle_could_serve_alone_is_never_an_anchor_nor_offered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Twenty technicians at home on a line, a minute apart, each with a fixed lunch at
    1:00-1:30. Node 0, at the first one's home, must start at 1:00:40, inside that lunch: no
    route can ever take it, ``within_reach`` allows it no vehicle (as ``solve`` does before any
    search), so no step anchors on it, nor offers it to VROOM. The other nodes, at the last
    technician's home, are both: no piece holds the first technician, far from them."""
    n = 20
    line = np.arange(n)
    travel = (np.abs(line[:, None] - line[None, :]) * 60).astype(np.int64)
    nodes = 6
    window = np.tile([0, 8 * HOUR], (nodes, 1)).astype(np.int64)
    window[0] = (HOUR + 40, HOUR + 40)
    lunch = (BreakRule(HOUR, HOUR, 1800),)
    instance = Instance(
        travel_s=travel,
        distance_m=travel,
        node_location=np.array([0] + [n - 1] * (nodes - 1), dtype=np.int64),
        service_s=np.full(nodes, 600, dtype=np.int64),
        window_s=window,
        demand=np.zeros((nodes, 0), dtype=np.int64),
        penalty=np.full(nodes, 10**6, dtype=np.int64),
        vehicles=tuple(Vehicle(k, k, 0, 8 * HOUR, breaks=lunch) for k in range(n)),
    )
    offered: set[int] = set()
    pieces: list[set[int]] = []
    restricted = Instance.restricted

    def heard_restricted(self: Instance, nodes: Any, vehicles: Any) -> Instance:
        offered.update(nodes)
        pieces.append(set(vehicles))
        return restricted(self, nodes, vehicles)

    monkeypatch.setattr(Instance, "restricted", heard_restricted)
    monkeypatch.setattr("solver.lns.vroom_routes", lambda piece, *a, **k: [[]] * piece.n_vehicles)
    nothing: list[list[int]] = [[] for _ in range(n)]
    improve_close_routes(within_reach(instance), nothing, time.time() + 0.3, seed=1)
    assert offered == set(range(1, nodes))
    assert len(pieces) > 10 and not any(0 in piece for piece in pieces)


def homes_on_a_line(n: int) -> Instance:
    """``n`` technicians at home on a line, a minute apart, each with a visit at home."""
    line = np.arange(n)
    travel = (np.abs(line[:, None] - line[None, :]) * 60).astype(np.int64)
    return Instance(
        travel_s=travel,
        distance_m=travel,
        node_location=line.astype(np.int64),
        service_s=np.full(n, 600, dtype=np.int64),
        window_s=np.tile([0, 8 * HOUR], (n, 1)).astype(np.int64),
        demand=np.ones((n, 1), dtype=np.int64),
        penalty=np.full(n, 10**6, dtype=np.int64),
        vehicles=tuple(Vehicle(k, k, 0, 8 * HOUR, capacity=(n,)) for k in range(n)),
    )


def test_one_anchor_gives_many_pieces_of_routes_close_to_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A step takes the route nearest its anchor and the others drawn among the
    ``LNS_CLOSE_ROUTES`` nearest: more pieces than routes, each of routes close together."""
    n = 20
    instance = homes_on_a_line(n)
    pieces: list[tuple[int, ...]] = []
    restricted = Instance.restricted

    def heard_restricted(self: Instance, nodes: Any, vehicles: Any) -> Instance:
        pieces.append(tuple(sorted(vehicles)))
        return restricted(self, nodes, vehicles)

    def nobody_served(piece: Instance, *args: Any, **kwargs: Any) -> list[list[int]]:
        return [[] for _ in range(piece.n_vehicles)]  # dearer: every piece stays as it was

    monkeypatch.setattr(Instance, "restricted", heard_restricted)
    monkeypatch.setattr("solver.lns.vroom_routes", nobody_served)
    monkeypatch.setattr("solver.lns.LNS_SEGMENT_ODDS", (0.0, 0.0))  # whole routes only
    every_visit_served = [[k] for k in range(n)]  # so every anchor is a route's middle
    improve_close_routes(instance, every_visit_served, time.time() + 1.0, seed=1)
    assert len(pieces) > 100
    assert all(len(piece) == LNS_ROUTES for piece in pieces)
    # Always the nearest routes would make at most one piece per anchor, here per route.
    assert len(set(pieces)) > 2 * n
    # A piece's routes are among the LNS_CLOSE_ROUTES nearest one anchor: that many in a row.
    assert max(piece[-1] - piece[0] for piece in pieces) <= LNS_CLOSE_ROUTES - 1


def two_towns(n_per_town: int = 20, vehicles_per_town: int = 3) -> Instance:
    """Two towns 3 hours apart, each with its own technicians (who start and end at home in
    their town) and more visits than they can serve in a 6-hour shift."""
    rng = np.random.default_rng(5)
    homes = np.array([[0, 0], [180, 0]])
    points = np.vstack(
        [homes, *(rng.integers(0, 30, size=(n_per_town, 2)) + home for home in homes)]
    )
    travel = np.rint(np.hypot(*(points[:, None, :] - points[None, :, :]).transpose(2, 0, 1)) * 60)
    n = 2 * n_per_town
    vehicles = tuple(
        Vehicle(town, town, 0, 6 * HOUR, capacity=(n,))
        for town in (0, 1)
        for _ in range(vehicles_per_town)
    )
    return Instance(
        travel_s=travel.astype(np.int64),
        distance_m=travel.astype(np.int64),
        node_location=np.arange(2, n + 2, dtype=np.int64),
        service_s=np.full(n, 3600, dtype=np.int64),
        window_s=np.tile([0, 6 * HOUR], (n, 1)).astype(np.int64),
        demand=np.ones((n, 1), dtype=np.int64),
        penalty=np.full(n, 10**6, dtype=np.int64),
        vehicles=vehicles,
    )


def test_the_routes_split_into_two_halves_of_close_routes() -> None:
    instance = two_towns()
    # Each technician with two visits of their own town.
    routes = [[2 * v, 2 * v + 1] for v in range(3)] + [[20 + 2 * v, 21 + 2 * v] for v in range(3)]
    one, other = split_close_routes(instance, routes)
    assert sorted([one, other]) == [[0, 1, 2], [3, 4, 5]]


def test_a_second_cut_takes_the_routes_on_either_side_of_the_first_together() -> None:
    n = 8
    instance = homes_on_a_line(n)
    routes = [[k] for k in range(n)]
    assert sorted(split_close_routes(instance, routes)) == [[0, 1, 2, 3], [4, 5, 6, 7]]
    # Across: the middle half (3 and 4, on either side of the first cut, together) and the ends.
    across = split_close_routes(instance, routes, across=True)
    assert sorted(across) == [[0, 1, 6, 7], [2, 3, 4, 5]]


@needs_vroom
def test_two_searches_on_the_halves_join_into_one_plan_no_dearer() -> None:
    instance = two_towns()
    start = vroom_routes(instance, 0.2, level=0)
    start = [route[:2] for route in start]  # room left for the searches to fill
    one, other = split_close_routes(instance, start)
    deadline = time.time() + 1.0
    mine = improve_close_routes(instance, start, deadline, seed=1, own=one)
    theirs = improve_close_routes(instance, start, deadline, seed=2, own=other)
    # Each search changed only its own routes and brought in only the visits near them.
    assert all(mine[v] == start[v] for v in other)
    assert all(theirs[v] == start[v] for v in one)
    joined = [mine[v] if v in one else theirs[v] for v in range(instance.n_vehicles)]
    assert_routes_fit(instance, joined)
    assert route_cost(instance, joined) < route_cost(instance, start)
    assert route_cost(instance, joined) <= min(
        route_cost(instance, mine), route_cost(instance, theirs)
    )
