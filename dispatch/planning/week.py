"""Plan a horizon in one solve: every technician's working day a vehicle on one timeline.

A visit may go to any working day its span allows (its window runs over the days, the nights
taken out for a visit served in the same hours each day), so the solver chooses the date as it
chooses the technician. Visits whose promise ends inside the horizon weigh more
(``compile.DUE_WEIGHT``): when not everything fits, what could wait for the next horizon waits.
The answer is cut by date into day plans; a visit left out is ``beyond_horizon`` when it may
still be served after the horizon, ``no_capacity_in_span`` when every eligible day of its span
was full.

Progress is told from the first seeded day on: after each day planned in turn, the week so far
(the later days still empty), so a listener hears of a valid plan, and after the last day of a
whole week's, long before the joint search's first report; that search's reports follow, their
times counted from the start of the seeding.
"""

from __future__ import annotations

import logging
import time as clock
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date

import numpy as np

from dispatch.errors import InternalError
from dispatch.model import (
    Horizon,
    Plan,
    TechnicianId,
    Unassigned,
    UnassignedCode,
    Visit,
    VisitId,
)
from dispatch.planning.compile import IdMap, compile_problem
from dispatch.planning.day import (
    RETRY_AT_LEAST_S,
    RETRY_LONGER,
    too_little_time,
    within_budget,
)
from dispatch.planning.decode import decode, without_route
from dispatch.planning.lines import with_road_lines
from dispatch.planning.params import policy_params
from dispatch.planning.promise import with_promises
from dispatch.travel import TravelTimeProvider, provider_for
from dispatch.units import after, iso
from solver import (
    Instance,
    NoSolutionInTimeError,
    Progress,
    Solution,
    SolveParams,
    SolverError,
    schedule,
    solve,
)
from solver.cost import route_cost

logger = logging.getLogger(__name__)

__all__ = ["DAY_BY_DAY_SHARE", "DUE_NOW_COST", "LAST_CHANCE_FACTOR", "PlannedWeek", "plan_week"]

#: Share of the budget spent planning the days one after another (each day from what is still
#: open), to seed the joint search over the whole horizon, which gets the rest. One search over
#: a week of 1,250 visits from a single VROOM seed spent most of a 75 s budget seeding and
#: served 1,152; planning the days in turn first gives it a start a desk would make.
DAY_BY_DAY_SHARE = 0.5
#: What each second a visit due now starts after the first working day costs, in seconds of
#: travel, in the search over the whole horizon (``_due_now_first``).
DUE_NOW_COST = 1
#: Seconds in a day, to find the first working day's shifts.
_DAY_S = 24 * 3600
#: While the days are planned in turn, a visit whose last eligible day it is weighs this much
#: more: served today, or never.
LAST_CHANCE_FACTOR = 4


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
    on_first_plan: Callable[[], None] | None = None,
) -> PlannedWeek:
    """Plan every day of ``horizon`` at once (see the module docstring).

    ``on_first_plan`` is called once, when a plan of the whole week first exists: the days
    planned in turn, or the first solution of the search when there is one working day.

    Raises
    ------
    TravelTimeError
        When the provider cannot give a matrix.
    InputError
        When the time limit ran out before any plan was found, even searched again longer
        (on ``time_limit_s``).
    InternalError
        When the solver fails on a model the engine built (a bug).
    """
    started = clock.monotonic()
    problem = horizon.as_problem()
    provider = provider or provider_for(problem)
    instance, id_map = compile_problem(problem, provider, due=horizon.promised, balance=True)
    asked = params or policy_params(horizon.policy)
    params = within_budget(
        asked,
        spent_s=clock.monotonic() - started,
        visits=len(problem.visits),
    )
    started = clock.monotonic()
    vehicles_by_day = [
        [v for v, t in enumerate(problem.technicians) if t.shift.start.date() == day]
        for day in horizon.dates
    ]
    try:
        working = [vehicles for vehicles in vehicles_by_day if vehicles]
        if len(working) > 1 and instance.n_nodes:
            due_now = _due_now_nodes(id_map, horizon.due_now)
            routes = _day_by_day(instance, working, params, started, on_progress, due_now)
            if on_first_plan is not None:
                on_first_plan()
            seeded_s = clock.monotonic() - started
            rest = max(params.time_limit_s - seeded_s, 1.0)
            heard = None if on_progress is None else _after(seeded_s, on_progress)
            joint = _due_now_first(instance, due_now, working[0])
            try:
                solution = _searched(
                    lambda limit: solve(
                        joint, replace(params, time_limit_s=limit), initial_routes=routes,
                        on_progress=heard,
                    ),
                    rest,
                )  # fmt: skip
            except SolverError:
                # A loaded machine: the search restored no start and found no plan of its
                # own in time, twice (2 of 116 hunted weeks). The days planned in turn stand.
                logger.warning("week search found no plan; the days planned in turn stand")
                solution = schedule(instance, routes)
        else:
            heard = _first_of(on_progress, on_first_plan)
            solution = _searched(
                lambda limit: solve(
                    instance, replace(params, time_limit_s=limit), on_progress=heard
                ),
                params.time_limit_s,
            )
    except NoSolutionInTimeError as error:  # even searched again, longer
        technicians = len({technician.id for technician in horizon.workdays})
        limit_s = asked.time_limit_s
        raise too_little_time(len(problem.visits), technicians, limit_s, "horizon") from error
    except SolverError as error:
        raise InternalError(f"the solver failed: {error}") from error
    visits = {visit.id: visit for visit in problem.visits}
    plan = with_promises(decode(solution, id_map, instance), visits, problem.policy)
    plan = with_road_lines(plan, problem, provider)
    days = tuple(
        (
            day,
            Plan(
                routes=tuple(r for r in plan.routes if r.start_time.date() == day),
                unassigned=(),
                solve_s=clock.monotonic() - started,
                without_route=without_route(id_map, instance, vehicles),
            ),
        )
        for day, vehicles in zip(horizon.dates, vehicles_by_day, strict=True)
    )
    left = tuple(_for_the_week(u, visits[u.visit_id], horizon) for u in plan.unassigned)
    elapsed = clock.monotonic() - started  # the days in turn and the whole search
    return PlannedWeek(days, left + horizon.beyond, elapsed, plan.objective)


