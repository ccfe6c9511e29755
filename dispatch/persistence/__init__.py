"""Persistence: SQL storage of problems and immutable plan versions."""

from dispatch.persistence.store import PlanRow, ProblemRow, Store, StoreConflictError, new_id

__all__ = ["PlanRow", "ProblemRow", "Store", "StoreConflictError", "new_id"]
