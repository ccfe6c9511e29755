"""Weeks from the ``fieldroute`` command: ``solve`` of a horizon, ``week`` to show a stored week,
``roll`` to the next horizon; exit codes, tables and what is stored."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from api.cli import app
from dispatch.desk import week as desk_week
from dispatch.desk.solve import check_day
from dispatch.persistence import Store
from dispatch.verify import CheckReport, Violation
from tests.api.test_weeks import week_horizon

runner = CliRunner()


@pytest.fixture(autouse=True)
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    return url


def write(path: Path, problem: dict[str, Any]) -> Path:
    path.write_text(json.dumps(problem), encoding="utf-8")
    return path


def stored_week(database: str, week_id: str) -> dict[str, Any]:
    store = Store(database)
    try:
        return store.load_week(week_id)
    finally:
        store.close()


def solve_week_file(tmp_path: Path, *extra: str) -> tuple[str, str]:
    """``fieldroute solve`` of the test horizon; its output and the week's id."""
    horizon = write(tmp_path / "week.json", week_horizon())
    result = runner.invoke(app, ["solve", str(horizon), "--time-limit", "1", "--seed", "3", *extra])
    assert result.exit_code == 0, result.output
    found = re.search(r"week (wk_[0-9a-f]+) \(problem", result.output)
    assert found, result.output
    return result.output, found.group(1)


def test_validate_accepts_a_horizon(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(write(tmp_path / "w.json", week_horizon()))])
    assert result.exit_code == 0, result.output
    assert "valid: horizon of 5 days from 2026-12-07 (Asia/Shanghai)" in result.output


def test_solve_a_horizon_stores_and_shows_its_week(tmp_path: Path, database: str) -> None:
    output, week_id = solve_week_file(tmp_path)
    week = stored_week(database, week_id)
    assert week["week_id"] == week_id and week["problem_id"].startswith("pb_")
    assert f"Week {week_id}: 2026-12-07 to 2026-12-11 (Asia/Shanghai)" in output
    for day in week["days"]:
        assert f"{day['date']}: plan {day['plan_id']}" in output
        for tech in day["technicians"]:
            assert tech["technician_id"] in output
    assert "beyond_horizon" in output and "L1" in output  # the week's unassigned
    assert "R2@2026-12-07" in output and "overdue" in output  # the rounds
    assert "checker: 0 violations" in output
    assert f"assigned {week['kpis']['assigned']}/8" in output
    store = Store(database)
    try:
        assert store.load_problem(week["problem_id"]) == week_horizon()
        for day in week["days"]:
            assert store.load_plan(day["plan_id"])["date"] == day["date"]
    finally:
        store.close()

    shown = runner.invoke(app, ["week", week_id])
    assert shown.exit_code == 0, shown.output
    assert f"Week {week_id}" in shown.output
    for day in week["days"]:
        assert f"{day['date']}: plan {day['plan_id']}" in shown.output
    as_json = runner.invoke(app, ["week", week_id, "--json"])
    assert as_json.exit_code == 0 and json.loads(as_json.stdout) == week


def test_a_week_whose_day_plan_breaks_a_rule_says_so(
    tmp_path: Path, database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked = check_day

    def faulting(raw: Any, *args: Any) -> CheckReport:
        report = checked(raw, *args)
        if raw["date"] != "2026-12-08":
            return report
        broken = Violation("late", "A1", "A1 reached after its appointment")
        return replace(report, violations=(*report.violations, broken))

    monkeypatch.setattr(desk_week, "check_day", faulting)
    output, week_id = solve_week_file(tmp_path)
    says = "the checker found 1 broken rules in the day plans (2026-12-08 1)"
    assert says in output and "checker: 1 violations" in output
    week = stored_week(database, week_id)  # stored all the same, as a single day is
    assert week["kpis"]["violations"] == 1
    shown = runner.invoke(app, ["week", week_id])
    assert shown.exit_code == 0 and says in shown.output


def test_solve_a_horizon_as_json_prints_the_week_alone(tmp_path: Path, database: str) -> None:
    horizon = write(tmp_path / "week.json", week_horizon())
    out = tmp_path / "out" / "week.json"
    result = runner.invoke(
        app, ["solve", str(horizon), "--time-limit", "1", "--json", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    week = json.loads(result.stdout)
    assert week == stored_week(database, week["week_id"])
    assert json.loads(out.read_text(encoding="utf-8")) == week
    assert f"week {week['week_id']} stored and written to {out}" in result.stderr


def test_a_bad_horizon_exits_2_naming_each_field_and_stores_nothing(
    tmp_path: Path, database: str
) -> None:
    bad = week_horizon()
    bad["visits"][0]["date"] = "2026-12-20"
    bad["visits"][3]["latest"] = "2026-12-08T09:00"
    result = runner.invoke(app, ["solve", str(write(tmp_path / "bad.json", bad))])
    assert result.exit_code == 2
    assert "invalid problem: 2 errors" in result.output
    assert "visits[0] (A1).date: 2026-12-20 is outside the horizon" in result.output
    assert "visits[3] (F2).latest: 2026-12-08T09:00 is before earliest" in result.output
    assert "Traceback" not in result.output
    store = Store(database)
    try:
        assert store.recent_problems(10) == [] and store.recent_weeks(10) == []
    finally:
        store.close()


def test_an_unknown_week_is_a_clear_error() -> None:
    result = runner.invoke(app, ["week", "wk_nope"])
    assert result.exit_code != 0 and "no week 'wk_nope'" in result.output
    result = runner.invoke(app, ["roll", "wk_nope", "--from", "2026-12-14"])
    assert result.exit_code != 0 and "no week 'wk_nope'" in result.output
    assert "Traceback" not in result.output


def test_roll_writes_the_next_horizon(tmp_path: Path) -> None:
    _, week_id = solve_week_file(tmp_path)
    result = runner.invoke(app, ["roll", week_id, "--from", "2026-12-14"])
    assert result.exit_code == 0, result.output
    horizon = json.loads(result.stdout)
    assert horizon["horizon"] == {"start": "2026-12-14", "days": 5}
    assert "L1" in {visit["id"] for visit in horizon["visits"]}, "after the week: still to do"

    out = tmp_path / "next" / "horizon.json"
    result = runner.invoke(
        app,
        ["roll", week_id, "--from", "2026-12-14", "--days", "3", "--assume-done", "-o", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert f"written to {out}" in result.output
    rolled = json.loads(out.read_text(encoding="utf-8"))
    assert rolled["horizon"] == {"start": "2026-12-14", "days": 3}
    valid = runner.invoke(app, ["validate", str(out)])
    assert valid.exit_code == 0, valid.output


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--from", "2026-13-01"], "--from"),
        (["--from", "2026-12-14", "--days", "0"], "--days"),
        ([], "--from"),
    ],
)
def test_roll_refuses_bad_options(args: list[str], says: str) -> None:
    result = runner.invoke(app, ["roll", "wk_x", *args])
    assert result.exit_code == 2 and says in result.output
