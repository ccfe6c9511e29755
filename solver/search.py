"""OR-Tools' search of an ``Instance``, from its own first solution or from given routes.

Here the routing model is built, closed and searched: a start read from routes is restored
(a route that breaks a rule is repaired first, ``feasible_start``), searched on from, or, when
OR-Tools refuses it, given as locks of the first solution; routes are timed exactly as they
are (``schedule``); progress is reported as the search goes, with a snapshot of the best routes
so far when asked (``Progress.routes``, read on the search thread, ``SNAPSHOT_INTERVAL_S``
apart); and the assignment is read back into a ``Solution``. Nothing here seeds or races
seeding searches, and nothing here calls ``solver.portfolio``: the portfolio decides where a
search starts and calls in.
"""

from __future__ import annotations

import time as clock
import weakref
from collections.abc import Callable, Iterable, Sequence

from ortools.constraint_solver import pywrapcp
from ortools.constraint_solver.routing_enums_pb2 import RoutingSearchStatus

from solver.errors import NoSolutionInTimeError, SolverError
from solver.instance import Instance
from solver.model import RoutingHandles, build_routing_model
from solver.params import (
    METAHEURISTIC,
    MIN_POLISH_S,
    PROGRESS_INTERVAL_S,
    SNAPSHOT_INTERVAL_S,
    SolveParams,
    search_parameters,
    stall_s,
)
from solver.result import Progress, RouteSolution, Solution

__all__ = ["feasible_start", "routes_of", "schedule", "search"]


def search(
    instance: Instance,
    params: SolveParams,
    *,
    initial_routes: Sequence[Sequence[int]] | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    started: float | None = None,
    snapshots: bool = False,
) -> Solution:
    """OR-Tools' search of ``instance`` until ``params.time_limit_s`` after ``started``.

    Parameters
    ----------
    instance
        The numbers to route, already checked (``Instance.check``).
    params
        Strategy, budget and seed; ``params.seeders`` is not read here (nothing is seeded).
    initial_routes
        One node list per vehicle to start from, or ``None`` (default) to start from the
        first-solution strategy. Routes that break a rule are repaired (``feasible_start``)
        until ``MIN_POLISH_S`` before the end of the budget; the search from the start is given
        at least ``MIN_POLISH_S``, even past the budget.
    on_progress
        Called from the search thread at each improving solution (throttled to one report a
        ``PROGRESS_INTERVAL_S``); default none.
    started
        The ``time.monotonic()`` at which the budget began (default: now), so that time spent
        before the search (seeding) counts against it.
    snapshots
        Whether reports carry the routes of the best solution so far (``Progress.routes``):
        the first report, then at most one every ``SNAPSHOT_INTERVAL_S`` when the best has
        improved since. Default ``False``.

    Returns
    -------
    Solution
        The best solution found, ``elapsed_s`` counted from ``started``.

    Raises
    ------
    NoSolutionInTimeError
        If the time limit ran out before any solution was found.
    SolverError
        If the strategies are unknown, the model cannot be built or no solution is found (not
        even all nodes dropped).
    """
    started = clock.monotonic() if started is None else started
    parameters = search_parameters(params)
    if instance.n_nodes <= 1:
        # One node: its cheapest place is found by the first solution and a descent; guided
        # local search found no other solution to stop on, and searched the whole budget.
        parameters.local_search_metaheuristic = METAHEURISTIC["greedy_descent"]
    handles = build_routing_model(instance)
    routing = handles.routing
    # Restoring routes stops at their first timing: with the search's own limits each check of
    # a start went on optimising break positions until the time limit, and the repair ran out
    # of time.
    routing.CloseModelWithParameters(
        parameters if initial_routes is None else _first_solution_only(parameters)
    )
    if on_progress is not None:  # once closed: a snapshot's collector needs the cost variable
        _report_progress(handles, instance, started, on_progress, snapshots=snapshots)
    stall = None
    window_s = stall_s(params, instance.n_nodes)
    if window_s is not None:
        stall = _StallStop(routing, window_s)
    if initial_routes is not None:
        repair_until = started + max(0.0, params.time_limit_s - MIN_POLISH_S)
        start_from = feasible_start(routing, initial_routes, repair_until)
        # The search from a start always gets a moment, even when seeding overran; its clock
        # starts now, so the time spent restoring the start is counted first.
        parameters.time_limit.FromMilliseconds(_search_ms(params, started))
        if stall is not None:
            stall.arm()
        assignment = None
        if start_from is not None:
            assignment = routing.SolveFromAssignmentWithParameters(start_from, parameters)
            if assignment is None:
                assignment = _solve_from_locks(handles, instance, start_from, parameters)
        if assignment is None:
            assignment = routing.SolveWithParameters(parameters)
    else:
        # The model's build is on the clock too (seconds on a long horizon's windows); the
        # first solution still gets its moment.
        parameters.time_limit.FromMilliseconds(_search_ms(params, started))
        if stall is not None:
            stall.arm()
        assignment = routing.SolveWithParameters(parameters)
    if assignment is None:
        if routing.status() == RoutingSearchStatus.ROUTING_FAIL_TIMEOUT:
            raise NoSolutionInTimeError(params.time_limit_s)
        raise SolverError(f"no solution found (status {routing.status()})")
    return _extract(handles, instance, assignment, clock.monotonic() - started)


