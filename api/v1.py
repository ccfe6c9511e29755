"""Version 1 of the HTTP API: problems, solve jobs, plans and their versions, events, changes
and drivers' routes. Handlers parse, call ``dispatch`` and shape the answer; nothing else."""

from __future__ import annotations

import asyncio
import json
import threading
from collections import OrderedDict
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Path, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from starlette.datastructures import UploadFile

from api.auth import Dispatcher, RouteReader
from api.jobs import JobRunner
from api.links import end_of_day, sign_route_link
from api.models import (
    ChangesOut,
    ErrorOut,
    JobOut,
    JobProgressOut,
    LinkOut,
    PlanRequest,
    ProblemCreated,
    VersionChangesOut,
    VersionsOut,
)
from api.params import JobId, PlanId, ProblemId, TechnicianId
from dispatch.contract.schema import DriverRouteOut, EventBatchIn, PlanOut, ProblemIn
from dispatch.contract.sheets import problem_from_sheets, read_table, read_workbook
from dispatch.contract.validate import load_json, parse_problem
from dispatch.desk.driver import driver_route
from dispatch.errors import FieldError, InputError, NotFoundError
from dispatch.persistence import SolveJob, Store, new_id
from maps import Tiles, desk_page, driver_page

__all__ = ["router"]

Responses = dict[int | str, dict[str, Any]]

_NOT_FOUND: Responses = {404: {"model": ErrorOut, "description": "Unknown id"}}
_CONFLICT: Responses = {409: {"model": ErrorOut, "description": "Another batch got there first"}}
_FORBIDDEN: Responses = {403: {"model": ErrorOut, "description": "A driver link for another route"}}

router = APIRouter(prefix="/v1", responses=_NOT_FOUND | _FORBIDDEN)


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _runner(request: Request) -> JobRunner:
    runner: JobRunner = request.app.state.runner
    return runner


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _job_out(job: SolveJob) -> JobOut:
    return JobOut(
        id=job.id,
        state=job.state,
        problem_id=job.problem_id,
        plan_id=job.plan_id,
        attempt=job.attempt,
        created_at=job.created_at.isoformat(),
        started_at=_iso(job.started_at),
        finished_at=_iso(job.finished_at),
        progress=JobProgressOut(
            elapsed_s=round(job.elapsed_s, 2),
            best_cost=job.best_cost,
            visits_placed=job.visits_placed,
            visits_total=job.visits_total,
        ),
        error=job.error,
    )


def _plan_response(version: int, text: str, status: int = 200, **headers: str) -> Response:
    return Response(
        content=text,
        status_code=status,
        media_type="application/json",
        headers={"ETag": f'"{version}"', **headers},
    )


class _Versions:
    """Plan versions kept ready to send, with their days and drivers' routes already made:
    a version never changes once stored, so what is kept is never stale. Reads of the same
    version (every driver of the day, every desk) then cost one small query for the latest
    version number."""

    def __init__(self, size: int = 64) -> None:
        self._items: OrderedDict[tuple[str, int], _Version] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, store: Store, plan_id: str, version: int | None = None) -> _Version:
        version = version or store.latest_version(plan_id)
        key = (plan_id, version)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        number, text = store.plan_text(plan_id, version)
        found = _Version(number, text, store.load_problem_of_plan(plan_id, version))
        with self._lock:
            self._items[key] = found
            if len(self._items) > self._size:
                self._items.popitem(last=False)
        return found


class _Version:
    """One stored plan version, its day, and the drivers' routes made from them on demand."""

    def __init__(self, version: int, text: str, problem: dict[str, Any]) -> None:
        self.version, self.text, self.problem = version, text, problem
        self.plan: dict[str, Any] = json.loads(text)
        self._routes: dict[str, bytes] = {}
        self._pages: dict[tuple[str | None, Tiles], str] = {}

    def route(self, technician_id: str) -> bytes:
        """The driver's view of ``technician_id``'s route, as JSON."""
        if technician_id not in self._routes:
            route = driver_route(self.plan, self.problem, technician_id)
            self._routes[technician_id] = route.model_dump_json().encode()
        return self._routes[technician_id]

    def page(self, technician_id: str | None, tiles: Tiles) -> str:
        """The desk's map (``technician_id`` ``None``) or a driver's page, as HTML."""
        key = (technician_id, tiles)
        if key not in self._pages:
            plan = PlanOut.model_validate(self.plan)
            # A stored day: read with lenient types, as parse_problem(stored=True) reads it.
            problem = ProblemIn.model_validate(self.problem, strict=False)
            self._pages[key] = (
                desk_page(plan, problem, tiles=tiles)
                if technician_id is None
                else driver_page(plan, problem, technician_id, tiles=tiles)
            )
        return self._pages[key]