def _searched(search: Callable[[float], Solution], limit_s: float) -> Solution:
    """``search`` with ``limit_s`` seconds; when it found no plan in them, once more,
    ``RETRY_LONGER`` times longer (at least ``RETRY_AT_LEAST_S``), as a day's re-plan is: a
    week of 66 visits at 0.5 s failed as a job in 4 of 8 runs on a busy machine ("no
    solution found")."""
    try:
        return search(limit_s)
    except SolverError:
        longer = max(limit_s * RETRY_LONGER, RETRY_AT_LEAST_S)
        logger.warning("week search found no plan in %.1f s; searching %.1f s", limit_s, longer)
    return search(longer)


def _due_now_nodes(id_map: IdMap, due_now: frozenset[VisitId]) -> list[int]:
    """The nodes of the visits due now (``Horizon.due_now``)."""
    return [node for node in range(len(id_map.node_visit)) if id_map.visit(node).id in due_now]


def _due_now_first(instance: Instance, nodes: Sequence[int], first_day: Sequence[int]) -> Instance:
    """``instance`` with each of ``nodes`` (due now) wanting to start by the end of the shifts
    of the first working day (its vehicles: ``first_day``): each second later costs
    ``DUE_NOW_COST``, as a second of travel. Nothing else asked for a date, so an urgent fault
    overdue since Friday went to Tuesday though Monday had hours free. Counted from the
    earliest shift plus a day, Tuesday's 07:00 shift (or Sunday's after the clocks went forward)
    was the first day too.

    Leaving a visit out must still cost more than any lateness it could spare: where the
    penalties do not outweigh every due-now visit served on the horizon's last second, they are
    raised in proportion (with short legs, Monday's job was dropped for an overdue visit that
    Friday had room for, or the overdue visit itself). Only the search over the whole horizon
    from the days planned in turn is given it: the seeders cannot express a soft window, and
    days seeded without them served 21 visits fewer of 1,249."""
    if not nodes or not first_day or instance.soft_window_cost:
        return instance
    by = max(instance.vehicles[v].shift_end_s for v in first_day)
    soft = np.full((instance.n_nodes, 2), -1, dtype=np.int64)
    soft[list(nodes)] = (0, by)
    last = max(vehicle.shift_end_s for vehicle in instance.vehicles)
    worst = len(nodes) * max(0, last - by) * DUE_NOW_COST
    penalty = instance.penalty
    least = int(penalty.min()) if penalty.size else 0
    if 0 < least <= worst:
        penalty = penalty * ((worst + least) // least + 1)
    return replace(instance, soft_window_s=soft, soft_window_cost=DUE_NOW_COST, penalty=penalty)


def _first_of(
    on_progress: Callable[[Progress], None] | None, on_first_plan: Callable[[], None] | None
) -> Callable[[Progress], None] | None:
    """``on_progress``, with ``on_first_plan`` told at the search's first report (a solution)."""
    if on_first_plan is None:
        return on_progress
    told = False

    def tell(progress: Progress) -> None:
        nonlocal told
        if not told:
            told = True
            on_first_plan()
        if on_progress is not None:
            on_progress(progress)

    return tell


def _after(offset_s: float, on_progress: Callable[[Progress], None]) -> Callable[[Progress], None]:
    """``on_progress`` hearing a search that began ``offset_s`` into the week's planning."""
    return lambda progress: on_progress(replace(progress, elapsed_s=offset_s + progress.elapsed_s))


def _day_by_day(
    instance: Instance,
    days: Sequence[Sequence[int]],
    params: SolveParams,
    started: float,
    on_progress: Callable[[Progress], None] | None = None,
    due_now: Sequence[int] = (),
) -> list[list[int]]:
    """Routes made by planning each day's vehicles in turn over the nodes still open, a node
    on its last eligible day, or ``due_now`` on the first, weighing ``LAST_CHANCE_FACTOR``
    more (the desk's way, as a start).

    After each day ``on_progress`` hears the week so far (``started``: when the week's search
    began, a ``time.monotonic()``), priced as ``solver.cost`` prices routes (the balance
    between days aside), with every node not yet placed counted as left out."""
    day_of = np.empty(instance.n_vehicles, dtype=np.int64)
    for k, vehicles in enumerate(days):
        day_of[list(vehicles)] = k
    every = tuple(range(instance.n_vehicles))
    allowed = [
        (instance.allowed[i] if instance.allowed else None) or every
        for i in range(instance.n_nodes)
    ]
    last_day = [int(day_of[list(a)].max()) if a else -1 for a in allowed]
    routes: list[list[int]] = [[] for _ in range(instance.n_vehicles)]
    open_nodes = set(range(instance.n_nodes))
    budget = params.time_limit_s * DAY_BY_DAY_SHARE / len(days)
    for k, vehicles in enumerate(days):
        members = set(vehicles)
        nodes = [i for i in sorted(open_nodes) if members.intersection(allowed[i])]
        if not nodes:
            continue
        part = instance.restricted(nodes, vehicles)
        urgent = {i for i in due_now if k == 0} | {i for i in nodes if last_day[i] == k}
        boost = np.array([LAST_CHANCE_FACTOR if i in urgent else 1 for i in nodes])
        part = replace(part, penalty=part.penalty * boost)
        for route in solve(part, replace(params, time_limit_s=budget)).routes:
            placed = [nodes[n] for n in route.nodes]
            routes[vehicles[route.vehicle]] = placed
            open_nodes.difference_update(placed)
        if on_progress is not None:
            on_progress(
                Progress(
                    clock.monotonic() - started,
                    route_cost(instance, routes),
                    instance.n_nodes - len(open_nodes),
                    instance.n_nodes,
                )
            )
    return routes


def _for_the_week(unassigned: Unassigned, visit: Visit, horizon: Horizon) -> Unassigned:
    """A day's reason read for a week: 'no room' becomes beyond the horizon or no capacity;
    a time no shift of the horizon can serve becomes beyond the horizon when its span goes on
    after it (a fault reported late on the last day)."""
    candidates = tuple(dict.fromkeys(unassigned.candidates))
    window = visit.window
    late = (
        unassigned.code is UnassignedCode.WINDOW
        and visit.id not in horizon.promised
        and window is not None
        and after(window.end, horizon.end)
    )
    if unassigned.code is not UnassignedCode.NO_ROOM and not late:
        return replace(unassigned, candidates=candidates)
    if visit.id not in horizon.promised:
        wait = (
            f"it may wait until {iso(window.end)}"
            if window is not None and after(window.end, horizon.end)
            else "nothing was promised inside the horizon"
        )
        inside = (
            f"no time inside the horizon ({unassigned.reason})"
            if late
            else "no room inside the horizon"
        )
        return Unassigned(
            visit.id,
            UnassignedCode.BEYOND_HORIZON,
            f"{inside} and {wait}: it goes into the next horizon",
            candidates,
        )
    eligible = set(candidates)
    appointment = visit.appointment
    days = sorted(
        {
            t.shift.start.date().isoformat()
            for t in horizon.workdays
            if t.id in eligible
            and (window is None or (t.shift.start < window.end and t.shift.end > window.start))
            and (appointment is None or t.shift.start.date() == appointment.date())
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
