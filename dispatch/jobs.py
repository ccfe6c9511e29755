"""Solve jobs and re-plans in a pool of worker processes, so a long solve never holds up the
caller (the HTTP service's event loop) and a crashed solve cannot take the service down.

A worker opens the store itself and writes the job's progress and its plan there; the plan and
the job's ``done`` are one transaction, so a job never reports done without its plan. Jobs a
stopped service left running are marked failed when the next one starts (``recover``), and a
worker of such a lost attempt can no longer write anything.
"""

from __future__ import annotations

import logging
import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from datetime import UTC, datetime
from typing import Any

from dispatch.errors import DispatchError
from dispatch.persistence import SolveJob, Store
from dispatch.planning import Progress, SolveParams, plan_day
from dispatch.serialize import plan_document
from dispatch.service import replan_stored
from dispatch.validate import parse_problem

__all__ = ["JobRunner", "replan_in_worker", "run_solve_job"]

logger = logging.getLogger(__name__)

#: Least time between two progress writes of a running job.
PROGRESS_EVERY_S = 0.5


def _progress_writer(store: Store, job: SolveJob) -> Callable[[Progress], None]:
    last = [0.0]

    def write(progress: Progress) -> None:
        now = time.monotonic()
        if now - last[0] >= PROGRESS_EVERY_S:
            last[0] = now
            store.report_progress(
                job.id,
                job.attempt,
                elapsed_s=progress.elapsed_s,
                best_cost=progress.best_cost,
                placed=progress.placed,
            )

    return write


def _solve(store: Store, job_id: str, attempt: int) -> None:
    if not store.start_job(job_id, attempt):
        return  # retried or given up on since it was queued: not this attempt's to run
    started = time.monotonic()
    try:
        job = store.load_job(job_id)
        raw = store.load_problem(job.problem_id)
        problem = parse_problem(raw)
        limit = job.time_limit_s or problem.policy.time_limit_s
        plan = plan_day(
            problem,
            params=SolveParams(time_limit_s=limit),
            on_progress=_progress_writer(store, job),
        )
        document = plan_document(
            problem, plan, plan_id=job.plan_id, version=1, created_at=datetime.now(UTC)
        )
        store.finish_job(
            job_id, attempt, document.model_dump(mode="json"), elapsed_s=time.monotonic() - started
        )
    except DispatchError as error:
        store.fail_job(job_id, attempt, str(error))
    except Exception as error:  # a job must end, whatever broke; the log keeps the traceback
        logger.exception("solve job %s failed", job_id)
        store.fail_job(job_id, attempt, f"internal error ({type(error).__name__}); see the log")


def run_solve_job(database_url: str, job_id: str, attempt: int) -> None:
    """Run one attempt of a solve job (in a worker process)."""
    store = Store(database_url, migrate=False)
    try:
        _solve(store, job_id, attempt)
    finally:
        store.close()


def replan_in_worker(
    database_url: str, plan_id: str, events: dict[str, Any], version: int | None
) -> dict[str, Any]:
    """``replan_stored`` in a worker process; the stored version's JSON, or its error."""
    store = Store(database_url, migrate=False)
    try:
        return replan_stored(store, plan_id, events, version=version).model_dump(mode="json")
    finally:
        store.close()


class JobRunner:
    """The worker pool of one service process.

    Parameters
    ----------
    database_url
        The store the workers open.
    workers
        Worker processes; each solves one job at a time.
    executor
        Another executor (a thread pool, in tests that need no process isolation).
    """

    def __init__(
        self, database_url: str, *, workers: int = 1, executor: Executor | None = None
    ) -> None:
        self.database_url = database_url
        self._pool = executor or ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context("spawn")
        )

    def submit(self, job: SolveJob) -> Future[None]:
        """Queue one attempt of ``job``."""
        return self._pool.submit(run_solve_job, self.database_url, job.id, job.attempt)

    def replan(
        self, plan_id: str, events: dict[str, Any], version: int | None
    ) -> Future[dict[str, Any]]:
        """Re-plan ``plan_id`` after ``events`` in a worker; the future holds the new version."""
        return self._pool.submit(replan_in_worker, self.database_url, plan_id, events, version)

    def recover(self, store: Store, *, fail_running: bool = True) -> list[SolveJob]:
        """At start-up: fail the jobs a stopped service left running (unless other processes
        of the service may be running them) and queue the waiting ones again; returns those
        queued."""
        queued = store.recover_jobs(fail_running=fail_running)
        for job in queued:
            self.submit(job)
        return queued

    def close(self) -> None:
        """Stop taking work; running jobs finish and store their plans."""
        self._pool.shutdown(wait=False, cancel_futures=True)
