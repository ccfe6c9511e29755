"""Snapshots of the best routes so far, reported as the search goes (``Progress.routes``): by
OR-Tools' search, by the race for its chosen seed, and by the parts joined into the whole."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from functools import partial
from itertools import pairwise

import pytest

from solver import Instance, Progress, Solution, SolveParams, Vehicle, schedule, solve, strategies
from solver.cost import route_cost
from solver.params import SNAPSHOT_INTERVAL_S
from solver.parts import solve_in_parts
from solver.portfolio import _first_routes, _solve_part, race
from solver.search import search
from solver.seeders import Routes, installed_seeders
from tests.solver.instances import HOUR, assert_routes_fit, grid_instance, line_instance

#: OR-Tools alone, guided local search to its time limit: it finds better routes over seconds.
ORTOOLS = SolveParams(time_limit_s=3, seeders=(), stall_share=0)


def _snapshots(reports: list[Progress]) -> list[Progress]:
    return [report for report in reports if report.routes is not None]


def test_a_search_reports_its_best_routes_at_its_first_report_then_spaced() -> None:
    instance = grid_instance(40, 4)
    reports: list[Progress] = []
    solution = search(instance, ORTOOLS, on_progress=reports.append, snapshots=True)
    snapshots = _snapshots(reports)
    assert reports[0] is snapshots[0]
    # The first solution drops visits that the search then places: the best improves.
    assert len(snapshots) >= 2
    for earlier, later in pairwise(snapshots):
        assert later.elapsed_s - earlier.elapsed_s >= SNAPSHOT_INTERVAL_S
        assert later.best_cost < earlier.best_cost
    for snapshot in snapshots:
        assert snapshot.routes is not None
        assert len(snapshot.routes) == instance.n_vehicles
        assert snapshot.placed == sum(map(len, snapshot.routes))
        # The routes hold in the model and are the ones costing the best cost reported, even
        # when read while guided local search stood on a worse solution.
        assert schedule(instance, snapshot.routes).objective == snapshot.best_cost
    assert solution.objective <= snapshots[-1].best_cost


def test_a_search_snapshot_comes_timed_as_the_search_has_it() -> None:
    # A listener made a plan of each snapshot by timing its routes in a model of its own
    # (``schedule``): on a 2,500-visit day a second on the interpreter the search needed.
    instance = grid_instance(40, 4, breaks=True)
    reports: list[Progress] = []
    search(instance, ORTOOLS, on_progress=reports.append, snapshots=True)
    snapshots = _snapshots(reports)
    assert len(snapshots) >= 2
    for snapshot in snapshots:
        assert snapshot.routes is not None and snapshot.timed is not None
        assert tuple(route.nodes for route in snapshot.timed.routes) == snapshot.routes
        assert snapshot.timed.objective == snapshot.best_cost
        assert _times(snapshot.timed) == _times(schedule(instance, snapshot.routes))


def _times(solution: Solution) -> list[tuple[object, ...]]:
    return [(r.nodes, r.start_s, r.cumul_s, r.breaks, r.end_s) for r in solution.routes]


def test_no_snapshot_unless_asked() -> None:
    instance = grid_instance(20, 2)
    reports: list[Progress] = []
    quick = SolveParams(time_limit_s=2, metaheuristic="greedy_descent", seeders=())
    search(instance, quick, on_progress=reports.append)
    assert reports and all(report.routes is None for report in reports)


def test_a_warm_start_is_the_first_snapshot() -> None:
    instance = line_instance([100, 200, 300, 400])
    poor = [[3, 0, 2, 1]]
    reports: list[Progress] = []
    quick = SolveParams(time_limit_s=2, metaheuristic="greedy_descent", seeders=())
    search(instance, quick, initial_routes=poor, on_progress=reports.append, snapshots=True)
    assert reports[0].routes == ((3, 0, 2, 1),)
    assert reports[0].best_cost == 1200


needs_vroom = pytest.mark.skipif(
    installed_seeders() != ("pyvrp", "vroom"), reason="PyVRP and VROOM are engine dependencies"
)


@needs_vroom
@pytest.mark.parametrize("breaks", [False, True], ids=["pyvrp-seeds", "vroom-seeds-timed"])
def test_the_race_reports_its_chosen_seed_with_its_routes(breaks: bool) -> None:
    instance = grid_instance(25, 4, breaks=breaks)
    reports: list[Progress] = []
    raced = race(
        instance, SolveParams(time_limit_s=2.5), on_progress=reports.append, snapshots=True
    )
    assert raced is not None
    snapshots = _snapshots(reports)
    chosen = snapshots[-1]
    assert chosen is reports[-1]
    if breaks:  # VROOM's shorter run, here, hands out a first plan before the race ends
        assert len(snapshots) >= 2 and snapshots[0].elapsed_s < chosen.elapsed_s
    assert chosen.routes == tuple(tuple(route) for route in raced.best.routes)
    assert chosen.best_cost == min(raced.costs)
    assert (raced.best.timed is not None) == breaks  # VROOM's routes end in OR-Tools
    assert chosen.timed is raced.best.timed  # a listener need not time them again
    assert_routes_fit(instance, raced.best.routes)


def _two_regions() -> Instance:
    # Nodes 0-3 on vehicles 0-1 (west), nodes 4-7 on vehicle 2 (east), node 8 nowhere.
    positions = [100, 200, 300, 400, 5000, 5100, 5200, 5300, 9000]
    allowed = ((0, 1), (0,), (1,), (0, 1), (2,), (2,), (2,), (2,), ())
    vehicles = tuple(Vehicle(0, 0, 0, 20 * HOUR) for _ in range(3))
    return line_instance(positions, vehicles=vehicles, allowed=allowed, service=600)


WEST, EAST = set(range(4)), set(range(4, 8))
#: Quick routes of ``_two_regions``' parts, by the part's vehicles: the west (two vehicles;
#: node 2 may go to vehicle 1 only), the east (all on its one vehicle).
QUICK = {2: [[0, 1, 3], [2]], 1: [[0, 1, 2, 3]]}


def _assert_in_whole_numbering(instance: Instance, routes: tuple[tuple[int, ...], ...]) -> None:
    assert len(routes) == instance.n_vehicles
    assert set(routes[0]) | set(routes[1]) <= WEST and set(routes[2]) <= EAST
    assert_routes_fit(instance, routes)


def test_parts_one_after_another_report_the_parts_done_with_the_current_ones_snapshot(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("solver.parts.os.cpu_count", lambda: 1)  # one solve at a time
    instance = _two_regions()
    reports: list[Progress] = []
    solve_one = partial(_solve_part, snapshots=True)

    params = SolveParams(time_limit_s=2, metaheuristic="greedy_descent", seeders=())
    joined = solve_in_parts(instance, params, solve_one, reports.append)
    assert joined is not None
    snapshots = _snapshots(reports)
    for snapshot in snapshots:
        assert snapshot.routes is not None and snapshot.total == instance.n_nodes
        _assert_in_whole_numbering(instance, snapshot.routes)
        assert snapshot.placed == sum(map(len, snapshot.routes))
    # The west part (as big as the east, first of the two) alone at first; then the east part's
    # snapshot beside the west part's answer.
    assert snapshots[0].routes is not None and snapshots[0].routes[2] == ()
    assert snapshots[-1].routes is not None and snapshots[-1].routes[2] != ()
    assert snapshots[-1].routes[:2] == tuple(route.nodes for route in joined.routes[:2])


def test_parts_timed_routes_are_joined_into_the_whole_s_timed_routes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("solver.parts.os.cpu_count", lambda: 1)  # one solve at a time
    instance = _two_regions()
    reports: list[Progress] = []
    quick = SolveParams(time_limit_s=1, metaheuristic="greedy_descent", seeders=())

    def solve_one(
        piece: Instance,
        params: SolveParams,
        on_progress: Callable[[Progress], None] | None,
        known: Routes | None = None,
    ) -> Solution:
        answer = solve(piece, quick)
        routes = tuple(route.nodes for route in answer.routes)
        placed = sum(map(len, routes))
        assert on_progress is not None
        # The west part tells its routes timed, as a race's chosen seed is; the east untimed.
        timed = answer if piece.n_vehicles == 2 else None
        on_progress(Progress(0.1, answer.objective, placed, piece.n_nodes, routes, timed))
        return answer

    joined = solve_in_parts(instance, quick, solve_one, reports.append, snapshots=True)
    assert joined is not None
    west, east = _snapshots(reports)
    # The west's timed routes are the whole's, the east's visits left out while unheard: as
    # timing the whole's routes would have them, without timing them again.
    assert west.timed is not None and west.routes is not None
    assert tuple(route.nodes for route in west.timed.routes) == west.routes
    again = schedule(instance, [list(route) for route in west.routes])
    assert [r.cumul_s for r in west.timed.routes] == [r.cumul_s for r in again.routes]
    assert set(west.timed.dropped) == set(again.dropped) == EAST | {8}
    # A part told untimed leaves the whole untimed: a listener times it.
    assert east.timed is None


def test_parts_one_after_another_first_report_quick_routes_of_every_part(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("solver.parts.os.cpu_count", lambda: 1)  # one solve at a time
    instance = _two_regions()
    reports: list[Progress] = []
    asked: list[list[int]] = []

    def first(pieces: Sequence[Instance]) -> list[list[list[int]]]:
        asked.append([piece.n_nodes for piece in pieces])
        return [QUICK[piece.n_vehicles] for piece in pieces]

    solve_one = partial(_solve_part, snapshots=True)

    params = SolveParams(time_limit_s=2, metaheuristic="greedy_descent", seeders=())
    joined = solve_in_parts(
        instance, params, solve_one, reports.append, first=first, snapshots=True
    )
    assert joined is not None and asked == [[4, 4]]
    snapshots = _snapshots(reports)
    # The first report is the whole day: both parts' quick routes, before any search.
    assert reports[0] is snapshots[0]
    assert snapshots[0].routes == ((0, 1, 3), (2,), (4, 5, 6, 7))
    assert snapshots[0].placed == 8 and snapshots[0].best_cost == sum(
        route_cost(piece, routes)
        for piece, routes in zip(
            [
                instance.restricted((0, 1, 2, 3), (0, 1)),
                instance.restricted((4, 5, 6, 7), (2,)),
            ],
            [[[0, 1, 3], [2]], [[0, 1, 2, 3]]],
            strict=True,
        )
    )
    # While the west part is searched, the east part stands with its quick routes.
    for snapshot in snapshots:
        assert snapshot.routes is not None
        _assert_in_whole_numbering(instance, snapshot.routes)
        assert snapshot.routes[2] != ()
    # Nobody listening: the quick routes are asked for all the same (``first`` may decline):
    # each part's solve is handed them.
    solve_in_parts(instance, params, solve_one, first=first, snapshots=True)
    assert asked == [[4, 4], [4, 4]]


def test_a_part_s_quick_routes_stand_until_its_search_finds_cheaper_and_its_solve_has_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("solver.parts.os.cpu_count", lambda: 1)  # one solve at a time
    instance = _two_regions()
    reports: list[Progress] = []
    handed: list[Routes | None] = []

    def first(pieces: Sequence[Instance]) -> list[Routes]:
        return [QUICK[piece.n_vehicles] for piece in pieces]

    def solve_one(
        piece: Instance,
        params: SolveParams,
        on_progress: Callable[[Progress], None] | None,
        known: Routes | None = None,
    ) -> Solution:
        handed.append(known)
        assert on_progress is not None
        # First a plan worse than the quick routes (every visit left out), as a part's race
        # may report its first seed: the whole's reports do not take it.
        nothing = tuple(() for _ in range(piece.n_vehicles))
        on_progress(Progress(0.1, int(piece.penalty.sum()), 0, piece.n_nodes, nothing))
        return solve(piece, params, on_progress=on_progress, snapshots=True, known=known)

    params = SolveParams(time_limit_s=2, metaheuristic="greedy_descent", seeders=())
    joined = solve_in_parts(
        instance, params, solve_one, reports.append, first=first, snapshots=True
    )
    assert joined is not None and handed == [QUICK[2], QUICK[1]]
    snapshots = _snapshots(reports)
    assert len(snapshots) > 1
    assert all(snapshot.placed == 8 for snapshot in snapshots)
    assert max(snapshot.best_cost for snapshot in snapshots) == snapshots[0].best_cost
    nowhere = int(instance.penalty[8])  # in the answer, not in the parts' reports
    assert joined.objective - nowhere <= snapshots[0].best_cost


#: ``FIRST_PLAN_FROM_S`` as the first-plan test sets it: the rule it tests, on a shorter budget.
QUICK_FIRST_PLAN_FROM_S = 2.0


@needs_vroom
def test_a_day_of_parts_has_vroom_s_routes_of_every_part_as_its_first_report(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("solver.parts.os.cpu_count", lambda: 1)  # one solve at a time
    # The threshold lowered to 2 s: the three solves take about 4 s, not the 10 s of 5 s.
    monkeypatch.setattr("solver.portfolio.FIRST_PLAN_FROM_S", QUICK_FIRST_PLAN_FROM_S)
    instance = _two_regions()
    reports: list[Progress] = []
    solution = solve(
        instance,
        SolveParams(time_limit_s=QUICK_FIRST_PLAN_FROM_S),
        on_progress=reports.append,
        snapshots=True,
    )
    first = reports[0]
    assert first.routes is not None and first.placed == 8
    _assert_in_whole_numbering(instance, first.routes)
    assert sum(len(route.nodes) for route in solution.routes) >= first.placed
    # A shorter budget has them too on a day this small: VROOM's most thorough level on every
    # part is over at once.
    reports.clear()
    shorter = SolveParams(time_limit_s=QUICK_FIRST_PLAN_FROM_S - 1)
    solve(instance, shorter, on_progress=reports.append, snapshots=True)
    assert reports[0].placed == 8
    # A reproducible run, whose parts count work, has none; nor has a shorter budget on a day
    # not small, whose whole plan comes soon anyway: its first report is of the first part
    # searched, the east (the third vehicle's) not yet heard.
    monkeypatch.setattr("solver.portfolio.ALONE_BELOW_NODES", 2)
    for params in (SolveParams(time_limit_s=QUICK_FIRST_PLAN_FROM_S, reproducible=True), shorter):
        reports.clear()
        solve(instance, params, on_progress=reports.append, snapshots=True)
        assert reports[0].routes is None or reports[0].routes[2] == ()


def _two_region_pieces() -> list[Instance]:
    """The two parts of ``_two_regions``, as ``solver.parts`` cuts them."""
    instance = _two_regions()
    return [
        instance.restricted((0, 1, 2, 3), (0, 1)),
        instance.restricted((4, 5, 6, 7), (2,)),
    ]


@needs_vroom
def test_a_small_day_has_quick_routes_whether_or_not_someone_listens(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pieces = _two_region_pieces()
    long = SolveParams(time_limit_s=20)
    assert _first_routes(pieces, long, listening=False) is not None
    # A day not small: its quick routes (a tenth of the budget) only for someone listening.
    monkeypatch.setattr("solver.portfolio.ALONE_BELOW_NODES", 2)
    assert _first_routes(pieces, long, listening=False) is None
    assert _first_routes(pieces, long) is not None


#: The pieces ``first_routes_heard`` was asked to route in this process, one item a call.
first_routes_here: list[int] = []


def first_routes_heard(
    pieces: Sequence[Instance], deadline: float, threads: int
) -> list[list[list[int]]] | None:
    """``strategies.first_routes``, heard in ``first_routes_here`` when it runs in this
    process (a spawned process has a list of its own)."""
    first_routes_here.append(len(pieces))
    return strategies.first_routes(pieces, deadline, threads)


@needs_vroom
@pytest.mark.parametrize(("here_up_to_s", "here"), [(float("inf"), [2]), (0.0, [])])
def test_quick_routes_of_a_long_share_are_found_in_a_process_of_their_own(
    here_up_to_s: float, here: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    # VROOM holds the interpreter of its process while it runs: a long share run here would
    # stop this process's other threads as long (a job's heartbeat, its drafts).
    monkeypatch.setattr("solver.portfolio.FIRST_PLAN_HERE_UP_TO_S", here_up_to_s)
    monkeypatch.setattr("solver.portfolio.ALONE_BELOW_NODES", 2)  # a day not small
    monkeypatch.setattr("solver.portfolio.first_routes", first_routes_heard)
    first_routes_here.clear()
    pieces = _two_region_pieces()
    routes = _first_routes(pieces, SolveParams(time_limit_s=20))  # a share of 2 s
    assert routes is not None
    assert [sorted(node for route in part for node in route) for part in routes] == [
        [0, 1, 2, 3],
        [0, 1, 2, 3],
    ]
    assert first_routes_here == here


@needs_vroom
def test_a_small_days_quick_routes_are_found_here_however_long_the_share(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # VROOM's most thorough level on a small day ends in hundredths of a second: a process of
    # its own would take a second and more to start (1.9 s on 60-visit days at 30 s).
    monkeypatch.setattr("solver.portfolio.FIRST_PLAN_HERE_UP_TO_S", 0.0)
    monkeypatch.setattr("solver.portfolio.first_routes", first_routes_heard)
    monkeypatch.setattr("solver.portfolio._SideProcess", _NoSideProcess)
    first_routes_here.clear()
    assert _first_routes(_two_region_pieces(), SolveParams(time_limit_s=60)) is not None
    assert first_routes_here == [2]


class _NoSideProcess:
    """A side process that must not be started."""

    def __init__(self) -> None:
        raise AssertionError("no process should be started")


@needs_vroom
def test_no_process_is_started_for_quick_routes_that_cannot_end_within_the_share(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A big day on a short share (2,500 visits: 35 s at VROOM's quickest level, a share of
    # 12 s) has no quick routes; starting a process only to learn that cost 0.5 s.
    submitted: list[object] = []
    monkeypatch.setattr("solver.strategies.vroom_seconds", lambda *_: 1e6)
    monkeypatch.setattr("solver.portfolio._submit", lambda _, fn, *args: submitted.append(fn))
    monkeypatch.setattr("solver.portfolio.FIRST_PLAN_HERE_UP_TO_S", 0.0)
    pieces = _two_region_pieces()
    assert _first_routes(pieces, SolveParams(time_limit_s=20)) is None
    assert submitted == []


def test_parts_side_by_side_report_through_a_thread_of_this_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("solver.parts.os.cpu_count", lambda: 4)  # two solves side by side
    instance = _two_regions()
    reports: list[tuple[Progress, str]] = []
    params = SolveParams(time_limit_s=1, metaheuristic="greedy_descent", seeders=())
    joined = solve_in_parts(
        instance,
        params,
        partial(_solve_part, snapshots=True),
        lambda progress: reports.append((progress, threading.current_thread().name)),
    )
    assert joined is not None
    snapshots = _snapshots([progress for progress, _ in reports])
    assert {name for _, name in reports} == {"parts-progress"}
    for snapshot in snapshots:
        assert snapshot.routes is not None
        _assert_in_whole_numbering(instance, snapshot.routes)
    # Each part reports a snapshot at its first solution; the later one holds both parts.
    last = snapshots[-1].routes
    assert last is not None and last[2] != () and last[0] + last[1] != ()
