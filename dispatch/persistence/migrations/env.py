"""Alembic's environment: migrate the connection ``dispatch.persistence.migrate`` hands over,
or the database of ``sqlalchemy.url`` when run as ``alembic upgrade head``."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection, create_engine

from dispatch.persistence.tables import Base


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate the given connection, or open one on the configured URL."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    # The variables the service reads win over alembic.ini's default (./fieldroute.db): a
    # hand-run "DATABASE_URL=postgresql... alembic downgrade" migrated the local file instead.
    url = (
        os.environ.get("FIELDROUTE_DATABASE_URL")
        or os.environ.get("DATABASE_URL")
        or context.config.get_main_option("sqlalchemy.url")
    )
    if not url:
        raise SystemExit("set FIELDROUTE_DATABASE_URL or DATABASE_URL (or sqlalchemy.url)")
    with create_engine(url).connect() as opened:
        _run(opened)


run_migrations_online()
