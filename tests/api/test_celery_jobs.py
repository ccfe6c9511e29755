"""Solve jobs on Celery (``FIELDROUTE_JOBS=celery``), as production runs them: a real
``redis-server`` and PostgreSQL (``scripts/services.sh start``; FIELDROUTE_TEST_REDIS_URL and
FIELDROUTE_TEST_POSTGRES_URL), ``fieldroute worker`` processes, and jobs submitted through the
service's API.

The jobs' budget is cut short so that the broker's visibility timeout (a task no worker
acknowledged is handed out again after it) is seconds, not the hour of production: a worker
killed with SIGKILL mid-solve leaves its task to come back within the test.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.celery_jobs import SOLVE_TASK, WORKERS_LOST, celery_app
from api.cli import app as cli
from dispatch.config import Settings
from dispatch.persistence import Store
from tests.api.conftest import TEST_NOW, Service, make_key
from tests.api.test_weeks import week_horizon
from tests.conftest import POSTGRES_ENV, _postgres_database, line_day

#: Where the broker of these tests is: ``scripts/services.sh redis-url``.
REDIS_ENV = "FIELDROUTE_TEST_REDIS_URL"
FIELDROUTE = Path(sys.executable).parent / "fieldroute"

#: The longest search of the tests' jobs, and the time a job may take beyond it: the broker
#: hands an unacknowledged task out again after their sum, the visibility timeout (8 s).
JOB_S = 5.0
OVERRUN_S = 3.0
VISIBILITY_S = JOB_S + OVERRUN_S
#: A heartbeat (written every 0.5 s) this old means a lost worker.
STALE_S = 3.0
#: Workers a job may be started on in a row (the first and one takeover).
MAX_STARTS = 2


def _servers() -> tuple[str, str]:
    """The broker's and the database server's URLs, or a skip saying how to have them (a
    failure under CI, which always has them)."""
    redis_url, postgres_url = os.environ.get(REDIS_ENV), os.environ.get(POSTGRES_ENV)
    if not redis_url or not postgres_url:
        missing = " and ".join(
            name for name, url in ((REDIS_ENV, redis_url), (POSTGRES_ENV, postgres_url)) if not url
        )
        message = (
            f"Redis and PostgreSQL not configured: run scripts/services.sh start and set "
            f"{REDIS_ENV}=$(scripts/services.sh redis-url) and "
            f"{POSTGRES_ENV}=$(scripts/services.sh url) ({missing} unset)"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return redis_url, postgres_url


@dataclass
class Worker:
    """A ``fieldroute worker`` process, in its own session (SIGKILL reaches its pool and the
    solves' side processes too), and its log."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL to the worker, its pool process and the solve's side process: a machine
        lost, nothing acknowledged nor stored."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


@dataclass
class Cluster:
    """A database, a queue of its own on the broker, the workers started on them, and the
    service's API (a ``TestClient`` over an app with the same Celery settings)."""

    settings: Settings
    folder: Path
    workers: list[Worker] = field(default_factory=list)

    @property
    def environment(self) -> dict[str, str]:
        s = self.settings
        assert s.broker_url is not None
        return os.environ | {
            "FIELDROUTE_DATABASE_URL": s.database_url,
            "FIELDROUTE_JOBS": "celery",
            "FIELDROUTE_BROKER_URL": s.broker_url,
            "FIELDROUTE_JOBS_QUEUE": s.jobs_queue,
            "FIELDROUTE_JOB_TIME_LIMIT_MAX_S": str(s.job_time_limit_max_s),
            "FIELDROUTE_JOB_OVERRUN_S": str(s.job_overrun_s),
            "FIELDROUTE_JOB_STALE_S": str(s.job_stale_s),
            "FIELDROUTE_JOB_MAX_STARTS": str(s.job_max_starts),
        }

    def start_workers(self, *names: str) -> list[Worker]:
        """Start ``fieldroute worker`` processes named ``names`` and wait until each is ready."""
        started = []
        for name in names:
            log = self.folder / f"{name}.log"
            with log.open("wb") as sink:
                process = subprocess.Popen(
                    [str(FIELDROUTE), "worker", "--name", f"{name}@test"],
                    env=self.environment,
                    cwd=self.folder,
                    stdout=sink,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            started.append(Worker(name, process, log))
        self.workers += started
        deadline = time.monotonic() + 60
        for worker in started:
            while f"{worker.name}@test ready." not in worker.text():
                assert worker.process.poll() is None, worker.text()
                assert time.monotonic() < deadline, f"{worker.name} did not start"
                time.sleep(0.1)
        return started

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()

    @contextmanager
    def service(self) -> Iterator[Service]:
        key = make_key(self.settings.database_url)
        app = create_app(self.settings, clock=lambda: TEST_NOW)
        with TestClient(app) as client:
            yield Service(client, self.settings.database_url, key)


@contextmanager
def cluster(folder: Path, **settings: Any) -> Iterator[Cluster]:
    """A fresh database and queue for the Celery settings of these tests (``settings`` added);
    the workers started on it are stopped, and the database dropped, afterwards."""
    redis_url, postgres_url = _servers()
    with contextmanager(_postgres_database)(postgres_url) as database_url:
        config = Settings(
            database_url=database_url,
            jobs="celery",
            broker_url=redis_url,
            jobs_queue=f"fieldroute.test.{uuid.uuid4().hex[:12]}",
            job_time_limit_max_s=JOB_S,
            job_overrun_s=OVERRUN_S,
            job_stale_s=STALE_S,
            job_max_starts=MAX_STARTS,
            **settings,
        )
        Store(database_url).close()  # migrated before any worker opens it
        running = Cluster(config, folder)
        try:
            yield running
        finally:
            running.stop()


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cluster, Service]]:
    """Two workers and the API on one database, for the tests that kill nobody."""
    with cluster(tmp_path_factory.mktemp("celery")) as running:
        running.start_workers("alpha", "beta")
        with running.service() as service:
            yield running, service


