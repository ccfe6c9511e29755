"""The seeders: what each library can express, and its routes translated back, fitting every
rule of the OR-Tools model."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from types import SimpleNamespace

import numpy as np
import pytest

from solver import BreakRule, SolverError, Vehicle, schedule
from solver.cost import route_cost
from solver.seeders import (
    MAX_PROFILES,
    PYVRP,
    PYVRP_NODE_ITERATIONS_PER_S,
    SEEDERS,
    VROOM,
    VROOM_SECONDS_AT_250,
    Seeder,
    installed_seeders,
    pyvrp_iterations,
    pyvrp_routes,
    seedable,
    seeder_named,
    vroom_level,
    vroom_routes,
    vroom_seconds,
)
from solver.seeders import vroom as vroom_seeder
from solver.seeders.vroom import (
    MIN_VROOM_TIMEOUT_S,
    ONE_SEARCH_A_THREAD_BELOW,
    ONE_SEARCH_A_THREAD_FROM,
    VROOM_THREAD_SPEEDUP,
    VROOM_VEHICLES_AT_250,
    one_search_a_thread,
    vroom_priorities,
)
from tests.solver.instances import HOUR, assert_routes_fit, grid_instance, line_instance

needs_both = pytest.mark.skipif(
    installed_seeders() != ("pyvrp", "vroom"), reason="PyVRP and VROOM are engine dependencies"
)


def test_seedable_names_what_each_library_can_express() -> None:
    assert seedable(grid_instance()) == ("pyvrp", "vroom")
    assert seedable(grid_instance(allowed=True)) == ("pyvrp", "vroom")
    assert seedable(grid_instance(preferences=True)) == ("pyvrp", "vroom")
    # PyVRP has no breaks; VROOM has.
    assert seedable(grid_instance(breaks=True)) == ("vroom",)
    # Too many eligibility patterns for PyVRP's profiles.
    many = grid_instance(40, MAX_PROFILES + 2)
    one_each = tuple((k % many.n_vehicles,) for k in range(many.n_nodes))
    assert seedable(dataclasses.replace(many, allowed=one_each)) == ("vroom",)
    # Soft windows (re-planning) are priced by OR-Tools alone.
    instance = grid_instance()
    soft = dataclasses.replace(instance, soft_window_s=instance.window_s.copy(), soft_window_cost=1)
    assert seedable(soft) == ()


def test_seeders_are_found_by_name_and_an_unknown_name_is_refused() -> None:
    seeders: list[Seeder] = [seeder_named(name) for name in SEEDERS]
    assert seeders == [PYVRP, VROOM]
    assert [seeder.name for seeder in seeders] == list(SEEDERS)
    with pytest.raises(ValueError, match="'ortools'"):
        seeder_named("ortools")


def test_a_library_that_cannot_be_imported_is_not_installed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # ``sys.modules[name] = None`` is how Python marks a module that cannot be imported.
    monkeypatch.setitem(sys.modules, "vroom", None)
    assert installed_seeders() == tuple(name for name in SEEDERS if name != "vroom")
    assert installed_seeders(("vroom",)) == ()


@needs_both
def test_vroom_is_loaded_with_the_engine_not_inside_a_days_budget() -> None:
    # Its import (0.25-0.45 s, pandas inside) was a fifth of a 2 s budget at 800 visits.
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, solver; print('vroom' in sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert loaded.stdout.strip() == "True"


@needs_both
@pytest.mark.parametrize("seeder", [PYVRP, VROOM], ids=lambda seeder: seeder.name)
def test_each_seeder_finds_routes_for_every_node_by_its_deadline(seeder: Seeder) -> None:
    instance = grid_instance(30, 4, allowed=True)
    assert seeder.can_seed(instance)
    routes = seeder.routes(instance, time.time() + 1.0, seed=1)
    assert_routes_fit(instance, routes)
    assert sum(map(len, routes)) == instance.n_nodes


@needs_both
def test_pyvrp_stops_once_its_best_has_stalled_not_at_its_time_limit() -> None:
    # It searched a 30-node day for all of its 30 s; OR-Tools' search stopped on a stall.
    instance = grid_instance(30, 4, allowed=True)
    started = time.monotonic()
    routes = pyvrp_routes(instance, 30.0, seed=1, stall_s=0.3)
    assert time.monotonic() - started < 10
    assert_routes_fit(instance, routes)
    assert sum(map(len, routes)) == instance.n_nodes


@needs_both
def test_pyvrp_routes_keep_eligibility_and_every_rule() -> None:
    instance = grid_instance(30, 4, allowed=True)
    routes = pyvrp_routes(instance, 1.0, seed=1)
    assert_routes_fit(instance, routes)
    assert sum(map(len, routes)) == instance.n_nodes


class _PyVRPAnswer:
    """What ``pyvrp.solve`` answers, as far as ``pyvrp_routes`` reads it: a best solution,
    feasible or not, of routes ``(vehicle type, client indexes)``."""

    def __init__(self, feasible: bool, routes: list[tuple[int, list[int]]]) -> None:
        import pyvrp

        self.best = SimpleNamespace(
            is_feasible=lambda: feasible,
            routes=lambda: [
                _PyVRPRoute(kind, nodes, pyvrp.ActivityType.CLIENT) for kind, nodes in routes
            ],
        )


class _PyVRPRoute:
    def __init__(self, kind: int, nodes: list[int], client: object) -> None:
        self._kind = kind
        self._activities = [SimpleNamespace(type=client, idx=node) for node in nodes]

    def vehicle_type(self) -> int:
        return self._kind

    def __iter__(self) -> Iterator[SimpleNamespace]:
        return iter(self._activities)


@needs_both
@pytest.mark.parametrize(
    ("feasible", "routes", "message"),
    [
        (False, [(0, [0, 1])], "no routes within the rules"),
        # Node 0 is vehicle 0's only (type 0); vehicle 1 is type 1.
        (True, [(0, [1]), (1, [0])], r"vehicle 1 nodes it may not serve: \[0\]"),
    ],
)
def test_pyvrp_routes_that_break_a_rule_are_no_routes(
    feasible: bool,
    routes: list[tuple[int, list[int]]],
    message: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # PyVRP answers its best even when it breaks a time window (none within them found in
    # time), and a forbidden arc is only dear to it: neither may seed a search as routes.
    import pyvrp

    vehicles = (Vehicle(0, 0, 0, 24 * HOUR), Vehicle(0, 0, 0, 24 * HOUR))
    instance = line_instance([100, 200], vehicles=vehicles, allowed=((0,), None))
    answer = _PyVRPAnswer(feasible, routes)
    monkeypatch.setattr(pyvrp, "solve", lambda *args, **kwargs: answer)
    with pytest.raises(SolverError, match=message):
        pyvrp_routes(instance, 0.2, seed=1)
    monkeypatch.undo()
    assert_routes_fit(instance, pyvrp_routes(instance, 0.2, seed=1))


@needs_both
def test_pyvrp_starts_from_given_routes() -> None:
    instance = grid_instance(25, 3)
    start = pyvrp_routes(instance, 0.5, seed=1)
    again = pyvrp_routes(instance, 0.2, seed=2, start=start)
    assert route_cost(instance, again) <= route_cost(instance, start)


@needs_both
def test_pyvrp_tells_each_better_cost_as_it_finds_it() -> None:
    instance = grid_instance(25, 3)
    heard: list[int] = []
    routes = pyvrp_routes(instance, 60.0, seed=1, work_s=0.05, on_best=heard.append)
    assert heard and heard == sorted(heard, reverse=True)
    assert heard[-1] == route_cost(instance, routes)


@needs_both
def test_vroom_routes_keep_eligibility_breaks_and_every_rule() -> None:
    instance = grid_instance(30, 4, allowed=True, breaks=True)
    routes = vroom_routes(instance, 2.0)
    assert_routes_fit(instance, routes)
    solution = schedule(instance, routes)
    for route in solution.routes:
        if route.nodes:
            ((start, duration),) = route.breaks
            assert 4 * HOUR <= start <= 5 * HOUR and duration == 1800


@needs_both
def test_vroom_routes_a_day_of_no_nodes_as_empty_routes() -> None:
    # Every visit out of reach (a tight radius on a rural day): VROOM refused the day, "No
    # task defined", and the field benchmark's VROOM peer failed on it.
    instance = line_instance([])
    assert instance.n_nodes == 0
    assert vroom_routes(instance, 1.0) == [[] for _ in range(instance.n_vehicles)]


def test_vroom_takes_breaks_given_out_of_order_and_overlapping() -> None:
    # VROOM refuses breaks whose windows are not in order ("Inconsistent breaks"): the seeder
    # gives them in turn (``in_turn``), so a lunch listed before a morning tea, its window
    # overlapping the tea's, still seeds.
    day = grid_instance(30, 4, allowed=True)
    rests = (BreakRule(4 * HOUR, 5 * HOUR, 1800), BreakRule(3 * HOUR, 4 * HOUR + 600, 900))
    instance = dataclasses.replace(
        day, vehicles=tuple(dataclasses.replace(v, breaks=rests) for v in day.vehicles)
    )
    routes = vroom_routes(instance, 2.0)
    assert sum(map(len, routes)) > 0
    assert_routes_fit(instance, routes)
    for route in schedule(instance, routes).routes:
        tea, lunch = sorted(route.breaks)
        assert tea[0] + tea[1] <= lunch[0]


@needs_both
def test_vroom_seeds_a_day_with_a_window_opening_before_its_origin() -> None:
    # An appointment five minutes after midnight, its band from 23:55 (-300 s) to 00:00, and a
    # shift from midnight: VROOM reads times unsigned and refused the whole day ("Invalid time
    # window"); the window is cut at 0 and the day seeds, the appointment with it.
    instance = line_instance(
        [0, 0],
        windows=[(-300, 0), (3600, 7200)],
        service=600,
        vehicles=(Vehicle(0, 0, 0, 4 * HOUR),),
    )
    routes = vroom_routes(instance, 1.0)
    assert sorted(routes[0]) == [0, 1]
    assert schedule(instance, routes).routes[0].cumul_s[0] == 0


@needs_both
def test_vroom_given_its_jobs_in_another_order_finds_other_routes_that_keep_every_rule() -> None:
    """VROOM breaks its ties by the order of its jobs and vehicles: each order gives routes
    read back to the instance's own numbers (a node allowed one vehicle stays on it)."""
    instance = grid_instance(30, 4, allowed=True, breaks=True)
    costs = set()
    for order_seed in (None, 1, 2, 3):
        routes = vroom_routes(instance, 2.0, order_seed=order_seed)
        assert_routes_fit(instance, routes)
        assert sum(map(len, routes)) == instance.n_nodes
        costs.add(route_cost(instance, routes))
    assert len(costs) > 1
    same = [vroom_routes(instance, 2.0, order_seed=2) for _ in range(2)]
    assert same[0] == same[1]


