"""The planning service: a validated day in, a plan out (compile -> solve -> decode), and,
when asked, draft plans of the best routes so far while the search goes on
(``dispatch.planning.drafts``). A day of several regions (``dispatch.planning.regions``) is
planned region by region, each with its own matrix, and joined; a caller that solves the
regions apart (one Celery task each) plans one with ``plan_region`` and joins them with
``join_regions``, as ``plan_day`` does."""

from __future__ import annotations

import logging
import time as clock
from collections.abc import Callable
from dataclasses import replace
from functools import partial

from dispatch.errors import FieldError, InputError, InternalError
from dispatch.model import Plan, Problem
from dispatch.planning.compile import IdMap, compile_problem
from dispatch.planning.decode import decode
from dispatch.planning.drafts import Drafts
from dispatch.planning.kpi import compute_kpis
from dispatch.planning.lines import with_road_lines
from dispatch.planning.params import policy_params
from dispatch.planning.promise import with_promises
from dispatch.planning.regions import Region, regions
from dispatch.travel import TravelTimeProvider, provider_for
from solver import (
    Instance,
    NoSolutionInTimeError,
    Progress,
    Solution,
    SolveParams,
    SolverError,
    solve,
)

__all__ = [
    "FINISH_S_PER_VISIT",
    "MIN_SEARCH_S",
    "Progress",
    "SolveParams",
    "join_regions",
    "plan_day",
    "plan_region",
    "region_problem",
    "search_from",
    "too_little_time",
    "within_budget",
]

logger = logging.getLogger(__name__)

#: Seconds a visit, kept from the search for what follows it: decoding, promises, KPIs, road
#: lines from the cache and the independent checker (about 0.6 s at 2,500 visits).
FINISH_S_PER_VISIT = 0.00025
#: The least search a plan gets, however much of its budget the matrix took. A day planned
#: region by region shares it among its regions by their visits, as it shares the budget:
#: each region given the whole of it, a day of five regions answered a 2 s budget in 6 s.
MIN_SEARCH_S = 1.0


def plan_day(
    problem: Problem,
    *,
    provider: TravelTimeProvider | None = None,
    params: SolveParams | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    on_draft: Callable[[Plan], None] | None = None,
) -> Plan:
    """Plan ``problem``: every visit ends in one route or in ``unassigned`` with a reason.

    Parameters
    ----------
    problem
        A validated day (``dispatch.contract.validate.parse_problem``).
    provider
        Travel times; by default ``provider_for(problem)``: the explicit matrix or the
        geodesic provider (a day on roads needs its provider given).
    params
        Search budget; by default the policy's time limit with guided local search.
    on_progress
        Called with the search's progress (elapsed, best cost, visits placed), from the
        search thread; with ``on_draft``, some reports carry the routes of a snapshot.
    on_draft
        Hears draft plans while the search goes on: the best routes so far (the first report
        of each search, then at most every ``solver.params.SNAPSHOT_INTERVAL_S``, the newest
        only when drafting lags), timed and decoded on a thread of their own, with promises
        and KPIs as the final plan has them but no road lines; ``solve_s`` is when the search
        found them. Called from that thread, never after this returns; a draft that fails is
        logged and the plan is made all the same. Default none.

    Raises
    ------
    TravelTimeError
        When the provider cannot give a matrix.
    InputError
        When the time limit ran out before any plan was found (on ``time_limit_s``).
    InternalError
        When the solver fails on a model the engine built (a bug).
    """
    found = regions(problem)
    try:
        if len(found) > 1:
            return _plan_by_region(problem, found, provider, params, on_progress, on_draft)
        return _plan_whole(problem, provider, params, on_progress, on_draft)
    except NoSolutionInTimeError as error:
        limit_s = (params or policy_params(problem.policy)).time_limit_s
        raise too_little_time(len(problem.visits), len(problem.technicians), limit_s) from error


def too_little_time(visits: int, technicians: int, limit_s: float, what: str = "day") -> InputError:
    """The error of a day (or another ``what``: a horizon) of ``visits`` visits and
    ``technicians`` technicians whose search found no plan at all in ``limit_s``: the time
    asked for, not the engine, is short (it was "the solver failed: no solution found (status
    4)", read as a bug)."""
    size = (
        f"{visits:,} visit{'s' * (visits != 1)} and "
        f"{technicians:,} technician{'s' * (technicians != 1)}"
    )
    why = (
        f"no plan was found within {limit_s:g} s: a {what} of {size} needs longer; "
        "solve it again with a longer time_limit_s"
    )
    return InputError([FieldError("time_limit_s", why)], what="time limit")


