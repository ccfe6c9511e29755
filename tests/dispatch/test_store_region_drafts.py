"""The drafts of a day fanned out to one job per region, in the store, on SQLite and PostgreSQL:
each region job keeps its newest draft on its own row (``Store.save_region_draft``), the day's
job has its ``first_plan_s`` once every region has a plan (a draft, or done), and
``Store.region_drafts`` gives each region's newest plan, what the day's draft is joined from."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from dispatch.persistence import SolveJob, Store
from tests.conftest import line_day

REGIONS = (220, 210, 5)


def running_job(store: Store, problem_id: str = "pb_day") -> SolveJob:
    store.save_problem(line_day(), problem_id=problem_id)
    job = store.create_job(problem_id=problem_id, time_limit_s=4.0, visits_total=sum(REGIONS))
    assert store.start_job(job.id, 1)
    return job


def started_regions(store: Store, job: SolveJob, regions: tuple[int, ...]) -> list[SolveJob]:
    parts = store.fan_out_job(job.id, job.attempt, regions=regions)
    for part in parts:
        assert store.start_job(part.id, 1)
    return parts


def record(k: int, draft: int) -> dict[str, Any]:
    """A stand-in for region ``k``'s plan record, draft ``draft`` (0: its final plan)."""
    return {"format": 1, "routes": [], "unassigned": [], "region": k, "draft": draft}


def test_a_day_has_its_first_plan_once_every_region_has_a_draft_or_is_done(store: Store) -> None:
    job = running_job(store)
    queued = store.fan_out_job(job.id, 1, regions=REGIONS)
    assert not store.save_region_draft(queued[0].id, 1, record(0, 1), elapsed_s=0.1), "queued"
    first, second, third = queued
    for part in queued:
        assert store.start_job(part.id, 1)
    assert store.region_drafts(job.id, 1) is None
    assert store.save_region_draft(first.id, 1, record(0, 1), elapsed_s=0.4)
    drafted = store.load_job(first.id)
    assert drafted.first_plan_s == 0.4 and drafted.elapsed_s == 0.4
    # A region's draft is its region's record: no plan document of its own, and none of its
    # job's while a region has no plan.
    assert store.job_draft(first.id) is None
    assert store.job_draft(job.id) is None
    assert store.load_job(job.id).first_plan_s is None
    assert store.region_drafts(job.id, 1) is None
    assert store.finish_region(second.id, 1, record(1, 0), placed=200, elapsed_s=1.0) == "counted"
    assert store.load_job(job.id).first_plan_s is None, "the third region has no plan yet"
    assert store.region_drafts(job.id, 1) is None
    assert store.save_region_draft(third.id, 1, record(2, 1), elapsed_s=0.2)
    whole = store.load_job(job.id)
    assert whole.first_plan_s is not None and 0.0 <= whole.first_plan_s <= whole.elapsed_s
    assert store.region_drafts(job.id, 1) == [record(0, 1), record(1, 0), record(2, 1)]
    # A newer draft replaces its region's; the day's first plan stays when it came.
    assert store.save_region_draft(first.id, 1, record(0, 2), elapsed_s=1.4)
    assert store.region_drafts(job.id, 1) == [record(0, 2), record(1, 0), record(2, 1)]
    assert store.load_job(job.id).first_plan_s == whole.first_plan_s
    assert store.load_job(first.id).first_plan_s == 0.4
    # A region done: its plan, not its last draft, is joined.
    assert store.finish_region(first.id, 1, record(0, 0), placed=210, elapsed_s=2.0) == "counted"
    assert not store.save_region_draft(first.id, 1, record(0, 3), elapsed_s=2.1), "ended"
    assert store.region_drafts(job.id, 1) == [record(0, 0), record(1, 0), record(2, 1)]
    # Once the day's plan is stored there is no draft of it any more.
    plan = {"plan_id": job.plan_id, "version": 1, "status": "feasible", "kpis": {"assigned": 410}}
    assert store.finish_job(job.id, 1, plan, elapsed_s=3.0)
    assert store.region_drafts(job.id, 1) is None
    assert store.load_job(job.id).first_plan_s == whole.first_plan_s


def test_a_day_done_region_by_region_has_its_first_plan_with_its_last_region(
    store: Store,
) -> None:
    job = running_job(store)
    parts = started_regions(store, job, REGIONS)
    told = [
        store.finish_region(part.id, 1, record(k, 0), placed=1, elapsed_s=1.0)
        for k, part in enumerate(parts)
    ]
    assert told == ["counted", "counted", "last"]
    done = store.load_job(job.id)
    assert done.first_plan_s is not None and done.first_plan_s <= done.elapsed_s
    assert store.region_drafts(job.id, 1) == store.region_plans(job.id, 1)


def test_a_region_taken_over_or_failed_has_no_plan_in_the_days_draft(store: Store) -> None:
    job = running_job(store)
    first, second, third = started_regions(store, job, REGIONS)
    for k, part in enumerate((first, second, third)):
        assert store.save_region_draft(part.id, 1, record(k, 1), elapsed_s=0.5)
    assert store.region_drafts(job.id, 1) is not None
    # Its worker lost, a region is taken over: the lost attempt's draft is gone and its late
    # writes are refused, until the new attempt drafts.
    claim = store.claim_job(first.id, stale_after_s=0.0, max_starts=3, gave_up="lost")
    assert (claim.outcome, claim.attempt) == ("taken_over", 2)
    assert store.region_drafts(job.id, 1) is None
    assert not store.save_region_draft(first.id, 1, record(0, 2), elapsed_s=0.6)
    assert store.region_drafts(job.id, 1) is None
    assert store.save_region_draft(first.id, 2, record(0, 3), elapsed_s=0.1)
    assert store.region_drafts(job.id, 1) == [record(0, 3), record(1, 1), record(2, 1)]
    # A failed region leaves no plan of the day.
    store.fail_job(second.id, 1, "no roads")
    assert store.region_drafts(job.id, 1) is None
    # A job of another attempt (a retry) has other regions: the old ones are not its.
    store.fail_job(job.id, 1, "region 2 of 3 (210 visits) failed: no roads")
    assert store.region_drafts(job.id, 1) is None
    store.retry_job(job.id)
    assert store.start_job(job.id, 2)
    again = started_regions(store, store.load_job(job.id), REGIONS)
    assert store.region_drafts(job.id, 2) is None
    assert store.load_job(job.id).first_plan_s is None
    for k, part in enumerate(again):
        assert store.save_region_draft(part.id, 1, record(k, 9), elapsed_s=0.1)
    assert store.region_drafts(job.id, 2) == [record(k, 9) for k in range(3)]
    assert store.region_drafts(job.id, 1) is None
    assert store.load_job(job.id).first_plan_s is not None


def test_regions_drafting_at_once_give_their_day_its_first_plan(store: Store) -> None:
    for round_ in range(3):
        job = running_job(store, problem_id=f"pb_race{round_}")
        parts = started_regions(store, job, (2,) * 8)
        together = threading.Barrier(len(parts))

        def draft(part: SolveJob, together: threading.Barrier = together) -> bool:
            together.wait()
            return store.save_region_draft(part.id, 1, record(part.region or 0, 1), elapsed_s=0.1)

        with ThreadPoolExecutor(len(parts)) as pool:
            assert all(pool.map(draft, parts))
        assert store.load_job(job.id).first_plan_s is not None, f"round {round_}"
