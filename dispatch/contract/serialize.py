"""Write a ``Plan`` in the contract's shape (``dispatch.contract.schema.PlanOut``)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import polyline

from dispatch.contract.schema import (
    BreakOut,
    ChangeOut,
    DayRefOut,
    DepotStopOut,
    KpisOut,
    PartOut,
    PickListOut,
    PlanOut,
    PriorityCount,
    PromisedWindowOut,
    RouteOut,
    StopOut,
    UnassignedOut,
    WindowIn,
    WithoutRouteOut,
)
from dispatch.errors import InternalError
from dispatch.model import (
    BreakSlot,
    Change,
    DayRef,
    DepotId,
    DepotStop,
    LatLon,
    PartQuantity,
    Plan,
    Problem,
    Route,
    Stop,
    StopStatus,
    TechnicianId,
    TimeWindow,
    Unassigned,
    UnassignedCode,
    Visit,
    VisitId,
    WithoutRoute,
)
from dispatch.units import elapsed, format_clock, iso, minutes_to_duration, whole_minutes

#: Decimal places of the encoded polylines that carry road lines (OSRM's and Google's).
POLYLINE_PRECISION = 5

__all__ = ["POLYLINE_PRECISION", "plan_document", "read_plan"]


def plan_document(
    problem: Problem, plan: Plan, *, plan_id: str, version: int, created_at: datetime
) -> PlanOut:
    """The contract's plan for ``plan`` of ``problem``."""
    visits = {visit.id: visit for visit in problem.visits}
    shifts = {t.id: elapsed(t.shift.start, t.working_end) for t in problem.technicians}
    kpis = plan.kpis
    if kpis is None:
        raise InternalError("a plan reached the serializer without its KPIs (planning sets them)")
    if not plan.unassigned:
        status = "feasible"
    elif any(route.stops for route in plan.routes):
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
        at=iso(plan.at) if plan.at else None,
        changes=[_change(change, visits) for change in plan.changes],
        routes=[_route(route, visits, shifts[route.technician_id]) for route in plan.routes],
        unassigned=[
            UnassignedOut(
                visit_id=item.visit_id,
                code=item.code,
                reason=item.reason,
                candidates=list(item.candidates),
                part=item.part,
                part_available=_iso_or_none(item.part_available),
                moved_to=_day_ref(item.moved_to),
            )
            for item in plan.unassigned
        ],
        pick_lists=_pick_lists(problem, plan),
        technicians_without_route=[
            WithoutRouteOut(technician_id=item.technician_id, reason=item.reason)
            for item in plan.without_route
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
            urgent_faults=kpis.urgent_faults,
            urgent_reached_in_time=kpis.urgent_reached_in_time,
            distance_km=kpis.distance_km,
            travel_min=whole_minutes(kpis.travel),
            service_min=whole_minutes(kpis.service),
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
        travel_min=whole_minutes(route.travel),
        service_min=whole_minutes(route.service),
        wait_min=whole_minutes(route.wait),
        utilisation=round(busy / shift, 4) if shift else 0.0,
        stops=[_stop(stop, visits[stop.visit_id]) for stop in route.stops],
        breaks=[BreakOut(start=iso(b.start), end=iso(b.end)) for b in route.breaks],
        geometry=polyline.encode([(p.lat, p.lon) for p in route.geometry], POLYLINE_PRECISION)
        if route.geometry
        else None,
        depot_stops=[_depot_stop(call, route) for call in route.depot_stops],
        pick_list=[_pick(call, route) for call in route.depot_stops if _before_leaving(call)],
    )


def _parts(items: tuple[PartQuantity, ...]) -> list[PartOut]:
    return [PartOut(part=item.part, quantity=item.quantity) for item in items]


def _depot_stop(call: DepotStop, route: Route) -> DepotStopOut:
    return DepotStopOut(
        depot_id=call.depot_id,
        before_visit_id=route.stops[call.before].visit_id
        if call.before < len(route.stops)
        else None,
        arrival=iso(call.arrival),
        departure=iso(call.departure),
        travel_min=whole_minutes(call.travel),
        distance_km=round(call.distance_km, 1),
        parts=_parts(call.taken),
    )


def _before_leaving(call: DepotStop) -> bool:
    """Whether ``call`` is loaded before leaving: before the first visit, where the route
    starts (no drive to it). A call the route drives to first is a call on the way, with its
    handling: said to be loaded before leaving, its parts read as in the van."""
    return call.before == 0 and call.travel == timedelta(0)


def _pick(call: DepotStop, route: Route) -> PickListOut:
    return PickListOut(
        depot_id=call.depot_id,
        technician_id=route.technician_id,
        arrival=iso(call.arrival),
        before_leaving=_before_leaving(call),
        parts=_parts(call.taken),
    )


def _pick_lists(problem: Problem, plan: Plan) -> list[PickListOut]:
    """Every depot call of the plan as the stores' pick lists: by depot, then by arrival."""
    order = {depot.id: d for d, depot in enumerate(problem.depots)}
    calls = [(call, route) for route in plan.routes for call in route.depot_stops]
    calls.sort(key=lambda pair: (order.get(pair[0].depot_id, len(order)), pair[0].arrival))
    return [_pick(call, route) for call, route in calls]


