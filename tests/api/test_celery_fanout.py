"""A day of several regions on Celery (``FIELDROUTE_JOBS=celery``) fans out one task per region
and is joined by its last region, its draft of the whole day readable while they run, as
production runs it: a real ``redis-server`` and PostgreSQL
(``scripts/services.sh start``; FIELDROUTE_TEST_REDIS_URL and FIELDROUTE_TEST_POSTGRES_URL),
``fieldroute worker`` processes, and jobs submitted through the service's API (the cluster of
``tests/api/test_celery_jobs.py``)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy import update

from api import celery_jobs
from api.app import create_app
from api.celery_jobs import (
    SOLVE_TASK,
    UNQUEUED,
    CeleryJobRunner,
    QueueUnavailableError,
    _publish_regions,
    celery_app,
)
from api.jobs import REGION_DROPPED, REGION_FAILED
from api.routes.jobs import DRAFT_HEADER
from benchmarks.big_days import region_day
from dispatch.config import Settings
from dispatch.contract.validate import parse_problem
from dispatch.persistence import SolveJob, Store
from dispatch.persistence.tables import SolveJobRow
from dispatch.planning.regions import regions
from dispatch.travel import NO_ROADS, pair_lookup, provider_for
from dispatch.verify import check_plan
from tests.api.conftest import Service
from tests.api.test_celery_jobs import (
    JOB_S,
    STALE_S,
    VISIBILITY_S,
    Cluster,
    Worker,
    claims,
    cluster,
    job_of,
    logged,
    post_job,
)
from tests.conftest import line_day

#: Two service centres 300 km apart, 290 and 287 visits, and 23 visits nobody may serve (a
#: third group, planned with every technician): three region jobs.
VISITS = 600
#: The job's budget; each region searches for its share of it by its visits.
BUDGET_S = 4.0
#: The budget of a job whose drafts are read while its regions search: each region's share
#: (3 s) is most of the time the day's draft can be read.
DRAFTS_BUDGET_S = 6.0


@pytest.fixture(scope="module")
def two_regions() -> dict[str, Any]:
    return region_day(VISITS, 2)


@pytest.fixture(scope="module")
def two_centres(two_regions: dict[str, Any]) -> dict[str, Any]:
    """The two centres without the visits nobody may serve: two regions, searched side by
    side on the two workers (the third region, searched by nobody, drafts nothing)."""
    problem = parse_problem(two_regions)
    nobodys = {problem.visits[i].id for i in regions(problem)[2].visits}
    visits = [visit for visit in two_regions["visits"] if visit["id"] not in nobodys]
    return {**two_regions, "visits": visits}


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cluster, Service]]:
    """Two workers and the API on one database."""
    with cluster(tmp_path_factory.mktemp("fanout")) as running:
        running.start_workers("alpha", "beta")
        with running.service() as service:
            yield running, service


def centre_running(region: SolveJob) -> bool:
    """A running region of a service centre (a third of the day or more: its share of the
    budget is 2.4 s of ``JOB_S``)."""
    return region.state == "running" and region.visits_total >= VISITS // 3


def region_jobs(running: Cluster, job: dict[str, Any]) -> list[SolveJob]:
    store = Store(running.settings.database_url, migrate=False)
    try:
        return store.region_jobs(job["id"], job["attempt"])
    finally:
        store.close()


def load_job(running: Cluster, job_id: str) -> SolveJob:
    store = Store(running.settings.database_url, migrate=False)
    try:
        return store.load_job(job_id)
    finally:
        store.close()


def wait_ended(service: Service, job_id: str, timeout_s: float = 120) -> dict[str, Any]:
    """The job once done or failed; its plan is read at once, in the same poll, when done."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = job_of(service, job_id)
        if job["state"] in ("done", "failed"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} still {job['state']} after {timeout_s} s")


