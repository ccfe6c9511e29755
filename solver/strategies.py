"""The seeding searches: five ways of finding routes for an ``Instance`` by a deadline.

Each ``Strategy`` has one name, used in code and in the logs:

- ``pyvrp-alone``: PyVRP from nothing.
- ``vroom-then-pyvrp``: VROOM for at most ``VROOM_SHARE_BEFORE_PYVRP`` of the time, then PyVRP
  from its routes for the rest.
- ``vroom-short-then-ortools``: VROOM one exploration level below the one that fits the time
  (and at most the one that fits ``VROOM_SHARE_BEFORE_ORTOOLS`` of it), then OR-Tools' search
  from its routes for the rest.
- ``vroom-full-then-ortools``: VROOM at the level that fits the whole time, what VROOM alone
  would run, keeping only what timing its routes in OR-Tools takes; when OR-Tools' search from
  its routes stalls with time left, both again from VROOM's jobs in another order, while that
  finds cheaper routes (``RESTARTS_UNTIL_STALLED``; from ``RESTARTS_FROM_NODES`` visits).
- ``vroom-once-then-lns``: one VROOM run (``one_vroom_routes``: on every core given, at the
  level that fits ``VROOM_SHARE_BEFORE_ORTOOLS`` of the time, or up to ``VROOM_SHARE_WHEN_CUT``
  of it where even its quickest level needs more), then VROOM again on close routes
  (``solver.lns``) until OR-Tools' turn (``polish_from``), then OR-Tools' search from
  those routes (on a big part, where restoring them costs more than the search it buys, they
  are only timed). Where it races (not reproducible, not alone), the portfolio runs the
  close-routes search on both cores: each on the whole day from its own seed, the cheaper
  kept, or, on a big day or when a node has little time, each on half the routes.

The three VROOM-then-OR-Tools searches end in OR-Tools' own model and return their routes timed
there (``Seed.timed``) when the routes hold in it. ``run_strategy`` runs one of them; it is
module-level so that a spawned process can run it. Which two race, and how, is
``solver.portfolio``'s business; the OR-Tools search itself is ``solver.search``.
"""

from __future__ import annotations

import logging
import random
import time as clock
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from solver.cost import route_cost
from solver.errors import SolverError
from solver.fill import swap_in_dearer
from solver.instance import Instance
from solver.lns import improve_close_routes
from solver.params import (
    LNS_TELL_FIRST_S,
    LNS_TELL_TIMINGS,
    MIN_POLISH_S,
    MIN_PYVRP_AFTER_VROOM_S,
    MIN_TIMING_S,
    RESTARTS_FROM_NODES,
    RESTARTS_UNTIL_STALLED,
    SWAP_S_PER_NODE,
    TIMING_DOUBLES_AT_NODES,
    TIMING_S_PER_NODE,
    UNPRUNED_TIMING_SHARE,
    VROOM_SHARE_BEFORE_ORTOOLS,
    VROOM_SHARE_BEFORE_PYVRP,
    VROOM_SHARE_WHEN_CUT,
    SolveParams,
)
from solver.result import Solution
from solver.search import schedule, search
from solver.seeders import (
    VROOM_SECONDS_AT_250,
    Routes,
    pyvrp_routes,
    seeder_named,
    vroom_level,
    vroom_routes,
    vroom_seconds,
)

__all__ = [
    "Report",
    "Seed",
    "Strategy",
    "first_level",
    "first_routes",
    "one_vroom_routes",
    "polish_from",
    "routes_teller",
    "run_strategy",
    "search_from",
    "tell_routes",
]

logger = logging.getLogger(__name__)

#: What a seeding search tells as it goes: the best cost so far, the nodes it places, if
#: known (``None`` while only a cost is), and the routes of that cost when it has them at hand
#: (VROOM's answer, OR-Tools' snapshots): a first plan, before the race ends; and those routes
#: timed, when the search has them so (OR-Tools' snapshots), sparing a listener the timing.
Report = Callable[[int, int | None, tuple[tuple[int, ...], ...] | None, Solution | None], None]


