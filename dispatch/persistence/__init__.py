"""Persistence: SQL storage of problems, immutable plan versions, weeks, events, jobs and API
keys."""

from dispatch.persistence.store import (
    ApiKey,
    ClaimOutcome,
    JobClaim,
    JobOutput,
    JobState,
    PlanRow,
    PlanSummary,
    PlanWeek,
    ProblemRow,
    ProblemSummary,
    SolveJob,
    Store,
    StoreConflictError,
    StoredDay,
    WeekMovedError,
    WeekSummary,
    new_id,
)

__all__ = [
    "ApiKey",
    "ClaimOutcome",
    "JobClaim",
    "JobOutput",
    "JobState",
    "PlanRow",
    "PlanSummary",
    "PlanWeek",
    "ProblemRow",
    "ProblemSummary",
    "SolveJob",
    "Store",
    "StoreConflictError",
    "StoredDay",
    "WeekMovedError",
    "WeekSummary",
    "new_id",
]
