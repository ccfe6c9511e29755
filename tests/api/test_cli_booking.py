"""``fieldroute slots`` and ``fieldroute book``: a table of slots, booking by rank or by time,
a refused slot with the fresh ones, and an impossible visit's reason."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from api.cli import app
from dispatch.persistence import Store
from tests.api.test_cli_weeks import solve_week_file
from tests.dispatch.test_replan import make_day

runner = CliRunner()

NEW_VISIT = {"id": "N1", "location_index": 3, "duration_min": 45, "customer": "[bold]Wu[/]"}


@pytest.fixture(autouse=True)
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    return url


def write(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def solved(tmp_path: Path) -> str:
    out = tmp_path / "plan.json"
    result = runner.invoke(
        app, ["solve", str(write(tmp_path / "day.json", make_day())), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    plan_id: str = json.loads(out.read_text(encoding="utf-8"))["plan_id"]
    return plan_id


def test_slots_table_then_book_the_best(tmp_path: Path, database: str) -> None:
    plan_id = solved(tmp_path)
    visit = write(tmp_path / "visit.json", NEW_VISIT)
    shown = runner.invoke(app, ["slots", plan_id, str(visit), "--shape", "appointment"])
    assert shown.exit_code == 0, shown.output
    assert "Slots for N1" in shown.output and "grade" in shown.output
    listed = runner.invoke(app, ["slots", plan_id, str(visit), "--shape", "appointment", "--json"])
    best = json.loads(listed.stdout)["slots"][0]
    booked = runner.invoke(app, ["book", plan_id, str(visit), "1", "--shape", "appointment"])
    assert booked.exit_code == 0, booked.output
    assert f"plan {plan_id} version 2 stored" in booked.output
    assert "new visit (booked)" in booked.output
    raw = Store(database).load_problem_of_plan(plan_id, 2)
    row = next(v for v in raw["visits"] if v["id"] == "N1")
    assert row["appointment"] == best["slot"]["appointment"]
    assert row["customer"] == "[bold]Wu[/]"


def test_book_by_time_and_a_refused_slot_shows_fresh_ones(tmp_path: Path, database: str) -> None:
    plan_id = solved(tmp_path)
    visit = write(tmp_path / "visit.json", NEW_VISIT)
    # 08:00 at site 3 means leaving before the shift: refused, the fresh slots are shown.
    refused = runner.invoke(app, ["book", plan_id, str(visit), "08:00"])
    assert refused.exit_code == 1
    assert "no technician can take visit N1" in refused.output
    assert "Slots for N1" in refused.output
    assert Store(database).plan_versions(plan_id) == [1]
    booked = runner.invoke(app, ["book", plan_id, str(visit), "14:00-16:00@T1"])
    assert booked.exit_code == 0, booked.output
    plan = Store(database).load_plan(plan_id)
    stop = next(s for r in plan["routes"] for s in r["stops"] if s["visit_id"] == "N1")
    assert "14:00" <= stop["service_start"][11:16] <= "16:00"


def test_an_impossible_visit_says_why_and_exits_1(tmp_path: Path) -> None:
    plan_id = solved(tmp_path)
    visit = write(tmp_path / "visit.json", {**NEW_VISIT, "required_skills": ["gas"]})
    result = runner.invoke(app, ["slots", plan_id, str(visit)])
    assert result.exit_code == 1
    assert "no slot: no_skill" in result.output and "'gas'" in result.output


def test_bad_visit_file_exits_2(tmp_path: Path, database: str) -> None:
    plan_id = solved(tmp_path)
    visit = write(tmp_path / "visit.json", {**NEW_VISIT, "apointment": "10:00"})
    result = runner.invoke(app, ["slots", plan_id, str(visit)])
    assert result.exit_code == 2
    assert "visit (N1).apointment: unknown key" in result.output
    assert "Traceback" not in result.output
    # "²".isdigit() is true: once read as a rank, int() ended it in a traceback.
    good = write(tmp_path / "good.json", NEW_VISIT)
    result = runner.invoke(app, ["book", plan_id, str(good), "²"])
    assert result.exit_code == 2 and "'²' is not a time HH:MM" in result.output
    # A window without its end was booked as an appointment at its start (a hunt of bookings).
    result = runner.invoke(app, ["book", plan_id, str(good), "14:30-"])
    assert result.exit_code == 2 and "'14:30-': give HH:MM" in result.output
    assert Store(database).plan_versions(plan_id) == [1]


def test_slots_between_two_dates_of_a_week_and_book_one(tmp_path: Path, database: str) -> None:
    _, week_id = solve_week_file(tmp_path)
    week = Store(database).load_week(week_id)
    plans = {day["date"]: day["plan_id"] for day in week["days"]}
    visit = {
        "id": "B1",
        "location": {"lat": 22.545, "lon": 113.945},
        "duration_min": 30,
        "required_skills": ["cctv"],
    }
    path = write(tmp_path / "b1.json", visit)
    span = ["--from", "2026-12-08", "--to", "2026-12-10"]
    listed = runner.invoke(app, ["slots", week_id, str(path), *span, "--json"])
    assert listed.exit_code == 0, listed.output
    found = json.loads(listed.stdout)["slots"]
    # Only T1 has cctv, and T1 is off on the 9th.
    assert found and {s["date"] for s in found} <= {"2026-12-08", "2026-12-10"}
    assert {s["technician_id"] for s in found} == {"T1"}
    assert all(s["plan_id"] == plans[s["date"]] for s in found)
    grades = [s["grade"] for s in found]
    assert grades == sorted(grades)
    booked = runner.invoke(app, ["book", week_id, str(path), "1", *span])
    assert booked.exit_code == 0, booked.output
    day_plan = plans[found[0]["date"]]
    assert Store(database).plan_versions(day_plan) == [1, 2]


def test_a_plan_of_today_is_offered_and_booked_from_the_commands_clock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without ``--at``: a plan of today (2026-11-23 in Shanghai, by the command's clock) is
    offered from now and booked at now; a plan of a later day from its start; a plan of a day
    already over offers nothing."""
    from api import cli

    plan_id = solved(tmp_path)
    visit = write(tmp_path / "visit.json", NEW_VISIT)
    command = ["slots", plan_id, str(visit), "--shape", "appointment", "--json"]
    shanghai = ZoneInfo("Asia/Shanghai")
    monkeypatch.setattr(cli, "_now", lambda: datetime(2026, 11, 16, 14, 10, tzinfo=shanghai))
    other_day = json.loads(runner.invoke(app, command).stdout)["slots"]
    assert min(s["start"][11:16] for s in other_day) < "14:00"
    monkeypatch.setattr(cli, "_now", lambda: datetime(2026, 11, 30, 14, 10, tzinfo=shanghai))
    over = runner.invoke(app, command)
    assert over.exit_code == 2, over.output
    assert "a day already over (today is 2026-11-30 in Asia/Shanghai)" in over.output
    monkeypatch.setattr(cli, "_now", lambda: datetime(2026, 11, 23, 14, 10, tzinfo=shanghai))
    today = json.loads(runner.invoke(app, command).stdout)["slots"]
    assert today and min(s["start"][11:16] for s in today) >= "14:30"
    booked = runner.invoke(
        app, ["book", plan_id, str(visit), "1", "--shape", "appointment", "--json"]
    )
    assert booked.exit_code == 0, booked.output
    assert json.loads(booked.stdout)["at"][11:16] == "14:10"


