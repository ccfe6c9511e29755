"""Write a ``Plan`` in the contract's shape (``dispatch.schema.PlanOut``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from dispatch.kpi import compute_kpis
from dispatch.model import Plan, Problem, Route, Stop, Visit, VisitId
from dispatch.schema import (
    BreakOut,
    KpisOut,
    PlanOut,
    PriorityCount,
    RouteOut,
    StopOut,
    UnassignedOut,
    WindowIn,
)
from dispatch.units import format_clock, iso

__all__ = ["minutes", "plan_document"]


def minutes(duration: timedelta) -> int:
    """A duration as whole minutes, rounded to the nearest."""
    return round(duration.total_seconds() / 60)


def plan_document(
    problem: Problem, plan: Plan, *, plan_id: str, version: int, created_at: datetime
) -> PlanOut:
    """The contract's plan for ``plan`` of ``problem``."""
    visits = {visit.id: visit for visit in problem.visits}
    shifts = {t.id: t.shift.end - t.shift.start for t in problem.technicians}
    kpis = compute_kpis(problem, plan)
    if not plan.unassigned:
        status = "feasible"
    elif plan.routes:
        status = "partial"
    else:
        status = "empty"
    return PlanOut(
        plan_id=plan_id,
        version=version,
        status=status,
        created_at=iso(created_at),
        date=problem.date.isoformat(),
        timezone=problem.timezone.key,
        routes=[_route(route, visits, shifts[route.technician_id]) for route in plan.routes],
        unassigned=[
            UnassignedOut(
                visit_id=item.visit_id,
                code=item.code.value,
                reason=item.reason,
                candidates=list(item.candidates),
            )
            for item in plan.unassigned
        ],
        kpis=KpisOut(
            visits=kpis.visits,
            assigned=kpis.assigned,
            assigned_by_priority={
                name: PriorityCount(visits=total, assigned=served)
                for name, (total, served) in kpis.assigned_by_priority.items()
            },
            on_time_rate=kpis.on_time_rate,
            early_band_rate=kpis.early_band_rate,
            appointment_stops=kpis.appointment_stops,
            appointments_in_band=kpis.appointments_in_band,
            urgent_within_response=kpis.urgent_within_response,
            distance_km=kpis.distance_km,
            travel_min=minutes(kpis.travel),
            service_min=minutes(kpis.service),
            utilisation=kpis.utilisation,
            technicians_used=kpis.technicians_used,
            solve_s=kpis.solve_s,
        ),
    )


def _route(route: Route, visits: dict[VisitId, Visit], shift: timedelta) -> RouteOut:
    busy = route.travel + route.service
    return RouteOut(
        technician_id=route.technician_id,
        start_time=iso(route.start_time),
        end_time=iso(route.end_time),
        distance_km=round(route.distance_km, 1),
        travel_min=minutes(route.travel),
        service_min=minutes(route.service),
        wait_min=minutes(route.wait),
        utilisation=round(busy / shift, 4) if shift else 0.0,
        stops=[_stop(stop, visits[stop.visit_id]) for stop in route.stops],
        breaks=[BreakOut(start=iso(b.start), end=iso(b.end)) for b in route.breaks],
    )


def _stop(stop: Stop, visit: Visit) -> StopOut:
    return StopOut(
        visit_id=stop.visit_id,
        arrival=iso(stop.arrival),
        service_start=iso(stop.service_start),
        departure=iso(stop.departure),
        travel_min=minutes(stop.travel),
        distance_km=round(stop.distance_km, 1),
        early_min=minutes(stop.early),
        late_min=minutes(stop.late),
        wait_min=minutes(stop.wait),
        kind=visit.kind,
        customer=visit.customer,
        address=visit.site.address,
        phone=visit.phone,
        appointment=format_clock(visit.appointment) if visit.appointment else None,
        window=WindowIn(start=format_clock(visit.window.start), end=format_clock(visit.window.end))
        if visit.window
        else None,
    )