def schedule(instance: Instance, routes: Sequence[Sequence[int]]) -> Solution:
    """The solution made of exactly ``routes`` (one node list per vehicle), timed by the model.

    For judging routes found elsewhere by the engine's own rules: each node is served as early
    as its route allows, as ``solve`` does. The routes are restored as they are (the model's
    finalizer times them, as it times a search's answer: the same times, half the time of a
    solve from locks); a restore refused where breaks of other vehicles are involved (seen with
    VROOM's routes on large days) is retried as the locks of a first solution.

    Parameters
    ----------
    instance
        The numbers the routes are for.
    routes
        One node list per vehicle, in visit order.

    Returns
    -------
    Solution
        The routes with their times; nodes in no route are dropped.

    Raises
    ------
    SolverError
        If the routes break a constraint; the message names the first vehicle whose route does.
    """
    started = clock.monotonic()
    handles = build_routing_model(instance, pruned=False)
    routing = handles.routing
    routing.CloseModelWithParameters(_exact_search())
    lists = [list(route) for route in routes]
    assignment = routing.ReadAssignmentFromRoutes(lists, True) or _timed_as_locked(routing, lists)
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


def feasible_start(
    routing: pywrapcp.RoutingModel,
    routes: Sequence[Sequence[int]],
    until: float = float("inf"),
) -> pywrapcp.Assignment | None:
    """An assignment of ``routes`` as close as possible to them, in a closed ``routing`` model.

    OR-Tools refuses a start in which any route breaks a constraint (after a delay, one late
    visit would throw away every route). The routes that break one are found by halving the
    fleet (a handful of checks when few do), and only those are repaired: from each, the visit
    whose removal repairs it is left out (or, failing that, the last one) until it passes, so
    the search starts from everything that still holds.

    Parameters
    ----------
    routing
        The closed routing model.
    routes
        One node list per vehicle.
    until
        The ``time.monotonic()`` past which a broken route not yet repaired is cut to a
        prefix that holds (``_holding_prefix``), the rest left to the search (default:
        never); a route that holds is never touched.

    Returns
    -------
    pywrapcp.Assignment or None
        The start, or ``None`` when even the repaired routes do not hold together.
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
                # Out of time: a prefix that holds, found in a few checks, is kept (cleared,
                # a one-second re-plan of a 228-visit day lost whole routes of promised
                # visits: the search left no time to put them back).
                del route[_holding_prefix(holds, v, route) :]
                break
            repaired = next(
                (k for k in range(len(route)) if holds({v: route[:k] + route[k + 1 :]})), None
            )
            del route[len(route) - 1 if repaired is None else repaired]
    return routing.ReadAssignmentFromRoutes(lists, True)


def _back_s(
    instance: Instance, v: int, last: int, start_s: int, breaks: Sequence[tuple[int, int]]
) -> int:
    """When vehicle ``v`` is back at its end at the earliest, having served node ``last``
    from ``start_s``: the drive after the service, lengthened by the breaks taken on it.

    The search's own value can be later: with soft windows and breaks, OR-Tools' cumul
    optimiser times a route's end anywhere it costs nothing (a technician whose one visit
    ended at 10:00 was back at 18:00, the end of their shift).
    """
    leave = start_s + int(instance.service_s[last])
    back = leave + int(
        instance.travel_s[instance.node_location[last], instance.vehicles[v].end_location]
    )
    for start, duration in sorted(breaks):
        if leave <= start < back:
            back += duration
    return back


def routes_of(
    handles: RoutingHandles, instance: Instance, assignment: pywrapcp.Assignment
) -> list[list[int]]:
    """The node list of each vehicle in ``assignment``, in visit order."""
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


def _solve_from_locks(
    handles: RoutingHandles,
    instance: Instance,
    start_from: pywrapcp.Assignment,
    parameters: pywrapcp.RoutingSearchParameters,
) -> pywrapcp.Assignment | None:
    """The search from ``start_from``'s routes given as locks, or at least those routes timed.

    A restored start can be refused where breaks of other vehicles are involved (seen with
    VROOM's routes on large days); the same routes as locks of the first solution are
    accepted. When even that search ends without a solution (its budget spent), the routes
    alone, closed and timed, are the answer: a start that held is never lost.
    """
    routing = handles.routing
    routes = routes_of(handles, instance, start_from)
    if routing.ApplyLocksToAllVehicles(routes, False):
        found = routing.SolveWithParameters(parameters)
        if found is not None:
            return found
    return _timed_as_locked(routing, routes)


def _first_solution_only(
    parameters: pywrapcp.RoutingSearchParameters,
) -> pywrapcp.RoutingSearchParameters:
    """``parameters`` stopping at their first solution: what restoring a start is closed with.

    A later solve sets its own limits again (``SolveFromAssignmentWithParameters``).
    """
    first = pywrapcp.DefaultRoutingSearchParameters()
    first.CopyFrom(parameters)
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


def _search_ms(params: SolveParams, started: float) -> int:
    """Milliseconds the search itself gets: what is left of the budget, at least
    ``MIN_POLISH_S`` (a search from a start, or to a first solution, always gets a moment)."""
    return max(_left_ms(params, started), round(MIN_POLISH_S * 1000))


def _left_ms(params: SolveParams, started: float) -> int:
    """Milliseconds left of the budget that began at ``started`` (at least one)."""
    return max(1, round((params.time_limit_s - (clock.monotonic() - started)) * 1000))


def _holding_prefix(
    holds: Callable[[dict[int, list[int]]], bool], v: int, route: Sequence[int]
) -> int:
    """The length of a prefix of vehicle ``v``'s ``route`` that holds (the empty one at
    least), found by halving: the longest when each prefix of a broken one is broken too."""
    good, bad = 0, len(route)
    while bad - good > 1:
        middle = (good + bad) // 2
        if holds({v: list(route[:middle])}):
            good = middle
        else:
            bad = middle
    return good


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


class _StallStop:
    """Ends each solve of ``routing`` once its best has not improved for ``stall_s``.

    Guided local search reports a solution at each local optimum of its penalised cost, many
    a second, whether or not the best improved: at each, a solve whose best is ``stall_s``
    old is told to finish (``Solver.FinishCurrentSearch``) and returns its best. Each solve
    (``arm``, before it starts) counts from its own start.
    """

    def __init__(self, routing: pywrapcp.RoutingModel, stall_s: float) -> None:
        # Weakly: the model holds this callback, and a callback holding the model made a
        # cycle through OR-Tools that no collection breaks (see ``_report_progress``).
        self._routing, self._stall_s = weakref.proxy(routing), stall_s
        self._best = 2**63 - 1
        self._improved = clock.monotonic()
        routing.AddAtSolutionCallback(self._at_solution)

    def arm(self) -> None:
        """A solve begins: its stall is counted from now."""
        self._improved = clock.monotonic()

    def _at_solution(self) -> None:
        cost = self._routing.CostVar().Value()
        now = clock.monotonic()
        if cost < self._best:
            self._best, self._improved = cost, now
        elif now - self._improved >= self._stall_s:
            self._routing.solver().FinishCurrentSearch()


def _report_progress(
    handles: RoutingHandles,
    instance: Instance,
    started: float,
    on_progress: Callable[[Progress], None],
    *,
    snapshots: bool = False,
) -> None:
    """Have the search call ``on_progress`` with its best cost and placed nodes as it goes.

    A report comes at most every ``PROGRESS_INTERVAL_S`` (counting placed nodes walks them
    all); a solution that is no better inside that interval is not even priced.

    With ``snapshots``, the first report carries the routes, timed as the search has them
    (``Progress.timed``: the times its answer would have), and so does the first report at
    least ``SNAPSHOT_INTERVAL_S`` after the last snapshot when a better solution was found
    since. Guided local search mostly visits worse solutions once the first bests are found,
    so the best is kept by the model's own collector (a copy of the next, time and break
    variables, in C++, at each new best) and read from there when the solution at hand is not
    the best.

    The callback holds the model weakly (the model holds the callback): held strongly, the
    two made a cycle through OR-Tools that no collection breaks, and every model searched
    stayed in memory with its matrices, 1 GB a search of a 5,000-visit day, until the
    process ended.
    """
    routing, manager = weakref.proxy(handles.routing), handles.manager
    handles_of = weakref.ref(handles)
    total = instance.n_nodes
    best = [2**63 - 1]
    last_report = [0.0]
    last_snapshot = [float("-inf"), 2**63 - 1]  # when, and the cost it had
    collector: pywrapcp.SolutionCollector | None = None
    current: pywrapcp.Assignment | None = None
    if snapshots:
        collector = routing.solver().BestValueSolutionCollector(False)
        current = routing.solver().Assignment()
        for kept in (collector, current):
            _add_solution_vars(kept, handles)
        routing.AddSearchMonitor(collector)

    def snapshot(cost: int, now: float) -> Solution | None:
        """The best solution, timed as the search has it, when a snapshot is due and can be
        read, else ``None``."""
        if (
            collector is None
            or current is None
            or now - last_snapshot[0] < SNAPSHOT_INTERVAL_S
            or best[0] >= last_snapshot[1]
        ):
            return None
        if cost == best[0]:
            current.Store()
            kept = current
        elif collector.SolutionCount() and collector.ObjectiveValue(0) == best[0]:
            kept = collector.Solution(0)
        else:  # the best was found in an earlier solve (restoring a start): not kept here
            return None
        last_snapshot[:] = [now, best[0]]
        searched = handles_of()
        return None if searched is None else _extract(searched, instance, kept, now - started)

    def at_solution() -> None:
        cost = routing.CostVar().Value()
        now = clock.monotonic()
        if cost >= best[0] and now - last_report[0] < PROGRESS_INTERVAL_S:
            return
        best[0] = min(best[0], cost)
        if now - last_report[0] < PROGRESS_INTERVAL_S:
            return
        last_report[0] = now
        timed = snapshot(cost, now)
        routes = None if timed is None else tuple(route.nodes for route in timed.routes)
        if routes is not None:
            placed = sum(map(len, routes))
        else:
            placed = sum(
                1
                for node in range(total)
                if routing.NextVar(manager.NodeToIndex(node)).Value() != manager.NodeToIndex(node)
            )
        on_progress(Progress(now - started, best[0], placed, total, routes, timed))

    routing.AddAtSolutionCallback(at_solution)


def _add_solution_vars(
    kept: pywrapcp.SolutionCollector | pywrapcp.Assignment, handles: RoutingHandles
) -> None:
    """Have ``kept`` hold what ``_extract`` reads of a solution: every next, every time (the
    routes' ends too), every break and the cost."""
    routing, time = handles.routing, handles.time
    for index in range(routing.Size()):
        kept.Add(routing.NextVar(index))
    for index in range(routing.Size() + routing.vehicles()):
        kept.Add(time.CumulVar(index))
    for intervals in handles.breaks:
        for interval in intervals:
            kept.Add(interval)
    kept.AddObjective(routing.CostVar())


def _extract(
    handles: RoutingHandles, instance: Instance, assignment: pywrapcp.Assignment, elapsed: float
) -> Solution:
    """``assignment`` read into a ``Solution``: routes, service starts, breaks, dropped nodes."""
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
        end_s = assignment.Value(time.CumulVar(routing.End(v)))
        if nodes:
            end_s = min(end_s, _back_s(instance, v, nodes[-1], cumuls[-1], breaks))
        routes.append(
            RouteSolution(
                vehicle=v,
                nodes=tuple(nodes),
                cumul_s=tuple(cumuls),
                start_s=assignment.Value(time.CumulVar(routing.Start(v))),
                end_s=end_s,
                breaks=breaks,
            )
        )
    dropped = tuple(node for node in range(instance.n_nodes) if node not in served)
    return Solution(tuple(routes), dropped, assignment.ObjectiveValue(), elapsed)
