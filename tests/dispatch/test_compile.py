"""Compiling a day into numbers (``dispatch.planning.compile``), worked out by hand.

The line day (``tests.conftest.line_day``): sites 0..3 on a line, 10 minutes and 5 km apart,
T1 at site 0 from 08:00 (28 800 s after midnight) to 18:00 (64 800 s), V1..V3 of 30 minutes
(1 800 s) at sites 1..3. Solver time is seconds after the plan's local midnight.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

import numpy as np
import pytest

from dispatch.contract.validate import parse_problem
from dispatch.errors import InputError
from dispatch.model import (
    OnTheWay,
    Priority,
    Site,
    TechnicianId,
    Unassigned,
    UnassignedCode,
    VisitId,
)
from dispatch.planning.compile import (
    PRIORITY_WEIGHT,
    PROMISED_WEIGHT,
    QUANTITY_SCALE,
    IdMap,
    Keep,
    build_sites,
    compile_problem,
)
from dispatch.travel import Matrices, NoRoadError, SnapError
from solver import BreakRule, Instance
from tests.conftest import LINE_KM, LINE_MINUTES, line_day
from tests.dispatch import test_parts as parts


def compiled(day: dict[str, Any], keep: Keep | None = None) -> tuple[Instance, IdMap]:
    instance, id_map = compile_problem(parse_problem(day), keep=keep)
    instance.check()  # the arrays fit together
    return instance, id_map


def second_technician(day: dict[str, Any], **fields: Any) -> None:
    day["technicians"].append({**day["technicians"][0], "id": "T2", **fields})


def test_the_weights_of_priorities_and_promises() -> None:
    assert PRIORITY_WEIGHT == {
        Priority.LOW: 3,
        Priority.NORMAL: 10,
        Priority.HIGH: 30,
        Priority.URGENT: 480,
    }
    # A promised low visit (3 + 30) outweighs any high visit that had no place (30).
    assert PROMISED_WEIGHT == 30
    assert PRIORITY_WEIGHT[Priority.LOW] + PROMISED_WEIGHT > PRIORITY_WEIGHT[Priority.HIGH]
    assert QUANTITY_SCALE == {"weight_kg": 1000, "volume_m3": 1_000_000}


def test_time_bounds_of_a_free_visit_an_appointment_and_a_window() -> None:
    day = line_day()
    day["visits"][1]["appointment"] = "10:00"
    day["visits"][2]["window"] = {"start": "14:00", "end": "16:00"}
    instance, id_map = compiled(day)
    # V1: any time up to the end of the latest shift, 18:00.
    # V2: the door time T - 5 min = 09:55 (35 700 s) exactly; service 5 + 30 min = 2 100 s.
    # V3: service starts in 14:00-16:00 (50 400-57 600 s).
    assert instance.window_s.tolist() == [[0, 64_800], [35_700, 35_700], [50_400, 57_600]]
    assert instance.service_s.tolist() == [1_800, 2_100, 1_800]
    assert id_map.door_buffer_s.tolist() == [0, 300, 0]


def test_the_appointments_door_time_follows_the_policys_near_edge() -> None:
    day = line_day(policy={"time_limit_s": 1, "early_arrival_min": [7, 12]})
    day["visits"][0]["appointment"] = "10:00"
    instance, id_map = compiled(day)
    # Door at 10:00 - 7 min = 09:53 (35 580 s); 7 + 30 min of service = 2 220 s.
    assert instance.window_s[0].tolist() == [35_580, 35_580]
    assert instance.service_s[0] == 2_220
    assert id_map.door_buffer_s.tolist() == [420, 0, 0]


@pytest.mark.parametrize(
    ("start", "window", "service", "buffer"),
    [
        # Held from the door time 09:53 (35 580 s); 7 + 30 min of service.
        ("at_time", [35_580, 35_580], 2_220, 420),
        # Served on arrival anywhere in the band 09:48-09:53; 30 min of service.
        ("on_arrival", [35_280, 35_580], 1_800, 0),
    ],
)
def test_an_appointment_is_held_from_the_door_or_served_on_arrival_in_the_band(
    start: str, window: list[int], service: int, buffer: int
) -> None:
    day = line_day(
        policy={"time_limit_s": 1, "early_arrival_min": [7, 12], "appointment_start": start}
    )
    day["visits"][0]["appointment"] = "10:00"
    day["visits"][1]["window"] = {"start": "14:00", "end": "16:00"}
    instance, id_map = compiled(day)
    assert instance.window_s.tolist() == [window, [50_400, 57_600], [0, 64_800]]
    assert instance.service_s.tolist() == [service, 1_800, 1_800]
    assert id_map.door_buffer_s.tolist() == [buffer, 0, 0]


def test_an_urgent_deadline_caps_the_latest_start_and_the_report_the_earliest() -> None:
    day = line_day(policy={"time_limit_s": 1, "urgent_response_min": 60})
    # V1: urgent, reported 08:00, no window: from 08:00 (28 800 s), reach by 09:00 (32 400 s).
    day["visits"][0].update(priority="urgent", reported_at="08:00")
    # V2: normal with a report time: no deadline, the window 08:30-09:30 stays whole.
    day["visits"][1].update(reported_at="08:00", window={"start": "08:30", "end": "09:30"})
    # V3: urgent, reported 09:00, window 08:30-12:00: from the report to the deadline 10:00.
    day["visits"][2].update(
        priority="urgent", reported_at="09:00", window={"start": "08:30", "end": "12:00"}
    )
    instance, _ = compiled(day)
    assert instance.window_s.tolist() == [[28_800, 32_400], [30_600, 34_200], [32_400, 36_000]]


def test_an_urgent_deadline_inside_the_band_moves_the_door_time_up_to_it() -> None:
    day = line_day(policy={"time_limit_s": 1, "urgent_response_min": 120})
    # Reported 08:00, reach by 10:00; appointments at 10:08 (band 09:58-10:03: the door at
    # 10:00, held 8 min), 10:05 (door 10:00 as ever) and 10:11 (band from 10:01: too late).
    for visit, appointment in zip(day["visits"], ("10:08", "10:05", "10:11"), strict=True):
        visit.update(priority="urgent", reported_at="08:00", appointment=appointment)
    instance, id_map = compiled(day)
    assert instance.window_s[:2].tolist() == [[36_000, 36_000], [36_000, 36_000]]
    assert id_map.door_buffer_s[:2].tolist() == [480, 300]
    assert instance.service_s[:2].tolist() == [1_800 + 480, 1_800 + 300]
    assert [(u.visit_id, u.code) for u in id_map.excluded] == [("V3", UnassignedCode.WINDOW)]


class TableProvider:
    """Travel in seconds straight from a table indexed by the sites' ``matrix_index``."""

    def __init__(self, seconds: list[list[int]], metres: list[list[int]]) -> None:
        self.seconds = np.array(seconds, dtype=np.int64)
        self.metres = np.array(metres, dtype=np.int64)
        self.asked: list[int] = []

    def matrix(self, sites: Sequence[Site]) -> Matrices:
        rows = [int(site.matrix_index or 0) for site in sites]
        self.asked = rows
        pick = np.ix_(rows, rows)
        return self.seconds[pick], self.metres[pick]


