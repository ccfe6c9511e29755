"""The big-day benchmark's day of regions: ids stay unique, and the regions are independent
parts of the solver's instance (no technician may serve another region)."""

from __future__ import annotations

from benchmarks.big_days import region_day, run_day
from dispatch.contract.validate import parse_problem
from dispatch.planning.compile import compile_problem
from dispatch.travel import provider_for
from solver.parts import parts


def test_regions_are_unique_and_independent() -> None:
    raw = region_day(80, 2)
    ids = [v["id"] for v in raw["visits"]] + [t["id"] for t in raw["technicians"]]
    assert len(ids) == len(set(ids))
    problem = parse_problem(raw)
    instance, _ = compile_problem(problem, provider_for(problem))
    found = parts(instance)
    techs = problem.technicians
    for part in found:
        regions = {techs[v].id.split("-")[0] for v in part.vehicles}
        assert len(regions) == 1  # a part never mixes two regions
    assert len({techs[p.vehicles[0]].id.split("-")[0] for p in found}) == 2


def test_a_measured_day_is_checked_and_timed() -> None:
    row = run_day(region_day(40, 2), time_limit_s=2)
    assert row["violations"] == 0 and row["assigned"] > 0
    assert row["first_plan_s"] is not None and row["wall_s"] >= row["first_plan_s"]
