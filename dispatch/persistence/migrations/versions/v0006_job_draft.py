"""Solve jobs keep when their first plan was found and the newest draft plan.

A running day job writes each draft plan of its search (the contract's plan document, JSON) to
``draft``, replacing the one before, and the first draft's time into the search to
``first_plan_s``; the draft is cleared when the job ends, its plan (or week) being stored by
then. Jobs before this revision have neither.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("solve_jobs") as jobs:
        jobs.add_column(sa.Column("first_plan_s", sa.Float(), nullable=True))
        jobs.add_column(sa.Column("draft", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("solve_jobs") as jobs:
        jobs.drop_column("draft")
        jobs.drop_column("first_plan_s")
