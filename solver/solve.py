"""Solve an ``Instance``: search parameters, progress reports and the solution as plain arrays."""

from __future__ import annotations

import logging
import multiprocessing
import time as clock
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace

from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from solver.errors import SolverError
from solver.instance import Instance
from solver.model import RoutingHandles, build_routing_model
from solver.seeding import (
    SEEDERS,
    installed_seeders,
    route_cost,
    run_seeder,
    seedable,
    vroom_level,
    vroom_routes,
)

__all__ = [
    "FIRST_SOLUTION",
    "POLISH_SHARE",
    "PROGRESS_INTERVAL_S",
    "Progress",
    "RouteSolution",
    "Seed",
    "Solution",
    "SolveParams",
    "schedule",
    "search_parameters",
    "solve",
]

logger = logging.getLogger(__name__)

#: First-solution strategies by name; parallel cheapest insertion copes with tight windows,
#: where path-cheapest-arc often finds nothing at all (measured on Solomon R1/RC1).
_FIRST = routing_enums_pb2.FirstSolutionStrategy
_META = routing_enums_pb2.LocalSearchMetaheuristic
FIRST_SOLUTION = {
    "parallel_cheapest_insertion": _FIRST.PARALLEL_CHEAPEST_INSERTION,
    "local_cheapest_insertion": _FIRST.LOCAL_CHEAPEST_INSERTION,
    "path_cheapest_arc": _FIRST.PATH_CHEAPEST_ARC,
    "savings": _FIRST.SAVINGS,
    "automatic": _FIRST.AUTOMATIC,
}
_METAHEURISTIC = {
    "guided_local_search": _META.GUIDED_LOCAL_SEARCH,
    "simulated_annealing": _META.SIMULATED_ANNEALING,
    "tabu_search": _META.TABU_SEARCH,
    # Stops at the first local optimum: fast and deterministic, for tests and quick answers.
    "greedy_descent": _META.GREEDY_DESCENT,
}

#: Part of the budget OR-Tools keeps to search on from the seeds (the rest goes to seeding),
#: and the least it keeps, in seconds.
POLISH_SHARE = 0.1
MIN_POLISH_S = 0.5
#: How long past the seeding deadline a seed still running is waited for (VROOM's timeout is
#: approximate).
SEED_GRACE_S = 1.0

#: Part of its time the ``vroom`` search may give VROOM (the rest: OR-Tools from its routes).
VROOM_LED_SHARE = 0.5
#: Seconds per node OR-Tools may take to time fixed routes (``schedule``): 0.13-0.18 s at
#: 770 nodes, kept with a margin of about 2.
TIMING_S_PER_NODE = 0.0005
#: Time OR-Tools may spend completing a start read from routes (see ``search_parameters``).
START_COMPLETION_S = 10.0

#: Least time between two progress reports that count placed visits (an O(N) walk).
PROGRESS_INTERVAL_S = 0.25


@dataclass(frozen=True, slots=True)
class SolveParams:
    """How long and how to search.

    Parameters
    ----------
    time_limit_s
        Wall-clock budget of the whole search.
    first_solution
        A key of ``FIRST_SOLUTION``.
    metaheuristic
        ``guided_local_search`` (default), ``simulated_annealing``, ``tabu_search`` or
        ``greedy_descent``.
    solution_limit
        Stop after this many solutions (0 = no limit); with ``greedy_descent``, for tests.
    seed
        Random seed, handed to every part of OR-Tools' search that takes one (its CP-SAT
        parameters). The routing local search itself (first solution, guided local search) has
        no random stream: for a given amount of search it is deterministic, so a time-limited
        run varies only with the machine's speed and load. Seeders (PyVRP takes the seed,
        VROOM none) are time-limited too.
    seeders
        Libraries whose routes start the search when they can express the instance
        (``solver.seeding``): two diverse searches run side by side on two processes, and
        OR-Tools keeps the cheaper, then searches on from it for the last ``POLISH_SHARE`` of
        the budget. Empty: OR-Tools alone from its first-solution strategy. Never used with
        ``initial_routes`` or a ``solution_limit``.
    reproducible
        Count work instead of watching the clock, so the same instance, parameters and seed
        give the same solution on any machine: PyVRP runs a number of iterations worth the
        seeding share of the budget on the reference machine (``PYVRP_NODE_ITERATIONS_PER_S``),
        VROOM runs to its own end, and OR-Tools stops at its first local optimum (greedy
        descent) instead of running guided local search to the time limit. The time limit
        stays a cap: a run that reaches it (a much slower machine) is no longer reproducible.
        Where no second process can be started, the two seeders run one after the other with
        half the work each, so results differ from a run that had two processes.
    """

    time_limit_s: float = 10.0
    first_solution: str = "parallel_cheapest_insertion"
    metaheuristic: str = "guided_local_search"
    solution_limit: int = 0
    seed: int = 0
    seeders: tuple[str, ...] = SEEDERS
    reproducible: bool = False


