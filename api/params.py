"""Path parameters shared by the routes and the credential checks, so the schema gives each
one limit: the ids of problems, jobs, plans and technicians in a URL."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

__all__ = ["JobId", "PlanId", "ProblemId", "TechnicianId"]

ProblemId = Annotated[str, Path(min_length=1, max_length=32, examples=["pb_3f9a0c1b2d4e"])]
JobId = Annotated[str, Path(min_length=1, max_length=32, examples=["jb_5e1d2c3b4a59"])]
PlanId = Annotated[str, Path(min_length=1, max_length=32, examples=["pl_3f9a0c1b2d4e"])]
TechnicianId = Annotated[str, Path(min_length=1, max_length=64, examples=["T01"])]
