"""The solve use case shared by ``fieldroute solve`` and the service's solve jobs."""

from __future__ import annotations

from typing import Any

import pytest

from dispatch.contract.record import read_record
from dispatch.contract.validate import parse_problem
from dispatch.desk import solve as solve_module
from dispatch.desk.solve import solve_day, solve_params
from dispatch.model import Plan
from dispatch.planning import SolveParams, plan_day
from tests.conftest import line_day

QUICK = SolveParams(time_limit_s=1, metaheuristic="greedy_descent", seeders=())


def test_params_follow_the_policy_unless_given_and_a_seed_makes_them_reproducible() -> None:
    problem = parse_problem(line_day(policy={"time_limit_s": 7}))
    assert solve_params(problem, None, None) == SolveParams(time_limit_s=7)
    assert solve_params(problem, 3, None) == SolveParams(time_limit_s=3)
    assert solve_params(problem, None, 5) == SolveParams(time_limit_s=7, seed=5, reproducible=True)


def test_the_plan_is_checked_then_saved_as_returned_with_its_record() -> None:
    raw = line_day()
    saved: list[tuple[dict[str, Any], dict[str, Any]]] = []
    solved = solve_day(
        raw,
        parse_problem(raw),
        params=QUICK,
        save=lambda plan, record: saved.append((plan, record)),
        plan_id="pl_x",
    )
    [(document, record)] = saved
    assert document == solved.document.model_dump(mode="json")
    first = read_record(record).routes[0].stops[0]
    assert first.visit_id == document["routes"][0]["stops"][0]["visit_id"]
    assert first.arrival.isoformat() == document["routes"][0]["stops"][0]["arrival"]
    assert solved.document.plan_id == "pl_x" and solved.document.kpis.assigned == 3
    assert solved.report.violations == ()


def test_a_plan_that_breaks_the_contract_is_reported(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    raw = line_day()
    raw["visits"][0]["window"] = {"start": "08:00", "end": "08:05"}
    real = plan_day  # the function dispatch.desk.solve calls

    def late(problem: Any, **kwargs: Any) -> Plan:
        # The engine's own plan without the first visit's window: it is served too late.
        plan: Plan = real(parse_problem(line_day()), **kwargs)
        return plan

    monkeypatch.setattr(solve_module, "plan_day", late)
    saved: list[dict[str, Any]] = []
    solved = solve_day(
        raw, parse_problem(raw), params=QUICK, save=lambda plan, _record: saved.append(plan)
    )
    assert solved.report.violations and saved, "reported, and stored all the same"
    assert "breaks" in caplog.text
