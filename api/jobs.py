"""Solve jobs and re-plans in pools of worker processes, so a long solve never holds up the
caller (the HTTP service's event loop) nor a re-plan, and a crashed solve cannot take the
service down: a worker that dies is replaced and its job fails saying so.

A worker opens the store itself and writes the job's progress (its heartbeat) and its plan
there (for a horizon, its week and the week's day plans); the plan and the job's ``done`` are
one transaction, so a job never reports done without its plan. While a day's search goes on,
each of its draft plans is written as the job's newest draft (the first sets ``first_plan_s``),
from the search's drafting thread; a week's search has none. Jobs a stopped service left
running are marked failed when the next one starts (``recover``), and a worker of such a lost
attempt can no longer write anything.

``solve_started_job`` is the one way a started attempt is solved, here and on the Celery
workers of ``api.celery_jobs`` (``FIELDROUTE_JOBS=celery``), which only start jobs otherwise.

On Celery a day of several regions (``dispatch.planning.regions``, the split ``plan_day``
makes) fans out: its job's attempt stores one region job per region (``Store.fan_out_job``),
each published as a task of its own and solved with the job's whole budget on whichever worker
takes it (``solve_started_job`` of a region job). A region job that ends done keeps its plan
and counts itself on its job; the one that makes the count whole (``Store.finish_region``
says ``last``, once) joins the regions as ``plan_day`` does, checks and stores the plan with
its job's ``done`` (``join_regions_of``), writing the job's heartbeat meanwhile. A region job
that fails fails its job, with the region's reason. In-process, a day is never fanned out.

A region job writes its region's drafts as any solve writes its own (``Store.save_region_draft``,
on the region job's row); the job's ``first_plan_s`` is when every region first has a draft or
is done. The job's draft of the whole day is never written: ``day_draft`` joins it, when read,
from each region's newest draft or plan, as the plan of the day is joined.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import BrokenExecutor, Executor, Future
from datetime import UTC, datetime
from functools import partial
from typing import Any, Protocol

from sqlalchemy.exc import SQLAlchemyError

from api.workers import JobWorkers
from dispatch.contract.horizon import is_horizon, parse_horizon
from dispatch.contract.validate import parse_problem
from dispatch.desk.replan import replan_stored
from dispatch.desk.solve import (
    join_and_store,
    join_draft,
    solve_day,
    solve_params,
    solve_region,
)
from dispatch.desk.week import solve_week
from dispatch.errors import DispatchError, InternalError, WorkerLostError
from dispatch.model import Problem
from dispatch.persistence import SolveJob, Store
from dispatch.planning import Progress
from dispatch.planning.day import MIN_SEARCH_S
from dispatch.planning.regions import regions
from dispatch.travel import Roads

__all__ = [
    "REGION_DROPPED",
    "REGION_FAILED",
    "FanOut",
    "JobRunner",
    "day_draft",
    "join_regions_of",
    "replan_in_worker",
    "run_solve_job",
    "settle_region",
    "solve_started_job",
]

logger = logging.getLogger(__name__)

#: Least time between two progress writes of a running job.
PROGRESS_EVERY_S = 0.5

#: The longest a watch's stop waits for a round under way (``JobRunner._watch``).
WATCH_STOP_S = 10.0

#: What a job whose worker died says.
WORKER_LOST = (
    "the worker process solving this job stopped (killed, or out of memory) and nothing was "
    "stored; retry it, perhaps with a shorter time limit or a smaller day"
)

#: What a fanned-out job says when one of its regions failed (the region's own reason last).
REGION_FAILED = "region {region} of {regions} ({visits} visits) failed: {error}"

#: What a region job says when its job ended or moved on before the region started.
REGION_DROPPED = "job {job_id} ended or was started again before this region's turn; nothing to do"

#: Publishes a fanned-out job's region jobs, one task each (``api.celery_jobs``).
FanOut = Callable[[Sequence[SolveJob]], None]


class _ProgressWriter:
    """Writes a running attempt's progress: the search's reports, and its elapsed time (since
    ``started``, a ``time.monotonic()``) every ``PROGRESS_EVERY_S`` even while no search
    reports (the seeding searches in other processes say nothing until they end). Each write
    is the job's heartbeat too, by which a worker elsewhere tells a lost attempt from a live
    one (``Store.claim_job``), so a failed write does not stop the next ones."""

    def __init__(self, store: Store, job_id: str, attempt: int, started: float) -> None:
        self._store, self._job_id, self._attempt = store, job_id, attempt
        self._started = started
        self._latest: Progress | None = None
        self._written: Progress | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"progress-{job_id}", daemon=True)

    def __enter__(self) -> _ProgressWriter:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def __call__(self, progress: Progress) -> None:
        """The search's report; written at the next beat."""
        self._latest = progress

    def _beat(self) -> None:
        failing = False
        while not self._stop.wait(PROGRESS_EVERY_S):
            latest = self._latest
            fresh = latest is not None and latest is not self._written
            try:
                self._store.report_progress(
                    self._job_id,
                    self._attempt,
                    elapsed_s=time.monotonic() - self._started,
                    best_cost=latest.best_cost if fresh and latest else None,
                    placed=latest.placed if fresh and latest else None,
                )
            except Exception:  # progress is a courtesy: the solve goes on, the beats try again
                if not failing:
                    logger.exception("could not write the progress of job %s", self._job_id)
                failing = True
                continue
            if failing:
                logger.info("writing the progress of job %s again", self._job_id)
            failing = False
            self._written = latest


