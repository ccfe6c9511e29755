"""Settings read once at an entry point (the CLI, the API) and passed down."""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["DEFAULT_DATABASE_URL", "Settings"]

#: The embedded default: a SQLite file in the working directory, no server to run.
DEFAULT_DATABASE_URL = "sqlite:///fieldroute.db"


class Settings(BaseSettings):
    """Where plans are stored; ``DATABASE_URL`` (or ``FIELDROUTE_DATABASE_URL``) overrides."""

    model_config = SettingsConfigDict(env_prefix="FIELDROUTE_", extra="ignore")

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        validation_alias=AliasChoices("FIELDROUTE_DATABASE_URL", "DATABASE_URL"),
    )
