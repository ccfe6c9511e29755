"""Solve jobs fan out one job per region of a day.

With ``jobs='celery'``, a day of several regions is solved as one job per region, each on a
worker of its own, then joined: a region's job names its job (``parent_id``), the attempt of it
it was made for (``parent_attempt``) and its region (``region``) and keeps its region's plan
(``region_plan``) until the last region joins them; the job of the day counts its regions
(``regions_total``, ``regions_done``). Jobs before this revision have none of these.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("solve_jobs") as jobs:
        jobs.add_column(sa.Column("parent_id", sa.String(length=32), nullable=True))
        jobs.add_column(sa.Column("parent_attempt", sa.Integer(), nullable=True))
        jobs.add_column(sa.Column("region", sa.Integer(), nullable=True))
        jobs.add_column(sa.Column("regions_total", sa.Integer(), nullable=True))
        jobs.add_column(sa.Column("regions_done", sa.Integer(), nullable=False, server_default="0"))
        jobs.add_column(sa.Column("region_plan", sa.Text(), nullable=True))
        jobs.create_foreign_key(
            "fk_solve_jobs_parent_id_solve_jobs", "solve_jobs", ["parent_id"], ["id"]
        )
        jobs.create_index("ix_solve_jobs_parent_id", ["parent_id"])


def downgrade() -> None:
    with op.batch_alter_table("solve_jobs") as jobs:
        jobs.drop_index("ix_solve_jobs_parent_id")
        jobs.drop_constraint("fk_solve_jobs_parent_id_solve_jobs", type_="foreignkey")
        for column in (
            "region_plan",
            "regions_done",
            "regions_total",
            "region",
            "parent_attempt",
            "parent_id",
        ):
            jobs.drop_column(column)