class _SaveDraft(Protocol):
    """A store's write of a running attempt's newest draft (``Store.save_draft``, or
    ``Store.save_region_draft`` for a region job); whether it was kept."""

    def __call__(
        self, job_id: str, attempt: int, document: dict[str, Any], /, *, elapsed_s: float
    ) -> bool: ...


class _DraftWriter:
    """Writes each draft plan of a running attempt's search as the job's newest draft
    (``save``: ``Store.save_draft``, the first setting the job's ``first_plan_s``, seconds
    since ``started``; a region job's with ``Store.save_region_draft``). Called on the search's
    drafting thread, about once a second at most and never after the plan's save; the store
    takes writes from any thread. A failed write is logged and the next draft tries again
    (drafts are a courtesy: the solve goes on); once the store refuses one (the attempt was
    taken over or failed), no more are written."""

    def __init__(self, save: _SaveDraft, job_id: str, attempt: int, started: float) -> None:
        self._save, self._job_id, self._attempt = save, job_id, attempt
        self._started = started
        self._failing = False
        self._refused = False

    def __call__(self, document: dict[str, Any]) -> None:
        """A draft plan, as the contract's plan document in JSON."""
        if self._refused:
            return
        try:
            kept = self._save(
                self._job_id,
                self._attempt,
                document,
                elapsed_s=time.monotonic() - self._started,
            )
        except Exception:  # a draft is a courtesy: the solve goes on, the next draft tries again
            if not self._failing:
                logger.exception("could not write a draft plan of job %s", self._job_id)
            self._failing = True
            return
        self._failing = False
        if not kept:
            self._refused = True
            logger.info(
                "job %s is no longer running at attempt %d: its drafts are dropped",
                self._job_id,
                self._attempt,
                extra={"job_id": self._job_id},
            )


def _solve(
    store: Store,
    job_id: str,
    attempt: int,
    roads: Roads | None,
    time_limit_cap_s: float | None = None,
) -> None:
    if not store.start_job(job_id, attempt):
        return  # retried or given up on since it was queued: not this attempt's to run
    solve_started_job(store, job_id, attempt, roads, time_limit_cap_s=time_limit_cap_s)


def _time_limit(job: SolveJob, policy_s: float, cap_s: float | None) -> float:
    """The job's search budget: asked, or the problem's policy; cut to ``cap_s``."""
    limit = job.time_limit_s if job.time_limit_s is not None else policy_s
    if cap_s is not None and limit > cap_s:
        logger.warning(
            "job %s asks for %g s of search; it gets the longest allowed, %g s",
            job.id,
            limit,
            cap_s,
            extra={"job_id": job.id},
        )
        return cap_s
    return limit


