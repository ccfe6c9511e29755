"""``/v1/weeks``: the weeks the desk planned (a horizon solved by ``POST /v1/plans``), each
pointing at the ordinary day plan of each of its dates, and rolling a week forward into the
next horizon. Handlers parse, call ``dispatch`` and shape the answer; nothing else."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response
from fastapi.concurrency import run_in_threadpool

from api.deps import Dispatcher, StoreDep
from api.models import Responses, RollOut, RollRequest, WeekItem
from api.params import DigitsOnly
from dispatch.contract.horizon import parse_horizon
from dispatch.contract.schema import STORED_ID_PATTERN
from dispatch.desk.roll import roll_week
from dispatch.errors import FieldError, InputError, NotFoundError
from dispatch.persistence import Store, new_id

__all__ = ["WeekId", "existing_week", "router"]

router = APIRouter(prefix="/weeks", tags=["weeks"])

WeekId = Annotated[
    str,
    Path(min_length=1, max_length=32, pattern=STORED_ID_PATTERN, examples=["wk_3f9a0c1b2d4e"]),
]

#: The week document is the contract's (``docs/contract.md``, Week plan), sent as stored.
_WEEK_DOCUMENT: Responses = {
    200: {
        "content": {"application/json": {"schema": {"type": "object"}}},
        "description": "The week document",
    }
}


def _week(store: Store, week_id: str) -> dict[str, Any]:
    """The stored week, or why there is none: unknown, a stored plan's id, or its job not
    done."""
    try:
        return store.load_week(week_id)
    except NotFoundError:
        if week_id.startswith("pl_") and store.plan_versions(week_id):
            raise NotFoundError(
                f"{week_id} is a plan, not a week: read it at /v1/plans/{week_id}"
            ) from None
        job = store.job_of_plan(week_id)
        if job is None:
            raise
        if job.state == "done":
            # The job finished between the two reads: its week is stored now.
            return store.load_week(week_id)
        raise NotFoundError(f"week {week_id} is not ready: job {job.id} is {job.state}") from None


async def existing_week(store: StoreDep, week_id: WeekId) -> str:
    """``week_id``, once it is known to be stored: a dependency, so that an unknown week is
    answered 404 before its body is read."""
    await run_in_threadpool(_week, store, week_id)
    return week_id


@router.get("", response_model=list[WeekItem])
def list_weeks(
    key: Dispatcher, store: StoreDep, limit: Annotated[int, Query(ge=1, le=200), DigitsOnly] = 50
) -> list[WeekItem]:
    """The weeks the desk planned, the most recently stored first, each with its day plans."""
    return [WeekItem.of(found) for found in store.recent_weeks(limit)]


@router.get("/{week_id}", responses=_WEEK_DOCUMENT)
def get_week(key: Dispatcher, store: StoreDep, week_id: WeekId) -> Response:
    """A week: per date its day plan (``/v1/plans/{plan_id}``) and technicians' stops, hours
    and utilisation; what was left out with its promise; every round's due dates."""
    text = json.dumps(_week(store, week_id), ensure_ascii=False)
    return Response(content=text, media_type="application/json")


@router.post("/{week_id}/roll", status_code=201, response_model=RollOut)
def roll(
    response: Response,
    key: Dispatcher,
    store: StoreDep,
    week_id: Annotated[str, Depends(existing_week)],
    body: RollRequest,
) -> RollOut:
    """The next horizon from ``from``: what the week's day plans did not report done comes
    back, each round's ``last_served`` moves on. Stored as a new problem (``Location``); solve
    it with ``POST /v1/plans``."""
    try:
        start = date.fromisoformat(body.start)
    except ValueError:
        raise InputError(
            [FieldError("from", f"{body.start!r} is not a date YYYY-MM-DD")], what="request"
        ) from None
    rolled = roll_week(store, week_id, start=start, days=body.days, assume_done=body.assume_done)
    parse_horizon(rolled)  # nothing invalid is stored
    problem_id = new_id("pb")
    store.save_problem(rolled, problem_id=problem_id)
    response.headers["Location"] = f"/v1/problems/{problem_id}"
    return RollOut(problem_id=problem_id, week_id=week_id, problem=rolled)
