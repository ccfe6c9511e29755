"""A fanned-out day job run by ``solve_started_job`` on an embedded SQLite store, without a
broker: the job's attempt stores its region jobs and hands them to the publisher, each region
job solves its region, and the last one joins them into the day's checked plan, stored with the
job's ``done``. The Celery side of the same (real Redis and workers) is
``tests/api/test_celery_fanout.py``."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.celery_jobs import _run_delivered, _WorkerSetup
from api.jobs import REGION_DROPPED, REGION_FAILED, day_draft, settle_region, solve_started_job
from api.routes.jobs import DRAFT_HEADER
from benchmarks.big_days import region_day
from dispatch.contract.validate import parse_problem
from dispatch.desk.solve import solve_params, solve_region
from dispatch.persistence import SolveJob, Store
from dispatch.persistence.tables import SolveJobRow
from dispatch.planning.regions import regions
from dispatch.travel import NO_ROADS, pair_lookup, provider_for
from dispatch.verify import check_plan
from solver import SolveParams, solve
from tests.api.conftest import make_key, start_service

#: Two centres and the visits nobody may serve: three regions (see test_celery_fanout).
VISITS = 600
REGION_S = 1.0


@pytest.fixture(scope="module")
def two_regions() -> dict[str, Any]:
    return region_day(VISITS, 2)


@pytest.fixture
def sqlite(tmp_path: Path) -> Iterator[Store]:
    opened = Store(f"sqlite:///{tmp_path / 'fanout.db'}")
    yield opened
    opened.close()


def started_job(store: Store, raw: dict[str, Any], problem_id: str = "pb_day") -> SolveJob:
    store.save_problem(raw, problem_id=problem_id)
    job = store.create_job(
        problem_id=problem_id, time_limit_s=REGION_S, visits_total=len(raw["visits"])
    )
    assert store.start_job(job.id, 1)
    return job


def fan_out(store: Store, job: SolveJob) -> list[SolveJob]:
    """Run the job's attempt as a Celery worker does; the region jobs it published."""
    published: list[SolveJob] = []

    def publish(parts: Sequence[SolveJob]) -> None:
        published.extend(parts)

    solve_started_job(store, job.id, 1, None, fan_out=publish)
    return published


def test_a_fanned_out_day_is_joined_by_its_last_region_into_one_checked_plan(
    sqlite: Store, two_regions: dict[str, Any]
) -> None:
    problem = parse_problem(two_regions)
    found = regions(problem)
    job = started_job(sqlite, two_regions)
    parts = fan_out(sqlite, job)
    assert [(p.region, p.visits_total) for p in parts] == [
        (k, len(region.visits)) for k, region in enumerate(found)
    ]
    fanned = sqlite.load_job(job.id)
    assert (fanned.state, fanned.regions_total, fanned.regions_done) == ("running", 3, 0)
    assert fan_out(sqlite, job) == [], "a second delivery of the same attempt fans out nothing"
    for k, part in enumerate(parts):
        assert sqlite.load_job(job.id).state == "running", "not done before every region is"
        assert sqlite.start_job(part.id, 1)
        solve_started_job(sqlite, part.id, 1, None)
        solved = sqlite.load_job(part.id)
        assert (solved.state, solved.error) == ("done", None)
        assert sqlite.load_job(job.id).regions_done == k + 1
    done = sqlite.load_job(job.id)
    assert (done.state, done.error) == ("done", None)
    plan = sqlite.load_plan(job.plan_id)
    served = {stop["visit_id"] for route in plan["routes"] for stop in route["stops"]}
    left = {item["visit_id"] for item in plan["unassigned"]}
    assert {visit.split("-")[0] for visit in served} == {"R1", "R2"}
    assert served | left == {visit.id for visit in problem.visits} and not served & left
    assert check_plan(two_regions, plan, pair_lookup(provider_for(problem))).violations == ()
    assert plan["kpis"]["assigned"] == len(served) == done.visits_placed
    assert done.first_plan_s is not None and 0 < done.first_plan_s <= done.elapsed_s
    assert sqlite.load_plan_record(job.plan_id, 1) is not None
    # A late delivery of a region's task, once all is done, changes nothing.
    again = sqlite.claim_job(parts[0].id, stale_after_s=60, max_starts=3, gave_up="lost")
    assert again.outcome == "ended"
    assert not settle_region(sqlite, again.job, None, stale_after_s=60)
    assert sqlite.load_job(job.id) == done and sqlite.plan_versions(job.plan_id) == [1]


