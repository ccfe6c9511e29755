"""VROOM as a seeder, for every instance that may be seeded at all.

What VROOM sees: the arc cost and travel time matrices, service, windows, shifts, capacities,
fixed vehicle costs, breaks, and eligibility as *skills* (one skill per distinct set of allowed
vehicles). It has no prizes, so drop penalties become its priorities (0-100: ``vroom_priorities``).
It runs at an exploration level chosen to end in time (``vroom_level``), on one thread beside a
search of its own or on the cores a search alone leaves it; where its timeout cuts even level 0
short, as one search a thread (``one_search_a_thread``). VROOM (an optional library) is
imported with this module: its import takes 0.25-0.45 s (pandas inside), which a process pays once
when it loads the engine rather than inside the budget of its first day.
"""

from __future__ import annotations

import math
import random
import time as clock
from collections.abc import Callable, Sequence
from datetime import timedelta

import numpy as np

from solver.cost import arc_costs
from solver.instance import Instance, in_turn
from solver.seeders.base import Routes, seeding_applies

try:
    import vroom
except ImportError:  # not installed: ``installed_seeders`` leaves VROOM out
    vroom = None

__all__ = [
    "MIN_VROOM_TIMEOUT_S",
    "ONE_SEARCH_A_THREAD_BELOW",
    "ONE_SEARCH_A_THREAD_FROM",
    "VROOM",
    "VROOM_SECONDS_AT_250",
    "VROOM_THREAD_SPEEDUP",
    "VROOM_VEHICLES_AT_250",
    "VroomSeeder",
    "one_search_a_thread",
    "vroom_level",
    "vroom_priorities",
    "vroom_routes",
    "vroom_seconds",
]

#: Seconds VROOM takes at each exploration level (0-5) on a field day of 250 visits and
#: ``VROOM_VEHICLES_AT_250`` vehicles, one thread, on the reference machine: about the slowest
#: of three makers of day (a service centre, a city, a rural area; ``benchmarks/RESULTS.md``).
#: The time grows with the square of the nodes and the square root of the vehicles: a rural
#: day of 800 visits and 211 technicians takes 20 s at level 1, a city day of 800 and 123 takes
#: 12 s, where the nodes alone would predict 7 s for both.
VROOM_SECONDS_AT_250 = (0.3, 0.85, 2.2, 3.8, 9.0, 12.5)
#: The vehicles of the day ``VROOM_SECONDS_AT_250`` was measured on.
VROOM_VEHICLES_AT_250 = 40
#: How much faster each thread beyond the first makes VROOM (it explores its starts in
#: parallel): two threads take 0.47-0.54 of one thread's time on those days.
VROOM_THREAD_SPEEDUP = 0.9
#: The shortest timeout VROOM is given, however little time is left.
MIN_VROOM_TIMEOUT_S = 0.1
#: Below this share of level 0's expected time (``vroom_seconds``) VROOM's timeout cuts even
#: level 0 short, and VROOM runs one search a thread instead of level 0's four
#: (``one_search_a_thread``): each search builds one start and improves it for the whole
#: timeout, where four share it after building two starts a thread. On the main parts of
#: 800-visit days (690-730 visits, two threads, 1.1 s, what a 2 s budget leaves VROOM;
#: 0.39-0.63 of the expected time) VROOM's routes cost 3.5 % less over ten rural days (better
#: on 6), 8 % over ten city days, 21 % over ten service-centre days (better on 10); on one
#: thread 30-50 % less. Whole 2 s plans of those days, ten a maker: +209/+104/+491 weighted
#: visits in total (service centre/city/rural, about 130,000 each). On rural parts at 1.4-1.8 s
#: (0.49-0.63) four searches gave the cheaper routes on 9 of 11, yet whole 2.6 s plans of
#: eight rural days were level (-31 in total). Those shares were of ``vroom_seconds``, on a
#: machine where it held; on one where level 0 of those parts took 1.4-2.1 times it (2.1 on
#: service-centre days), the shares were really 0.3-0.45, and 0.65 kept service-centre days
#: at four searches (their timeout 0.71 of the expected time, 0.33 of the real). So one search
#: a thread whenever level 0 is expected to be cut short at all: whole 2 s plans of ten
#: service-centre 800-visit days then served more priority-weighted visits on all ten (+40 a
#: day of 13,400); city and rural days were already below 0.65. At 60 s on 2,500-visit days
#: (timeout about 0.8 of the expected time), one day a maker: +40/+39/0 (of 42,000).
ONE_SEARCH_A_THREAD_BELOW = 1.0
#: ... and from this share of level 0's expected time on one thread, about two and a half
#: starts' building (a start takes 0.06-0.07 of it: 0.35 s on a 720-visit rural part, 6 s on a
#: 2,250-visit one): with less, each search barely builds its start, and four starts give the
#: better pick. On a 2,250-visit rural part, two threads: at 6 s (0.065) one search a thread
#: cost 3.3 times as much; at 14 s (0.15) 1.3 % more, ending on time where four ran 4.3 s over.
ONE_SEARCH_A_THREAD_FROM = 0.15
#: VROOM's priorities run 0-100.
_VROOM_TOP_PRIORITY = 100
#: Penalties are counted in their common unit when the least of them is at most this many
#: units; a finer unit (penalties with no common measure) would cap them all at the top.
_MOST_UNITS_OF_THE_LEAST = 10


