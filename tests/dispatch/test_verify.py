"""The independent checker: a hand-made valid plan passes, and each broken copy is caught."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import Any

import pytest
from geopy.distance import geodesic

from dispatch.verify import LocationRef, check_plan, location_ref, matrix_lookup
from tests.conftest import line_day

T = "2026-11-23T{}:00+08:00"


def problem() -> dict[str, Any]:
    day = line_day()
    day["technicians"][0]["breaks"] = [{"start": "12:00", "end": "14:00", "duration_min": 30}]
    day["technicians"][0]["capacity"] = {"weight_kg": 100}
    day["visits"][0].update(
        appointment="09:00", required_skills=["water_heater"], demand={"weight_kg": 60}
    )
    day["visits"][1].update(window={"start": "10:00", "end": "12:00"})
    day["visits"][2].update(required_skills=["gas"])
    return day


def stop(visit: str, arrival: str, start: str, leave: str, **extra: Any) -> dict[str, Any]:
    return {
        "visit_id": visit,
        "arrival": T.format(arrival),
        "service_start": T.format(start),
        "departure": T.format(leave),
        "travel_min": 10,
        "distance_km": 5.0,
        "early_min": 0,
        "late_min": 0,
        **extra,
    }


def plan() -> dict[str, Any]:
    return {
        "plan_id": "pl_1",
        "version": 1,
        "status": "partial",
        "routes": [
            {
                "technician_id": "T1",
                "start_time": T.format("08:40"),
                "end_time": T.format("12:30"),
                "distance_km": 20.0,
                "travel_min": 40,
                "stops": [
                    stop("V1", "08:50", "09:00", "09:30", early_min=10),
                    stop("V2", "10:00", "10:00", "10:30"),
                ],
                "breaks": [{"start": T.format("12:00"), "end": T.format("12:30")}],
            }
        ],
        "unassigned": [
            {"visit_id": "V3", "code": "no_skill", "reason": "no technician has skill 'gas'"}
        ],
        "kpis": {"visits": 3, "assigned": 2, "distance_km": 20.0, "travel_min": 40},
    }


def codes(day: dict[str, Any], result: dict[str, Any]) -> set[tuple[str, str]]:
    report = check_plan(day, result, matrix_lookup(day))
    return {(v.code, v.subject) for v in report.violations}


def test_the_hand_made_plan_is_valid_and_in_band() -> None:
    report = check_plan(problem(), plan(), matrix_lookup(problem()))
    assert report.violations == ()
    assert report.stops == 2 and report.appointment_stops == 1 and report.early_band_rate == 1.0


def first_route(p: dict[str, Any]) -> dict[str, Any]:
    route: dict[str, Any] = p["routes"][0]
    return route


def on_arrival(day: dict[str, Any]) -> dict[str, Any]:
    day["policy"]["appointment_start"] = "on_arrival"
    return day


def served_on_arrival(arrival: str = "08:50", start: str | None = None) -> dict[str, Any]:
    """``plan()`` with V1 (appointment 09:00, 30 min) reached at ``arrival`` and started at
    ``start`` (on arrival when not given), the route out at 08:30."""
    served = plan()
    route = first_route(served)
    route["start_time"] = T.format("08:30")
    hours, minutes = (int(part) for part in (start or arrival).split(":"))
    leave = f"{hours + (minutes + 30) // 60:02d}:{(minutes + 30) % 60:02d}"
    early = 9 * 60 - (int(arrival[:2]) * 60 + int(arrival[3:]))
    route["stops"][0].update(
        arrival=T.format(arrival),
        service_start=T.format(start or arrival),
        departure=T.format(leave),
        early_min=max(0, early),
        late_min=max(0, -early),
    )
    return served


@pytest.mark.parametrize(
    ("rules", "taken"),
    [
        # A lunch and a rest that open together: matched in the order listed, the lunch took
        # the rest's break (12:00-12:10) and the one left (12:10-12:20) fitted only the lunch.
        (
            [("12:00", "12:20", 10), ("12:00", "12:10", 10)],
            [("12:00", "12:10"), ("12:10", "12:20")],
        ),
        # Same window, 10 and 11 minutes: the 10-minute rule took the 11-minute break.
        (
            [("12:00", "12:21", 10), ("12:00", "12:21", 11)],
            [("12:00", "12:11"), ("12:11", "12:21")],
        ),
    ],
)
def test_breaks_are_matched_to_the_rules_they_can_serve_whatever_their_order(
    rules: list[tuple[str, str, int]], taken: list[tuple[str, str]]
) -> None:
    day = problem()
    day["technicians"][0]["breaks"] = [
        {"start": start, "end": end, "duration_min": minutes} for start, end, minutes in rules
    ]
    result = plan()
    result["routes"][0]["breaks"] = [
        {"start": T.format(start), "end": T.format(end)} for start, end in taken
    ]
    result["routes"][0]["end_time"] = T.format("12:30")
    assert codes(day, result) == set()
    result["routes"][0]["breaks"][1]["end"] = T.format("12:15")  # one too short for either
    assert codes(day, result) == {("break", "T1")}


def test_an_appointment_served_on_arrival_in_its_band_is_valid_only_under_on_arrival() -> None:
    report = check_plan(on_arrival(problem()), served_on_arrival(), matrix_lookup(problem()))
    assert report.violations == ()
    assert report.appointment_stops == 1 and report.early_band_rate == 1.0
    # Under the default rule the work must start at 09:00; under on_arrival, held work may not.
    assert codes(problem(), served_on_arrival()) == {("window", "V1")}
    assert codes(on_arrival(problem()), plan()) == {("window", "V1")}


@pytest.mark.parametrize(
    ("arrival", "start", "found"),
    [
        ("08:56", None, {"outside the band 08:50-08:55"}),
        ("08:48", None, {"outside the band 08:50-08:55"}),
        ("08:50", "08:53", {"not on arrival at 08:50:00"}),
        ("09:02", None, {"outside the band 08:50-08:55", "after the appointment"}),
    ],
)
def test_on_arrival_refuses_work_outside_the_band_or_not_on_arrival(
    arrival: str, start: str | None, found: set[str]
) -> None:
    day = on_arrival(problem())
    report = check_plan(day, served_on_arrival(arrival, start), matrix_lookup(day))
    assert {v.subject for v in report.violations} == {"V1"}
    messages = [v.message for v in report.violations]
    assert {text for text in found if any(text in message for message in messages)} == found
    assert len(messages) == len(found), messages


BREAKAGES: list[tuple[str, Callable[[dict[str, Any], dict[str, Any]], None], tuple[str, str]]] = [
    (
        "late for the appointment",
        lambda d, p: first_route(p)["stops"][0].update(
            arrival=T.format("09:02"), early_min=0, late_min=2
        ),
        ("late", "V1"),
    ),
    (
        "service before the window",
        lambda d, p: first_route(p)["stops"][1].update(
            service_start=T.format("09:50"), arrival=T.format("09:50")
        ),
        ("window", "V2"),
    ),
    (
        "faster than the road",
        lambda d, p: first_route(p)["stops"][1].update(
            arrival=T.format("09:35"), service_start=T.format("10:00")
        ),
        ("travel", "V2"),
    ),
    (
        "break outside its window",
        lambda d, p: first_route(p).update(
            breaks=[{"start": T.format("11:00"), "end": T.format("11:30")}]
        ),
        ("break", "T1"),
    ),
    (
        "break over a visit",
        lambda d, p: (
            d["technicians"][0]["breaks"][0].update(start="09:00")
            or first_route(p).update(
                breaks=[{"start": T.format("09:10"), "end": T.format("09:40")}]
            )
        ),
        ("break", "V1"),
    ),
    ("break missing", lambda d, p: first_route(p).update(breaks=[]), ("break", "T1")),
    ("skill missing", lambda d, p: d["technicians"][0].update(skills=[]), ("skill", "V1")),
    ("crew too small", lambda d, p: d["visits"][1].update(crew_size=2), ("crew", "V2")),
    (
        "pinned elsewhere",
        lambda d, p: (
            d["technicians"].append(dict(d["technicians"][0], id="T2"))
            or d["visits"][0].update(technician="T2")
        ),
        ("pinned", "V1"),
    ),
    (
        "van overloaded",
        lambda d, p: d["visits"][1].update(demand={"weight_kg": 50}),
        ("capacity", "T1"),
    ),
    (
        "visit twice",
        lambda d, p: first_route(p)["stops"].append(stop("V1", "11:00", "11:00", "11:30")),
        ("coverage", "V1"),
    ),
    ("visit missing", lambda d, p: p.update(unassigned=[]), ("coverage", "V3")),
    (
        "unknown technician",
        lambda d, p: first_route(p).update(technician_id="T9"),
        ("coverage", "T9"),
    ),
    ("kpi off", lambda d, p: p["kpis"].update(assigned=3), ("kpi", "")),
    ("bad time", lambda d, p: first_route(p)["stops"][0].update(arrival="08:50"), ("format", "V1")),
    (
        "shift overrun",
        lambda d, p: d["technicians"][0]["shift"].update(end="12:00"),
        ("shift", "T1"),
    ),
    ("wrong early_min", lambda d, p: first_route(p)["stops"][0].update(early_min=3), ("kpi", "V1")),
    ("wrong route km", lambda d, p: first_route(p).update(distance_km=12.0), ("kpi", "T1")),
    (
        "urgent too late",
        lambda d, p: d["visits"][1].update(priority="urgent", reported_at="07:30"),
        ("late", "V2"),
    ),
    (
        "served before it was reported",  # it passed: only the urgent deadline was read
        lambda d, p: d["visits"][1].update(reported_at="10:20"),
        ("window", "V2"),
    ),
    ("reasonless", lambda d, p: p["unassigned"][0].update(reason=" "), ("unassigned", "V3")),
    (
        "feasible with one left out",
        lambda d, p: p.update(status="feasible"),
        ("coverage", "status"),
    ),
    (
        "partial serving nobody",
        lambda d, p: (
            p["unassigned"].extend(
                {"visit_id": s["visit_id"], "code": "cancelled", "reason": "cancelled"}
                for s in first_route(p)["stops"]
            )
            or first_route(p).update(stops=[])
        ),
        ("coverage", "status"),
    ),
]


@pytest.mark.parametrize(
    ("_name", "breakage", "expected"), BREAKAGES, ids=[b[0] for b in BREAKAGES]
)
def test_each_broken_rule_is_caught(
    _name: str,
    breakage: Callable[[dict[str, Any], dict[str, Any]], None],
    expected: tuple[str, str],
) -> None:
    day, result = copy.deepcopy(problem()), copy.deepcopy(plan())
    breakage(day, result)
    assert expected in codes(day, result)


@pytest.mark.parametrize(
    ("unavailable_from", "shift_end", "due"),
    [
        (None, "18:00", True),
        ("10:40", "18:00", False),  # sent home ill before lunch
        ("13:00", "18:00", False),  # gone in the lunch window, before it was over
        ("14:00", "18:00", True),  # the whole window was theirs
        (None, "12:20", False),  # the shift ends before a break could end: never planned
    ],
)
def test_a_break_binds_a_route_only_inside_the_technician_s_day(
    unavailable_from: str | None, shift_end: str, due: bool
) -> None:
    # The lunch rule is 12:00-14:00, 30 min; the route's break is taken away.
    day, result = problem(), plan()
    day["technicians"][0]["shift"]["end"] = shift_end
    first_route(result).update(breaks=[], end_time=T.format("11:00"))
    if unavailable_from is not None:
        day["technicians"][0]["unavailable_from"] = unavailable_from
    assert (("break", "T1") in codes(day, result)) is due


def haversine_lookup(speed_kmh: float) -> Callable[[LocationRef, LocationRef], tuple[float, float]]:
    def leg(a: LocationRef, b: LocationRef) -> tuple[float, float]:
        assert isinstance(a, tuple) and isinstance(b, tuple)
        lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
        h = (
            math.sin((lat2 - lat1) / 2) ** 2
            + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
        )
        km = 2 * 6371.0088 * math.asin(math.sqrt(h))
        return km / speed_kmh * 60, km

    return leg


@pytest.mark.parametrize(
    ("report", "early"),
    [
        ({}, False),  # the plan's own choice: before the shift
        ({"actual_arrival": T.format("08:42")}, True),  # reached sooner than 08:45+10 allows
        ({"actual_start": T.format("08:50")}, True),
        ({"actual_departure": T.format("09:10")}, True),  # left sooner than 08:45+10+30
        ({"actual_arrival": T.format("08:55")}, False),  # there from the shift's start
        ({"actual_departure": T.format("09:25")}, False),
    ],
)
def test_a_start_before_the_shift_the_first_stop_s_reports_force_is_not_the_plan_s(
    report: dict[str, str], early: bool
) -> None:
    # A technician reported at their first stop sooner than the shift (08:45) allows started
    # early: the route leaves when they did (a re-plan: V1 left at 09:02 a 27-minute drive
    # from base with 30 minutes of work, the route left at 08:05, stored as a broken rule).
    day, result = problem(), plan()
    day["technicians"][0]["shift"]["start"] = "08:45"
    first_route(result)["stops"][0].update(status="done" if report else "planned", **report)
    assert (("shift", "T1") in codes(day, result)) is not early


def test_coordinates_radius_is_checked_on_the_ellipsoid() -> None:
    day: dict[str, Any] = {
        "date": "2026-11-23",
        "timezone": "UTC",
        "policy": {"service_radius_km": 50},
        "technicians": [
            {
                "id": "T1",
                "start": {"lat": 0.0, "lon": 0.0},
                "shift": {"start": "06:00", "end": "20:00"},
            }
        ],
        "visits": [{"id": "V1", "location": {"lat": 0.0, "lon": 0.5}, "duration_min": 10}],
    }
    km = 0.5 * math.pi / 180 * 6371.0088  # 55.6 km along the equator
    route = {
        "technician_id": "T1",
        "start_time": "2026-11-23T07:00:00+00:00",
        "end_time": "2026-11-23T09:30:00+00:00",
        "distance_km": round(2 * km, 1),
        "travel_min": 134,
        "breaks": [],
        "stops": [
            {
                "visit_id": "V1",
                "arrival": "2026-11-23T08:07:00+00:00",
                "service_start": "2026-11-23T08:07:00+00:00",
                "departure": "2026-11-23T08:17:00+00:00",
                "early_min": 0,
                "late_min": 0,
            }
        ],
    }
    result = {
        "routes": [route],
        "unassigned": [],
        "kpis": {"visits": 1, "assigned": 1, "distance_km": round(2 * km, 1), "travel_min": 134},
    }
    report = check_plan(day, result, haversine_lookup(50))
    assert [(v.code, v.subject) for v in report.violations] == [("radius", "V1")]
    day["policy"]["service_radius_km"] = 60
    assert check_plan(day, result, haversine_lookup(50)).ok
    # Near the equator due north, the sphere reads 0.56 % long: a visit 9.998 km from the base
    # on the ellipsoid (as the engine and a GPS measure) read 10.05 km, beyond a 10 km radius,
    # and every slot booked there was refused. 10.002 km is beyond it.
    base = (1.30, 103.80)
    day["technicians"][0]["start"] = dict(zip(("lat", "lon"), base, strict=True))
    day["policy"]["service_radius_km"] = 10
    for km, beyond in ((9.998, False), (10.002, True)):
        site = geodesic(kilometers=km).destination(base, bearing=0)
        day["visits"][0]["location"] = {"lat": site.latitude, "lon": site.longitude}
        found = check_plan(day, result, haversine_lookup(50)).violations
        radius = [(v.code, v.subject) for v in found if v.code == "radius"]
        assert radius == ([("radius", "V1")] if beyond else [])


def test_location_refs_prefer_the_matrix_and_default_the_end_to_the_start() -> None:
    tech = {"id": "T", "shift": {}, "start": {"lat": 1.0, "lon": 2.0}}
    assert location_ref(tech) == (1.0, 2.0) and location_ref(tech, end=True) == (1.0, 2.0)
    assert location_ref(dict(tech, end={"lat": 3.0, "lon": 4.0}), end=True) == (3.0, 4.0)
    assert location_ref(dict(tech, location_index=5), end=True) == 5
    assert location_ref({"id": "V", "location_index": 2, "location": {"lat": 0, "lon": 0}}) == 2
