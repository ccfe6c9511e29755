"""Weeks count the saves of their day plans.

A week's ``revision`` grows by one with every re-planned or booked version of one of its day
plans, in that version's transaction. A use case that reads the week's other dates (a booking
checking a visit id is not on another date's route, a re-plan setting aside a visit booked on
another date) saves against the revision it read and is refused when another date was saved
meanwhile, so two writers on two dates of one week can no longer put one visit on both. Weeks
before this revision start at 0.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("weeks") as weeks:
        weeks.add_column(sa.Column("revision", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("weeks") as weeks:
        weeks.drop_column("revision")
