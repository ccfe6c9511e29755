"""Validation: every rule of the contract, all problems reported at once with path and id."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from dispatch.errors import InputError
from dispatch.model import Priority
from dispatch.validate import parse_problem
from tests.conftest import line_day


def errors_of(raw: Any) -> list[str]:
    with pytest.raises(InputError) as caught:
        parse_problem(raw)
    return [str(error) for error in caught.value.errors]


def test_a_valid_day_becomes_the_domain(day: dict[str, Any]) -> None:
    day["visits"][0].update(
        appointment="09:30", priority="urgent", required_skills=["water_heater"]
    )
    problem = parse_problem(day)
    visit = problem.visits[0]
    assert visit.appointment is not None and visit.appointment.hour == 9
    assert visit.appointment.utcoffset() == timedelta(hours=8)
    assert visit.priority is Priority.URGENT
    assert problem.technicians[0].end.matrix_index == 0


def test_every_problem_is_reported_in_one_error() -> None:
    day = line_day()
    day["technicians"].append(dict(day["technicians"][0]))  # duplicate T1
    day["technicians"][1]["shift"] = {"start": "18:00", "end": "08:00"}
    day["technicians"][0]["breaks"] = [{"start": "12:00", "end": "12:20", "duration_min": 30}]
    day["visits"][0]["appointment"] = "09:00"
    day["visits"][0]["window"] = {"start": "10:00", "end": "08:00"}
    day["visits"][1]["technician"] = "T9"
    day["visits"][2]["location_index"] = 7
    found = errors_of(day)
    assert "technicians[1] (T1).id: duplicate id, already used by technicians[0]" in found
    assert "technicians[1] (T1).shift.end: 08:00 is before start 18:00" in found
    assert any(
        e.startswith("technicians[0] (T1).breaks[0].duration_min: 30 min does not fit")
        for e in found
    )
    assert "visits[0] (V1).appointment: give either an appointment or a window, not both" in found
    assert "visits[0] (V1).window.end: 08:00 is before start 10:00" in found
    assert "visits[1] (V2).technician: unknown technician 'T9'" in found
    assert "visits[2] (V3).location_index: 7 is outside the travel matrix (size 4)" in found
    assert len(found) == 7


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda d: d["visits"][0].update(duration_min=0),
            "visits[0] (V1).duration_min: Input should be greater than 0",
        ),
        (
            lambda d: d["visits"][0].update(duration_min=-5),
            "visits[0] (V1).duration_min: Input should be greater than 0",
        ),
        (
            lambda d: d["visits"][0].update(appointment="9:30"),
            "visits[0] (V1).appointment: '9:30' is not a time HH:MM",
        ),
        (
            lambda d: d["visits"][0].update(appointment="25:00"),
            "visits[0] (V1).appointment: '25:00' is not a time HH:MM",
        ),
        (
            lambda d: d["visits"][0].update(apointment="09:30"),
            "visits[0] (V1).apointment: unknown key 'apointment'",
        ),
        (
            lambda d: d["visits"][0].update(location={"lat": 95, "lon": 0}),
            "visits[0] (V1).location.lat: Input should be less than or equal to 90",
        ),
        (
            lambda d: d["visits"][0].update(location={"lat": 0, "lon": 190}),
            "visits[0] (V1).location.lon: Input should be less than or equal to 180",
        ),
        (lambda d: d.update(timezone="Mars/Olympus"), "timezone: unknown time zone 'Mars/Olympus'"),
        (lambda d: d.update(date="2026-13-40"), "date: '2026-13-40' is not a date YYYY-MM-DD"),
        (
            lambda d: d["technicians"][0].update(
                breaks=[{"start": "12:00", "end": "12:10", "duration_min": 0}]
            ),
            "technicians[0] (T1).breaks[0].duration_min: Input should be greater than 0",
        ),
        (
            lambda d: d["travel"].update(durations_min=[[0, 1], [1, 0]]),
            "travel.distances_km: has 4 rows, expected 2",
        ),
        (
            lambda d: d["travel"]["durations_min"][2].pop(),
            "travel.durations_min[2]: has 3 columns, expected 4 (the matrix must be square)",
        ),
        (lambda d: d["visits"][0].pop("duration_min"), "visits[0] (V1).duration_min: is required"),
        (lambda d: d["visits"][0].update(priority="asap"), "visits[0] (V1).priority:"),
    ],
)
def test_each_rule_names_its_field_and_id(change: Any, expected: str) -> None:
    day = line_day()
    change(day)
    found = errors_of(day)
    assert any(error.startswith(expected) for error in found), found


def test_matrix_index_without_matrix_and_missing_location() -> None:
    day = line_day()
    del day["travel"]
    found = errors_of(day)
    assert (
        "technicians[0] (T1).location_index: given but the problem has no 'travel' matrix" in found
    )
    day["visits"][0].pop("location_index")
    found = errors_of(day)
    assert any(e.startswith("visits[0] (V1).location: is required") for e in found)


def test_json_that_is_not_json() -> None:
    assert errors_of('{"date": "2026-11-23",') == [
        "not valid JSON: Expecting property name enclosed in double quotes at line 1, column 23"
    ]
    assert errors_of("[1, 2]") == ["a problem must be a JSON object"]


def test_message_names_what_and_counts() -> None:
    day = line_day()
    day["visits"][0]["window"] = {"start": "10:00", "end": "08:00"}
    with pytest.raises(InputError, match=r"invalid problem: 1 error\n  - visits\[0\] \(V1\)"):
        parse_problem(day)


def test_urgent_report_time_sets_a_deadline(day: dict[str, Any]) -> None:
    day["policy"]["urgent_response_min"] = 90
    day["visits"][0].update(priority="urgent", reported_at="10:40")
    day["visits"][1].update(priority="high", reported_at="10:40")
    problem = parse_problem(day)
    assert problem.visits[0].deadline is not None
    assert problem.visits[0].deadline.strftime("%H:%M") == "12:10"
    assert problem.visits[1].deadline is None
