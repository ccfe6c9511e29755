"""The field-day benchmark: each solver's plan of a generated day, counted and checked alike."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import benchmarks.field_days as field_days
from benchmarks.dayset import generate_day
from benchmarks.field_days import main, run_size
from dispatch.model import Priority
from dispatch.planning.compile import PRIORITY_WEIGHT
from dispatch.verify import check_plan


@pytest.mark.slow
@pytest.mark.parametrize("solver", ["ours", "ours-unseeded", "vroom"])
def test_each_solver_plans_a_small_day_without_violations(
    solver: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Keep the plan the benchmark checks, to recompute its figures from the plan itself.
    documents: list[dict[str, Any]] = []

    def keep_and_check(raw: Any, document: dict[str, Any], lookup: Any) -> Any:
        documents.append(document)
        return check_plan(raw, document, lookup)

    monkeypatch.setattr(field_days, "check_plan", keep_and_check)
    row = run_size(30, 2.0, solver)
    (document,) = documents
    priority = {
        visit["id"]: Priority[visit.get("priority", "normal").upper()]
        for visit in generate_day(30, field_days.SEED)["visits"]
    }
    stops = [stop for route in document["routes"] for stop in route["stops"]]
    served = [stop["visit_id"] for stop in stops]
    assert (row["solver"], row["visits"], row["assigned"]) == (solver, 30, len(served))
    assert row["violations"] == 0
    # Every urgent visit is served (the small day has some), and every visit within reach:
    # the only ones left out are beyond every technician's radius.
    urgent = {visit for visit, level in priority.items() if level is Priority.URGENT}
    assert len(urgent) == 2 and urgent <= set(served)
    assert [item["code"] for item in document["unassigned"]] == ["radius"] * row["left_out_radius"]
    assert row["assigned"] == 30 - row["left_out_radius"]
    # Nobody is late, and every appointment is reached inside the early band.
    assert row["on_time"] == 1.0 and all(stop["late_min"] == 0 for stop in stops)
    in_band, appointments = map(int, row["early_band"].split("/"))
    assert in_band == appointments > 0
    # The priority-weighted figure and the by-priority column, recomputed from the plan.
    assert row["weighted"] == sum(PRIORITY_WEIGHT[priority[visit]] for visit in served)
    counts = " ".join(
        f"{level.label[0].upper()}{sum(priority[v] is level for v in served)}"
        f"/{sum(p is level for p in priority.values())}"
        for level in sorted(Priority, reverse=True)
    )
    assert row["by_priority"] == counts


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