class Strategy(StrEnum):
    """The seeding searches by name (see the module docstring)."""

    PYVRP_ALONE = "pyvrp-alone"
    VROOM_THEN_PYVRP = "vroom-then-pyvrp"
    VROOM_SHORT_THEN_ORTOOLS = "vroom-short-then-ortools"
    VROOM_FULL_THEN_ORTOOLS = "vroom-full-then-ortools"
    VROOM_ONCE_THEN_LNS = "vroom-once-then-lns"

    @property
    def ends_in_ortools(self) -> bool:
        """Whether the search ends in OR-Tools' own search, its routes timed there."""
        return self not in (Strategy.PYVRP_ALONE, Strategy.VROOM_THEN_PYVRP)


#: The metaheuristic of OR-Tools' search in each VROOM-then-OR-Tools strategy.
_METAHEURISTIC = {
    Strategy.VROOM_SHORT_THEN_ORTOOLS: "guided_local_search",
    Strategy.VROOM_FULL_THEN_ORTOOLS: "guided_local_search",
    Strategy.VROOM_ONCE_THEN_LNS: "guided_local_search",
}


@dataclass(frozen=True, slots=True)
class Seed:
    """Routes found by one seeding search, with OR-Tools' solution of them when it searched last.

    ``timed`` is the same solution the OR-Tools search of the same instance would give for
    those routes, so it can be returned as it is: rebuilding and restoring it would only repeat
    that work.
    """

    strategy: Strategy
    routes: Routes
    timed: Solution | None = None


def run_strategy(
    strategy: Strategy,
    instance: Instance,
    deadline: float,
    seed: int,
    work_s: float | None = None,
    report: Report | None = None,
    threads: int = 1,
    stall_s: float | None = None,
) -> Seed:
    """Run the seeding search ``strategy`` on ``instance`` until the wall-clock ``deadline``.

    Parameters
    ----------
    strategy
        Which search (see the module docstring).
    instance
        The numbers to route, already checked; the seeders the strategy uses can express it.
    deadline
        ``time.time()``-based, so it means the same in another process.
    seed
        Random seed of PyVRP and of OR-Tools' search.
    work_s
        When given, count work worth this many seconds instead (reproducible; see
        ``SolveParams.reproducible``) and take ``deadline`` only as a cap. Default ``None``.
    report
        Hears the best cost (and placed nodes, when known) as the search goes; default none.
    threads
        VROOM's threads in the VROOM-then-OR-Tools searches (default 1: beside a search in
        another process); its level is the one that ends in time on that many.
    stall_s
        When given, PyVRP stops sooner once its best has not improved for this many seconds
        (``Seeder.routes``); default ``None``.

    Returns
    -------
    Seed
        The routes found, timed by OR-Tools when the search ended there.
    """
    if strategy is Strategy.PYVRP_ALONE:
        on_best = None if report is None else (lambda cost: report(cost, None, None, None))
        routes = seeder_named("pyvrp").routes(instance, deadline, seed, work_s, on_best, stall_s)
        return Seed(strategy, routes)
    if strategy is Strategy.VROOM_THEN_PYVRP:
        routes = _vroom_then_pyvrp(instance, deadline, seed, work_s, report, stall_s)
        return Seed(strategy, routes)
    if strategy is Strategy.VROOM_ONCE_THEN_LNS:
        routes = one_vroom_routes(instance, deadline, threads, report)
        return search_from(strategy, instance, routes, deadline, seed, report=report)
    return _vroom_then_ortools(strategy, instance, deadline, seed, work_s, report, threads)


def one_vroom_routes(
    instance: Instance, deadline: float, threads: int, report: Report | None = None
) -> Routes:
    """VROOM's routes on ``threads`` threads, at the most thorough level expected to end within
    ``VROOM_SHARE_BEFORE_ORTOOLS`` of the time left until ``deadline``, or, where even its
    quickest level is expected to need more, within what that level needs, up to
    ``VROOM_SHARE_WHEN_CUT`` of the time: the start of ``vroom-once-then-lns``, which has the
    rest of the time. ``report`` hears them while OR-Tools may still search from them
    (``search_from``)."""
    left_s = deadline - clock.time()
    size = {"n_vehicles": instance.n_vehicles, "threads": threads}
    quickest_s = vroom_seconds(0, instance.n_nodes, **size)
    share = min(VROOM_SHARE_WHEN_CUT, max(VROOM_SHARE_BEFORE_ORTOOLS, quickest_s / left_s))
    vroom_s = left_s * share
    level = vroom_level(instance.n_nodes, vroom_s, **size)
    routes = vroom_routes(instance, vroom_s, level=level, threads=threads)
    if report is not None:
        tell_routes(report, instance, routes, deadline)
    return routes


