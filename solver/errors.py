"""The solver's own errors; ``dispatch`` translates them at its boundary."""

from __future__ import annotations

__all__ = ["InstanceError", "NoSolutionInTimeError", "SolverError"]


class SolverError(Exception):
    """The routing model could not be built or solved."""


class InstanceError(SolverError):
    """An ``Instance`` whose arrays do not fit together (shapes, ranges, indices)."""


class NoSolutionInTimeError(SolverError):
    """The search's time ran out before it found any solution (OR-Tools' status
    ``ROUTING_FAIL_TIMEOUT``): no bug, a budget too short for the instance; more time finds
    one. ``time_limit_s`` is the budget the search was given."""

    def __init__(self, time_limit_s: float) -> None:
        super().__init__(f"no solution found within the time limit of {time_limit_s:g} s")
        self.time_limit_s = time_limit_s