def test_build_sites_rounds_travel_up_to_whole_minutes_and_shares_rows() -> None:
    day = line_day()
    day["visits"][2]["location_index"] = 1  # V3 at V1's site
    problem = parse_problem(day)
    provider = TableProvider(
        seconds=[[0, 61, 601, 9], [59, 0, 1, 9], [600, 120, 0, 9], [9, 9, 9, 0]],
        metres=[[0, 1_234, 5_678, 1], [1_234, 0, 4_444, 1], [5_678, 4_444, 0, 1], [1, 1, 1, 0]],
    )
    table = build_sites(problem, provider)
    # Sites are numbered as found: T1's start and end (site 0), then V1 (1), V2 (2), V3 (1).
    assert provider.asked == [0, 1, 2]
    assert [site.matrix_index for site in table.sites] == [0, 1, 2]
    assert table.start_row.tolist() == [0] and table.end_row.tolist() == [0]
    assert table.base_row.tolist() == [0]
    assert table.visit_row.tolist() == [1, 2, 1]
    # 61 s and 59 s are one minute started: 120 s and 60 s; 601 s is 11 minutes; whole
    # minutes and zero stay. Distances are not rounded.
    assert table.travel_s.tolist() == [[0, 120, 660], [60, 0, 60], [600, 120, 0]]
    assert table.distance_m.tolist() == [[0, 1_234, 5_678], [1_234, 0, 4_444], [5_678, 4_444, 0]]