def tell_routes(report: Report, instance: Instance, routes: Routes, deadline: float) -> None:
    """``report`` untimed ``routes`` (VROOM's, or the close-routes search's on the way: their
    cost, the nodes they place, the routes) while OR-Tools may still search from them before
    ``deadline`` after a listener has timed them (``_timing_s``: untimed, a listener's draft
    times them in a model of its own, holding the interpreter OR-Tools' turn needs).
    Otherwise the routes come to the listener timed, from OR-Tools' search from them or, when
    VROOM ran past OR-Tools' turn, from the race. On 2,500-visit days at 10 s, the draft of
    VROOM's routes (1.3 s) left OR-Tools only the time to time them: 39,496 priority-weighted
    visits on the biggest part of a rural day, 39,591 with nobody listening."""
    if _searches_from_routes(instance, deadline - _timing_s(instance)):
        report(route_cost(instance, routes), sum(map(len, routes)), tuple(map(tuple, routes)), None)


def routes_teller(
    report: Report | None, instance: Instance, deadline: float
) -> Callable[[Routes], None] | None:
    """What a close-routes search (``solver.lns``'s ``tell``) on the way to ``deadline`` hands
    its cheaper routes to: ``tell_routes`` to ``report``, ``LNS_TELL_FIRST_S`` after now at
    the soonest, then each time the time since now has doubled, and at least
    ``LNS_TELL_TIMINGS`` timings of the routes (``_timing_s``, what a listener's draft of them
    holds this process's interpreter for) apart. ``None`` when nobody listens."""
    if report is None:
        return None
    started = clock.time()
    gap_s = LNS_TELL_TIMINGS * _timing_s(instance)
    due = started + max(LNS_TELL_FIRST_S, gap_s)

    def tell(routes: Routes) -> None:
        nonlocal due
        now = clock.time()
        if now >= due:
            tell_routes(report, instance, routes, deadline)
            due = now + max(now - started, gap_s)

    return tell


def _vroom_then_pyvrp(
    instance: Instance,
    deadline: float,
    seed: int,
    work_s: float | None,
    report: Report | None,
    stall_s: float | None = None,
) -> Routes:
    """VROOM's routes, improved by PyVRP from them for what is left until ``deadline`` (or
    until PyVRP stalls for ``stall_s``): PyVRP's routes, or VROOM's where they cost less by
    the OR-Tools objective (PyVRP weighs the day its own way) or PyVRP's break a rule.
    ``report`` hears VROOM's routes as soon as they are found (a plan while PyVRP searches
    on), then PyVRP's better costs.

    With ``work_s`` (reproducible), VROOM runs to its own end (the deadline its cap) at the
    level that fits ``VROOM_SHARE_BEFORE_PYVRP`` of the work, and PyVRP for the work of the
    rest.
    """
    on_best = None if report is None else (lambda cost: report(cost, None, None, None))
    time_limit_s = deadline - clock.time()
    started = clock.time()
    share = VROOM_SHARE_BEFORE_PYVRP
    vroom_s = time_limit_s if work_s is not None else time_limit_s * share
    routes = vroom_routes(instance, vroom_s, None if work_s is None else work_s * share)
    if report is not None:  # a plan while PyVRP searches on from it
        report(route_cost(instance, routes), sum(map(len, routes)), tuple(map(tuple, routes)), None)
    left = time_limit_s - (clock.time() - started)
    if work_s is None and left <= MIN_PYVRP_AFTER_VROOM_S:
        return routes
    try:
        if work_s is not None:
            found = pyvrp_routes(instance, left, seed, routes, work_s * (1 - share), on_best)
        else:
            found = pyvrp_routes(
                instance, left, seed, start=routes, on_best=on_best, stall_s=stall_s
            )
    except SolverError as error:  # PyVRP's best breaks a rule: VROOM's routes stand
        logger.info("PyVRP after VROOM gave no routes: %s", error)
        return routes
    # PyVRP weighs the day its own way: what it found best may cost more in ours.
    return min(routes, found, key=lambda candidate: route_cost(instance, candidate))


