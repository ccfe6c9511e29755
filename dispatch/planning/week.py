"""Plan a horizon in one solve: every technician's working day a vehicle on one timeline.

A visit may go to any working day its span allows (its window runs over the days, the nights
taken out for a visit served in the same hours each day), so the solver chooses the date as it
chooses the technician. Visits whose promise ends inside the horizon weigh more
(``compile.DUE_WEIGHT``): when not everything fits, what could wait for the next horizon waits.
The answer is cut by date into day plans; a visit left out is ``beyond_horizon`` when it may
still be served after the horizon, ``no_capacity_in_span`` when every eligible day of its span
was full.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date

from dispatch.errors import InternalError
from dispatch.model import (
    Horizon,
    Plan,
    TechnicianId,
    Unassigned,
    UnassignedCode,
    Visit,
)
from dispatch.planning.compile import compile_problem
from dispatch.planning.decode import decode
from dispatch.planning.lines import with_road_lines
from dispatch.planning.promise import with_promises
from dispatch.travel import TravelTimeProvider, provider_for
from dispatch.units import iso
from solver import Progress, SolveParams, SolverError, solve

__all__ = ["PlannedWeek", "plan_week"]


@dataclass(frozen=True, slots=True)
class PlannedWeek:
    """A horizon's plan: one ``Plan`` per date (routes only; what is left out is the week's)."""

    days: tuple[tuple[date, Plan], ...]
    unassigned: tuple[Unassigned, ...]
    solve_s: float
    objective: int


def plan_week(
    horizon: Horizon,
    *,
    provider: TravelTimeProvider | None = None,
    params: SolveParams | None = None,
    on_progress: Callable[[Progress], None] | None = None,
) -> PlannedWeek:
    """Plan every day of ``horizon`` at once (see the module docstring).

    Raises
    ------
    TravelTimeError
        When the provider cannot give a matrix.
    InternalError
        When the solver fails on a model the engine built (a bug).
    """
    problem = horizon.as_problem()
    provider = provider or provider_for(problem)
    instance, id_map = compile_problem(problem, provider, due=horizon.promised, balance=True)
    params = params or SolveParams(time_limit_s=horizon.policy.time_limit_s)
    try:
        solution = solve(instance, params, on_progress=on_progress)
    except SolverError as error:
        raise InternalError(f"the solver failed: {error}") from error
    visits = {visit.id: visit for visit in problem.visits}
    plan = with_promises(decode(solution, id_map), visits, problem.policy)
    plan = with_road_lines(plan, problem, provider)
    days = tuple(
        (
            day,
            Plan(
                routes=tuple(r for r in plan.routes if r.start_time.date() == day),
                unassigned=(),
                solve_s=plan.solve_s,
            ),
        )
        for day in horizon.dates
    )
    left = tuple(_for_the_week(u, visits[u.visit_id], horizon) for u in plan.unassigned)
    return PlannedWeek(days, left + horizon.beyond, plan.solve_s, plan.objective)


def _for_the_week(unassigned: Unassigned, visit: Visit, horizon: Horizon) -> Unassigned:
    """A day's reason read for a week: 'no room' becomes beyond the horizon or no capacity."""
    candidates = tuple(dict.fromkeys(unassigned.candidates))
    if unassigned.code is not UnassignedCode.NO_ROOM:
        return replace(unassigned, candidates=candidates)
    window = visit.window
    if visit.id not in horizon.promised:
        wait = (
            f"it may wait until {iso(window.end)}"
            if window is not None and window.end > horizon.end
            else "nothing was promised inside the horizon"
        )
        return Unassigned(
            visit.id,
            UnassignedCode.BEYOND_HORIZON,
            f"no room inside the horizon and {wait}: it goes into the next horizon",
            candidates,
        )
    eligible = set(candidates)
    days = sorted(
        {
            t.shift.start.date().isoformat()
            for t in horizon.workdays
            if t.id in eligible
            and (window is None or (t.shift.start < window.end and t.shift.end > window.start))
        }
    )
    return Unassigned(
        visit.id,
        UnassignedCode.NO_CAPACITY_IN_SPAN,
        f"every eligible day of its span is full ({', '.join(days)}; "
        f"technicians {', '.join(_names(candidates))})",
        candidates,
    )


def _names(candidates: tuple[TechnicianId, ...]) -> list[str]:
    shown: list[str] = list(candidates[:8])
    if len(candidates) > 8:
        shown.append(f"and {len(candidates) - 8} more")
    return shown
