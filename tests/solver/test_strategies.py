"""The five seeding searches, each run on its own: the routes each finds and how it ends."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import pytest

from solver import Instance, SolverError
from solver.cost import route_cost
from solver.lns import improve_close_routes
from solver.params import (
    MIN_POLISH_S,
    MIN_TIMING_S,
    RESTARTS_UNTIL_STALLED,
    SWAP_S_PER_NODE,
    VROOM_SHARE_BEFORE_ORTOOLS,
    VROOM_SHARE_WHEN_CUT,
)
from solver.search import search
from solver.seeders import Routes, installed_seeders, vroom_routes
from solver.strategies import (
    Report,
    Seed,
    Strategy,
    _swapped_in,
    first_routes,
    one_vroom_routes,
    polish_from,
    routes_teller,
    run_strategy,
    search_from,
)
from tests.solver.instances import DEADLINE_SLACK_S, assert_routes_fit, grid_instance

needs_both = pytest.mark.skipif(
    installed_seeders() != ("pyvrp", "vroom"), reason="PyVRP and VROOM are engine dependencies"
)


def test_each_strategy_has_one_distinct_name() -> None:
    names = [strategy.value for strategy in Strategy]
    assert names == [
        "pyvrp-alone",
        "vroom-then-pyvrp",
        "vroom-short-then-ortools",
        "vroom-full-then-ortools",
        "vroom-once-then-lns",
    ]
    assert [s for s in Strategy if s.ends_in_ortools] == [
        Strategy.VROOM_SHORT_THEN_ORTOOLS,
        Strategy.VROOM_FULL_THEN_ORTOOLS,
        Strategy.VROOM_ONCE_THEN_LNS,
    ]


@needs_both
@pytest.mark.parametrize("strategy", [Strategy.PYVRP_ALONE, Strategy.VROOM_THEN_PYVRP])
def test_a_search_ending_in_a_seeder_gives_routes_for_or_tools_to_time(
    strategy: Strategy,
) -> None:
    instance = grid_instance(30, 4, allowed=True)
    heard: list[tuple[int | None, bool]] = []
    seed = run_strategy(
        strategy,
        instance,
        time.time() + 1.5,
        seed=1,
        report=lambda _cost, placed, routes, _timed: heard.append((placed, routes is not None)),
    )
    assert seed.strategy is strategy
    assert seed.timed is None
    assert_routes_fit(instance, seed.routes)
    assert sum(map(len, seed.routes)) == instance.n_nodes
    # From VROOM's routes, they are heard first, whole: a plan while PyVRP searches on.
    if strategy is Strategy.VROOM_THEN_PYVRP:
        assert heard[0] == (instance.n_nodes, True)
    assert all(not with_routes for _, with_routes in heard[strategy is Strategy.VROOM_THEN_PYVRP :])


@needs_both
@pytest.mark.parametrize("pyvrp_gives", ["dearer routes", "routes breaking a rule"])
def test_vroom_then_pyvrp_keeps_vroom_s_routes_where_pyvrp_s_are_dearer_or_break_a_rule(
    pyvrp_gives: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PyVRP weighs the day its own way, and may answer a best that breaks a rule.
    instance = grid_instance(20, 3)

    def pyvrp_routes(piece: Instance, *args: Any, **kwargs: Any) -> Routes:
        if pyvrp_gives == "routes breaking a rule":
            raise SolverError("PyVRP found no routes within the rules in its time")
        return [[] for _ in piece.vehicles]  # every visit left out

    monkeypatch.setattr("solver.strategies.pyvrp_routes", pyvrp_routes)
    seed = run_strategy(Strategy.VROOM_THEN_PYVRP, instance, time.time() + 1.5, seed=1)
    assert sum(map(len, seed.routes)) == instance.n_nodes  # VROOM's
    assert route_cost(instance, seed.routes) < int(instance.penalty.sum())
    assert_routes_fit(instance, seed.routes)


@needs_both
@pytest.mark.parametrize("strategy", [s for s in Strategy if s.ends_in_ortools])
def test_a_search_ending_in_or_tools_gives_its_routes_timed(strategy: Strategy) -> None:
    instance = grid_instance(25, 4, breaks=True, preferences=True)
    heard: list[tuple[int, int | None]] = []
    seed = run_strategy(
        strategy,
        instance,
        time.time() + 2.5,
        seed=1,
        report=lambda c, p, _routes, _timed: heard.append((c, p)),
    )
    assert seed.strategy is strategy
    assert seed.timed is not None
    assert [list(route.nodes) for route in seed.timed.routes] == seed.routes
    assert seed.timed.objective == route_cost(instance, seed.routes)
    assert seed.timed.dropped == ()
    # The first report is VROOM's routes, all placed; nothing heard is cheaper than the answer.
    assert heard[0][1] == instance.n_nodes
    assert min(cost for cost, _ in heard) >= seed.timed.objective


@needs_both
@pytest.mark.parametrize("strategy", [Strategy.VROOM_THEN_PYVRP, Strategy.VROOM_SHORT_THEN_ORTOOLS])
def test_counting_work_gives_the_same_routes_whatever_the_clock_says(strategy: Strategy) -> None:
    instance = grid_instance(25, 4, breaks=strategy.ends_in_ortools)
    runs = [run_strategy(strategy, instance, time.time() + 30, 3, work_s=0.5) for _ in range(2)]
    assert runs[0].routes == runs[1].routes


@needs_both
def test_counting_work_searches_from_vroom_s_routes_however_little_the_clock_leaves(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # What is left on the clock differs from run to run (a busy machine, a fork server
    # starting): the same seed gave a searched plan on one run, VROOM's routes as they were on
    # the next, and VROOM cut at its share of the time on a busy run only.
    instance = grid_instance(25, 4, breaks=True)
    timeouts: list[float] = []
    searched: list[int] = []

    def heard_vroom(piece: Instance, time_limit_s: float, **kwargs: Any) -> Routes:
        timeouts.append(time_limit_s)
        return vroom_routes(piece, time_limit_s, **kwargs)

    def heard_search(*args: Any, **kwargs: Any) -> Any:
        searched.append(1)
        return search(*args, **kwargs)

    monkeypatch.setattr("solver.strategies.vroom_routes", heard_vroom)
    monkeypatch.setattr("solver.strategies.search", heard_search)
    monkeypatch.setattr("solver.strategies._searches_from_routes", lambda *_: False)  # late
    short = Strategy.VROOM_SHORT_THEN_ORTOOLS
    seed = run_strategy(short, instance, time.time() + 30, 3, work_s=0.5)
    assert searched == [1] and seed.timed is not None
    assert timeouts[0] > 20  # the deadline its cap, not its share of the time
    searched.clear()
    timeouts.clear()
    run_strategy(short, instance, time.time() + 3, 3)  # by the clock: no time to search
    assert searched == []
    assert timeouts[0] < 3 * 0.6


@needs_both
def test_vroom_s_routes_are_reported_only_while_or_tools_may_still_search_from_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    instance = grid_instance(25, 4, breaks=True)
    heard: list[int | None] = []

    def report(cost: int, placed: int | None, routes: object, timed: object) -> None:
        heard.append(placed)

    one_vroom_routes(instance, time.time() + 2.5, 2, report)
    assert heard == [instance.n_nodes]
    # VROOM ran past OR-Tools' turn (as a big day's does on a short budget): the routes are
    # only timed, and reported so by the race; a draft of them now would time them twice.
    monkeypatch.setattr("solver.strategies.vroom_routes", slow_vroom_routes)
    one_vroom_routes(instance, time.time() + 0.6, 2, report)
    assert heard == [instance.n_nodes]


@needs_both
def test_vroom_s_routes_are_reported_only_when_a_listener_may_time_them_before_or_tools_turn(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Untimed, the routes are timed by a listener's draft in a model of its own, holding the
    # interpreter OR-Tools' turn needs: on a 2,500-visit day at 10 s it left OR-Tools only the
    # time to time them. Timing takes a second here, OR-Tools' turn 1.5 s.
    instance = grid_instance(25, 4, breaks=True)
    monkeypatch.setattr("solver.strategies._timing_s", lambda instance: 1.0)
    monkeypatch.setattr("solver.strategies._restoring_s", lambda instance: 1.0)
    heard: list[int | None] = []

    def report(cost: int, placed: int | None, routes: object, timed: object) -> None:
        heard.append(placed)

    one_vroom_routes(instance, time.time() + 2.2, 2, report)
    assert heard == []
    one_vroom_routes(instance, time.time() + 4.0, 2, report)
    assert heard == [instance.n_nodes]


def test_the_quick_routes_of_every_piece_end_within_their_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pieces = [grid_instance(60, 4), grid_instance(30, 3), grid_instance(15, 2)]
    timeouts: list[float] = []
    now = [1000.0]  # a clock of the test's own: VROOM's runs take exactly their timeouts

    def vroom_to_its_timeout(instance: Instance, time_limit_s: float, **kwargs: object) -> Routes:
        """VROOM slower than expected: cut by its timeout."""
        timeouts.append(time_limit_s)
        now[0] += time_limit_s
        return [[] for _ in range(instance.n_vehicles)]

    monkeypatch.setattr("solver.strategies.vroom_routes", vroom_to_its_timeout)
    monkeypatch.setattr("solver.strategies.clock", SimpleNamespace(time=lambda: now[0]))
    routes = first_routes(pieces, now[0] + 0.6, threads=2)
    assert routes is not None and [len(r) for r in routes] == [4, 3, 2]
    # Each piece's timeout is its expected share of what is left, bigger pieces more, and
    # the whole keeps to the budget, where three full timeouts would take three times it.
    assert timeouts[0] > timeouts[1] > timeouts[2] > 0
    assert sum(timeouts) == pytest.approx(0.6)


def slow_vroom_routes(instance: Instance, time_limit_s: float, **kwargs: object) -> Routes:
    """VROOM's routes, returned past their timeout and OR-Tools' turn."""
    routes = vroom_routes(instance, time_limit_s, **kwargs)  # type: ignore[arg-type]
    time.sleep(0.6)
    return routes


@needs_both
def test_time_too_short_for_or_tools_goes_to_the_close_routes_search_before_timing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """VROOM ended early, yet too late for OR-Tools to search from its routes (a big day's
    main part on a short budget): what is left before swapping left-out visits in and timing
    the routes improves them by close routes; with time for OR-Tools, OR-Tools has it all."""
    instance = grid_instance(25, 4, breaks=True)
    nothing: Routes = [[] for _ in range(instance.n_vehicles)]
    steps: list[float] = []
    swaps: list[float] = []

    def heard_improve(*args: Any, **kwargs: Any) -> Routes:
        steps.append(args[2])
        return improve_close_routes(*args, **kwargs)

    def heard_swaps(instance: Instance, routes: Routes, until: float) -> Routes:
        swaps.append(until)
        return _swapped_in(instance, routes, until)

    monkeypatch.setattr("solver.strategies.improve_close_routes", heard_improve)
    monkeypatch.setattr("solver.strategies._swapped_in", heard_swaps)
    monkeypatch.setattr("solver.strategies.SWAP_S_PER_NODE", 0.004)  # 0.1 s for 25 nodes
    deadline = time.time() + MIN_POLISH_S
    seed = search_from(Strategy.VROOM_FULL_THEN_ORTOOLS, instance, nothing, deadline, 3)
    assert time.time() < deadline + DEADLINE_SLACK_S
    # The reserves of swapping and timing kept, in that order.
    assert [deadline - until for until in steps] == [pytest.approx(MIN_TIMING_S + 0.1)]
    assert [deadline - until for until in swaps] == [pytest.approx(MIN_TIMING_S)]
    assert sum(map(len, seed.routes)) > 0 and seed.timed is not None
    assert_routes_fit(instance, seed.routes)
    steps.clear()
    swaps.clear()
    search_from(Strategy.VROOM_FULL_THEN_ORTOOLS, instance, nothing, time.time() + 1.5, 3)
    assert steps == [] and swaps == []


@needs_both
def test_on_a_part_too_big_to_restore_for_a_polish_the_close_routes_search_keeps_or_tools_turn(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``vroom-once-then-lns`` hands its close routes to OR-Tools' search only where restoring
    them costs no more than the ``MIN_POLISH_S`` of search it buys; on a bigger part (here:
    timing made to cost 0.6 s) the close-routes search runs until timing is due and its
    routes are only timed. Which turn comes is asserted on what each search is given, not on
    what a timed search reaches (a loaded machine once left no time for OR-Tools' turn)."""
    instance = grid_instance(25, 4, breaks=True)
    untils: list[float] = []
    swaps: list[float] = []
    searched: list[object] = []

    def heard_improve(*args: Any, **kwargs: Any) -> Routes:
        untils.append(args[2])
        return list(args[1])  # the close-routes search's turn, heard and ended at once

    def heard_swaps(instance: Instance, routes: Routes, until: float) -> Routes:
        swaps.append(until)
        return _swapped_in(instance, routes, until)

    def heard_search(*args: Any, **kwargs: Any) -> Any:
        searched.append(args[0])
        raise SolverError("heard")  # OR-Tools' turn, heard; the routes are then only timed

    monkeypatch.setattr("solver.strategies.improve_close_routes", heard_improve)
    monkeypatch.setattr("solver.strategies.search", heard_search)
    monkeypatch.setattr("solver.strategies._swapped_in", heard_swaps)
    routes = vroom_routes(instance, 1.0)
    deadline = time.time() + 60.0
    seed = search_from(Strategy.VROOM_ONCE_THEN_LNS, instance, routes, deadline, 3)
    swapping_s = SWAP_S_PER_NODE * instance.n_nodes
    assert [deadline - until for until in untils] == [
        pytest.approx(MIN_TIMING_S + MIN_POLISH_S + swapping_s)
    ]
    # Swapping left-out visits in comes between the two turns.
    assert [deadline - until for until in swaps] == [pytest.approx(MIN_TIMING_S + MIN_POLISH_S)]
    assert searched == [instance]  # a small part: OR-Tools searches from the close routes
    assert seed.routes == routes and seed.timed is not None
    untils.clear()
    swaps.clear()
    searched.clear()
    monkeypatch.setattr("solver.strategies.MIN_TIMING_S", 0.6)
    assert deadline - polish_from(instance, deadline) == pytest.approx(0.6 + swapping_s)
    deadline = time.time() + 60.0
    seed = search_from(Strategy.VROOM_ONCE_THEN_LNS, instance, routes, deadline, 3)
    assert [deadline - until for until in untils] == [pytest.approx(0.6 + swapping_s)]
    assert [deadline - until for until in swaps] == [pytest.approx(0.6)]
    assert searched == []  # a bigger part: OR-Tools only times the close routes
    assert seed.timed is not None and sum(map(len, seed.routes)) > 0
    assert seed.timed.objective == route_cost(instance, seed.routes)
    assert_routes_fit(instance, seed.routes)