def solve_started_job(
    store: Store,
    job_id: str,
    attempt: int,
    roads: Roads | None,
    *,
    time_limit_cap_s: float | None = None,
    fan_out: FanOut | None = None,
) -> None:
    """Solve attempt ``attempt`` of a job already running at it (``Store.start_job`` or
    ``Store.claim_job`` moved it there), writing its progress, then storing its plan (or its
    week and the week's day plans) with its ``done`` in one transaction, or failing it with the
    reason. A day's draft plans are written as the job's newest draft while its search goes on
    (``Store.save_draft``); a week has none. Never raises for the job's own errors; a store
    that cannot be written to raises.

    Parameters
    ----------
    store
        The store of the job.
    job_id, attempt
        The job and the attempt this worker runs: writes for another attempt change nothing.
    roads
        The OSRM server for days on roads.
    time_limit_cap_s
        The longest search a job runs (``Settings.job_time_limit_max_s``); ``None``: no cap.
    fan_out
        Publishes region jobs (Celery): given, a day of several regions is not solved here but
        fanned out, one region job each, which this call stores and hands to ``fan_out``.
        A region job (one of those) is solved as its region, whether or not this is given.
    """
    started = time.monotonic()
    try:
        job = store.load_job(job_id)
        if job.parent_id is not None:
            _solve_region_job(store, job, attempt, roads, time_limit_cap_s)
            return
        raw = store.load_problem(job.problem_id)
        if is_horizon(raw):
            _solve_week(store, job, attempt, raw, started, roads, time_limit_cap_s)
            return
        problem = parse_problem(raw, stored=True)
        if fan_out is not None:
            found = regions(problem)
            if len(found) > 1:
                sizes = [len(region.visits) for region in found]
                parts = store.fan_out_job(job_id, attempt, regions=sizes)
                logger.info(
                    "job %s: attempt %d fanned out to %d regions (%s visits): %s",
                    job_id,
                    attempt,
                    len(parts),
                    ", ".join(map(str, sizes)),
                    ", ".join(part.id for part in parts),
                    extra={"job_id": job_id},
                )
                if parts:
                    fan_out(parts)
                return
        limit = _time_limit(job, problem.policy.time_limit_s, time_limit_cap_s)
        with _ProgressWriter(store, job_id, attempt, started) as progress:
            solve_day(
                raw,
                problem,
                params=solve_params(problem, limit, None),
                plan_id=job.plan_id,
                save=lambda plan, record: store.finish_job(
                    job_id, attempt, plan, elapsed_s=time.monotonic() - started, record=record
                ),
                on_progress=progress,
                roads=roads,
                on_draft=_DraftWriter(store.save_draft, job_id, attempt, started),
            )
    except DispatchError as error:
        store.fail_job(job_id, attempt, str(error))
    except SQLAlchemyError:
        # The store's failure, not the job's (a connection reset as the plan was stored):
        # failed as the job's own, it was never taken over; the caller looks at it again.
        raise
    except Exception as error:  # a job must end, whatever broke; the log keeps the traceback
        logger.exception("solve job %s failed", job_id)
        store.fail_job(job_id, attempt, f"internal error ({type(error).__name__}); see the log")


def _since(moment: datetime | None) -> float:
    """``moment`` as a ``time.monotonic()`` reading: when it was on this process's clock."""
    return time.monotonic() - _elapsed(moment)


def _elapsed(moment: datetime | None) -> float:
    """Seconds since ``moment`` (none: 0)."""
    return 0.0 if moment is None else max(0.0, (datetime.now(UTC) - moment).total_seconds())


