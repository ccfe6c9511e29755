"""The solver's parameters for a day from the desk's policy: its time limit and how soon the
search stops once it has stalled (``Policy.stall_share``)."""

from __future__ import annotations

from dispatch.model import Policy
from solver import SolveParams

__all__ = ["policy_params"]


def policy_params(policy: Policy, time_limit_s: float | None = None) -> SolveParams:
    """The search ``policy`` asks for: ``time_limit_s`` (default the policy's own
    ``time_limit_s``) and its ``stall_share``."""
    limit = policy.time_limit_s if time_limit_s is None else time_limit_s
    return SolveParams(time_limit_s=limit, stall_share=policy.stall_share)