def _stop(stop: Stop, visit: Visit) -> StopOut:
    return StopOut(
        visit_id=stop.visit_id,
        arrival=iso(stop.arrival),
        service_start=iso(stop.service_start),
        departure=iso(stop.departure),
        travel_min=whole_minutes(stop.travel),
        distance_km=round(stop.distance_km, 1),
        early_min=whole_minutes(stop.early),
        late_min=whole_minutes(stop.late),
        wait_min=whole_minutes(stop.wait),
        kind=visit.kind,
        customer=visit.customer,
        address=visit.site.address,
        phone=visit.phone,
        appointment=format_clock(visit.appointment) if visit.appointment else None,
        window=WindowIn(
            start=format_clock(visit.window.start),
            end=format_clock(visit.window.end, visit.window.start.date()),
        )
        if visit.window
        else None,
        promised_window=_window(stop.promised),
        status=stop.status.value,
        actual_arrival=_iso_or_none(stop.actual_arrival),
        actual_start=_iso_or_none(stop.actual_start),
        actual_departure=_iso_or_none(stop.actual_departure),
        parts=_parts(visit.parts),
    )


def _iso_or_none(moment: datetime | None) -> str | None:
    return iso(moment) if moment else None


def _day_ref(day: DayRef | None) -> DayRefOut | None:
    return None if day is None else DayRefOut(date=day.date.isoformat(), plan_id=day.plan_id)


def _window(window: TimeWindow | None) -> PromisedWindowOut | None:
    if window is None:
        return None
    return PromisedWindowOut(start=iso(window.start), end=iso(window.end))


def _change(change: Change, visits: dict[VisitId, Visit]) -> ChangeOut:
    visit = visits[change.visit_id]
    moved = None
    if change.old_arrival and change.new_arrival:
        moved = whole_minutes(elapsed(change.old_arrival, change.new_arrival))
    return ChangeOut(
        visit_id=change.visit_id,
        customer=visit.customer,
        phone=visit.phone,
        old_technician=change.old_technician,
        new_technician=change.new_technician,
        old_arrival=_iso_or_none(change.old_arrival),
        new_arrival=_iso_or_none(change.new_arrival),
        moved_min=moved,
        notify=change.notify,
        reason=change.reason,
        old_date=change.old_day.date.isoformat() if change.old_day else None,
        new_date=change.new_day.date.isoformat() if change.new_day else None,
        old_plan_id=change.old_day.plan_id if change.old_day else None,
        new_plan_id=change.new_day.plan_id if change.new_day else None,
        old_window=_window(change.old_window),
        new_window=_window(change.new_window),
    )


def read_plan(document: PlanOut) -> Plan:
    """The domain ``Plan`` of a stored plan document (``plan_document`` undone)."""
    return Plan(
        routes=tuple(_read_route(route) for route in document.routes),
        unassigned=tuple(
            Unassigned(
                VisitId(item.visit_id),
                UnassignedCode(item.code),
                item.reason,
                tuple(TechnicianId(t) for t in item.candidates),
                part=item.part,
                part_available=_moment(item.part_available),
                moved_to=DayRef(date.fromisoformat(item.moved_to.date), item.moved_to.plan_id)
                if item.moved_to
                else None,
            )
            for item in document.unassigned
        ),
        solve_s=document.kpis.solve_s,
        at=datetime.fromisoformat(document.at) if document.at else None,
        without_route=tuple(
            WithoutRoute(TechnicianId(item.technician_id), item.reason)
            for item in document.technicians_without_route
        ),
    )


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _read_route(route: RouteOut) -> Route:
    return Route(
        technician_id=TechnicianId(route.technician_id),
        start_time=datetime.fromisoformat(route.start_time),
        end_time=datetime.fromisoformat(route.end_time),
        stops=tuple(_read_stop(stop) for stop in route.stops),
        breaks=tuple(
            BreakSlot(datetime.fromisoformat(b.start), datetime.fromisoformat(b.end))
            for b in route.breaks
        ),
        distance_km=route.distance_km,
        travel=minutes_to_duration(route.travel_min),
        service=minutes_to_duration(route.service_min),
        wait=minutes_to_duration(route.wait_min),
        geometry=tuple(
            LatLon(lat, lon) for lat, lon in polyline.decode(route.geometry, POLYLINE_PRECISION)
        )
        if route.geometry
        else None,
        depot_stops=tuple(_read_depot_stop(call, route) for call in route.depot_stops),
    )


def _read_depot_stop(call: DepotStopOut, route: RouteOut) -> DepotStop:
    ids = [stop.visit_id for stop in route.stops]
    before = ids.index(call.before_visit_id) if call.before_visit_id in ids else len(ids)
    return DepotStop(
        depot_id=DepotId(call.depot_id),
        before=before,
        arrival=datetime.fromisoformat(call.arrival),
        departure=datetime.fromisoformat(call.departure),
        travel=minutes_to_duration(call.travel_min),
        distance_km=call.distance_km,
        taken=tuple(PartQuantity(item.part, item.quantity) for item in call.parts),
    )


def _read_stop(stop: StopOut) -> Stop:
    promised = stop.promised_window
    return Stop(
        visit_id=VisitId(stop.visit_id),
        arrival=datetime.fromisoformat(stop.arrival),
        service_start=datetime.fromisoformat(stop.service_start),
        departure=datetime.fromisoformat(stop.departure),
        travel=minutes_to_duration(stop.travel_min),
        distance_km=stop.distance_km,
        early=minutes_to_duration(stop.early_min),
        late=minutes_to_duration(stop.late_min),
        wait=minutes_to_duration(stop.wait_min),
        status=StopStatus(stop.status),
        actual_arrival=_moment(stop.actual_arrival),
        actual_start=_moment(stop.actual_start),
        actual_departure=_moment(stop.actual_departure),
        promised=TimeWindow(
            datetime.fromisoformat(promised.start), datetime.fromisoformat(promised.end)
        )
        if promised
        else None,
    )
