"""Solve jobs on Celery workers (``FIELDROUTE_JOBS=celery``): the service publishes a job to a
broker (Redis) and ``fieldroute worker`` processes, on any number of machines sharing the
store, solve it. Re-plans still answer in the service's own pool (``CeleryJobRunner.replan``).

What it promises, and how:

- The store is the record of a job, not Celery: tasks keep no result (no result backend), and
  a task only names its job; a worker reads the day from the store and writes the job's
  progress and its plan there through ``api.jobs.solve_started_job``, the in-process runner's
  own path, so the plan and the job's ``done`` are one transaction.
- A task is acknowledged only when it has ended (``acks_late``): its plan stored with the job's
  ``done``, or the job failed with its reason. A worker killed mid-solve acknowledges nothing,
  and the broker hands the task out again: at once when only the pool process solving died
  (``reject_on_worker_lost``), after the visibility timeout when the whole worker or its
  machine did.
- Redis's visibility timeout (a task unacknowledged for that long is handed out again, even
  when its worker is still at it) is derived from the job budget:
  ``Settings.job_time_limit_max_s + Settings.job_overrun_s``, no search running longer than
  ``job_time_limit_max_s``. Each worker looks for such tasks every
  ``visibility_timeout / RESTORE_SWEEPS`` seconds (at least 1, at most
  ``RESTORE_EVERY_MAX_S``).
- Any task handed out twice is harmless, whatever the reason: ``Store.claim_job`` decides from
  the job's row what a delivered task does. A queued job is started (unless its workers were
  lost ``job_max_starts`` times: then it fails, ``WORKERS_LOST``); a done or failed one is
  left alone; a running one whose heartbeat (its progress, written every 0.5 s) is younger than
  ``job_stale_s`` is left to its worker, and this task comes back once ``job_stale_s`` later
  (a new message, ``RECHECK``) so that a job is never left running without a task in the
  broker; a running one whose heartbeat is older is taken over as a new attempt, the lost
  attempt's writes changing nothing from then on. A job started on ``job_max_starts`` workers
  in a row, each lost, is failed saying so (``WORKERS_LOST``) instead of started again.
- The service's watch (``watch_lost_jobs``) queues again a running job (without regions) whose
  heartbeat is older than ``job_stale_s`` and publishes its next attempt: with every worker
  gone, it said ``running`` for ever, its time frozen, and could not be retried; queued, it
  says it waits for a worker.
- A day of several regions fans out (``api.jobs``): its job's task stores one region job per
  region and publishes a task for each (the same task, naming the region job), then is
  acknowledged; the job is then ``fanned_out`` to its later deliveries, which publish again
  its region jobs still queued (a worker lost between storing and publishing them) and, every
  region done, join them unless someone is (a worker lost while joining them). Each region's
  task is acknowledged once its region's plan is stored and counted; the last region's, once
  the regions are joined and the day's plan stored with the job's ``done``.
  A region's task delivered after its region ended finishes what that end left: a failed
  region fails its job; the last done one joins the regions unless someone is joining them
  (the job's heartbeat younger than ``job_stale_s``: then it looks again later). While the
  regions search, each region's task writes its drafts on its region job, and the service
  joins them into the job's draft of the whole day when it is read.

Nothing here runs unless the settings ask for Celery: ``api.app`` and ``api.cli`` import this
module only then.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from functools import partial
from typing import Any

from celery import Celery
from kombu.exceptions import KombuError
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from api.jobs import JobRunner, settle_region, solve_started_job
from dispatch.config import Settings
from dispatch.errors import DispatchError, NotFoundError
from dispatch.persistence import ClaimOutcome, SolveJob, Store
from dispatch.travel import Roads

__all__ = [
    "SOLVE_TASK",
    "WORKERS_LOST",
    "CeleryJobRunner",
    "QueueUnavailableError",
    "celery_app",
    "run_worker",
]

logger = logging.getLogger(__name__)

#: The task's name in the broker: ``solve_job(job_id, attempt)``.
SOLVE_TASK = "fieldroute.solve_job"

#: Sweeps for tasks past their visibility timeout per timeout, and the longest time between two.
RESTORE_SWEEPS = 10
RESTORE_EVERY_MAX_S = 10.0

#: What a job says when its workers kept dying (``Settings.job_max_starts`` of them).
WORKERS_LOST = (
    "the workers solving this job stopped {starts} times in a row (killed, or out of memory) "
    "and nothing was stored; retry it, perhaps with a shorter time limit or a smaller day"
)

#: What a job says when it could not be handed to the workers.
UNQUEUED = (
    "the job queue (FIELDROUTE_BROKER_URL) could not be reached, so no worker got this job; "
    "retry it once the broker answers"
)


#: How long ``/healthz`` waits for the broker before calling it unreachable.
BROKER_CHECK_S = 2.0
#: How long a connection to the broker waits for it to answer (to connect, or to reply once
#: connected): a broker that takes connections and never answers (frozen, or a network gone
#: silent) held every publish and every ``/healthz`` for as long as it stayed so, until the
#: service's threads were all waiting on it. Longer than Redis's blocking reads of a worker
#: (1 s); a publish tries up to four times (Celery's retry policy).
BROKER_SOCKET_TIMEOUT_S = 5.0


class QueueUnavailableError(DispatchError):
    """The broker did not take a job (unreachable); the job was failed and may be retried."""

    http_status = 503
    exit_code = 1


@dataclass(frozen=True, slots=True)
class _WorkerSetup:
    """What a worker's tasks need besides their arguments."""

    database_url: str
    roads: Roads | None
    stale_after_s: float
    max_starts: int
    time_limit_cap_s: float


