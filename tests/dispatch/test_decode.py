"""Reading the solver's answer back (``dispatch.planning.decode``), from hand-made solutions.

Each test compiles a small line day (sites 0..3, 10 min and 5 km apart, T1 at site 0 from
08:00) and gives ``decode`` a solution written by hand, so every time below is worked out from
the module's rule: an appointment's arrival is placed as late as the plan allows inside the
band ``[T - 10, T - 5]``, a window visit arrives when its service starts. Solver times are
seconds after midnight: 08:00 is 28 800, 10:00 is 36 000.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from dispatch.contract.validate import parse_problem
from dispatch.model import Plan, TechnicianId, Unassigned, UnassignedCode, VisitId
from dispatch.planning.compile import IdMap, compile_problem
from dispatch.planning.decode import decode
from solver import RouteSolution, Solution
from tests.conftest import line_day


def id_map_of(day: dict[str, Any]) -> IdMap:
    return compile_problem(parse_problem(day))[1]


def decoded(solution: Solution, id_map: IdMap) -> Plan:
    """``decode`` of ``solution`` on the instance of ``id_map``'s day."""
    return decode(solution, id_map, compile_problem(id_map.problem)[0])


def solution(*routes: RouteSolution, dropped: tuple[int, ...] = ()) -> Solution:
    return Solution(routes=routes, dropped=dropped, objective=1_234, elapsed_s=0.25)


def route(
    nodes: tuple[int, ...],
    cumul: tuple[int, ...],
    start: int,
    end: int,
    breaks: tuple[tuple[int, int], ...] = (),
    vehicle: int = 0,
) -> RouteSolution:
    return RouteSolution(vehicle, nodes, cumul, start, end, breaks)


def clock(moment: datetime) -> str:
    return moment.strftime("%H:%M:%S")


def minutes(count: float) -> timedelta:
    return timedelta(minutes=count)


def three_kinds() -> dict[str, Any]:
    """V1 any time at site 1, V2 at 10:00 at site 2, V3 in 14:00-16:00 at site 3."""
    day = line_day()
    day["visits"][1]["appointment"] = "10:00"
    day["visits"][2]["window"] = {"start": "14:00", "end": "16:00"}
    return day


def test_a_route_is_timed_leg_by_leg_and_totalled_with_the_way_back() -> None:
    id_map = id_map_of(three_kinds())
    # V1 starts at 08:10 (29 400); V2's door time is 09:55 (35 700); V3 starts at 14:00.
    plan = decoded(
        solution(route((0, 1, 2), (29_400, 35_700, 50_400), start=28_800, end=54_000)), id_map
    )
    assert (plan.objective, plan.solve_s, plan.unassigned) == (1_234, 0.25, ())
    (only,) = plan.routes
    v1, v2, v3 = only.stops
    assert [s.visit_id for s in only.stops] == ["V1", "V2", "V3"]
    # V1: ready at 08:10, served at once, leaves 08:40.
    assert (clock(v1.arrival), clock(v1.service_start), clock(v1.departure)) == (
        "08:10:00",
        "08:10:00",
        "08:40:00",
    )
    # V2: could be there at 08:50, but arrives at the band's far edge 09:50; work at 10:00.
    assert (clock(v2.arrival), clock(v2.service_start), clock(v2.departure)) == (
        "09:50:00",
        "10:00:00",
        "10:30:00",
    )
    assert (v2.early, v2.late, v2.wait) == (minutes(10), minutes(0), minutes(70))
    # V3: a window visit arrives when its service starts; idle from 10:40 to 14:00.
    assert (clock(v3.arrival), clock(v3.service_start), clock(v3.departure)) == (
        "14:00:00",
        "14:00:00",
        "14:30:00",
    )
    assert (v3.early, v3.late, v3.wait) == (minutes(0), minutes(0), minutes(200))
    for stop in only.stops:
        assert (stop.travel, stop.distance_km) == (minutes(10), 5.0)
    # Totals include the 30-min, 15-km way back from site 3; service is the visits' own time.
    assert (clock(only.start_time), clock(only.end_time)) == ("08:00:00", "15:00:00")
    assert (only.travel, only.distance_km) == (minutes(60), 30.0)
    assert (only.service, only.wait) == (minutes(90), minutes(270))
    assert only.breaks == ()


def test_an_appointment_reached_late_in_the_band_arrives_when_it_can() -> None:
    id_map = id_map_of(three_kinds())
    # V1 from 09:13:20 (33 200) to 09:43:20; the earliest arrival at V2 is 09:53:20.
    plan = decoded(solution(route((0, 1), (33_200, 35_700), start=32_600, end=39_000)), id_map)
    v2 = plan.routes[0].stops[1]
    assert clock(v2.arrival) == "09:53:20"
    assert (v2.early, v2.wait) == (timedelta(seconds=400), timedelta(seconds=400))


def test_nothing_arrives_before_the_replans_clock() -> None:
    id_map = replace(id_map_of(three_kinds()), not_before_s=35_500)  # 09:51:40
    plan = decoded(solution(route((0, 1), (29_400, 35_700), start=28_800, end=39_000)), id_map)
    assert clock(plan.routes[0].stops[1].arrival) == "09:51:40"


