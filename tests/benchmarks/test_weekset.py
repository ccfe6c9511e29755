"""The generated weeks: deterministic, inside their horizon, with the documented mix, and
written without the engine."""

from __future__ import annotations

import calendar
import json
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from benchmarks.dayset import POLICY
from benchmarks.weekset import GENERAL_RESPONSE_H, START, generate_week, main

ROOT = Path(__file__).parents[2]
CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T([01]\d|2[0-3]):[0-5]\d$")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ENGINE = ("dispatch", "solver", "api", "maps")

Week = dict[str, Any]


@pytest.fixture(scope="module")
def week() -> Week:
    """A five-day week of 100 visits a day."""
    return generate_week(100, 2026)


@pytest.fixture(scope="module")
def full_week() -> Week:
    """Monday to Sunday, 80 visits a weekday."""
    return generate_week(80, 5, days=7)


def horizon_dates(week: Week) -> list[date]:
    first = date.fromisoformat(week["horizon"]["start"])
    return [first + timedelta(days=k) for k in range(week["horizon"]["days"])]


def minutes(clock: str) -> int:
    return int(clock[:2]) * 60 + int(clock[3:5])


def shift_on(row: Mapping[str, Any], day: date) -> tuple[int, int] | None:
    """The contract's reading of a calendar: a date override, then days off, then the
    weekday, then the usual shift; ``None`` when off."""
    cal = row.get("calendar") or {}
    text = day.isoformat()
    weekdays = cal.get("weekdays", {})
    if text in cal.get("dates", {}):
        workday = cal["dates"][text]
    elif text in cal.get("days_off", []):
        return None
    elif WEEKDAYS[day.weekday()] in weekdays:
        workday = weekdays[WEEKDAYS[day.weekday()]]
    else:
        workday = {"shift": row["shift"]}
    if workday is None:
        return None
    return minutes(workday["shift"]["start"]), minutes(workday["shift"]["end"])


def add_months(day: date, months: int) -> date:
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def due_dates(row: Mapping[str, Any], dates: list[date]) -> list[date]:
    """A round's due dates in the horizon, as ``docs/contract.md`` (Rounds) counts them."""
    every = row["every"]

    def after(day: date) -> date:
        if "weeks" in every:
            return day + timedelta(weeks=every["weeks"])
        return add_months(day, every["months"])

    tolerance = timedelta(days=row["tolerance_days"])
    due = after(date.fromisoformat(row["last_served"]))
    if due + tolerance < dates[0]:
        due = dates[0]  # overdue
    found = []
    while due - tolerance <= dates[-1]:
        found.append(due)
        due = after(due)
    return found


def category(visit: Mapping[str, Any]) -> str:
    if "appointment" in visit:
        return "appointment"
    if "window" in visit:
        return "window"
    if "reported_at" in visit:
        return "urgent" if visit["priority"] == "urgent" else "general"
    if "earliest" in visit or "latest" in visit:
        return "span"
    return "other"


def test_same_seed_same_week_other_seed_other_week() -> None:
    assert generate_week(30, 7) == generate_week(30, 7)
    assert generate_week(30, 7) != generate_week(30, 8)


def test_cli_writes_the_week(tmp_path: Path) -> None:
    out = tmp_path / "week.json"
    assert main(["--visits-per-day", "20", "--seed", "3", "--days", "3", "-o", str(out)]) == 0
    assert json.loads(out.read_text(encoding="utf-8")) == generate_week(20, 3, days=3)


