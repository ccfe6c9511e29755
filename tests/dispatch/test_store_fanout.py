"""A day job fanned out to one job per region (``Store.fan_out_job``), on SQLite and
PostgreSQL: the region jobs, and the rule that exactly one region's end, the one that makes the
count whole, is told to join them (``Store.finish_region``), however the ends interleave."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from typing import Any

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect

from dispatch.persistence import SolveJob, Store, StoreConflictError
from dispatch.persistence.migrate import alembic_config
from tests.conftest import line_day

REGIONS = (220, 210, 5)
NEW_COLUMNS = {
    "parent_id",
    "parent_attempt",
    "region",
    "regions_total",
    "regions_done",
    "region_plan",
}


def running_job(store: Store) -> SolveJob:
    store.save_problem(line_day(), problem_id="pb_day")
    job = store.create_job(problem_id="pb_day", time_limit_s=4.0, visits_total=sum(REGIONS))
    assert store.start_job(job.id, 1)
    return job


def record(k: int) -> dict[str, Any]:
    """A stand-in for region ``k``'s plan record (the store keeps it as it is)."""
    return {"format": 1, "routes": [], "unassigned": [], "region": k}


def started_regions(store: Store, job: SolveJob) -> list[SolveJob]:
    parts = store.fan_out_job(job.id, 1, regions=REGIONS)
    for part in parts:
        assert store.start_job(part.id, 1)
    return parts


def test_a_running_job_fans_out_once_to_one_queued_job_per_region(store: Store) -> None:
    job = running_job(store)
    parts = store.fan_out_job(job.id, 1, regions=REGIONS)
    assert [(p.region, p.visits_total, p.state, p.attempt) for p in parts] == [
        (0, 220, "queued", 1),
        (1, 210, "queued", 1),
        (2, 5, "queued", 1),
    ]
    assert {(p.parent_id, p.parent_attempt, p.problem_id, p.time_limit_s) for p in parts} == {
        (job.id, 1, "pb_day", 4.0)
    }
    assert len({p.id for p in parts} | {p.plan_id for p in parts}) == 6
    assert store.region_jobs(job.id, 1) == parts
    assert store.fan_out_job(job.id, 1, regions=REGIONS) == [], "an attempt fans out once"
    fanned = store.load_job(job.id)
    assert (fanned.regions_total, fanned.regions_done, fanned.visits_placed) == (3, 0, 0)
    # Its task delivered again leaves it to its regions; theirs start them.
    claim = store.claim_job(job.id, stale_after_s=0.0, max_starts=1, gave_up="lost")
    assert (claim.outcome, claim.attempt) == ("fanned_out", 1)
    assert store.load_job(job.id) == fanned
    region = store.claim_job(parts[0].id, stale_after_s=60.0, max_starts=3, gave_up="lost")
    assert (region.outcome, region.job.state) == ("started", "running")


def test_the_region_that_makes_the_count_whole_is_told_to_join_once(store: Store) -> None:
    job = running_job(store)
    first, second, third = started_regions(store, job)
    assert store.region_plans(job.id, 1) is None
    assert store.finish_region(second.id, 1, record(1), placed=200, elapsed_s=3.0) == "counted"
    after_one = store.load_job(job.id)
    assert (after_one.regions_done, after_one.visits_placed) == (1, 200)
    assert after_one.first_plan_s is None, "no plan of the day while a region has none"
    # A late duplicate of a region that ended changes nothing.
    assert store.finish_region(second.id, 1, record(9), placed=7, elapsed_s=9.0) == "refused"
    assert store.load_job(job.id) == after_one
    assert store.finish_region(first.id, 1, record(0), placed=210, elapsed_s=3.5) == "counted"
    assert store.region_plans(job.id, 1) is None, "one region is still out"
    assert store.load_job(job.id).first_plan_s is None
    assert store.finish_region(third.id, 1, record(2), placed=0, elapsed_s=1.0) == "last"
    assert store.finish_region(third.id, 1, record(2), placed=0, elapsed_s=1.0) == "refused"
    whole = store.load_job(job.id)
    assert (whole.state, whole.regions_done, whole.visits_placed) == ("running", 3, 410)
    assert whole.first_plan_s is not None, "every region has a plan: the day has one"
    assert 0.0 <= whole.first_plan_s <= whole.elapsed_s
    assert store.region_plans(job.id, 1) == [record(0), record(1), record(2)]
    assert [p.state for p in store.region_jobs(job.id, 1)] == ["done"] * 3
    # Once the job is done (its plan stored) the regions are joined for good.
    plan = {"plan_id": job.plan_id, "version": 1, "status": "feasible", "kpis": {"assigned": 410}}
    assert store.finish_job(job.id, 1, plan, elapsed_s=5.0)
    assert store.region_plans(job.id, 1) is None
    assert not store.finish_job(job.id, 1, plan, elapsed_s=6.0), "a second join stores nothing"
    assert store.plan_versions(job.plan_id) == [1]