def test_a_fanned_out_days_regions_keep_to_its_budget_on_one_worker(
    sqlite: Store, two_regions: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each region job searched for at least MIN_SEARCH_S (1 s): a 1 s job of three regions,
    # its regions solved one after another by one worker, searched for 3 s.
    searched: list[float] = []

    def timed(instance: Any, params: SolveParams, **kwargs: Any) -> Any:
        searched.append(params.time_limit_s)
        return solve(instance, params, **kwargs)

    monkeypatch.setattr("dispatch.planning.day.solve", timed)
    job = started_job(sqlite, two_regions)
    parts = fan_out(sqlite, job)
    for part in parts:
        assert sqlite.start_job(part.id, 1)
        solve_started_job(sqlite, part.id, 1, None)
    assert sqlite.load_job(job.id).state == "done"
    assert len(searched) == len(parts) == 3
    assert sum(searched) <= REGION_S + 1e-6


def test_a_fanned_out_days_draft_joins_its_regions_newest_drafts_and_plans(
    tmp_path: Path, two_regions: dict[str, Any]
) -> None:
    url = f"sqlite:///{tmp_path / 'drafts.db'}"
    auth = {"Authorization": f"Bearer {make_key(url)}"}
    problem = parse_problem(two_regions)
    found = regions(problem)
    # The service first: it fails the jobs it finds running when it starts.
    with start_service(url) as client, closing(Store(url, migrate=False)) as store:
        job = started_job(store, two_regions)
        first, *others = fan_out(store, job)

        def draft_of_day() -> Any:
            return client.get(f"/v1/jobs/{job.id}/draft", headers=auth)

        none_yet = draft_of_day()
        assert none_yet.status_code == 404
        assert "a region of the 3 it fanned out to has found no plan" in none_yet.json()["detail"]
        # The first region solved by its job, as a worker solves it: it drafted as it went.
        assert store.start_job(first.id, 1)
        solve_started_job(store, first.id, 1, None)
        solved = store.load_job(first.id)
        assert solved.state == "done" and solved.first_plan_s is not None, solved
        assert store.load_job(job.id).first_plan_s is None, "two regions have no plan yet"
        assert draft_of_day().status_code == 404
        # The second searching still, with its first draft as its job writes it; the third
        # (visits nobody may serve: no search, no draft) done.
        second, third = others
        drafts: list[dict[str, Any]] = []
        solve_region(
            problem, found[1], params=solve_params(problem, REGION_S, None), on_draft=drafts.append
        )
        assert drafts
        assert store.start_job(second.id, 1)
        assert store.save_region_draft(second.id, 1, drafts[0], elapsed_s=0.5)
        assert store.load_job(job.id).first_plan_s is None, "the third region has no plan yet"
        assert store.start_job(third.id, 1)
        record = solve_region(problem, found[2], params=solve_params(problem, REGION_S, None))
        assert store.finish_region(third.id, 1, record, placed=0, elapsed_s=0.1) == "counted"
        running = client.get(f"/v1/jobs/{job.id}", headers=auth).json()
        assert running["state"] == "running"
        assert 0 <= running["progress"]["first_plan_s"] <= running["progress"]["elapsed_s"]
        answer = draft_of_day()
        assert answer.status_code == 200, answer.text
        assert answer.headers[DRAFT_HEADER] == "true"
        draft = answer.json()
        # A plan of the whole day, valid by the independent checker, that is not stored.
        assert (draft["plan_id"], draft["version"]) == (job.plan_id, 1)
        served = {stop["visit_id"] for route in draft["routes"] for stop in route["stops"]}
        left = {item["visit_id"] for item in draft["unassigned"]}
        assert {visit.split("-")[0] for visit in served} == {"R1", "R2"}
        assert served | left == {visit.id for visit in problem.visits} and not served & left
        assert draft["kpis"]["assigned"] == len(served)
        lookup = pair_lookup(provider_for(problem))
        assert check_plan(two_regions, draft, lookup).violations == ()
        assert client.get(f"/v1/plans/{job.plan_id}", headers=auth).status_code == 404
        # The region done is there as its stored plan has it.
        newest = store.region_drafts(job.id, 1)
        with Session(store.engine) as session:
            kept = session.scalar(select(SolveJobRow.region_plan).where(SolveJobRow.id == first.id))
        assert newest is not None and kept is not None and newest[0] == json.loads(kept)
        first_served = {s["visit_id"] for r in newest[0]["routes"] for s in r["stops"]}
        assert first_served and first_served <= served
        # The same join, called directly.
        direct = day_draft(store, store.load_job(job.id))
        assert direct is not None
        assert (direct["routes"], direct["unassigned"]) == (draft["routes"], draft["unassigned"])
        # A region's own job has no draft of its own to read: it points to its day's.
        region = client.get(f"/v1/jobs/{second.id}/draft", headers=auth)
        assert region.status_code == 404 and f"/v1/jobs/{job.id}/draft" in region.json()["detail"]


def test_the_last_region_ended_without_joining_is_joined_by_its_tasks_next_delivery(
    sqlite: Store, two_regions: dict[str, Any]
) -> None:
    job = started_job(sqlite, two_regions)
    parts = fan_out(sqlite, job)
    record = {
        "format": 1,
        "routes": [],
        "unassigned": [],
        "solve_s": 0.0,
        "objective": 0,
        "at": None,
    }
    for part in parts:  # every region ended, and the worker of the last was lost then
        sqlite.start_job(part.id, 1)
        sqlite.finish_region(part.id, 1, record, placed=0, elapsed_s=0.1)
    last = sqlite.load_job(parts[-1].id)
    # While the job's heartbeat is fresh someone may be joining: look again later.
    assert settle_region(sqlite, last, None, stale_after_s=60)
    assert sqlite.load_job(job.id).state == "running"
    assert not settle_region(sqlite, last, None, stale_after_s=0)
    done = sqlite.load_job(job.id)
    assert done.state == "done", done.error
    # The stand-in regions' plans, empty (the checker logs every visit as missing), joined.
    plan = sqlite.load_plan(job.plan_id)
    assert (plan["routes"], plan["unassigned"], plan["kpis"]["assigned"]) == ([], [], 0)
    assert not settle_region(sqlite, last, None, stale_after_s=0), "joined once"
    assert sqlite.plan_versions(job.plan_id) == [1]


def test_a_region_that_fails_fails_its_job_and_the_regions_after_it_drop_out(
    sqlite: Store, two_regions: dict[str, Any]
) -> None:
    on_roads = {**two_regions, "policy": {**two_regions["policy"], "travel": {"provider": "osrm"}}}
    job = started_job(sqlite, on_roads)
    _, second, third = fan_out(sqlite, job)
    sqlite.start_job(second.id, 1)
    solve_started_job(sqlite, second.id, 1, None)
    assert sqlite.load_job(second.id).error == NO_ROADS
    failed = sqlite.load_job(job.id)
    assert failed.state == "failed"
    assert failed.error == REGION_FAILED.format(
        region=2, regions=3, visits=second.visits_total, error=NO_ROADS
    )
    sqlite.start_job(third.id, 1)
    solve_started_job(sqlite, third.id, 1, None)
    dropped = sqlite.load_job(third.id)
    assert (dropped.state, dropped.error) == ("failed", REGION_DROPPED.format(job_id=job.id))
    assert sqlite.load_job(job.id) == failed, "the job keeps the first region's reason"


def test_a_day_of_one_region_is_solved_as_one_job_even_on_celery(sqlite: Store) -> None:
    one = region_day(400, 1)
    job = started_job(sqlite, one)
    assert fan_out(sqlite, job) == []
    done = sqlite.load_job(job.id)
    assert (done.state, done.regions_total) == ("done", None)
    assert done.first_plan_s is not None


def test_regions_all_done_whose_joiner_was_lost_are_joined_by_the_days_next_delivery(
    sqlite: Store, two_regions: dict[str, Any]
) -> None:
    # A worker killed while joining the regions: the day stayed running, its task delivered
    # every few seconds answered "fanned out" and did nothing, until the last region's task
    # came back after the broker's visibility timeout (an hour by default).
    job = started_job(sqlite, two_regions)
    parts = fan_out(sqlite, job)
    record = {"format": 1, "routes": [], "unassigned": [], "solve_s": 0.0, "objective": 0,
              "at": None}  # fmt: skip
    for part in parts:
        sqlite.start_job(part.id, 1)
        sqlite.finish_region(part.id, 1, record, placed=0, elapsed_s=0.1)
    url = sqlite.engine.url.render_as_string(hide_password=False)
    rechecks: list[str] = []

    def published(part: SolveJob) -> None:
        raise AssertionError(f"{part.id} published again")

    def recheck() -> None:
        rechecks.append(job.id)

    def deliver(stale_after_s: float) -> None:
        setup = _WorkerSetup(url, None, stale_after_s, max_starts=3, time_limit_cap_s=60)
        assert _run_delivered(setup, job.id, 1, recheck, publish=published) == "fanned_out"

    deliver(stale_after_s=60)  # someone may be joining them: looked at again later
    assert sqlite.load_job(job.id).state == "running" and rechecks == [job.id]
    deliver(stale_after_s=0)
    done = sqlite.load_job(job.id)
    assert done.state == "done", done.error
    assert sqlite.plan_versions(job.plan_id) == [1]
