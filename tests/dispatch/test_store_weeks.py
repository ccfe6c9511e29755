"""Weeks in the store, on SQLite and PostgreSQL: a week and its days are stored all or nothing,
read back, listed, and made by solve jobs."""

from __future__ import annotations

from typing import Any

import pytest
from alembic import command
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from dispatch.errors import InternalError, NotFoundError
from dispatch.persistence import ProblemRow, Store, StoreConflictError, StoredDay
from dispatch.persistence.migrate import alembic_config
from dispatch.persistence.tables import WeekRow

HORIZON = {"horizon": {"start": "2026-12-07", "days": 2}, "technicians": [], "visits": []}
DATES = ("2026-12-07", "2026-12-08")


def day(date: str, plan_id: str, problem_id: str) -> StoredDay:
    """A day of a week: its problem, version 1 of its plan and the plan's record."""
    return StoredDay(
        problem_id=problem_id,
        problem={"date": date, "visits": [{"id": f"V@{date}", "customer": "张三"}]},
        plan={"plan_id": plan_id, "version": 1, "status": "feasible", "routes": []},
        record={"format": 1, "routes": [], "unassigned": [], "solve_s": 0.5, "objective": 7},
    )


def week_of(week_id: str, days: list[StoredDay], problem_id: str = "pb_h") -> dict[str, Any]:
    """The week document of ``days``, as much of it as the store reads."""
    return {
        "week_id": week_id,
        "problem_id": problem_id,
        "dates": [d.problem["date"] for d in days],
        "days": [
            {"date": d.problem["date"], "plan_id": d.plan["plan_id"], "problem_id": d.problem_id}
            for d in days
        ],
        "kpis": {"visits": 2, "assigned": 2},
    }


def two_days(prefix: str = "") -> list[StoredDay]:
    return [day(date, f"pl_{prefix}{i}", f"pb_{prefix}{i}") for i, date in enumerate(DATES)]


def count(store: Store, row: type[ProblemRow] | type[WeekRow]) -> int:
    with Session(store.engine) as session:
        return session.scalar(select(func.count()).select_from(row)) or 0


def test_a_week_round_trips_with_its_horizon_and_days(store: Store) -> None:
    days = two_days()
    week = week_of("wk_1", days)
    store.save_week(week=week, problem_id="pb_h", problem=HORIZON, days=days)
    assert store.load_week("wk_1") == week
    assert store.load_problem("pb_h") == HORIZON
    for stored in days:  # each day is an ordinary plan with its own day problem
        plan_id = stored.plan["plan_id"]
        assert store.load_plan(plan_id) == stored.plan
        assert store.load_plan_record(plan_id, 1) == stored.record
        assert store.load_problem_of_plan(plan_id) == stored.problem
    assert {p.plan_id for p in store.recent_plans()} == {"pl_0", "pl_1"}
    # The horizon is listed by its first date.
    assert {p.problem_id: p.date for p in store.recent_problems()}["pb_h"] == "2026-12-07"


def test_a_week_of_a_stored_horizon_stores_only_its_days(store: Store) -> None:
    store.save_problem(HORIZON, problem_id="pb_h")
    days = two_days()
    store.save_week(week=week_of("wk_1", days), problem_id="pb_h", problem=None, days=days)
    assert store.load_week("wk_1")["dates"] == list(DATES)
    assert count(store, ProblemRow) == 3


def test_a_week_of_an_unknown_horizon_is_not_found_and_stores_nothing(store: Store) -> None:
    days = two_days()
    with pytest.raises(NotFoundError, match="no problem 'pb_h'"):
        store.save_week(week=week_of("wk_1", days), problem_id="pb_h", problem=None, days=days)
    assert (count(store, ProblemRow), count(store, WeekRow)) == (0, 0)


def test_a_refused_week_leaves_nothing_half_stored(store: Store) -> None:
    store.save_problem_and_plan(
        {"date": "2026-12-01"}, day("x", "pl_1", "pb_x").plan, problem_id="pb_x"
    )
    days = two_days()  # its second day's plan, pl_1, exists already
    with pytest.raises(StoreConflictError, match=r"week wk_1 .*plan pl_1"):
        store.save_week(week=week_of("wk_1", days), problem_id="pb_h", problem=HORIZON, days=days)
    with pytest.raises(NotFoundError, match="no week 'wk_1'"):
        store.load_week("wk_1")
    with Session(store.engine) as session:
        assert [session.get(ProblemRow, i) for i in ("pb_h", "pb_0", "pb_1")] == [None] * 3
    assert store.plan_versions("pl_0") == []
    assert store.load_plan("pl_1", 1)["plan_id"] == "pl_1"  # what was there stays


def test_a_week_is_stored_once(store: Store) -> None:
    days = two_days()
    store.save_week(week=week_of("wk_1", days), problem_id="pb_h", problem=HORIZON, days=days)
    again = two_days("b")
    with pytest.raises(StoreConflictError, match="week wk_1"):
        store.save_week(week=week_of("wk_1", again), problem_id="pb_h", problem=None, days=again)
    assert store.plan_versions("pl_b0") == []
    assert store.load_week("wk_1")["days"][0]["plan_id"] == "pl_0"