_versions = _Versions()

# -- problems ---------------------------------------------------------------------------------

_PROBLEM_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/ProblemIn"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["date"],
                    "properties": {
                        "date": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
                        "timezone": {"type": "string", "default": "UTC"},
                        "policy": {"type": "string", "description": "The policy as JSON."},
                        "technicians": {"type": "string", "format": "binary"},
                        "visits": {"type": "string", "format": "binary"},
                        "workbook": {
                            "type": "string",
                            "format": "binary",
                            "description": "One .xlsx with sheets 'technicians' and 'visits' "
                            "(instead of two files).",
                        },
                    },
                }
            },
        },
    }
}


async def _read_upload(request: Request) -> dict[str, Any]:
    async with request.form() as form:
        date = form.get("date")
        if not isinstance(date, str) or not date:
            raise InputError([FieldError("date", "is required (YYYY-MM-DD)")], what="upload")
        timezone = form.get("timezone")
        policy_text = form.get("policy")
        policy = None
        if isinstance(policy_text, str) and policy_text.strip():
            policy = load_json(policy_text, what="policy")
            if not isinstance(policy, dict):
                raise InputError([FieldError("policy", "must be a JSON object")], what="upload")
        files = {name: form.get(name) for name in ("technicians", "visits", "workbook")}
        uploads = {k: v for k, v in files.items() if isinstance(v, UploadFile)}
        contents = {k: await v.read() for k, v in uploads.items()}
        names = {k: v.filename or k for k, v in uploads.items()}

    def build() -> dict[str, Any]:
        if "workbook" in contents:
            technicians, visits = read_workbook(names["workbook"], contents["workbook"])
        elif {"technicians", "visits"} <= contents.keys():
            technicians = read_table(
                names["technicians"], contents["technicians"], sheet="technicians"
            )
            visits = read_table(names["visits"], contents["visits"], sheet="visits")
        else:
            raise InputError(
                [FieldError("", "send a 'workbook' file, or 'technicians' and 'visits' files")],
                what="upload",
            )
        return problem_from_sheets(
            technicians,
            visits,
            date=date,
            timezone=timezone if isinstance(timezone, str) and timezone else "UTC",
            policy=policy,
        )

    problem: dict[str, Any] = await run_in_threadpool(build)
    return problem


@router.post(
    "/problems",
    status_code=201,
    response_model=ProblemCreated,
    openapi_extra=_PROBLEM_BODY,
    responses={413: {"model": ErrorOut, "description": "Upload too large"}},
    tags=["problems"],
)
async def create_problem(request: Request, key: Dispatcher) -> ProblemCreated:
    """Store a day: the contract's JSON, or a technicians sheet and a visits sheet (CSV or
    Excel) as a form upload. Every problem found is listed (sheet, row and column for sheets);
    nothing is stored unless the whole day is valid."""
    media = request.headers.get("content-type", "application/json").split(";")[0].strip()
    if media == "multipart/form-data":
        raw = await _read_upload(request)
    elif media == "application/json":
        raw = load_json(await request.body())
    else:
        raise InputError(
            [
                FieldError(
                    "content-type", f"send application/json or multipart/form-data, not {media}"
                )
            ],
            what="request",
        )
    problem = await run_in_threadpool(parse_problem, raw)
    problem_id = new_id("pb")
    await run_in_threadpool(_store(request).save_problem, raw, problem_id=problem_id)
    return ProblemCreated(
        problem_id=problem_id,
        date=problem.date.isoformat(),
        technicians=len(problem.technicians),
        visits=len(problem.visits),
    )


@router.get("/problems/{problem_id}", tags=["problems"])
def get_problem(request: Request, key: Dispatcher, problem_id: ProblemId) -> Response:
    """A stored day, as it was sent (or built from its sheets)."""
    text = json.dumps(_store(request).load_problem(problem_id), ensure_ascii=False)
    return Response(content=text, media_type="application/json")


# -- solve jobs -------------------------------------------------------------------------------


