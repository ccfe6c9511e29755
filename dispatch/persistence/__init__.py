"""Persistence: SQL storage of problems, immutable plan versions, events, jobs and API keys."""

from dispatch.persistence.store import (
    ApiKey,
    JobState,
    PlanRow,
    PlanSummary,
    ProblemRow,
    ProblemSummary,
    SolveJob,
    Store,
    StoreConflictError,
    new_id,
)

__all__ = [
    "ApiKey",
    "JobState",
    "PlanRow",
    "PlanSummary",
    "ProblemRow",
    "ProblemSummary",
    "SolveJob",
    "Store",
    "StoreConflictError",
    "new_id",
]
