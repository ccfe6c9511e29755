"""The plan store: problems and immutable plan versions in SQLite."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from dispatch.errors import NotFoundError
from dispatch.persistence import ProblemRow, Store, StoreConflictError, new_id


def plan(plan_id: str, version: int) -> dict[str, object]:
    return {"plan_id": plan_id, "version": version, "status": "feasible", "routes": []}


def test_a_plan_round_trips_with_its_problem(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'plans.db'}")
    problem = {"date": "2026-11-23", "visits": [{"id": "V1", "customer": "张三"}]}
    store.save_problem_and_plan(problem, plan("pl_1", 1), problem_id="pb_1")
    assert store.load_plan("pl_1") == plan("pl_1", 1)
    assert store.load_problem_of_plan("pl_1") == problem


def test_versions_are_immutable_and_the_latest_is_served(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'plans.db'}")
    store.save_problem_and_plan({"date": "2026-11-23"}, plan("pl_1", 1), problem_id="pb_1")
    store.save_plan(plan("pl_1", 2) | {"status": "partial"}, problem_id="pb_1")
    with pytest.raises(StoreConflictError, match="pl_1 version 2 already exists"):
        store.save_plan(plan("pl_1", 2) | {"status": "feasible"}, problem_id="pb_1")
    assert store.load_plan("pl_1")["status"] == "partial"
    assert store.load_plan("pl_1", 1)["version"] == 1
    assert store.plan_versions("pl_1") == [1, 2]


def test_a_failed_write_leaves_nothing_half_stored(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'plans.db'}")
    store.save_problem_and_plan({"date": "2026-11-23"}, plan("pl_1", 1), problem_id="pb_1")
    with pytest.raises(StoreConflictError):
        store.save_plan(plan("pl_1", 1), problem_id="pb_1")
    # The second half of a problem-and-plan write fails: the problem must not stay either.
    with pytest.raises(StoreConflictError, match="already exists"):
        store.save_problem_and_plan({"date": "x"}, plan("pl_1", 1), problem_id="pb_2")
    with Session(store.engine) as session:
        assert session.get(ProblemRow, "pb_2") is None
    assert store.plan_versions("pl_1") == [1]


def test_unknown_ids_are_not_found(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'plans.db'}")
    with pytest.raises(NotFoundError, match="no plan 'pl_x'"):
        store.load_plan("pl_x")
    with pytest.raises(NotFoundError, match="no version 3 of plan 'pl_x'"):
        store.load_plan("pl_x", 3)


def test_new_ids_are_prefixed_and_distinct() -> None:
    ids = {new_id("pl") for _ in range(100)}
    assert len(ids) == 100 and all(i.startswith("pl_") and len(i) == 15 for i in ids)