def celery_app(settings: Settings, *, roads: Roads | None = None) -> Any:
    """The Celery app of ``settings``' broker, with its one task, ``SOLVE_TASK``.

    Parameters
    ----------
    settings
        Its broker (``broker_url``), queue (``jobs_queue``) and the job budget from which the
        visibility timeout is derived; the store its tasks open (``database_url``).
    roads
        The OSRM server of a worker, for days on roads.

    Returns
    -------
    celery.Celery
        Publishes as is; ``run_worker`` runs its worker.
    """
    visibility_s = settings.visibility_timeout_s
    restore_every_s = min(RESTORE_EVERY_MAX_S, max(1.0, visibility_s / RESTORE_SWEEPS))
    app = Celery("fieldroute", broker=settings.broker_url, set_as_current=False)
    app.conf.update(
        task_default_queue=settings.jobs_queue,
        task_serializer="json",
        accept_content=["json"],
        # The store is the record of a job: Celery keeps no result.
        result_backend=None,
        task_ignore_result=True,
        # Acknowledged once the plan is stored or the job failed; a worker lost before that
        # leaves the task to be handed out again.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # One task at a time per pool process: a solve is long, and a task reserved behind it
        # would wait for it instead of going to an idle worker.
        worker_prefetch_multiplier=1,
        broker_transport_options={
            "visibility_timeout": visibility_s,
            "unacked_restore_interval": restore_every_s,
            "unacked_restore_throttle": 1,
            # The sweepers' lock outlives a worker killed mid-sweep by this much only (kombu's
            # default, 5 minutes, would hold every sweep back that long); two sweeps at once
            # are safe, each task being restored in its own transaction.
            "unacked_mutex_expire": restore_every_s,
            "socket_timeout": BROKER_SOCKET_TIMEOUT_S,
            "socket_connect_timeout": BROKER_SOCKET_TIMEOUT_S,
        },
        broker_connection_retry_on_startup=True,
        # A broker blip does not stop a solve: its task, handed out again meanwhile, finds the
        # job alive and leaves it be.
        worker_cancel_long_running_tasks_on_connection_loss=False,
    )
    setup = _WorkerSetup(
        database_url=settings.database_url,
        roads=roads,
        stale_after_s=settings.job_stale_s,
        max_starts=settings.job_max_starts,
        time_limit_cap_s=settings.job_time_limit_max_s,
    )

    def solve_job(task: Any, job_id: str, attempt: int) -> ClaimOutcome | None:
        """Run the job as ``Store.claim_job`` says; the outcome, for the log."""

        def recheck() -> None:
            task.apply_async((job_id, attempt), countdown=setup.stale_after_s)

        def publish(part: SolveJob) -> None:
            task.app.send_task(SOLVE_TASK, args=(part.id, part.attempt))

        return _run_delivered(
            setup, job_id, attempt, recheck, publish=publish, worker=task.request.hostname
        )

    app.task(name=SOLVE_TASK, bind=True)(solve_job)
    return app


