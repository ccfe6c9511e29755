"""Bring a database to the newest schema with Alembic (``migrations/``), programmatically.

A database made before migrations existed (tables created directly, no ``alembic_version``)
is stamped at the first revision, whose tables it has, and upgraded from there.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect
from sqlalchemy.engine import Engine

__all__ = ["HEAD", "alembic_config", "upgrade"]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: The newest revision; the schema ``tables.py`` describes.
HEAD = "0007"


def alembic_config(url: str) -> Config:
    """Alembic's settings for this package's migrations on the database at ``url``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine) -> None:
    """Migrate ``engine``'s database to ``HEAD``; a no-op when it is there already."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        tables = set(inspect(connection).get_table_names())
        if "problems" in tables and "alembic_version" not in tables:
            command.stamp(config, "0001")
        command.upgrade(config, "head")