@router.post("/plans", status_code=202, response_model=JobOut, tags=["plans"])
def create_plan(request: Request, response: Response, key: Dispatcher, body: PlanRequest) -> JobOut:
    """Start solving a stored problem; poll the job (``Location``) until it is ``done``, then
    read ``plan_id``."""
    store = _store(request)
    visits = len(store.load_problem(body.problem_id).get("visits", []))
    job = store.create_job(
        problem_id=body.problem_id, time_limit_s=body.time_limit_s, visits_total=visits
    )
    _runner(request).submit(job)
    response.headers["Location"] = f"/v1/jobs/{job.id}"
    return _job_out(job)


@router.get("/jobs/{job_id}", response_model=JobOut, tags=["plans"])
def get_job(request: Request, key: Dispatcher, job_id: JobId) -> JobOut:
    """A job's state and progress: elapsed time, best cost so far, visits placed."""
    return _job_out(_store(request).load_job(job_id))


@router.post(
    "/jobs/{job_id}/retry",
    status_code=202,
    response_model=JobOut,
    responses=_CONFLICT,
    tags=["plans"],
)
def retry_job(request: Request, key: Dispatcher, job_id: JobId) -> JobOut:
    """Run a failed job again (409 unless it failed)."""
    job = _store(request).retry_job(job_id)
    _runner(request).submit(job)
    return _job_out(job)


# -- plans ------------------------------------------------------------------------------------


def _plan_text(store: Store, plan_id: str, version: int | None = None) -> tuple[int, str]:
    try:
        return store.plan_text(plan_id, version)
    except NotFoundError:
        job = store.job_of_plan(plan_id) if version is None else None
        if job is not None and job.state != "done":
            raise NotFoundError(
                f"plan {plan_id} is not ready: job {job.id} is {job.state}"
            ) from None
        raise


@router.get("/plans/{plan_id}", responses={200: {"model": PlanOut}}, tags=["plans"])
async def get_plan(request: Request, key: Dispatcher, plan_id: PlanId) -> Response:
    """The plan's latest version (``ETag`` is its version number)."""
    store = _store(request)
    try:
        found = _versions.get(store, plan_id)
    except NotFoundError:
        _plan_text(store, plan_id)  # says why: not found, or its job is not done
        raise
    return _plan_response(found.version, found.text)


@router.get("/plans/{plan_id}/versions", response_model=VersionsOut, tags=["plans"])
def list_versions(request: Request, key: Dispatcher, plan_id: PlanId) -> VersionsOut:
    """Every stored version number of a plan."""
    versions = _store(request).plan_versions(plan_id)
    if not versions:
        raise NotFoundError(f"no plan '{plan_id}'")
    return VersionsOut(plan_id=plan_id, versions=versions)


@router.get(
    "/plans/{plan_id}/versions/{version}", responses={200: {"model": PlanOut}}, tags=["plans"]
)
def get_version(
    request: Request,
    key: Dispatcher,
    plan_id: PlanId,
    version: Annotated[int, Path(ge=1, le=1_000_000)],
) -> Response:
    """One version of a plan, as stored (versions never change)."""
    return _plan_response(*_plan_text(_store(request), plan_id, version))


def _if_match(header: str | None) -> int | None:
    if header is None:
        return None
    text = header.strip().removeprefix("W/").strip('"')
    if not text.isdigit():
        raise InputError(
            [FieldError("If-Match", f'must be a plan version such as "3" (got {header!r})')],
            what="request",
        )
    return int(text)


@router.post(
    "/plans/{plan_id}/events",
    status_code=201,
    responses={201: {"model": PlanOut}, **_CONFLICT},
    tags=["plans"],
)
async def post_events(
    request: Request,
    key: Dispatcher,
    plan_id: PlanId,
    batch: EventBatchIn,
    if_match: Annotated[
        str | None,
        Header(
            pattern=r'^(W/)?"?[0-9]{1,9}"?$',
            description="The version the events apply to (the ETag you read); or `version`.",
        ),
    ] = None,
) -> Response:
    """Apply a batch of events (delays, progress, cancellations, new visits...) and store the
    next version; 409 when the batch was written against an older version than the latest."""
    asked = _if_match(if_match)
    if asked is not None and batch.version is not None and asked != batch.version:
        raise InputError(
            [FieldError("version", f"says {batch.version} but If-Match says {asked}")],
            what="events",
        )
    store = _store(request)
    await run_in_threadpool(store.latest_version, plan_id)  # 404 before any work
    events = batch.model_dump(mode="json", exclude_unset=True)
    future = _runner(request).replan(plan_id, events, asked if asked is not None else batch.version)
    plan = await asyncio.wrap_future(future)
    version = int(plan["version"])
    return _plan_response(
        version,
        json.dumps(plan, ensure_ascii=False),
        201,
        Location=f"/v1/plans/{plan_id}/versions/{version}",
    )


