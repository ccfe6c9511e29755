"""The planning service: a validated day in, a plan out (compile -> solve -> decode)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from dispatch.errors import InternalError
from dispatch.model import Plan, Problem
from dispatch.planning.compile import compile_problem
from dispatch.planning.decode import decode
from dispatch.planning.kpi import compute_kpis
from dispatch.planning.lines import with_road_lines
from dispatch.planning.promise import with_promises
from dispatch.travel import TravelTimeProvider, provider_for
from solver import Instance, Progress, Solution, SolveParams, SolverError, solve

__all__ = ["Progress", "SolveParams", "plan_day", "search_from"]


def plan_day(
    problem: Problem,
    *,
    provider: TravelTimeProvider | None = None,
    params: SolveParams | None = None,
    on_progress: Callable[[Progress], None] | None = None,
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
        Called with the search's progress (elapsed, best cost, visits placed).

    Raises
    ------
    TravelTimeError
        When the provider cannot give a matrix.
    InternalError
        When the solver fails on a model the engine built (a bug).
    """
    provider = provider or provider_for(problem)
    instance, id_map = compile_problem(problem, provider)
    params = params or SolveParams(time_limit_s=problem.policy.time_limit_s)
    try:
        solution = solve(instance, params, on_progress=on_progress)
    except SolverError as error:
        raise InternalError(f"the solver failed: {error}") from error
    visits = {visit.id: visit for visit in problem.visits}
    plan = with_promises(decode(solution, id_map), visits, problem.policy)
    plan = with_road_lines(plan, problem, provider)
    return replace(plan, kpis=compute_kpis(problem, plan))


def search_from(
    instance: Instance, params: SolveParams, initial_routes: list[list[int]]
) -> Solution:
    """The solver's search on ``instance`` from ``initial_routes`` (one node list per vehicle):
    re-planning's warm start. The planning package is the engine's one door to the solver.

    Raises
    ------
    InternalError
        When the solver fails on a model the engine built (a bug).
    """
    try:
        return solve(instance, params, initial_routes=initial_routes)
    except SolverError as error:
        raise InternalError(f"the solver failed while re-planning: {error}") from error
