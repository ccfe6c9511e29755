"""The solver's own errors; ``dispatch`` translates them at its boundary."""

from __future__ import annotations

__all__ = ["InstanceError", "SolverError"]


class SolverError(Exception):
    """The routing model could not be built or solved."""


class InstanceError(SolverError):
    """An ``Instance`` whose arrays do not fit together (shapes, ranges, indices)."""