@router.get("/plans/{plan_id}/changes", response_model=ChangesOut, tags=["plans"])
def get_changes(
    request: Request,
    key: Dispatcher,
    plan_id: PlanId,
    since: Annotated[int, Query(ge=0, description="Only versions after this one.")] = 0,
    notify: Annotated[bool, Query(description="Only customers to call: the call list.")] = False,
) -> ChangesOut:
    """What each re-plan changed; with ``notify=true`` the customers to call."""
    store = _store(request)
    versions = store.plan_versions(plan_id)
    if not versions:
        raise NotFoundError(f"no plan '{plan_id}'")
    found = []
    for version in (v for v in versions if v > since and v > 1):
        plan = PlanOut.model_validate(store.load_plan(plan_id, version))
        changes = [c for c in plan.changes if c.notify or not notify]
        found.append(VersionChangesOut(version=version, at=plan.at, changes=changes))
    return ChangesOut(plan_id=plan_id, latest_version=versions[-1], versions=found)


# -- drivers ----------------------------------------------------------------------------------


@router.get(
    "/plans/{plan_id}/routes/{technician_id}",
    responses={200: {"model": DriverRouteOut}},
    tags=["drivers"],
)
async def get_route(
    request: Request, reader: RouteReader, plan_id: PlanId, technician_id: TechnicianId
) -> Response:
    """A technician's route in the latest version: stops in order, ETAs, promised windows,
    customers' phones. Opens with a dispatcher's key or the driver's own link."""
    found = _versions.get(_store(request), plan_id)
    return Response(found.route(technician_id), media_type="application/json")


@router.post(
    "/plans/{plan_id}/routes/{technician_id}/link",
    response_model=LinkOut,
    responses={409: {"model": ErrorOut, "description": "The plan's day is over"}},
    tags=["drivers"],
)
def create_link(
    request: Request, key: Dispatcher, plan_id: PlanId, technician_id: TechnicianId
) -> LinkOut:
    """A link for the driver's phone that opens this route (and nothing else) until the end of
    the plan's day; 409 once that day is over (the link would never open)."""
    found = _versions.get(_store(request), plan_id)
    found.route(technician_id)  # 404 for a technician not in the day
    expires = end_of_day(found.plan["date"], found.plan["timezone"])
    if expires <= request.app.state.clock():
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"the day of plan {plan_id} ({found.plan['date']}) ended at "
            f"{expires.isoformat()}: a link to it would never open",
        )
    token = sign_route_link(request.app.state.link_secret, plan_id, technician_id, expires)
    base = request.app.state.settings.public_url or str(request.base_url)
    route = f"{base.rstrip('/')}/v1/plans/{plan_id}/routes/{technician_id}"
    return LinkOut(
        url=f"{route}?token={token}",
        map_url=f"{route}/map?token={token}",
        token=token,
        expires_at=expires.isoformat(),
    )


def _tiles(request: Request) -> Tiles:
    settings = request.app.state.settings
    return Tiles.from_setting(settings.map_tiles, settings.map_attribution)


# Pages: the 200 is HTML, errors stay JSON (ErrorOut) like everywhere else.
_HTML: Responses = {
    200: {
        "content": {"text/html": {"schema": {"type": "string"}}},
        "description": "A page with its map",
    }
}


@router.get("/plans/{plan_id}/map", responses=_HTML, tags=["maps"])
def get_plan_map(
    request: Request,
    key: Dispatcher,
    plan_id: PlanId,
    version: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
) -> HTMLResponse:
    """The desk's map of the plan (its latest version, or ``version``): one colour and layer
    per technician, numbered stops, routes, service radii, the unassigned and why, a legend.
    The page carries Leaflet itself and works without internet (tiles aside)."""
    found = _versions.get(_store(request), plan_id, version)
    return HTMLResponse(found.page(None, _tiles(request)))


@router.get(
    "/plans/{plan_id}/routes/{technician_id}/map",
    responses=_HTML,
    tags=["drivers", "maps"],
)
def get_route_map(
    request: Request, reader: RouteReader, plan_id: PlanId, technician_id: TechnicianId
) -> HTMLResponse:
    """The driver's page of a route (latest version): the map with big numbered stops and the
    list beside it (arrival, the window to tell the customer, address, phone to tap). Opens
    with a dispatcher's key or the driver's own link."""
    found = _versions.get(_store(request), plan_id)
    return HTMLResponse(found.page(technician_id, _tiles(request)))