def _solve_region_job(
    store: Store,
    job: SolveJob,
    attempt: int,
    roads: Roads | None,
    time_limit_cap_s: float | None,
) -> None:
    """A region job's attempt: its region of its job's day solved with its share of the job's
    budget and counted on the job; the last region joins them all (``join_regions_of``). Its
    failure fails the job too. The job's heartbeat is written with its own while it solves,
    and its region's drafts as its own (``Store.save_region_draft``)."""
    started = time.monotonic()
    assert job.parent_id is not None and job.parent_attempt is not None and job.region is not None
    parent = store.load_job(job.parent_id)
    if parent.state != "running" or parent.attempt != job.parent_attempt:
        store.fail_job(job.id, attempt, REGION_DROPPED.format(job_id=parent.id))
        return
    try:
        raw = store.load_problem(parent.problem_id)
        problem = parse_problem(raw, stored=True)
        found = regions(problem)
        if (
            len(found) != parent.regions_total
            or job.region >= len(found)
            or len(found[job.region].visits) != job.visits_total
        ):
            raise InternalError(
                f"the regions of job {parent.id}'s day are not those it was fanned out to "
                "(workers of another version of fieldroute?)"
            )
        # A region searches for its share of the job's budget, by its visits, as ``plan_day``
        # shares it among regions in one process, and so for its share of the least search
        # (``MIN_SEARCH_S``): the budget stays the job's cap on one worker, and more workers
        # end the day sooner. (Each region given the whole least search, a 1 s job of three
        # regions searched for 3 s on one worker.)
        share = len(found[job.region].visits) / max(1, sum(len(r.visits) for r in found))
        least_s = MIN_SEARCH_S * share
        limit = max(
            least_s, _time_limit(parent, problem.policy.time_limit_s, time_limit_cap_s) * share
        )
        with (
            _ProgressWriter(store, job.id, attempt, started) as progress,
            _ProgressWriter(store, parent.id, job.parent_attempt, _since(parent.started_at)),
        ):
            record = solve_region(
                problem,
                found[job.region],
                params=solve_params(problem, limit, None),
                roads=roads,
                on_progress=progress,
                on_draft=_DraftWriter(store.save_region_draft, job.id, attempt, started),
                least_s=least_s,
            )
        placed = sum(len(route["stops"]) for route in record["routes"])
        finish = store.finish_region(
            job.id, attempt, record, placed=placed, elapsed_s=time.monotonic() - started
        )
    except DispatchError as error:
        _fail_region(store, job, attempt, parent, str(error))
        return
    except SQLAlchemyError:
        # The store's failure, not the job's (a connection reset as the plan was stored):
        # failed as the job's own, it was never taken over; the caller looks at it again.
        raise
    except Exception as error:  # a job must end, whatever broke; the log keeps the traceback
        logger.exception("region job %s of job %s failed", job.id, parent.id)
        _fail_region(
            store, job, attempt, parent, f"internal error ({type(error).__name__}); see the log"
        )
        return
    logger.info(
        "job %s: region %d of %d %s (%d visits placed)",
        parent.id,
        job.region + 1,
        parent.regions_total,
        "done, the last: joining" if finish == "last" else finish,
        placed,
        extra={"job_id": parent.id},
    )
    if finish == "last":
        join_regions_of(store, parent.id, job.parent_attempt, roads, raw=raw, problem=problem)


def _fail_region(store: Store, job: SolveJob, attempt: int, parent: SolveJob, error: str) -> None:
    """Fail a region job and its job, saying which region failed and why."""
    store.fail_job(job.id, attempt, error)
    _fail_parent(store, store.load_job(job.id), parent)


def _fail_parent(store: Store, job: SolveJob, parent: SolveJob) -> None:
    """Fail ``parent`` (at the attempt ``job`` is a region of) with failed ``job``'s reason;
    nothing when ``job`` is not failed (a newer attempt of it runs)."""
    if job.state != "failed" or job.parent_attempt is None or job.region is None:
        return
    reason = REGION_FAILED.format(
        region=job.region + 1,
        regions=parent.regions_total,
        visits=job.visits_total,
        error=job.error,
    )
    store.fail_job(parent.id, job.parent_attempt, reason)


def join_regions_of(
    store: Store,
    job_id: str,
    attempt: int,
    roads: Roads | None,
    *,
    raw: dict[str, Any] | None = None,
    problem: Problem | None = None,
) -> bool:
    """Join the regions of attempt ``attempt`` of a fanned-out job, once all are done: the
    plan checked and stored with the job's ``done`` (``join_and_store``), the job's heartbeat
    written meanwhile; a failure fails the job. Harmless twice: only one store of the plan
    can win (``Store.finish_job``). Whether there was a join to do.

    Parameters
    ----------
    store
        The store of the job.
    job_id, attempt
        The job and the attempt that fanned out.
    roads
        The OSRM server for days on roads.
    raw, problem
        The job's problem as stored and as validated, when the caller has them already.
    """
    records = store.region_plans(job_id, attempt)
    if records is None:
        return False  # a region still out, or the job ended or moved on
    job = store.load_job(job_id)
    started = _since(job.started_at)
    try:
        with _ProgressWriter(store, job_id, attempt, started):
            if raw is None or problem is None:
                raw = store.load_problem(job.problem_id)
                problem = parse_problem(raw, stored=True)
            join_and_store(
                raw,
                problem,
                records,
                plan_id=job.plan_id,
                solve_s=time.monotonic() - started,
                save=lambda plan, record: store.finish_job(
                    job_id, attempt, plan, elapsed_s=time.monotonic() - started, record=record
                ),
                roads=roads,
            )
        logger.info("job %s: regions joined, plan stored", job_id, extra={"job_id": job_id})
    except DispatchError as error:
        store.fail_job(job_id, attempt, str(error))
    except SQLAlchemyError:
        # The store's failure, not the job's (a connection reset as the plan was stored):
        # failed as the job's own, it was never taken over; the caller looks at it again.
        raise
    except Exception as error:  # a job must end, whatever broke; the log keeps the traceback
        logger.exception("joining the regions of job %s failed", job_id)
        store.fail_job(job_id, attempt, f"internal error ({type(error).__name__}); see the log")
    return True


