"""Problems keep the sizes a list shows of them.

``GET /v1/problems`` showed each day's technicians, visits and dates by reading its whole
payload: 4.5 s for a list of 50 days of 5,000 visits. Each problem now has ``technicians``,
``visits`` and ``days`` columns, counted as it is stored (``tables.problem_sizes``); this
revision counts them once for the problems stored before it (one read of each payload).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

from dispatch.persistence.tables import problem_sizes

revision = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None

_PROBLEMS = sa.table(
    "problems",
    sa.column("id", sa.String),
    sa.column("payload", sa.Text),
    sa.column("technicians", sa.Integer),
    sa.column("visits", sa.Integer),
    sa.column("days", sa.Integer),
)


def upgrade() -> None:
    with op.batch_alter_table("problems") as problems:
        problems.add_column(
            sa.Column("technicians", sa.Integer(), nullable=False, server_default="0")
        )
        problems.add_column(sa.Column("visits", sa.Integer(), nullable=False, server_default="0"))
        problems.add_column(sa.Column("days", sa.Integer(), nullable=False, server_default="1"))
    connection = op.get_bind()
    ids = connection.execute(sa.select(_PROBLEMS.c.id)).scalars().all()
    for problem_id in ids:  # one payload in memory at a time
        payload = connection.execute(
            sa.select(_PROBLEMS.c.payload).where(_PROBLEMS.c.id == problem_id)
        ).scalar_one()
        technicians, visits, days = problem_sizes(json.loads(payload))
        connection.execute(
            _PROBLEMS.update()
            .where(_PROBLEMS.c.id == problem_id)
            .values(technicians=technicians, visits=visits, days=days)
        )


def downgrade() -> None:
    # Not in a batch: SQLite's batch copies the table, whose drop the plans' foreign keys
    # refuse; SQLite 3.35 and PostgreSQL drop a column in place.
    for column in ("days", "visits", "technicians"):
        op.drop_column("problems", column)