def _vroom_then_ortools(
    strategy: Strategy,
    instance: Instance,
    deadline: float,
    seed: int,
    work_s: float | None,
    report: Report | None,
    threads: int,
) -> Seed:
    """VROOM on ``threads`` threads, then OR-Tools' search from its routes (``search_from``).

    The full search keeps what ``search_from`` needs at least when VROOM takes the whole
    budget: swapping left-out visits in (``_swapping_s``) and timing VROOM's routes as they
    are (``_timing_s``). The shorter VROOM run keeps restoring its routes for OR-Tools'
    search from them (``_restoring_s``) in the level it picks and, reproducible, in VROOM's
    own time.
    """
    full = strategy is Strategy.VROOM_FULL_THEN_ORTOOLS
    reserve_s = _timing_s(instance) + _swapping_s(instance) if full else _restoring_s(instance)
    budget_s = deadline - clock.time()
    plan_s = budget_s if work_s is None else work_s
    size = {"n_vehicles": instance.n_vehicles, "threads": threads}
    top = vroom_level(instance.n_nodes, plan_s - reserve_s, **size)
    if full:
        level, vroom_s = top, budget_s - reserve_s
    else:
        share = VROOM_SHARE_BEFORE_ORTOOLS
        level = min(max(0, top - 1), vroom_level(instance.n_nodes, plan_s * share, **size))
        # Reproducible, VROOM runs to its own end, the deadline its only cap: cut at its share
        # on a busy machine, it gave other routes than on a quiet one for the same seed.
        vroom_s = budget_s * share if work_s is None else budget_s - reserve_s
    vroom_started = clock.time()
    routes = vroom_routes(instance, vroom_s, level=level, threads=threads)
    vroom_took_s = clock.time() - vroom_started
    if report is not None:
        tell_routes(report, instance, routes, deadline)
    found = search_from(strategy, instance, routes, deadline, seed, work_s, report)
    if full and work_s is None and instance.n_nodes >= RESTARTS_FROM_NODES:
        restart_s = max(vroom_took_s, vroom_seconds(level, instance.n_nodes, **size))
        return _restarted(instance, found, deadline, seed, level, threads, restart_s, report)
    return found


def _restarted(
    instance: Instance,
    found: Seed,
    deadline: float,
    seed: int,
    level: int,
    threads: int,
    restart_s: float,
    report: Report | None,
) -> Seed:
    """``found``, or the cheapest seed of VROOM's full search restarted with its jobs and
    vehicles in other orders (``vroom_routes``' ``order_seed``), each restart followed by
    OR-Tools' search from its routes (``search_from``, which stops when it stalls), while one
    more fits before ``deadline``: VROOM's ``restart_s`` (what its first run took, or was
    expected to if more), timing its routes and ``MIN_POLISH_S``. The restarts stop after
    ``RESTARTS_UNTIL_STALLED`` in a row found nothing cheaper; ``report`` hears only what is
    cheaper than the best so far."""
    best_cost = route_cost(instance, found.routes)
    told = [best_cost]

    def tell_cheaper(
        cost: int,
        placed: int | None,
        routes: tuple[tuple[int, ...], ...] | None,
        timed: Solution | None,
    ) -> None:
        if report is not None and cost < told[0]:
            told[0] = cost
            report(cost, placed, routes, timed)

    orders = random.Random(seed)
    reserve_s = _restoring_s(instance) + MIN_POLISH_S
    fruitless = 0
    while fruitless < RESTARTS_UNTIL_STALLED:
        left_s = deadline - clock.time()
        if left_s < restart_s + reserve_s:
            break
        order_seed = orders.getrandbits(32)
        routes = vroom_routes(
            instance, left_s - reserve_s, level=level, threads=threads, order_seed=order_seed
        )
        heard = None if report is None else tell_cheaper
        again = search_from(
            Strategy.VROOM_FULL_THEN_ORTOOLS, instance, routes, deadline, seed, None, heard
        )
        cost = route_cost(instance, again.routes)
        if cost < best_cost:
            found, best_cost, fruitless = again, cost, 0
        else:
            fruitless += 1
    return found


