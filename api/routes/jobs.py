"""``/v1/jobs``: a solve job's state and progress, and running a failed one again.

Jobs are how plans are made (``POST /v1/plans`` starts one), so the schema lists them under
the ``plans`` tag."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import Dispatcher, RunnerDep, StoreDep
from api.models import CONFLICT, JobOut
from api.params import JobId

__all__ = ["router"]

router = APIRouter(prefix="/jobs", tags=["plans"])


@router.get("/{job_id}", response_model=JobOut)
def get_job(key: Dispatcher, store: StoreDep, job_id: JobId) -> JobOut:
    """A job's state and progress: elapsed time, best cost so far, visits placed."""
    return JobOut.of(store.load_job(job_id))


@router.post("/{job_id}/retry", status_code=202, response_model=JobOut, responses=CONFLICT)
def retry_job(key: Dispatcher, store: StoreDep, runner: RunnerDep, job_id: JobId) -> JobOut:
    """Run a failed job again (409 unless it failed)."""
    job = store.retry_job(job_id)
    runner.submit(job)
    return JobOut.of(job)
