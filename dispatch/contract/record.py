"""The full-precision record of a plan, stored beside its document so a re-plan continues it.

The contract's document (``dispatch.contract.serialize.plan_document``) rounds what people
read: legs and waits to the minute, distances to 0.1 km. A re-plan continues the plan as it
was planned, so the store keeps this record too: every time as an ISO timestamp with its
seconds, every duration in seconds, every distance in km unrounded. ``read_record`` gives back
the ``Plan`` that ``plan_record`` was given, field for field, except what a re-plan works out
again (its ``changes`` and ``kpis``).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from dispatch.errors import StoredDataError
from dispatch.model import (
    BreakSlot,
    DayRef,
    DepotId,
    DepotStop,
    Hold,
    LatLon,
    PartQuantity,
    Plan,
    Route,
    Stop,
    StopStatus,
    TechnicianId,
    TimeWindow,
    Unassigned,
    UnassignedCode,
    VisitId,
    WithoutRoute,
)

__all__ = ["RECORD_FORMAT", "plan_record", "read_record"]

#: Written into every record; a reader meeting another format refuses it rather than guess.
#: 2: a version keeps its holds (``Plan.holds``, with ``since``), which a reader of format 1
#: ignored and wrote away (a rollback re-planned a held technician inside their delay).
RECORD_FORMAT = 2
#: The formats this release reads: 1 is 2 without holds (or with them, written before the
#: format said so).
_READABLE = frozenset({1, RECORD_FORMAT})


def plan_record(plan: Plan) -> dict[str, Any]:
    """``plan`` as plain JSON data with nothing rounded."""
    return {
        "format": RECORD_FORMAT,
        "routes": [_route(route) for route in plan.routes],
        "unassigned": [_unassigned(item) for item in plan.unassigned],
        "solve_s": plan.solve_s,
        "objective": plan.objective,
        "at": _moment(plan.at),
        "without_route": [
            {"technician_id": item.technician_id, "reason": item.reason}
            for item in plan.without_route
        ],
        "holds": [
            {
                "technician_id": hold.technician_id,
                "until": _moment(hold.until),
                "since": _moment(hold.since),
            }
            for hold in plan.holds
        ],
    }


def read_record(record: dict[str, Any]) -> Plan:
    """The ``Plan`` a record was written from (``plan_record`` undone).

    Raises
    ------
    StoredDataError
        A record of a format this release does not read (a newer fieldroute wrote it).
    """
    if record.get("format") not in _READABLE:
        raise StoredDataError(
            f"a plan record of format {record.get('format')!r} is stored, which this fieldroute "
            f"(format {RECORD_FORMAT}) cannot read: a newer release wrote it; run that release"
        )
    return Plan(
        routes=tuple(_read_route(route) for route in record["routes"]),
        unassigned=tuple(
            Unassigned(
                VisitId(item["visit_id"]),
                UnassignedCode(item["code"]),
                item["reason"],
                tuple(TechnicianId(t) for t in item["candidates"]),
                part=item.get("part"),
                part_available=_read_moment(item.get("part_available")),
                moved_to=_read_day(item.get("moved_to")),
            )
            for item in record["unassigned"]
        ),
        solve_s=record["solve_s"],
        objective=record["objective"],
        at=_read_moment(record["at"]),
        without_route=tuple(  # a record written before they were kept has none
            WithoutRoute(TechnicianId(item["technician_id"]), item["reason"])
            for item in record.get("without_route", ())
        ),
        holds=tuple(  # a record written before they were kept has none
            Hold(
                TechnicianId(item["technician_id"]),
                datetime.fromisoformat(item["until"]),
                # Before ``since`` was kept: the version's own time.
                datetime.fromisoformat(item.get("since") or record["at"]),
            )
            for item in record.get("holds", ())
        ),
    )


def _unassigned(item: Unassigned) -> dict[str, Any]:
    found: dict[str, Any] = {
        "visit_id": item.visit_id,
        "code": item.code.value,
        "reason": item.reason,
        "candidates": list(item.candidates),
    }
    if item.part is not None:  # spare parts only: a record without parts reads as before
        found["part"] = item.part
        found["part_available"] = _moment(item.part_available)
    if item.moved_to is not None:  # a day of a week only: a record without moves reads as before
        found["moved_to"] = [item.moved_to.date.isoformat(), item.moved_to.plan_id]
    return found


def _read_day(day: list[str] | None) -> DayRef | None:
    return None if day is None else DayRef(date.fromisoformat(day[0]), day[1])


def _moment(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _read_moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text is not None else None


def _seconds(duration: timedelta) -> float:
    return duration.total_seconds()


def _route(route: Route) -> dict[str, Any]:
    found = _route_fields(route)
    if route.depot_stops:  # spare parts only: a record without parts reads as before
        found["depot_stops"] = [
            {
                "depot_id": call.depot_id,
                "before": call.before,
                "arrival": call.arrival.isoformat(),
                "departure": call.departure.isoformat(),
                "travel_s": _seconds(call.travel),
                "distance_km": call.distance_km,
                "taken": [[item.part, item.quantity] for item in call.taken],
            }
            for call in route.depot_stops
        ]
    return found


def _route_fields(route: Route) -> dict[str, Any]:
    return {
        "technician_id": route.technician_id,
        "start_time": route.start_time.isoformat(),
        "end_time": route.end_time.isoformat(),
        "stops": [_stop(stop) for stop in route.stops],
        "breaks": [[b.start.isoformat(), b.end.isoformat()] for b in route.breaks],
        "distance_km": route.distance_km,
        "travel_s": _seconds(route.travel),
        "service_s": _seconds(route.service),
        "wait_s": _seconds(route.wait),
        "geometry": None
        if route.geometry is None
        else [[point.lat, point.lon] for point in route.geometry],
    }


def _stop(stop: Stop) -> dict[str, Any]:
    return {
        "visit_id": stop.visit_id,
        "arrival": stop.arrival.isoformat(),
        "service_start": stop.service_start.isoformat(),
        "departure": stop.departure.isoformat(),
        "travel_s": _seconds(stop.travel),
        "distance_km": stop.distance_km,
        "early_s": _seconds(stop.early),
        "late_s": _seconds(stop.late),
        "wait_s": _seconds(stop.wait),
        "status": stop.status.value,
        "actual_arrival": _moment(stop.actual_arrival),
        "actual_start": _moment(stop.actual_start),
        "actual_departure": _moment(stop.actual_departure),
        "promised": [stop.promised.start.isoformat(), stop.promised.end.isoformat()]
        if stop.promised
        else None,
    }


def _read_route(route: dict[str, Any]) -> Route:
    return Route(
        technician_id=TechnicianId(route["technician_id"]),
        start_time=datetime.fromisoformat(route["start_time"]),
        end_time=datetime.fromisoformat(route["end_time"]),
        stops=tuple(_read_stop(stop) for stop in route["stops"]),
        breaks=tuple(
            BreakSlot(datetime.fromisoformat(start), datetime.fromisoformat(end))
            for start, end in route["breaks"]
        ),
        distance_km=route["distance_km"],
        travel=timedelta(seconds=route["travel_s"]),
        service=timedelta(seconds=route["service_s"]),
        wait=timedelta(seconds=route["wait_s"]),
        geometry=None
        if route.get("geometry") is None
        else tuple(LatLon(lat, lon) for lat, lon in route["geometry"]),
        depot_stops=tuple(
            DepotStop(
                depot_id=DepotId(call["depot_id"]),
                before=call["before"],
                arrival=datetime.fromisoformat(call["arrival"]),
                departure=datetime.fromisoformat(call["departure"]),
                travel=timedelta(seconds=call["travel_s"]),
                distance_km=call["distance_km"],
                taken=tuple(PartQuantity(part, quantity) for part, quantity in call["taken"]),
            )
            for call in route.get("depot_stops", ())
        ),
    )


def _read_stop(stop: dict[str, Any]) -> Stop:
    promised = stop["promised"]
    return Stop(
        visit_id=VisitId(stop["visit_id"]),
        arrival=datetime.fromisoformat(stop["arrival"]),
        service_start=datetime.fromisoformat(stop["service_start"]),
        departure=datetime.fromisoformat(stop["departure"]),
        travel=timedelta(seconds=stop["travel_s"]),
        distance_km=stop["distance_km"],
        early=timedelta(seconds=stop["early_s"]),
        late=timedelta(seconds=stop["late_s"]),
        wait=timedelta(seconds=stop["wait_s"]),
        status=StopStatus(stop["status"]),
        actual_arrival=_read_moment(stop["actual_arrival"]),
        actual_start=_read_moment(stop["actual_start"]),
        actual_departure=_read_moment(stop["actual_departure"]),
        promised=TimeWindow(
            datetime.fromisoformat(promised[0]), datetime.fromisoformat(promised[1])
        )
        if promised
        else None,
    )