def test_a_technician_on_the_road_reaches_each_place_back_or_on_whichever_is_sooner() -> None:
    # T1 left the base (site 0) for V2's site (2, 20 min away) and has driven 5 minutes.
    problem = parse_problem(line_day())
    on_the_way = OnTheWay(Site(matrix_index=2), timedelta(minutes=5), timedelta(minutes=15))
    driving = replace(
        problem, technicians=(replace(problem.technicians[0], on_the_way=on_the_way),)
    )
    provider = TableProvider(
        seconds=[[abs(i - j) * 600 for j in range(4)] for i in range(4)],
        metres=[[abs(i - j) * 5 for j in range(4)] for i in range(4)],
    )
    table = build_sites(driving, provider)
    (row,) = table.start_row.tolist()
    assert row == len(table.sites) - 1 == 4 and table.end_row.tolist() == [0]
    # The base back 5, site 1 back 5 + 10 (on: 15 + 10), site 2 on 15, site 3 on 15 + 10.
    assert table.travel_s[row].tolist() == [300, 900, 900, 1_500, 0]
    # Coming to it is coming to the base and driving on; its distances are the base's.
    assert table.travel_s[:, row].tolist() == [300, 900, 1_500, 2_100, 0]
    assert table.distance_m[row].tolist() == [0, 5, 10, 15, 0]
    still = build_sites(problem, provider)
    assert table.travel_s[:row, :row].tolist() == still.travel_s.tolist()
    assert table.distance_m[:row, :row].tolist() == still.distance_m.tolist()


def test_fractional_minutes_of_an_explicit_matrix_are_rounded_up() -> None:
    minutes = [[round(value * 1.02, 6) for value in row] for row in LINE_MINUTES]
    instance, _ = compiled(line_day(travel={"durations_min": minutes, "distances_km": LINE_KM}))
    # 10.2 min -> 11 min (660 s), 20.4 -> 21 (1 260 s), 30.6 -> 31 (1 860 s).
    assert instance.travel_s[0].tolist() == [0, 660, 1_260, 1_860]
    assert instance.travel_s[3].tolist() == [1_860, 1_260, 660, 0]
    assert instance.distance_m[0].tolist() == [0, 5_000, 10_000, 15_000]


def test_drop_penalties_grow_with_priority_from_a_base_above_any_plans_travel() -> None:
    day = line_day()
    for visit, priority in zip(day["visits"], ("low", "normal", "high"), strict=True):
        visit["priority"] = priority
    day["visits"].append(
        {"id": "V4", "location_index": 2, "duration_min": 30, "priority": "urgent"}
    )
    instance, _ = compiled(day)
    # The longest leg among the sites in play is 0 <-> 3, 30 min = 1 800 s; 4 nodes and one
    # route end are each reached by one leg: 1 800 * 5 = 9 000; base 9 001.
    assert instance.penalty.tolist() == [3 * 9_001, 10 * 9_001, 30 * 9_001, 480 * 9_001]


def test_a_preferred_technician_costs_its_bonus_and_raises_the_base() -> None:
    day = line_day()
    second_technician(day)
    day["visits"][0]["preferred_technician"] = "T2"
    instance, _ = compiled(day)
    assert instance.preferred.tolist() == [1, -1, -1]
    # The default bonus is 30 min.
    assert np.asarray(instance.preference_cost).tolist() == [1_800, 0, 0]
    # Legs: 1 800 s * (3 nodes + 2 route ends) + 1 800 of preference + 1 = 10 801.
    assert instance.penalty.tolist() == [10 * 10_801] * 3
    assert instance.soft_window_cost == 0
    assert instance.soft_window_s.tolist() == [[-1, -1]] * 3