def _plan_whole(
    problem: Problem,
    provider: TravelTimeProvider | None,
    params: SolveParams | None,
    on_progress: Callable[[Progress], None] | None,
    on_draft: Callable[[Plan], None] | None,
    least_s: float = MIN_SEARCH_S,
) -> Plan:
    """``plan_day`` of a day planned as one: one matrix, one search of at least ``least_s``."""
    started = clock.monotonic()
    provider = provider or provider_for(problem)
    instance, id_map = compile_problem(problem, provider)
    params = within_budget(
        params or policy_params(problem.policy),
        spent_s=clock.monotonic() - started,
        visits=len(problem.visits),
        least_s=least_s,
    )
    drafts = None
    heard = on_progress
    if on_draft is not None:
        drafts = Drafts(
            instance,
            partial(_plan_of, problem=problem, id_map=id_map, instance=instance),
            on_draft,
        )
        heard = partial(_tell_both, on_progress, drafts.hear)
    try:
        solution = solve(instance, params, on_progress=heard, snapshots=drafts is not None)
    except NoSolutionInTimeError:
        raise  # the budget's, not the engine's: named by plan_day
    except SolverError as error:
        raise InternalError(f"the solver failed: {error}") from error
    finally:
        if drafts is not None:
            drafts.close()
    return _plan_of(solution, problem=problem, id_map=id_map, instance=instance, provider=provider)


def _plan_by_region(
    problem: Problem,
    found: list[Region],
    provider: TravelTimeProvider | None,
    params: SolveParams | None,
    on_progress: Callable[[Progress], None] | None,
    on_draft: Callable[[Plan], None] | None,
) -> Plan:
    """``plan_day`` of a day of several regions (``dispatch.planning.regions``): each planned
    on its own, one after another, smallest first, with a share of what is left of the budget
    by its visits (so the time a small region's search leaves, stopped once it stalled, goes
    to the bigger ones after it), and joined into one plan of the whole day. The least search
    (``MIN_SEARCH_S``) is shared alike, so the regions together keep to the budget. Drafts
    are the regions planned so far joined with the current one's draft."""
    started = clock.monotonic()
    params = params or policy_params(problem.policy)
    done: list[Plan] = []
    placed = 0
    turns = sorted(found, key=lambda region: len(region.visits))
    total = sum(len(r.visits) for r in turns) or 1
    for k, region in enumerate(turns):
        part = region_problem(problem, region)
        later = sum(len(r.visits) for r in turns[k:]) or 1
        left = params.time_limit_s - (clock.monotonic() - started)
        least_s = MIN_SEARCH_S * len(region.visits) / total
        share = replace(params, time_limit_s=max(least_s, left * len(region.visits) / later))

        def heard(progress: Progress, base: int = placed) -> None:
            if on_progress is not None:
                on_progress(
                    Progress(
                        clock.monotonic() - started,
                        progress.best_cost,
                        None if progress.placed is None else base + progress.placed,
                        len(problem.visits),
                    )
                )

        def drafted(draft: Plan, before: tuple[Plan, ...] = tuple(done)) -> None:
            if on_draft is not None:
                on_draft(join_regions(problem, [*before, draft], clock.monotonic() - started))

        plan = _plan_whole(part, provider, share, heard, drafted if on_draft else None, least_s)
        done.append(plan)
        placed += sum(len(route.stops) for route in plan.routes)
    return join_regions(problem, done, clock.monotonic() - started)


def region_problem(problem: Problem, region: Region) -> Problem:
    """``problem`` restricted to ``region``'s technicians and visits: the day a region is
    planned as."""
    return replace(
        problem,
        technicians=tuple(problem.technicians[t] for t in region.technicians),
        visits=tuple(problem.visits[i] for i in region.visits),
    )


def plan_region(
    problem: Problem,
    region: Region,
    *,
    provider: TravelTimeProvider | None = None,
    params: SolveParams | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    on_draft: Callable[[Plan], None] | None = None,
    least_s: float = MIN_SEARCH_S,
) -> Plan:
    """One region of ``problem`` (``dispatch.planning.regions``) planned on its own, as
    ``plan_day`` plans each region of a day, with all of ``params``' budget but never a search
    shorter than ``least_s`` (default ``MIN_SEARCH_S``; the region's share of it by its
    visits when the regions of one budget are planned apart, as ``plan_day`` shares it); its
    plans, and its drafts (``on_draft``, as ``plan_day``'s: plans of the region alone), are
    joined with ``join_regions``.

    Raises
    ------
    TravelTimeError
        When the provider cannot give a matrix.
    InputError
        When the time limit ran out before any plan of the region was found.
    InternalError
        When the solver fails on a model the engine built (a bug).
    """
    part = region_problem(problem, region)
    try:
        return _plan_whole(part, provider, params, on_progress, on_draft, least_s)
    except NoSolutionInTimeError as error:
        limit_s = (params or policy_params(problem.policy)).time_limit_s
        raise too_little_time(len(part.visits), len(part.technicians), limit_s) from error