def test_a_week_s_slot_of_a_later_date_is_booked_as_offered_with_at(
    tmp_path: Path, database: str
) -> None:
    # --at is the clock time of the span's first working date (12-08): the 10th is not under
    # way, its morning is offered. Booked with the same --at, that slot was refused (409), the
    # booking reading 13:40 on the 10th (a fresh-eyes hunt of the week's booking).
    _, week_id = solve_week_file(tmp_path)
    visit = {"id": "B1", "location": {"lat": 22.545, "lon": 113.945}, "duration_min": 30,
             "required_skills": ["cctv"]}  # fmt: skip
    path = write(tmp_path / "b1.json", visit)
    asked = ["--from", "2026-12-08", "--to", "2026-12-10", "--at", "13:40"]
    listed = runner.invoke(app, ["slots", week_id, str(path), *asked, "--json"])
    assert listed.exit_code == 0, listed.output
    found = json.loads(listed.stdout)["slots"]
    assert all(s["service_start"][11:16] >= "13:40" for s in found if s["date"] == "2026-12-08")
    rank = next(
        k
        for k, s in enumerate(found, start=1)
        if s["date"] == "2026-12-10" and s["service_start"][11:16] < "13:40"
    )
    booked = runner.invoke(app, ["book", week_id, str(path), str(rank), *asked, "--json"])
    assert booked.exit_code == 0, booked.output
    document = json.loads(booked.stdout)
    assert document["date"] == "2026-12-10"
    stop = next(s for r in document["routes"] for s in r["stops"] if s["visit_id"] == "B1")
    assert stop["service_start"] == found[rank - 1]["service_start"]


def test_a_week_offers_no_date_already_over(
    tmp_path: Path, database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The week runs 2026-12-07 to 12-11; on the morning of the 9th (Shanghai) its slots start
    that day, the two dates gone left out, and a span all gone is refused, naming it."""
    from api import cli

    _, week_id = solve_week_file(tmp_path)
    visit = {"id": "B1", "location": {"lat": 22.545, "lon": 113.945}, "duration_min": 30,
             "required_skills": ["cctv"]}  # fmt: skip
    path = write(tmp_path / "b1.json", visit)
    shanghai = ZoneInfo("Asia/Shanghai")
    for today, first in ((1, "2026-12-07"), (9, "2026-12-09")):
        monkeypatch.setattr(cli, "_now", lambda d=today: datetime(2026, 12, d, 7, tzinfo=shanghai))
        listed = runner.invoke(app, ["slots", week_id, str(path), "--json"])
        assert listed.exit_code == 0, listed.output
        dates = {s["date"] for s in json.loads(listed.stdout)["slots"]}
        assert dates and min(dates) >= first and (today == 9 or min(dates) < "2026-12-09")
    gone = ["--from", "2026-12-07", "--to", "2026-12-08"]
    refused = runner.invoke(app, ["slots", week_id, str(path), *gone])
    assert refused.exit_code == 2, refused.output
    said = " ".join(refused.output.split())
    assert "first_date" in said
    assert "(2026-12-07 to 2026-12-08) are over (today is 2026-12-09" in said
