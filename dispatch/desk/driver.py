"""The driver's view of a plan: one technician's stops in order, with ETAs, promised windows,
customers' phones and where to go; made from a stored plan version and its day."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dispatch.contract.schema import DriverRouteOut, DriverStopOut
from dispatch.errors import NotFoundError

__all__ = ["driver_route"]


def _location(visit: Mapping[str, Any], problem: Mapping[str, Any]) -> dict[str, Any] | None:
    if visit.get("location"):
        location: dict[str, Any] = visit["location"]
        return location
    index = visit.get("location_index")
    travel = problem.get("travel") or {}
    locations = travel.get("locations") or []
    if index is not None and index < len(locations) and locations[index]:
        found: dict[str, Any] = locations[index]
        return found
    return None


def driver_route(
    plan: Mapping[str, Any], problem: Mapping[str, Any], technician_id: str
) -> DriverRouteOut:
    """``technician_id``'s route in ``plan`` (a stored plan version) of ``problem`` (its day).

    A technician of the day with no work gets an empty route; an unknown one is
    ``NotFoundError``.
    """
    technicians = {t["id"]: t for t in problem["technicians"]}
    if technician_id not in technicians:
        raise NotFoundError(f"no technician '{technician_id}' in plan {plan['plan_id']}")
    visits = {v["id"]: v for v in problem["visits"]}
    route = next((r for r in plan["routes"] if r["technician_id"] == technician_id), None)
    stops = []
    for sequence, stop in enumerate(route["stops"] if route else [], start=1):
        visit = visits.get(stop["visit_id"], {})
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
                location=_location(visit, problem),
                kind=stop["kind"],
                duration_min=float(visit.get("duration_min", 0)),
                notes=str(visit.get("notes", "")),
                status=stop.get("status", "planned"),
            )
        )
    return DriverRouteOut(
        plan_id=plan["plan_id"],
        version=plan["version"],
        date=plan["date"],
        timezone=plan["timezone"],
        technician_id=technician_id,
        technician_name=technicians[technician_id].get("name", ""),
        start_time=route["start_time"] if route else None,
        end_time=route["end_time"] if route else None,
        distance_km=route["distance_km"] if route else 0.0,
        stops=stops,
        breaks=route["breaks"] if route else [],
    )