def test_regions_ending_at_once_tell_exactly_one_of_them_to_join(store: Store) -> None:
    for round_ in range(3):
        store.save_problem(line_day(), problem_id=f"pb_race{round_}")
        job = store.create_job(problem_id=f"pb_race{round_}", time_limit_s=1.0, visits_total=8)
        store.start_job(job.id, 1)
        parts = store.fan_out_job(job.id, 1, regions=[2] * 8)
        for part in parts:
            store.start_job(part.id, 1)
        together = threading.Barrier(len(parts))

        def finish(part: SolveJob, together: threading.Barrier = together) -> str:
            together.wait()
            region = part.region or 0
            return store.finish_region(part.id, 1, record(region), placed=2, elapsed_s=1.0)

        with ThreadPoolExecutor(len(parts)) as pool:
            told = list(pool.map(finish, parts))
        assert sorted(told) == ["counted"] * 7 + ["last"], told
        ended = store.load_job(job.id)
        assert (ended.regions_done, ended.visits_placed) == (8, 16)


def test_a_region_of_a_job_that_failed_or_moved_on_is_never_told_to_join(store: Store) -> None:
    job = running_job(store)
    first, second, third = started_regions(store, job)
    assert store.finish_region(first.id, 1, record(0), placed=1, elapsed_s=1) == "counted"
    store.fail_job(third.id, 1, "no roads")
    store.fail_job(job.id, 1, "region 3 of 3 (5 visits) failed: no roads")
    assert store.finish_region(second.id, 1, record(1), placed=1, elapsed_s=1) == "counted"
    failed = store.load_job(job.id)
    assert (failed.state, failed.regions_done) == ("failed", 1), "a failed job counts no more"
    assert store.region_plans(job.id, 1) is None
    # A region is never retried on its own: its job is, and fans out afresh.
    with pytest.raises(StoreConflictError, match=f"retry {job.id}"):
        store.retry_job(third.id)
    retried = store.retry_job(job.id)
    assert (retried.attempt, retried.regions_total, retried.regions_done) == (2, None, 0)
    store.start_job(job.id, 2)
    again = store.fan_out_job(job.id, 2, regions=REGIONS)
    assert len(again) == 3 and not {p.id for p in again} & {first.id, second.id, third.id}
    assert store.region_jobs(job.id, 1) != again == store.region_jobs(job.id, 2)


def test_revision_0007_goes_down_and_up(store: Store, database_url: str) -> None:
    job = running_job(store)
    store.fan_out_job(job.id, 1, regions=REGIONS)
    store.close()
    engine = create_engine(database_url)

    def migrate(to: str) -> set[str]:
        config = alembic_config(database_url)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            if to == "head":
                command.upgrade(config, to)
            else:
                command.downgrade(config, to)
            return {column["name"] for column in inspect(connection).get_columns("solve_jobs")}

    try:
        assert NEW_COLUMNS.isdisjoint(migrate("0006"))
        assert migrate("head") >= NEW_COLUMNS
    finally:
        engine.dispose()
    with closing(Store(database_url)) as again:
        kept = again.load_job(job.id)
        assert (kept.state, kept.regions_total) == ("running", None)
        assert again.fan_out_job(job.id, 1, regions=REGIONS) != []
