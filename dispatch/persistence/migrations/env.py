"""Alembic's environment: migrate the connection ``dispatch.persistence.migrate`` hands over,
or the database of ``sqlalchemy.url`` when run as ``alembic upgrade head``."""

from __future__ import annotations

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
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("set sqlalchemy.url (alembic -x) or DATABASE_URL")
    with create_engine(url).connect() as opened:
        _run(opened)


run_migrations_online()
