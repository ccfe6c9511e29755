"""Settings read once at an entry point (the CLI, the API) and passed down."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["DEFAULT_DATABASE_URL", "Settings"]

#: The embedded default: a SQLite file in the working directory, no server to run.
DEFAULT_DATABASE_URL = "sqlite:///fieldroute.db"


class Settings(BaseSettings):
    """The engine's and the service's settings, from ``FIELDROUTE_*`` environment variables;
    ``DATABASE_URL`` is read too."""

    model_config = SettingsConfigDict(env_prefix="FIELDROUTE_", extra="ignore")

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        validation_alias=AliasChoices("FIELDROUTE_DATABASE_URL", "DATABASE_URL"),
    )
    workers: int = Field(default=1, ge=1, le=64, description="Worker processes that solve.")
    replan_workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Worker processes that re-plan, apart from the solves so that a re-plan "
        "never waits for one.",
    )
    processes: int = Field(
        default=1,
        ge=1,
        le=64,
        description="HTTP server processes of `fieldroute serve` (each with its own solve "
        "workers). With more than one, jobs left running by a stopped service are failed once "
        "by the command that starts them, never by a process that restarts beside the others.",
    )
    max_upload_mb: float = Field(
        default=10, gt=0, description="Largest request body the service accepts (413 above)."
    )
    map_tiles: str = Field(
        default="osm",
        description="Tiles under the maps: 'osm' (OpenStreetMap's tile server), 'none' (a blank "
        "background: no network needed), or a URL template such as "
        "https://tiles.example.com/{z}/{x}/{y}.png. Markers and routes show either way.",
    )
    map_attribution: str = Field(
        default="", description="Credit shown for a map_tiles URL template of your own."
    )
    public_url: str | None = Field(
        default=None,
        description="Base URL of driver links (e.g. https://dispatch.example.com); by default "
        "the URL the request came in on.",
    )
    roads: str | None = Field(
        default=None,
        description="Road travel for days that ask for it (policy.travel.provider 'osrm'): the "
        "URL of an OSRM server you run (http://...), or an OpenStreetMap extract (.osm.pbf) "
        "that fieldroute prepares once into its cache and serves itself on loopback.",
    )
    roads_table_size: int = Field(
        default=100,
        ge=2,
        le=100_000,
        description="Locations per table request the OSRM server at a roads URL accepts (its "
        "--max-table-size; OSRM's default 100). A server fieldroute starts takes 1,000.",
    )
    cache_dir: Path | None = Field(
        default=None,
        description="fieldroute's cache: OSRM's executables and prepared road datasets "
        "(default: $XDG_CACHE_HOME/fieldroute or ~/.cache/fieldroute).",
    )
