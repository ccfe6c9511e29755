"""``solve``: golden answers on instances small enough to solve by hand, and the race of the
two seeding searches it starts from (which seeds, which is kept, and never a worse answer)."""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import numpy as np
import pytest

from solver import (
    BreakRule,
    Instance,
    InstanceError,
    Progress,
    SolveParams,
    SolverError,
    Vehicle,
    portfolio,
    schedule,
    seeders,
    solve,
    strategies,
)
from solver.cost import route_cost
from solver.lns import improve_close_routes
from solver.params import (
    ALONE_BELOW_NODES,
    ALONE_BELOW_S,
    ALONE_VROOM_THREADS,
    ALONE_WHEN_VROOM_TOP_WITHIN,
    CLOSE_ROUTES_SPLIT_FROM_NODES,
    CLOSE_ROUTES_WHOLE_FROM_S_PER_NODE,
    LATE_SEED_SHARE,
    MIN_SEEDING_ALONE_S,
    MIN_SEEDING_S,
)
from solver.portfolio import race, strategies_for
from solver.seeders import (
    SEEDER_BY_NAME,
    VROOM_SECONDS_AT_250,
    Routes,
    installed_seeders,
    vroom_seconds,
)
from solver.strategies import Strategy
from tests.solver.instances import HOUR, assert_routes_fit, grid_instance, line_instance

QUICK = SolveParams(time_limit_s=2, metaheuristic="greedy_descent")
needs_both = pytest.mark.skipif(
    installed_seeders() != ("pyvrp", "vroom"), reason="PyVRP and VROOM are engine dependencies"
)


class Daemonic:
    """What ``multiprocessing.current_process()`` is in a daemonic process: no children."""

    daemon = True


class CrashingSeeder:
    """A ``Seeder`` that claims every instance and fails on each."""

    name = "pyvrp"

    def can_seed(self, instance: Instance) -> bool:
        return True

    def routes(
        self,
        instance: Instance,
        deadline: float,
        seed: int,
        work_s: float | None = None,
        on_best: Callable[[int], None] | None = None,
        stall_s: float | None = None,
    ) -> Routes:
        raise RuntimeError("seeder crashed")


class LeaveAllOutSeeder:
    """A ``Seeder`` whose routes leave every node out: the poorest seed there is."""

    name = "pyvrp"

    def can_seed(self, instance: Instance) -> bool:
        return True

    def routes(
        self,
        instance: Instance,
        deadline: float,
        seed: int,
        work_s: float | None = None,
        on_best: Callable[[int], None] | None = None,
        stall_s: float | None = None,
    ) -> Routes:
        return [[] for _ in instance.vehicles]


def races(caplog: pytest.LogCaptureFixture) -> list[tuple[list[tuple[str, int]], str]]:
    """Each race logged so far: its ``(strategy, cost)`` per seed, and the strategy kept."""
    return [
        (record.__dict__["seed_costs"], record.__dict__["chosen_seed"])
        for record in caplog.records
        if record.name == "solver.portfolio" and "seed_costs" in record.__dict__
    ]


@pytest.fixture
def race_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """``caplog`` hearing the races ``solve`` runs."""
    caplog.set_level(logging.INFO, logger="solver.portfolio")
    return caplog


# Golden answers.


def test_one_vehicle_visits_a_line_out_and_back() -> None:
    solution = solve(line_instance([300, 100, 200]), QUICK)
    # Optimum: out to the far end and back, 600 s, whatever the order of the near two.
    assert solution.objective == 600
    assert sorted(solution.routes[0].nodes) == [0, 1, 2]
    assert solution.dropped == ()


def test_two_sides_of_the_depot_make_one_round_trip() -> None:
    # Nodes at -200, -100, 100, 200: one tour costs 800; zig-zagging costs more.
    solution = solve(line_instance([-200, 100, -100, 200]), QUICK)
    assert solution.objective == 800
    nodes = solution.routes[0].nodes
    sides = [(-1 if n in (0, 2) else 1) for n in nodes]
    assert sides in ([-1, -1, 1, 1], [1, 1, -1, -1])


def test_time_windows_force_the_order() -> None:
    # Node 0 (at 100) only late, node 1 (at 200) only early: go out to 200 first.
    instance = line_instance([100, 200], windows=[(1000, 1100), (0, 250)])
    route = solve(instance, QUICK).routes[0]
    assert route.nodes == (1, 0)
    assert route.cumul_s[0] <= 250
    assert 1000 <= route.cumul_s[1] <= 1100


def test_unreachable_window_is_dropped_not_served_late() -> None:
    # Node 0 sits 500 s away but must start by 100 s: impossible from a start at 0.
    instance = line_instance([500, 50], windows=[(0, 100), (0, 24 * HOUR)])
    solution = solve(instance, QUICK)
    assert solution.dropped == (0,)
    assert solution.routes[0].nodes == (1,)


def test_no_vehicle_leaves_every_node_out_at_its_penalty() -> None:
    # A re-planned day whose every technician became unavailable: OR-Tools has no model of it.
    instance = dataclasses.replace(line_instance([100, 200], penalty=7), vehicles=())
    solution = solve(instance, QUICK)
    assert (solution.routes, solution.dropped, solution.objective) == ((), (0, 1), 14)
    assert solve(instance, QUICK, initial_routes=[]).dropped == (0, 1)


