"""Property tests: random small days, every plan checked by the independent checker.

The checker (``dispatch.verify``) re-derives every rule from the problem and plan JSON alone,
so these tests catch the engine's own bookkeeping agreeing with itself on a wrong answer.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from dispatch.contract.serialize import plan_document
from dispatch.contract.validate import parse_problem
from dispatch.planning import SolveParams, plan_day
from dispatch.verify import check_plan, matrix_lookup

QUICK = SolveParams(time_limit_s=1, metaheuristic="greedy_descent")
#: A day this test found: T0 alone may reach V0 (10 km radius), so the day splits into parts,
#: and the part of T1 and T2 held visits at 07:00 preferring T0, which OR-Tools could not plan
#: at all (the solver failed) until ``Instance.restricted`` dropped preferences for technicians
#: outside a part.
ABSENT_PREFERRED_DAY: dict[str, Any] = {
    "date": "2026-11-23",
    "timezone": "Asia/Shanghai",
    "travel": {
        "durations_min": [[0.0, 17.0, 0.0], [17.0, 0.0, 17.0], [0.0, 17.0, 0.0]],
        "distances_km": [[0.0, 10.2, 0.0], [10.2, 0.0, 10.2], [0.0, 10.2, 0.0]],
    },
    "policy": {"service_radius_km": 10},
    "technicians": [
        {
            "id": f"T{t}",
            "skills": [],
            "location_index": int(t == 0),
            "crew_size": 1,
            "shift": {"start": "06:00", "end": "10:00"},
        }
        for t in range(3)
    ],
    "visits": [
        {
            "id": f"V{v}",
            "location_index": int(v == 0),
            "duration_min": 10,
            "priority": "urgent",
            "required_skills": [],
            "crew_size": 1,
            "appointment": "07:00",
            **extra,
        }
        for v, extra in enumerate(
            [
                {"technician": "T0"},
                {"preferred_technician": "T0"},
                {},
                {"preferred_technician": "T0"},
                {"preferred_technician": "T1"},
            ]
        )
    ],
}
SKILLS = ("water_heater", "air_conditioner", "delivery")
#: Days and zones drawn: an ordinary day, and the nights New York and Berlin change their clocks
#: (shifts from midnight then span the change: every sum must be real minutes).
DATES = [
    ("2026-11-23", "Asia/Shanghai"),
    ("2026-11-23", "UTC"),
    ("2026-11-23", "America/New_York"),
    ("2026-03-08", "America/New_York"),
    ("2026-03-29", "Europe/Berlin"),
    ("2026-10-25", "Europe/Berlin"),
]


def clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def in_turn(breaks: list[dict[str, Any]]) -> bool:
    """Whether ``breaks`` can be taken one after another in the order their windows open."""
    free = 0
    for rest in sorted(breaks, key=lambda b: (b["start"], b["end"] - b["duration_min"])):
        start = max(free, rest["start"])
        if start + rest["duration_min"] > rest["end"]:
            return False
        free = start + rest["duration_min"]
    return True


def draw_breaks(draw: st.DrawFn, start: int, end: int) -> list[dict[str, Any]]:
    """None, a lunch, or a lunch and a rest whose windows may overlap it, in either order;
    none before 04:00, so that no window spans a change of the clocks (its wall minutes would
    not be its real ones)."""
    breaks: list[dict[str, Any]] = []
    earliest = max(start, 4 * 60)
    if end - 30 < earliest:
        return breaks
    for _ in range(draw(st.integers(0, 2))):
        opens = draw(st.integers(earliest, end - 30))
        length = draw(st.integers(10, 60))
        closes = min(end, opens + length + draw(st.integers(0, 90)))
        rest = {"start": opens, "end": closes, "duration_min": min(length, closes - opens)}
        if in_turn([*breaks, rest]):
            breaks.append(rest)
    return [{**rest, "start": clock(rest["start"]), "end": clock(rest["end"])} for rest in breaks]


@st.composite
def days(draw: st.DrawFn) -> dict[str, Any]:
    n_sites = draw(st.integers(min_value=3, max_value=9))
    points = draw(
        st.lists(
            st.tuples(st.integers(0, 40), st.integers(0, 40)), min_size=n_sites, max_size=n_sites
        )
    )
    minutes = [[round(math.dist(a, b), 1) for b in points] for a in points]
    km = [[round(m * 0.6, 2) for m in row] for row in minutes]
    technicians = []
    for t in range(draw(st.integers(1, 3))):
        start = draw(st.sampled_from([0, 60, 6 * 60, 7 * 60, 8 * 60, 9 * 60]))
        end = draw(st.integers(start + 4 * 60, 19 * 60))
        tech: dict[str, Any] = {
            "id": f"T{t}",
            "skills": draw(st.lists(st.sampled_from(SKILLS), unique=True, max_size=3)),
            "location_index": draw(st.integers(0, n_sites - 1)),
            "shift": {"start": clock(start), "end": clock(end)},
            "crew_size": draw(st.integers(1, 2)),
        }
        breaks = draw_breaks(draw, start, end)
        if breaks:
            tech["breaks"] = breaks
        if draw(st.booleans()):
            tech["capacity"] = {"weight_kg": draw(st.integers(50, 400))}
        technicians.append(tech)
    visits = []
    for v in range(draw(st.integers(1, 8))):
        visit: dict[str, Any] = {
            "id": f"V{v}",
            "location_index": draw(st.integers(0, n_sites - 1)),
            "duration_min": draw(st.integers(10, 120)),
            "priority": draw(st.sampled_from(["urgent", "high", "normal", "low"])),
            "required_skills": draw(st.lists(st.sampled_from(SKILLS), unique=True, max_size=1)),
            "crew_size": draw(st.sampled_from([1, 1, 1, 2])),
        }
        timing = draw(st.sampled_from(["appointment", "window", "none", "urgent"]))
        if timing == "appointment":
            visit["appointment"] = clock(draw(st.integers(60, 17 * 60)))
        elif timing == "window":
            open_at = draw(st.integers(3 * 60, 16 * 60))  # none in an hour the clocks skip
            visit["window"] = {
                "start": clock(open_at),
                "end": clock(open_at + draw(st.integers(0, 240))),
            }
        elif timing == "urgent":
            visit["priority"] = "urgent"
            visit["reported_at"] = clock(draw(st.integers(6 * 60, 15 * 60)))
        if draw(st.booleans()):
            visit["demand"] = {"weight_kg": draw(st.integers(1, 300))}
        if draw(st.integers(0, 9)) == 0:
            visit["technician"] = draw(st.sampled_from([t["id"] for t in technicians]))
        if draw(st.integers(0, 4)) == 0:
            visit["preferred_technician"] = draw(st.sampled_from([t["id"] for t in technicians]))
        visits.append(visit)
    date, zone = draw(st.sampled_from(DATES))
    return {
        "date": date,
        "timezone": zone,
        "travel": {"durations_min": minutes, "distances_km": km},
        "policy": {"service_radius_km": draw(st.sampled_from([10, 100]))},
        "technicians": technicians,
        "visits": visits,
    }


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(days())
@example(ABSENT_PREFERRED_DAY)
def test_every_plan_passes_the_independent_checker(raw: dict[str, Any]) -> None:
    problem = parse_problem(raw)
    plan = plan_day(problem, params=QUICK)
    document = plan_document(
        problem, plan, plan_id="pl_test", version=1, created_at=datetime(2026, 11, 22, tzinfo=UTC)
    ).model_dump(mode="json")
    report = check_plan(raw, document, matrix_lookup(raw))
    assert report.violations == (), report.violations

    routed = [stop["visit_id"] for route in document["routes"] for stop in route["stops"]]
    left = [item["visit_id"] for item in document["unassigned"]]
    assert sorted(routed + left) == sorted(v["id"] for v in raw["visits"])
    assert all(item["reason"] for item in document["unassigned"])
    kpis = document["kpis"]
    assert kpis["assigned"] == len(routed)
    by_priority = kpis["assigned_by_priority"]
    assert sum(c["assigned"] for c in by_priority.values()) == len(routed)
    assert sum(c["visits"] for c in by_priority.values()) == len(raw["visits"])
    assert kpis["early_band_rate"] == 1.0  # every routed appointment is reached in the band