def searching_day() -> dict[str, Any]:
    """``line_day`` told to search for its whole budget (``stall_share`` 0): a job that runs
    for its ``time_limit_s``, where the day alone is solved in a tenth of a second."""
    return line_day(policy={"time_limit_s": 1, "stall_share": 0})


def post_job(service: Service, problem: dict[str, Any], time_limit_s: float) -> dict[str, Any]:
    problem_id = service.post_problem(problem)
    body = {"problem_id": problem_id, "time_limit_s": time_limit_s}
    answer = service.client.post("/v1/plans", json=body, headers=service.auth)
    assert answer.status_code == 202, answer.text
    job: dict[str, Any] = answer.json()
    return job


def job_of(service: Service, job_id: str) -> dict[str, Any]:
    found: dict[str, Any] = service.client.get(f"/v1/jobs/{job_id}", headers=service.auth).json()
    return found


def wait_solving(service: Service, job_id: str, attempt: int, elapsed_s: float = 1.0) -> None:
    """Until attempt ``attempt`` of the job has been solving for ``elapsed_s``."""
    deadline = time.monotonic() + 30
    while True:
        job = job_of(service, job_id)
        if job["attempt"] == attempt and job["progress"]["elapsed_s"] >= elapsed_s:
            assert job["state"] == "running", job
            return
        assert job["state"] in ("queued", "running"), job
        assert time.monotonic() < deadline, f"job {job_id} never ran: {job}"
        time.sleep(0.05)


