"""``solve``, the solver's entry point: a race of two seeding searches, then OR-Tools.

``solve`` checks the instance, allows no vehicle a node none could serve even alone
(``solver.insertion.within_reach``: no search then tries to place it; with no node left to
any vehicle, the answer is every vehicle's empty day, unsearched), solves its independent
parts apart when it has several (``solver.parts``: regions that share no technician), and, when
some installed seeder can express it, races two seeding searches (``solver.strategies``) side
by side, one in this process and one in a spawned side process (``strategies_for`` says which
two). It keeps the cheaper seed by the OR-Tools objective (``solver.cost.route_cost``);
OR-Tools then searches on from it (``solver.search``) for the rest of the budget, or, when that
seed's search already ended in OR-Tools, its timed solution is the answer as it is. So the
answer is never worse than the cheaper seed. A seeding search that fails or runs past its grace
only loses its seed; where no second process may be started (a daemonic process), the two take
turns, each with half the time. On a short budget (``ALONE_BELOW_S``) a day VROOM can seed is
searched by this process alone, VROOM on both cores: there a second process costs more than
it gains; so is a small day only VROOM can seed (under ``ALONE_BELOW_NODES`` nodes) whose
VROOM's most thorough level ends within a tenth of the budget
(``ALONE_WHEN_VROOM_TOP_WITHIN``). Such a small day that PyVRP can seed too has one search here
as well, VROOM then PyVRP (PyVRP is at its best there), with no process aside: it would take
longer to start than the search to end. On a longer budget
a day only VROOM can seed does not race two VROOM-led searches but shares one
(``vroom-once-then-lns``): VROOM runs once on both cores, in the side process while this one
waits (VROOM holds the interpreter of its process while it runs, and this process's threads
must go on: a job's heartbeat, its drafts), then again on close routes (``solver.lns``) in both
processes, each on the whole day from its own seed (the cheaper routes kept) or, on a big day
or with little time a node, each on half the routes (the halves joined, in rounds each cutting
the routes again), and OR-Tools searches on from those routes. Nothing here builds a model or
searches itself.

Each race is logged at INFO on this module's logger (``solver.portfolio``) as it ends, with
``extra`` fields ``seed_costs`` (a list of ``(strategy, cost)``, one per seed produced) and
``chosen_seed`` (the strategy of the seed kept).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time as clock
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, replace
from functools import partial
from typing import TypeVar

from solver.cost import route_cost
from solver.errors import SolverError
from solver.fill import fill_left_out
from solver.insertion import stranded_idle, within_reach
from solver.instance import Instance
from solver.lns import improve_close_routes, split_close_routes, time_for_a_step
from solver.params import (
    ALONE_BELOW_NODES,
    ALONE_BELOW_S,
    ALONE_VROOM_THREADS,
    ALONE_WHEN_VROOM_TOP_WITHIN,
    CLOSE_ROUTES_SPLIT_FROM_NODES,
    CLOSE_ROUTES_WHOLE_FROM_S_PER_NODE,
    FIRST_PLAN_FROM_S,
    FIRST_PLAN_HERE_UP_TO_S,
    FIRST_PLAN_SHARE,
    LATE_SEED_SHARE,
    LNS_HALVES_ROUND_S,
    MIN_POLISH_S,
    MIN_SEEDING_ALONE_S,
    MIN_SEEDING_S,
    POLISH_SHARE,
    SEED_GRACE_S,
    SolveParams,
    check_strategies,
    seeder_stall_s,
)
from solver.parts import solve_in_parts
from solver.result import Progress, Solution
from solver.search import schedule, search
from solver.seeders import (
    VROOM_SECONDS_AT_250,
    Routes,
    installed_seeders,
    seedable,
    vroom_seconds,
)
from solver.spawned import spawned_pool
from solver.strategies import (
    Report,
    Seed,
    Strategy,
    first_level,
    first_routes,
    one_vroom_routes,
    polish_from,
    routes_teller,
    run_strategy,
    search_from,
    tell_routes,
)

__all__ = ["Race", "race", "solve", "strategies_for"]

logger = logging.getLogger(__name__)

T = TypeVar("T")


def solve(
    instance: Instance,
    params: SolveParams | None = None,
    *,
    initial_routes: Sequence[Sequence[int]] | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    snapshots: bool = False,
    known: Sequence[Sequence[int]] | None = None,
) -> Solution:
    """Solve ``instance`` and return its routes.

    Parameters
    ----------
    instance
        The numbers to route.
    params
        Search budget and strategy; defaults to ``SolveParams()``.
    initial_routes
        One node list per vehicle to start from (re-planning, warm starts); nodes that cannot
        be placed as given are left to the search. Default ``None``: the seeding race, or
        OR-Tools' first solution when nothing can seed.
    on_progress
        Called at each improving solution (throttled), from the search thread; default none.
    snapshots
        Whether some reports carry the best routes so far (``Progress.routes``): OR-Tools'
        search's (``solver.search.search``), the chosen seed's when the race ends, each part's
        joined with the parts before it (``solver.parts``). Default ``False``.
    known
        Routes already found for ``instance`` (one node list per vehicle: a part's quick
        routes, ``solver.parts``) that the answer is to be no worse than: OR-Tools' search
        starts from them where no seeding search runs (too little time) or where the race's
        cheapest seed costs more. Not read with ``initial_routes`` (the search starts from
        those). Default ``None``.

    Returns
    -------
    Solution
        The best solution found.

    Raises
    ------
    InstanceError
        If the instance's arrays do not fit together.
    SolverError
        If a strategy is unknown, the model cannot be built or no solution is found (not even
        all nodes dropped).
    """
    params = params or SolveParams()
    started = clock.monotonic()
    instance.check()
    check_strategies(params)  # before any seeding
    if instance.n_vehicles == 0:
        return _nobody(instance, started)
    instance = within_reach(stranded_idle(instance))
    if not any(instance.allowed_vehicles(node) for node in range(instance.n_nodes)):
        return _idle(instance, started)
    # Alternatives (spare parts) tie nodes of one group across parts: solved whole, unseeded.
    seeding = (
        initial_routes is None
        and not params.solution_limit
        and instance.n_nodes > 1
        and not instance.has_alternatives
    )
    if seeding:
        solve_one = partial(_solve_part, snapshots=snapshots)
        first = partial(_first_routes, params=params, listening=on_progress is not None)
        joined = solve_in_parts(
            instance, params, solve_one, on_progress, first=first, snapshots=snapshots,
            started=started,
        )  # fmt: skip
        if joined is not None:
            # Each part filled its own left-out nodes, and no vehicle serves two parts.
            return _searched_on(instance, params, started, joined, on_progress, snapshots)
    searched = _searched(
        instance, params, started, initial_routes, on_progress, snapshots, known, seeding
    )
    searched = _searched_on(instance, params, started, searched, on_progress, snapshots)
    filled = fill_left_out(
        instance,
        searched,
        time_limit_s=params.time_limit_s,
        reproducible=params.reproducible,
        ejecting=initial_routes is None and not (instance.soft_window_s >= 0).any(),
        left_s=params.time_limit_s - (clock.monotonic() - started),
    )
    return replace(filled, elapsed_s=clock.monotonic() - started)


def _searched(
    instance: Instance,
    params: SolveParams,
    started: float,
    initial_routes: Sequence[Sequence[int]] | None,
    on_progress: Callable[[Progress], None] | None,
    snapshots: bool,
    known: Sequence[Sequence[int]] | None,
    seeding: bool,
) -> Solution:
    """``solve``'s search of ``instance`` as one (vehicles reach only what they can): the
    seeding race then OR-Tools when ``seeding``, or OR-Tools from ``initial_routes``. One
    node is placed by the search alone (``solver.search``): no seed to race for, and PyVRP's
    stall rule kept a seeding search at it for a fifth of the budget."""
    if initial_routes is not None:
        initial_routes = _allowed_only(instance, initial_routes)
    if seeding:
        raced = race(
            instance, params, started=started, on_progress=on_progress, snapshots=snapshots
        )
        known_cost = None if known is None else route_cost(instance, known)
        if raced is not None and (known_cost is None or min(raced.costs) <= known_cost):
            if raced.best.timed is not None:
                # OR-Tools' own search ended the seeding search that won: its timed solution.
                return replace(raced.best.timed, elapsed_s=clock.monotonic() - started)
            initial_routes = raced.best.routes
        elif known is not None:
            initial_routes = known
    return search(
        instance,
        params,
        initial_routes=initial_routes,
        on_progress=on_progress,
        started=started,
        snapshots=snapshots,
    )


def _searched_on(
    instance: Instance,
    params: SolveParams,
    started: float,
    searched: Solution,
    on_progress: Callable[[Progress], None] | None,
    snapshots: bool,
) -> Solution:
    """``searched``, or, under a ``stall_share`` of 0 with time left, OR-Tools' search from its
    routes until the time limit (the cheaper of the two): the seeding searches, their
    restarts and the parts of a day each stop once they stall, and a 60-visit day told to
    search its whole 15 s answered in 0.9 s."""
    if params.stall_share > 0 or params.reproducible or params.solution_limit:
        return searched
    if params.time_limit_s - (clock.monotonic() - started) < MIN_POLISH_S:
        return searched
    try:
        again = search(
            instance,
            params,
            initial_routes=searched.node_routes(instance.n_vehicles),
            on_progress=on_progress,
            started=started,
            snapshots=snapshots,
        )
    except SolverError as error:
        logger.warning("OR-Tools found nothing from the routes found: %s", error)
        return searched
    return again if again.objective <= searched.objective else searched


def _allowed_only(instance: Instance, routes: Sequence[Sequence[int]]) -> list[list[int]]:
    """``routes`` without the nodes their vehicle may not serve: ``within_reach`` allows no
    vehicle a node none could ever take, and OR-Tools, handed such a start, refuses it route by
    route (each refusal an error on the process's stderr: a re-plan's warm start printed them to
    the desk's terminal) before the start is repaired."""
    return [
        [node for node in route if v in instance.allowed_vehicles(node)]
        for v, route in enumerate(routes)
    ]


def _nobody(instance: Instance, started: float) -> Solution:
    """The answer when no vehicle is left (every technician of a re-planned day gone): every
    node left out, each group costing its penalty. OR-Tools has no model of zero vehicles."""
    penalties = [int(instance.penalty[group[0]]) for group in instance.groups_of_nodes()]
    return Solution(
        routes=(),
        dropped=tuple(range(instance.n_nodes)),
        objective=sum(penalties),
        elapsed_s=clock.monotonic() - started,
    )


def _idle(instance: Instance, started: float) -> Solution:
    """The answer when no vehicle may serve any node (no visits, or the group of those nobody
    can serve, planned with every technician): every vehicle's empty day, timed, and every
    node left out; nothing to search. OR-Tools' search of 1,000 empty vehicles found no first
    solution in the second such a group's share of the budget gave it, and the day failed."""
    solution = schedule(instance, [[] for _ in range(instance.n_vehicles)])
    return replace(solution, elapsed_s=clock.monotonic() - started)


def _solve_part(
    instance: Instance,
    params: SolveParams,
    on_progress: Callable[[Progress], None] | None,
    known: Routes | None = None,
    snapshots: bool = False,
) -> Solution:
    """``solve`` of one independent part (``solver.parts``); module-level, for a spawned pool."""
    return solve(instance, params, on_progress=on_progress, snapshots=snapshots, known=known)


@dataclass(frozen=True, slots=True)
class Race:
    """The seeds a race produced (a failed search produces none) and their costs, in order.

    ``costs[k]`` is the OR-Tools objective of ``seeds[k].routes``; ``best`` is the first seed
    of least cost.
    """

    seeds: tuple[Seed, ...]
    costs: tuple[int, ...]

    @property
    def best(self) -> Seed:
        """The first seed of least cost: the one ``solve`` starts from."""
        return self.seeds[self.costs.index(min(self.costs))]


def strategies_for(instance: Instance, params: SolveParams) -> tuple[Strategy, Strategy] | None:
    """The two seeding searches that race on ``instance``: (this process's, the side's).

    The seeders that count are those of ``params.seeders`` that are installed and can express
    ``instance``; with none, ``None`` (nothing races). When PyVRP counts, PyVRP runs here
    (``pyvrp-alone``) and, when VROOM counts too, ``vroom-then-pyvrp`` in the side process;
    on a small day whose VROOM's most thorough level ends within
    ``ALONE_WHEN_VROOM_TOP_WITHIN`` of the budget ``vroom-then-pyvrp`` runs here, so that
    VROOM's routes are a plan here at once, and ``race`` starts no side process (a reproducible
    run races the two, ``pyvrp-alone`` aside).
    When only VROOM counts (breaks), both searches start from VROOM (OR-Tools does far worse
    from its own first solution on such days) and end in OR-Tools: ``vroom-short-then-ortools``
    here, so that this process has a first plan to hand out at about half the budget, and
    ``vroom-full-then-ortools`` in the side process; only a reproducible run races these two
    (``race`` otherwise runs ``vroom-once-then-lns`` on both cores).

    Parameters
    ----------
    instance
        The numbers to route.
    params
        Whose ``seeders`` are the ones allowed.

    Returns
    -------
    tuple of Strategy, or None
        This process's strategy and the side process's, or ``None``.
    """
    able = [name for name in seedable(instance) if name in params.seeders]
    able = [name for name in able if name in installed_seeders(tuple(able))]
    if not able:
        return None
    if able == ["pyvrp"]:
        return Strategy.PYVRP_ALONE, Strategy.PYVRP_ALONE
    # PyVRP follows VROOM in the side process wherever PyVRP can express the instance, even
    # when it is left out of ``params.seeders`` or not installed (then that search fails and
    # only loses its seed).
    side = (
        Strategy.VROOM_THEN_PYVRP
        if "pyvrp" in seedable(instance)
        else Strategy.VROOM_SHORT_THEN_ORTOOLS
    )
    if able == ["vroom"] and side is Strategy.VROOM_SHORT_THEN_ORTOOLS:
        # The shorter VROOM runs here: its routes, and OR-Tools' search from them, are a first
        # plan this process can hand out at about half the budget, where the full VROOM run
        # of a big day (2,157 nodes, 264 vehicles) reports only when its budget is spent.
        return Strategy.VROOM_SHORT_THEN_ORTOOLS, Strategy.VROOM_FULL_THEN_ORTOOLS
    if able == ["vroom"]:
        return Strategy.VROOM_FULL_THEN_ORTOOLS, side
    if side is Strategy.VROOM_THEN_PYVRP and _vroom_top_is_quick(instance, params):
        # VROOM's run is over in a moment: here it holds this process's interpreter only that
        # long, its routes are a plan at once, and the spawned side process's later start
        # costs PyVRP alone, not the search from VROOM's routes.
        return Strategy.VROOM_THEN_PYVRP, Strategy.PYVRP_ALONE
    return Strategy.PYVRP_ALONE, side


def race(
    instance: Instance,
    params: SolveParams,
    *,
    started: float | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    snapshots: bool = False,
) -> Race | None:
    """The seeds of the two seeding searches of ``strategies_for``, run side by side.

    Both stop leaving OR-Tools ``POLISH_SHARE`` of the budget (at least ``MIN_POLISH_S``) to
    search on from the cheaper seed; searches that end in OR-Tools themselves
    (``vroom-short-then-ortools`` here) leave only ``MIN_POLISH_S``. The side process's seed is
    waited for until ``SEED_GRACE_S`` past the seeding deadline. Where no second process may be
    started, the side's search runs first, then this process's, each with half the time (or,
    reproducible, half the work). A day VROOM can seed, on a budget below ``ALONE_BELOW_S``
    (but a small day PyVRP can seed too), or one only VROOM can seed, small with VROOM's most
    thorough level quick (``_searches_alone``), has one search only, here: VROOM's full search
    then OR-Tools, for the whole budget; a small day PyVRP can seed, VROOM's most thorough level
    quick, has ``vroom-then-pyvrp`` here only (``strategies_for``); otherwise a day only VROOM
    can seed has VROOM run once on both cores (in the side process, this one waiting), then
    again on close routes in both processes (the whole day in each, or half the routes in each
    on a big day or when a node has little time), and OR-Tools searches on from the result (one
    seed, ``vroom-once-then-lns``). With ``params.reproducible`` the two racers run, and the
    searches count work worth the seeding time, the deadline only capping them.

    Parameters
    ----------
    instance
        The numbers to route, already checked.
    params
        The budget, seeders, seed (this process's search takes ``seed``, the side's
        ``seed + 1``) and reproducibility.
    started
        The ``time.monotonic()`` at which the budget began (default: now).
    on_progress
        Hears this process's search as it goes (costs only), then the chosen seed's cost;
        default none.
    snapshots
        Whether the chosen seed's report carries its routes (``Progress.routes``): a first
        plan, once timed (``solver.search.schedule``; a seeder's routes may, rarely, break a
        rule of the model, and then the search repairs them). Default ``False``.

    Returns
    -------
    Race or None
        The seeds produced, or ``None`` when nothing can seed, the seeding time left is at most
        ``MIN_SEEDING_S`` (``MIN_SEEDING_ALONE_S`` for a search alone), or every search failed.
    """
    started = clock.monotonic() if started is None else started
    pair = strategies_for(instance, params)
    here = None if pair is None else pair[0]
    alone = _searches_alone(pair, instance, params)
    if alone:  # VROOM's full search ends in OR-Tools' own: the whole budget is its
        polish_s = 0.0
    elif here is not None and here.ends_in_ortools:
        polish_s = MIN_POLISH_S
    else:
        polish_s = max(MIN_POLISH_S, POLISH_SHARE * params.time_limit_s)
    seeding_s = params.time_limit_s - polish_s - (clock.monotonic() - started)
    if pair is None or seeding_s <= (MIN_SEEDING_ALONE_S if alone else MIN_SEEDING_S):
        return None
    here, side = pair
    deadline = clock.time() + seeding_s
    if params.reproducible:
        deadline = clock.time() + params.time_limit_s - (clock.monotonic() - started) - polish_s

    report: Report | None = None
    if on_progress is not None:
        tell = on_progress

        def report(
            cost: int,
            placed: int | None,
            routes: tuple[tuple[int, ...], ...] | None,
            timed: Solution | None,
        ) -> None:
            kept, kept_timed = (routes, timed) if snapshots else (None, None)
            elapsed_s = clock.monotonic() - started
            tell(Progress(elapsed_s, cost, placed, instance.n_nodes, kept, kept_timed))

    seeds: list[Seed] = []
    if alone:
        full = Strategy.VROOM_FULL_THEN_ORTOOLS
        threads = min(ALONE_VROOM_THREADS, _cores())
        seeds.extend(_guarded(full, instance, deadline, params.seed, None, report, threads))
    elif here is Strategy.VROOM_THEN_PYVRP and not params.reproducible:
        # A small day whose VROOM is over in a moment (``strategies_for``): PyVRP alone aside
        # would first wait for its process to start (about a second, longer than the search
        # of a few dozen nodes, often past the grace: no seed at all) and then for its stall.
        # On 60-visit days without breaks (three makers, seeds 1-5) the search here alone
        # served the same priority-weighted visits (two days of 30 +3 and -3), answering in
        # 4.4 s instead of 7.3 s on average at 10 s, in 11.2 s instead of 16.4 s at 30 s.
        stall_s = seeder_stall_s(params, instance.n_nodes)
        seeds.extend(_guarded(here, instance, deadline, params.seed, None, report, stall_s=stall_s))
    elif here is Strategy.VROOM_SHORT_THEN_ORTOOLS and not params.reproducible:
        # One VROOM run, then VROOM again on close routes on both cores: at 800 visits and
        # 30 s, 0.2-0.5 % more than the two VROOM-led racers (better on 15 days of 15), at
        # 250 and 10 s +0.1 % (rural +0.3 %, city and dayset level). Searching the whole day
        # in both processes where a node has time (``_searches_whole_day``) added
        # 0.07-0.31 % more at 250 and 30 s (benchmarks/RESULTS.md, 2026-12-04 13:06).
        seeds.extend(_one_vroom_then_close_routes(instance, params, deadline, report))
    else:
        seeds.extend(_side_by_side(here, side, instance, params, deadline, seeding_s, report))
    if not seeds:
        return None
    raced = Race(tuple(seeds), tuple(route_cost(instance, seed.routes) for seed in seeds))
    seed_costs = [
        (str(seed.strategy), cost) for seed, cost in zip(raced.seeds, raced.costs, strict=True)
    ]
    chosen = str(raced.best.strategy)
    logger.info(
        "seed costs %s; starting from %s",
        seed_costs,
        chosen,
        extra={"seed_costs": seed_costs, "chosen_seed": chosen},
    )
    if on_progress is not None:
        placed = sum(len(route) for route in raced.best.routes)
        routes = tuple(tuple(route) for route in raced.best.routes) if snapshots else None
        timed = raced.best.timed if snapshots else None
        elapsed_s = clock.monotonic() - started
        on_progress(Progress(elapsed_s, min(raced.costs), placed, instance.n_nodes, routes, timed))
    return raced


def _side_by_side(
    here: Strategy,
    side: Strategy,
    instance: Instance,
    params: SolveParams,
    deadline: float,
    seeding_s: float,
    report: Report | None,
) -> list[Seed]:
    """The seeds of ``here`` (this process) and ``side`` (a spawned one) until ``deadline``;
    where no second process may be started, one after the other, each with half the time."""
    work_s = seeding_s if params.reproducible else None
    # PyVRP, which searches until told to stop, stops once it has stalled (``seeder_stall_s``).
    stall_s = seeder_stall_s(params, instance.n_nodes)
    seeds: list[Seed] = []
    with _SideProcess() as pool:
        if pool is None:
            half = deadline if work_s is not None else clock.time() + seeding_s / 2
            half_work = None if work_s is None else work_s / 2
            seeds.extend(
                _guarded(side, instance, half, params.seed + 1, half_work, stall_s=stall_s)
            )
            seeds.extend(
                _guarded(here, instance, deadline, params.seed, half_work, report, stall_s=stall_s)
            )
        else:
            side_search = partial(run_strategy, stall_s=stall_s)
            future = _submit(pool, side_search, side, instance, deadline, params.seed + 1, work_s)
            seeds.extend(
                _guarded(here, instance, deadline, params.seed, work_s, report, stall_s=stall_s)
            )
            seeds.extend(_from_side(future, side, deadline))
    return seeds


def _one_vroom_then_close_routes(
    instance: Instance, params: SolveParams, deadline: float, report: Report | None
) -> list[Seed]:
    """The seed of ``vroom-once-then-lns`` on both cores: VROOM once on the cores the race
    has, in the side process (``_vroom_once_aside``); then VROOM again on close routes
    (``solver.lns``) in this process and in the side one until OR-Tools' turn
    (``polish_from``); then OR-Tools' search from their routes until ``deadline``
    (``search_from``). On a day not too big for the time left (``_searches_whole_day``) each
    process searches the whole day from its own seed and the cheaper routes are kept
    (``_cheaper_of_two``); otherwise each searches half the routes and the halves are joined
    (``_halves_joined``). Where no second process may be started, VROOM runs here and every
    route is searched here; when the side's search fails or is late, only what it would have
    added is lost."""
    threads = min(ALONE_VROOM_THREADS, _cores())
    strategy = Strategy.VROOM_ONCE_THEN_LNS
    with _SideProcess() as pool:
        if pool is None:
            return _guarded(strategy, instance, deadline, params.seed, None, report, threads)
        try:
            late_s = LATE_SEED_SHARE * params.time_limit_s
            routes = _vroom_once_aside(pool, instance, deadline, threads, report, late_s)
        except Exception as error:  # OR-Tools searches on without a seed
            logger.warning("seeding search %s gave no routes: %r", strategy, error)
            return []
        until = polish_from(instance, deadline)
        if not time_for_a_step(until):
            # VROOM ran past OR-Tools' turn (a big day on a short budget): sending the day to
            # the side process and waiting for its grace would only add to the overrun.
            return _searched_from(strategy, instance, routes, deadline, params.seed, report)
        searched = _cheaper_of_two if _searches_whole_day(instance, until) else _halves_joined
        tell = routes_teller(report, instance, deadline)
        improved = searched(pool, instance, routes, until, params.seed, tell)
    return _searched_from(strategy, instance, improved, deadline, params.seed, report)


def _vroom_once_aside(
    pool: ProcessPoolExecutor,
    instance: Instance,
    deadline: float,
    threads: int,
    report: Report | None,
    late_s: float = 0.0,
) -> Routes:
    """``one_vroom_routes`` run in the side process while this one waits, then reported here.
    VROOM's search holds the interpreter of the process it runs in for its whole run (49 s on
    2,500 visits at 120 s): run here, it would stop this process's other threads as long (a
    job's heartbeat and progress, its drafts). When it fails there (the side process died, at
    start or while searching), VROOM runs here for the time left. Its answer is waited for
    ``late_s`` more past ``SEED_GRACE_S`` after ``deadline``: it is the one seed, and OR-Tools
    alone finds no first plan of a big day in the time then left (a 2,143-node part at 10 s
    on a busy machine, VROOM's start alone past its timeout: the day failed). Later still, it
    raises ``TimeoutError``."""
    future = _submit(pool, one_vroom_routes, instance, deadline, threads)
    try:
        routes = future.result(timeout=max(0.0, deadline - clock.time()) + SEED_GRACE_S)
    except TimeoutError:
        logger.warning("VROOM's one run is past its time; waited for up to %.1f s more", late_s)
        try:
            routes = future.result(timeout=late_s)
        except TimeoutError:
            future.cancel()
            raise
    except Exception as error:  # VROOM runs here instead
        logger.warning("VROOM's one run failed in the side process, runs here: %r", error)
        return one_vroom_routes(instance, deadline, threads, report)
    if report is not None:
        tell_routes(report, instance, routes, deadline)
    return routes


def _searches_whole_day(instance: Instance, until: float) -> bool:
    """Whether both processes search the whole day on close routes until ``until``: on a day
    of fewer than ``CLOSE_ROUTES_SPLIT_FROM_NODES`` nodes with at least
    ``CLOSE_ROUTES_WHOLE_FROM_S_PER_NODE`` left a node. Otherwise every route needs all the
    steps two processes can give it, so each takes half the routes."""
    per_node_s = (until - clock.time()) / instance.n_nodes
    return (
        instance.n_nodes < CLOSE_ROUTES_SPLIT_FROM_NODES
        and per_node_s >= CLOSE_ROUTES_WHOLE_FROM_S_PER_NODE
    )


def _cheaper_of_two(
    pool: ProcessPoolExecutor,
    instance: Instance,
    routes: Routes,
    until: float,
    seed: int,
    tell: Callable[[Routes], None] | None = None,
) -> Routes:
    """The cheaper of two close-routes searches of the whole day from ``routes`` until
    ``until``: one here with ``seed`` (which ``tell`` hears on the way), one in the side
    process with ``seed + 1``."""
    strategy = Strategy.VROOM_ONCE_THEN_LNS
    future = _submit(pool, improve_close_routes, instance, routes, until, seed + 1)
    best = [list(route) for route in routes]
    try:
        best = improve_close_routes(instance, routes, until, seed, tell=tell)
    except Exception as error:  # the side's routes may still come
        logger.warning("seeding search %s failed here: %r", strategy, error)
    for theirs in _from_side(future, strategy, until):
        if route_cost(instance, theirs) < route_cost(instance, best):
            best = [list(route) for route in theirs]
    return best


def _halves_joined(
    pool: ProcessPoolExecutor,
    instance: Instance,
    routes: Routes,
    until: float,
    seed: int,
    tell: Callable[[Routes], None] | None = None,
) -> Routes:
    """Close-routes searches from ``routes`` until ``until``, in rounds of at least
    ``LNS_HALVES_ROUND_S``: each round cuts the routes it is given in two halves
    (``split_close_routes``), every other round across the cut of the round before, searches
    one here and one in the side process, and joins them for the next round. A half whose
    search fails stays as it was. ``tell`` hears the search here on the way (its half
    searched, the other as the round began)."""
    joined = [list(route) for route in routes]
    start = clock.time()
    rounds = max(1, int((until - start) // LNS_HALVES_ROUND_S))
    for k in range(rounds):
        end = start + (until - start) * (k + 1) / rounds
        across = k % 2 == 1
        joined = _halves_round(pool, instance, joined, end, seed + 2 * k, across, tell)
    return joined


def _halves_round(
    pool: ProcessPoolExecutor,
    instance: Instance,
    routes: Routes,
    until: float,
    seed: int,
    across: bool,
    tell: Callable[[Routes], None] | None = None,
) -> Routes:
    """One round of ``_halves_joined``: the halves of ``routes`` (cut ``across`` or not)
    searched until ``until``, one here with ``seed`` (``tell`` hearing it) and one in the side
    process with ``seed + 1``, joined."""
    strategy = Strategy.VROOM_ONCE_THEN_LNS
    here, side = split_close_routes(instance, routes, across)
    future = _submit(pool, improve_close_routes, instance, routes, until, seed + 1, side)
    joined = [list(route) for route in routes]
    try:
        joined = improve_close_routes(instance, routes, until, seed, here, tell=tell)
    except Exception as error:  # the side's half may still come
        logger.warning("seeding search %s failed on its half: %r", strategy, error)
    for theirs in _from_side(future, strategy, until):
        for v in side:
            joined[v] = list(theirs[v])
    return joined


def _searched_from(
    strategy: Strategy,
    instance: Instance,
    routes: Routes,
    deadline: float,
    seed: int,
    report: Report | None,
) -> list[Seed]:
    """``search_from``'s seed from ``routes`` as a one-item list, or no item when it fails."""
    try:
        return [search_from(strategy, instance, routes, deadline, seed, None, report)]
    except Exception as error:  # OR-Tools searches on without a seed
        logger.warning("seeding search %s gave no routes: %r", strategy, error)
        return []


def _submit(pool: ProcessPoolExecutor, fn: Callable[..., T], *args: object) -> Future[T]:
    """``fn(*args)`` submitted to the side process; a pool that can no longer take work (its
    process died, say at start) gives a failed future instead of raising, so the search here
    goes on and only the side's answer is lost (``_from_side``)."""
    try:
        return pool.submit(fn, *args)
    except Exception as error:  # BrokenProcessPool, or a pool already shut down
        failed: Future[T] = Future()
        failed.set_exception(error)
        return failed


def _from_side(future: Future[T], strategy: Strategy, deadline: float) -> list[T]:
    """What the side process's search gave, as a one-item list, waited for until
    ``SEED_GRACE_S`` past the seeding ``deadline``; no item when its search failed or is
    still running (it is cancelled: only its answer is lost)."""
    wait_s = max(0.0, deadline - clock.time()) + SEED_GRACE_S
    try:
        return [future.result(timeout=wait_s)]
    except Exception as error:  # a failed side search only loses its answer
        logger.warning("seeding search %s gave no routes: %r", strategy, error)
        future.cancel()
        return []


def _guarded(
    strategy: Strategy,
    instance: Instance,
    deadline: float,
    seed: int,
    work_s: float | None,
    report: Report | None = None,
    threads: int = 1,
    stall_s: float | None = None,
) -> list[Seed]:
    """The search's seed as a one-item list, or no item when it fails (it is only a seed)."""
    try:
        return [run_strategy(strategy, instance, deadline, seed, work_s, report, threads, stall_s)]
    except Exception as error:  # OR-Tools searches on without this seed
        logger.warning("seeding search %s gave no routes: %r", strategy, error)
        return []


def _searches_alone(
    pair: tuple[Strategy, Strategy] | None, instance: Instance, params: SolveParams
) -> bool:
    """Whether the day that would race ``pair`` (``strategies_for``) is searched by this
    process alone, VROOM's full search then OR-Tools.

    A day only VROOM can seed: on a budget below ``ALONE_BELOW_S``, or, on a day of fewer than
    ``ALONE_BELOW_NODES`` nodes, when VROOM's most thorough level ends within
    ``ALONE_WHEN_VROOM_TOP_WITHIN`` of the budget. A day PyVRP can seed too, with VROOM aside
    (``pyvrp-alone`` here): on a budget below ``ALONE_BELOW_S`` as well; a small day with
    VROOM's top level quick runs ``vroom-then-pyvrp`` here alone instead (PyVRP after VROOM:
    at its best on small days; ``race``).
    A reproducible run keeps its two searches, which count work, not time."""
    if pair is None or params.reproducible:
        return False
    here, side = pair
    if here.ends_in_ortools:
        return params.time_limit_s < ALONE_BELOW_S or _vroom_top_is_quick(instance, params)
    vroom_aside = (here, side) == (Strategy.PYVRP_ALONE, Strategy.VROOM_THEN_PYVRP)
    return vroom_aside and params.time_limit_s < ALONE_BELOW_S


def _vroom_top_is_quick(instance: Instance, params: SolveParams) -> bool:
    """Whether ``instance`` has fewer than ``ALONE_BELOW_NODES`` nodes and VROOM's most
    thorough level on it is expected to end within ``ALONE_WHEN_VROOM_TOP_WITHIN`` of the
    budget (never for a reproducible run, which counts work, not time)."""
    return _parts_top_is_quick([instance], params)


def _parts_top_is_quick(pieces: Sequence[Instance], params: SolveParams) -> bool:
    """``_vroom_top_is_quick`` of ``pieces`` together: fewer than ``ALONE_BELOW_NODES`` nodes
    in all, and VROOM's most thorough level on all of them, one after another, expected to end
    within ``ALONE_WHEN_VROOM_TOP_WITHIN`` of the budget."""
    if params.reproducible or sum(piece.n_nodes for piece in pieces) >= ALONE_BELOW_NODES:
        return False
    threads = min(ALONE_VROOM_THREADS, _cores())
    top = len(VROOM_SECONDS_AT_250) - 1
    top_s = sum(vroom_seconds(top, p.n_nodes, p.n_vehicles, threads) for p in pieces)
    return top_s <= ALONE_WHEN_VROOM_TOP_WITHIN * params.time_limit_s


def _first_routes(
    pieces: Sequence[Instance], params: SolveParams, listening: bool = True
) -> list[Routes] | None:
    """VROOM's quick routes of every part of a day (``solver.parts``) within
    ``FIRST_PLAN_SHARE`` of the budget, on the cores a search alone has, in a process of their
    own when that share is over ``FIRST_PLAN_HERE_UP_TO_S`` (this one waiting: a VROOM run
    holds the interpreter of its process, and this process's other threads must go on) but on
    a small day whose VROOM's most thorough level is quick (``_parts_top_is_quick``: a process
    would take longer to start than VROOM to end; on 60-visit days at 30 s it took 1.9 s);
    ``None`` when they fail or come later than ``SEED_GRACE_S`` past the share, when even
    VROOM's quickest level is not expected to end within the share (``first_level``, known
    before any process is started), on a budget below ``FIRST_PLAN_FROM_S`` or when nobody is
    ``listening`` to the progress (but on a small day whose VROOM's most thorough level on all
    its parts is quick, ``_parts_top_is_quick``: there they cost a few hundredths of a second,
    and the answer does not depend on whether someone listens), when VROOM is not among
    ``params.seeders``, is not installed or cannot express some part, and in a reproducible
    run (whose parts' searches count work, not time)."""
    wanted = listening and params.time_limit_s >= FIRST_PLAN_FROM_S
    if (
        params.reproducible
        or not (wanted or _parts_top_is_quick(pieces, params))
        or "vroom" not in params.seeders
        or installed_seeders(("vroom",)) != ("vroom",)
    ):
        return None
    if any("vroom" not in seedable(piece) for piece in pieces):
        return None
    threads = min(ALONE_VROOM_THREADS, _cores())
    budget_s = FIRST_PLAN_SHARE * params.time_limit_s
    if first_level(pieces, budget_s, threads) is None:
        return None  # no level fits: a process started only to find none would cost 0.5 s
    deadline = clock.time() + budget_s
    if budget_s <= FIRST_PLAN_HERE_UP_TO_S or _parts_top_is_quick(pieces, params):
        return first_routes(pieces, deadline, threads)
    with _SideProcess() as pool:
        if pool is None:
            return first_routes(pieces, deadline, threads)
        future = _submit(pool, first_routes, pieces, deadline, threads)
        try:
            return future.result(timeout=budget_s + SEED_GRACE_S)
        except Exception as error:  # no first plan: each part's search still plans it
            logger.warning("no quick routes of the parts: %r", error)
            future.cancel()
            return None


def _cores() -> int:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


class _SideProcess:
    """A one-worker spawned process pool, or ``None`` where this process may not have one."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None
        if not multiprocessing.current_process().daemon:
            self._pool = spawned_pool(1)

    def __enter__(self) -> ProcessPoolExecutor | None:
        return self._pool

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            # A search still running past its grace is not waited for.
            self._pool.shutdown(wait=False, cancel_futures=True)