@needs_both
def test_vroom_s_full_search_restarts_in_other_orders_while_that_finds_cheaper_routes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With time left once OR-Tools' search from VROOM's routes has stalled, VROOM searches
    again from its jobs in another order each time, OR-Tools from each restart's routes; the
    cheapest routes are kept, the restarts stop after ``RESTARTS_UNTIL_STALLED`` in a row found
    nothing cheaper, and only what is cheaper than the best so far is heard."""
    instance = grid_instance(25, 4)
    full = vroom_routes(instance, 2.0)
    half = [route[: len(route) // 2] for route in full]  # half the visits left out: dearer
    # The first run, one restart that finds cheaper routes, then none that does.
    given = [half, full, *[half] * (RESTARTS_UNTIL_STALLED + 5)]
    orders: list[object] = []

    def scripted_vroom(instance: Instance, time_limit_s: float, **kwargs: object) -> Routes:
        orders.append(kwargs.get("order_seed"))
        return [list(route) for route in given[len(orders) - 1]]

    monkeypatch.setattr("solver.strategies.vroom_routes", scripted_vroom)
    monkeypatch.setattr("solver.strategies.search_from", searched_as_given)
    monkeypatch.setattr("solver.strategies.RESTARTS_FROM_NODES", instance.n_nodes)
    heard: list[int] = []
    found = run_strategy(
        Strategy.VROOM_FULL_THEN_ORTOOLS,
        instance,
        time.time() + 30,
        seed=1,
        report=lambda cost, _placed, _routes, _timed: heard.append(cost),
    )
    assert found.routes == full
    assert len(orders) == 2 + RESTARTS_UNTIL_STALLED
    assert orders[0] is None and len(set(orders[1:])) == len(orders) - 1
    # VROOM's first routes and the search from them, then only the cheaper restart.
    assert heard == [route_cost(instance, half)] * 2 + [route_cost(instance, full)]


@needs_both
def test_vroom_s_full_search_restarts_only_when_one_more_fits_on_a_day_big_enough(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A restart needs what VROOM's first run took, timing its routes and ``MIN_POLISH_S``
    before the deadline; a reproducible search (counting work) never restarts, nor does a day
    of fewer than ``RESTARTS_FROM_NODES`` visits."""
    instance = grid_instance(25, 4)
    orders: list[object] = []

    def slow_vroom(instance: Instance, time_limit_s: float, **kwargs: object) -> Routes:
        orders.append(kwargs.get("order_seed"))
        time.sleep(0.4)
        return [[] for _ in range(instance.n_vehicles)]

    monkeypatch.setattr("solver.strategies.vroom_routes", slow_vroom)
    monkeypatch.setattr("solver.strategies.search_from", searched_as_given)
    now = time.time()
    reserve_s = now - polish_from(instance, now)  # timing the routes and MIN_POLISH_S

    def vroom_runs(past_reserve_s: float, from_nodes: int, work_s: float | None = None) -> int:
        monkeypatch.setattr("solver.strategies.RESTARTS_FROM_NODES", from_nodes)
        orders.clear()
        deadline = time.time() + reserve_s + past_reserve_s
        run_strategy(Strategy.VROOM_FULL_THEN_ORTOOLS, instance, deadline, 1, work_s)
        assert orders[0] is None
        return len(orders)

    n = instance.n_nodes
    assert vroom_runs(1.0, n) == 2  # 0.6 s left past the reserve: one restart, then 0.2 s
    assert vroom_runs(0.7, n) == 1  # 0.3 s left: less than the first run took
    assert vroom_runs(30, n, work_s=0.5) == 1
    assert vroom_runs(30, n + 1) == 1  # a smaller day is answered when OR-Tools' search stalls


