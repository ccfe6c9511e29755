"""Who may serve a visit (``dispatch.planning.eligibility.screen_visits``), and why nobody can.

Checks run in a dispatcher's order: skill, crew size, radius, time, van room. The line day
(``tests.conftest.line_day``): sites 0..3 on a line 10 min and 5 km apart, T1 at site 0 from
08:00 (28 800 s) to 18:00 (64 800 s), 30-min visits V1..V3 at sites 1..3. Time bounds are given
by hand in solver seconds after midnight, as ``compile`` would give them.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from geopy.distance import geodesic
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.contract.serialize import plan_document
from dispatch.contract.validate import parse_problem
from dispatch.model import TechnicianId, UnassignedCode
from dispatch.planning import SolveParams, eligibility, plan_day
from dispatch.planning.compile import build_sites
from dispatch.planning.eligibility import (
    RADIUS_RECHECK_SHARE,
    Screening,
    TimeBounds,
    screen_visits,
)
from dispatch.travel import provider_for
from dispatch.verify import check_plan, matrix_lookup
from tests.conftest import LINE_KM, LINE_MINUTES, line_day

ALL_DAY = TimeBounds(0, 86_400, 1_800)
#: The sphere of the haversine formula and the WGS84 ellipsoid: along the equator the
#: ellipsoid's distance is ``A * dlon``; along a meridian near the equator ``A * (1 - E2) * dlat``.
SPHERE_KM = 6371.0088
A_KM = 6378.137
E2 = 0.00669437999014


def screen(day: dict[str, Any], bounds: list[TimeBounds] | None = None) -> list[Screening]:
    problem = parse_problem(day)
    table = build_sites(problem, provider_for(problem))
    return screen_visits(
        problem,
        bounds or [ALL_DAY] * len(problem.visits),
        table.travel_s,
        table.distance_m,
        table.visit_row,
        table.start_row,
        table.end_row,
        table.base_row,
    )


#: When the plans these tests check were made.
NOON = datetime(2026, 11, 23, 12, tzinfo=UTC)


def tech(tech_id: str, **fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": tech_id,
        "skills": ["water_heater"],
        "location_index": 0,
        "shift": {"start": "08:00", "end": "18:00"},
    }
    row.update(fields)
    return row


def ids(*names: str) -> tuple[TechnicianId, ...]:
    return tuple(TechnicianId(name) for name in names)


def left_out(screening: Screening) -> tuple[UnassignedCode, str, tuple[TechnicianId, ...]]:
    assert screening.allowed == ()
    assert screening.unassigned is not None
    return screening.unassigned.code, screening.unassigned.reason, screening.unassigned.candidates


def test_every_technician_who_passes_every_check_is_allowed() -> None:
    day = line_day(
        technicians=[
            tech("T1"),
            tech("T2", skills=["gas"]),
            tech("T3", skills=["gas", "water_heater"]),
        ]
    )
    day["visits"][0]["required_skills"] = ["water_heater"]
    day["visits"][1]["required_skills"] = ["gas", "water_heater"]
    first, second, third = screen(day)
    assert (first.allowed, first.unassigned) == ((0, 2), None)
    assert (second.allowed, second.unassigned) == ((2,), None)
    assert (third.allowed, third.unassigned) == ((0, 1, 2), None)


def test_a_missing_skill_is_named_and_nobody_is_a_candidate() -> None:
    day = line_day(technicians=[tech("T1"), tech("T2", skills=["gas"])])
    day["visits"][0]["required_skills"] = ["roof"]
    day["visits"][1]["required_skills"] = ["solar", "roof", "gas"]
    day["visits"][2]["required_skills"] = ["gas", "water_heater"]
    one, two, split = screen(day)
    assert left_out(one) == (
        UnassignedCode.NO_SKILL,
        "no technician has skill 'roof'",
        (),  # candidates are those eligible, as the contract's example has it: nobody
    )
    assert left_out(two) == (
        UnassignedCode.NO_SKILL,
        "no technician has skills 'roof', 'solar'",
        (),
    )
    # Each skill is held, but by different people.
    assert left_out(split) == (
        UnassignedCode.NO_SKILL,
        "no single technician has all of 'gas', 'water_heater'",
        (),
    )


def test_a_crew_too_small_is_named_among_the_qualified_only() -> None:
    day = line_day(technicians=[tech("T1"), tech("D1", skills=["delivery"], crew_size=3)])
    day["visits"][0].update(required_skills=["water_heater"], crew_size=2)
    day["visits"][1].update(crew_size=3)
    (small, crew, _) = screen(day)
    # D1 is a crew of 3 but has no water_heater skill: only T1 was qualified.
    assert left_out(small) == (
        UnassignedCode.CREW_SIZE,
        "needs a crew of 2; the qualified technicians work in crews of at most 1",
        (),
    )
    assert crew.allowed == (1,)


def test_the_radius_is_road_km_of_an_explicit_matrix_and_names_the_nearest() -> None:
    day = line_day(
        technicians=[
            tech("T1", service_radius_km=12),
            tech("T2", location_index=1, service_radius_km=5),
        ]
    )
    day["visits"] = [
        {"id": "V1", "location_index": 3, "duration_min": 30},  # 15 km from T1, 10 from T2
        {"id": "V2", "location_index": 2, "duration_min": 30},  # 10 km and 5 km
    ]
    far, near = screen(day)
    assert left_out(far) == (
        UnassignedCode.RADIUS,
        "10 km from every eligible base (radius 5 km; nearest T2)",
        ids("T1", "T2"),
    )
    # 5 km from T2 is exactly its radius: inside.
    assert near.allowed == (0, 1)


def test_the_radius_is_the_straight_line_between_the_matrix_rows_coordinates() -> None:
    # The matrix's locations carry where each row is, the technician and the visit only their
    # rows: the radius (25 km) was read on the matrix's 29.5 road km and V1, 20.4 km away in
    # a straight line, left out as "30 km from every eligible base". The checker agreed.
    day: dict[str, Any] = {
        "date": "2026-11-23",
        "timezone": "Europe/Berlin",
        "travel": {
            "locations": [{"lat": 52.50, "lon": 13.40}, {"lat": 52.50, "lon": 13.70}],
            "durations_min": [[0, 35], [35, 0]],
            "distances_km": [[0, 29.5], [29.5, 0]],
        },
        "technicians": [tech("T1", service_radius_km=25)],
        "visits": [{"id": "V1", "location_index": 1, "duration_min": 30}],
    }
    [inside] = screen(day)
    assert inside.allowed == (0,)
    day["technicians"][0]["service_radius_km"] = 20
    [beyond] = screen(day)
    assert left_out(beyond)[:2] == (
        UnassignedCode.RADIUS,
        "20.4 km from every eligible base (radius 20 km; nearest T1)",
    )
    # The checker reads the radius so too: the plan at 25 km passes, at 20 km it breaks it.
    day["technicians"][0]["service_radius_km"] = 25
    problem = parse_problem(day)
    plan = plan_day(problem, params=SolveParams(time_limit_s=1, metaheuristic="greedy_descent"))
    document = plan_document(problem, plan, plan_id="pl_r", version=1, created_at=NOON)
    result = document.model_dump(mode="json")
    assert check_plan(day, result, matrix_lookup(day)).violations == ()
    day["technicians"][0]["service_radius_km"] = 20
    found = check_plan(day, result, matrix_lookup(day)).violations
    assert [(v.code, v.subject) for v in found] == [("radius", "V1")]


def test_the_policy_radius_applies_to_whoever_has_none() -> None:
    day = line_day(policy={"time_limit_s": 1, "service_radius_km": 14})
    (_, _, third) = screen(day)
    assert left_out(third) == (
        UnassignedCode.RADIUS,
        "15 km from every eligible base (radius 14 km; nearest T1)",
        ids("T1"),
    )
    day["policy"]["service_radius_km"] = 15
    assert [s.allowed for s in screen(day)] == [(0,), (0,), (0,)]


def test_the_radius_is_measured_from_the_base_not_from_where_the_day_restarts() -> None:
    # A re-plan restarts T1 at site 3 (a visit there); its base is still site 0, 15 km away.
    problem = parse_problem(line_day(technicians=[tech("T1", service_radius_km=12)]))
    travel_s = np.array(LINE_MINUTES, dtype=np.int64) * 60
    distance_m = (np.array(LINE_KM) * 1000).astype(np.int64)
    at_site_3 = np.array([3, 3, 3], dtype=np.int64)
    start, end, base = (np.array([row], dtype=np.int64) for row in (3, 0, 0))
    from_base = screen_visits(
        problem, [ALL_DAY] * 3, travel_s, distance_m, at_site_3, start, end, base
    )
    assert [s.unassigned.code if s.unassigned else None for s in from_base] == [
        UnassignedCode.RADIUS
    ] * 3
    # Without a base the start is the base: 0 km away.
    from_start = screen_visits(problem, [ALL_DAY] * 3, travel_s, distance_m, at_site_3, start, end)
    assert [s.allowed for s in from_start] == [(0,), (0,), (0,)]


def geodesic_day(points: list[tuple[float, float]]) -> dict[str, Any]:
    return {
        "date": "2026-11-23",
        "timezone": "UTC",
        "policy": {"time_limit_s": 1, "service_radius_km": 100},
        "technicians": [
            {
                "id": "T1",
                "start": {"lat": 0.0, "lon": 0.0},
                "shift": {"start": "00:00", "end": "24:00"},
            }
        ],
        "visits": [
            {"id": f"V{i}", "location": {"lat": lat, "lon": lon}, "duration_min": 30}
            for i, (lat, lon) in enumerate(points, start=1)
        ],
    }


def test_the_radius_is_measured_on_the_ellipsoid() -> None:
    # East along the equator: 99.95 km on the sphere (inside), a * dlon = 100.06 km on WGS84.
    dlon = 99.95 / SPHERE_KM
    assert A_KM * dlon == pytest.approx(100.062, abs=1e-3)
    # North along the meridian: 100.05 km on the sphere (outside), 99.49 km on WGS84.
    dlat = 100.05 / SPHERE_KM
    assert A_KM * (1 - E2) * dlat == pytest.approx(99.491, abs=1e-3)
    clear = 98.5 / A_KM  # 98.5 km east: inside however measured
    east, north, well_inside = screen(
        geodesic_day(
            [(0.0, math.degrees(dlon)), (math.degrees(dlat), 0.0), (0.0, math.degrees(clear))]
        )
    )
    assert left_out(east) == (
        UnassignedCode.RADIUS,
        "100.1 km from every eligible base (radius 100 km; nearest T1)",  # not "100 km"
        ids("T1"),
    )
    assert north.allowed == (0,)
    assert well_inside.allowed == (0,)


def test_only_a_pair_within_metres_of_the_limit_is_measured_again_exactly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert RADIUS_RECHECK_SHARE == 1e-4  # within 10 m of a 100 km radius
    measured: list[tuple[tuple[float, float], tuple[float, float]]] = []

    def counted(one: tuple[float, float], other: tuple[float, float]) -> geodesic:
        measured.append((one, other))
        return geodesic(one, other)

    monkeypatch.setattr(eligibility, "geodesic", counted)
    # North-east from the base, exactly 100.005 km (outside by 5 m) and 99.995 km (inside by
    # 5 m) on WGS84; 100.02 and 99.98 km, 20 m from the limit, need no second measure.
    points = [
        (end.latitude, end.longitude)
        for km in (100.005, 99.995, 100.02, 99.98)
        for end in [geodesic(kilometers=km).destination((0.0, 0.0), bearing=45.0)]
    ]
    just_out, just_in, out, inside = screen(geodesic_day(points))
    assert len(measured) == 2
    assert left_out(just_out)[0] == left_out(out)[0] == UnassignedCode.RADIUS
    assert just_in.allowed == inside.allowed == (0,)


def test_a_pinned_visit_is_screened_against_its_technician_only() -> None:
    day = line_day(
        technicians=[tech("T1"), tech("T2", skills=["gas"], location_index=3, service_radius_km=5)]
    )
    day["visits"][0].update(technician="T2", required_skills=["water_heater"])
    day["visits"][1].update(technician="T1")  # T2 could serve it too, but it is T1's
    day["visits"][2]["technician"] = "T2"  # ... and T1 could serve this one
    day["visits"].append({"id": "V4", "location_index": 1, "duration_min": 30, "technician": "T2"})
    no_skill, mine, theirs, too_far = screen(day)
    assert left_out(no_skill) == (
        UnassignedCode.PINNED,
        "pinned to T2, who lacks skill 'water_heater'",  # it said "has"
        (),
    )
    assert mine.allowed == (0,)
    assert theirs.allowed == (1,)
    assert left_out(too_far) == (
        UnassignedCode.PINNED,
        "pinned to T2, 10 km from every eligible base (radius 5 km; nearest T2)",
        ids("T2"),
    )


def test_a_window_must_be_reached_and_finished_inside_a_shift_with_the_way_back() -> None:
    day = line_day()
    day["visits"][2]["window"] = {"start": "17:00", "end": "18:00"}
    late = {"id": "V4", "location_index": 3, "duration_min": 30,
            "window": {"start": "17:01", "end": "18:00"}}  # fmt: skip
    day["visits"].append(late)
    # V3 at site 3: latest start 18:00 - 30 min back - 30 min of work = 17:00 (61 200 s).
    bounds = [
        ALL_DAY,
        ALL_DAY,
        TimeBounds(61_200, 64_800, 1_800),
        TimeBounds(61_260, 64_800, 1_800),
    ]
    _, _, just, missed = screen(day, bounds)
    assert just.allowed == (0,)
    assert left_out(missed) == (
        UnassignedCode.WINDOW,
        "the window 17:01-18:00 cannot be reached and finished inside any eligible shift "
        "(08:00-18:00), counting travel from and back to base",
        ids("T1"),
    )
    # Ending the day at site 3 there is no way back to count: 17:01 fits.
    day["technicians"][0]["end_location_index"] = 3
    assert screen(day, bounds)[3].allowed == (0,)


def test_a_shift_and_a_window_to_midnight_read_24_00_in_the_reason() -> None:
    # Written as 00:00, a day's shift read "(00:00-00:00)": as if it had no hours.
    day = line_day(technicians=[tech("T1", shift={"start": "00:00", "end": "24:00"})])
    day["visits"] = [{"id": "V1", "location_index": 3, "duration_min": 30,
                      "window": {"start": "23:50", "end": "24:00"}}]  # fmt: skip
    (missed,) = screen(day, [TimeBounds(85_800, 86_400, 1_800)])
    assert left_out(missed)[1] == (
        "the window 23:50-24:00 cannot be reached and finished inside any eligible shift "
        "(00:00-24:00), counting travel from and back to base"
    )


def test_the_window_reason_lists_every_eligible_shift_as_worked() -> None:
    day = line_day(
        technicians=[
            tech("T1", shift={"start": "08:00", "end": "12:00"}),
            tech("T2", shift={"start": "13:00", "end": "18:00"}, unavailable_from="16:00"),
            tech("T3", shift={"start": "08:00", "end": "18:00"}, service_radius_km=5),
        ]
    )
    day["visits"] = [{"id": "V1", "location_index": 3, "duration_min": 60,
                      "window": {"start": "16:00", "end": "17:00"}}]  # fmt: skip
    # T1 ends at 12:00; T2 stops at 16:00 (unavailable); T3 is out of radius, so not listed.
    (visit,) = screen(day, [TimeBounds(57_600, 61_200, 3_600)])
    assert left_out(visit) == (
        UnassignedCode.WINDOW,
        "the window 16:00-17:00 cannot be reached and finished inside any eligible shift "
        "(08:00-12:00, 13:00-16:00), counting travel from and back to base",
        ids("T1", "T2"),
    )


def test_an_appointment_or_an_urgent_deadline_out_of_reach_is_named() -> None:
    day = line_day(policy={"time_limit_s": 1, "urgent_response_min": 20})
    day["visits"][0].update(location_index=3, appointment="08:33")
    day["visits"][1].update(location_index=3, priority="urgent", reported_at="08:00")
    day["visits"].pop()
    # At the door by 08:28 (30 480 s); site 3 is reached at 08:30 at the earliest.
    # The urgent visit must be reached by 08:20 (30 000 s).
    bounds = [TimeBounds(30_480, 30_480, 2_100), TimeBounds(0, 30_000, 1_800)]
    appointment, urgent = screen(day, bounds)
    assert left_out(appointment)[:2] == (
        UnassignedCode.WINDOW,
        "the appointment at 08:33 cannot be reached and finished inside any eligible shift "
        "(08:00-18:00), counting travel from and back to base",
    )
    assert left_out(urgent)[:2] == (
        UnassignedCode.WINDOW,
        "the visit (urgent: reach by 08:20) cannot be reached and finished inside any "
        "eligible shift (08:00-18:00), counting travel from and back to base",
    )


def test_a_load_too_big_for_every_van_is_named() -> None:
    day = line_day(
        technicians=[
            tech("T1", capacity={"weight_kg": 500}),
            tech("T2", capacity={"weight_kg": 800, "volume_m3": 1.0}),
        ]
    )
    day["visits"][0]["demand"] = {"weight_kg": 900, "volume_m3": 1.5}
    day["visits"][1]["demand"] = {"weight_kg": 600, "volume_m3": 0.5}
    day["visits"][2]["demand"] = {"weight_kg": 500, "volume_m3": 1.0}
    heavy, middling, exact = screen(day)
    assert left_out(heavy) == (
        UnassignedCode.CAPACITY,
        "900 kg / 1.5 m³ is more than any eligible van holds",
        ids("T1", "T2"),
    )
    assert middling.allowed == (1,)
    assert exact.allowed == (0, 1)  # a load of exactly the room fits


def test_the_first_failing_check_gives_the_reason() -> None:
    day = line_day(technicians=[tech("T1", service_radius_km=5, capacity={"weight_kg": 10})])
    day["visits"] = [
        # No skill, too far, too heavy: the skill is named.
        {"id": "V1", "location_index": 3, "duration_min": 30, "required_skills": ["gas"],
         "demand": {"weight_kg": 20}},
        # Crew too small and too far: the crew.
        {"id": "V2", "location_index": 3, "duration_min": 30, "crew_size": 2},
        # Too far, a window out of reach and too heavy: the radius.
        {"id": "V3", "location_index": 3, "duration_min": 30, "demand": {"weight_kg": 20},
         "window": {"start": "07:00", "end": "08:00"}},
        # A window out of reach and too heavy: the window.
        {"id": "V4", "location_index": 1, "duration_min": 30, "demand": {"weight_kg": 20},
         "window": {"start": "07:00", "end": "08:00"}},
    ]  # fmt: skip
    early = TimeBounds(25_200, 28_800, 1_800)
    codes = [left_out(s)[0] for s in screen(day, [ALL_DAY, ALL_DAY, early, early])]
    assert codes == [
        UnassignedCode.NO_SKILL,
        UnassignedCode.CREW_SIZE,
        UnassignedCode.RADIUS,
        UnassignedCode.WINDOW,
    ]


SKILLS = ("gas", "roof", "water_heater")
TECHNICIAN_ROWS = st.fixed_dictionaries(
    {
        "skills": st.lists(st.sampled_from(SKILLS), unique=True),
        "crew_size": st.integers(1, 2),
        "location_index": st.integers(0, 3),
        "service_radius_km": st.sampled_from([None, 5.0, 12.0]),
        "weight_kg": st.sampled_from([None, 10.0, 50.0]),
    }
)
VISIT_ROWS = st.fixed_dictionaries(
    {
        "required_skills": st.lists(st.sampled_from(SKILLS), unique=True, max_size=2),
        "crew_size": st.integers(1, 2),
        "location_index": st.integers(0, 3),
        "pin": st.one_of(st.none(), st.integers(0, 3)),
        "weight_kg": st.sampled_from([0.0, 10.0, 30.0]),
    }
)


@settings(max_examples=60, deadline=None)
@given(
    technicians=st.lists(TECHNICIAN_ROWS, min_size=1, max_size=4),
    visits=st.lists(VISIT_ROWS, min_size=1, max_size=6),
)
def test_the_allowed_are_exactly_who_passes_every_check_on_any_mix(
    technicians: list[dict[str, Any]], visits: list[dict[str, Any]]
) -> None:
    # The checks run on all pairs at once; each visit's list must be what checking its
    # technicians one by one gives, whatever the mix of pins, skills, crews, radii and vans.
    rows = []
    for k, row in enumerate(technicians):
        extra: dict[str, Any] = {"crew_size": row["crew_size"]}
        if row["service_radius_km"] is not None:
            extra["service_radius_km"] = row["service_radius_km"]
        if row["weight_kg"] is not None:
            extra["capacity"] = {"weight_kg": row["weight_kg"]}
        rows.append(
            tech(f"T{k}", skills=row["skills"], location_index=row["location_index"], **extra)
        )
    day = line_day(technicians=rows, policy={"time_limit_s": 1, "service_radius_km": 8})
    day["visits"] = []
    for i, row in enumerate(visits):
        visit: dict[str, Any] = {
            "id": f"V{i}",
            "location_index": row["location_index"],
            "duration_min": 30,
            "required_skills": row["required_skills"],
            "crew_size": row["crew_size"],
            "demand": {"weight_kg": row["weight_kg"]},
        }
        if row["pin"] is not None and row["pin"] < len(technicians):
            visit["technician"] = f"T{row['pin']}"
        day["visits"].append(visit)

    def passes(visit: dict[str, Any], k: int) -> bool:
        row = technicians[k]
        radius = row["service_radius_km"] if row["service_radius_km"] is not None else 8
        return (
            visit.get("technician", f"T{k}") == f"T{k}"
            and set(visit["required_skills"]) <= set(row["skills"])
            and row["crew_size"] >= visit["crew_size"]
            and LINE_KM[row["location_index"]][visit["location_index"]] <= radius
            and (row["weight_kg"] is None or visit["demand"]["weight_kg"] <= row["weight_kg"])
        )

    for visit, screening in zip(day["visits"], screen(day), strict=True):
        expected = tuple(k for k in range(len(technicians)) if passes(visit, k))
        assert screening.allowed == expected
        assert (screening.unassigned is None) == bool(expected)


def test_the_way_out_is_read_from_the_start_to_the_visit_on_a_one_way_matrix() -> None:
    # 8 minutes and 20 km out to site 1, 27 minutes and 150 km back (one-way streets): the
    # screen read the way back as the way out, so the window and the radius failed.
    day = line_day(technicians=[tech("T1", service_radius_km=100)])
    minutes = [row[:] for row in LINE_MINUTES]
    km = [row[:] for row in LINE_KM]
    minutes[0][1], minutes[1][0] = 8, 27
    km[0][1], km[1][0] = 20.0, 150.0
    day["travel"] = {"durations_min": minutes, "distances_km": km}
    day["visits"] = [{"id": "V1", "location_index": 1, "duration_min": 30,
                      "window": {"start": "08:00", "end": "08:15"}}]  # fmt: skip
    # The service starts between 08:00 and 08:15 (28 800-29 700 s); 08:08 is in reach.
    (screened,) = screen(day, [TimeBounds(28_800, 29_700, 1_800)])
    assert screened.allowed == (0,)
    # And the radius: 20 km out, whatever the way back.
    day["visits"][0].pop("window")
    minutes[1][0] = 8
    (screened,) = screen(day)
    assert screened.allowed == (0,)
