"""Property: a delay never costs a visit that a route could still keep.

Random generated days are planned and stored, then one technician is reported late at a random
time. Only the late technician's own visits may become impossible; every other route still holds
as it was. On a stored 250-visit day a 35-minute delay used to drop 117 visits: the warm start
checked routes until its time ran out and dropped every route it had not checked.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.dayset import generate_day
from benchmarks.vrptw import data_dir
from dispatch.contract.record import plan_record
from dispatch.contract.serialize import plan_document
from dispatch.contract.validate import parse_problem
from dispatch.desk.replan import replan_stored
from dispatch.model import Priority
from dispatch.persistence import Store
from dispatch.planning import SolveParams, plan_day
from dispatch.planning.compile import PRIORITY_WEIGHT, PROMISED_WEIGHT

PRIORITIES = {priority.label: priority for priority in Priority}
#: The first plan: OR-Tools alone, to its first local optimum (quick and deterministic).
FIRST = SolveParams(time_limit_s=2, metaheuristic="greedy_descent", seeders=())


def stored_plan(store: Store, day: dict[str, Any]) -> dict[str, Any]:
    problem = parse_problem(day)
    plan = plan_day(problem, params=FIRST)
    document = plan_document(
        problem, plan, plan_id="pl_day", version=1, created_at=datetime.now(UTC)
    ).model_dump(mode="json")
    store.save_problem_and_plan(day, document, problem_id="pb_day", record=plan_record(plan))
    return document


def owners(plan: dict[str, Any]) -> dict[str, str]:
    return {s["visit_id"]: r["technician_id"] for r in plan["routes"] for s in r["stops"]}


def weights(day: dict[str, Any], promised: set[str]) -> dict[str, int]:
    """What serving each visit is worth to a re-plan: its priority, more when promised."""
    return {
        visit["id"]: PRIORITY_WEIGHT[PRIORITIES[visit.get("priority", "normal")]]
        + (PROMISED_WEIGHT if visit["id"] in promised else 0)
        for visit in day["visits"]
    }


@settings(
    max_examples=8, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    seed=st.integers(0, 10_000),
    late=st.integers(0, 100),
    minutes=st.integers(5, 120),
    at_min=st.integers(9 * 60, 15 * 60),
)
def test_a_delay_unassigns_only_what_it_forces(
    tmp_path_factory: Any, seed: int, late: int, minutes: int, at_min: int
) -> None:
    day = generate_day(100, seed)
    store = Store(f"sqlite:///{Path(tmp_path_factory.mktemp('replan')) / 'day.db'}")
    try:
        first = stored_plan(store, day)
        busy = sorted({r["technician_id"] for r in first["routes"] if r["stops"]})
        tech = busy[late % len(busy)]
        at = f"{at_min // 60:02d}:{at_min % 60:02d}"
        events = {
            "at": at,
            "events": [{"type": "delay", "technician_id": tech, "minutes": minutes}],
        }
        second = replan_stored(store, "pl_day", events).model_dump(mode="json")
    finally:
        store.close()
    before, after = owners(first), owners(second)
    worth = weights(day, set(before))
    # Every other route still holds as it was: keeping them and dropping all the late
    # technician's visits is always possible, so the re-plan serves at least that much. A
    # visit may still leave for one worth more (an urgent one, or the late technician's).
    kept = sum(worth[visit] for visit, owner in before.items() if owner != tech)
    lost = sorted(visit for visit in before if visit not in after and before[visit] != tech)
    assert sum(worth[visit] for visit in after) >= kept, (
        f"{tech} {minutes} min late at {at}: {lost} left other routes"
    )


#: The reported case: a stored 250-visit plan and "T03 is 35 minutes late at 10:30", kept in
#: ``shared/repro`` beside the repository.
REPRO = data_dir().parent / "repro"


@pytest.mark.slow
def test_the_reported_delay_moves_a_few_visits_not_half_the_day(tmp_path: Path) -> None:
    if not (REPRO / "replan-delay-case.db").is_file():
        pytest.skip(f"the stored case is not in {REPRO}: put shared/ beside the repository")
    shutil.copy(REPRO / "replan-delay-case.db", tmp_path / "case.db")
    events = json.loads((REPRO / "delay-T03-35.json").read_text(encoding="utf-8"))
    store = Store(f"sqlite:///{tmp_path / 'case.db'}")
    try:
        first = store.load_plan("pl_fa874ce8e3c2")
        second = replan_stored(store, "pl_fa874ce8e3c2", events).model_dump(mode="json")
    finally:
        store.close()
    assert first["kpis"]["assigned"] == 228
    assert second["kpis"]["assigned"] >= 226, second["kpis"]
    assert len(second["changes"]) <= 6, second["changes"]
    assert {c["old_technician"] for c in second["changes"]} <= {"T03"}