def test_vroom_priorities_keep_the_penalties_ratios_up_to_100() -> None:
    unit = 9_001
    # The engine's low, normal, high and urgent visits, a promised low and urgent one, a zero.
    penalties = np.array([3, 10, 30, 480, 33, 510, 0]) * unit
    assert vroom_priorities(penalties) == [3, 10, 30, 100, 33, 100, 0]
    # Penalties with no common measure: in proportion, the top one 100.
    assert vroom_priorities(np.array([1_001, 2_000, 0])) == [50, 100, 0]
    assert vroom_priorities(np.zeros(2, dtype=np.int64)) == [0, 0]


@needs_both
def test_vroom_cut_short_at_level_0_runs_one_search_a_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    instance = grid_instance(400, 20, allowed=True, breaks=True)
    assert one_search_a_thread(MIN_VROOM_TIMEOUT_S, instance.n_nodes, instance.n_vehicles, 2)
    calls: list[int] = []
    one_search = vroom_seeder._solved_one_search_a_thread

    def spied(model: object, threads: int, timeout: timedelta) -> object:
        calls.append(threads)
        return one_search(model, threads, timeout)

    monkeypatch.setattr(vroom_seeder, "_solved_one_search_a_thread", spied)
    routes = vroom_routes(instance, MIN_VROOM_TIMEOUT_S, level=0, threads=2)
    assert calls == [2]
    assert_routes_fit(instance, routes)
    assert sum(map(len, routes)) > instance.n_nodes // 2
    # Time enough for level 0 to end: its four searches, as VROOM runs them.
    vroom_routes(instance, 2 * vroom_seconds(0, 400, 20, threads=2), level=0, threads=2)
    assert calls == [2]