def day_draft(store: Store, job: SolveJob) -> dict[str, Any] | None:
    """A draft of the whole day of ``job`` while its regions run (it fanned out): each region's
    newest draft, or a done region's plan, joined as the plan of the day is
    (``join_draft``), as the contract's plan document; ``None`` until every region has one,
    and for a job that is not a running fanned-out one. Joined at each call, so that a
    region's draft write never rewrites its job's row."""
    if job.state != "running" or job.regions_total is None:
        return None
    records = store.region_drafts(job.id, job.attempt)
    if records is None:
        return None
    problem = parse_problem(store.load_problem(job.problem_id), stored=True)
    return join_draft(problem, records, plan_id=job.plan_id, solve_s=_elapsed(job.started_at))


def settle_region(
    store: Store, job: SolveJob, roads: Roads | None, *, stale_after_s: float
) -> bool:
    """A task of ended region job ``job`` delivered again (a duplicate, or the task of a worker
    lost after the region's end): do what the end left undone. A failed region fails its job
    (again: harmless); a done one joins the regions when they are all done and nobody is
    joining them (the job's heartbeat older than ``stale_after_s``). Whether to look again
    later: someone is joining them now."""
    if job.parent_id is None or job.parent_attempt is None:
        return False
    parent = store.load_job(job.parent_id)
    if parent.state != "running" or parent.attempt != job.parent_attempt:
        return False
    if job.state == "failed":
        _fail_parent(store, job, parent)
        return False
    if job.state != "done" or parent.regions_done != parent.regions_total:
        return False
    beat = parent.heartbeat_at or parent.started_at
    if beat is not None and (datetime.now(UTC) - beat).total_seconds() < stale_after_s:
        return True
    join_regions_of(store, parent.id, job.parent_attempt, roads)
    return False


def _solve_week(
    store: Store,
    job: SolveJob,
    attempt: int,
    raw: dict[str, Any],
    started: float,
    roads: Roads | None,
    time_limit_cap_s: float | None,
) -> None:
    """A job of a stored horizon: its week (id: the job's ``plan_id``, ``wk_…``) and the
    week's day plans, stored with the job's ``done`` in one transaction. The week's search
    (``plan_week``) makes no drafts; its ``first_plan_s`` is when a plan of the whole week
    first exists (the days planned in turn)."""
    horizon = parse_horizon(raw, stored=True)
    as_problem = horizon.as_problem()
    limit = _time_limit(job, as_problem.policy.time_limit_s, time_limit_cap_s)
    with _ProgressWriter(store, job.id, attempt, started) as progress:
        solve_week(
            raw,
            horizon,
            params=solve_params(as_problem, limit, None),
            week_id=job.plan_id,
            problem_id=job.problem_id,
            save=lambda week, days: store.finish_week_job(
                job.id, attempt, week, days=days, elapsed_s=time.monotonic() - started
            ),
            on_progress=progress,
            on_first_plan=partial(_first_plan, store, job.id, attempt, started),
            roads=roads,
        )


def _first_plan(store: Store, job_id: str, attempt: int, started: float) -> None:
    """A week job's first plan of the whole week: its ``first_plan_s``."""
    store.report_first_plan(job_id, attempt, elapsed_s=time.monotonic() - started)