def _run_delivered(
    setup: _WorkerSetup,
    job_id: str,
    attempt: int,
    recheck: Callable[[], None],
    *,
    publish: Callable[[SolveJob], None] | None = None,
    worker: str | None = None,
) -> ClaimOutcome | None:
    """One delivery of a job's task: claim the job in the store, then solve it (or fan it out,
    its region jobs handed to ``publish``), leave it, or ask to look again later
    (``recheck``); ``None`` when the store has no such job or could not be reached (then
    ``recheck`` too: the job is never left without a task)."""
    store = Store(setup.database_url, migrate=False)

    def fan_out(parts: Sequence[SolveJob]) -> None:
        if publish is not None:
            _publish_regions(store, parts, publish)

    try:
        try:
            claim = store.claim_job(
                job_id,
                stale_after_s=setup.stale_after_s,
                max_starts=setup.max_starts,
                gave_up=WORKERS_LOST.format(starts=setup.max_starts),
            )
        except NotFoundError:
            logger.warning("job %s: no such job in the store; task dropped", job_id)
            return None
        logger.info(
            "job %s: %s (attempt %d, start %d, queued as attempt %d) on %s",
            job_id,
            claim.outcome,
            claim.attempt,
            claim.job.starts,
            attempt,
            worker,
            extra={"job_id": job_id, "claim": claim.outcome},
        )
        if claim.outcome in ("started", "taken_over"):
            solve_started_job(
                store,
                job_id,
                claim.attempt,
                setup.roads,
                time_limit_cap_s=setup.time_limit_cap_s,
                fan_out=None if publish is None else fan_out,
            )
            logger.info("job %s: attempt %d ended on %s", job_id, claim.attempt, worker)
        elif claim.outcome == "alive":
            recheck()
        elif claim.outcome == "fanned_out":
            parts = store.region_jobs(job_id, claim.attempt)
            fan_out([part for part in parts if part.state == "queued"])
            # Every region done and the worker joining them lost: joined here once nobody is
            # (left to the last region's task, handed out again only after the broker's
            # visibility timeout, the day stayed running an hour with its plan made).
            if (
                parts
                and all(part.state == "done" for part in parts)
                and settle_region(store, parts[-1], setup.roads, stale_after_s=setup.stale_after_s)
            ):
                recheck()
        elif claim.job.parent_id is not None and settle_region(
            store, claim.job, setup.roads, stale_after_s=setup.stale_after_s
        ):
            recheck()  # ended or given up on: its end settled, or someone else joining
        return claim.outcome
    except SQLAlchemyError:
        # The store did not answer (or stopped answering mid-job): look again later, when the
        # claim takes over what this delivery could not finish.
        logger.exception("job %s: the store failed; the job is looked at again later", job_id)
        recheck()
        return None
    finally:
        store.close()


def _publish_regions(
    store: Store, parts: Sequence[SolveJob], publish: Callable[[SolveJob], None]
) -> None:
    """One task per region job; a broker that takes one not fails their job (``UNQUEUED``) and
    the region jobs it did not take, which would otherwise stay queued for ever (and be
    published again, for a failed day, at the service's next start)."""
    for k, part in enumerate(parts):
        try:
            publish(part)
        except (KombuError, RedisError, OSError) as error:
            logger.error("could not publish region job %s: %r", part.id, error)
            if part.parent_id is not None and part.parent_attempt is not None:
                store.fail_job(part.parent_id, part.parent_attempt, UNQUEUED)
            for unpublished in parts[k:]:
                store.fail_job(unpublished.id, unpublished.attempt, UNQUEUED)
            return