@dataclass(frozen=True, slots=True)
class Progress:
    """A report from the search: time spent, best cost so far and nodes placed in it
    (``None`` while only a cost is known: PyVRP tells its best cost, not its routes)."""

    elapsed_s: float
    best_cost: int
    placed: int | None
    total: int


#: What a search tells as it goes: the best cost so far and the nodes it places, if known.
Report = Callable[[int, int | None], None]


@dataclass(frozen=True, slots=True)
class RouteSolution:
    """One vehicle's route as the solver fixed it.

    ``nodes`` in visit order; ``cumul_s`` the time dimension's value at each (service start);
    ``breaks`` as ``(start_s, duration_s)`` in the order of the vehicle's break rules.
    """

    vehicle: int
    nodes: tuple[int, ...]
    cumul_s: tuple[int, ...]
    start_s: int
    end_s: int
    breaks: tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class Solution:
    """Every vehicle's route (empty ones included) and the nodes left out."""

    routes: tuple[RouteSolution, ...]
    dropped: tuple[int, ...]
    objective: int
    elapsed_s: float


def search_parameters(params: SolveParams) -> pywrapcp.DefaultRoutingSearchParameters:
    """OR-Tools' routing search parameters for ``params``.

    Raises
    ------
    SolverError
        If the first-solution strategy or the metaheuristic is unknown.
    """
    if params.first_solution not in FIRST_SOLUTION:
        raise SolverError(f"unknown first solution strategy {params.first_solution!r}")
    if params.metaheuristic not in _METAHEURISTIC:
        raise SolverError(f"unknown metaheuristic {params.metaheuristic!r}")
    search = pywrapcp.DefaultRoutingSearchParameters()
    search.first_solution_strategy = FIRST_SOLUTION[params.first_solution]
    search.local_search_metaheuristic = _METAHEURISTIC[params.metaheuristic]
    search.time_limit.FromMilliseconds(max(1, round(params.time_limit_s * 1000)))
    if params.solution_limit:
        search.solution_limit = params.solution_limit
    search.sat_parameters.random_seed = params.seed
    # OR-Tools bounds the completion of a start (restoring routes read from a seed or a
    # previous plan) by this limit, 100 ms by default: too short for 800+ visits with breaks
    # or 1,000 customers, where every start then failed. Its LNS operators, the limit's other
    # use, are off by default.
    search.lns_time_limit.FromMilliseconds(round(START_COMPLETION_S * 1000))
    return search