def searched_as_given(
    strategy: Strategy,
    instance: Instance,
    routes: Routes,
    deadline: float,
    seed: int,
    work_s: float | None = None,
    report: Report | None = None,
) -> Seed:
    """OR-Tools' search from ``routes`` that finds nothing better: the routes, reported."""
    if report is not None:
        report(route_cost(instance, routes), sum(map(len, routes)), tuple(map(tuple, routes)), None)
    return Seed(strategy, routes)


class _Clock:
    """``time.time`` as a test sets it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def time(self) -> float:
        return self.now


@pytest.mark.parametrize(("timing_s", "due_at"), [(0.05, [1.0, 2.0, 4.0]), (0.2, [2.0, 4.0])])
def test_the_close_routes_search_is_heard_spaced_out_and_never_near_its_end(
    timing_s: float, due_at: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tell ``LNS_TELL_FIRST_S`` after the search starts at the soonest, then each time its
    running time has doubled and ``LNS_TELL_TIMINGS`` timings of its routes apart (what a
    listener's draft of them costs this process); none that would leave too little to time
    the answer after the draft's timing; nothing when nobody listens."""
    clock = _Clock()
    monkeypatch.setattr("solver.strategies.clock", clock)
    monkeypatch.setattr("solver.strategies._timing_s", lambda instance: timing_s)
    instance = grid_instance(10, 2)
    routes = [[0, 1, 2], [3, 4]]
    assert routes_teller(None, instance, clock.now + 60) is None
    heard: list[float] = []

    def report(cost: int, placed: int | None, told: Any, timed: Any) -> None:
        assert (placed, told, timed) == (5, ((0, 1, 2), (3, 4)), None)
        assert cost == route_cost(instance, routes)
        heard.append(clock.now - 1000.0)

    # At 8 s, 0.5 s before the deadline: too little to time the draft, time the answer and
    # search from it (``MIN_POLISH_S``).
    tell = routes_teller(report, instance, clock.now + 8.5)
    assert tell is not None
    for step in range(1, 100):  # improvements every 0.1 s until the deadline
        clock.now = 1000.0 + step / 10
        tell(routes)
    assert heard == pytest.approx(due_at)


@pytest.mark.parametrize(
    ("quickest_s", "share"),
    [(1.0, VROOM_SHARE_BEFORE_ORTOOLS), (7.0, 0.7), (24.0, VROOM_SHARE_WHEN_CUT)],
)
def test_vroom_s_one_run_takes_what_its_quickest_level_needs_up_to_a_most(
    quickest_s: float, share: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Cut short at half of 10 s where its quickest level needs some 24 s (tight 2,500-visit
    # days), VROOM's one run served about 3 % less than given 80 %.
    clock = _Clock()
    timeouts: list[float] = []

    def vroom_to_its_timeout(instance: Instance, time_limit_s: float, **kwargs: object) -> Routes:
        timeouts.append(time_limit_s)
        return [[] for _ in range(instance.n_vehicles)]

    monkeypatch.setattr("solver.strategies.clock", clock)
    monkeypatch.setattr("solver.strategies.vroom_routes", vroom_to_its_timeout)
    monkeypatch.setattr("solver.strategies.vroom_seconds", lambda *args, **kw: quickest_s)
    one_vroom_routes(grid_instance(10, 2), clock.now + 10.0, 2)
    assert timeouts == [pytest.approx(10.0 * share)]