def wait_logged(workers: list[Worker], job_id: str, outcome: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while outcome not in [o for _, o, _ in claims(workers, job_id)]:
        assert time.monotonic() < deadline, logged(workers, job_id)
        time.sleep(0.1)


def test_a_day_of_regions_fans_out_to_both_workers_and_its_last_region_joins_them(
    shared: tuple[Cluster, Service], two_regions: dict[str, Any]
) -> None:
    running, service = shared
    problem = parse_problem(two_regions)
    found = regions(problem)
    assert len(found) == 3
    job = post_job(service, two_regions, time_limit_s=BUDGET_S)
    done = wait_ended(service, job["id"])
    # Done means stored: the plan is there the moment the job says so.
    answer = service.client.get(f"/v1/plans/{done['plan_id']}", headers=service.auth)
    assert (done["state"], done["attempt"], done["error"]) == ("done", 1, None), (
        done,
        logged(running.workers, job["id"]),
    )
    assert answer.status_code == 200, answer.text
    plan = answer.json()
    # One region job per region, each solved once and done; the job started once, then left
    # to them.
    parts = region_jobs(running, done)
    assert [(p.region, p.visits_total, p.state) for p in parts] == [
        (k, len(region.visits), "done") for k, region in enumerate(found)
    ]
    assert [o for _, o, _ in claims(running.workers, job["id"])] == ["started"]
    ran_on = {}
    for part in parts:
        [(worker, outcome, attempt)] = claims(running.workers, part.id, alive=False)
        assert (outcome, attempt) == ("started", 1), logged(running.workers, part.id)
        ran_on[part.region] = worker
    assert set(ran_on.values()) == {"alpha", "beta"}, ran_on
    # The two centres were solved side by side, each for its share of the job's budget (the
    # budget stays a cap however few workers there are).
    big = [p for p in parts if p.region in (0, 1)]
    assert all(p.started_at and p.finished_at for p in big)
    first, second = big
    assert first.started_at < second.finished_at and second.started_at < first.finished_at  # type: ignore[operator]
    shares = [BUDGET_S * p.visits_total / VISITS for p in big]
    # A share is a cap: a search may end sooner (a short budget's single search does), never
    # later than its share and the finishing a region's plan takes.
    assert all(p.elapsed_s < share + 1.0 for p, share in zip(big, shares, strict=True)), [
        p.elapsed_s for p in big
    ]
    # The joined plan serves both centres, passes the independent checker, and is the job's.
    served = {stop["visit_id"] for route in plan["routes"] for stop in route["stops"]}
    assert {visit.split("-")[0] for visit in served} == {"R1", "R2"}
    left = {item["visit_id"] for item in plan["unassigned"]}
    assert served | left == {visit.id for visit in problem.visits} and not served & left
    report = check_plan(two_regions, plan, pair_lookup(provider_for(problem)))
    assert report.violations == ()
    assert plan["kpis"]["assigned"] == len(served) == done["progress"]["visits_placed"]
    assert len(served) == sum(p.visits_placed or 0 for p in parts)
    assert done["progress"]["first_plan_s"] is not None
    assert 0 < done["progress"]["first_plan_s"] <= done["progress"]["elapsed_s"]
    assert (done["progress"]["regions_total"], done["progress"]["regions_done"]) == (3, 3)
    ended = load_job(running, job["id"])
    assert (ended.regions_total, ended.regions_done) == (3, 3)
    store = Store(running.settings.database_url, migrate=False)
    try:
        assert store.plan_versions(done["plan_id"]) == [1]
        assert store.load_plan_record(done["plan_id"], 1) is not None
    finally:
        store.close()


def test_late_duplicates_of_a_fanned_out_job_and_its_regions_change_nothing(
    shared: tuple[Cluster, Service], two_regions: dict[str, Any]
) -> None:
    running, service = shared
    publisher = celery_app(running.settings)
    try:
        job = post_job(service, two_regions, time_limit_s=BUDGET_S)
        deadline = time.monotonic() + 30
        while not (parts := region_jobs(running, job)):
            assert time.monotonic() < deadline, logged(running.workers, job["id"])
            time.sleep(0.05)
        # The job's task handed out again while its regions solve: left to them.
        publisher.send_task(SOLVE_TASK, args=(job["id"], 1))
        wait_logged(running.workers, job["id"], "fanned_out", timeout_s=30)
        done = wait_ended(service, job["id"])
        assert (done["state"], done["attempt"]) == ("done", 1), done
        # Every region's task handed out again once all is done: each finds its region ended
        # and its job done.
        for part in parts:
            publisher.send_task(SOLVE_TASK, args=(part.id, 1))
        for part in parts:
            wait_logged(running.workers, part.id, "ended", timeout_s=30)
            outcomes = [o for _, o, _ in claims(running.workers, part.id)]
            assert outcomes.count("started") == 1, outcomes
        assert job_of(service, job["id"]) == done
        assert [(p.state, p.attempt) for p in region_jobs(running, done)] == [("done", 1)] * 3
        store = Store(running.settings.database_url, migrate=False)
        try:
            assert store.plan_versions(done["plan_id"]) == [1]
        finally:
            store.close()
    finally:
        publisher.close()


def test_a_region_that_fails_fails_its_job_with_the_regions_reason(
    shared: tuple[Cluster, Service], two_regions: dict[str, Any]
) -> None:
    running, service = shared
    # A day on roads stored by a service that has roads, and workers given none (a deployment
    # whose pieces disagree): each region fails saying so, and so does the day.
    on_roads = {**two_regions, "policy": {**two_regions["policy"], "travel": {"provider": "osrm"}}}
    store = Store(running.settings.database_url, migrate=False)
    try:
        store.save_problem(on_roads, problem_id="pb_on_roads")
    finally:
        store.close()
    body = {"problem_id": "pb_on_roads", "time_limit_s": BUDGET_S}
    answer = service.client.post("/v1/plans", json=body, headers=service.auth)
    assert answer.status_code == 202, answer.text
    job = answer.json()
    failed = wait_ended(service, job["id"])
    assert failed["state"] == "failed", failed
    # The first region to fail fails the job; the others end too, none done.
    deadline = time.monotonic() + 30
    while (states := {p.state for p in region_jobs(running, failed)}) != {"failed"}:
        assert time.monotonic() < deadline and "done" not in states, states
        time.sleep(0.05)
    parts = region_jobs(running, failed)
    assert len(parts) == 3
    # A region that starts after its job failed drops out at once, saying so.
    dropped = REGION_DROPPED.format(job_id=job["id"])
    assert NO_ROADS in {p.error for p in parts} <= {NO_ROADS, dropped}
    # Two regions may fail in the same instant on two workers: the job carries the reason of
    # whichever failed it first, so it names one of the regions that did fail, in full.
    reasons = {
        REGION_FAILED.format(region=p.region + 1, regions=3, visits=p.visits_total, error=NO_ROADS)
        for p in parts
        if p.error == NO_ROADS and p.region is not None
    }
    assert failed["error"] in reasons, (failed["error"], reasons)
    missing = service.client.get(f"/v1/plans/{failed['plan_id']}", headers=service.auth)
    assert missing.status_code == 404
    # A region is not retried on its own; its job is, and fans out afresh.
    refused = service.client.post(f"/v1/jobs/{parts[0].id}/retry", headers=service.auth)
    assert refused.status_code == 409 and job["id"] in refused.json()["detail"]


def test_a_region_whose_worker_is_killed_is_taken_over_and_the_day_joined(
    tmp_path: Path, two_regions: dict[str, Any]
) -> None:
    # Each region searches its whole share of the budget (no stall stop), so the centre seen
    # running is still running when its worker is killed, at once: its heartbeat says little of
    # how far it is (VROOM's search holds the interpreter, so no beat is written while it runs,
    # and a region's second beat may come just before its end).
    whole_share = {**two_regions, "policy": {**two_regions["policy"], "stall_share": 0}}
    with cluster(tmp_path) as running, running.service() as service:
        [first] = running.start_workers("first")
        job = post_job(service, whole_share, time_limit_s=JOB_S)
        deadline = time.monotonic() + 60
        while not (searching := [p for p in region_jobs(running, job) if centre_running(p)]):
            assert time.monotonic() < deadline, logged(running.workers, job["id"])
            time.sleep(0.05)
        [lost] = searching
        first.kill()
        running.start_workers("second")
        done = wait_ended(service, job["id"], timeout_s=VISIBILITY_S + 4 * JOB_S + 60)
        assert (done["state"], done["attempt"]) == ("done", 1), (
            done,
            logged(running.workers, lost.id),
        )
        # The killed region came back after the visibility timeout and was taken over, its
        # heartbeat being older than job_stale_s by then.
        assert ("second", "taken_over", 2) in claims(running.workers, lost.id, alive=False)
        assert VISIBILITY_S > STALE_S
        parts = region_jobs(running, done)
        assert {p.state for p in parts} == {"done"}
        assert [p.attempt for p in parts if p.id == lost.id] == [2]
        plan = service.client.get(f"/v1/plans/{done['plan_id']}", headers=service.auth).json()
        assert plan["kpis"]["assigned"] == done["progress"]["visits_placed"] > 0


def test_a_fanned_out_day_has_a_draft_of_the_whole_day_while_its_regions_run(
    shared: tuple[Cluster, Service], two_centres: dict[str, Any]
) -> None:
    running, service = shared
    problem = parse_problem(two_centres)
    assert len(regions(problem)) == 2
    job = post_job(service, two_centres, time_limit_s=DRAFTS_BUDGET_S)
    polls: list[dict[str, Any]] = []
    drafts: list[dict[str, Any]] = []
    while (state := job_of(service, job["id"]))["state"] in ("queued", "running"):
        answer = service.client.get(f"/v1/jobs/{job['id']}/draft", headers=service.auth)
        if answer.status_code == 200:
            assert answer.headers[DRAFT_HEADER] == "true"
            still = job_of(service, job["id"])
            if still["state"] == "running":  # read before the job's end
                drafts.append(answer.json())
                polls.append(still)
        else:  # no plan of every region yet, or the job ended between the two reads
            assert answer.status_code == 404 and job["id"] in answer.json()["detail"], answer.text
        time.sleep(0.05)
    assert (state["state"], state["error"]) == ("done", None), (
        state,
        logged(running.workers, job["id"]),
    )
    assert drafts, "no draft of the day was read while its regions ran"
    # The day's first plan is when every region first had one, shown while the regions run;
    # it stays once the day is planned.
    first = polls[0]["progress"]["first_plan_s"]
    assert first is not None and 0 < first <= polls[0]["progress"]["elapsed_s"]
    assert polls[0]["progress"]["regions_total"] == 2
    assert all(p["progress"]["first_plan_s"] == first for p in polls)
    assert state["progress"]["first_plan_s"] == first < state["progress"]["elapsed_s"]
    # Each draft is a plan of the whole day, valid by the independent checker.
    lookup = pair_lookup(provider_for(problem))
    everyone = {visit.id for visit in problem.visits}
    for draft in (drafts[0], drafts[-1]):
        assert (draft["plan_id"], draft["version"]) == (job["plan_id"], 1)
        served = {stop["visit_id"] for route in draft["routes"] for stop in route["stops"]}
        left = {item["visit_id"] for item in draft["unassigned"]}
        assert {visit.split("-")[0] for visit in served} == {"R1", "R2"}
        assert served | left == everyone and not served & left
        assert check_plan(two_centres, draft, lookup).violations == ()
    gone = service.client.get(f"/v1/jobs/{job['id']}/draft", headers=service.auth)
    assert gone.status_code == 404 and "is done" in gone.json()["detail"]


def test_region_jobs_the_broker_did_not_take_fail_with_their_day(store: Store) -> None:
    store.save_problem(line_day(), problem_id="pb_day")
    job = store.create_job(problem_id="pb_day", time_limit_s=4.0, visits_total=9)
    assert store.start_job(job.id, 1)
    parts = store.fan_out_job(job.id, 1, regions=[4, 3, 2])
    published: list[str] = []

    def publish(part: SolveJob) -> None:
        if published:
            raise RedisConnectionError("Connection refused")
        published.append(part.id)

    _publish_regions(store, parts, publish)
    assert store.load_job(job.id).error == UNQUEUED
    states = [(p.id in published, p.state, p.error) for p in store.region_jobs(job.id, 1)]
    # The one published runs (and its end finds the day failed); none is left queued, to be
    # published again for a failed day when the service next starts.
    assert states == [
        (True, "queued", None),
        (False, "failed", UNQUEUED),
        (False, "failed", UNQUEUED),
    ]
    assert [p.id for p in store.recover_jobs()] == [parts[0].id]


def _aged(store: Store, job_ids: list[str], hours: float) -> None:
    """As if ``job_ids`` were queued, started and last heard of ``hours`` ago."""
    then = datetime.now(UTC) - timedelta(hours=hours)
    with store.engine.begin() as connection:
        connection.execute(
            update(SolveJobRow)
            .where(SolveJobRow.id.in_(job_ids))
            .values(created_at=then, started_at=then, heartbeat_at=then)
        )


def _runner(store: Store, sent: list[str], monkeypatch: pytest.MonkeyPatch) -> CeleryJobRunner:
    """A Celery runner on ``store`` whose broker ``sent`` hears (``None`` in it: refuses)."""
    url = store.engine.url.render_as_string(hide_password=False)
    settings = Settings(database_url=url, jobs="celery", broker_url="redis://127.0.0.1:9/0")
    runner = CeleryJobRunner(settings, executor=ThreadPoolExecutor(max_workers=1))

    def send_task(name: str, *, args: tuple[Any, ...], queue: str) -> None:
        if None in sent:
            raise RedisConnectionError("Connection refused")
        sent.append(str(args[0]))

    monkeypatch.setattr(runner._app, "send_task", send_task)
    return runner


def test_a_job_whose_task_the_broker_lost_has_it_published_again(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Redis restarted with nothing on disk: a running job whose worker then died, and a
    # queued job, waited for ever (retry refused both: not failed), and nothing failed them.
    store.save_problem(line_day(), problem_id="pb_day")
    running = store.create_job(problem_id="pb_day", time_limit_s=1, visits_total=3)
    assert store.start_job(running.id, 1)
    queued = store.create_job(problem_id="pb_day", time_limit_s=1, visits_total=3)
    fresh = store.create_job(problem_id="pb_day", time_limit_s=1, visits_total=3)
    live = store.create_job(problem_id="pb_day", time_limit_s=1, visits_total=3)
    assert store.start_job(live.id, 1)
    _aged(store, [running.id, queued.id], hours=1)
    sent: list[str] = []
    runner = _runner(store, sent, monkeypatch)
    try:
        published = runner.publish_silent_jobs(store, stale_after_s=60)
    finally:
        runner.close()
    assert sorted(published) == sorted(sent) == sorted([running.id, queued.id])
    assert fresh.id not in sent and live.id not in sent
    # The running job whose worker was lost says what it waits for: a worker (it said
    # "running" for ever, its time frozen, when none came; retry refused it).
    again = store.load_job(running.id)
    assert (again.state, again.attempt, again.starts) == ("queued", 2, 1)
    assert store.load_job(live.id).state == "running"


def test_a_job_queued_again_after_its_workers_were_lost_still_gives_up(store: Store) -> None:
    store.save_problem(line_day(), problem_id="pb_day")
    job = store.create_job(problem_id="pb_day", time_limit_s=1, visits_total=3)
    claim = partial(store.claim_job, job.id, stale_after_s=60, max_starts=2, gave_up="lost")
    assert claim().outcome == "started"
    assert not store.requeue_lost_job(job.id, 1, stale_after_s=60)  # its heartbeat is fresh
    _aged(store, [job.id], hours=1)
    assert store.requeue_lost_job(job.id, 1, stale_after_s=60)
    assert not store.requeue_lost_job(job.id, 1, stale_after_s=60)  # that attempt is over
    assert claim().outcome == "started"  # its second worker
    _aged(store, [job.id], hours=1)
    assert store.requeue_lost_job(job.id, 2, stale_after_s=60)
    given_up = claim()
    assert given_up.outcome == "gave_up" and given_up.job.error == "lost"


def test_a_job_still_silent_is_published_again_less_and_less_often(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Published every round while no worker was up (an upgrade): 3 queued jobs put 67 tasks
    # in the broker in 24 s, and more every minute.
    store.save_problem(line_day(), problem_id="pb_day")
    queued = store.create_job(problem_id="pb_day", time_limit_s=1, visits_total=3)
    _aged(store, [queued.id], hours=1)
    sent: list[str] = []
    runner = _runner(store, sent, monkeypatch)
    now = [0.0]
    runner._clock = lambda: now[0]
    rounds = []
    try:
        for _ in range(40):  # a round every 30 s for 20 minutes
            rounds.append(len(runner.publish_silent_jobs(store, stale_after_s=60)))
            now[0] += 30
    finally:
        runner.close()
    published_at = [30 * k for k, count in enumerate(rounds) if count]
    assert published_at == [0, 60, 180, 420, 900]  # waits of 60, 120, 240, 480 s
    assert len(sent) == 5


def test_a_service_that_cannot_reach_the_broker_fails_no_queued_job(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Its start failed every queued job of the deployment (UNQUEUED), other services' too,
    # whose tasks were safe in the broker.
    store.save_problem(line_day(), problem_id="pb_day")
    waiting = store.create_job(problem_id="pb_day", time_limit_s=1, visits_total=3)
    sent: list[str | None] = [None]  # the broker refuses
    runner = _runner(store, sent, monkeypatch)  # type: ignore[arg-type]
    try:
        assert [job.id for job in runner.recover(store)] == [waiting.id]
    finally:
        runner.close()
    assert store.load_job(waiting.id).state == "queued"


def test_healthz_is_degraded_while_the_broker_does_not_answer(store: Store) -> None:
    # It said ok while Redis was gone and every POST /v1/plans answered 503.
    url = store.engine.url.render_as_string(hide_password=False)
    settings = Settings(database_url=url, jobs="celery", broker_url="redis://127.0.0.1:9/0")
    runner = CeleryJobRunner(settings, executor=ThreadPoolExecutor(max_workers=1))
    try:
        with TestClient(create_app(settings, runner=runner)) as client:
            answer = client.get("/healthz")
    finally:
        runner.close()
    assert answer.status_code == 503
    assert answer.json() == {
        "status": "degraded",
        "database": "ok",
        "roads": None,
        "queue": "unreachable",
        "worker_losses": 0,
        "last_worker_loss": None,
    }


@pytest.fixture
def frozen_broker() -> Iterator[str]:
    """The URL of a broker that takes connections and never answers (a Redis stopped with
    SIGSTOP, or a network gone silent)."""
    listener = socket.create_server(("127.0.0.1", 0))
    taken: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                taken.append(listener.accept()[0])  # and never a word back

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
    finally:
        stop.set()
        thread.join()
        for connection in taken:
            connection.close()
        listener.close()


def test_a_broker_that_never_answers_is_reported_not_waited_for(
    store: Store, frozen_broker: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With Redis frozen, /healthz and POST /v1/plans never answered, and once forty of them
    # waited every other request did too (the service's threads all taken).
    monkeypatch.setattr(celery_jobs, "BROKER_SOCKET_TIMEOUT_S", 0.5)
    url = store.engine.url.render_as_string(hide_password=False)
    settings = Settings(database_url=url, jobs="celery", broker_url=frozen_broker)
    runner = CeleryJobRunner(settings, executor=ThreadPoolExecutor(max_workers=1))
    store.save_problem(line_day(), problem_id="pb_day")
    job = store.create_job(problem_id="pb_day", time_limit_s=1, visits_total=3)
    try:
        started = time.monotonic()
        assert runner.queue_answers() is False
        with pytest.raises(QueueUnavailableError):
            runner.submit(job)
        assert time.monotonic() - started < 60  # answered, not waited for
    finally:
        runner.close()
    assert store.load_job(job.id).state == "failed"
