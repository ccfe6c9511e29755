"""Worker processes as production runs them: a killed worker, a re-plan during a long solve,
a running job's progress, and workers whose service process is gone."""

from __future__ import annotations

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import api.jobs
from api.jobs import WORKER_LOST
from dispatch.persistence import Store
from tests.api.conftest import Service, make_key, start_service, stored_job
from tests.conftest import line_day
from tests.processes import killed_afterwards, running, still_running


def die_solving(database_url: str, job_id: str, attempt: int, *_roads: object) -> None:
    """A solve worker killed mid-job, as the kernel's OOM killer kills one on a big day."""
    store = Store(database_url, migrate=False)
    store.start_job(job_id, attempt)
    store.close()
    os.kill(os.getpid(), signal.SIGKILL)


def die_replanning(*args: Any) -> None:
    """A re-plan worker killed before it answers."""
    os.kill(os.getpid(), signal.SIGKILL)


def test_a_killed_solve_worker_fails_its_job_and_is_replaced(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = make_key(database_url)
    with start_service(database_url, in_threads=False) as client:
        service = Service(client, database_url, key)
        problem_id = service.post_problem()
        monkeypatch.setattr(api.jobs, "run_solve_job", die_solving)
        answer = client.post("/v1/plans", json={"problem_id": problem_id}, headers=service.auth)
        assert answer.status_code == 202, answer.text
        failed = service.wait(answer.json()["id"], timeout_s=30)
        assert failed["state"] == "failed" and failed["error"] == WORKER_LOST
        health = client.get("/healthz").json()
        assert health["worker_losses"] == 1 and health["last_worker_loss"] is not None
        monkeypatch.undo()
        # The pool was replaced: solving works again, without restarting the service.
        plan_id = service.solved_plan()
        retried = client.post(f"/v1/jobs/{failed['id']}/retry", headers=service.auth)
        assert retried.status_code == 202
        assert service.wait(failed["id"])["state"] == "done"
        assert client.get(f"/v1/plans/{plan_id}", headers=service.auth).status_code == 200


def test_a_killed_replan_worker_answers_503_and_is_replaced(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = make_key(database_url)
    batch = {"at": "09:00", "events": [{"type": "delay", "technician_id": "T1", "minutes": 20}]}
    with start_service(database_url, in_threads=False) as client:
        service = Service(client, database_url, key)
        plan_id = service.solved_plan()
        monkeypatch.setattr(api.jobs, "replan_in_worker", die_replanning)
        lost = client.post(f"/v1/plans/{plan_id}/events", json=batch, headers=service.auth)
        assert lost.status_code == 503 and "send the batch again" in lost.json()["detail"]
        assert client.get(f"/v1/plans/{plan_id}", headers=service.auth).headers["ETag"] == '"1"'
        monkeypatch.undo()
        again = client.post(f"/v1/plans/{plan_id}/events", json=batch, headers=service.auth)
        assert again.status_code == 201, again.text
        assert client.get("/healthz").json()["worker_losses"] == 1


#: The budget of the solve a re-plan must not wait for.
LONG_SOLVE_S = 12


def test_a_replan_does_not_wait_for_a_long_solve(database_url: str) -> None:
    key = make_key(database_url)
    batch = {"at": "09:00", "events": [{"type": "delay", "technician_id": "T1", "minutes": 20}]}
    with start_service(database_url, in_threads=False, workers=1) as client:
        service = Service(client, database_url, key)
        plan_id = service.solved_plan()
        # A search told to use its whole budget (``stall_share`` 0): a small day stops sooner.
        problem_id = service.post_problem(line_day(policy={"time_limit_s": 1, "stall_share": 0}))
        # Long enough to outlast the re-plan, short enough not to search on for long after the
        # test (the service lets a running job finish).
        body = {"problem_id": problem_id, "time_limit_s": LONG_SOLVE_S}
        long_job = client.post("/v1/plans", json=body, headers=service.auth).json()
        while (
            client.get(f"/v1/jobs/{long_job['id']}", headers=service.auth).json()["state"]
            != "running"
        ):
            time.sleep(0.05)
        started = time.monotonic()
        answer = client.post(f"/v1/plans/{plan_id}/events", json=batch, headers=service.auth)
        waited = time.monotonic() - started
        assert answer.status_code == 201, answer.text
        # The re-plan's own budget is 1 s; it used to wait for the long solve to end.
        assert waited < LONG_SOLVE_S - 4, f"the re-plan waited {waited:.1f} s behind the solve"
        assert (
            client.get(f"/v1/jobs/{long_job['id']}", headers=service.auth).json()["state"]
            == "running"
        )


def test_a_running_job_reports_its_progress(service: Service) -> None:
    # A day this small is solved at once; told never to stop early, its search runs the budget.
    problem_id = service.post_problem(line_day(policy={"time_limit_s": 1, "stall_share": 0}))
    body = {"problem_id": problem_id, "time_limit_s": 4}
    job = service.client.post("/v1/plans", json=body, headers=service.auth).json()
    seen: list[dict[str, Any]] = []
    while True:
        now = service.client.get(f"/v1/jobs/{job['id']}", headers=service.auth).json()
        if now["state"] in ("done", "failed"):
            break
        if now["state"] == "running":
            seen.append(now)
        time.sleep(0.1)
    assert seen, "the job was never seen running"
    progress = [state["progress"] for state in seen]
    assert any(p["elapsed_s"] > 0 for p in progress), progress[-1]
    # The search runs for the whole budget: its best cost shows before the end.
    known = [p for p in progress if p["best_cost"] is not None]
    assert known and known[0]["elapsed_s"] < 3.5, progress


#: A service process: a pool of one job worker, which it names (its pid), then a job it hands
#: it (``touch started; sleep; touch finished``) and one queued behind it (``touch queued``);
#: it says when the first has started, then waits to be killed.
_SERVICE = """
import os, subprocess, sys, time
from pathlib import Path
from api.workers import JobWorkers

if __name__ == "__main__":
    folder = Path(sys.argv[1])
    workers = JobWorkers(1)
    print(workers.submit(os.getpid).result(), flush=True)
    if len(sys.argv) > 2:
        job = f"touch {folder / 'started'}; sleep {sys.argv[2]}; touch {folder / 'finished'}"
        workers.submit(subprocess.run, ["sh", "-c", job])
        workers.submit(subprocess.run, ["touch", str(folder / "queued")])
        while not (folder / "started").exists():
            time.sleep(0.02)
        print("started", flush=True)
    time.sleep(120)
"""


def _worker_of_killed_service(folder: Path, *job_s: str) -> int:
    """Start ``_SERVICE`` (with a job of ``job_s`` seconds, if given), kill it (SIGKILL) once
    its worker is idle or its job has started, and return the worker's pid."""
    with killed_afterwards(_SERVICE, folder, str(folder), *job_s) as output:
        worker = int(output.readline())
        if job_s:
            assert output.readline().strip() == "started"
        assert running(worker)
    return worker


def test_an_idle_job_worker_ends_with_the_service_process(tmp_path: Path) -> None:
    # It waited for its next job for ever, idle with parent 1: seen after every stop of a
    # two-process `fieldroute serve` (tests/api/test_readme_session.py checks that too).
    worker = _worker_of_killed_service(tmp_path)
    assert not still_running({worker})


def test_a_job_worker_finishes_its_job_in_hand_then_ends_without_another(
    tmp_path: Path,
) -> None:
    worker = _worker_of_killed_service(tmp_path, "2")
    assert running(worker), "the job in hand goes on"
    assert not still_running({worker}, within_s=15)
    assert (tmp_path / "finished").exists(), "the job in hand finished"
    assert not (tmp_path / "queued").exists(), "the queued job was not taken"


def search_without_a_heartbeat(database_url: str, job_id: str, attempt: int, *_: object) -> None:
    """A worker deep in a search: started, then silent (the search holds the interpreter's
    lock, and its own heartbeat thread barely runs)."""
    store = Store(database_url)
    try:
        store.start_job(job_id, attempt)
        time.sleep(1.5)
    finally:
        store.close()


def test_a_job_whose_worker_is_silent_in_its_search_is_beaten_for_not_failed(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A 5 s search wrote no heartbeat for 4.6 s; failing running jobs by their heartbeat, the
    # service failed a live job as lost. The service process beats for the jobs it holds.
    store, job = stored_job(database_url)
    monkeypatch.setattr(api.jobs, "run_solve_job", search_without_a_heartbeat)
    runner = api.jobs.JobRunner(database_url, executor=ThreadPoolExecutor(1))
    try:
        runner.watch_lost_jobs(store, stale_after_s=0.4)
        runner.submit(job).result(timeout=30)
        assert store.load_job(job.id).state == "running", "never failed: it was held"
        # Held by no process (this one is gone): failed once its heartbeat is stale.
        runner.close()
        time.sleep(0.5)
        assert store.fail_lost_jobs(stale_after_s=0.4) == [job.id]
    finally:
        runner.close()
        store.close()
