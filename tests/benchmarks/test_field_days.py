"""The field-day benchmark: each solver's plan of a generated day, counted and checked alike."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import benchmarks.field_days as field_days
from benchmarks.field_days import main, run_size
from dispatch.planning.compile import PRIORITY_WEIGHT


@pytest.mark.slow
@pytest.mark.parametrize("solver", ["ours", "ours-unseeded", "vroom"])
def test_each_solver_plans_a_small_day_without_violations(solver: str) -> None:
    row = run_size(30, 2.0, solver)
    assert row["solver"] == solver
    assert row["violations"] == 0
    assert 0 < row["assigned"] <= 30
    # Every assigned visit weighs at least the lowest priority, at most the highest.
    lowest, highest = min(PRIORITY_WEIGHT.values()), max(PRIORITY_WEIGHT.values())
    assert lowest * row["assigned"] <= row["weighted"] <= highest * row["assigned"]
    assert row["peak_mb"] > 0


def test_a_failed_run_is_a_row_saying_why(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = {
        "ours": {
            "visits": 10,
            "solver": "ours",
            "technicians": 2,
            "assigned": 9,
            "weighted": 40,
            "by_priority": "U1/1",
            "left_out_radius": 0,
            "early_band": "3/3",
            "on_time": 1.0,
            "km": 12.5,
            "wall_s": 1.0,
            "peak_mb": 90,
            "violations": 0,
        },
        "vroom": {"visits": 10, "solver": "vroom", "failed": "SolverError: vehicle 0"},
    }
    monkeypatch.setattr(field_days, "_run_child", lambda size, solver, limit: rows[solver])
    assert main(["--sizes", "10", "--time-limit", "1", "--no-record"]) == 0
    out = capsys.readouterr().out
    assert json.loads(out.splitlines()[0])["assigned"] == 9
    assert "| 10 | ours | 2 | 9 | U1/1 | 40 | 0 | 3/3 | 100% | 12.5 | 1.0 | 90 | 0 |" in out
    assert "| 10 | vroom | failed: SolverError: vehicle 0 |" in out
