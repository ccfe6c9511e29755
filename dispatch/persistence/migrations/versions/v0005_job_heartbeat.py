"""Solve jobs keep their worker's heartbeat and how many workers started them.

Workers on other machines (``FIELDROUTE_JOBS=celery``) write ``heartbeat_at`` with every
progress report; a redelivered task takes over a running job only when its heartbeat is stale,
and ``starts`` bounds how many times a job whose workers keep dying is started.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("solve_jobs") as jobs:
        jobs.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
        jobs.add_column(sa.Column("starts", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("solve_jobs") as jobs:
        jobs.drop_column("starts")
        jobs.drop_column("heartbeat_at")
