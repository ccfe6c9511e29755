"""The store on SQLite and PostgreSQL: problems, immutable plan versions, jobs, API keys,
migrations."""

from __future__ import annotations

import gc
import hashlib
import json
import warnings
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, event, select, text
from sqlalchemy.orm import Session

from dispatch.errors import InputError, NotFoundError
from dispatch.persistence import ProblemRow, SolveJob, Store, StoreConflictError, new_id
from dispatch.persistence.migrate import HEAD, alembic_config
from dispatch.persistence.tables import ApiKeyRow, Base


def plan(plan_id: str, version: int) -> dict[str, object]:
    return {"plan_id": plan_id, "version": version, "status": "feasible", "routes": []}


def test_a_plan_round_trips_with_its_problem(store: Store) -> None:
    problem = {"date": "2026-11-23", "visits": [{"id": "V1", "customer": "张三"}]}
    store.save_problem_and_plan(problem, plan("pl_1", 1), problem_id="pb_1")
    assert store.load_plan("pl_1") == plan("pl_1", 1)
    assert store.load_problem_of_plan("pl_1") == problem


def test_a_plan_version_keeps_its_record_beside_its_document(store: Store) -> None:
    record = {"format": 1, "routes": [], "unassigned": [], "solve_s": 0.5, "objective": 7}
    store.save_problem_and_plan(
        {"date": "2026-11-23"}, plan("pl_1", 1), problem_id="pb_1", record=record
    )
    store.save_plan(plan("pl_1", 2), problem_id="pb_1")  # stored without one
    assert store.load_plan_record("pl_1", 1) == record
    assert store.load_plan_record("pl_1", 2) is None
    assert store.load_plan("pl_1", 1) == plan("pl_1", 1)  # the document is what users read
    with pytest.raises(NotFoundError, match="no version 3 of plan 'pl_1'"):
        store.load_plan_record("pl_1", 3)


def test_versions_are_immutable_and_the_latest_is_served(store: Store) -> None:
    store.save_problem_and_plan({"date": "2026-11-23"}, plan("pl_1", 1), problem_id="pb_1")
    store.save_plan(plan("pl_1", 2) | {"status": "partial"}, problem_id="pb_1")
    with pytest.raises(StoreConflictError, match="pl_1 version 2 already exists"):
        store.save_plan(plan("pl_1", 2) | {"status": "feasible"}, problem_id="pb_1")
    assert store.load_plan("pl_1")["status"] == "partial"
    assert store.load_plan("pl_1", 1)["version"] == 1
    assert store.plan_versions("pl_1") == [1, 2]


def test_a_failed_write_leaves_nothing_half_stored(store: Store) -> None:
    store.save_problem_and_plan({"date": "2026-11-23"}, plan("pl_1", 1), problem_id="pb_1")
    with pytest.raises(StoreConflictError):
        store.save_plan(plan("pl_1", 1), problem_id="pb_1")
    # The second half of a problem-and-plan write fails: the problem must not stay either.
    with pytest.raises(StoreConflictError, match="already exists"):
        store.save_problem_and_plan({"date": "x"}, plan("pl_1", 1), problem_id="pb_2")
    with Session(store.engine) as session:
        assert session.get(ProblemRow, "pb_2") is None
    assert store.plan_versions("pl_1") == [1]


def test_unknown_ids_are_not_found(store: Store) -> None:
    with pytest.raises(NotFoundError, match="no plan 'pl_x'"):
        store.load_plan("pl_x")
    with pytest.raises(NotFoundError, match="no version 3 of plan 'pl_x'"):
        store.load_plan("pl_x", 3)