def join_regions(problem: Problem, plans: list[Plan], solve_s: float) -> Plan:
    """Plans of parts of ``problem`` as one plan of it, its KPIs computed over the whole."""
    tech_order = {tech.id: k for k, tech in enumerate(problem.technicians)}
    visit_order = {visit.id: k for k, visit in enumerate(problem.visits)}
    routes = sorted(
        (route for plan in plans for route in plan.routes),
        key=lambda route: tech_order[route.technician_id],
    )
    unassigned = sorted(
        (item for plan in plans for item in plan.unassigned),
        key=lambda item: visit_order[item.visit_id],
    )
    # Once each: the group of visits nobody could serve is planned with every technician
    # (``dispatch.planning.regions``), and one who cannot make their day was listed twice.
    once = {item.technician_id: item for plan in reversed(plans) for item in plan.without_route}
    without_route = sorted(once.values(), key=lambda item: tech_order[item.technician_id])
    plan = Plan(
        routes=tuple(routes),
        unassigned=tuple(unassigned),
        solve_s=solve_s,
        objective=sum(p.objective for p in plans),
        without_route=tuple(without_route),
    )
    return replace(plan, kpis=compute_kpis(problem, plan))


def within_budget(
    params: SolveParams, *, spent_s: float, visits: int, least_s: float = MIN_SEARCH_S
) -> SolveParams:
    """``params`` with the search's time cut so that the whole plan, not only its search, ends
    inside the budget: less what compiling (the matrix) took and ``FINISH_S_PER_VISIT`` a
    visit for decoding and checking, never below ``least_s`` (default ``MIN_SEARCH_S``; a
    region's share of it when a day is planned region by region). A reproducible search
    counts work, not time, and is left as it is."""
    if params.reproducible:
        return params
    left = params.time_limit_s - spent_s - FINISH_S_PER_VISIT * visits
    return replace(params, time_limit_s=max(least_s, left))


def _plan_of(
    solution: Solution,
    *,
    problem: Problem,
    id_map: IdMap,
    instance: Instance,
    provider: TravelTimeProvider | None = None,
) -> Plan:
    """``solution`` as the plan of ``problem``: decoded, with promises, road lines (when a
    ``provider`` is given to draw them) and KPIs."""
    visits = {visit.id: visit for visit in problem.visits}
    plan = with_promises(decode(solution, id_map, instance), visits, problem.policy)
    if provider is not None:
        plan = with_road_lines(plan, problem, provider)
    return replace(plan, kpis=compute_kpis(problem, plan))


def _tell_both(
    on_progress: Callable[[Progress], None] | None,
    on_snapshot: Callable[[Progress], None],
    progress: Progress,
) -> None:
    """A report of the search, to the caller's ``on_progress`` and then to the drafts."""
    if on_progress is not None:
        on_progress(progress)
    on_snapshot(progress)


#: A re-plan whose search found no plan in its budget searches again this many times longer
#: (at least ``RETRY_AT_LEAST_S``): on a busy machine a 1-second re-plan of a 107-visit day
#: timed out restoring its start, and the field's report was answered with a 500, lost.
RETRY_LONGER = 5
RETRY_AT_LEAST_S = 5.0


def search_from(
    instance: Instance, params: SolveParams, initial_routes: list[list[int]]
) -> Solution:
    """The solver's search on ``instance`` from ``initial_routes`` (one node list per vehicle):
    re-planning's warm start; searched again ``RETRY_LONGER`` times longer when it found no
    plan in its budget. The planning package is the engine's one door to the solver.

    Raises
    ------
    InternalError
        When the solver fails on a model the engine built (a bug), twice.
    """
    try:
        return solve(instance, params, initial_routes=initial_routes)
    except SolverError:
        longer = max(params.time_limit_s * RETRY_LONGER, RETRY_AT_LEAST_S)
        logger.warning(
            "re-plan search found no plan in %.1f s; searching %.1f s", params.time_limit_s, longer
        )
    try:
        return solve(instance, replace(params, time_limit_s=longer), initial_routes=initial_routes)
    except SolverError as error:
        raise InternalError(f"the solver failed while re-planning: {error}") from error
