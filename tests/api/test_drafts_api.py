"""Anytime answers through the service: a day job's first plan shows in its progress
(``first_plan_s``) and its best plan so far is read at ``/v1/jobs/{job_id}/draft`` while the
search goes on; the draft is a checked-valid plan, never a stored one, and gone with the job."""

from __future__ import annotations

import time
from contextlib import closing
from typing import Any

import pytest

from api.jobs import solve_started_job
from api.routes.jobs import DRAFT_HEADER
from benchmarks.dayset import generate_day
from dispatch.contract.validate import parse_problem
from dispatch.persistence import Store
from dispatch.travel import pair_lookup, provider_for
from dispatch.verify import check_plan
from tests.api.conftest import Service
from tests.conftest import line_day

#: The search budget of the generated day's job: long enough for drafts before the plan.
TIME_LIMIT_S = 6


def test_a_running_job_shows_its_first_plan_and_its_best_plan_so_far(service: Service) -> None:
    client, auth = service.client, service.auth
    problem_id = service.post_problem(generate_day(60, 1))
    body = {"problem_id": problem_id, "time_limit_s": TIME_LIMIT_S}
    job = client.post("/v1/plans", json=body, headers=auth).json()
    drafts: list[dict[str, Any]] = []
    seen: list[dict[str, Any]] = []
    while True:
        state = client.get(f"/v1/jobs/{job['id']}", headers=auth).json()
        if state["state"] in ("done", "failed"):
            break
        answer = client.get(f"/v1/jobs/{job['id']}/draft", headers=auth)
        if answer.status_code == 200:
            assert answer.headers[DRAFT_HEADER] == "true"
            drafts.append(answer.json())
            # A draft is no plan of the store: the plan is not there until the job is done.
            still = client.get(f"/v1/jobs/{job['id']}", headers=auth).json()
            if still["state"] == "running":
                seen.append(still)
                plan = client.get(f"/v1/plans/{job['plan_id']}", headers=auth)
                if plan.status_code == 200:  # the job ended between the two reads
                    after = client.get(f"/v1/jobs/{job['id']}", headers=auth).json()
                    assert after["state"] == "done", after
                else:
                    assert plan.status_code == 404 and "not ready" in plan.json()["detail"]
        else:
            assert answer.status_code == 404, answer.text
            assert job["id"] in answer.json()["detail"]
        time.sleep(0.1)
    assert state["state"] == "done", state
    assert drafts and seen, "no draft was read while the job ran"

    # The first plan shows in the progress, before the search's end, and stays after it.
    progress = [running["progress"] for running in seen]
    assert all(p["first_plan_s"] is not None for p in progress)
    assert all(p["first_plan_s"] <= p["elapsed_s"] for p in progress), progress
    assert progress[0]["first_plan_s"] < TIME_LIMIT_S
    done = state["progress"]
    assert done["first_plan_s"] == progress[0]["first_plan_s"]
    assert done["first_plan_s"] <= done["elapsed_s"]

    # Each draft is a valid plan of the stored day, by the independent checker.
    with closing(Store(service.database_url)) as store:
        raw = store.load_problem(problem_id)
    lookup = pair_lookup(provider_for(parse_problem(raw, stored=True)))
    for draft in drafts:
        assert (draft["plan_id"], draft["version"]) == (job["plan_id"], 1)
        assert draft["kpis"]["assigned"] > 0
        assert check_plan(raw, draft, lookup).violations == ()

    # Once the job is done, there is no draft: the answer points to the plan.
    gone = client.get(f"/v1/jobs/{job['id']}/draft", headers=auth)
    assert gone.status_code == 404
    assert job["id"] in gone.json()["detail"]
    assert f"/v1/plans/{job['plan_id']}" in gone.json()["detail"]
    plan = client.get(f"/v1/plans/{job['plan_id']}", headers=auth).json()
    assert plan["kpis"]["assigned"] >= drafts[-1]["kpis"]["assigned"]


def test_a_job_without_a_draft_says_why(service: Service) -> None:
    client, auth = service.client, service.auth
    with closing(Store(service.database_url)) as store:
        store.save_problem(line_day(), problem_id="pb_waiting")
        waiting = store.create_job(problem_id="pb_waiting", time_limit_s=1, visits_total=3)
    answer = client.get(f"/v1/jobs/{waiting.id}/draft", headers=auth)  # never handed out
    assert answer.status_code == 404
    assert f"job {waiting.id} is queued and has no draft yet" in answer.json()["detail"]
    assert "its search has not begun" in answer.json()["detail"]
    progress = client.get(f"/v1/jobs/{waiting.id}", headers=auth).json()["progress"]
    assert progress["first_plan_s"] is None
    unknown = client.get("/v1/jobs/jb_nothing/draft", headers=auth)
    assert unknown.status_code == 404 and "no job 'jb_nothing'" in unknown.json()["detail"]
    assert client.get(f"/v1/jobs/{waiting.id}/draft").status_code == 401, "a dispatcher's only"


def test_a_stale_attempt_writes_no_draft(service: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    with closing(Store(service.database_url)) as store:
        store.save_problem(generate_day(60, 1), problem_id="pb_taken")
        job = store.create_job(problem_id="pb_taken", time_limit_s=2, visits_total=60)
        store.start_job(job.id, 1)
        # Its worker is found lost: attempt 2 takes the job over.
        taken = store.claim_job(job.id, stale_after_s=0, max_starts=3, gave_up="lost")
        assert (taken.outcome, taken.attempt) == ("taken_over", 2)
        refused: list[bool] = []
        save_draft = store.save_draft

        def watched(*args: Any, **kwargs: Any) -> bool:
            kept = save_draft(*args, **kwargs)
            refused.append(not kept)
            return kept

        monkeypatch.setattr(store, "save_draft", watched)
        # The lost attempt's worker was only stalled: it solves on, drafts and all.
        solve_started_job(store, job.id, 1, None)
        assert refused == [True], "its first draft is refused, and no more are tried"
        after = store.load_job(job.id)
        assert (after.state, after.attempt, after.first_plan_s) == ("running", 2, None)
        assert store.job_draft(job.id) is None
        assert store.plan_versions(job.plan_id) == []
    answer = service.client.get(f"/v1/jobs/{job.id}/draft", headers=service.auth)
    assert answer.status_code == 404 and "has no draft yet" in answer.json()["detail"]


def test_a_day_whose_region_was_started_again_says_so_while_it_has_no_draft(
    service: Service,
) -> None:
    # The day had its first plan (first_plan_s), then a region's worker was lost: its draft
    # answered 404 "a region ... has found no plan so far", against its own first_plan_s.
    with closing(Store(service.database_url)) as store:
        store.save_problem(line_day(), problem_id="pb_regions")
        job = store.create_job(problem_id="pb_regions", time_limit_s=4, visits_total=3)
        assert store.start_job(job.id, 1)
        parts = store.fan_out_job(job.id, 1, regions=[1, 1, 1])
        for k, part in enumerate(parts):
            assert store.start_job(part.id, 1)
            region = {"format": 1, "routes": [], "unassigned": [], "region": k}
            assert store.save_region_draft(part.id, 1, region, elapsed_s=0.5)
        assert store.load_job(job.id).first_plan_s is not None
        taken = store.claim_job(parts[0].id, stale_after_s=0, max_starts=3, gave_up="lost")
        assert taken.outcome == "taken_over"
    answer = service.client.get(f"/v1/jobs/{job.id}/draft", headers=service.auth)
    assert answer.status_code == 404
    detail = answer.json()["detail"]
    assert "was started again (its worker lost)" in detail and "no plan so far" not in detail