def wait_log(worker: Worker, pattern: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while not re.search(pattern, worker.text()):
        assert time.monotonic() < deadline, f"{worker.name} never logged {pattern!r}"
        time.sleep(0.1)


def claims(workers: list[Worker], job_id: str, *, alive: bool = True) -> list[tuple[str, str, int]]:
    """``(worker, outcome, attempt)`` of every delivery of the job's task, as logged, worker by
    worker; without the deliveries that found the job ``alive`` unless ``alive`` (a task that
    comes back while the heartbeat of a lost worker is still fresh looks again later: on a
    loaded machine, a kill may land late enough for that)."""
    found = []
    for worker in workers:
        for outcome, attempt in re.findall(rf"job {job_id}: (\w+) \(attempt (\d+)", worker.text()):
            if alive or outcome != "alive":
                found.append((worker.name, outcome, int(attempt)))
    return found


def logged(workers: list[Worker], job_id: str) -> str:
    """What the workers logged of a job, for a failing assertion."""
    return "\n".join(
        f"{worker.name}: {line}"
        for worker in workers
        for line in worker.text().splitlines()
        if job_id in line
    )


# -- the shared workers -------------------------------------------------------------------


def test_a_day_job_is_solved_by_a_worker_and_its_plan_read(
    shared: tuple[Cluster, Service],
) -> None:
    running, service = shared
    job = post_job(service, line_day(), time_limit_s=1)
    done = service.wait(job["id"])
    assert (done["state"], done["attempt"], done["error"]) == ("done", 1, None), done
    plan = service.client.get(f"/v1/plans/{done['plan_id']}", headers=service.auth)
    assert plan.status_code == 200 and plan.json()["kpis"]["assigned"] == 3
    [(_, outcome, attempt)] = claims(running.workers, job["id"])
    assert (outcome, attempt) == ("started", 1)
    health = service.client.get("/healthz")
    assert (health.status_code, health.json()["queue"]) == (200, "ok")


def test_a_horizon_job_makes_its_week_on_a_worker(shared: tuple[Cluster, Service]) -> None:
    running, service = shared
    job = post_job(service, week_horizon(), time_limit_s=1)
    assert job["plan_id"].startswith("wk_")
    done = service.wait(job["id"])
    assert done["state"] == "done" and done["progress"]["visits_placed"] == 7, done
    week = service.client.get(f"/v1/weeks/{done['plan_id']}", headers=service.auth).json()
    assert week["dates"] == [f"2026-12-{d:02d}" for d in range(7, 12)]
    for day in week["days"]:
        plan = service.client.get(f"/v1/plans/{day['plan_id']}", headers=service.auth)
        assert plan.status_code == 200 and plan.json()["date"] == day["date"]
    assert [outcome for _, outcome, _ in claims(running.workers, job["id"])] == ["started"]


def test_two_workers_solve_two_jobs_at_once(shared: tuple[Cluster, Service]) -> None:
    running, service = shared
    jobs = [post_job(service, searching_day(), time_limit_s=3) for _ in range(2)]
    first, second = (service.wait(job["id"]) for job in jobs)
    assert first["state"] == second["state"] == "done", (first, second)
    # Each worker solves one job at a time: solves that overlap ran on different workers.
    start_1, end_1, start_2, end_2 = (
        datetime.fromisoformat(job[moment])
        for job in (first, second)
        for moment in ("started_at", "finished_at")
    )
    assert start_1 < end_2 and start_2 < end_1, (first, second)
    solvers = [claims(running.workers, job["id"]) for job in jobs]
    assert [[outcome for _, outcome, _ in found] for found in solvers] == [["started"]] * 2
    assert {found[0][0] for found in solvers} == {"alpha", "beta"}


def test_a_late_duplicate_changes_nothing(shared: tuple[Cluster, Service]) -> None:
    running, service = shared
    publisher = celery_app(running.settings)
    try:
        # A duplicate of a running job (its task handed out again past the visibility
        # timeout, while its worker still solves) leaves it to that worker and looks again.
        job = post_job(service, searching_day(), time_limit_s=3)
        wait_solving(service, job["id"], attempt=1)
        publisher.send_task(SOLVE_TASK, args=(job["id"], 1))
        done = service.wait(job["id"])
        assert (done["state"], done["attempt"]) == ("done", 1), done
        # ... until the job is done: then its last look finds nothing to do, as a late duplicate
        # of a done job does.
        deadline = time.monotonic() + 4 * STALE_S
        while "ended" not in (outcomes := [o for _, o, _ in claims(running.workers, job["id"])]):
            assert time.monotonic() < deadline, outcomes
            time.sleep(0.1)
        assert outcomes.count("started") == 1 and outcomes.count("ended") == 1, outcomes
        assert outcomes.count("alive") == len(outcomes) - 2 >= 1, outcomes
        assert job_of(service, job["id"]) == done
        store = Store(running.settings.database_url, migrate=False)
        try:
            assert store.plan_versions(done["plan_id"]) == [1]
            assert store.load_job(job["id"]).starts == 1
        finally:
            store.close()
    finally:
        publisher.close()


def test_the_service_leaves_running_jobs_to_the_workers_and_queues_waiting_ones_again(
    shared: tuple[Cluster, Service],
) -> None:
    running, _ = shared
    store = Store(running.settings.database_url, migrate=False)
    try:
        store.save_problem(line_day(), problem_id="pb_restart")
        solving = store.create_job(problem_id="pb_restart", time_limit_s=1, visits_total=3)
        store.start_job(solving.id, 1)  # a worker holds it: not the service's to fail
        waiting = store.create_job(problem_id="pb_restart", time_limit_s=1, visits_total=3)
    finally:
        store.close()
    # A service starting (or restarting) beside the workers: the queued job's task may never
    # have reached the broker, so it is published again.
    with running.service() as service:
        assert service.wait(waiting.id)["state"] == "done"
        assert job_of(service, solving.id)["state"] == "running"


# -- workers killed -----------------------------------------------------------------------


def test_a_job_whose_worker_is_killed_is_solved_by_another(tmp_path: Path) -> None:
    with cluster(tmp_path) as running, running.service() as service:
        [first] = running.start_workers("first")
        job = post_job(service, searching_day(), time_limit_s=JOB_S)
        wait_solving(service, job["id"], attempt=1)
        first.kill()
        killed = time.monotonic()
        running.start_workers("second")
        seen = set()
        while (now := job_of(service, job["id"]))["state"] not in ("done", "failed"):
            seen.add((now["state"], now["attempt"]))
            assert time.monotonic() - killed < VISIBILITY_S + JOB_S + 30, now
            time.sleep(0.1)
        assert (now["state"], now["attempt"], now["error"]) == ("done", 2, None), (
            now,
            logged(running.workers, job["id"]),
        )
        # Never failed: queued again by the service once its worker was silent (it then says
        # it waits for a worker), or taken over at once by the second.
        assert seen <= {("running", 1), ("queued", 2), ("running", 2)}, seen
        # Its next attempt went to the second worker: started once queued again, or taken
        # over from the lost one when the broker handed its task out again first; a late
        # duplicate after that (a recheck, or the service publishing a job it heard nothing
        # of while it was lost) finds it ended.
        found = claims(running.workers, job["id"], alive=False)
        assert found[0] == ("first", "started", 1), logged(running.workers, job["id"])
        assert found[1] in (("second", "started", 2), ("second", "taken_over", 2)), found
        assert all(outcome == "ended" for _, outcome, _ in found[2:]), found
        plan = service.client.get(f"/v1/plans/{now['plan_id']}", headers=service.auth)
        assert plan.status_code == 200 and plan.json()["kpis"]["assigned"] == 3
        store = Store(running.settings.database_url, migrate=False)
        try:
            assert store.plan_versions(now["plan_id"]) == [1], "exactly one plan stored"
        finally:
            store.close()


def test_a_job_whose_workers_keep_dying_fails_with_its_reason(tmp_path: Path) -> None:
    with cluster(tmp_path) as running, running.service() as service:
        [first] = running.start_workers("first")
        job = post_job(service, searching_day(), time_limit_s=JOB_S)
        wait_solving(service, job["id"], attempt=1)
        first.kill()
        # No worker at all until the task is past its visibility timeout: the job says it
        # waits for one (it said "running" for ever, its time frozen, and could not be
        # retried), and the next one to start takes it.
        time.sleep(VISIBILITY_S)
        waiting = job_of(service, job["id"])
        assert (waiting["state"], waiting["attempt"]) == ("queued", 2), waiting
        [second] = running.start_workers("second")
        wait_solving(service, job["id"], attempt=2)
        second.kill()
        [third] = running.start_workers("third")
        failed = service.wait(job["id"], timeout_s=VISIBILITY_S + 30)
        # Queued again first (attempt 3), or taken over by the third at once (2): either way
        # its second lost worker is its last.
        assert failed["state"] == "failed" and failed["attempt"] in (2, 3), (
            failed,
            logged(running.workers, job["id"]),
        )
        assert failed["error"] == WORKERS_LOST.format(starts=MAX_STARTS)
        # A late duplicate after the third gave up (the task handed out again when a worker
        # died with it) finds the job over: "ended" (twice in CI, 28 ms after "gave_up").
        # The worker logs its outcome once the store has it: read the log when it is there
        # (read at once, a CI run found the job failed and the third's line not yet written).
        wait_log(third, rf"job {job['id']}: gave_up", timeout_s=10)
        found = claims(running.workers, job["id"], alive=False)
        assert found[:3] == [
            ("first", "started", 1),
            ("second", "started", 2),
            ("third", "gave_up", failed["attempt"]),
        ] and all(outcome == "ended" for _, outcome, _ in found[3:]), logged(
            running.workers, job["id"]
        )
        missing = service.client.get(f"/v1/plans/{failed['plan_id']}", headers=service.auth)
        assert missing.status_code == 404 and "is failed" in missing.json()["detail"]
        # It failed saying to retry it: a retry starts afresh on a live worker.
        retried = service.client.post(f"/v1/jobs/{job['id']}/retry", headers=service.auth)
        again = failed["attempt"] + 1
        assert retried.status_code == 202 and retried.json()["attempt"] == again
        done = service.wait(job["id"])
        assert (done["state"], done["attempt"]) == ("done", again), done
        assert ("third", "started", again) in claims([third], job["id"]), logged([third], job["id"])


# -- settings -------------------------------------------------------------------------------


def test_a_pool_worker_whose_heartbeat_may_stall_past_the_stale_age_is_warned(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A prefork pool runs VROOM in the solving process, which holds it (and the heartbeat):
    # a job's worker was taken for lost while solving, the job solved twice, then failed as
    # "workers stopped" (an outside hunt, JOB_STALE_S below half the time limit).
    import api.celery_jobs

    monkeypatch.setenv("FIELDROUTE_DATABASE_URL", f"sqlite:///{tmp_path / 'w.db'}")
    monkeypatch.setenv("FIELDROUTE_JOBS", "celery")
    monkeypatch.setenv("FIELDROUTE_BROKER_URL", "redis://127.0.0.1:9/0")
    monkeypatch.setenv("FIELDROUTE_JOB_TIME_LIMIT_MAX_S", "600")
    monkeypatch.setenv("FIELDROUTE_JOB_STALE_S", "60")
    monkeypatch.setattr(api.celery_jobs, "run_worker", lambda *_a, **_k: 0)
    pooled = CliRunner().invoke(cli, ["worker", "--concurrency", "3"])
    assert pooled.exit_code == 0, pooled.output
    assert "warning:" in pooled.output and "FIELDROUTE_JOB_STALE_S" in pooled.output
    assert "warning:" not in CliRunner().invoke(cli, ["worker"]).output
    monkeypatch.setenv("FIELDROUTE_JOB_STALE_S", "301")
    assert "warning:" not in CliRunner().invoke(cli, ["worker", "--concurrency", "3"]).output


def test_celery_without_a_broker_is_refused_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIELDROUTE_JOBS", "celery")
    monkeypatch.delenv("FIELDROUTE_BROKER_URL", raising=False)
    for command in (["worker"], ["serve"]):
        result = CliRunner().invoke(cli, command)
        assert result.exit_code == 2, result.output
        assert "FIELDROUTE_JOBS=celery needs FIELDROUTE_BROKER_URL" in result.output
    with pytest.raises(ValueError, match="must be shorter than the broker's visibility"):
        Settings(jobs="inprocess", job_time_limit_max_s=5, job_overrun_s=3, job_stale_s=8)
