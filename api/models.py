"""The HTTP service's own wire models (jobs, links, errors) and the error answers the routes
document; the contract's models live in ``dispatch.contract.schema``."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from dispatch.booking.schema import SlotsOut
from dispatch.contract.schema import (
    DATE_PATTERN,
    STORED_ID_PATTERN,
    ChangeOut,
    Integer,
    Number,
    Text,
)
from dispatch.persistence import PlanSummary, ProblemSummary, SolveJob, WeekSummary

__all__ = [
    "CONFLICT",
    "FORBIDDEN",
    "HTML_PAGE",
    "NOT_FOUND",
    "SLOT_GONE",
    "ChangesOut",
    "ErrorOut",
    "FieldErrorOut",
    "HealthOut",
    "JobOut",
    "JobProgressOut",
    "LinkOut",
    "PlanRequest",
    "ProblemCreated",
    "Responses",
    "RollOut",
    "RollRequest",
    "SlotGoneOut",
    "VersionChangesOut",
    "VersionsOut",
    "WeekItem",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FieldErrorOut(_Model):
    """One problem in the request: where, which entity, what."""

    path: str = Field(examples=["visits[12].window.end"])
    message: str
    id: str | None = Field(default=None, description="The visit or technician concerned.")


class ErrorOut(_Model):
    """Every error answer: a sentence, and for bad input each problem found."""

    detail: str
    errors: list[FieldErrorOut] = Field(default_factory=list)


class ProblemCreated(_Model):
    """A stored, valid day or horizon (several days: ``date`` is its first)."""

    problem_id: str = Field(examples=["pb_3f9a0c1b2d4e"])
    date: str
    technicians: int
    visits: int
    days: int = Field(default=1, description="The dates it plans: 1 for a day.")


class ProblemItem(_Model):
    """A stored day or horizon, as ``GET /v1/problems`` lists it (a horizon: ``date`` its
    first, ``days`` how many)."""

    problem_id: str
    date: str
    created_at: str
    technicians: int
    visits: int
    days: int = Field(default=1, description="The dates it plans: 1 for a day.")

    @classmethod
    def of(cls, found: ProblemSummary) -> ProblemItem:
        return cls(
            problem_id=found.problem_id,
            date=found.date,
            created_at=found.created_at.isoformat(),
            technicians=found.technicians,
            visits=found.visits,
            days=found.days,
        )


class PlanItem(_Model):
    """A plan by its latest version, as ``GET /v1/plans`` lists it; ``problem_id`` is the day
    it was planned for (version 1's)."""

    plan_id: str
    version: int
    date: str
    status: str
    created_at: str
    problem_id: str

    @classmethod
    def of(cls, found: PlanSummary) -> PlanItem:
        return cls(
            plan_id=found.plan_id,
            version=found.version,
            date=found.date,
            status=found.status,
            created_at=found.created_at.isoformat(),
            problem_id=found.problem_id,
        )


class PlanRequest(_Model):
    """Start solving a stored problem."""

    problem_id: str = Field(
        min_length=1, max_length=32, pattern=STORED_ID_PATTERN, examples=["pb_3f9a0c1b2d4e"]
    )
    time_limit_s: Number | None = Field(
        default=None, gt=0, le=3600, description="Search budget; default: the problem's policy."
    )


class JobProgressOut(_Model):
    """How far a solve has come."""

    elapsed_s: float
    best_cost: int | None
    visits_placed: int | None
    visits_total: int
    first_plan_s: float | None = Field(
        default=None,
        description="Seconds from the job's start to its first valid plan (its first draft, "
        "readable at /v1/jobs/{job_id}/draft while the job runs; for a day fanned out to one "
        "task per region, when every region first has a draft or is done, the draft of the "
        "day joining them; for a week, whose search makes no drafts, its first plan of every "
        "day); null until then.",
    )
    regions_total: int | None = Field(
        default=None,
        description="On Celery, a day of several independent regions runs as one task per "
        "region: how many; null for a job solved whole.",
    )
    regions_done: int = Field(default=0, description="Of those regions, how many are planned.")


class JobOut(_Model):
    """A solve job; when ``done``, ``plan_id`` holds version 1 of the plan, or for a horizon
    the week (``wk_…``, read at ``/v1/weeks/{plan_id}``)."""

    id: str = Field(examples=["jb_5e1d2c3b4a59"])
    state: Literal["queued", "running", "done", "failed"]
    problem_id: str
    plan_id: str
    attempt: int
    created_at: str
    started_at: str | None
    finished_at: str | None
    progress: JobProgressOut
    error: str | None = None

    @classmethod
    def of(cls, job: SolveJob) -> JobOut:
        """The answer describing ``job``."""
        return cls(
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
                first_plan_s=None if job.first_plan_s is None else round(job.first_plan_s, 2),
                regions_total=job.regions_total,
                regions_done=job.regions_done,
            ),
            error=job.error,
        )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


