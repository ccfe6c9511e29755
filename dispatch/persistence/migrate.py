"""Bring a database to the newest schema with Alembic (``migrations/``), programmatically.

A database made before migrations existed (tables created directly, no ``alembic_version``)
is stamped at the first revision, whose tables it has, and upgraded from there.

Every process that opens the store migrates it (the service, each worker), so any number may
start at once on one fresh database: each migrates under the database's own lock (an advisory
lock on PostgreSQL, a write transaction on SQLite), one after another, and those after the first
find the schema at ``HEAD`` and change nothing.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.util.exc import CommandError
from sqlalchemy import Connection, inspect, text
from sqlalchemy.engine import Engine

from dispatch.errors import StoredDataError

__all__ = ["HEAD", "MIGRATION_LOCK", "alembic_config", "upgrade"]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: The newest revision; the schema ``tables.py`` describes.
HEAD = "0009"
#: The key of the PostgreSQL advisory lock a migration holds: "field" in ASCII.
MIGRATION_LOCK = 0x6669656C64


def alembic_config(url: str) -> Config:
    """Alembic's settings for this package's migrations on the database at ``url``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine) -> None:
    """Migrate ``engine``'s database to ``HEAD``; a no-op when it is there already.

    Safe to call from many processes at once: the whole migration is one transaction holding the
    database's migration lock (see ``_lock``).

    Raises
    ------
    StoredDataError
        The database is at a revision this release does not know (a newer one migrated it).
    """
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        _lock(connection)
        config.attributes["connection"] = connection
        tables = set(inspect(connection).get_table_names())
        if "problems" in tables and "alembic_version" not in tables:
            command.stamp(config, "0001")
        try:
            command.upgrade(config, "head")
        except CommandError as error:  # a revision a newer release migrated to
            raise StoredDataError(
                f"the database's schema is at a revision this fieldroute does not know "
                f"(its newest is {HEAD}): a newer release migrated it; run that release, or "
                f"restore the backup taken before the upgrade ({error})"
            ) from None


def _lock(connection: Connection) -> None:
    """Take the migration lock, held until ``connection``'s transaction ends; wait while another
    process holds it. Its revision is read only after, so a process that waited sees the schema
    the other one committed.

    PostgreSQL: a transaction-level advisory lock (its DDL is transactional, so the migration is
    one transaction). SQLite: ``BEGIN IMMEDIATE``, the database's write lock, taken before the
    first read (Python's driver would begin only at the first INSERT, and not before DDL); a
    waiter waits out the engine's 30 s busy timeout at most.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    elif connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")