@needs_both
def test_vroom_routes_are_read_as_pyvroom_frames_them() -> None:
    """The routes read from VROOM's array of steps are those of pyvroom's own frame of it:
    the same jobs per vehicle, in the same order, breaks and empty vehicles left out."""
    import vroom

    instance = grid_instance(60, 6)
    model = vroom.Input()
    model.set_durations_matrix("car", np.asarray(instance.travel_s, dtype=np.int64))
    model.add_vehicle(
        [
            vroom.Vehicle(
                v,
                start=vehicle.start_location,
                end=vehicle.end_location,
                breaks=[vroom.Break(0, [vroom.TimeWindow(4 * HOUR, 5 * HOUR)], service=1800)],
            )
            for v, vehicle in enumerate(instance.vehicles)
        ]
        + [vroom.Vehicle(instance.n_vehicles, start=0, end=0, time_window=vroom.TimeWindow(0, 1))]
    )
    model.add_job(
        [vroom.Job(node, location=int(instance.node_location[node])) for node in range(60)]
    )
    found = model._solve(exploration_level=1, nb_threads=1, timeout=None)
    frame = vroom.solution.solution.Solution(found).routes
    jobs = frame[frame["type"] == "job"]
    expected: list[list[int]] = [[] for _ in range(instance.n_vehicles + 1)]
    for vehicle, group in jobs.groupby("vehicle_id", sort=True):
        expected[int(vehicle)] = [int(node) for node in group["id"]]
    routes = vroom_seeder._job_routes(found, instance.n_vehicles + 1)
    assert routes == expected
    assert routes[-1] == [] and sum(map(len, routes)) == 60


