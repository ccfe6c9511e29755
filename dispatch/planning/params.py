"""The solver's parameters for a day from the desk's policy: its time limit, how soon the
search stops once it has stalled (``Policy.stall_share``) and, when asked, a seed."""

from __future__ import annotations

from dataclasses import replace

from dispatch.model import Policy
from solver import SolveParams

__all__ = ["policy_params"]


def policy_params(
    policy: Policy, time_limit_s: float | None = None, seed: int | None = None
) -> SolveParams:
    """The search ``policy`` asks for: ``time_limit_s`` (default the policy's own
    ``time_limit_s``) and its ``stall_share``; with a ``seed``, reproducible (the search counts
    work, and the time limit is only a cap)."""
    limit = policy.time_limit_s if time_limit_s is None else time_limit_s
    params = SolveParams(time_limit_s=limit, stall_share=policy.stall_share)
    if seed is None:
        return params
    return replace(params, seed=seed, reproducible=True)
