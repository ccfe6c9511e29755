"""Field days through ``fieldroute serve`` beside the engine run directly."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from benchmarks.field_seeds import WEIGHT, generate
from benchmarks.service_days import judged, main
from dispatch.contract.serialize import plan_document
from dispatch.contract.validate import parse_problem
from dispatch.planning import SolveParams, plan_day


def test_each_day_is_planned_both_ways_and_the_table_is_recorded(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = tmp_path / "RESULTS.md"
    monkeypatch.setattr("benchmarks.results.RESULTS", results)
    argv = ["--makes", "city", "--sizes", "20", "--seeds", "2", "--budgets", "1"]
    assert main(argv) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line[:1] == "{"]
    assert [(row["make"], row["seed"]) for row in rows] == [("city", 1), ("city", 2)]
    for row in rows:
        for way in ("direct", "service"):
            plan = row[way]
            assert plan["weighted"] > 0 and plan["violations"] == 0, row
            assert 0 < plan["wall_s"] < 30, row
    text = results.read_text()
    assert "python -m benchmarks.service_days --makes city --sizes 20" in text
    assert "| city | 20 | 1 | 2 |" in text


def test_a_plan_is_weighed_by_priority_and_judged_by_the_checker() -> None:
    raw = generate("dayset", 12, 3)
    problem = parse_problem(raw)
    plan = plan_day(problem, params=SolveParams(time_limit_s=1, seeders=()))
    document = plan_document(
        problem, plan, plan_id="pl_bench", version=1, created_at=datetime.now(UTC)
    ).model_dump(mode="json")
    priority = {visit.id: WEIGHT[visit.priority.label] for visit in problem.visits}
    served = [stop.visit_id for route in plan.routes for stop in route.stops]
    assert served
    found = judged(raw, document)
    assert found["weighted"] == sum(priority[visit_id] for visit_id in served)
    assert found["violations"] == 0
    # A stop served twice breaks the contract: the checker's finding is counted.
    twice = copy.deepcopy(document)
    route = next(route for route in twice["routes"] if route["stops"])
    route["stops"].append(route["stops"][0])
    assert judged(raw, twice)["violations"] >= 1