def test_vroom_runs_one_search_a_thread_only_between_a_few_starts_and_level_0s_end() -> None:
    one_thread_s = vroom_seconds(0, 720, 190, threads=1)
    two_threads_s = vroom_seconds(0, 720, 190, threads=2)
    low, high = ONE_SEARCH_A_THREAD_FROM * one_thread_s, ONE_SEARCH_A_THREAD_BELOW * two_threads_s
    assert low < high
    assert not one_search_a_thread(0.9 * low, 720, 190, threads=2)  # too short to improve
    assert one_search_a_thread(low, 720, 190, threads=2)
    assert one_search_a_thread(0.99 * high, 720, 190, threads=2)
    assert not one_search_a_thread(high, 720, 190, threads=2)  # level 0 ends, or nearly
    # One thread: level 0 takes longer, so a longer timeout still cuts it short.
    assert one_search_a_thread(high, 720, 190, threads=1)
    # A timeout of 0.7 of level 0's expected time (a 2 s budget's on an 800-visit
    # service-centre day) cuts it short too: level 0 often takes longer than expected.
    assert one_search_a_thread(0.7 * vroom_seconds(0, 692, 85, threads=2), 692, 85, threads=2)


@needs_both
def test_reproducible_pyvrp_counts_iterations() -> None:
    instance = grid_instance(30, 4)
    # A generous clock, a small amount of work: the work decides, so two runs agree.
    runs = [pyvrp_routes(instance, 60.0, seed=5, work_s=0.05) for _ in range(2)]
    assert runs[0] == runs[1]
    assert pyvrp_iterations(100, 1.0) == PYVRP_NODE_ITERATIONS_PER_S // 100


def test_vroom_level_is_the_most_thorough_that_ends_in_time() -> None:
    assert vroom_level(100, 10.0) == 5
    assert vroom_level(250, 0.01) == 0  # never below the fastest level
    levels = [vroom_level(800, budget) for budget in (1, 5, 20, 60, 200)]
    assert levels == sorted(levels) and levels[0] < levels[-1]
    by_size = [vroom_level(n, 20.0) for n in (60, 250, 800, 2500)]
    assert by_size == sorted(by_size, reverse=True) and by_size[0] > by_size[-1]
    # More vehicles slow VROOM down; more threads speed it up.
    by_fleet = [vroom_level(800, 20.0, n_vehicles=v) for v in (20, 100, 400)]
    assert by_fleet == sorted(by_fleet, reverse=True) and by_fleet[0] > by_fleet[-1]
    assert vroom_level(800, 15.0, threads=2) > vroom_level(800, 15.0)


def test_vroom_seconds_grow_with_the_day_and_shrink_with_threads() -> None:
    at_250 = vroom_seconds(3, 250, VROOM_VEHICLES_AT_250)
    assert at_250 == VROOM_SECONDS_AT_250[3]
    assert vroom_seconds(3, 500, VROOM_VEHICLES_AT_250) == pytest.approx(4 * at_250)
    assert vroom_seconds(3, 250, 4 * VROOM_VEHICLES_AT_250) == pytest.approx(2 * at_250)
    two = vroom_seconds(3, 250, VROOM_VEHICLES_AT_250, threads=2)
    assert two == pytest.approx(at_250 / (1 + VROOM_THREAD_SPEEDUP))
    levels = [vroom_seconds(level, 800, 100) for level in range(len(VROOM_SECONDS_AT_250))]
    assert levels == sorted(levels)
