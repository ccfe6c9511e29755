"""``/v1/jobs``: a solve job's state and progress, its newest draft plan while it runs, and
running a failed one again.

Jobs are how plans are made (``POST /v1/plans`` starts one), so the schema lists them under
the ``plans`` tag."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import Dispatcher, RunnerDep, StoreDep
from api.jobs import day_draft
from api.models import CONFLICT, JobOut, Responses
from api.params import JobId
from api.routes.plans import WEEK_PREFIX
from dispatch.contract.schema import PlanOut
from dispatch.errors import NotFoundError
from dispatch.persistence import SolveJob

__all__ = ["DRAFT_HEADER", "router"]

router = APIRouter(prefix="/jobs", tags=["plans"])

#: The header that marks an answer of ``GET /v1/jobs/{job_id}/draft`` as a draft.
DRAFT_HEADER = "X-Fieldroute-Draft"

_DRAFT: Responses = {
    200: {
        "model": PlanOut,
        "description": "The newest draft plan: not a stored plan, no version of its own, "
        "replaced by a better one any second",
        "headers": {
            DRAFT_HEADER: {
                "description": "Always `true`: this plan is a draft.",
                "schema": {"type": "string", "enum": ["true"]},
            }
        },
    }
}


@router.get("/{job_id}", response_model=JobOut)
def get_job(key: Dispatcher, store: StoreDep, job_id: JobId) -> JobOut:
    """A job's state and progress: elapsed time, best cost so far, visits placed, and when its
    first plan was found (``first_plan_s``)."""
    return JobOut.of(store.load_job(job_id))


@router.get("/{job_id}/draft", responses=_DRAFT)
def get_draft(key: Dispatcher, store: StoreDep, job_id: JobId) -> JSONResponse:
    """The best plan found so far by a running day job, as the contract's plan document
    (``status`` as its figures say), marked ``X-Fieldroute-Draft: true``.

    A draft is not stored as a plan and has no version of its own (it says ``version`` 1, the
    version the job will store): it is replaced by the next, better draft any second and gone
    once the job ends, when the plan is at ``/v1/plans/{plan_id}``. A day fanned out to one job
    per region (Celery) has a draft of the whole day once every region has a plan: each
    region's newest draft, or a done region's plan, joined as its plan will be. 404 while the
    job has no draft: its search (or one of its regions) has found no plan yet
    (``first_plan_s`` is null), the job ended, it plans a week (a week's search makes no
    drafts), or it is a region's job (its draft is part of its day's)."""
    draft = store.job_draft(job_id)
    if draft is None:
        job = store.load_job(job_id)
        draft = day_draft(store, job)
        if draft is None:
            raise _no_draft(job)
    return JSONResponse(draft, headers={DRAFT_HEADER: "true", "Cache-Control": "no-store"})


def _no_draft(job: SolveJob) -> NotFoundError:
    """Why job ``job`` has no draft, and where to look instead."""
    if job.parent_id is not None:
        return NotFoundError(
            f"job {job.id} plans a region of job {job.parent_id}'s day: its drafts are part of "
            f"that day's draft, at /v1/jobs/{job.parent_id}/draft"
        )
    week = job.plan_id.startswith(WEEK_PREFIX)
    result = f"/v1/weeks/{job.plan_id}" if week else f"/v1/plans/{job.plan_id}"
    if job.state == "done":
        made = "week" if week else "plan"
        return NotFoundError(f"job {job.id} is done: no draft any more; its {made} is at {result}")
    if job.state == "failed":
        return NotFoundError(
            f"job {job.id} failed: no draft and no plan; POST /v1/jobs/{job.id}/retry runs it again"
        )
    if week:
        return NotFoundError(
            f"job {job.id} plans a week, whose search makes no drafts; the week will be at "
            f"{result} when the job is done"
        )
    if job.regions_total is not None and job.first_plan_s is not None:
        # Said "no plan so far" while first_plan_s said there was one.
        return NotFoundError(
            f"job {job.id} is {job.state} and has no draft just now: a region of the "
            f"{job.regions_total} it fanned out to was started again (its worker lost) and its "
            "new search has no plan yet; the day's draft is back once it has"
        )
    if job.state == "queued":  # said its search "has found no plan so far" of none begun
        return NotFoundError(
            f"job {job.id} is queued and has no draft yet: its search has not begun (drafts "
            f"come once it finds a first plan; first_plan_s at /v1/jobs/{job.id} says when)"
        )
    searched = (
        "its search has"
        if job.regions_total is None
        else f"a region of the {job.regions_total} it fanned out to has"
    )
    return NotFoundError(
        f"job {job.id} is {job.state} and has no draft yet: {searched} found no plan so far "
        f"(first_plan_s at /v1/jobs/{job.id} shows when it does)"
    )


@router.post("/{job_id}/retry", status_code=202, response_model=JobOut, responses=CONFLICT)
def retry_job(key: Dispatcher, store: StoreDep, runner: RunnerDep, job_id: JobId) -> JobOut:
    """Run a failed job again (409 unless it failed)."""
    job = store.retry_job(job_id)
    runner.submit(job)
    return JobOut.of(job)