def test_a_replan_keeps_technicians_and_promised_times_softly() -> None:
    day = line_day()
    day["visits"][0]["priority"] = "low"
    day["visits"][1]["appointment"] = "10:00"
    keep = Keep(
        technician={VisitId("V1"): TechnicianId("T1"), VisitId("V2"): TechnicianId("T1")},
        promised_s={VisitId("V1"): 600, VisitId("V2"): 35_700, VisitId("V3"): 40_000},
        reassign_s=1_800,
        tolerance_s=900,
        move_cost=1,
        not_before_s=36_000,
    )
    instance, id_map = compiled(day, keep)
    # V1 and V2 had T1: moving them costs the reassignment; V3 had nobody.
    assert instance.preferred.tolist() == [0, 0, -1]
    assert np.asarray(instance.preference_cost).tolist() == [1_800, 1_800, 0]
    # V1's promised 600 s +- 900 s is clipped at 0; V2 is an appointment (no soft interval);
    # V3 promised 40 000 s gives 39 100-40 900 s.
    assert instance.soft_window_s.tolist() == [[0, 1_500], [-1, -1], [39_100, 40_900]]
    assert instance.soft_window_cost == 1
    # Base: 1 800 * (3 + 1) + 1 800 + 1 800 + 1 = 10 801. A placed visit weighs its priority
    # plus PROMISED_WEIGHT (30): V1 low 3 + 30, V2 normal 10 + 30; V3 normal, not placed: 10.
    assert instance.penalty.tolist() == [33 * 10_801, 40 * 10_801, 10 * 10_801]
    assert id_map.not_before_s == 36_000


def test_a_kept_technician_outranks_the_preferred_one_unless_they_are_gone() -> None:
    day = line_day()
    second_technician(day)
    day["visits"][0]["preferred_technician"] = "T2"
    day["visits"][1]["preferred_technician"] = "T2"
    keep = Keep(
        technician={VisitId("V1"): TechnicianId("T9"), VisitId("V2"): TechnicianId("T1")},
        promised_s={},
        reassign_s=1_200,
        tolerance_s=0,
        move_cost=1,
        not_before_s=0,
    )
    instance, _ = compiled(day, keep)
    # V1 had T9, who is not in this day: its preferred T2 and the 30-min bonus stand.
    # V2 had T1: T1, at the reassignment cost, over its preferred T2.
    assert instance.preferred.tolist() == [1, 0, -1]
    assert np.asarray(instance.preference_cost).tolist() == [1_800, 1_200, 0]
    # Base: 1 800 * (3 + 2) + 1 800 + 1 200 + 1 = 12 001; V1 and V2 were placed (+30).
    assert instance.penalty.tolist() == [40 * 12_001, 40 * 12_001, 10 * 12_001]


def test_vehicles_carry_shifts_breaks_and_an_early_end() -> None:
    day = line_day()
    day["technicians"][0]["breaks"] = [{"start": "11:30", "end": "13:30", "duration_min": 45}]
    second_technician(
        day,
        shift={"start": "09:00", "end": "17:00"},
        end_location_index=3,
        unavailable_from="12:00",
        breaks=[
            {"start": "10:00", "end": "11:00", "duration_min": 15},
            {"start": "11:30", "end": "13:30", "duration_min": 45},
        ],
    )
    instance, _ = compiled(day)
    first, second = instance.vehicles
    assert (first.shift_start_s, first.shift_end_s) == (28_800, 64_800)
    # Lunch starts in 11:30-12:45 (the window less its 45 min): 41 400-45 900 s.
    assert first.breaks == (BreakRule(41_400, 45_900, 2_700),)
    # T2 works 09:00 until unavailable at 12:00; lunch (11:30 + 45 min = 12:15) no longer
    # fits and is left out, the 15-min break of 10:00-11:00 stays.
    assert (second.shift_start_s, second.shift_end_s) == (32_400, 43_200)
    assert second.breaks == (BreakRule(36_000, 38_700, 900),)
    # Rows as found: both starts and T1's end at site 0 (row 0), T2's end at site 3 (row 1),
    # then V1 (site 1, row 2), V2 (site 2, row 3), V3 (site 3: T2's end, row 1).
    assert (first.start_location, first.end_location) == (0, 0)
    assert (second.start_location, second.end_location) == (0, 1)
    assert instance.node_location.tolist() == [2, 3, 1]


def test_only_quantities_demanded_and_limited_become_dimensions() -> None:
    day = line_day()
    second_technician(day)
    day["technicians"][0]["capacity"] = {"weight_kg": 100}
    day["visits"][0]["demand"] = {"weight_kg": 12.5}
    day["visits"][1]["demand"] = {"volume_m3": 1.2}  # nobody limits volume
    instance, _ = compiled(day)
    # Weight in grams; T2 has no limit: one more than all demand, 12 500 + 1.
    assert instance.demand.tolist() == [[12_500], [0], [0]]
    assert [v.capacity for v in instance.vehicles] == [(100_000,), (12_501,)]

    day["technicians"][0]["capacity"] = {"weight_kg": 100, "volume_m3": 2.5}
    instance, _ = compiled(day)
    # Volume in cubic centimetres now that T1 limits it; unlimited is 12 500 + 1 200 000 + 1.
    assert instance.demand.tolist() == [[12_500, 0], [0, 1_200_000], [0, 0]]
    assert [v.capacity for v in instance.vehicles] == [
        (100_000, 2_500_000),
        (1_212_501, 1_212_501),
    ]


