"""``policy.appointment_start``: appointments held from the door time (``at_time``, the
default) or served on arrival inside the band (``on_arrival``), planned end to end.

The day is worked out by hand: T1 at site 0 from 08:00, sites 0, 1, 2 on a line 10 minutes
apart; V1 (high) at site 1 at 09:00 and V2 at site 2 at 10:10, an hour each, the band 5-10
minutes. Held from 08:55, V1 ends at 10:00 and the drive puts V2's door at 10:10, after its
door time 10:05: one of them must go. Served on arrival at 08:50, V1 ends at 09:50 and V2 is
reached at 10:00, inside its band 10:00-10:05: both fit.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dispatch.contract.serialize import plan_document
from dispatch.contract.validate import parse_problem
from dispatch.model import Plan
from dispatch.planning import SolveParams, plan_day
from dispatch.verify import check_plan, matrix_lookup

QUICK = SolveParams(time_limit_s=1, metaheuristic="greedy_descent", seeders=())
MINUTES = [[abs(i - j) * 10 for j in range(3)] for i in range(3)]
KM = [[abs(i - j) * 5.0 for j in range(3)] for i in range(3)]


def two_appointments(start: str) -> dict[str, Any]:
    return {
        "date": "2026-11-23",
        "timezone": "Asia/Shanghai",
        "policy": {"time_limit_s": 1, "appointment_start": start},
        "travel": {"durations_min": MINUTES, "distances_km": KM},
        "technicians": [
            {"id": "T1", "location_index": 0, "shift": {"start": "08:00", "end": "18:00"}}
        ],
        "visits": [
            {"id": "V1", "location_index": 1, "duration_min": 60, "appointment": "09:00",
             "priority": "high"},
            {"id": "V2", "location_index": 2, "duration_min": 60, "appointment": "10:10"},
        ],
    }  # fmt: skip


def solved(raw: dict[str, Any]) -> tuple[Plan, dict[str, Any]]:
    problem = parse_problem(raw)
    plan = plan_day(problem, params=QUICK)
    document = plan_document(
        problem, plan, plan_id="pl_1", version=1, created_at=datetime.now(UTC)
    ).model_dump(mode="json")
    return plan, document


def times(plan: Plan) -> list[tuple[str, ...]]:
    return [
        (
            stop.visit_id,
            *(f"{moment:%H:%M}" for moment in (stop.arrival, stop.service_start, stop.departure)),
        )
        for route in plan.routes
        for stop in route.stops
    ]


def test_held_from_the_door_time_the_second_appointment_does_not_fit() -> None:
    plan, document = solved(two_appointments("at_time"))
    # V1 reached at the band's far edge 08:50, work at 09:00 until 10:00; V2 left out.
    assert times(plan) == [("V1", "08:50", "09:00", "10:00")]
    assert [(u.visit_id, u.code.value) for u in plan.unassigned] == [("V2", "no_room")]
    raw = two_appointments("at_time")
    assert check_plan(raw, document, matrix_lookup(raw)).violations == ()


def test_served_on_arrival_the_technician_leaves_sooner_and_both_fit() -> None:
    raw = two_appointments("on_arrival")
    plan, document = solved(raw)
    (route,) = plan.routes
    # Out at 08:40, V1 reached and started at 08:50, left at 09:50; V2 at 10:00 on arrival.
    assert f"{route.start_time:%H:%M}" == "08:40"
    assert times(plan) == [("V1", "08:50", "08:50", "09:50"), ("V2", "10:00", "10:00", "11:00")]
    assert plan.unassigned == ()
    assert [stop.wait.total_seconds() for stop in route.stops] == [0, 0]
    kpis = document["kpis"]
    assert (kpis["appointments_in_band"], kpis["early_band_rate"], kpis["on_time_rate"]) == (
        2,
        1.0,
        1.0,
    )
    assert [stop["early_min"] for stop in document["routes"][0]["stops"]] == [10, 10]
    report = check_plan(raw, document, matrix_lookup(raw))
    assert report.violations == () and report.appointments_in_band == 2
    # The same plan read under the default rule starts both services before their times.
    held = two_appointments("at_time")
    found = check_plan(held, document, matrix_lookup(held)).violations
    assert {(v.code, v.subject) for v in found} == {("window", "V1"), ("window", "V2")}