class VroomSeeder:
    """VROOM as a ``Seeder``: its routes from nothing, at the level that ends in time."""

    name = "vroom"

    def can_seed(self, instance: Instance) -> bool:
        """Whether VROOM can express ``instance``: whenever any seeder may (``seeding_applies``)."""
        return seeding_applies(instance)

    def routes(
        self,
        instance: Instance,
        deadline: float,
        seed: int,
        work_s: float | None = None,
        on_best: Callable[[int], None] | None = None,
        stall_s: float | None = None,
    ) -> Routes:
        """``vroom_routes`` until about ``deadline`` (see ``Seeder.routes``).

        VROOM takes no seed, tells nothing before it ends and ends by itself, so ``seed``,
        ``on_best`` and ``stall_s`` are not used; with ``work_s`` its level is the one
        expected to end in that much time.
        """
        return vroom_routes(instance, deadline - clock.time(), work_s)


#: The VROOM seeder.
VROOM = VroomSeeder()


def vroom_seconds(level: int, n_nodes: int, n_vehicles: int, threads: int = 1) -> float:
    """Seconds VROOM is expected to take at exploration ``level`` on ``n_nodes`` nodes and
    ``n_vehicles`` vehicles with ``threads`` threads (``VROOM_SECONDS_AT_250`` scaled)."""
    scale = (max(1, n_nodes) / 250) ** 2 * math.sqrt(max(1, n_vehicles) / VROOM_VEHICLES_AT_250)
    speedup = 1 + VROOM_THREAD_SPEEDUP * (max(1, threads) - 1)
    return VROOM_SECONDS_AT_250[level] * scale / speedup


def vroom_level(
    n_nodes: int,
    budget_s: float,
    *,
    n_vehicles: int = VROOM_VEHICLES_AT_250,
    threads: int = 1,
) -> int:
    """VROOM's most thorough exploration level expected to end within ``budget_s``.

    A level cut short by VROOM's timeout does far worse than a lower level run to its end, so
    the level is chosen to end in time (``vroom_seconds``). Never below level 0.
    """
    fitting = [
        level
        for level in range(len(VROOM_SECONDS_AT_250))
        if vroom_seconds(level, n_nodes, n_vehicles, threads) <= budget_s
    ]
    return max(fitting, default=0)


