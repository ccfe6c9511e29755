"""The redelivery rules of ``Store.claim_job`` on SQLite and PostgreSQL: what a task handed to a
worker does with its job, whether it is the first delivery or a duplicate."""

from __future__ import annotations

from typing import Any

import pytest

from dispatch.errors import NotFoundError
from dispatch.persistence import SolveJob, Store
from tests.conftest import line_day

#: A heartbeat this old is taken for a lost worker in these tests: any heartbeat at all.
STALE_NOW = 0.0
#: A heartbeat this old is fresh in these tests: any heartbeat at all.
FRESH = 3600.0
GAVE_UP = "its workers kept dying"


def a_job(store: Store) -> SolveJob:
    store.save_problem(line_day(), problem_id="pb_1")
    return store.create_job(problem_id="pb_1", time_limit_s=2.0, visits_total=3)


def plan_of(job: SolveJob) -> dict[str, Any]:
    return {"plan_id": job.plan_id, "version": 1, "status": "feasible", "kpis": {"assigned": 3}}


def claim(store: Store, job: SolveJob, stale_after_s: float, max_starts: int = 3) -> Any:
    return store.claim_job(
        job.id, stale_after_s=stale_after_s, max_starts=max_starts, gave_up=GAVE_UP
    )


def test_a_queued_job_is_started_once_and_then_left_to_its_live_worker(store: Store) -> None:
    job = a_job(store)
    first = claim(store, job, FRESH)
    assert (first.outcome, first.attempt, first.job.state, first.job.starts) == (
        "started",
        1,
        "running",
        1,
    )
    assert first.job.heartbeat_at is not None and first.job.started_at is not None
    store.report_progress(job.id, 1, elapsed_s=0.5)
    beat = store.load_job(job.id).heartbeat_at
    assert beat is not None and beat >= first.job.heartbeat_at, "progress is the heartbeat"
    duplicate = claim(store, job, FRESH)
    assert (duplicate.outcome, duplicate.attempt) == ("alive", 1)
    assert store.load_job(job.id) == duplicate.job, "a duplicate of a live job changes nothing"


def test_a_lost_workers_job_is_taken_over_and_its_old_attempt_can_write_nothing(
    store: Store,
) -> None:
    job = a_job(store)
    claim(store, job, FRESH)
    store.report_progress(job.id, 1, elapsed_s=1.5, best_cost=99, placed=2)
    taken = claim(store, job, STALE_NOW)
    assert (taken.outcome, taken.attempt, taken.job.attempt, taken.job.starts) == (
        "taken_over",
        2,
        2,
        2,
    )
    assert (taken.job.elapsed_s, taken.job.best_cost, taken.job.visits_placed) == (0, None, None)
    # The lost attempt, were it only stalled, stores nothing and reports nothing.
    store.report_progress(job.id, 1, elapsed_s=9.0)
    assert not store.finish_job(job.id, 1, plan_of(job), elapsed_s=9.0)
    assert store.load_job(job.id).elapsed_s == 0
    assert store.plan_versions(job.plan_id) == []
    assert store.finish_job(job.id, 2, plan_of(job), elapsed_s=1.0)
    done = claim(store, job, STALE_NOW)
    assert (done.outcome, done.job.state, done.job.attempt) == ("ended", "done", 2)
    assert store.plan_versions(job.plan_id) == [1]


def test_a_job_whose_workers_keep_dying_fails_and_a_retry_starts_afresh(store: Store) -> None:
    job = a_job(store)
    claim(store, job, FRESH, max_starts=2)
    assert claim(store, job, STALE_NOW, max_starts=2).outcome == "taken_over"
    gave_up = claim(store, job, STALE_NOW, max_starts=2)
    assert (gave_up.outcome, gave_up.job.state, gave_up.job.error) == ("gave_up", "failed", GAVE_UP)
    assert gave_up.job.finished_at is not None
    assert not store.finish_job(job.id, 2, plan_of(job), elapsed_s=1.0)
    assert claim(store, job, STALE_NOW, max_starts=2).outcome == "ended"
    retried = store.retry_job(job.id)
    assert (retried.attempt, retried.starts, retried.heartbeat_at) == (3, 0, None)
    again = claim(store, job, FRESH, max_starts=2)
    assert (again.outcome, again.attempt, again.job.starts) == ("started", 3, 1)


def test_a_failed_job_is_not_run_by_a_late_task(store: Store) -> None:
    job = a_job(store)
    store.fail_job(job.id, 1, "the day no longer validates")
    late = claim(store, job, STALE_NOW)
    assert (late.outcome, late.job.state, late.job.error) == (
        "ended",
        "failed",
        "the day no longer validates",
    )
    assert store.load_job(job.id) == late.job


def test_a_task_of_an_unknown_job_is_told_so(store: Store) -> None:
    with pytest.raises(NotFoundError, match="no job 'jb_gone'"):
        store.claim_job("jb_gone", stale_after_s=FRESH, max_starts=3, gave_up=GAVE_UP)