def test_a_store_dropped_without_closing_closes_its_connections(database_url: str) -> None:
    """A store used once and dropped (``Store(url).load_plan(...)``) closes its connections as
    it goes: the engine's cycles kept them open until the collector ran, and PostgreSQL's
    driver then warned of a connection deleted while still open, in whatever ran next."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert Store(database_url).plan_versions("pl_none") == []
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []


def test_new_ids_are_prefixed_and_distinct() -> None:
    ids = {new_id("pl") for _ in range(100)}
    assert len(ids) == 100 and all(i.startswith("pl_") and len(i) == 15 for i in ids)


def a_job(store: Store, visits: int = 3) -> SolveJob:
    store.save_problem({"date": "2026-11-23"}, problem_id="pb_1")
    return store.create_job(problem_id="pb_1", time_limit_s=2.0, visits_total=visits)


def solved(plan_id: str) -> dict[str, Any]:
    return plan(plan_id, 1) | {"kpis": {"assigned": 3}}


def test_a_job_runs_from_queued_to_done_with_its_plan_stored(store: Store) -> None:
    job = a_job(store)
    assert (job.state, job.attempt, job.visits_total) == ("queued", 1, 3)
    assert store.start_job(job.id, 1)
    assert not store.start_job(job.id, 1), "a job starts once"
    store.report_progress(job.id, 1, elapsed_s=0.5, best_cost=1234, placed=2)
    running = store.load_job(job.id)
    assert (running.state, running.best_cost, running.visits_placed) == ("running", 1234, 2)
    assert store.finish_job(job.id, 1, solved(job.plan_id), elapsed_s=1.0)
    done = store.load_job(job.id)
    assert (done.state, done.visits_placed, done.error) == ("done", 3, None)
    assert done.finished_at is not None
    assert store.load_plan(job.plan_id)["version"] == 1
    assert store.job_of_plan(job.plan_id) == done


def test_a_process_starting_leaves_running_jobs_to_their_heartbeat(store: Store) -> None:
    running = a_job(store)
    store.start_job(running.id, 1)
    queued = store.create_job(problem_id="pb_1", time_limit_s=None, visits_total=3)
    assert [job.id for job in store.recover_jobs()] == [queued.id]
    assert store.load_job(running.id).state == "running"
    # Two processes were handed the queued job: it starts once.
    assert store.start_job(queued.id, 1)
    assert not store.start_job(queued.id, 1)


def test_jobs_left_running_fail_once_their_heartbeat_is_stale_and_can_be_retried(
    store: Store,
) -> None:
    running = a_job(store)
    store.start_job(running.id, 1)
    queued = store.create_job(problem_id="pb_1", time_limit_s=None, visits_total=3)
    assert store.fail_lost_jobs(stale_after_s=3600) == [], "its heartbeat is fresh"
    assert store.fail_lost_jobs(stale_after_s=0) == [running.id]
    assert store.load_job(queued.id).state == "queued"
    failed = store.load_job(running.id)
    assert failed.state == "failed" and failed.error
    assert failed.error.startswith("the process running this job stopped (no heartbeat for 0 s)")
    # The worker of the lost attempt finishes late: it must store nothing.
    assert not store.finish_job(running.id, 1, solved(running.plan_id), elapsed_s=1.0)
    assert store.plan_versions(running.plan_id) == []
    retried = store.retry_job(running.id)
    assert (retried.state, retried.attempt, retried.error) == ("queued", 2, None)
    with pytest.raises(StoreConflictError, match="only a failed job is retried"):
        store.retry_job(running.id)
    assert store.start_job(running.id, 2)
    assert store.finish_job(running.id, 2, solved(running.plan_id), elapsed_s=1.0)


def test_a_retry_that_read_the_job_failed_after_another_retried_it_queues_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SQLite takes no row lock: two retries both read the job failed, the first queued it and
    # a worker started it, and the second put it back to queued, so attempt 2 started twice.
    # (PostgreSQL's row lock would hold the second retry back: SQLite only.)
    store = Store(f"sqlite:///{tmp_path / 'retry.db'}")
    job = a_job(store)
    store.start_job(job.id, 1)
    store.fail_job(job.id, 1, "worker lost")
    real_get = Session.get
    raced: list[bool] = []

    def get_then_race(session: Session, *args: Any, **kwargs: Any) -> Any:
        row = real_get(session, *args, **kwargs)
        if not raced:  # between this retry's read and its write, another retries and starts it
            raced.append(True)
            assert store.retry_job(job.id).attempt == 2
            assert store.start_job(job.id, 2)
        return row

    monkeypatch.setattr(Session, "get", get_then_race)
    with pytest.raises(StoreConflictError, match="retried meanwhile"):
        store.retry_job(job.id)
    monkeypatch.undo()
    assert (store.load_job(job.id).state, store.load_job(job.id).attempt) == ("running", 2)
    assert not store.start_job(job.id, 2), "the attempt started once"
    store.close()


def test_a_failed_job_keeps_its_message(store: Store) -> None:
    job = a_job(store)
    store.fail_job(job.id, 1, "the solver failed")
    assert store.load_job(job.id).error == "the solver failed"
    with pytest.raises(NotFoundError, match="no job 'jb_x'"):
        store.load_job("jb_x")
    with pytest.raises(NotFoundError, match="no problem 'pb_x'"):
        store.create_job(problem_id="pb_x", time_limit_s=None, visits_total=1)


def test_api_keys_are_stored_hashed_and_can_be_revoked(store: Store) -> None:
    record, key = store.create_api_key("desk")
    assert key.startswith("fr_") and len(key) > 40
    assert store.api_key_for(key) == record
    assert store.api_key_for(key + "x") is None
    with Session(store.engine) as session:
        stored = session.scalars(select(ApiKeyRow.key_hash)).one()
    assert key not in stored and stored == hashlib.sha256(key.encode()).hexdigest()
    assert store.is_live_key(record.id) and not store.is_live_key("ak_nope")
    store.revoke_api_key(record.id)
    assert store.api_key_for(key) is None and not store.is_live_key(record.id)
    assert [k.name for k in store.api_keys()] == ["desk"]
    with pytest.raises(InputError, match="name"):
        store.create_api_key("  ")


def test_a_secret_is_made_once_and_shared(store: Store, database_url: str) -> None:
    first = store.secret("driver_links")
    assert len(first) == 64
    with closing(Store(database_url)) as another:
        assert another.secret("driver_links") == first


def test_migrations_give_the_schema_the_models_describe(store: Store) -> None:
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection)
        assert compare_metadata(context, Base.metadata) == []
        assert context.get_current_revision() == HEAD


def test_lists_read_no_stored_document(store: Store) -> None:
    # A list of 50 days of 5,000 visits took 4.5 s: each day's payload was read whole to
    # count its technicians and visits, and each listed plan's document and record loaded.
    day = {"date": "2026-11-23", "technicians": [{"id": "T1"}, {"id": "T2"}], "visits": [{}] * 3}
    store.save_problem_and_plan(day, plan("pl_1", 1), problem_id="pb_1")
    store.save_problem(
        {"horizon": {"start": "2026-11-30", "days": 5}, "visits": []}, problem_id="pb_h"
    )
    statements: list[str] = []

    def seen(connection: Any, cursor: Any, statement: str, *rest: Any) -> None:
        statements.append(statement)

    event.listen(store.engine, "before_cursor_execute", seen)
    try:
        problems = store.recent_problems()
        plans = store.recent_plans()
    finally:
        event.remove(store.engine, "before_cursor_execute", seen)
    sizes = {p.problem_id: (p.date, p.technicians, p.visits, p.days) for p in problems}
    assert sizes == {"pb_1": ("2026-11-23", 2, 3, 1), "pb_h": ("2026-11-30", 0, 0, 5)}
    assert [(p.plan_id, p.version, p.problem_id, p.date) for p in plans] == [
        ("pl_1", 1, "pb_1", "2026-11-23")
    ]
    assert statements and not [s for s in statements if "payload" in s or "record" in s]


def test_revision_0009_counts_the_sizes_of_problems_stored_before_it(
    store: Store, database_url: str
) -> None:
    store.close()
    engine = create_engine(database_url)
    config = alembic_config(database_url)
    day = {"date": "2026-11-23", "technicians": [{"id": "T1"}], "visits": [{}, {}]}
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0008")
            connection.execute(
                text(
                    "INSERT INTO problems (id, created_at, date, payload) "
                    "VALUES ('pb_old', :now, '2026-11-23', :payload)"
                ),
                {"now": datetime.now(UTC), "payload": json.dumps(day)},
            )
            command.upgrade(config, "head")
    finally:
        engine.dispose()
    with closing(Store(database_url)) as again:
        [old] = again.recent_problems()
        assert (old.problem_id, old.technicians, old.visits, old.days) == ("pb_old", 1, 2, 1)


def test_a_database_made_before_migrations_is_adopted(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    legacy = [Base.metadata.tables[name] for name in ("problems", "plans", "event_batches")]
    Base.metadata.create_all(engine, tables=legacy)
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE plans DROP COLUMN record"))  # added in 0003
        for column in ("technicians", "visits", "days"):  # added in 0009
            connection.execute(text(f"ALTER TABLE problems DROP COLUMN {column}"))
        connection.execute(
            Base.metadata.tables["problems"]
            .insert()
            .values(id="pb_old", created_at=datetime.now(UTC), date="2026-11-20", payload="{}")
        )
        connection.execute(
            text(
                "INSERT INTO plans (plan_id, version, problem_id, created_at, status, payload) "
                "VALUES ('pl_old', 1, 'pb_old', '2026-11-20 08:00:00', 'feasible', '{}')"
            )
        )
    engine.dispose()
    with closing(Store(url)) as store:
        assert store.load_problem("pb_old") == {}
        assert store.load_plan("pl_old") == {} and store.load_plan_record("pl_old", 1) is None
        assert a_job(store).state == "queued"