def test_nothing_any_vehicle_may_serve_is_answered_unsearched(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The group of visits nobody can serve is planned with every technician and a share of
    # the budget by its visits: with 1,000 technicians OR-Tools found no first solution of
    # their empty days in that second, and the largest day the contract allows failed.
    def no_search(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("searched")

    monkeypatch.setattr(portfolio, "search", no_search)
    monkeypatch.setattr(portfolio, "race", no_search)
    fleet = (Vehicle(0, 0, 0, 10 * HOUR), Vehicle(0, 0, 3 * HOUR, 9 * HOUR))
    nobody = line_instance([100, 200], vehicles=fleet, allowed=((), ()), penalty=7)
    solution = solve(nobody, QUICK)
    assert [(r.vehicle, r.nodes) for r in solution.routes] == [(0, ()), (1, ())]
    assert (solution.dropped, solution.objective) == ((0, 1), 14)


def test_a_start_never_offers_a_node_no_vehicle_may_take(capfd: pytest.CaptureFixture[str]) -> None:
    # Node 1's window opens after the shift: no vehicle may take it (``within_reach``). A warm
    # start with it on the route made OR-Tools print "Vehicle 0 is not allowed at index 1" on
    # stderr before the start was repaired.
    fleet = (Vehicle(0, 0, 0, 10 * HOUR),)
    instance = line_instance(
        [100, 200], vehicles=fleet, windows=[(0, HOUR), (20 * HOUR, 21 * HOUR)]
    )
    solution = solve(instance, QUICK, initial_routes=[[0, 1]])
    assert (solution.routes[0].nodes, solution.dropped) == ((0,), (1,))
    assert "not allowed" not in capfd.readouterr().err


def test_allowed_vehicles_are_respected() -> None:
    fleet = (Vehicle(0, 0, 0, 24 * HOUR), Vehicle(0, 0, 0, 24 * HOUR))
    instance = line_instance([100, 100, 100], vehicles=fleet, allowed=((1,), None, (1,)))
    solution = solve(instance, QUICK)
    on = {node: route.vehicle for route in solution.routes for node in route.nodes}
    assert on[0] == 1 and on[2] == 1


def test_the_searches_are_not_offered_a_node_no_vehicle_could_serve(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Node 0 must be served 100-250, inside the only vehicle's fixed lunch (150-350).
    fleet = (Vehicle(0, 0, 0, 10 * HOUR, breaks=(BreakRule(150, 150, 200),)),)
    instance = line_instance(
        [100, 100], windows=[(100, 100), (0, 10 * HOUR)], service=150, vehicles=fleet
    )
    raced: list[Instance] = []
    real_race = portfolio.race

    def race_heard(instance: Instance, *args: Any, **kwargs: Any) -> Any:
        raced.append(instance)
        return real_race(instance, *args, **kwargs)

    monkeypatch.setattr(portfolio, "race", race_heard)
    solution = solve(instance, QUICK)
    assert [given.allowed for given in raced] == [((), None)]
    assert solution.dropped == (0,)


def test_capacity_splits_the_load() -> None:
    fleet = (Vehicle(0, 0, 0, 24 * HOUR, (10,)), Vehicle(0, 0, 0, 24 * HOUR, (10,)))
    instance = line_instance([100, 110, 120], vehicles=fleet, demand=[[6], [6], [4]])
    solution = solve(instance, QUICK)
    loads = [sum([6, 6, 4][n] for n in route.nodes) for route in solution.routes]
    assert sorted(loads) == [6, 10]
    assert solution.dropped == ()


def test_break_is_taken_in_its_window_and_never_during_service() -> None:
    lunch = BreakRule(earliest_start_s=2 * HOUR, latest_start_s=3 * HOUR, duration_s=HOUR // 2)
    fleet = (Vehicle(0, 0, 0, 10 * HOUR, breaks=(lunch,)),)
    instance = line_instance([60, 120, 180, 240], service=HOUR, vehicles=fleet)
    route = solve(instance, QUICK).routes[0]
    ((start, duration),) = route.breaks
    assert 2 * HOUR <= start <= 3 * HOUR and duration == HOUR // 2
    for cumul in route.cumul_s:
        assert start + duration <= cumul or cumul + HOUR <= start


def test_shift_end_bounds_the_day() -> None:
    fleet = (Vehicle(0, 0, 0, 2 * HOUR),)
    instance = line_instance([100, 200, 300], service=HOUR, vehicles=fleet)
    solution = solve(instance, QUICK)
    assert len(solution.routes[0].nodes) == 1  # two hours of service plus travel do not fit
    assert solution.routes[0].end_s <= 2 * HOUR


def test_preferred_vehicle_wins_between_equals() -> None:
    fleet = (Vehicle(0, 0, 0, 24 * HOUR), Vehicle(0, 0, 0, 24 * HOUR))
    instance = line_instance([100, 100], vehicles=fleet, preferred=[1, 0], preference_cost=1000)
    solution = solve(instance, QUICK)
    on = {node: route.vehicle for route in solution.routes for node in route.nodes}
    assert on == {0: 1, 1: 0}


def test_higher_penalty_is_kept_when_only_one_fits() -> None:
    fleet = (Vehicle(0, 0, 0, HOUR + 200),)
    instance = line_instance([100, 100], service=HOUR, vehicles=fleet)
    instance = dataclasses.replace(instance, penalty=np.array([10**5, 10**7], dtype=np.int64))
    solution = solve(instance, QUICK)
    assert solution.routes[0].nodes == (1,) and solution.dropped == (0,)


def test_progress_is_reported() -> None:
    reports: list[Progress] = []
    solve(line_instance([100, 200, 300]), QUICK, on_progress=reports.append)
    assert reports and reports[0].total == 3 and reports[-1].placed == 3


def test_inconsistent_instance_is_refused() -> None:
    instance = line_instance([100, 200])
    broken = dataclasses.replace(instance, service_s=np.zeros(3, dtype=np.int64))
    with pytest.raises(InstanceError, match="service_s"):
        solve(broken, QUICK)


def test_a_preference_for_a_group_outside_the_fleet_is_refused() -> None:
    instance = line_instance([100, 200])  # one vehicle, its own group 0
    absent = dataclasses.replace(instance, preferred=np.array([-1, 1]), preference_cost=60)
    with pytest.raises(InstanceError, match=r"preferred names groups no vehicle is in: \[1\]"):
        solve(absent, QUICK)


def test_an_unknown_strategy_is_refused_before_any_seeding(
    race_log: pytest.LogCaptureFixture,
) -> None:
    with pytest.raises(SolverError, match="unknown first solution strategy"):
        solve(grid_instance(20, 3), SolveParams(time_limit_s=3, first_solution="nearest"))
    assert races(race_log) == []


# Where the search starts.


def test_given_routes_are_searched_on_from_without_seeding(
    race_log: pytest.LogCaptureFixture,
) -> None:
    instance = line_instance([100, 200, 300, 400])
    poor = [[3, 0, 2, 1]]
    reports: list[Progress] = []
    solution = solve(instance, QUICK, initial_routes=poor, on_progress=reports.append)
    assert races(race_log) == []
    assert reports[0].best_cost == schedule(instance, poor).objective == 1200
    assert solution.objective == 800 and solution.dropped == ()


@pytest.mark.parametrize(
    ("race_offset", "from_known"), [(None, True), (+1, True), (0, False), (-1, False)]
)
def test_known_routes_start_the_search_unless_the_race_found_as_cheap(
    race_offset: int | None, from_known: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A part's quick routes (``solver.parts``): its answer is to be no worse than them, also
    # where no seeding search runs (``race_offset`` None: too little time) or where the
    # race's cheapest seed costs more.
    instance = line_instance([100, 200, 300, 400])
    known = [[0, 1, 2, 3]]
    raced = [[3, 2, 1, 0]]
    known_cost = route_cost(instance, known)

    def fake_race(*args: Any, **kwargs: Any) -> portfolio.Race | None:
        if race_offset is None:
            return None
        seed = strategies.Seed(Strategy.PYVRP_ALONE, raced)
        return portfolio.Race((seed,), (known_cost + race_offset,))

    started_from: list[Any] = []

    def fake_search(instance: Instance, params: SolveParams, **kwargs: Any) -> Any:
        started_from.append(kwargs["initial_routes"])
        return schedule(instance, kwargs["initial_routes"])

    monkeypatch.setattr("solver.portfolio.race", fake_race)
    monkeypatch.setattr("solver.portfolio.search", fake_search)
    solve(instance, QUICK, known=known)
    assert started_from == [known if from_known else raced]


@needs_both
def test_the_racing_searches_follow_what_the_seeders_can_express() -> None:
    plain, with_breaks = grid_instance(), grid_instance(breaks=True)
    both = SolveParams()
    # A small day: VROOM's run is over in a moment, here, and its routes are a plan at once.
    assert strategies_for(plain, both) == (Strategy.VROOM_THEN_PYVRP, Strategy.PYVRP_ALONE)
    # A bigger day, or a reproducible run: PyVRP here, VROOM (holding its process) aside.
    bigger = grid_instance(ALONE_BELOW_NODES)
    assert strategies_for(bigger, both) == (Strategy.PYVRP_ALONE, Strategy.VROOM_THEN_PYVRP)
    same_each_time = SolveParams(reproducible=True)
    assert strategies_for(plain, same_each_time) == (
        Strategy.PYVRP_ALONE,
        Strategy.VROOM_THEN_PYVRP,
    )
    # The shorter VROOM here: this process then has a first plan at about half the budget.
    assert strategies_for(with_breaks, both) == (
        Strategy.VROOM_SHORT_THEN_ORTOOLS,
        Strategy.VROOM_FULL_THEN_ORTOOLS,
    )
    pyvrp_only = SolveParams(seeders=("pyvrp",))
    assert strategies_for(plain, pyvrp_only) == (Strategy.PYVRP_ALONE, Strategy.PYVRP_ALONE)
    assert strategies_for(with_breaks, pyvrp_only) is None
    assert strategies_for(plain, SolveParams(seeders=())) is None
    soft = dataclasses.replace(plain, soft_window_s=plain.window_s.copy(), soft_window_cost=1)
    assert strategies_for(soft, both) is None


@needs_both
def test_solve_starts_from_the_cheaper_seed_and_never_does_worse(
    race_log: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    pyvrp_here(monkeypatch)
    instance = grid_instance(40, 5)
    solution = solve(instance, SolveParams(time_limit_s=RACE_FROM_S))
    ((seed_costs, chosen),) = races(race_log)
    costs = dict(seed_costs)
    assert sorted(costs) == ["pyvrp-alone", "vroom-then-pyvrp"]
    assert costs[chosen] == min(costs.values())
    assert solution.objective <= min(costs.values())
    assert solution.dropped == ()
    assert_routes_fit(instance, [list(route.nodes) for route in solution.routes])


@needs_both
def test_a_poor_seed_is_passed_over_for_the_cheaper(
    monkeypatch: pytest.MonkeyPatch, race_log: pytest.LogCaptureFixture
) -> None:
    # This process's PyVRP leaves every visit out; the side process keeps its own PyVRP.
    monkeypatch.setitem(SEEDER_BY_NAME, "pyvrp", LeaveAllOutSeeder())
    pyvrp_here(monkeypatch)
    instance = grid_instance(30, 4)
    solution = solve(instance, SolveParams(time_limit_s=3))
    ((seed_costs, chosen),) = races(race_log)
    costs = dict(seed_costs)
    assert costs["pyvrp-alone"] == int(instance.penalty.sum())
    assert costs["vroom-then-pyvrp"] < costs["pyvrp-alone"]
    assert chosen == "vroom-then-pyvrp"
    assert solution.objective <= costs["vroom-then-pyvrp"]
    assert solution.dropped == ()


@needs_both
def test_without_a_second_process_the_searches_take_turns(
    monkeypatch: pytest.MonkeyPatch, race_log: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(multiprocessing, "current_process", Daemonic)
    pyvrp_here(monkeypatch)
    instance = grid_instance(20, 3)
    solution = solve(instance, SolveParams(time_limit_s=3))
    ((seed_costs, chosen),) = races(race_log)
    # Both searches ran here, the side's first, each in half the time.
    assert [strategy for strategy, _ in seed_costs] == ["vroom-then-pyvrp", "pyvrp-alone"]
    costs = dict(seed_costs)
    assert costs[chosen] == min(costs.values())
    assert solution.objective <= costs[chosen]
    assert solution.dropped == ()


def pyvrp_here(monkeypatch: pytest.MonkeyPatch) -> None:
    """PyVRP alone in this process and VROOM then PyVRP in the side process, as on a day
    bigger than these (on a small one VROOM's quick run goes here instead), on a budget from
    ``RACE_FROM_S`` long enough to race (a shorter one has VROOM's search alone)."""
    monkeypatch.setattr("solver.portfolio.ALONE_WHEN_VROOM_TOP_WITHIN", 0.0)
    monkeypatch.setattr("solver.portfolio.ALONE_BELOW_S", RACE_FROM_S)


def vroom_threads_on_eight_cores(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """On a machine of eight cores, the threads of each VROOM run in this process, one item a
    run."""
    monkeypatch.setattr("solver.portfolio._cores", lambda: 8)
    threads: list[int] = []

    def vroom_routes(*args: Any, **kwargs: Any) -> Any:
        threads.append(kwargs["threads"])
        return seeders.vroom_routes(*args, **kwargs)

    monkeypatch.setattr("solver.strategies.vroom_routes", vroom_routes)
    return threads


#: The budget from which the tests' small days race (``not_alone``): ``ALONE_BELOW_S`` is
#: measured on days of hundreds of visits; a race on 25 needs no 5 s.
RACE_FROM_S = 2.0


def not_alone(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """As on a day big enough that VROOM's most thorough level takes a good part of the
    budget, and a budget from ``RACE_FROM_S`` long enough to race: no search alone. Returns the
    threads of each VROOM run in this process (on eight cores), one item a run."""
    monkeypatch.setattr("solver.portfolio.ALONE_WHEN_VROOM_TOP_WITHIN", 0.0)
    monkeypatch.setattr("solver.portfolio.ALONE_BELOW_S", RACE_FROM_S)
    return vroom_threads_on_eight_cores(monkeypatch)


class CloseRoutesSearches:
    """``improve_close_routes`` heard: the seed and the vehicles (``own``) of each search, and
    the cost of the routes it returned; ``dearer_seed``'s search returns empty routes, every
    node left out, dearer than any it was given."""

    __name__ = "improve_close_routes"

    def __init__(self, dearer_seed: int | None = None) -> None:
        self.calls: list[tuple[int, tuple[int, ...] | None, int]] = []
        #: By seed, the routes each search was given and those it returned.
        self.routes: dict[int, tuple[Routes, Routes]] = {}
        self.dearer_seed = dearer_seed
        #: The seeds of the searches given a ``tell`` (someone listens to them).
        self.told: list[int] = []

    def __call__(
        self,
        instance: Instance,
        routes: Routes,
        until: float,
        seed: int,
        own: list[int] | None = None,
        tell: Callable[[Routes], None] | None = None,
    ) -> Routes:
        if tell is not None:
            self.told.append(seed)
        found = (
            [[] for _ in routes]
            if seed == self.dearer_seed
            else improve_close_routes(instance, routes, until, seed, own, tell=tell)
        )
        mine = None if own is None else tuple(own)
        self.calls.append((seed, mine, route_cost(instance, found)))
        self.routes[seed] = ([list(r) for r in routes], [list(r) for r in found])
        return found


@needs_both
@pytest.mark.parametrize(
    ("least", "as_if"),
    [
        ("CLOSE_ROUTES_SPLIT_FROM_NODES", 25),  # a day as big as the split: halves
        ("CLOSE_ROUTES_WHOLE_FROM_S_PER_NODE", float("inf")),  # too little time a node
    ],
)
def test_with_breaks_vroom_runs_once_on_both_cores_then_again_on_each_half_of_the_routes(
    least: str,
    as_if: float,
    race_log: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    threads = not_alone(monkeypatch)
    monkeypatch.setattr(f"solver.portfolio.{least}", as_if)
    monkeypatch.setattr("solver.portfolio._SideProcess", InlineSide)  # its calls heard here
    searches = CloseRoutesSearches()
    monkeypatch.setattr("solver.portfolio.improve_close_routes", searches)
    instance = grid_instance(25, 4, breaks=True, preferences=True)
    assert instance.n_nodes == 25
    solution = solve(instance, SolveParams(time_limit_s=RACE_FROM_S + 0.5, seed=7))
    ((seed_costs, chosen),) = races(race_log)
    # One VROOM run on both cores (in the side process, run here by the inline side); VROOM
    # again on close routes, half of them here and half in the side process; OR-Tools' search
    # from the joined halves, its answer as it is.
    assert threads == [ALONE_VROOM_THREADS]
    owned = sorted((seed, own) for seed, own, _ in searches.calls)
    assert [seed for seed, _ in owned] == [7, 8]
    here, side = (set(own or ()) for _, own in owned)
    assert here and side and not here & side
    assert here | side == set(range(instance.n_vehicles))
    assert [strategy for strategy, _ in seed_costs] == ["vroom-once-then-lns"] == [chosen]
    assert solution.objective == seed_costs[0][1]
    assert solution.dropped == ()
    assert_routes_fit(instance, [list(route.nodes) for route in solution.routes])


@needs_both
def test_the_searches_on_halves_run_in_rounds_each_cutting_the_joined_routes_again(
    race_log: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    not_alone(monkeypatch)
    monkeypatch.setattr("solver.portfolio.CLOSE_ROUTES_SPLIT_FROM_NODES", 25)
    monkeypatch.setattr("solver.portfolio.LNS_HALVES_ROUND_S", 0.1)
    monkeypatch.setattr("solver.portfolio._SideProcess", InlineSide)
    searches = CloseRoutesSearches()
    monkeypatch.setattr("solver.portfolio.improve_close_routes", searches)
    instance = grid_instance(25, 4, breaks=True, preferences=True)
    solve(instance, SolveParams(time_limit_s=RACE_FROM_S + 0.5, seed=7))
    seeds = sorted(searches.routes)
    assert len(seeds) >= 4 and seeds == list(range(7, 7 + len(seeds)))  # two a round
    halves = [
        {frozenset(own or ()) for seed, own, _ in searches.calls if seed in (k, k + 1)}
        for k in seeds[::2]
    ]
    for cut in halves:  # two halves of every route
        one, other = cut
        assert one and other and one | other == set(range(instance.n_vehicles))
    assert halves[1] != halves[0]  # the second round cut across the first
    for k in seeds[2::2]:  # each round from the halves the round before joined
        joined: list[list[int]] = [[] for _ in range(instance.n_vehicles)]
        for seed, own, _ in searches.calls:
            if seed in (k - 2, k - 1):
                for v in own or ():
                    joined[v] = searches.routes[seed][1][v]
        assert searches.routes[k][0] == searches.routes[k + 1][0] == joined


@needs_both
def test_with_breaks_vroom_s_one_run_is_in_the_side_process_while_this_one_waits(
    race_log: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # VROOM's search holds the interpreter of the process it runs in for its whole run (49 s
    # on 2,500 visits at 120 s): in the side process, this process's threads (a job's
    # heartbeat and drafts) go on while it runs.
    threads_here = not_alone(monkeypatch)
    instance = grid_instance(25, 4, breaks=True, preferences=True)
    heard: list[Progress] = []
    params = SolveParams(time_limit_s=RACE_FROM_S + 0.5, seed=7)
    solution = solve(instance, params, on_progress=heard.append)
    ((seed_costs, chosen),) = races(race_log)
    assert [strategy for strategy, _ in seed_costs] == ["vroom-once-then-lns"] == [chosen]
    assert threads_here == []  # no VROOM run here
    # Its routes were reported here, as they came, before the searches on from them.
    assert heard and heard[0].placed is not None
    assert solution.dropped == ()
    assert_routes_fit(instance, [list(route.nodes) for route in solution.routes])


@needs_both
def test_with_breaks_and_time_enough_a_node_both_processes_search_the_whole_day(
    race_log: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    not_alone(monkeypatch)
    side = InlineSide()
    monkeypatch.setattr("solver.portfolio._SideProcess", lambda: side)
    searches = CloseRoutesSearches()
    monkeypatch.setattr("solver.portfolio.improve_close_routes", searches)
    instance = grid_instance(25, 4, breaks=True, preferences=True)
    params = SolveParams(time_limit_s=RACE_FROM_S + 0.5, seed=7)
    # 25 nodes, far below the split, with about a second until OR-Tools' turn: some 40 ms a
    # node, four times the least.
    assert instance.n_nodes < CLOSE_ROUTES_SPLIT_FROM_NODES
    assert 4 * CLOSE_ROUTES_WHOLE_FROM_S_PER_NODE * instance.n_nodes <= 1.0
    solution = solve(instance, params)
    ((seed_costs, _),) = races(race_log)
    # VROOM's one run in the side process; then the side's search on the whole day, from seed
    # 8, and this process's, from seed 7.
    assert side.given == ["one_vroom_routes", "improve_close_routes"]
    assert sorted((seed, own) for seed, own, _ in searches.calls) == [(7, None), (8, None)]
    assert [strategy for strategy, _ in seed_costs] == ["vroom-once-then-lns"]
    # OR-Tools started from the cheaper of the two and answered no dearer.
    assert solution.objective <= min(cost for _, _, cost in searches.calls)
    assert_routes_fit(instance, [list(route.nodes) for route in solution.routes])


@needs_both
@pytest.mark.parametrize("whole_day", [True, False], ids=["whole-day", "halves"])
def test_the_close_routes_search_here_is_heard_on_the_way(
    whole_day: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Someone listening hears the routes of this process's close-routes search as it finds
    cheaper ones (``solver.strategies.routes_teller``), not only its answer; the side's search,
    in another process, is heard when it answers."""
    not_alone(monkeypatch)
    if not whole_day:
        monkeypatch.setattr("solver.portfolio.CLOSE_ROUTES_SPLIT_FROM_NODES", 25)
    monkeypatch.setattr("solver.portfolio._SideProcess", InlineSide)
    monkeypatch.setattr("solver.strategies.LNS_TELL_FIRST_S", 0.0)
    monkeypatch.setattr("solver.strategies.LNS_TELL_TIMINGS", 0)

    def cut_short(instance: Instance, deadline: float, *args: Any) -> Routes:
        routes = strategies.one_vroom_routes(instance, deadline, *args)
        return [route[:-1] for route in routes]  # each route leaves a visit for the search

    monkeypatch.setattr("solver.portfolio.one_vroom_routes", cut_short)
    searches = CloseRoutesSearches()
    told: list[tuple[tuple[int, ...], ...]] = []

    def heard_on_the_way(
        instance: Instance,
        routes: Routes,
        until: float,
        seed: int,
        own: list[int] | None = None,
        tell: Callable[[Routes], None] | None = None,
    ) -> Routes:
        if tell is None:  # the side's, run here at once by the inline side: it finds nothing
            return [list(route) for route in routes]

        def recorded(found: Routes) -> None:
            told.append(tuple(map(tuple, found)))
            tell(found)

        return searches(instance, routes, until, seed, own, recorded)

    monkeypatch.setattr("solver.portfolio.improve_close_routes", heard_on_the_way)
    instance = grid_instance(25, 4, breaks=True, preferences=True)
    heard: list[Progress] = []
    params = SolveParams(time_limit_s=RACE_FROM_S + 2.0, seed=7)
    solve(instance, params, on_progress=heard.append, snapshots=True)
    assert searches.told == [7] and told
    snapshots = {progress.routes for progress in heard if progress.routes is not None}
    assert set(told) & snapshots


@needs_both
@pytest.mark.parametrize("dearer_seed", [7, 8])
def test_of_two_whole_day_searches_the_cheaper_routes_are_kept(
    dearer_seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    not_alone(monkeypatch)
    monkeypatch.setattr("solver.portfolio._SideProcess", InlineSide)
    searches = CloseRoutesSearches(dearer_seed)
    monkeypatch.setattr("solver.portfolio.improve_close_routes", searches)
    kept: list[Routes] = []
    searched_from = portfolio._searched_from

    def heard_searched_from(
        strategy: Strategy, instance: Instance, routes: Routes, *args: Any
    ) -> list[strategies.Seed]:
        kept.append(routes)
        return searched_from(strategy, instance, routes, *args)

    monkeypatch.setattr("solver.portfolio._searched_from", heard_searched_from)
    instance = grid_instance(25, 4, breaks=True, preferences=True)
    solve(instance, SolveParams(time_limit_s=RACE_FROM_S + 0.5, seed=7))
    costs = {seed: cost for seed, _, cost in searches.calls}
    assert set(costs) == {7, 8}
    assert route_cost(instance, kept[0]) == costs[15 - dearer_seed] < costs[dearer_seed]


class FailingSide:
    """A side process whose every search fails (a worker that crashed while searching)."""

    def __enter__(self) -> FailingSide:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def submit(self, fn: Callable[..., object], *args: object) -> Future[object]:
        failed: Future[object] = Future()
        failed.set_exception(RuntimeError("the side process died"))
        return failed


class BrokenSide(FailingSide):
    """A side process that died at start: its pool refuses work."""

    def submit(self, fn: Callable[..., object], *args: object) -> Future[object]:
        raise BrokenProcessPool("A child process terminated abruptly")


@needs_both
@pytest.mark.parametrize("side", [FailingSide, BrokenSide])
def test_when_the_side_half_fails_the_day_is_still_planned_from_vroom_s_routes(
    side: type[FailingSide], race_log: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    not_alone(monkeypatch)
    monkeypatch.setattr("solver.portfolio._SideProcess", side)
    vroom_gave: list[Routes] = []
    one_vroom_routes = strategies.one_vroom_routes

    def heard_one_vroom_routes(*args: Any, **kwargs: Any) -> Routes:
        vroom_gave.append(one_vroom_routes(*args, **kwargs))
        return vroom_gave[-1]

    monkeypatch.setattr("solver.portfolio.one_vroom_routes", heard_one_vroom_routes)
    instance = grid_instance(25, 4, breaks=True, preferences=True)
    solution = solve(instance, SolveParams(time_limit_s=RACE_FROM_S + 0.5))
    ((seed_costs, _),) = races(race_log)
    assert [strategy for strategy, _ in seed_costs] == ["vroom-once-then-lns"]
    assert solution.dropped == ()
    assert_routes_fit(instance, [list(route.nodes) for route in solution.routes])
    assert solution.objective <= route_cost(instance, vroom_gave[0])


class InlineSide(FailingSide):
    """A side process that runs what it is given here, at once, and keeps its names."""

    def __init__(self) -> None:
        self.given: list[str] = []

    def submit(self, fn: Callable[..., object], *args: object) -> Future[object]:
        self.given.append(getattr(fn, "__name__", repr(fn)))
        done: Future[object] = Future()
        done.set_result(fn(*args))
        return done


@needs_both
def test_vroom_past_or_tools_turn_goes_straight_to_timing_without_the_side_half(
    race_log: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    not_alone(monkeypatch)
    side = InlineSide()
    monkeypatch.setattr("solver.portfolio._SideProcess", lambda: side)
    vroom_gave: list[Routes] = []
    one_vroom_routes = strategies.one_vroom_routes

    def late_one_vroom_routes(instance: Instance, deadline: float, *args: Any) -> Routes:
        vroom_gave.append(one_vroom_routes(instance, deadline, *args))
        # As a big day's VROOM runs past its timeout: OR-Tools' turn has come.
        time.sleep(max(0.0, strategies.polish_from(instance, deadline) - time.time()))
        return vroom_gave[-1]

    monkeypatch.setattr("solver.portfolio.one_vroom_routes", late_one_vroom_routes)
    instance = grid_instance(25, 4, breaks=True, preferences=True)
    solution = solve(instance, SolveParams(time_limit_s=RACE_FROM_S + 0.5))
    ((seed_costs, _),) = races(race_log)
    assert [strategy for strategy, _ in seed_costs] == ["vroom-once-then-lns"]
    # The side process ran VROOM but was given no half of the routes.
    assert side.given == ["late_one_vroom_routes"]
    assert_routes_fit(instance, [list(route.nodes) for route in solution.routes])
    assert solution.objective <= route_cost(instance, vroom_gave[0])


class LateSide(FailingSide):
    """A side process whose VROOM run answers ``late_s`` past its deadline's grace (as a big
    day's start runs past VROOM's timeout on a busy machine)."""

    grace_s = 0.2
    late_s = 0.3

    def submit(self, fn: Callable[..., object], *args: object) -> Future[object]:
        future: Future[object] = Future()
        deadline = float(args[1])  # type: ignore[arg-type]

        def answer() -> None:
            found = fn(*args)
            time.sleep(max(0.0, deadline + self.grace_s + self.late_s - time.time()))
            if not future.done():  # given up on (cancelled) otherwise
                future.set_result(found)

        threading.Thread(target=answer, daemon=True).start()
        return future


@needs_both
def test_the_one_vroom_run_past_its_grace_is_still_waited_for(
    race_log: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without it OR-Tools started from nothing: a 2,143-node part at 10 s on a busy machine
    # found no first plan, and the day failed.
    not_alone(monkeypatch)
    monkeypatch.setattr("solver.portfolio.SEED_GRACE_S", LateSide.grace_s)
    monkeypatch.setattr("solver.portfolio._SideProcess", LateSide)
    instance = grid_instance(25, 4, breaks=True, preferences=True)
    params = SolveParams(time_limit_s=RACE_FROM_S + 0.5)
    assert LATE_SEED_SHARE * params.time_limit_s > LateSide.late_s
    solution = solve(instance, params)
    ((seed_costs, _),) = races(race_log)
    assert [strategy for strategy, _ in seed_costs] == ["vroom-once-then-lns"]
    assert_routes_fit(instance, [list(route.nodes) for route in solution.routes])
    # Later than that share, it is given up: OR-Tools searches on its own.
    monkeypatch.setattr(LateSide, "late_s", LATE_SEED_SHARE * params.time_limit_s + 0.3)
    race_log.clear()
    solve(instance, params)
    assert races(race_log) == []


@needs_both
def test_a_side_process_dead_at_start_only_loses_its_racer(
    race_log: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("solver.portfolio._SideProcess", BrokenSide)
    pyvrp_here(monkeypatch)
    instance = grid_instance(25, 4)  # no breaks: PyVRP here, VROOM then PyVRP in the side
    solution = solve(instance, SolveParams(time_limit_s=2))
    ((seed_costs, chosen),) = races(race_log)
    assert [strategy for strategy, _ in seed_costs] == ["pyvrp-alone"] == [chosen]
    assert solution.dropped == ()


@needs_both
def test_with_breaks_and_no_second_process_the_one_vroom_run_is_searched_here(
    race_log: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(multiprocessing, "current_process", Daemonic)
    threads = not_alone(monkeypatch)
    instance = grid_instance(25, 4, breaks=True, preferences=True)
    solution = solve(instance, SolveParams(time_limit_s=RACE_FROM_S + 0.5))
    ((seed_costs, chosen),) = races(race_log)
    assert [strategy for strategy, _ in seed_costs] == ["vroom-once-then-lns"] == [chosen]
    assert threads == [ALONE_VROOM_THREADS]
    assert solution.objective == seed_costs[0][1] and solution.dropped == ()
    # A reproducible run keeps its two racers, which count work, not time.
    params = SolveParams(time_limit_s=RACE_FROM_S + 0.5, reproducible=True)
    raced = race(instance, params)
    assert raced is not None
    assert sorted(seed.strategy for seed in raced.seeds) == [
        "vroom-full-then-ortools",
        "vroom-short-then-ortools",
    ]


def no_side_process(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Side processes the portfolio would start, each an item, none started."""
    started: list[bool] = []
    monkeypatch.setattr(
        "solver.portfolio.spawned_pool", lambda *args, **kwargs: started.append(True)
    )
    return started


@needs_both
def test_with_breaks_on_a_short_budget_one_search_runs_here_for_the_whole_budget(
    race_log: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No side process is started: a second process costs more than it gains on so short a
    # budget (ALONE_BELOW_S).
    started = no_side_process(monkeypatch)
    instance = grid_instance(25, 4, breaks=True, preferences=True)
    params = SolveParams(time_limit_s=ALONE_BELOW_S / 2)
    solution = solve(instance, params)
    ((seed_costs, chosen),) = races(race_log)
    assert [strategy for strategy, _ in seed_costs] == ["vroom-full-then-ortools"] == [chosen]
    assert started == []
    assert solution.objective == seed_costs[0][1] and solution.dropped == ()
    assert_routes_fit(instance, [list(route.nodes) for route in solution.routes])
    # A reproducible run keeps its two searches, which count work, not time.
    assert race(instance, dataclasses.replace(params, reproducible=True)) is not None
    assert len(races(race_log)[-1][0]) == 2
    assert_routes_fit(instance, [list(route.nodes) for route in solution.routes])


@needs_both
def test_without_breaks_on_a_short_budget_a_day_not_small_has_vroom_s_search_alone(
    race_log: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PyVRP here is well behind VROOM on days of hundreds of visits, and VROOM aside would
    # start late: on a short budget VROOM's full search alone, as on a day with breaks.
    started = no_side_process(monkeypatch)
    monkeypatch.setattr("solver.portfolio.ALONE_WHEN_VROOM_TOP_WITHIN", 0.0)  # not small
    instance = grid_instance(25, 4)
    params = SolveParams(time_limit_s=ALONE_BELOW_S / 2)
    assert strategies_for(instance, params) == (Strategy.PYVRP_ALONE, Strategy.VROOM_THEN_PYVRP)
    solution = solve(instance, params)
    ((seed_costs, chosen),) = races(race_log)
    assert [strategy for strategy, _ in seed_costs] == ["vroom-full-then-ortools"] == [chosen]
    assert started == []
    assert solution.objective == seed_costs[0][1] and solution.dropped == ()
    # A small day (VROOM's top level quick): PyVRP after VROOM here, and no process aside
    # (it would take longer to start than the search to end); a day PyVRP alone may seed
    # races.
    monkeypatch.undo()
    started = no_side_process(monkeypatch)
    race_log.clear()
    solve(instance, params)
    ((seed_costs, _),) = races(race_log)
    assert [strategy for strategy, _ in seed_costs] == ["vroom-then-pyvrp"]
    assert started == []
    monkeypatch.undo()
    race_log.clear()
    solve(instance, dataclasses.replace(params, seeders=("pyvrp",)))
    ((seed_costs, _),) = races(race_log)
    assert [strategy for strategy, _ in seed_costs] == ["pyvrp-alone", "pyvrp-alone"]


@needs_both
def test_with_breaks_a_small_day_is_searched_here_with_vroom_on_both_cores(
    race_log: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # VROOM's most thorough level ends in a blink on 25 visits: both racers would reach it
    # at once, so one search runs, whatever the budget, and VROOM has the cores the race
    # would have used.
    started = no_side_process(monkeypatch)
    threads = vroom_threads_on_eight_cores(monkeypatch)
    instance = grid_instance(25, 4, breaks=True, preferences=True)
    top_s = vroom_seconds(len(VROOM_SECONDS_AT_250) - 1, instance.n_nodes, instance.n_vehicles, 2)
    budget_s = ALONE_BELOW_S + 1.0
    assert top_s <= ALONE_WHEN_VROOM_TOP_WITHIN * budget_s
    solution = solve(instance, SolveParams(time_limit_s=budget_s))
    ((seed_costs, chosen),) = races(race_log)
    assert [strategy for strategy, _ in seed_costs] == ["vroom-full-then-ortools"] == [chosen]
    assert started == [] and threads == [ALONE_VROOM_THREADS]
    assert solution.objective == seed_costs[0][1] and solution.dropped == ()
    assert_routes_fit(instance, [list(route.nodes) for route in solution.routes])


@needs_both
def test_with_breaks_a_day_of_many_nodes_races_however_soon_vroom_s_top_level_ends(
    race_log: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # From ALONE_BELOW_NODES nodes VROOM again on close routes finds more than a search alone
    # that ends when it stalls, even where VROOM's most thorough level ends in a blink.
    instance = grid_instance(25, 4, breaks=True, preferences=True)
    monkeypatch.setattr("solver.portfolio.ALONE_BELOW_S", RACE_FROM_S)
    monkeypatch.setattr("solver.portfolio.ALONE_BELOW_NODES", instance.n_nodes)
    monkeypatch.setattr("solver.portfolio._SideProcess", InlineSide)
    searches = CloseRoutesSearches()
    monkeypatch.setattr("solver.portfolio.improve_close_routes", searches)
    budget_s = RACE_FROM_S + 0.5
    top_s = vroom_seconds(len(VROOM_SECONDS_AT_250) - 1, instance.n_nodes, instance.n_vehicles, 2)
    assert top_s <= ALONE_WHEN_VROOM_TOP_WITHIN * budget_s
    solution = solve(instance, SolveParams(time_limit_s=budget_s, seed=7))
    ((seed_costs, chosen),) = races(race_log)
    assert [strategy for strategy, _ in seed_costs] == ["vroom-once-then-lns"] == [chosen]
    assert sorted(seed for seed, _, _ in searches.calls) == [7, 8]
    assert solution.objective == seed_costs[0][1] and solution.dropped == ()
    assert_routes_fit(instance, [list(route.nodes) for route in solution.routes])
    # With the bound one node above the day, the same day is searched alone.
    monkeypatch.setattr("solver.portfolio.ALONE_BELOW_NODES", instance.n_nodes + 1)
    solve(instance, SolveParams(time_limit_s=budget_s, seed=7))
    assert [strategy for strategy, _ in races(race_log)[-1][0]] == ["vroom-full-then-ortools"]


@needs_both
def test_with_breaks_a_budget_under_the_race_s_least_seeding_still_starts_from_vroom(
    race_log: pytest.LogCaptureFixture,
) -> None:
    # No process to start: VROOM's routes are worth having on the shortest budget (the small
    # part of a day, given its least share), where OR-Tools' first solution does far worse.
    instance = grid_instance(25, 4, breaks=True, preferences=True)
    budget_s = (MIN_SEEDING_S + MIN_SEEDING_ALONE_S) / 2
    solution = solve(instance, SolveParams(time_limit_s=budget_s))
    ((seed_costs, chosen),) = races(race_log)
    assert [strategy for strategy, _ in seed_costs] == ["vroom-full-then-ortools"] == [chosen]
    assert solution.objective == seed_costs[0][1] and solution.dropped == ()
    # Below the least seeding of a search alone, OR-Tools searches from its first solution.
    solve(instance, SolveParams(time_limit_s=MIN_SEEDING_ALONE_S / 2))
    assert len(races(race_log)) == 1


@needs_both
def test_a_failing_seeder_only_loses_its_seed(
    monkeypatch: pytest.MonkeyPatch, race_log: pytest.LogCaptureFixture
) -> None:
    # This process's PyVRP fails; the side process keeps its own PyVRP.
    monkeypatch.setitem(SEEDER_BY_NAME, "pyvrp", CrashingSeeder())
    pyvrp_here(monkeypatch)
    instance = grid_instance(14, 2)
    solution = solve(instance, SolveParams(time_limit_s=3))
    ((seed_costs, chosen),) = races(race_log)
    assert seed_costs == [("vroom-then-pyvrp", seed_costs[0][1])]
    assert chosen == "vroom-then-pyvrp"
    assert solution.objective <= seed_costs[0][1]
    assert solution.dropped == ()


@needs_both
def test_a_missing_seeder_only_loses_its_searches(
    monkeypatch: pytest.MonkeyPatch, race_log: pytest.LogCaptureFixture
) -> None:
    instance = grid_instance(14, 2)
    # Without VROOM, two PyVRP searches race (different seeds).
    monkeypatch.setitem(sys.modules, "vroom", None)
    assert solve(instance, SolveParams(time_limit_s=2)).dropped == ()
    ((seed_costs, _),) = races(race_log)
    assert [strategy for strategy, _ in seed_costs] == ["pyvrp-alone", "pyvrp-alone"]
    # Without either, OR-Tools searches alone.
    monkeypatch.setitem(sys.modules, "pyvrp", None)
    solution = solve(instance, SolveParams(time_limit_s=1))
    assert len(races(race_log)) == 1
    assert solution.dropped == ()


@needs_both
def test_the_race_prices_each_seed_as_or_tools_would_and_keeps_the_cheaper(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(multiprocessing, "current_process", Daemonic)
    monkeypatch.setitem(SEEDER_BY_NAME, "pyvrp", LeaveAllOutSeeder())
    pyvrp_here(monkeypatch)
    instance = grid_instance(20, 3)
    raced = race(instance, SolveParams(time_limit_s=RACE_FROM_S))
    assert raced is not None
    # The side's search first (VROOM then PyVRP), then this process's (PyVRP alone).
    assert [seed.strategy for seed in raced.seeds] == [
        Strategy.VROOM_THEN_PYVRP,
        Strategy.PYVRP_ALONE,
    ]
    priced = [route_cost(instance, seed.routes) for seed in raced.seeds]
    assert list(raced.costs) == priced
    assert raced.best is raced.seeds[0] and priced[0] < priced[1]
    assert_routes_fit(instance, raced.best.routes)


@needs_both
def test_reproducible_runs_give_the_same_routes_whatever_the_clock_says() -> None:
    # A day VROOM leads (breaks): its searches end well before the time limit, which stays a
    # cap. (PyVRP's work fills the seeding time on the reference machine, so a PyVRP-led run
    # on a slower machine reaches the cap and is no longer reproducible.) The work takes 0.9 s
    # here at 3 s or 10 s; at 3 s a loaded CI machine once reached the cap and two runs
    # differed, so the cap is 10 s.
    instance = grid_instance(40, 5, allowed=True, breaks=True)
    params = SolveParams(time_limit_s=10, seed=3, reproducible=True)
    first = solve(instance, params)
    second = solve(instance, params)
    assert [r.nodes for r in first.routes] == [r.nodes for r in second.routes]
    assert first.objective == second.objective
    assert first.dropped == ()


def test_a_solve_told_not_to_stop_on_a_stall_searches_its_whole_budget() -> None:
    # The seeding searches, their restarts and the parts of a day each stop once stalled: a
    # 60-visit day told to search its whole 15 s (``stall_share`` 0) answered in 0.9 s.
    halves = tuple((0, 1) if k < 15 else (2, 3) for k in range(30))
    instance = dataclasses.replace(grid_instance(30, 4, breaks=True), allowed=halves)  # 2 parts
    stalling = solve(instance, SolveParams(time_limit_s=3))
    whole = solve(instance, SolveParams(time_limit_s=3, stall_share=0))
    assert stalling.elapsed_s < 2.5  # else the test shows nothing on this machine
    assert whole.elapsed_s >= 2.9 and whole.objective <= stalling.objective