def solve(
    instance: Instance,
    params: SolveParams | None = None,
    *,
    initial_routes: Sequence[Sequence[int]] | None = None,
    on_progress: Callable[[Progress], None] | None = None,
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
        be placed as given are left to the search.
    on_progress
        Called from the search thread at each improving solution (throttled).

    Raises
    ------
    SolverError
        If the model cannot be built or no solution is found (not even all nodes dropped).
    """
    params = params or SolveParams()
    if params.reproducible:
        params = replace(params, metaheuristic="greedy_descent")
    started = clock.monotonic()
    instance.check()
    search = search_parameters(params)
    if initial_routes is None and not params.solution_limit:
        seed = _seed(instance, params, started, on_progress)
        if seed is not None and seed.timed is not None:
            # OR-Tools' own search ended the seeding search that won: its timed solution.
            return replace(seed.timed, elapsed_s=clock.monotonic() - started)
        initial_routes = None if seed is None else seed.routes
    # Built only now: the seeding searches build their own, so one process never holds two.
    handles = build_routing_model(instance)
    routing = handles.routing
    if on_progress is not None:
        _report_progress(handles, instance.n_nodes, started, on_progress)
    if initial_routes is not None:
        # Restoring routes stops at their first timing: with the search's own limits each
        # check of a start went on optimising break positions until the time limit (1 s a
        # check on a re-planned day), and the repair ran out of time.
        routing.CloseModelWithParameters(_first_solution_only(search))
        repair_until = started + max(0.0, params.time_limit_s - MIN_POLISH_S)
        start_from = _feasible_start(routing, initial_routes, repair_until)
        # The search from a start always gets a moment, even when seeding overran; its clock
        # starts now, so the time spent restoring the start is counted first.
        search.time_limit.FromMilliseconds(
            max(_left_ms(params, started), round(MIN_POLISH_S * 1000))
        )
        assignment = None
        if start_from is not None:
            assignment = routing.SolveFromAssignmentWithParameters(start_from, search)
            # A restored start can be refused where breaks of other vehicles are involved
            # (seen with VROOM's routes on 800-visit days); the same routes as locks of the
            # first solution are accepted.
            if assignment is None:
                assignment = _solve_from_locks(handles, instance, start_from, search)
        if assignment is None:
            assignment = routing.SolveWithParameters(search)
    else:
        routing.CloseModelWithParameters(search)
        assignment = routing.SolveWithParameters(search)
    if assignment is None:
        raise SolverError(f"no solution found (status {routing.status()})")
    return _extract(handles, instance, assignment, clock.monotonic() - started)


def _solve_from_locks(
    handles: RoutingHandles,
    instance: Instance,
    start_from: pywrapcp.Assignment,
    search: pywrapcp.RoutingSearchParameters,
) -> pywrapcp.Assignment | None:
    """The search from ``start_from``'s routes given as locks, or at least those routes timed.

    A restored start can be refused where breaks of other vehicles are involved (seen with
    VROOM's routes on 800-visit days); the same routes as locks of the first solution are
    accepted. When even that search ends without a solution (its budget spent), the routes
    alone, closed and timed, are the answer: a start that held is never lost.
    """
    routing = handles.routing
    routes = _routes_of(handles, instance, start_from)
    if routing.ApplyLocksToAllVehicles(routes, False):
        found = routing.SolveWithParameters(search)
        if found is not None:
            return found
    return _timed_as_locked(routing, routes)


def _first_solution_only(
    search: pywrapcp.RoutingSearchParameters,
) -> pywrapcp.RoutingSearchParameters:
    """``search`` stopping at its first solution: what restoring a start is closed with.

    A later solve sets its own limits again (``SolveFromAssignmentWithParameters``).
    """
    first = pywrapcp.DefaultRoutingSearchParameters()
    first.CopyFrom(search)
    first.solution_limit = 1
    return first


def _exact_search() -> pywrapcp.RoutingSearchParameters:
    """Search parameters that stop at the first solution: for timing routes as they are."""
    return search_parameters(SolveParams(metaheuristic="greedy_descent", solution_limit=1))


def _timed_as_locked(
    routing: pywrapcp.RoutingModel, routes: list[list[int]]
) -> pywrapcp.Assignment | None:
    """Exactly ``routes``, timed by the model (closed locks of the first solution), or ``None``."""
    if not routing.ApplyLocksToAllVehicles(routes, True):
        return None
    return routing.SolveWithParameters(_exact_search())


def schedule(instance: Instance, routes: Sequence[Sequence[int]]) -> Solution:
    """The solution made of exactly ``routes`` (one node list per vehicle), timed by the model.

    For judging routes found elsewhere by the engine's own rules: each node is served as early
    as its route allows, as ``solve`` does.

    Raises
    ------
    SolverError
        If the routes break a constraint; the message names the first vehicle whose route does.
    """
    started = clock.monotonic()
    handles = build_routing_model(instance)
    routing = handles.routing
    routing.CloseModelWithParameters(_exact_search())
    lists = [list(route) for route in routes]
    assignment = _timed_as_locked(routing, lists)
    if assignment is not None:
        return _extract(handles, instance, assignment, clock.monotonic() - started)
    for v, route in enumerate(lists):
        if (
            routing.ReadAssignmentFromRoutes(
                [route if k == v else [] for k in range(len(lists))], True
            )
            is None
        ):
            raise SolverError(f"the route of vehicle {v} breaks a constraint: {route}")
    raise SolverError(f"the routes together break a constraint (status {routing.status()})")


def _left_ms(params: SolveParams, started: float) -> int:
    """Milliseconds left of the budget (at least one)."""
    return max(1, round((params.time_limit_s - (clock.monotonic() - started)) * 1000))


@dataclass(frozen=True, slots=True)
class Seed:
    """Routes found by one seeding search, with OR-Tools' solution of them when it searched last.

    ``timed`` is ``solve``'s own result on the same instance, so it can be returned as it is:
    rebuilding and restoring it in the first process would only repeat that work (1.5 s at 800
    visits when the model still copied its time matrix).
    """

    routes: list[list[int]]
    timed: Solution | None = None


def _seed(
    instance: Instance,
    params: SolveParams,
    started: float,
    on_progress: Callable[[Progress], None] | None,
) -> Seed | None:
    """The cheaper result of two diverse searches side by side, or ``None`` if none can seed.

    When PyVRP and VROOM can both express ``instance``, VROOM-then-PyVRP runs in a spawned
    process while this one runs PyVRP; both stop leaving ``POLISH_SHARE`` of the budget for
    OR-Tools to search on from the cheaper routes. When only VROOM can (breaks), VROOM and
    then OR-Tools from its routes run in both: at the VROOM level VROOM alone would run in the
    budget here (``vroom-full``), one level lower and more of OR-Tools in the spawned process
    (``vroom``). On 250-visit days OR-Tools' own first solution and guided local search cost
    533,783 where VROOM's start led to 422,174, so both start from VROOM. Those two end in
    OR-Tools' own search, so they get the whole budget and the cheaper is the answer. Where no
    second process may be started, the two run one after the other, each with half the time.
    """
    able = [name for name in seedable(instance) if name in params.seeders]
    able = [name for name in able if name in installed_seeders(tuple(able))]
    ends_in_ortools = able == ["vroom"]
    polish_s = (
        MIN_POLISH_S if ends_in_ortools else max(MIN_POLISH_S, POLISH_SHARE * params.time_limit_s)
    )
    seeding_s = params.time_limit_s - polish_s - (clock.monotonic() - started)
    if not able or seeding_s <= MIN_POLISH_S:
        return None
    deadline = clock.time() + seeding_s
    # Reproducible: the searches count work worth ``seeding_s``; the deadline only caps them.
    work_s = seeding_s if params.reproducible else None
    if params.reproducible:
        deadline = clock.time() + params.time_limit_s - (clock.monotonic() - started) - polish_s
    side = able[-1]
    main_name = "vroom-full" if ends_in_ortools else able[0]

    report: Report | None = None
    if on_progress is not None:
        tell = on_progress

        def report(cost: int, placed: int | None) -> None:
            tell(Progress(clock.monotonic() - started, cost, placed, instance.n_nodes))

    candidates: list[Seed] = []
    with _SideProcess() as pool:
        if pool is None:
            half = deadline if work_s is not None else clock.time() + seeding_s / 2
            half_work = None if work_s is None else work_s / 2
            candidates.extend(_guarded(side, instance, half, params.seed + 1, half_work))
            candidates.extend(
                _guarded(main_name, instance, deadline, params.seed, half_work, report)
            )
        else:
            future = pool.submit(seed_search, side, instance, deadline, params.seed + 1, work_s)
            candidates.extend(_guarded(main_name, instance, deadline, params.seed, work_s, report))
            wait_s = max(0.0, deadline - clock.time()) + SEED_GRACE_S
            try:
                candidates.append(future.result(timeout=wait_s))
            except Exception as error:  # a failed side search only loses its seed
                logger.warning("seeder %s gave no routes: %r", side, error)
                future.cancel()
    if not candidates:
        return None
    costs = [route_cost(instance, seed.routes) for seed in candidates]
    logger.info("seed costs %s (%s, then %s)", costs, main_name, side)
    best = candidates[costs.index(min(costs))]
    if on_progress is not None:
        placed = sum(len(route) for route in best.routes)
        on_progress(Progress(clock.monotonic() - started, min(costs), placed, instance.n_nodes))
    return best


def seed_search(
    name: str,
    instance: Instance,
    deadline: float,
    seed: int,
    work_s: float | None = None,
    report: Report | None = None,
) -> Seed:
    """One of the two searches ``solve`` runs side by side, until the wall-clock ``deadline``.

    ``pyvrp``: PyVRP. ``vroom``: VROOM, then PyVRP from its routes where PyVRP can express the
    instance, else OR-Tools from them (its own model, guided local search) for the time left.
    ``vroom-full``: the same with the VROOM level that fits the time (what VROOM alone would
    run), keeping what timing its routes takes; ``vroom`` takes one level lower (at most the
    one that fits ``VROOM_LED_SHARE`` of the time) and leaves OR-Tools more: two strong and
    different searches. OR-Tools searches on only when there is time to restore the routes.
    The VROOM-then-OR-Tools searches return their best routes timed by OR-Tools (``Seed.timed``)
    when the routes hold in the engine's model.
    With ``work_s`` it counts work instead (reproducible; see ``SolveParams.reproducible``).
    ``report`` hears the best cost (and placed nodes, when known) as the search goes.
    Module-level, so a spawned process can run it; ``deadline`` is ``time.time()``-based.
    """
    full = name == "vroom-full"
    if not full and (name != "vroom" or "pyvrp" in seedable(instance)):
        on_best = None if report is None else (lambda cost: report(cost, None))
        return Seed(run_seeder(name, instance, deadline, seed, work_s, on_best))
    # OR-Tools must still time VROOM's routes (``schedule``) before the deadline.
    reserve_s = max(MIN_POLISH_S, TIMING_S_PER_NODE * instance.n_nodes)
    budget_s = deadline - clock.time()
    plan_s = budget_s if work_s is None else work_s
    top = vroom_level(instance.n_nodes, plan_s - reserve_s)
    if full:
        level, vroom_s = top, budget_s - reserve_s
    else:
        level = min(max(0, top - 1), vroom_level(instance.n_nodes, plan_s * VROOM_LED_SHARE))
        vroom_s = budget_s * VROOM_LED_SHARE
    routes = vroom_routes(instance, max(0.1, vroom_s), level=level)
    if report is not None:
        report(route_cost(instance, routes), sum(map(len, routes)))
    left = deadline - clock.time()
    # Restoring the routes in OR-Tools costs about as much as timing them; then it searches.
    if left >= 2 * reserve_s + MIN_POLISH_S:
        params = SolveParams(
            time_limit_s=left, seed=seed, seeders=(), reproducible=work_s is not None
        )
        try:
            improved = solve(
                instance,
                params,
                initial_routes=routes,
                on_progress=None
                if report is None
                else (lambda progress: report(progress.best_cost, progress.placed)),
            )
        except SolverError as error:
            logger.warning("OR-Tools found nothing from VROOM's routes: %s", error)
        else:
            if improved.objective <= route_cost(instance, routes):
                return Seed([list(route.nodes) for route in improved.routes], improved)
    try:
        return Seed(routes, schedule(instance, routes))
    except SolverError as error:  # OR-Tools' search from them gets the last word
        logger.warning("VROOM's routes do not hold as they are: %s", error)
        return Seed(routes)


def _guarded(
    name: str,
    instance: Instance,
    deadline: float,
    seed: int,
    work_s: float | None,
    report: Report | None = None,
) -> list[Seed]:
    """The seeder's result as a one-item list, or no item when it fails (it is only a seed)."""
    try:
        return [seed_search(name, instance, deadline, seed, work_s, report)]
    except Exception as error:  # OR-Tools searches on without this seed
        logger.warning("seeder %s gave no routes: %r", name, error)
        return []


class _SideProcess:
    """A one-worker spawned process pool, or ``None`` where this process may not have one."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None
        if not multiprocessing.current_process().daemon:
            self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))

    def __enter__(self) -> ProcessPoolExecutor | None:
        return self._pool

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            # A search still running past its grace is not waited for.
            self._pool.shutdown(wait=False, cancel_futures=True)


def _feasible_start(
    routing: pywrapcp.RoutingModel,
    routes: Sequence[Sequence[int]],
    until: float = float("inf"),
) -> pywrapcp.Assignment | None:
    """An assignment of ``routes`` as close as possible to them.

    OR-Tools refuses a start in which any route breaks a constraint (after a delay, one late
    visit would throw away every route). The routes that break one are found by halving the
    fleet (a handful of checks when few do), and only those are repaired: from each, the visit
    whose removal repairs it is left out (or, failing that, the last one) until it passes, so
    the search starts from everything that still holds. Past ``until`` (``time.monotonic()``)
    a broken route not yet repaired is left to the search whole; a route that holds is never
    touched. ``None`` when even the repaired routes do not hold together.
    """
    lists = [list(route) for route in routes]
    whole = routing.ReadAssignmentFromRoutes(lists, True)
    if whole is not None:
        return whole

    def holds(chosen: dict[int, list[int]]) -> bool:
        trial = [chosen.get(v, []) for v in range(len(lists))]
        return routing.ReadAssignmentFromRoutes(trial, True) is not None

    for v in _broken_routes(holds, lists, range(len(lists))):
        route = lists[v]
        while route and not holds({v: route}):
            if clock.monotonic() > until:
                route.clear()
                break
            repaired = next(
                (k for k in range(len(route)) if holds({v: route[:k] + route[k + 1 :]})), None
            )
            del route[len(route) - 1 if repaired is None else repaired]
    return routing.ReadAssignmentFromRoutes(lists, True)


def _broken_routes(
    holds: Callable[[dict[int, list[int]]], bool],
    routes: Sequence[list[int]],
    vehicles: Iterable[int],
) -> list[int]:
    """The vehicles among ``vehicles`` whose route breaks a constraint, found by halving."""
    busy = [v for v in vehicles if routes[v]]
    if not busy or holds({v: routes[v] for v in busy}):
        return []
    if len(busy) == 1:
        return busy
    middle = len(busy) // 2
    return _broken_routes(holds, routes, busy[:middle]) + _broken_routes(
        holds, routes, busy[middle:]
    )


def _report_progress(
    handles: RoutingHandles,
    total: int,
    started: float,
    on_progress: Callable[[Progress], None],
) -> None:
    routing, manager = handles.routing, handles.manager
    best = [2**63 - 1]
    last_report = [0.0]

    def at_solution() -> None:
        cost = routing.CostVar().Value()
        now = clock.monotonic()
        if cost >= best[0] and now - last_report[0] < PROGRESS_INTERVAL_S:
            return
        best[0] = min(best[0], cost)
        if now - last_report[0] < PROGRESS_INTERVAL_S:
            return
        last_report[0] = now
        placed = sum(
            1
            for node in range(total)
            if routing.NextVar(manager.NodeToIndex(node)).Value() != manager.NodeToIndex(node)
        )
        on_progress(Progress(now - started, best[0], placed, total))

    routing.AddAtSolutionCallback(at_solution)


def _routes_of(
    handles: RoutingHandles, instance: Instance, assignment: pywrapcp.Assignment
) -> list[list[int]]:
    """The node list of each vehicle in ``assignment``."""
    routing, manager = handles.routing, handles.manager
    routes: list[list[int]] = []
    for v in range(instance.n_vehicles):
        route: list[int] = []
        index = assignment.Value(routing.NextVar(routing.Start(v)))
        while not routing.IsEnd(index):
            route.append(manager.IndexToNode(index))
            index = assignment.Value(routing.NextVar(index))
        routes.append(route)
    return routes


def _extract(
    handles: RoutingHandles, instance: Instance, assignment: pywrapcp.Assignment, elapsed: float
) -> Solution:
    routing, manager, time = handles.routing, handles.manager, handles.time
    routes: list[RouteSolution] = []
    served: set[int] = set()
    for v in range(instance.n_vehicles):
        nodes: list[int] = []
        cumuls: list[int] = []
        index = assignment.Value(routing.NextVar(routing.Start(v)))
        while not routing.IsEnd(index):
            nodes.append(manager.IndexToNode(index))
            cumuls.append(assignment.Value(time.CumulVar(index)))
            index = assignment.Value(routing.NextVar(index))
        served.update(nodes)
        breaks = tuple(
            (assignment.StartValue(interval), assignment.DurationValue(interval))
            for interval in handles.breaks[v]
        )
        routes.append(
            RouteSolution(
                vehicle=v,
                nodes=tuple(nodes),
                cumul_s=tuple(cumuls),
                start_s=assignment.Value(time.CumulVar(routing.Start(v))),
                end_s=assignment.Value(time.CumulVar(routing.End(v))),
                breaks=breaks,
            )
        )
    dropped = tuple(node for node in range(instance.n_nodes) if node not in served)
    return Solution(tuple(routes), dropped, assignment.ObjectiveValue(), elapsed)