def test_screened_out_visits_are_no_nodes_and_the_id_map_reads_nodes_back() -> None:
    # A fifth site, 100 min from everything, holds a visit nobody can serve.
    minutes = [[*row, 100] for row in LINE_MINUTES] + [[100, 100, 100, 100, 0]]
    km = [[*row, 50.0] for row in LINE_KM] + [[50.0, 50.0, 50.0, 50.0, 0.0]]
    day = line_day(travel={"durations_min": minutes, "distances_km": km})
    second_technician(day, skills=["gas"])
    day["visits"] = [
        {"id": "V1", "location_index": 1, "duration_min": 30, "required_skills": ["water_heater"]},
        {"id": "V2", "location_index": 2, "duration_min": 30, "required_skills": ["gas"]},
        {"id": "V3", "location_index": 4, "duration_min": 30, "required_skills": ["roof"]},
        {"id": "V4", "location_index": 1, "duration_min": 30},
    ]
    instance, id_map = compiled(day)
    assert instance.n_nodes == 3
    assert id_map.node_visit == (0, 1, 3)
    assert [id_map.visit(node).id for node in range(3)] == ["V1", "V2", "V4"]
    assert [id_map.technician(v).id for v in range(2)] == ["T1", "T2"]
    assert instance.allowed == ((0,), (1,), (0, 1))
    assert id_map.candidates == ((0,), (1,), (0, 1))
    assert id_map.excluded == (
        Unassigned(
            VisitId("V3"),
            UnassignedCode.NO_SKILL,
            "no technician has skill 'roof'",
            (),
        ),
    )
    # Every visit is a node or excluded, never both.
    nodes = [id_map.visit(node).id for node in range(instance.n_nodes)]
    left = [item.visit_id for item in id_map.excluded]
    assert sorted(nodes + left) == ["V1", "V2", "V3", "V4"]
    # The far site is in the matrix but not in play: the base comes from the longest leg
    # among sites 0-2 (20 min = 1 200 s) over 3 nodes and 2 route ends: 6 001, normal x 10.
    assert instance.travel_s.max() == 6_000
    assert instance.penalty.tolist() == [10 * 6_001] * 3


@pytest.mark.parametrize("visits", [0, 1])
def test_a_day_with_no_node_compiles_to_empty_arrays(visits: int) -> None:
    day = line_day()
    day["visits"] = [
        {"id": "V1", "location_index": 1, "duration_min": 30, "required_skills": ["roof"]}
    ][:visits]
    instance, id_map = compiled(day)
    assert instance.n_nodes == 0
    assert instance.window_s.shape == (0, 2) and instance.penalty.shape == (0,)
    assert [item.visit_id for item in id_map.excluded] == ["V1"][:visits]


class _Refusing:
    """A road provider that refuses the day's sites as ``error`` says."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def matrix(self, sites: Sequence[Site]) -> Matrices:
        raise self.error


def test_sites_the_roads_refuse_are_named_by_who_stands_there_depots_too() -> None:
    raw = parts.make_day(
        [parts.tech("T1", 0)],
        [parts.visit("V1", 1), parts.visit("V2", 2, "P2")],
        depots=[parts.depot()],
    )
    problem = parse_problem(raw)
    # Rows: T1's start and end (site 0), V1, V2, then the depot D1 (site 4).
    off = SnapError([(3, 3700.0)], limit_m=300, server="http://osrm")
    with pytest.raises(InputError) as caught:
        build_sites(problem, _Refusing(off))
    [error] = caught.value.errors  # was "invalid problem: 0 errors": depots were not named
    assert (error.path, error.entity_id) == ("depots[0].location", "D1")
    assert error.message.startswith("3700 m from the nearest road")
    island = NoRoadError("no road between 6 of 12 pairs", [(2, 6)])
    with pytest.raises(InputError) as caught:
        build_sites(problem, _Refusing(island))
    [error] = caught.value.errors  # was a travel error naming "site 2"
    assert (error.path, error.entity_id) == ("visits[1].location", "V2")
    assert "the roads do not join it to the others both ways" in error.message
