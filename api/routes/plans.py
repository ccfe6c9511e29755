"""``/v1/plans``: start solving a stored day (or a horizon, into a week: ``/v1/weeks``), then
read the plan, its versions, post events that re-plan it and read what each re-plan changed.
Handlers parse, call ``dispatch`` (or the job runner) and shape the answer; nothing else."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from api.deps import ClockDep, Dispatcher, RunnerDep, StoreDep, VersionsDep
from api.models import (
    CONFLICT,
    SLOT_GONE,
    ChangesOut,
    EventBatchOut,
    EventHistoryOut,
    JobOut,
    PlanItem,
    PlanRequest,
    SlotGoneOut,
    VersionChangesOut,
    VersionsOut,
)
from api.params import (
    IF_MATCH_PATTERN,
    DigitsOnly,
    EventsIfMatch,
    PlanId,
    batch_version,
    if_match_version,
)
from api.versions import stored_plan_text
from dispatch.booking.schema import BookIn
from dispatch.contract.horizon import is_horizon, parse_horizon
from dispatch.contract.schema import EventBatchIn, PlanOut
from dispatch.desk.book import BookingRefusedError, book_stored
from dispatch.errors import NotFoundError

__all__ = ["WEEK_PREFIX", "no_plan", "router"]

router = APIRouter(prefix="/plans", tags=["plans"])


def _plan_response(version: int, text: str, status: int = 200, **headers: str) -> Response:
    return Response(
        content=text,
        status_code=status,
        media_type="application/json",
        headers={"ETag": f'"{version}"', **headers},
    )


#: How a week's id begins (``Store.create_job(produces="week")``): not a plan.
WEEK_PREFIX = "wk_"


def no_plan(plan_id: str) -> NotFoundError:
    """Why there is no plan ``plan_id``; a week's id says where the week is."""
    if plan_id.startswith(WEEK_PREFIX):
        return NotFoundError(
            f"{plan_id} is a week, not a plan: read it at /v1/weeks/{plan_id}, which lists "
            "the plan of each of its days"
        )
    return NotFoundError(f"no plan '{plan_id}'")


@router.get("", response_model=list[PlanItem])
def list_plans(
    key: Dispatcher, store: StoreDep, limit: Annotated[int, Query(ge=1, le=200), DigitsOnly] = 50
) -> list[PlanItem]:
    """Plans by their latest version, the most recently changed first, each with the day it
    was planned for."""
    return [PlanItem.of(found) for found in store.recent_plans(limit)]


@router.post("", status_code=202, response_model=JobOut)
def create_plan(
    response: Response, key: Dispatcher, store: StoreDep, runner: RunnerDep, body: PlanRequest
) -> JobOut:
    """Start solving a stored problem; poll the job (``Location``) until it is ``done``, then
    read ``plan_id``: a plan, or for a horizon a week (``wk_…``, at ``/v1/weeks/{plan_id}``)."""
    raw = store.load_problem(body.problem_id)
    if is_horizon(raw):
        visits = len(parse_horizon(raw, stored=True).visits)
        job = store.create_job(
            problem_id=body.problem_id,
            time_limit_s=body.time_limit_s,
            visits_total=visits,
            produces="week",
        )
    else:
        job = store.create_job(
            problem_id=body.problem_id,
            time_limit_s=body.time_limit_s,
            visits_total=len(raw.get("visits", [])),
        )
    runner.submit(job)
    response.headers["Location"] = f"/v1/jobs/{job.id}"
    return JobOut.of(job)


@router.get("/{plan_id}", responses={200: {"model": PlanOut}})
async def get_plan(
    key: Dispatcher, store: StoreDep, versions: VersionsDep, plan_id: PlanId
) -> Response:
    """The plan's latest version (``ETag`` is its version number); 404 saying why there is
    none: no such plan, or its job has not stored it yet."""
    found = versions.get(store, plan_id)
    return _plan_response(found.version, found.text)


@router.get("/{plan_id}/versions", response_model=VersionsOut)
def list_versions(key: Dispatcher, store: StoreDep, plan_id: PlanId) -> VersionsOut:
    """Every stored version number of a plan."""
    versions = store.plan_versions(plan_id)
    if not versions:
        raise no_plan(plan_id)
    return VersionsOut(plan_id=plan_id, versions=versions)


@router.get("/{plan_id}/versions/{version}", responses={200: {"model": PlanOut}})
def get_version(
    key: Dispatcher,
    store: StoreDep,
    plan_id: PlanId,
    version: Annotated[int, Path(ge=1, le=1_000_000)],
) -> Response:
    """One version of a plan, as stored (versions never change)."""
    return _plan_response(*stored_plan_text(store, plan_id, version))