@pytest.mark.parametrize(
    ("visits", "days", "message"),
    [(9, 5, "at least 10"), (20, 0, "between 1 and 28"), (20, 29, "between 1 and 28")],
)
def test_bad_sizes_are_refused(visits: int, days: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        generate_week(visits, 1, days=days)


def test_the_week_is_a_monday_horizon_with_the_day_policy(week: Week) -> None:
    assert week["horizon"] == {"start": "2026-12-07", "days": 5}
    assert START.weekday() == 0 and START.isoformat() == week["horizon"]["start"]
    assert week["timezone"] == "Asia/Shanghai"
    assert "date" not in week
    policy = week["policy"]
    assert policy["general_response_h"] == GENERAL_RESPONSE_H == 24
    assert policy["time_limit_s"] == POLICY["time_limit_s"]
    assert {k: v for k, v in policy.items() if k != "general_response_h"} == POLICY
    ids = [v["id"] for v in week["visits"]] + [r["id"] for r in week["rounds"]]
    ids += [t["id"] for t in week["technicians"]]
    assert len(ids) == len(set(ids))
    assert not any("@" in i for i in ids)  # the engine's occurrence ids stay free


def test_fixed_visits_have_a_date_inside_the_horizon(week: Week) -> None:
    dates = {d.isoformat() for d in horizon_dates(week)}
    fixed = [v for v in week["visits"] if "date" in v]
    assert fixed
    for visit in fixed:
        assert visit["date"] in dates, visit["id"]
        assert ("appointment" in visit) != ("window" in visit), visit["id"]
        assert not {"earliest", "latest", "reported_at"} & visit.keys(), visit["id"]
        clocks = [visit.get("appointment"), *(visit.get("window") or {}).values()]
        assert all(c is None or CLOCK.match(c) for c in clocks), visit["id"]
        if "window" in visit:
            assert minutes(visit["window"]["start"]) < minutes(visit["window"]["end"])
    # Every weekday has its fixed work.
    assert set(Counter(v["date"] for v in fixed)) == dates


def test_spans_end_after_they_start(week: Week) -> None:
    spans = [v for v in week["visits"] if "earliest" in v or "latest" in v]
    assert spans
    start = datetime.fromisoformat(f"{week['horizon']['start']}T00:00")
    for visit in spans:
        assert not {"date", "appointment", "window", "reported_at"} & visit.keys(), visit["id"]
        for key in ("earliest", "latest"):
            assert key not in visit or MOMENT.match(visit[key]), (visit["id"], visit[key])
        if "earliest" in visit:
            assert datetime.fromisoformat(visit["earliest"]) >= start, visit["id"]
        if "earliest" in visit and "latest" in visit:
            earliest = datetime.fromisoformat(visit["earliest"])
            latest = datetime.fromisoformat(visit["latest"])
            assert latest - earliest >= timedelta(hours=12), visit["id"]
    assert any("earliest" not in v for v in spans)  # "by Thursday 18:00"
    assert sum("earliest" in v and "latest" in v for v in spans) > len(spans) / 2


@pytest.mark.parametrize("fixture", ["week", "full_week"])
def test_faults_are_reported_on_working_days_during_shifts(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    week: Week = request.getfixturevalue(fixture)
    dates = horizon_dates(week)
    people = [t for t in week["technicians"] if t["crew_size"] == 1]
    faults = [v for v in week["visits"] if "reported_at" in v]
    assert faults
    for visit in faults:
        assert MOMENT.match(visit["reported_at"]), visit["id"]
        assert not {"date", "appointment", "window", "earliest", "latest"} & visit.keys()
        reported = datetime.fromisoformat(visit["reported_at"])
        assert reported.date() in dates, visit["id"]
        shifts = [s for t in people if (s := shift_on(t, reported.date())) is not None]
        assert shifts, f"{visit['id']} is reported on {reported.date()}, when nobody works"
        clock = reported.hour * 60 + reported.minute
        assert min(s for s, _ in shifts) <= clock <= max(e for _, e in shifts), visit["id"]
        if visit["priority"] == "urgent":
            need = set(visit["required_skills"])
            holders = [
                s
                for t in people
                if need <= set(t["skills"]) and (s := shift_on(t, reported.date())) is not None
            ]
            # Reported while a holder of the skill works, with the response time still to run.
            assert any(s <= clock and clock + 120 <= e for s, e in holders), visit["id"]


@pytest.mark.parametrize("fixture", ["week", "full_week"])
def test_calendars_have_days_off_a_late_shift_and_saturdays(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    week: Week = request.getfixturevalue(fixture)
    dates = horizon_dates(week)
    weekdays = {d.isoformat() for d in dates if d.weekday() < 5}
    rows = week["technicians"]
    for row in rows:
        cal = row["calendar"]
        assert cal["weekdays"]["sun"] is None, row["id"]
        assert set(cal["weekdays"]) <= set(WEEKDAYS)
        sat = cal["weekdays"]["sat"]
        assert sat is None or sat == {"shift": {"start": "09:00", "end": "13:00"}}
        assert set(cal.get("days_off", [])) <= weekdays, row["id"]
        assert set(cal.get("dates", {})) <= weekdays, row["id"]
        assert not set(cal.get("days_off", [])) & set(cal.get("dates", {})), row["id"]
    off = [row["id"] for row in rows if row["calendar"].get("days_off")]
    late = [row["calendar"]["dates"] for row in rows if row["calendar"].get("dates")]
    saturday = [row["id"] for row in rows if row["calendar"]["weekdays"]["sat"]]
    assert 1 <= len(off) <= max(1, 0.15 * len(rows))
    assert 1 <= len(late) <= 2
    for override in late:
        (workday,) = override.values()
        assert workday["shift"] == {"start": "12:00", "end": "20:00"}
        assert workday["breaks"][0]["duration_min"] > 0
    assert 1 <= len(saturday) <= 0.4 * len(rows)


@pytest.mark.parametrize("seed", range(6))
def test_nobody_on_leave_is_the_last_at_work_holding_a_skill(seed: int) -> None:
    week = generate_week(20, seed)  # a small roster: one or two holders per trade
    rows = week["technicians"]
    for day in horizon_dates(week):
        at_work = [set(r["skills"]) for r in rows if shift_on(r, day) is not None]
        for row in rows:
            for skill in row["skills"]:
                assert any(skill in skills for skills in at_work), (day, skill)


def test_rounds_are_weekly_cctv_and_monthly_maintenance_due_in_the_horizon(week: Week) -> None:
    dates = horizon_dates(week)
    technicians = {t["id"]: t for t in week["technicians"]}
    rounds = week["rounds"]
    assert rounds
    for row in rounds:
        for key in ("customer", "address", "location", "kind", "duration_min"):
            assert row[key], (row["id"], key)
        every = row["every"]
        assert len(every) == 1 and next(iter(every.values())) > 0, row["id"]
        last = date.fromisoformat(row["last_served"])
        assert dates[0] - timedelta(days=35) <= last < dates[0], row["id"]
        assert due_dates(row, dates), f"{row['id']} is written but not due in the horizon"
        if row["required_skills"] == ["cctv"]:
            assert every == {"weeks": 1} and row["kind"] == "inspection"
            assert 1 <= row["tolerance_days"] <= 2
        else:
            assert row["required_skills"] in (["air_conditioner"], ["water_heater"])
            assert every in ({"months": 1}, {"weeks": 4}) and row["kind"] == "maintenance"
            assert 2 <= row["tolerance_days"] <= 3
        if "preferred_technician" in row:
            preferred = technicians[row["preferred_technician"]]
            assert set(row["required_skills"]) <= set(preferred["skills"])
    overdue = [
        r
        for r in rounds
        if date.fromisoformat(r["last_served"]) + timedelta(weeks=1, days=r["tolerance_days"])
        < dates[0]
        and r["every"] == {"weeks": 1}
    ]
    assert overdue
    assert {r["every"].get("months", 0) for r in rounds} == {0, 1}
    assert any(r["every"] == {"weeks": 4} for r in rounds)
    assert any("preferred_technician" in r for r in rounds)


def test_a_week_has_the_documented_mix(week: Week) -> None:
    dates = horizon_dates(week)
    occurrences = sum(len(due_dates(r, dates)) for r in week["rounds"])
    total = len(week["visits"]) + occurrences
    assert total == 100 * 5
    kinds = Counter(category(v) for v in week["visits"])
    share = {k: n / total for k, n in kinds.items()}
    assert kinds["other"] == 0
    assert 0.27 <= share["appointment"] <= 0.32
    assert 0.22 <= share["window"] <= 0.27
    assert 0.04 <= share["urgent"] <= 0.06
    assert 0.15 <= share["general"] <= 0.25
    assert 0.06 <= share["span"] <= 0.10
    assert 0.10 <= occurrences / total <= 0.15
    assert any(v.get("demand") and v.get("crew_size") == 2 for v in week["visits"])
    for visit in week["visits"]:  # dayset's fields came along
        for key in ("customer", "address", "phone", "location", "duration_min", "kind"):
            assert visit[key], (visit["id"], key)
    # A few follow-ups and requests keep a technician of the roster who works that day.
    named = [v for v in week["visits"] if "technician" in v or "preferred_technician" in v]
    assert named
    technicians = {t["id"]: t for t in week["technicians"]}
    for visit in named:
        for key in ("technician", "preferred_technician"):
            if key in visit:
                assert set(visit["required_skills"]) <= set(technicians[visit[key]]["skills"])
        if "technician" in visit and "date" in visit:
            day = date.fromisoformat(visit["date"])
            assert shift_on(technicians[visit["technician"]], day) is not None, visit["id"]


def test_sizes_scale_with_the_visits_per_day() -> None:
    small, large = generate_week(50, 4), generate_week(200, 4)
    dates = horizon_dates(small)
    for week, visits in ((small, 50), (large, 200)):
        occurrences = sum(len(due_dates(r, dates)) for r in week["rounds"])
        assert len(week["visits"]) + occurrences == 5 * visits
    assert 3 <= len(large["technicians"]) / len(small["technicians"]) <= 5
    assert 2 <= len(large["rounds"]) / len(small["rounds"]) <= 6
    assert len(generate_week(50, 4, days=3)["visits"]) < len(small["visits"])


def test_only_faults_come_on_saturday_and_nothing_on_sunday(full_week: Week) -> None:
    saturday, sunday = (START + timedelta(days=k) for k in (5, 6))
    on: Counter[date] = Counter()
    for visit in full_week["visits"]:
        when = visit.get("date") or visit.get("reported_at") or visit.get("earliest")
        if when is not None:
            on[date.fromisoformat(when[:10])] += 1
            assert date.fromisoformat(when[:10]) != saturday or "reported_at" in visit
    assert 0 < on[saturday] < on[START] / 2
    assert on[sunday] == 0


def test_the_generator_imports_nothing_of_the_engine() -> None:
    probe = (
        "import sys, benchmarks.weekset\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {ENGINE!r}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


def test_a_generated_week_passes_the_contract(week: Week) -> None:
    horizon = pytest.importorskip(
        "dispatch.contract.horizon",
        reason="dispatch.contract.horizon (parse_horizon) is not written yet",
    )
    parsed = horizon.parse_horizon(week)  # raises on any contract violation
    dates = horizon_dates(week)
    occurrences = sum(len(due_dates(r, dates)) for r in week["rounds"])
    assert len(parsed.dates) == 5
    assert len(parsed.rounds) == occurrences
    assert len(parsed.visits) + len(parsed.beyond) == len(week["visits"]) + occurrences


def test_the_shipped_example_week_is_the_generator_output_at_60_a_day_seed_2026() -> None:
    from pathlib import Path

    example = Path(__file__).parents[2] / "examples" / "changan-week.json"
    assert json.loads(example.read_text(encoding="utf-8")) == generate_week(60, 2026)
