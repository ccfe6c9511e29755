"""``/v1/problems``: store a day (the contract's JSON, or sheets as a form upload) or a horizon
of several days (JSON only) and read it back. Handlers parse, call ``dispatch`` and shape the
answer; nothing else."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from api.deps import Dispatcher, RunnerDep, StoreDep
from api.models import ErrorOut, ProblemCreated, ProblemItem
from api.params import DigitsOnly, ProblemId
from api.uploads import UPLOAD_FORM, read_upload
from dispatch.contract.horizon import is_horizon, parse_horizon
from dispatch.contract.validate import load_json, parse_problem
from dispatch.errors import FieldError, InputError
from dispatch.persistence import new_id
from dispatch.travel import NO_ROADS, RoadsNotGivenError, needs_roads

__all__ = ["router"]

router = APIRouter(prefix="/problems", tags=["problems"])

# The body is read by hand (JSON or a form), so the schema says what it may be.
_PROBLEM_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        {"$ref": "#/components/schemas/ProblemIn"},
                        {"$ref": "#/components/schemas/HorizonProblemIn"},
                    ]
                }
            },
            "multipart/form-data": {"schema": UPLOAD_FORM},
        },
    }
}


@router.get("", response_model=list[ProblemItem])
def list_problems(
    key: Dispatcher, store: StoreDep, limit: Annotated[int, Query(ge=1, le=200), DigitsOnly] = 50
) -> list[ProblemItem]:
    """The days the desk stored, newest first (not the days of re-planned versions)."""
    return [ProblemItem.of(found) for found in store.recent_problems(limit)]


@router.post(
    "",
    status_code=201,
    response_model=ProblemCreated,
    openapi_extra=_PROBLEM_BODY,
    responses={413: {"model": ErrorOut, "description": "Upload too large"}},
)
async def create_problem(
    request: Request, key: Dispatcher, store: StoreDep, runner: RunnerDep
) -> ProblemCreated:
    """Store a day: the contract's JSON, or a technicians sheet and a visits sheet (CSV or
    Excel) as a form upload; or a horizon of several days (the contract's JSON with a
    ``horizon``, solved into a week). Every problem found is listed (sheet, row and column for
    sheets); nothing is stored unless the whole day or horizon is valid."""
    # Media types are case-insensitive (RFC 9110): "Application/JSON" is JSON.
    content_type = request.headers.get("content-type", "application/json")
    media = content_type.split(";")[0].strip().lower()
    days = 1
    if media == "multipart/form-data":
        day = await read_upload(request)  # validated as it was read
        raw, problem = day.raw, day.problem
    elif media == "application/json":
        raw = load_json(await request.body())
        if not isinstance(raw, dict):  # a string holding the day (encoded twice) was a 500
            kind = (
                "a string (was the day encoded twice?)"
                if isinstance(raw, str)
                else "an array"
                if isinstance(raw, list)
                else "a single value"
            )
            message = f"the problem must be a JSON object, not {kind}"
            raise InputError([FieldError("", message)], what="problem")
        if is_horizon(raw):
            horizon = await run_in_threadpool(parse_horizon, raw)
            problem, days = horizon.as_problem(), len(horizon.dates)
        else:
            problem = await run_in_threadpool(parse_problem, raw)
    else:
        raise InputError(
            [
                FieldError(
                    "content-type", f"send application/json or multipart/form-data, not {media}"
                )
            ],
            what="request",
        )
    if needs_roads(problem) and runner.roads is None:
        # Refused now, not as a failed job later: this service could never plan the day.
        raise RoadsNotGivenError(NO_ROADS)
    problem_id = new_id("pb")
    await run_in_threadpool(store.save_problem, raw, problem_id=problem_id)
    return ProblemCreated(
        problem_id=problem_id,
        date=problem.date.isoformat(),
        technicians=len({technician.id for technician in problem.technicians}),
        visits=len(problem.visits),
        days=days,
    )


@router.get("/{problem_id}")
def get_problem(key: Dispatcher, store: StoreDep, problem_id: ProblemId) -> Response:
    """A stored day or horizon, as it was sent (or built from its sheets)."""
    text = json.dumps(store.load_problem(problem_id), ensure_ascii=False)
    return Response(content=text, media_type="application/json")
