"""Plans keep their full-precision record beside the document, for re-planning.

The document rounds minutes and kilometres for people; a re-plan continues the plan from the
record. Versions stored before this revision have none, and re-planning reads their document.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("plans") as plans:
        plans.add_column(sa.Column("record", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("plans") as plans:
        plans.drop_column("record")