class CeleryJobRunner(JobRunner):
    """The service's runner with ``FIELDROUTE_JOBS=celery``: solve jobs are published to the
    broker for ``fieldroute worker`` processes; re-plans run in this service's own pool, as
    ``JobRunner`` runs them.

    Parameters
    ----------
    settings
        The broker, queue, store and job budget.
    replan_workers
        Re-plan worker processes of this service.
    executor
        Another executor for the re-plans (a thread pool, in tests).
    roads
        The OSRM server of this service, for re-plans of days on roads.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        replan_workers: int = 1,
        executor: Executor | None = None,
        roads: Roads | None = None,
    ) -> None:
        super().__init__(
            settings.database_url,
            replan_workers=replan_workers,
            executor=executor,
            roads=roads,
            time_limit_cap_s=settings.job_time_limit_max_s,
        )
        self._app = celery_app(settings)
        self._queue = settings.jobs_queue
        # When each silent job's attempt was published again, and the wait before the next
        # time (``publish_silent_jobs``); the longest wait, the broker's visibility timeout.
        self._republished: dict[tuple[str, int], tuple[float, float]] = {}
        self._republish_at_most_s = settings.job_time_limit_max_s + settings.job_overrun_s
        self._clock = time.monotonic

    def queue_answers(self) -> bool:
        """Whether the broker takes a connection within ``BROKER_CHECK_S`` (``/healthz``):
        without it every new job is refused (503)."""
        waits = {"socket_timeout": BROKER_CHECK_S, "socket_connect_timeout": BROKER_CHECK_S}
        try:
            with self._app.connection_for_write(
                connect_timeout=BROKER_CHECK_S, transport_options=waits
            ) as connection:
                connection.ensure_connection(
                    max_retries=1, interval_start=0, timeout=BROKER_CHECK_S
                )
        except (KombuError, RedisError, OSError) as error:
            logger.warning("the broker does not answer: %r", error)
            return False
        return True

    def _publish(self, job: SolveJob) -> None:
        """One task for ``job``'s attempt on the service's queue (the broker's errors raised)."""
        self._app.send_task(SOLVE_TASK, args=(job.id, job.attempt), queue=self._queue)

    def submit(self, job: SolveJob) -> Future[None]:
        """Publish one attempt of ``job``; the future is done once the broker holds it.

        Raises
        ------
        QueueUnavailableError
            The broker did not take it; the job is failed saying so (retry it later).
        """
        try:
            self._publish(job)
        except (KombuError, RedisError, OSError) as error:
            logger.error("could not publish job %s: %r", job.id, error, extra={"job_id": job.id})
            store = Store(self.database_url, migrate=False)
            try:
                store.fail_job(job.id, job.attempt, UNQUEUED)
                if job.parent_id is not None and job.parent_attempt is not None:
                    # A region job queued again at start-up: its day cannot be joined now.
                    store.fail_job(job.parent_id, job.parent_attempt, UNQUEUED)
            finally:
                store.close()
            raise QueueUnavailableError(f"job {job.id} failed: {UNQUEUED}") from error
        published: Future[None] = Future()
        published.set_result(None)
        return published

    def recover(self, store: Store) -> list[SolveJob]:
        """At start-up: running jobs are the workers' (a lost one is taken over when its task
        comes back). The queued ones are published again (a job runs once, however many tasks
        name it), in case their task never reached the broker; returns them. A broker this
        process cannot reach fails none of them: they may be other services' jobs, their tasks
        safe in the broker (failed, every queued job of the deployment had to be retried by
        hand); they stay queued, published again by the watch (``watch_lost_jobs``)."""
        queued = store.recover_jobs()
        for k, job in enumerate(queued):
            try:
                self._publish(job)
            except (KombuError, RedisError, OSError) as error:
                logger.error(
                    "could not publish %d queued jobs again (%r); they stay queued",
                    len(queued) - k,
                    error,
                )
                break
        return queued

    def watch_lost_jobs(self, store: Store, *, stale_after_s: float) -> Callable[[], None]:
        """Every half of ``stale_after_s`` until closed, publish again the task of each job
        nobody has told of for ``stale_after_s`` (``Store.jobs_without_news``): a broker that
        lost its tasks (restarted with nothing on disk, failed over) left a running job whose
        worker died, or a queued job, waiting for ever, and neither could be retried. A worker
        takes a stale job over and leaves a live one (``Store.claim_job``). Returns how to
        stop the watch; closing the runner stops it too."""
        look = partial(self.publish_silent_jobs, store, stale_after_s)
        return self._watch(stale_after_s / 2, look, "silent-jobs")

    def publish_silent_jobs(self, store: Store, stale_after_s: float) -> list[str]:
        """One round of ``watch_lost_jobs``: the ids of the jobs whose task was published
        again (none when the store or the broker cannot be reached: the next round tries).

        A job still silent after that is published again after twice the wait, up to the
        broker's visibility timeout: published every round, three jobs queued while no worker
        was up (an upgrade) put 67 tasks in the broker in 24 s, and more every minute."""
        try:
            silent = store.jobs_without_news(stale_after_s=stale_after_s)
        except Exception:  # the store briefly unreachable
            logger.exception("looking for jobs without news failed")
            return []
        try:
            silent = [self._requeued(store, job, stale_after_s) for job in silent]
        except Exception:  # the store briefly unreachable
            logger.exception("queueing again the jobs whose worker was lost failed")
            return []
        now = self._clock()
        keys = {(job.id, job.attempt) for job in silent}
        self._republished = {k: v for k, v in self._republished.items() if k in keys}
        published = []
        for job in silent:
            last, wait = self._republished.get((job.id, job.attempt), (None, stale_after_s))
            if last is not None and now - last < wait:
                continue
            try:
                self._publish(job)
            except (KombuError, RedisError, OSError) as error:
                logger.warning("could not publish job %s again: %r", job.id, error)
                break
            following = wait if last is None else min(2 * wait, self._republish_at_most_s)
            self._republished[(job.id, job.attempt)] = (now, max(following, stale_after_s))
            logger.warning(
                "job %s (%s) had no news for %g s: its task is published again",
                job.id,
                job.state,
                stale_after_s,
                extra={"job_id": job.id},
            )
            published.append(job.id)
        return published

    @staticmethod
    def _requeued(store: Store, job: SolveJob, stale_after_s: float) -> SolveJob:
        """``job`` queued again as its next attempt when it is a running job without regions
        whose worker was lost (``Store.requeue_lost_job``), else as it is."""
        lost = job.state == "running" and job.regions_total is None and job.parent_id is None
        if lost and store.requeue_lost_job(job.id, job.attempt, stale_after_s=stale_after_s):
            logger.warning(
                "job %s had no news from its worker for %g s: queued again for another",
                job.id,
                stale_after_s,
                extra={"job_id": job.id},
            )
            return store.load_job(job.id)
        return job

    def close(self) -> None:
        """Stop the re-plan pool and let go of the broker's connections."""
        super().close()
        self._app.close()


def run_worker(
    settings: Settings,
    *,
    concurrency: int = 1,
    name: str | None = None,
    roads: Roads | None = None,
) -> int:
    """Run a Celery worker for ``settings``' broker, queue and store until it is stopped
    (SIGTERM: the running solves end and store their plans first); its exit code.

    Parameters
    ----------
    concurrency
        Jobs solved at once: 1 in the worker's own process, more in a prefork pool (each
        solve uses a second process already, for a seeding search, which a pool's daemonic
        processes may not start; there VROOM's runs are in the solving process, and while
        one runs, pyvroom holding the interpreter, the job's heartbeat is not written: up to
        about half the budget on a big day).
    name
        The worker's name in the broker and its log; default ``fieldroute-PID@HOST``.
    roads
        The OSRM server of this worker, for days on roads.
    """
    app = celery_app(settings, roads=roads)
    worker = app.Worker(
        hostname=name or f"fieldroute-{os.getpid()}@{socket.gethostname()}",
        concurrency=concurrency,
        # One job at a time runs in the worker's own process (Celery's solo pool), which may
        # start the solve's side process; a prefork pool's processes are daemonic and may not,
        # so their solves take turns in one process (a 10 s solve of a 250-visit day served 233
        # visits there against 237).
        pool_cls="solo" if concurrency == 1 else "prefork",
        loglevel="INFO",
        queues=[settings.jobs_queue],
        # No syncing with other workers at start nor gossip: nothing here uses them, and they
        # would delay the start and fill the broker with chatter.
        without_mingle=True,
        without_gossip=True,
    )
    worker.start()
    code: int = worker.exitcode or 0
    return code
