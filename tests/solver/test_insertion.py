"""``solver.insertion``: where one more node fits into a route, checked by hand on a line and
against the OR-Tools model itself (``schedule``) on random routes with breaks."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from solver import BreakRule, Instance, SolveParams, Vehicle, schedule, solve
from solver.insertion import (
    empty_day_holds,
    forward_states,
    holds_alone,
    insertions,
    latest_start,
    route_holds,
    schedule_insertion,
    stranded_idle,
    within_reach,
)
from solver.model import build_routing_model
from solver.search import _exact_search
from tests.solver.instances import (
    DAY,
    HOUR,
    grid_instance,
    line_instance,
    one_node_after_a_stop,
)


def test_insertion_on_a_line_by_hand() -> None:
    # Depot 0; nodes at 100 s, 200 s, 300 s; service 60 s; node 1 must start at 400 exactly.
    instance = line_instance(
        [100, 200, 300],
        windows=[(0, 10_000), (400, 400), (0, 10_000)],
        service=60,
    )
    assert route_holds(instance, 0, [0, 1])
    # Node 2 (at 300) fits before node 0? start 0 -> 300, serve till 360, back to 100 at 560,
    # then 1 at 400: no. After node 1 (left at 460, at 300 by 560): yes, 360 s of detour? no:
    # 200 -> 300 -> depot (0) instead of 200 -> depot: 100 + 300 - 200 = 200 s added.
    found = insertions(instance, 0, [0, 1], 2, [[(0, 10_000)]])[0]
    assert [(f.position, f.service_start_s, f.added_travel_s) for f in found] == [(2, 560, 200)]
    assert found[0].added_distance_m == 2000
    # Asked to start by 500, it no longer fits anywhere.
    assert insertions(instance, 0, [0, 1], 2, [[(0, 500)]]) == [[]]
    # The first position is not tried when the route's start is done.
    assert insertions(instance, 0, [0, 1], 2, [[(0, 10_000)]], first_position=3) == [[]]


def test_a_break_must_fit_in_some_gap() -> None:
    lunch = (BreakRule(300, 300, 200),)
    instance = line_instance(
        [100, 100],
        windows=[(100, 100), (0, 10_000)],
        service=150,
        vehicles=(Vehicle(0, 0, 0, 1000, breaks=lunch),),
    )
    # Node 0 served 100-250, break 300-500, then node 1 (same place) at 500: back at 750.
    assert route_holds(instance, 0, [0])
    found = insertions(instance, 0, [0], 1, [[(0, 10_000)], [(250, 290)]])
    assert [f.service_start_s for f in found[0]] == [500]
    # Between 250 and 290 it would overlap the lunch that cannot move: no place.
    assert found[1] == []
    states = forward_states(instance, 0, [0])
    assert states[1] == (100, 2**62)


def test_a_node_holds_alone_when_some_given_vehicle_could_serve_only_it() -> None:
    # Node 0 is served 100-250 and must be; the lunch 150-350 of the first vehicle cannot go
    # around it, the second vehicle's lunch (300-500) can.
    instance = line_instance(
        [100],
        windows=[(100, 100)],
        service=150,
        vehicles=(
            Vehicle(0, 0, 0, 1000, breaks=(BreakRule(150, 150, 200),)),
            Vehicle(0, 0, 0, 1000, breaks=(BreakRule(300, 300, 200),)),
        ),
    )
    assert not holds_alone(instance, 0, [0])
    assert holds_alone(instance, 0, [0, 1])
    assert not holds_alone(instance, 0, [])


def test_a_node_no_vehicle_could_serve_alone_is_allowed_none() -> None:
    # Node 0 is served 100-250 and must be; both lunches (150-350) cannot go around it. Node
    # 1 has no window to speak of; node 2 only the second vehicle may serve.
    lunch = (BreakRule(150, 150, 200),)
    instance = line_instance(
        [100, 100, 100],
        windows=[(100, 100), (0, 1000), (0, 1000)],
        service=150,
        vehicles=(Vehicle(0, 0, 0, 1000, breaks=lunch), Vehicle(0, 0, 0, 1000, breaks=lunch)),
        allowed=(None, None, (1,)),
    )
    assert within_reach(instance).allowed == ((), None, (1,))
    # Node 1 cannot be reached by 100 from 500 s away, but a road matrix may hold a shorter
    # way round through another place: kept.
    far = replace(
        instance,
        travel_s=instance.travel_s.copy(),
        window_s=np.array([[100, 100], [0, 100], [0, 1000]], dtype=np.int64),
    )
    far.travel_s[0, 2] = far.travel_s[2, 0] = 500
    assert not holds_alone(far, 1)
    assert within_reach(far).allowed == ((), None, (1,))
    # Nothing out of reach: the instance as it was.
    free = replace(instance, vehicles=(Vehicle(0, 0, 0, 1000), Vehicle(0, 0, 0, 1000)))
    assert within_reach(free) is free
    # A node that brings a load back could help another: left as it is.
    returning = replace(instance, demand=np.array([[1], [-1], [0]], dtype=np.int64))
    assert within_reach(returning) is returning


def test_a_vehicle_whose_day_cannot_hold_even_empty_is_left_idle_and_the_rest_planned() -> None:
    """The model asks every vehicle's empty route to hold: vehicle 0 ends 900 s from its start
    with a shift of 1000 s and a lunch of 200 s to take on the way (it cannot start once home,
    at 900), so the model had no solution at all, not even every node left out, and the solve
    failed. Vehicle 0 is now left idle and vehicle 1 serves both nodes."""
    lunch = (BreakRule(300, 600, 200),)
    instance = line_instance(
        [100, 900],
        vehicles=(Vehicle(0, 2, 0, 1000, breaks=lunch), Vehicle(0, 0, 0, 10_000)),
    )
    assert not empty_day_holds(instance, 0) and empty_day_holds(instance, 1)
    assert route_holds(instance, 0, [])  # an empty route has nothing to time
    assert not _model_accepts(instance, [[], []])
    idle = stranded_idle(instance)
    assert idle.allowed == ((1,), (1,))
    assert _model_accepts(idle, [[], []])
    solution = solve(instance, SolveParams(time_limit_s=1))
    assert solution.routes[0].nodes == ()
    assert sorted(solution.routes[1].nodes) == [0, 1] and solution.dropped == ()
    # As the model says: the lunch taken once home, or a shift long enough, holds.
    for vehicle in (
        Vehicle(0, 2, 0, 1000, breaks=(BreakRule(300, 950, 200),)),
        Vehicle(0, 2, 0, 1100, breaks=lunch),
    ):
        holding = replace(instance, vehicles=(vehicle, instance.vehicles[1]))
        assert empty_day_holds(holding, 0)
        assert _model_accepts(holding, [[], []])
        assert stranded_idle(holding) is holding
    # No break, a shift shorter than the drive: idle too.
    short = replace(instance, vehicles=(Vehicle(0, 2, 0, 800), instance.vehicles[1]))
    assert not empty_day_holds(short, 0) and not _model_accepts(short, [[], []])
    assert stranded_idle(short).allowed == ((1,), (1,))


def test_the_model_times_an_insertion_later_than_its_earliest_start() -> None:
    """Why a slot's time comes from ``schedule_insertion``: the model leaves as late as its
    return allows. Node 1 is fixed at 1300, after a lunch that must start at 1000; node 0 (at
    100 s) fits first, earliest at 100 (leaving at 0), but the route then waits 400 s before
    lunch: the model leaves at 400 and serves node 0 at 500, lunch 1000-1200, node 1 at 1300."""
    lunch = (BreakRule(1000, 1000, 200),)
    instance = line_instance(
        [100, 100],
        windows=[(0, 10_000), (1300, 1300)],
        service=500,
        vehicles=(Vehicle(0, 0, 0, 10_000, breaks=lunch),),
    )
    found = insertions(instance, 0, [1], 0, [[(0, 10_000)]])[0]
    assert [(f.position, f.service_start_s) for f in found] == [(0, 100), (1, 1800)]
    timed = schedule_insertion(instance, 0, [1], 0, 0, (0, 10_000))
    assert (timed.nodes, timed.start_s, timed.cumul_s, timed.breaks) == (
        (0, 1),
        400,
        (500, 1300),
        ((1000, 200),),
    )
    assert timed.cumul_s == schedule(instance, [[0, 1]]).routes[0].cumul_s
    # The window asked replaces the node's own: asked to start by 300, it starts at 300.
    assert schedule_insertion(instance, 0, [1], 0, 0, (0, 300)).cumul_s == (300, 1300)


def test_capacity_refuses_an_insertion() -> None:
    instance = line_instance(
        [10, 20],
        demand=[[3], [2]],
        vehicles=(Vehicle(0, 0, 0, 10_000, capacity=(4,)),),
    )
    assert insertions(instance, 0, [0], 1, [[(0, 10_000)]]) == [[]]


def _model_accepts(instance: Instance, routes: list[list[int]]) -> bool:
    """Whether the OR-Tools model of ``instance`` accepts exactly ``routes``."""
    handles = build_routing_model(instance)
    handles.routing.CloseModelWithParameters(_exact_search())
    return handles.routing.ReadAssignmentFromRoutes(routes, True) is not None


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
def test_agrees_with_the_model_on_random_insertions(seed: int) -> None:
    """Every insertion said feasible is timed by OR-Tools; every one said infeasible is refused
    by it (the one feasibility and the model agree)."""
    rng = np.random.default_rng(seed)
    instance = grid_instance(14, 1, seed=seed, breaks=True)
    instance = replace(
        instance,
        vehicles=(
            Vehicle(0, 0, 0, DAY, capacity=(99,), breaks=(BreakRule(3 * HOUR, 5 * HOUR, 1800),)),
        ),
    )
    # A route of the nodes that fit, built greedily in window order.
    order = sorted(range(instance.n_nodes), key=lambda n: int(instance.window_s[n, 0]))
    route: list[int] = []
    for node in order[:-4]:
        if route_holds(instance, 0, [*route, node]):
            route.append(node)
    agreed = 0
    for node in order[-4:]:
        for _ in range(3):
            low = int(rng.integers(0, DAY - HOUR))
            asked = (low, low + int(rng.integers(0, 2 * HOUR)))
            trial = replace(
                instance,
                window_s=np.where(
                    np.arange(instance.n_nodes)[:, None] == node,
                    np.array(asked, dtype=np.int64)[None, :],
                    instance.window_s,
                ),
            )
            found = {f.position for f in insertions(trial, 0, route, node, [[asked]])[0]}
            for position in range(len(route) + 1):
                routes = [[*route[:position], node, *route[position:]]]
                holds = _model_accepts(trial, routes)
                assert holds == (position in found), (seed, node, asked, position)
                agreed += 1
    assert agreed > 20
    # And the model times a found insertion: ``schedule_insertion`` (the route alone) as the
    # whole instance does, never before the earliest start the insertion found.
    node = order[-1]
    places = insertions(instance, 0, route, node, [instance.windows(node)])[0]
    assert places
    window = (int(instance.window_s[node, 0]), int(instance.window_s[node, 1]))
    for best in places:
        nodes = [*route[: best.position], node, *route[best.position :]]
        whole = schedule(instance, [nodes]).routes[0]
        alone = schedule_insertion(instance, 0, route, node, best.position, window)
        assert (alone.nodes, alone.cumul_s, alone.start_s) == (
            whole.nodes,
            whole.cumul_s,
            whole.start_s,
        )
        assert alone.cumul_s[best.position] >= best.service_start_s


def _rich_instance(seed: int) -> Instance:
    """One vehicle and 20 nodes with every rule the insertion check restates: two breaks,
    windows with a gap (every other node: two windows), a load that binds (capacity 9,
    demands 1-3) and a commodity used up and picked up on the way (one on board at the start)."""
    rng = np.random.default_rng(seed)
    n = 20
    starts = rng.integers(0, DAY - 6 * HOUR, size=n)
    rules = (BreakRule(3 * HOUR, 4 * HOUR, 1800), BreakRule(6 * HOUR, 7 * HOUR, 900))
    return replace(
        grid_instance(n, 1, seed=seed),
        service_s=np.full(n, 600, dtype=np.int64),
        window_s=np.column_stack([starts, starts + 6 * HOUR]).astype(np.int64),
        gaps_s=tuple(
            ((int(low) + HOUR, int(low) + 3 * HOUR),) if k % 2 == 0 else ()
            for k, low in enumerate(starts)
        ),
        demand=rng.integers(1, 4, size=(n, 1)).astype(np.int64),
        stock_delta=rng.choice([-1, 0, 0, 1], size=(n, 1)).astype(np.int64),
        stock_start=np.array([[1]], dtype=np.int64),
        vehicles=(Vehicle(0, 0, 0, DAY, capacity=(9,), breaks=rules),),
    )


def test_agrees_with_the_model_with_breaks_windows_capacity_and_stock() -> None:
    """Every insertion position of every node left out, on routes where each rule binds: the
    check finds it exactly when OR-Tools accepts the route; and each rule (a break, a second
    window, the load, the stock) is what refuses some insertion the check without it allows."""
    agreed = 0
    refused_only_by: dict[str, int] = {"breaks": 0, "windows": 0, "capacity": 0, "stock": 0}
    for seed in (1, 2, 3, 4):
        instance = _rich_instance(seed)
        vehicle = instance.vehicles[0]
        without = {
            "breaks": replace(instance, vehicles=(replace(vehicle, breaks=()),)),
            "windows": replace(instance, gaps_s=()),
            "capacity": replace(instance, vehicles=(replace(vehicle, capacity=(99,)),)),
            "stock": replace(instance, stock_delta=np.zeros_like(instance.stock_delta)),
        }
        order = sorted(range(instance.n_nodes), key=lambda n: int(instance.window_s[n, 0]))
        route: list[int] = []
        for node in order:  # a few nodes that hold, room for one more demand or two
            trial = [*route, node]
            load = int(instance.demand[trial, 0].sum())
            if len(route) < 4 and load <= 7 and route_holds(instance, 0, trial):
                route = trial
        for node in (n for n in range(instance.n_nodes) if n not in route):
            asked = [instance.windows(node)]
            found = {f.position for f in insertions(instance, 0, route, node, asked)[0]}
            for position in range(len(route) + 1):
                holds = _model_accepts(instance, [[*route[:position], node, *route[position:]]])
                assert holds == (position in found), (seed, node, position)
                agreed += 1
                if holds:
                    continue
                for rule, relaxed in without.items():
                    places = insertions(relaxed, 0, route, node, [relaxed.windows(node)])[0]
                    refused_only_by[rule] += position in {f.position for f in places}
    assert agreed > 250
    assert all(refused_only_by.values()), refused_only_by


def test_a_commodity_used_up_never_goes_below_zero() -> None:
    if "stock_delta" not in Instance.__dataclass_fields__:
        pytest.skip("this solver has no commodities")
    base = line_instance([10, 20, 30], windows=[(0, 10_000)] * 3)
    # One part on the van; nodes 0 and 2 each use one, node 1 uses none.
    stock: dict[str, Any] = {
        "stock_delta": np.array([[-1], [0], [-1]], dtype=np.int64),
        "stock_start": np.array([[1]], dtype=np.int64),
    }
    instance = replace(base, **stock)
    assert route_holds(instance, 0, [0, 1])
    assert insertions(instance, 0, [0], 2, [[(0, 10_000)]]) == [[]]
    assert [f.position for f in insertions(instance, 0, [0], 1, [[(0, 10_000)]])[0]] == [0, 1]
    for position in range(2):
        route = [0]
        route.insert(position, 2)
        assert not _model_accepts(instance, [route])
    assert _model_accepts(instance, [[1, 0]]) and _model_accepts(instance, [[0, 1]])


def test_latest_start_on_a_line_by_hand() -> None:
    # Depot 0; nodes at 100 s, 200 s, 300 s; service 60 s; node 2 must start by 1000.
    instance = line_instance(
        [100, 200, 300],
        windows=[(0, 10_000), (0, 10_000), (0, 1000)],
        service=60,
        vehicles=(Vehicle(0, 0, 0, 2000),),
    )
    route = [0, 1, 2]
    assert latest_start(instance, 0, route, 2, 0) == 1000
    assert latest_start(instance, 0, route, 1, 0) == 1000 - 60 - 100
    assert latest_start(instance, 0, route, 0, 0) == 1000 - 2 * (60 + 100)
    # The last window that lets the rest hold; none when the first already does not.
    gaps = replace(instance, window_s=np.array([(0, 10_000), (0, 500), (0, 1000)]))
    assert latest_start(gaps, 0, route, 1, 0) == 500
    late = replace(instance, window_s=np.array([(0, 10_000), (900, 10_000), (0, 1000)]))
    assert latest_start(late, 0, route, 1, 0) is None


def test_latest_start_depends_on_the_breaks_already_taken() -> None:
    lunch = (BreakRule(300, 300, 200),)
    instance = line_instance(
        [100, 100],
        windows=[(100, 100), (0, 10_000)],
        service=150,
        vehicles=(Vehicle(0, 0, 0, 1000, breaks=lunch),),
    )
    # Lunch taken: node 1 (150 s of service, 100 s from home) may start until 750.
    assert latest_start(instance, 0, [0, 1], 1, 1) == 750
    # Lunch still to take, at 300 exactly: node 1's service must end by then.
    assert latest_start(instance, 0, [0, 1], 1, 0) == 150


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_latest_start_is_the_last_start_from_which_the_route_holds(seed: int) -> None:
    """Against ``route_holds``: the node fixed at its latest start, the route holds; a second
    later (inside its window), it does not."""
    instance = grid_instance(24, 3, seed=seed)
    rng = np.random.default_rng(seed)
    checked = 0
    for _ in range(40):
        picked = rng.permutation(instance.n_nodes)[:3]
        route = [int(n) for n in picked[np.argsort(instance.window_s[picked, 0])]]
        if not route_holds(instance, 0, route):
            continue
        for position, node in enumerate(route):
            latest = latest_start(instance, 0, route, position, 0)
            assert latest is not None
            fixed = instance.window_s.copy()
            fixed[node] = (latest, latest)
            assert route_holds(replace(instance, window_s=fixed), 0, route)
            if latest < instance.window_s[node, 1]:
                fixed[node] = (latest + 1, latest + 1)
                assert not route_holds(replace(instance, window_s=fixed), 0, route)
            checked += 1
    assert checked > 0


@pytest.mark.parametrize(
    ("break_s", "stop_s", "earliest"),
    [(2400, 0, 6000), (4000, 0, 2 * HOUR), (3900, 600, 2 * HOUR + 900)],
)
def test_a_stop_on_the_way_in_is_timed_as_the_model_times_it(
    break_s: int, stop_s: int, earliest: int
) -> None:
    # The cases of test_model's test_a_break_is_never_taken_in_the_wait_for_a_stop_to_open:
    # the break is taken before the stop (which waits for it) or on the drive on, never in
    # the wait for the stop to open.
    instance = one_node_after_a_stop(break_s, stop_s, stopover=True)
    assert forward_states(instance, 0, [0])[1][1] == earliest  # its one break taken
    assert schedule(instance, [[0]]).routes[0].cumul_s == (earliest,)
    (fits,) = insertions(instance, 0, [], 0, [[(0, 10 * HOUR)]])
    assert [fit.service_start_s for fit in fits] == [earliest]
    too_soon = [[(0, earliest - 1)]]
    assert insertions(instance, 0, [], 0, too_soon) == [[]]