@router.post("/{plan_id}/events", status_code=201, responses={201: {"model": PlanOut}, **CONFLICT})
async def post_events(
    request: Request,
    key: Dispatcher,
    store: StoreDep,
    runner: RunnerDep,
    clock: ClockDep,
    plan_id: PlanId,
    batch: EventBatchIn,
    if_match: EventsIfMatch = None,
) -> Response:
    """Apply a batch of events (delays, progress, cancellations, new visits...) and store the
    next version; 409 when the batch was written against an older version than the latest."""
    against = batch_version(if_match, batch.version)
    try:
        await run_in_threadpool(store.latest_version, plan_id)  # 404 before any work
    except NotFoundError:
        raise no_plan(plan_id) from None
    events = await request.json()  # as sent (read as ``batch``): the history keeps it so
    future = runner.replan(plan_id, events, against, now=clock())
    plan = await asyncio.wrap_future(future)
    version = int(plan["version"])
    return _plan_response(
        version,
        json.dumps(plan, ensure_ascii=False),
        201,
        Location=f"/v1/plans/{plan_id}/versions/{version}",
    )


@router.get("/{plan_id}/changes", response_model=ChangesOut)
def get_changes(
    key: Dispatcher,
    store: StoreDep,
    plan_id: PlanId,
    since: Annotated[int, Query(ge=0, description="Only versions after this one."), DigitsOnly] = 0,
    notify: Annotated[bool, Query(description="Only customers to call: the call list.")] = False,
) -> ChangesOut:
    """What each re-plan changed; with ``notify=true`` the customers to call."""
    versions = store.plan_versions(plan_id)
    if not versions:
        raise no_plan(plan_id)
    found = []
    for version in (v for v in versions if v > since and v > 1):
        plan = PlanOut.model_validate(store.load_plan(plan_id, version))
        changes = [c for c in plan.changes if c.notify or not notify]
        found.append(VersionChangesOut(version=version, at=plan.at, changes=changes))
    return ChangesOut(plan_id=plan_id, latest_version=versions[-1], versions=found)


@router.get("/{plan_id}/events", response_model=EventHistoryOut)
def get_events(key: Dispatcher, store: StoreDep, plan_id: PlanId) -> EventHistoryOut:
    """Every batch of events stored for the plan, oldest first, each with the version it made:
    delays, reports, bookings, and visits moved in from another date of the week."""
    if not store.plan_versions(plan_id):
        raise no_plan(plan_id)
    batches = [
        EventBatchOut(
            version=batch["version"],
            at=str(batch.get("at", "")),
            events=list(batch.get("events", [])),
            moved_from=batch.get("moved_from"),
            report_id=batch.get("report_id"),
            move_across_dates=batch.get("move_across_dates"),
        )
        for batch in store.load_events(plan_id)
    ]
    return EventHistoryOut(plan_id=plan_id, batches=batches)


@router.post("/{plan_id}/book", status_code=201, responses={201: {"model": PlanOut}, **SLOT_GONE})
async def book(
    key: Dispatcher,
    store: StoreDep,
    runner: RunnerDep,
    clock: ClockDep,
    plan_id: PlanId,
    body: BookIn,
    if_match: Annotated[
        str | None,
        Header(
            pattern=IF_MATCH_PATTERN,
            description="The version the slot was offered on (its `version`, the ETag).",
        ),
    ] = None,
) -> Response:
    """Book a visit into a slot from ``POST /v1/slots``: the next version holds it, stored with
    its ``new_visit`` batch; no other customer's promise moves. When the plan moved on since
    ``If-Match``, the slot is checked again on the latest version; 409 with the fresh slots
    when it no longer fits (or the plan moved on while it was booked). Without ``at``, a plan
    of today is booked at the service clock's present."""
    asked = if_match_version(if_match)
    request = body.model_dump(mode="json", exclude_unset=True)
    try:
        document = await run_in_threadpool(
            book_stored,
            store,
            plan_id,
            request,
            if_match=asked,
            roads=runner.roads,
            now=clock(),
        )
    except BookingRefusedError as error:
        gone = SlotGoneOut(detail=str(error), slots=error.answer)
        return JSONResponse(gone.model_dump(mode="json"), status_code=409)
    version = document.version
    return _plan_response(
        version,
        document.model_dump_json(),
        201,
        Location=f"/v1/plans/{plan_id}/versions/{version}",
    )