def test_a_first_appointment_leaves_the_base_for_the_bands_far_edge() -> None:
    day = line_day()
    day["visits"][1]["appointment"] = "10:00"
    day["visits"] = [day["visits"][1]]
    # The solver leaves as late as it may: 09:35, 20 min before the door time 09:55.
    plan = decoded(solution(route((0,), (35_700,), start=34_500, end=39_000)), id_map_of(day))
    (stop,) = plan.routes[0].stops
    # Leaving 5 min earlier reaches the door at 09:50, 10 min ahead.
    assert clock(plan.routes[0].start_time) == "09:30:00"
    assert (clock(stop.arrival), stop.early, stop.wait) == ("09:50:00", minutes(10), minutes(10))


@pytest.mark.parametrize(
    ("break_start", "taken", "leaves", "arrives"),
    [
        # Break 08:00-08:20: over when leaving for the band's far edge at 08:20.
        (28_800, ("08:00:00", "08:20:00"), "08:20:00", "08:50:00"),
        # Break 08:05-08:25: leaving at 08:20 would be mid-break; leave at 08:25 instead.
        (29_100, ("08:05:00", "08:25:00"), "08:25:00", "08:55:00"),
    ],
)
def test_a_break_at_the_base_before_the_route_holds_the_departure(
    break_start: int, taken: tuple[str, str], leaves: str, arrives: str
) -> None:
    day = line_day()
    day["technicians"][0]["breaks"] = [{"start": "08:00", "end": "09:00", "duration_min": 20}]
    day["visits"] = [{"id": "V3", "location_index": 3, "duration_min": 30, "appointment": "09:00"}]
    # Door 08:55 (32 100), 30 min from the base: the solver leaves at 08:25 (30 300), the
    # break taken at the base before.
    plan = decoded(
        solution(route((0,), (32_100,), start=30_300, end=36_000, breaks=((break_start, 1_200),))),
        id_map_of(day),
    )
    (only,) = plan.routes
    assert clock(only.start_time) == leaves
    assert clock(only.stops[0].arrival) == arrives
    assert [(clock(b.start), clock(b.end)) for b in only.breaks] == [taken]


@pytest.mark.parametrize(
    ("lunch_start", "arrives"),
    [
        (43_200, "12:50:00"),  # lunch 12:00-12:45, then the band's far edge, 12:50
        (43_800, "12:55:00"),  # lunch 12:10-12:55 ends at the door time: arrive then
    ],
)
def test_a_break_between_stops_is_taken_before_the_arrival(lunch_start: int, arrives: str) -> None:
    day = line_day()
    day["technicians"][0]["breaks"] = [{"start": "11:30", "end": "13:30", "duration_min": 45}]
    day["visits"][1]["appointment"] = "13:00"
    day["visits"].pop()
    # V1 08:10-08:40; V2's door time 12:55 (46 500).
    plan = decoded(
        solution(route((0, 1), (29_400, 46_500), 28_800, 49_800, breaks=((lunch_start, 2_700),))),
        id_map_of(day),
    )
    (only,) = plan.routes
    v2 = only.stops[1]
    assert clock(v2.arrival) == arrives
    # Ready at 09:35 (08:40 + 45 min of lunch + 10 min of driving): 205 min before 13:00.
    assert v2.wait == minutes(205)
    assert len(only.breaks) == 1
    assert only.breaks[0].end - only.breaks[0].start == minutes(45)


def test_dropped_nodes_have_no_room_and_name_the_eligible_technicians() -> None:
    day = line_day(
        technicians=[
            {
                "id": t,
                "skills": skills,
                "location_index": 0,
                "shift": {"start": "08:00", "end": "18:00"},
            }
            for t, skills in (("T1", ["water_heater"]), ("T2", ["water_heater"]), ("T3", ["gas"]))
        ]
    )
    day["visits"][1]["required_skills"] = ["water_heater"]
    day["visits"][2]["required_skills"] = ["roof"]  # nobody: screened out, no node
    id_map = id_map_of(day)
    empty = tuple(route((), (), 28_800, 28_800, vehicle=v) for v in range(3))
    plan = decoded(solution(*empty, dropped=(1, 0)), id_map)
    assert plan.routes == ()  # empty routes are left out
    ids = {name: TechnicianId(name) for name in ("T1", "T2", "T3")}
    # In the problem's order, whatever order the solver dropped them in.
    assert plan.unassigned == (
        Unassigned(
            VisitId("V1"),
            UnassignedCode.NO_ROOM,
            "no room in the day of the eligible technicians (T1, T2, T3): their routes are "
            "full around this visit's time",
            (ids["T1"], ids["T2"], ids["T3"]),
        ),
        Unassigned(
            VisitId("V2"),
            UnassignedCode.NO_ROOM,
            "no room in the day of the eligible technicians (T1, T2): their routes are full "
            "around this visit's time",
            (ids["T1"], ids["T2"]),
        ),
        # Screened out before solving: the reason found then is kept.
        Unassigned(
            VisitId("V3"),
            UnassignedCode.NO_SKILL,
            "no technician has skill 'roof'",
            (),
        ),
    )