def search_from(
    strategy: Strategy,
    instance: Instance,
    routes: Routes,
    deadline: float,
    seed: int,
    work_s: float | None = None,
    report: Report | None = None,
) -> Seed:
    """The seed of a VROOM-then-OR-Tools ``strategy`` from VROOM's ``routes``: OR-Tools'
    search from them (by the strategy's metaheuristic) until ``deadline``, and its answer
    when it is no worse than the routes; otherwise the routes timed as they are (or, when they
    do not hold, left to the caller's search). ``vroom-once-then-lns`` first improves the
    routes by VROOM on close routes (``solver.lns``) for all but the time swapping left-out
    visits in for cheaper ones near them (``_swapped_in``) and OR-Tools need; any other
    strategy does so when too little is left for OR-Tools to search, until swapping and
    timing the routes are due (a big day's VROOM ending early on a short budget: 0.2-0.4 s
    of 2 s on 800-visit city days would otherwise go unused), or until a round of its steps
    has stalled (a small part's few routes).

    OR-Tools searches only if restoring the routes in its model (``_restoring_s``) and
    ``MIN_POLISH_S`` are left: the search from them is given at least ``MIN_POLISH_S``; after
    ``vroom-once-then-lns``'s close routes, only where that search pays for the restoring
    (``_polish_pays``). Otherwise the routes are timed as they are (``_timing_s``).

    Module-level, so that a spawned process can run it; ``work_s`` makes the search
    reproducible (it stops at its first local optimum).
    """
    once = strategy is Strategy.VROOM_ONCE_THEN_LNS
    if work_s is None:
        if once:
            until = polish_from(instance, deadline)
            tell = routes_teller(report, instance, deadline)
            routes = improve_close_routes(instance, routes, until, seed, tell=tell)
            routes = _swapped_in(instance, routes, until + _swapping_s(instance))
        elif not _searches_from_routes(instance, deadline):
            until = deadline - _timing_s(instance) - _swapping_s(instance)
            routes = improve_close_routes(instance, routes, until, seed, stop_when_stalled=True)
            routes = _swapped_in(instance, routes, deadline - _timing_s(instance))
    left = deadline - clock.time()
    # A reproducible search always descends from the routes, the deadline its only cap: what
    # is left on the clock differs from run to run (on a busy machine, or while this process
    # starts its fork server), and the same seed gave a searched plan on one run, the routes
    # as VROOM left them on the next.
    searches = work_s is not None or _searches_from_routes(instance, deadline)
    if searches and (not once or _polish_pays(instance)):
        params = SolveParams(
            time_limit_s=left,
            seed=seed,
            reproducible=work_s is not None,
            metaheuristic=_METAHEURISTIC[strategy],
        )
        try:
            improved = search(
                instance,
                params,
                initial_routes=routes,
                on_progress=None
                if report is None
                else (
                    lambda progress: report(
                        progress.best_cost, progress.placed, progress.routes, progress.timed
                    )
                ),
                snapshots=report is not None,
            )
        except SolverError as error:
            logger.warning("OR-Tools found nothing from VROOM's routes: %s", error)
        else:
            if improved.objective <= route_cost(instance, routes):
                return Seed(strategy, [list(route.nodes) for route in improved.routes], improved)
    try:
        return Seed(strategy, routes, schedule(instance, routes))
    except SolverError as error:  # the caller's OR-Tools search gets the last word
        logger.warning("VROOM's routes do not hold as they are: %s", error)
        return Seed(strategy, routes)


def _swapped_in(instance: Instance, routes: Routes, until: float) -> Routes:
    """``routes`` with left-out nodes served in place of cheaper ones near them, until ``until``
    (a ``time.time()``; ``solver.fill.swap_in_dearer``): what VROOM leaves when its time cuts
    it short, on a busy machine or a short budget, is high visits left out near low ones
    served."""
    swapped = [list(route) for route in routes]
    swap_in_dearer(instance, swapped, clock.monotonic() + max(0.0, until - clock.time()))
    return swapped


def _searches_from_routes(instance: Instance, deadline: float) -> bool:
    """Whether OR-Tools searches from routes in ``search_from`` (rather than only timing them):
    when restoring them in its model (``_restoring_s``) and ``MIN_POLISH_S`` are left before
    ``deadline``."""
    return deadline - clock.time() >= _restoring_s(instance) + MIN_POLISH_S