def vroom_priorities(penalty: np.ndarray) -> list[int]:
    """VROOM's priority (0-100) of each node of these drop penalties.

    VROOM places jobs by priority and judges its plans first by their sum of priorities, so
    the priorities keep the penalties' ratios as far as whole numbers up to 100 can: each
    penalty counted in the penalties' common unit (their greatest common divisor), capped at
    100, when the least of them is at most ``_MOST_UNITS_OF_THE_LEAST`` units; otherwise in
    proportion, the top penalty 100. The engine's low, normal and high visits (3, 10 and 30
    units) are then 3, 10 and 30, as issue 18 counts them, and urgent ones (480) 100; in
    proportion to the urgent penalty alone they would be 1, 2 and 6.
    """
    values = [int(p) for p in penalty]
    positive = [p for p in values if p > 0]
    if not positive:
        return [0] * len(values)
    unit = math.gcd(*positive)
    if min(positive) <= _MOST_UNITS_OF_THE_LEAST * unit:
        return [min(_VROOM_TOP_PRIORITY, round(p / unit)) for p in values]
    top = max(positive)
    return [round(_VROOM_TOP_PRIORITY * p / top) for p in values]


def vroom_routes(
    instance: Instance,
    time_limit_s: float,
    plan_s: float | None = None,
    *,
    level: int | None = None,
    threads: int = 1,
    order_seed: int | None = None,
) -> Routes:
    """Routes VROOM finds for ``instance`` within about ``time_limit_s``, one list per vehicle.

    Parameters
    ----------
    instance
        The numbers to route; ``VROOM.can_seed(instance)`` holds.
    time_limit_s
        VROOM's timeout (at least ``MIN_VROOM_TIMEOUT_S``).
    plan_s
        The time the exploration level is chosen for (default: ``time_limit_s``).
    level
        The exploration level; default: the highest expected to end within ``plan_s``
        (``vroom_level``).
    threads
        VROOM's threads (default 1: the seeder runs beside a search of its own).
    order_seed
        When given, the jobs and vehicles reach VROOM in an order drawn from it, not in the
        instance's: VROOM breaks its ties by that order, and its routes vary with it.

    Returns
    -------
    Routes
        One node list per vehicle (all empty on a day of no nodes, which VROOM refuses: "No
        task defined").
    """
    if instance.n_nodes == 0:
        return [[] for _ in range(instance.n_vehicles)]
    model = vroom.Input()
    model.set_durations_matrix("car", np.asarray(instance.travel_s, dtype=np.int64))
    model.set_costs_matrix("car", arc_costs(instance))
    skill_sets: dict[frozenset[int], int] = {}
    node_skills: list[set[int]] = []
    for allowed in instance.allowed or (None,) * instance.n_nodes:
        if allowed is None or len(set(allowed)) == instance.n_vehicles:
            node_skills.append(set())
            continue
        skill = skill_sets.setdefault(frozenset(allowed), len(skill_sets))
        node_skills.append({skill})
    vehicle_skills: list[set[int]] = [set() for _ in instance.vehicles]
    for vehicles, skill in skill_sets.items():
        for v in vehicles:
            vehicle_skills[v].add(skill)
    priorities = vroom_priorities(instance.penalty)
    vehicle_order = list(range(instance.n_vehicles))
    node_order = list(range(instance.n_nodes))
    if order_seed is not None:
        draw = random.Random(order_seed)
        draw.shuffle(vehicle_order)
        draw.shuffle(node_order)
    windows = [
        _from_zero(instance.windows(node) or [tuple(instance.window_s[node])])
        for node in range(instance.n_nodes)
    ]
    model.add_vehicle(
        [
            vroom.Vehicle(
                v,
                start=vehicle.start_location,
                end=vehicle.end_location,
                capacity=list(vehicle.capacity),
                skills=vehicle_skills[v],
                time_window=vroom.TimeWindow(vehicle.shift_start_s, vehicle.shift_end_s),
                breaks=[
                    vroom.Break(
                        k,
                        time_windows=[vroom.TimeWindow(rule.earliest_start_s, rule.latest_start_s)],
                        service=rule.duration_s,
                    )
                    for k, rule in enumerate(in_turn(vehicle.breaks))
                ],
                costs=vroom.VehicleCosts(fixed=vehicle.fixed_cost),
            )
            for v, vehicle in ((v, instance.vehicles[v]) for v in vehicle_order)
        ]
    )
    model.add_job(
        [
            vroom.Job(
                node,
                location=int(instance.node_location[node]),
                default_service=int(instance.service_s[node]),
                delivery=[int(q) for q in instance.demand[node]],
                skills=node_skills[node],
                priority=priorities[node],
                time_windows=[vroom.TimeWindow(low, high) for low, high in windows[node]],
            )
            for node in node_order
        ]
    )
    if level is None:
        level = vroom_level(
            instance.n_nodes,
            time_limit_s if plan_s is None else plan_s,
            n_vehicles=instance.n_vehicles,
            threads=threads,
        )
    timeout_s = max(MIN_VROOM_TIMEOUT_S, time_limit_s)
    timeout = timedelta(seconds=timeout_s)
    if level == 0 and one_search_a_thread(
        timeout_s, instance.n_nodes, instance.n_vehicles, threads
    ):
        found = _solved_one_search_a_thread(model, threads, timeout)
    else:
        found = model._solve(exploration_level=level, nb_threads=threads, timeout=timeout)
    return _job_routes(found, instance.n_vehicles)