def test_a_long_list_of_eligible_technicians_is_cut_after_eight() -> None:
    names = [f"T{i:02d}" for i in range(1, 11)]
    day = line_day(
        technicians=[
            {"id": name, "location_index": 0, "shift": {"start": "08:00", "end": "18:00"}}
            for name in names
        ]
    )
    day["visits"] = day["visits"][:1]
    plan = decoded(solution(dropped=(0,)), id_map_of(day))
    (left,) = plan.unassigned
    assert left.reason == (
        "no room in the day of the eligible technicians (T01, T02, T03, T04, T05, T06, T07, "
        "T08 and 2 more): their routes are full around this visit's time"
    )
    assert left.candidates == tuple(TechnicianId(name) for name in names)


def test_every_visit_comes_back_once_in_a_route_or_unassigned() -> None:
    day = three_kinds()
    day["visits"].append({"id": "V4", "location_index": 1, "duration_min": 30, "crew_size": 2})
    id_map = id_map_of(day)
    assert id_map.node_visit == (0, 1, 2)  # V4 needs a crew nobody has
    plan: Plan = decoded(solution(route((1,), (35_700,), 34_500, 39_000), dropped=(0, 2)), id_map)
    routed = [s.visit_id for r in plan.routes for s in r.stops]
    left = [u.visit_id for u in plan.unassigned]
    assert routed == ["V2"]
    assert left == ["V1", "V3", "V4"]
    assert [u.code for u in plan.unassigned] == [
        UnassignedCode.NO_ROOM,
        UnassignedCode.NO_ROOM,
        UnassignedCode.CREW_SIZE,
    ]


def test_times_are_read_back_across_a_daylight_saving_change() -> None:
    # Berlin springs forward at 02:00 on 2026-03-29: 03:30 is 9 000 s after midnight.
    day = {
        "date": "2026-03-29",
        "timezone": "Europe/Berlin",
        "travel": {"durations_min": [[0, 60], [60, 0]]},
        "technicians": [
            {"id": "T1", "location_index": 0, "shift": {"start": "01:00", "end": "06:00"}}
        ],
        "visits": [{"id": "V1", "location_index": 1, "duration_min": 30, "appointment": "03:30"}],
    }
    # Door 03:25 (8 700 s); the solver leaves an hour before (5 100 s).
    plan = decoded(solution(route((0,), (8_700,), 5_100, 14_400)), id_map_of(day))
    (only,) = plan.routes
    (stop,) = only.stops
    assert only.start_time.isoformat() == "2026-03-29T01:20:00+01:00"
    assert stop.arrival.isoformat() == "2026-03-29T03:20:00+02:00"
    assert stop.service_start.isoformat() == "2026-03-29T03:30:00+02:00"
    assert stop.departure.isoformat() == "2026-03-29T04:00:00+02:00"
    assert only.end_time.isoformat() == "2026-03-29T05:00:00+02:00"


def test_a_visit_whose_work_leaves_no_room_for_every_break_is_a_window_not_no_room() -> None:
    day = line_day()
    # Lunch starts between 10:00 and 10:30; V2's appointment at 10:30 holds T1 at its door
    # from 10:25 to 11:00: the lunch can neither end by 10:25 nor start after 11:00.
    day["technicians"][0]["breaks"] = [{"start": "10:00", "end": "11:00", "duration_min": 30}]
    day["visits"][1]["appointment"] = "10:30"
    day["visits"][2]["appointment"] = "12:00"  # clear of lunch: dropped for want of room
    id_map = id_map_of(day)
    plan = decoded(solution(dropped=(1, 2)), id_map)
    by_visit = {left.visit_id: left for left in plan.unassigned}
    lunch = by_visit[VisitId("V2")]
    assert lunch.code is UnassignedCode.WINDOW
    assert lunch.reason == (
        "the appointment at 10:30 cannot be served by any eligible technician (T1) without "
        "working through their break: with travel from and back to base, the work leaves no "
        "room for it inside the break's bounds"
    )
    assert lunch.candidates == (TechnicianId("T1"),)
    assert by_visit[VisitId("V3")].code is UnassignedCode.NO_ROOM
    # Pinned to T1, it is what stops T1 that keeps it out: ``pinned``, saying so (it was coded
    # ``window``, where a window before the shift, a van too small or T1 off is ``pinned``).
    day["visits"][1]["technician"] = "T1"
    plan = decoded(solution(dropped=(1, 2)), id_map_of(day))
    pinned = next(left for left in plan.unassigned if left.visit_id == "V2")
    assert pinned.code is UnassignedCode.PINNED
    assert pinned.reason.startswith(
        "pinned to T1, who cannot serve the appointment at 10:30 without working through"
    )
    # Without the break, the same dropped visit is one the other visits left no room for.
    del day["technicians"][0]["breaks"]
    plan = decoded(solution(dropped=(1, 2)), id_map_of(day))
    assert {left.code for left in plan.unassigned} == {UnassignedCode.NO_ROOM}