class VersionsOut(_Model):
    """The stored versions of a plan, oldest first."""

    plan_id: str
    versions: list[int]


class VersionChangesOut(_Model):
    """What one re-planned version changed against the version before it."""

    version: int
    at: str | None
    changes: list[ChangeOut]


class ChangesOut(_Model):
    """A plan's changes version by version; with ``notify=true``, the call list."""

    plan_id: str
    latest_version: int
    versions: list[VersionChangesOut]


class EventBatchOut(_Model):
    """One stored batch of events, as it was sent (a booking's and a move's as the service
    wrote them), with the version it made."""

    version: int = Field(description="The version the batch made.")
    at: str
    events: list[dict[str, Any]]
    moved_from: dict[str, Any] | None = Field(
        default=None,
        description="A visit booked here from another date of its week: that date, its plan "
        "and the version that let it go.",
    )
    report_id: str | None = Field(
        default=None, description="The sender's own id of the batch, when it had one."
    )
    move_across_dates: bool | None = Field(
        default=None, description="As the batch said it, when it did (a day of a week)."
    )


class EventHistoryOut(_Model):
    """Every batch of events a plan was re-planned with, oldest first: why each version is
    what it is."""

    plan_id: str
    batches: list[EventBatchOut]


class WeekItem(_Model):
    """A stored week, as ``GET /v1/weeks`` lists it: its horizon problem, first date, number
    of dates and day plans."""

    week_id: str
    problem_id: str
    created_at: str
    start: str
    days: int
    plans: list[str]

    @classmethod
    def of(cls, found: WeekSummary) -> WeekItem:
        return cls(
            week_id=found.week_id,
            problem_id=found.problem_id,
            created_at=found.created_at.isoformat(),
            start=found.start,
            days=found.days,
            plans=list(found.plans),
        )


class RollRequest(_Model):
    """Roll a stored week forward: the next horizon from ``from``."""

    start: Text = Field(
        alias="from",
        pattern=DATE_PATTERN,
        examples=["2026-12-14"],
        description="The next horizon's first date (YYYY-MM-DD).",
    )
    days: Integer | None = Field(
        default=None, ge=1, le=28, description="Its dates; default: as many as the week's."
    )
    assume_done: bool = Field(
        default=False,
        strict=True,
        description="Count an unreported stop on a day before ``from`` as done.",
    )


class RollOut(_Model):
    """The next horizon, stored as a new problem (solve it with ``POST /v1/plans``)."""

    problem_id: str = Field(examples=["pb_3f9a0c1b2d4e"])
    week_id: str = Field(description="The week it was rolled from.")
    problem: dict[str, Any] = Field(description="The horizon problem, as stored.")


class LinkOut(_Model):
    """A driver's link to their own route; it expires at the end of the plan's day."""

    url: str = Field(description="The route as JSON (for the driver's app).")
    map_url: str = Field(description="The route as a page with its map, for a phone's browser.")
    token: str
    expires_at: str


class HealthOut(_Model):
    """Whether the service, its database, its road server and its job queue answer."""

    status: Literal["ok", "degraded"]
    database: Literal["ok", "unreachable"]
    roads: Literal["ok", "unreachable"] | None = Field(
        default=None,
        description="Whether the OSRM server the service's solves ask (`--roads`) answers; "
        "null when the service has none (travel is geodesic or sent with each problem).",
    )
    queue: Literal["ok", "unreachable"] | None = Field(
        default=None,
        description="Whether the broker solve jobs are published to answers "
        "(`FIELDROUTE_JOBS=celery`); null when jobs run in the service's own processes.",
    )
    worker_losses: int = Field(
        description="Worker processes that died (killed, out of memory) since the service "
        "started; each failed the job it was running and was replaced."
    )
    last_worker_loss: datetime | None = Field(description="When a worker last died.")


Responses = dict[int | str, dict[str, Any]]
"""Documented answers of an operation, by status (``responses=`` of a route or a router)."""

NOT_FOUND: Responses = {404: {"model": ErrorOut, "description": "Unknown id"}}
FORBIDDEN: Responses = {403: {"model": ErrorOut, "description": "A driver link for another route"}}
CONFLICT: Responses = {409: {"model": ErrorOut, "description": "Another batch got there first"}}


class SlotGoneOut(ErrorOut):
    """A booking refused because its slot no longer fits the plan: the slots that do now."""

    slots: SlotsOut


#: ``POST /v1/plans/{plan_id}/book``: the slot is gone (with fresh slots) or the version taken.
SLOT_GONE: Responses = {
    409: {"model": SlotGoneOut, "description": "The slot is gone: here are the fresh slots"}
}
#: A page: the 200 is HTML, errors stay JSON (``ErrorOut``) like everywhere else.
HTML_PAGE: Responses = {
    200: {
        "content": {"text/html": {"schema": {"type": "string"}}},
        "description": "A page with its map",
    }
}