def test_recent_weeks_are_listed_newest_first(store: Store) -> None:
    first, second = two_days("a"), two_days("b")[:1]
    store.save_week(week=week_of("wk_1", first), problem_id="pb_h", problem=HORIZON, days=first)
    store.save_week(week=week_of("wk_2", second), problem_id="pb_h", problem=None, days=second)
    newest, oldest = store.recent_weeks()
    assert (newest.week_id, newest.start, newest.days, newest.plans) == (
        "wk_2",
        "2026-12-07",
        1,
        ("pl_b0",),
    )
    assert (oldest.week_id, oldest.problem_id, oldest.days, oldest.plans) == (
        "wk_1",
        "pb_h",
        2,
        ("pl_a0", "pl_a1"),
    )
    assert newest.created_at >= oldest.created_at and newest.created_at.tzinfo is not None
    assert [w.week_id for w in store.recent_weeks(limit=1)] == ["wk_2"]


def test_an_unknown_week_is_not_found(store: Store) -> None:
    with pytest.raises(NotFoundError, match="no week 'wk_x'"):
        store.load_week("wk_x")
    assert store.recent_weeks() == []


def test_a_solve_job_makes_a_week(store: Store) -> None:
    store.save_problem(HORIZON, problem_id="pb_h")
    job = store.create_job(problem_id="pb_h", time_limit_s=None, visits_total=2, produces="week")
    assert job.plan_id.startswith("wk_") and len(job.plan_id) == 15
    assert store.start_job(job.id, 1)
    days = two_days()
    week = week_of(job.plan_id, days)
    # A week under another id is a bug of the caller: refused, nothing stored, job still running.
    with pytest.raises(InternalError, match=f"job {job.id} makes {job.plan_id}, not week wk_x"):
        store.finish_week_job(job.id, 1, week | {"week_id": "wk_x"}, days=days, elapsed_s=1.0)
    assert (store.load_job(job.id).state, store.plan_versions("pl_0")) == ("running", [])
    assert not store.finish_week_job(job.id, 2, week, days=days, elapsed_s=1.0), "not attempt 2's"
    assert store.finish_week_job(job.id, 1, week, days=days, elapsed_s=1.0)
    done = store.load_job(job.id)
    assert (done.state, done.visits_placed, done.error) == ("done", 2, None)
    assert store.load_week(job.plan_id) == week
    assert store.load_plan("pl_1")["version"] == 1
    assert store.job_of_plan(job.plan_id) == done
    assert not store.finish_week_job(job.id, 1, week, days=days, elapsed_s=1.0), "done once"


def test_a_week_job_whose_day_plan_exists_stores_nothing(store: Store) -> None:
    store.save_problem(HORIZON, problem_id="pb_h")
    store.save_problem_and_plan(
        {"date": "2026-12-01"}, day("x", "pl_1", "pb_x").plan, problem_id="pb_x"
    )
    job = store.create_job(problem_id="pb_h", time_limit_s=None, visits_total=2, produces="week")
    store.start_job(job.id, 1)
    days = two_days()
    with pytest.raises(StoreConflictError, match=rf"week {job.plan_id} .*plan pl_1"):
        store.finish_week_job(job.id, 1, week_of(job.plan_id, days), days=days, elapsed_s=1.0)
    assert store.load_job(job.id).state == "running"  # the caller marks it failed
    assert (count(store, WeekRow), store.plan_versions("pl_0")) == (0, [])


def test_the_weeks_migration_goes_down_and_up(store: Store) -> None:
    days = two_days()
    store.save_week(week=week_of("wk_1", days), problem_id="pb_h", problem=HORIZON, days=days)
    config = alembic_config(store.url)
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0003")
        assert "weeks" not in inspect(connection).get_table_names()
        command.upgrade(config, "head")
    assert store.recent_weeks() == [] and store.load_plan("pl_0")["version"] == 1


def test_weeks_stored_before_they_counted_their_saves_start_at_zero(store: Store) -> None:
    days = two_days()
    store.save_week(week=week_of("wk_1", days), problem_id="pb_h", problem=HORIZON, days=days)
    config = alembic_config(store.url)
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0007")
        assert "revision" not in {c["name"] for c in inspect(connection).get_columns("weeks")}
        command.upgrade(config, "head")
    found = store.week_of_plan("pl_0")
    assert found is not None and (found.week_id, found.revision) == ("wk_1", 0)


def test_the_days_of_a_week_are_listed_by_date(store: Store) -> None:
    """A week's days and plans are stored at one moment: listed in id order, their dates were
    jumbled (the console's lists showed 12-09, 12-07, 12-08)."""
    dates = ("2026-12-07", "2026-12-08", "2026-12-09")
    days = [day(date, f"pl_{i}", f"pb_{i}") for date, i in zip(dates, "zam", strict=True)]
    horizon = HORIZON | {"horizon": {"start": "2026-12-07", "days": 3}}
    store.save_week(week=week_of("wk_1", days), problem_id="pb_h", problem=horizon, days=days)
    assert [(p.date, p.plan_id) for p in store.recent_plans()] == [
        ("2026-12-07", "pl_z"),
        ("2026-12-08", "pl_a"),
        ("2026-12-09", "pl_m"),
    ]
    assert [p.problem_id for p in store.recent_problems()] == ["pb_h", "pb_z", "pb_a", "pb_m"]
