"""The driver's view of a plan: one technician's stops in order, with ETAs, promised windows,
customers' phones and where to go, how far each stop has got, and their own route's road line
when the plan has one; made from a stored plan version and its day.

On a day with spare parts, also what to load before leaving (the pick list), each depot call
in its place (which store, where, when it is open, what to take) and the parts of each visit:
in the van on arrival, or taken at the call made for it just before.

And what a driver may report from that view (``foreign_events``): progress at the visits of
their own route (``arrived``, ``started``, ``completed``/``departed``, ``not_completed``, and
``retracted`` to take back a tap at the wrong visit) and their own delay. Whether a report
makes sense (times in order, a visit not already done) is for ``dispatch.replanning.events``
to say, as for the desk's events: this module only says whose route an event is about.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from dispatch.contract.schema import (
    CancelledIn,
    DelayIn,
    DepotIn,
    DriverDepotStopOut,
    DriverPartOut,
    DriverRouteOut,
    DriverStopOut,
    EventBatchIn,
    MovedIn,
    NewVisitIn,
    NotCompletedIn,
    PartOut,
    ProblemIn,
    RetractedIn,
    VisitClockIn,
    VisitIn,
)
from dispatch.contract.sites import locate
from dispatch.errors import FieldError, InputError, NotFoundError
from dispatch.model import UnassignedCode
from dispatch.units import format_clock

__all__ = ["DRIVER_EVENTS", "day_not_begun", "driver_route", "foreign_events"]

#: The event types a driver reports from the route.
DRIVER_EVENTS = (
    "arrived",
    "started",
    "completed",
    "departed",
    "not_completed",
    "retracted",
    "delay",
)


def driver_route(
    plan: Mapping[str, Any], problem: Mapping[str, Any], technician_id: str
) -> DriverRouteOut:
    """``technician_id``'s route in ``plan`` (a stored plan version) of ``problem`` (its day).

    A technician of the day with no work gets an empty route, with the plan's reason when
    they could get no route at all (``technicians_without_route``); an unknown one is
    ``NotFoundError``. A stop whose visit could not be completed (listed in ``unassigned``
    with code ``not_completed``) has status ``not_completed``. A call at a depot the day does
    not list (a plan read from a file, given with another day) is ``InputError`` naming it.
    """
    # A stored day: read with lenient types, as parse_problem(stored=True) reads it.
    day = ProblemIn.model_validate(problem, strict=False)
    technicians = {t.id: t for t in day.technicians}
    if technician_id not in technicians:
        raise NotFoundError(f"no technician '{technician_id}' in plan {plan['plan_id']}")
    visits: dict[str, VisitIn] = {v.id: v for v in day.visits}
    not_completed = {
        item["visit_id"]
        for item in plan["unassigned"]
        if item["code"] == UnassignedCode.NOT_COMPLETED
    }
    number, route = next(
        ((i, r) for i, r in enumerate(plan["routes"]) if r["technician_id"] == technician_id),
        (0, None),
    )
    calls = _depot_stops(route, f"routes[{number}]", day) if route else []
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
                status="not_completed"
                if stop["visit_id"] in not_completed
                else stop.get("status", "planned"),
                actual_arrival=stop.get("actual_arrival"),
                actual_start=stop.get("actual_start"),
                actual_departure=stop.get("actual_departure"),
                parts=_visit_parts(stop, calls),
            )
        )
    return DriverRouteOut(
        plan_id=plan["plan_id"],
        version=plan["version"],
        date=plan["date"],
        timezone=plan["timezone"],
        technician_id=technician_id,
        technician_name=technicians[technician_id].name,
        # A batch at 24:00 reads 24:00, not 00:00: reports must be at or after it.
        at=format_clock(datetime.fromisoformat(plan["at"]), date.fromisoformat(plan["date"]))
        if plan.get("at")
        else None,
        start_time=route["start_time"] if route else None,
        end_time=route["end_time"] if route else None,
        distance_km=route["distance_km"] if route else 0.0,
        stops=stops,
        breaks=route["breaks"] if route else [],
        geometry=route.get("geometry") if route else None,
        pick_list=[call for call in calls if call.before_leaving],
        depot_stops=calls,
        no_route=next(
            (
                item["reason"]
                # A version stored before plans listed them lists none.
                for item in plan.get("technicians_without_route", ())
                if item["technician_id"] == technician_id
            ),
            None,
        ),
    )


def _depot_stops(route: Mapping[str, Any], path: str, day: ProblemIn) -> list[DriverDepotStopOut]:
    """The depot calls of ``route`` (at ``path`` in its plan) in route order, each with its
    store's name, place and hours; those of the route's ``pick_list`` (as the plan document
    decided it) are loaded before leaving (``before_leaving``).

    Raises
    ------
    InputError
        A call at a depot ``day`` does not list (a plan read from a file, given with another
        day: a stored plan calls only at its own day's, the checker holds it to them).
    """
    depots: dict[str, DepotIn] = {depot.id: depot for depot in day.depots}
    loaded = {(pick["depot_id"], pick["arrival"]) for pick in route.get("pick_list", ())}
    calls = []
    for index, call in enumerate(route.get("depot_stops", [])):
        depot = depots.get(call["depot_id"])
        if depot is None:
            message = f"a call at depot {call['depot_id']!r}, which the plan's day does not list"
            raise InputError(
                [FieldError(f"{path}.depot_stops[{index}].depot_id", message, call["depot_id"])],
                what="plan",
            )
        location = locate(depot.location, depot.location_index, day.travel)
        calls.append(
            DriverDepotStopOut(
                depot_id=depot.id,
                name=depot.name,
                address=(location.address or "") if location is not None else "",
                location=location,
                opening=depot.opening,
                before_visit_id=call["before_visit_id"],
                before_leaving=(call["depot_id"], call["arrival"]) in loaded,
                arrival=call["arrival"],
                departure=call["departure"],
                parts=[PartOut.model_validate(item) for item in call["parts"]],
            )
        )
    return calls


def _visit_parts(
    stop: Mapping[str, Any], calls: Sequence[DriverDepotStopOut]
) -> list[DriverPartOut]:
    """The parts ``stop``'s visit uses, each from the calls made for it on the way (just before
    it, not part of the pick list) as far as each took it, one line per depot (two calls, one
    unit each, were shown as both from the last), the rest from the van."""
    taken: dict[str, Counter[str]] = {}  # part -> depot -> units
    for call in calls:
        if call.before_visit_id == stop["visit_id"] and not call.before_leaving:
            for item in call.parts:
                taken.setdefault(item.part, Counter())[call.depot_id] += item.quantity
    parts = []
    for item in stop.get("parts", []):
        left = item["quantity"]
        for depot_id, units in taken.get(item["part"], Counter()).items():
            at_depot = min(left, units)
            if at_depot:
                parts.append(
                    DriverPartOut(
                        part=item["part"], quantity=at_depot, source="depot", depot_id=depot_id
                    )
                )
                left -= at_depot
        if left:
            parts.append(DriverPartOut(part=item["part"], quantity=left, source="van"))
    return parts


def foreign_events(
    plan: Mapping[str, Any],
    technician_id: str,
    batch: EventBatchIn,
    returned: Collection[str] = (),
) -> list[FieldError]:
    """The events of ``batch`` that are not ``technician_id``'s to report in ``plan`` (a stored
    plan version, the latest): a report on a visit that is not on their route, another
    technician's delay, or an event only the desk posts. ``returned``: visits left out after
    the technician went past them that the batch reports on (``dispatch.desk.replan``'s
    ``returned_to``): theirs to report.

    Returns
    -------
    One ``FieldError`` per such event, naming it by index and its visit or technician; empty
    when the whole batch is the driver's own.
    """
    route = next((r for r in plan["routes"] if r["technician_id"] == technician_id), None)
    own = {stop["visit_id"] for stop in route["stops"]} if route else set()
    own |= set(returned)
    refused: list[FieldError] = []
    for index, event in enumerate(batch.events):
        path = f"events[{index}]"
        if isinstance(event, VisitClockIn | NotCompletedIn | RetractedIn):
            if event.visit_id not in own:
                refused.append(
                    FieldError(
                        path,
                        f"{event.visit_id} is not on {technician_id}'s route in version "
                        f"{plan['version']}; a driver reports only on their own stops",
                        event.visit_id,
                    )
                )
        elif isinstance(event, DelayIn):
            if event.technician_id != technician_id:
                refused.append(
                    FieldError(
                        path,
                        f"a driver reports only their own delay ({technician_id}), not "
                        f"{event.technician_id}'s",
                        event.technician_id,
                    )
                )
        else:
            if isinstance(event, NewVisitIn):
                entity = event.visit.id
            elif isinstance(event, CancelledIn | MovedIn):
                entity = event.visit_id
            else:  # a technician's event, or a part's at a van or a depot
                entity = str(
                    getattr(event, "technician_id", None) or getattr(event, "depot_id", "")
                )
            refused.append(
                FieldError(
                    path,
                    f"'{event.type}' is the desk's to post; a driver reports "
                    f"{', '.join(DRIVER_EVENTS)}",
                    entity,
                )
            )
    return refused


def day_not_begun(plan: Mapping[str, Any], now: datetime) -> FieldError | None:
    """Why a driver may not report on ``plan`` (a stored plan version) yet, at ``now`` (aware):
    its day has not begun where it is planned. Links are made the day before; one used then
    timed a batch of tomorrow at 24:00, and every later batch of the desk and the other drivers
    was refused as before the last re-plan, and no slot was offered, for good."""
    here = now.astimezone(ZoneInfo(str(plan["timezone"])))
    if date.fromisoformat(str(plan["date"])) <= here.date():
        return None
    return FieldError(
        "at",
        f"the route's day {plan['date']} has not begun (it is {here:%Y-%m-%d %H:%M} in "
        f"{plan['timezone']}): a driver reports on it from that day",
    )
