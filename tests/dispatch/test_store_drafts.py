"""A running job's draft plan and ``first_plan_s`` in the store, on SQLite and PostgreSQL: only
the running attempt writes them, the job's end clears the draft, and revision 0006 goes down
and up."""

from __future__ import annotations

import threading
from contextlib import closing
from typing import Any

from alembic import command
from sqlalchemy import create_engine, inspect, select
from sqlalchemy.orm import Session

from dispatch.persistence import JobClaim, SolveJob, Store
from dispatch.persistence.migrate import HEAD, alembic_config
from dispatch.persistence.tables import SolveJobRow
from tests.conftest import line_day

#: A heartbeat this old is taken for a lost worker: any heartbeat at all.
STALE_NOW = 0.0


def a_job(store: Store) -> SolveJob:
    store.save_problem(line_day(), problem_id="pb_1")
    return store.create_job(problem_id="pb_1", time_limit_s=2.0, visits_total=3)


def claim(store: Store, job: SolveJob, stale_after_s: float) -> JobClaim:
    return store.claim_job(
        job.id, stale_after_s=stale_after_s, max_starts=3, gave_up="its workers kept dying"
    )


def kept_draft(store: Store, job: SolveJob) -> str | None:
    """The job's draft column as stored, whatever the job's state."""
    with Session(store.engine) as session:
        return session.scalar(select(SolveJobRow.draft).where(SolveJobRow.id == job.id))


def draft(job: SolveJob, assigned: int) -> dict[str, Any]:
    return {
        "plan_id": job.plan_id,
        "version": 1,
        "status": "partial",
        "kpis": {"assigned": assigned},
        "customer": "张三",
    }


def final(job: SolveJob) -> dict[str, Any]:
    return {"plan_id": job.plan_id, "version": 1, "status": "feasible", "kpis": {"assigned": 3}}


def test_a_running_job_keeps_its_newest_draft_and_when_its_first_plan_came(store: Store) -> None:
    job = a_job(store)
    assert not store.save_draft(job.id, 1, draft(job, 1), elapsed_s=0.1), "queued: no draft"
    assert store.job_draft(job.id) is None
    store.start_job(job.id, 1)
    assert store.job_draft(job.id) is None and store.load_job(job.id).first_plan_s is None
    assert store.save_draft(job.id, 1, draft(job, 1), elapsed_s=1.25)
    assert store.save_draft(job.id, 1, draft(job, 2), elapsed_s=2.5)
    assert store.job_draft(job.id) == draft(job, 2), "the newest draft replaces the one before"
    running = store.load_job(job.id)
    assert (running.first_plan_s, running.elapsed_s) == (1.25, 2.5)
    assert store.plan_versions(job.plan_id) == [], "a draft is not a plan version"
    assert store.finish_job(job.id, 1, final(job), elapsed_s=3.0)
    assert store.job_draft(job.id) is None, "the plan is stored: no draft any more"
    assert kept_draft(store, job) is None, "and none is kept"
    done = store.load_job(job.id)
    assert (done.state, done.first_plan_s) == ("done", 1.25)
    assert not store.save_draft(job.id, 1, draft(job, 3), elapsed_s=3.5), "ended: no draft"
    assert store.job_draft(job.id) is None
    assert store.load_plan(job.plan_id) == final(job)


def test_elapsed_time_never_goes_back_below_the_first_plan(store: Store) -> None:
    # The progress beat and the drafts write from two threads: a late, older figure loses.
    job = a_job(store)
    store.start_job(job.id, 1)
    writer = threading.Thread(
        target=store.save_draft, args=(job.id, 1, draft(job, 2)), kwargs={"elapsed_s": 2.0}
    )
    writer.start()
    writer.join()
    store.report_progress(job.id, 1, elapsed_s=1.9, best_cost=40, placed=2)
    running = store.load_job(job.id)
    assert (running.elapsed_s, running.first_plan_s, running.best_cost) == (2.0, 2.0, 40)
    store.report_progress(job.id, 1, elapsed_s=2.4)
    assert store.load_job(job.id).elapsed_s == 2.4
    assert store.job_draft(job.id) == draft(job, 2)


def test_a_stale_attempt_cannot_write_a_draft(store: Store) -> None:
    job = a_job(store)
    claim(store, job, stale_after_s=3600)
    assert store.save_draft(job.id, 1, draft(job, 1), elapsed_s=1.0)
    taken = claim(store, job, stale_after_s=STALE_NOW)
    assert (taken.outcome, taken.attempt) == ("taken_over", 2)
    # The new attempt starts with no draft: the lost one's was of another search.
    assert kept_draft(store, job) is None and taken.job.first_plan_s is None
    assert not store.save_draft(job.id, 1, draft(job, 3), elapsed_s=5.0)
    assert store.job_draft(job.id) is None
    assert store.load_job(job.id).first_plan_s is None
    assert store.save_draft(job.id, 2, draft(job, 2), elapsed_s=0.5)
    assert store.job_draft(job.id) == draft(job, 2)
    assert store.load_job(job.id).first_plan_s == 0.5


def test_a_failed_job_drops_its_draft_and_a_retry_starts_without_one(store: Store) -> None:
    job = a_job(store)
    store.start_job(job.id, 1)
    store.save_draft(job.id, 1, draft(job, 1), elapsed_s=1.0)
    store.fail_job(job.id, 1, "the road server failed")
    assert store.job_draft(job.id) is None and kept_draft(store, job) is None
    retried = store.retry_job(job.id)
    assert (retried.attempt, retried.first_plan_s) == (2, None)
    store.start_job(job.id, 2)
    assert store.job_draft(job.id) is None
    # A job a stopped service left running loses its draft with it.
    store.save_draft(job.id, 2, draft(job, 2), elapsed_s=0.7)
    store.fail_lost_jobs(stale_after_s=0)
    assert store.load_job(job.id).state == "failed" and kept_draft(store, job) is None


def test_revision_0006_goes_down_and_up(store: Store, database_url: str) -> None:
    assert HEAD == "0009"
    job = a_job(store)
    store.start_job(job.id, 1)
    store.save_draft(job.id, 1, draft(job, 1), elapsed_s=1.0)
    store.close()
    engine = create_engine(database_url)

    def migrate(to: str) -> set[str]:
        """Move the schema to revision ``to``; the columns of ``solve_jobs`` then."""
        config = alembic_config(database_url)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            if to == "head":
                command.upgrade(config, to)
            else:
                command.downgrade(config, to)
            return {column["name"] for column in inspect(connection).get_columns("solve_jobs")}

    try:
        down = migrate("0005")
        assert "heartbeat_at" in down and {"first_plan_s", "draft"}.isdisjoint(down)
        assert {"first_plan_s", "draft"} <= migrate("head")
    finally:
        engine.dispose()
    with closing(Store(database_url)) as again:
        kept = again.load_job(job.id)
        assert (kept.state, kept.first_plan_s) == ("running", None), "the job kept, no draft"
        assert again.job_draft(job.id) is None
        assert again.save_draft(job.id, 1, draft(job, 2), elapsed_s=1.5)
        assert again.job_draft(job.id) == draft(job, 2)