def run_solve_job(
    database_url: str,
    job_id: str,
    attempt: int,
    roads: Roads | None = None,
    time_limit_cap_s: float | None = None,
) -> None:
    """Run one attempt of a solve job (in a worker process)."""
    store = Store(database_url, migrate=False)
    try:
        _solve(store, job_id, attempt, roads, time_limit_cap_s)
    finally:
        store.close()


def replan_in_worker(
    database_url: str,
    plan_id: str,
    events: dict[str, Any],
    version: int | None,
    roads: Roads | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """``replan_stored`` in a worker process; the stored version's JSON, or its error."""
    store = Store(database_url, migrate=False)
    try:
        document = replan_stored(store, plan_id, events, version=version, roads=roads, now=now)
        return document.model_dump(mode="json")
    finally:
        store.close()


class JobRunner:
    """The worker pools of one service process: solves in one, re-plans in their own.

    A re-plan answers in seconds (its budget is ``policy.replan_time_limit_s``), so it never
    queues behind a solve that may run for an hour. A worker that dies fails the job it was
    running (the message says to retry it) and its pool is replaced; jobs still queued are
    queued again, and a re-plan lost with its worker answers ``WorkerLostError`` (503).

    Parameters
    ----------
    database_url
        The store the workers open.
    workers
        Solve worker processes; each solves one job at a time.
    replan_workers
        Re-plan worker processes.
    executor
        Another executor for both (a thread pool, in tests that need no process isolation).
    roads
        The OSRM server of this service, for days on roads; each job's worker asks it.
    time_limit_cap_s
        The longest search a job runs (``Settings.job_time_limit_max_s``); ``None``: no cap.
    """

    def __init__(
        self,
        database_url: str,
        *,
        workers: int = 1,
        replan_workers: int = 1,
        executor: Executor | None = None,
        roads: Roads | None = None,
        time_limit_cap_s: float | None = None,
    ) -> None:
        self.database_url = database_url
        self.roads = roads
        self.time_limit_cap_s = time_limit_cap_s
        self._solves = JobWorkers(workers, executor)
        self._replans = JobWorkers(replan_workers, executor)
        self._closing = threading.Event()
        #: This process's jobs its workers hold (id -> attempt, future), beaten for by
        #: ``watch_lost_jobs``.
        self._held: dict[str, tuple[int, Future[None]]] = {}
        #: How to stop each watch started (``_watch``).
        self._watches: list[Callable[[], None]] = []

    @property
    def worker_losses(self) -> int:
        """Worker pools replaced since start because a worker died."""
        return self._solves.losses + self._replans.losses

    @property
    def last_worker_loss(self) -> datetime | None:
        """When a worker last died, if one did."""
        losses = [t for t in (self._solves.last_loss, self._replans.last_loss) if t]
        return max(losses) if losses else None

    def queue_answers(self) -> bool | None:
        """Whether the queue jobs are published to answers; ``None``: this runner has none
        (its jobs run in this process's own pools)."""
        return None

    def submit(self, job: SolveJob) -> Future[None]:
        """Queue one attempt of ``job``."""
        pool = self._solves.pool
        future = self._solves.submit(
            run_solve_job, self.database_url, job.id, job.attempt, self.roads, self.time_limit_cap_s
        )
        self._held[job.id] = (job.attempt, future)
        future.add_done_callback(lambda done: self._after_solve(done, job, pool))
        return future

    def _after_solve(self, done: Future[None], job: SolveJob, pool: Executor) -> None:
        if self._held.get(job.id, (None, None))[1] is done:
            del self._held[job.id]
        error = None if done.cancelled() else done.exception()
        if error is not None and not isinstance(error, BrokenExecutor):
            # The store failed under the job (``solve_started_job`` raises those): held by no
            # worker now, it fails once its heartbeat is stale, to be retried.
            logger.error("job %s: the store failed while it ran: %s", job.id, error)
        if done.cancelled() or not isinstance(error, BrokenExecutor):
            return
        self._solves.lost(pool)
        store = Store(self.database_url, migrate=False)
        try:
            current = store.load_job(job.id)
            if current.attempt != job.attempt:
                return
            if current.state == "queued":
                self.submit(current)  # never started: queued again on the new pool
            elif current.state == "running":
                store.fail_job(job.id, job.attempt, WORKER_LOST)
        except Exception:  # a callback must not raise; the log keeps what went wrong
            logger.exception("could not settle job %s after its worker died", job.id)
        finally:
            store.close()

    def replan(
        self,
        plan_id: str,
        events: dict[str, Any],
        version: int | None,
        now: datetime | None = None,
    ) -> Future[dict[str, Any]]:
        """Re-plan ``plan_id`` after ``events`` in a worker (``now``: the service's clock, see
        ``replan_stored``); the future holds the new version, or ``WorkerLostError`` when the
        worker died before answering."""
        pool = self._replans.pool
        inner = self._replans.submit(
            replan_in_worker, self.database_url, plan_id, events, version, self.roads, now
        )
        outer: Future[dict[str, Any]] = Future()

        def settle(done: Future[dict[str, Any]]) -> None:
            error = None if done.cancelled() else done.exception()
            if done.cancelled() or isinstance(error, BrokenExecutor):
                self._replans.lost(pool)
                outer.set_exception(
                    WorkerLostError(
                        "the worker re-planning this batch stopped before it answered; nothing "
                        "was stored: send the batch again"
                    )
                )
            elif error is not None:
                outer.set_exception(error)
            else:
                outer.set_result(done.result())

        inner.add_done_callback(settle)
        return outer

    def recover(self, store: Store) -> list[SolveJob]:
        """At start-up: queue the waiting jobs again; returns them. (Running ones are
        ``watch_lost_jobs``'.)"""
        queued = store.recover_jobs()
        for job in queued:
            self.submit(job)
        return queued

    def _watch(self, every_s: float, look: Callable[[], object], name: str) -> Callable[[], None]:
        """Run ``look`` every ``every_s`` in a thread of its own until the runner closes or the
        stop returned is called. Stopping waits for a round under way (at most
        ``WATCH_STOP_S``): a round uses a store its caller is about to close, and a round
        caught by the close kept its connection, open, past it (a warning wherever the
        collector later found it: a test of the suite failed on another's connection)."""
        stopped = threading.Event()

        def watch() -> None:
            while not stopped.wait(every_s) and not self._closing.is_set():
                look()

        thread = threading.Thread(target=watch, name=name, daemon=True)
        thread.start()

        def stop() -> None:
            stopped.set()
            if thread is not threading.current_thread():
                thread.join(timeout=WATCH_STOP_S)

        self._watches.append(stop)
        return stop

    def watch_lost_jobs(self, store: Store, *, stale_after_s: float) -> Callable[[], None]:
        """Fail, at once and then every quarter of ``stale_after_s`` until closed, the running
        jobs whose heartbeat has stopped that long (``Store.fail_lost_jobs``): left by a
        service stopped or killed with its workers, or by one of several server processes
        (``--processes N``) killed with its job's worker, whose replacement could fail no
        running job (the others' are alive): that job stayed running for ever and could not
        be retried. A job whose worker outlived its service (killed, restarted at once) goes on
        beating and stores its plan.

        Each round also writes the heartbeat of the jobs this process's workers hold: a worker
        deep in a search writes its own seldom (the search holds the interpreter's lock; none
        for 4.6 s of a 5 s search), and a live job of a long search was failed as lost.

        Returns how to stop the watch (before ``store`` closes); closing the runner stops it
        too."""
        self._fail_lost(store, stale_after_s)  # before the service answers

        def look() -> None:
            held = {
                job_id: attempt
                for job_id, (attempt, future) in list(self._held.items())
                if future.running()
            }
            try:
                store.beat_jobs(held)
            except Exception:  # the next round beats again
                logger.exception("writing the heartbeat of running jobs failed")
            self._fail_lost(store, stale_after_s)

        return self._watch(stale_after_s / 4, look, "lost-jobs")

    @staticmethod
    def _fail_lost(store: Store, stale_after_s: float) -> None:
        try:
            for job_id in store.fail_lost_jobs(stale_after_s=stale_after_s):
                logger.warning(
                    "job %s failed: no heartbeat for %g s, its process stopped",
                    job_id,
                    stale_after_s,
                    extra={"job_id": job_id},
                )
        except Exception:  # a store briefly unreachable: the next round looks again
            logger.exception("looking for lost jobs failed")

    def close(self) -> None:
        """Stop taking work and watching; running jobs finish and store their plans."""
        self._closing.set()
        for stop in self._watches:
            stop()
        self._solves.close()
        self._replans.close()