def _from_zero(windows: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """A node's windows as VROOM reads them: its times are unsigned, so each window opens no
    sooner than 0 (an appointment just after the origin opens its band before it; no shift
    starts sooner)."""
    return [(max(0, int(low)), int(high)) for low, high in windows]


def _solved_one_search_a_thread(
    model: vroom.Input, threads: int, timeout: timedelta
) -> vroom.Solution:
    """``model`` solved by ``threads`` searches at level 0's depth, one a thread, within
    ``timeout`` (see ``one_search_a_thread``). pyvroom's ``Input.solve`` takes only an
    exploration level; its binding of VROOM's ``solve(nb_searches, depth, nb_threads,
    timeout)`` is ``_solve``, which ``solve`` calls too (for an exploration level)."""
    return model._solve(nb_searches=max(1, threads), depth=0, nb_threads=threads, timeout=timeout)


def _job_routes(found: vroom.Solution, n_vehicles: int) -> Routes:
    """The jobs of each vehicle's route, in order, from VROOM's solution ``found``: read from
    its array of steps (vehicle, type, job id, in route order: pyvroom's ``_routes_numpy``),
    not from pyvroom's ``Solution.routes``, which builds a pandas frame of every column from
    it. On the small pieces of the close-routes search (``solver.lns``) the frame and its
    grouping took 7 % of the search's time."""
    steps = np.asarray(found._routes_numpy())
    jobs = steps[steps["type"] == b"job"]
    routes: Routes = [[] for _ in range(n_vehicles)]
    for vehicle, node in zip(jobs["vehicle_id"].tolist(), jobs["id"].tolist(), strict=True):
        routes[vehicle].append(node)
    return routes


def one_search_a_thread(timeout_s: float, n_nodes: int, n_vehicles: int, threads: int) -> bool:
    """Whether VROOM, at level 0 with ``timeout_s``, runs one search a thread instead of four:
    when the timeout cuts level 0 short (below ``ONE_SEARCH_A_THREAD_BELOW`` of its expected
    time on ``threads``) yet leaves a search time to improve its start (from
    ``ONE_SEARCH_A_THREAD_FROM`` of its expected time on one thread)."""
    expected_s = vroom_seconds(0, n_nodes, n_vehicles, threads)
    one_thread_s = vroom_seconds(0, n_nodes, n_vehicles, 1)
    return (
        ONE_SEARCH_A_THREAD_FROM * one_thread_s
        <= timeout_s
        < ONE_SEARCH_A_THREAD_BELOW * expected_s
    )