def polish_from(instance: Instance, deadline: float) -> float:
    """When ``vroom-once-then-lns`` hands its routes on: before ``deadline`` by what swapping
    left-out visits in takes (``_swapping_s``) and then what restoring them in OR-Tools' model
    takes (``_restoring_s``) and ``MIN_POLISH_S`` of search where OR-Tools searches from them
    (``_polish_pays``), otherwise what timing them as they are takes (``_timing_s``)."""
    if _polish_pays(instance):
        turn_s = _restoring_s(instance) + MIN_POLISH_S
    else:
        turn_s = _timing_s(instance)
    return deadline - turn_s - _swapping_s(instance)


def _polish_pays(instance: Instance) -> bool:
    """Whether ``vroom-once-then-lns`` ends in OR-Tools' search from the close-routes search's
    routes, rather than only timing them: where restoring them in OR-Tools
    (``_restoring_s``) costs no more than the ``MIN_POLISH_S`` of search it buys (up to about
    1,100 nodes). On a bigger part the close-routes search goes on instead: at 2,500 visits
    and 10 s (a part of 2,157-2,268 nodes, 1.3 s to restore) +22 priority-weighted visits on
    average over 14 days, better on 10, worse on 2; at 30 s, and at 1,500 visits at 10 s,
    within -6 to +6."""
    return _restoring_s(instance) <= MIN_POLISH_S


def _restoring_s(instance: Instance) -> float:
    """What a VROOM-then-OR-Tools search keeps for restoring routes in OR-Tools' search model,
    a start to search from: ``TIMING_S_PER_NODE`` per node, more on a big part (twice at
    ``TIMING_DOUBLES_AT_NODES``), at least ``MIN_TIMING_S``."""
    n = instance.n_nodes
    return max(MIN_TIMING_S, TIMING_S_PER_NODE * n * (1 + n / TIMING_DOUBLES_AT_NODES))


def _swapping_s(instance: Instance) -> float:
    """What a VROOM-then-OR-Tools search keeps for swapping left-out nodes into VROOM's routes
    when it only times them (``_swapped_in``): ``SWAP_S_PER_NODE`` per node."""
    return SWAP_S_PER_NODE * instance.n_nodes


def _timing_s(instance: Instance) -> float:
    """What a VROOM-then-OR-Tools search keeps for timing routes as they are
    (``solver.search.schedule``, whose model is not pruned): ``UNPRUNED_TIMING_SHARE`` of
    ``_restoring_s``, at least ``MIN_TIMING_S``."""
    return max(MIN_TIMING_S, UNPRUNED_TIMING_SHARE * _restoring_s(instance))


def first_level(pieces: Sequence[Instance], budget_s: float, threads: int) -> int | None:
    """VROOM's most thorough level at which all of ``pieces`` are expected to end within
    ``budget_s`` on ``threads`` threads, one after another; ``None`` when even the fastest
    would not (a big day on a short share: no quick routes to look for)."""
    fitting = [
        level
        for level in range(len(VROOM_SECONDS_AT_250))
        if sum(_expected_s(level, piece, threads) for piece in pieces) <= budget_s
    ]
    return max(fitting, default=None)


def first_routes(pieces: Sequence[Instance], deadline: float, threads: int) -> list[Routes] | None:
    """VROOM's routes of every one of ``pieces``, at the most thorough level at which all of
    them are expected to end by ``deadline`` (a ``time.time()``) on ``threads`` threads
    (``first_level``): a plan of the whole soon, before each piece is searched in turn.
    ``None`` when even the fastest level would not end in time (callers check that VROOM can
    express every piece).

    Each piece's timeout is its expected share of what is left until ``deadline``, so that the
    whole ends about in time where VROOM runs slower than expected (small pieces take several
    times ``vroom_seconds``; on 250-visit days in two or three parts, quick routes given 1 s took
    1.0-1.8 s)."""
    level = first_level(pieces, deadline - clock.time(), threads)
    if level is None:
        return None
    routes: list[Routes] = []
    for k, piece in enumerate(pieces):
        still = sum(_expected_s(level, later, threads) for later in pieces[k:])
        share = (deadline - clock.time()) * _expected_s(level, piece, threads) / still
        routes.append(vroom_routes(piece, share, level=level, threads=threads))
    return routes


def _expected_s(level: int, piece: Instance, threads: int) -> float:
    """How long VROOM is expected to take on ``piece`` at ``level`` (``vroom_seconds``)."""
    return vroom_seconds(level, piece.n_nodes, piece.n_vehicles, threads)
