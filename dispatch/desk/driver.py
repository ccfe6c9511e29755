"""The driver's view of a plan: one technician's stops in order, with ETAs, promised windows,
customers' phones and where to go, and their own route's road line when the plan has one; made
from a stored plan version and its day."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dispatch.contract.schema import DriverRouteOut, DriverStopOut, ProblemIn, VisitIn
from dispatch.contract.sites import locate
from dispatch.errors import NotFoundError

__all__ = ["driver_route"]


def driver_route(
    plan: Mapping[str, Any], problem: Mapping[str, Any], technician_id: str
) -> DriverRouteOut:
    """``technician_id``'s route in ``plan`` (a stored plan version) of ``problem`` (its day).

    A technician of the day with no work gets an empty route; an unknown one is
    ``NotFoundError``.
    """
    # A stored day: read with lenient types, as parse_problem(stored=True) reads it.
    day = ProblemIn.model_validate(problem, strict=False)
    technicians = {t.id: t for t in day.technicians}
    if technician_id not in technicians:
        raise NotFoundError(f"no technician '{technician_id}' in plan {plan['plan_id']}")
    visits: dict[str, VisitIn] = {v.id: v for v in day.visits}
    route = next((r for r in plan["routes"] if r["technician_id"] == technician_id), None)
    stops = []
    for sequence, stop in enumerate(route["stops"] if route else [], start=1):
        visit = visits.get(stop["visit_id"])
        stops.append(
            DriverStopOut(
                sequence=sequence,
                visit_id=stop["visit_id"],
                eta=stop["arrival"],
                service_start=stop["service_start"],
                departure=stop["departure"],
                promised_window=stop.get("promised_window"),
                appointment=stop.get("appointment"),
                customer=stop["customer"],
                phone=stop["phone"],
                address=stop["address"],
                location=None
                if visit is None
                else locate(visit.location, visit.location_index, day.travel),
                kind=stop["kind"],
                duration_min=0.0 if visit is None else visit.duration_min,
                notes="" if visit is None else visit.notes,
                status=stop.get("status", "planned"),
            )
        )
    return DriverRouteOut(
        plan_id=plan["plan_id"],
        version=plan["version"],
        date=plan["date"],
        timezone=plan["timezone"],
        technician_id=technician_id,
        technician_name=technicians[technician_id].name,
        start_time=route["start_time"] if route else None,
        end_time=route["end_time"] if route else None,
        distance_km=route["distance_km"] if route else 0.0,
        stops=stops,
        breaks=route["breaks"] if route else [],
        geometry=route.get("geometry") if route else None,
    )
