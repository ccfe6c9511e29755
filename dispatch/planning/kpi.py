"""Headline figures of a plan: coverage by priority, punctuality, the early band, km, load."""

from __future__ import annotations

from datetime import datetime, timedelta

from dispatch.model import Kpis, Plan, Priority, Problem, Stop, UnassignedCode, Visit, VisitId
from dispatch.units import after, elapsed

__all__ = ["compute_kpis"]


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 1.0


def _reached(stop: Stop) -> datetime:
    """When the technician reached ``stop``: as reported (the arrival, else the start), else as
    planned."""
    return stop.actual_arrival or stop.actual_start or stop.arrival


def _on_time(stop: Stop, visit: Visit) -> bool:
    """Whether ``stop`` was (or is planned to be) reached no later than ``visit`` allows."""
    if stop.actual_arrival is None and stop.actual_start is None:
        return stop.late == timedelta(0)
    latest = visit.latest_arrival
    return latest is None or not after(_reached(stop), latest)


def _urgent_faults(problem: Problem, plan: Plan) -> list[Visit]:
    """The urgent faults the response time runs for: urgent visits with a report time (their
    ``deadline``), served or not, less those the customer cancelled."""
    cancelled = {u.visit_id for u in plan.unassigned if u.code is UnassignedCode.CANCELLED}
    return [v for v in problem.visits if v.deadline is not None and v.id not in cancelled]


def compute_kpis(problem: Problem, plan: Plan) -> Kpis:
    """Compute the plan's KPIs.

    ``on_time_rate`` is the share of served stops that arrive no later than their latest allowed
    start; ``early_band_rate`` the share of served appointments reached inside the policy's
    band; ``urgent_within_response`` the share of the day's urgent faults (urgent visits with a
    report time, less those cancelled: ``urgent_faults``) reached within the response time
    (``urgent_reached_in_time``), one left unserved counting as not reached (the handbook's
    "urgent faults reached within 2 hours": over the served ones, one fault of two left out
    read 100 %); ``utilisation`` is busy time (travel and service) over the shift time of every
    technician on duty. A stop reported reached counts with its reported arrival
    (``_reached``): a re-planned version's figures said an appointment reached 7 minutes late,
    and an urgent fault 5 minutes past its deadline, were on time, where the time card said
    they were not.
    """
    visits: dict[VisitId, Visit] = {visit.id: visit for visit in problem.visits}
    near, far = problem.policy.early_band
    # A visit the technician could not complete keeps its stop (the time was spent) but is
    # not served: it waits in ``unassigned`` to be booked again.
    attempted = {u.visit_id for u in plan.unassigned if u.code is UnassignedCode.NOT_COMPLETED}
    stops = [stop for route in plan.routes for stop in route.stops]
    served = {stop.visit_id for stop in stops} - attempted
    by_priority = {
        priority.label: (
            sum(1 for v in problem.visits if v.priority == priority),
            sum(1 for v in problem.visits if v.priority == priority and v.id in served),
        )
        for priority in sorted(Priority, reverse=True)
    }
    on_time = sum(1 for stop in stops if _on_time(stop, visits[stop.visit_id]))
    appointments = [stop for stop in stops if visits[stop.visit_id].appointment is not None]
    in_band = sum(
        1
        for stop in appointments
        if near <= elapsed(_reached(stop), visits[stop.visit_id].appointment or stop.arrival) <= far
    )
    urgent = _urgent_faults(problem, plan)
    reached = {stop.visit_id: _reached(stop) for stop in stops}
    urgent_ok = sum(  # in real time: the night the clocks go back, wall clocks mislead
        1
        for visit in urgent
        if visit.id in reached
        and visit.deadline is not None
        and not after(reached[visit.id], visit.deadline)
    )
    travel = sum((route.travel for route in plan.routes), timedelta(0))
    service = sum((route.service for route in plan.routes), timedelta(0))
    shifts = sum((elapsed(t.shift.start, t.working_end) for t in problem.technicians), timedelta(0))
    return Kpis(
        visits=len(problem.visits),
        assigned=len(served),
        assigned_by_priority=by_priority,
        on_time_rate=_share(on_time, len(stops)),
        early_band_rate=_share(in_band, len(appointments)),
        appointment_stops=len(appointments),
        appointments_in_band=in_band,
        urgent_within_response=_share(urgent_ok, len(urgent)),
        urgent_faults=len(urgent),
        urgent_reached_in_time=urgent_ok,
        distance_km=round(sum(route.distance_km for route in plan.routes), 1),
        travel=travel,
        service=service,
        utilisation=round((travel + service) / shifts, 4) if shifts else 0.0,
        technicians_used=len(plan.routes),
        solve_s=round(plan.solve_s, 2),
    )
