"""Settings read once at an entry point (the CLI, the API) and passed down."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

__all__ = [
    "DEFAULT_DATABASE_URL",
    "JOB_TIME_LIMIT_CEILING_S",
    "Settings",
    "uncredited_tiles",
    "unknown_tiles",
]

#: The embedded default: a SQLite file in the working directory, no server to run.
DEFAULT_DATABASE_URL = "sqlite:///fieldroute.db"

#: The longest search a solve job may ask for: the contract's ceiling on ``time_limit_s``
#: (``policy.time_limit_s`` and ``POST /v1/plans``).
JOB_TIME_LIMIT_CEILING_S = 3600.0


class Settings(BaseSettings):
    """The engine's and the service's settings, from ``FIELDROUTE_*`` environment variables;
    ``DATABASE_URL`` is read too."""

    model_config = SettingsConfigDict(env_prefix="FIELDROUTE_", extra="ignore")

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        validation_alias=AliasChoices("FIELDROUTE_DATABASE_URL", "DATABASE_URL"),
    )

    @field_validator("database_url")
    @classmethod
    def _a_database_url(cls, url: str) -> str:
        """A SQLAlchemy URL, ``postgres://`` (as many hosts spell ``DATABASE_URL``) read as
        ``postgresql://``: either, or a mistyped one, ended every command in a traceback."""
        if url.startswith("postgres://"):
            url = "postgresql://" + url.removeprefix("postgres://")
        example = "e.g. sqlite:///fieldroute.db or postgresql+psycopg://user:password@host/db"
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise ValueError(f"not a database URL; {example}") from None
        shown = parsed.render_as_string(hide_password=True)  # a password is never echoed
        if parsed.get_backend_name() not in {"sqlite", "postgresql"}:
            raise ValueError(f"fieldroute stores in SQLite or PostgreSQL, not {shown!r}; {example}")
        try:
            parsed.get_dialect().import_dbapi()
        except (NoSuchModuleError, ImportError) as error:
            raise ValueError(f"no database driver for {shown!r} ({error}); {example}") from None
        return url

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
    keep_alive_s: int = Field(
        default=5,
        ge=1,
        le=300,
        description="Seconds `fieldroute serve` keeps an idle connection open after a response; "
        "a connection has twice this to send a whole request head (its first, or its next).",
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
    roads_dataset_dir: Path | None = Field(
        default=None,
        description="Set by `fieldroute serve` for its server processes when it serves an "
        "extract itself (not for users): the prepared dataset behind the roads URL, whose "
        "folder keeps road matrices on disk, shared by every process.",
    )
    cache_dir: Path | None = Field(
        default=None,
        description="fieldroute's cache: OSRM's executables and prepared road datasets "
        "(default: $XDG_CACHE_HOME/fieldroute or ~/.cache/fieldroute).",
    )
    jobs: Literal["inprocess", "celery"] = Field(
        default="inprocess",
        description="Where solve jobs run: 'inprocess' (the service's own worker processes, "
        "the embedded default) or 'celery' (`fieldroute worker` processes on any number of "
        "machines, through the broker at broker_url, sharing the database_url store, which "
        "then has to be PostgreSQL for workers on other machines). Re-plans answer in the "
        "service's own processes either way.",
    )
    broker_url: str | None = Field(
        default=None,
        description="The Celery broker of jobs='celery' and of `fieldroute worker`, e.g. "
        "redis://127.0.0.1:6379/0.",
    )
    jobs_queue: str = Field(
        default="fieldroute.solve",
        min_length=1,
        max_length=100,
        pattern=r"^[A-Za-z0-9._-]+$",
        description="The broker's queue of solve jobs: services and workers sharing one are one "
        "deployment (another name keeps a second deployment on the same broker apart).",
    )
    job_time_limit_max_s: float = Field(
        default=JOB_TIME_LIMIT_CEILING_S,
        gt=0,
        le=JOB_TIME_LIMIT_CEILING_S,
        description="The longest search a solve job runs: a longer time limit (asked, or the "
        "day's policy) is cut to this. With the default, the contract's own ceiling, nothing "
        "is cut. The broker's visibility timeout is derived from it (see job_overrun_s).",
    )
    job_overrun_s: float = Field(
        default=600,
        gt=0,
        le=86_400,
        description="How long a solve job may take beyond its search (reading the day, road "
        "matrices, the checker, storing the plan). The broker's visibility timeout, after which "
        "a task no worker acknowledged is handed out again, is job_time_limit_max_s + "
        "job_overrun_s: no job still solving is handed out twice.",
    )
    job_stale_s: float = Field(
        default=60,
        ge=2,
        le=3600,
        description="A running job whose worker wrote no heartbeat (its progress, every 0.5 s) "
        "for this long is taken for lost: with jobs='celery' a redelivered task takes it over "
        "as a new attempt; in a service of several processes (--processes N) it is failed, to "
        "be retried. Shorter than the visibility timeout; the workers' clocks must agree to "
        "well within it.",
    )
    job_max_starts: int = Field(
        default=3,
        ge=1,
        le=20,
        description="Workers a job may be started on in a row (jobs='celery'): the first start "
        "and a takeover each time its worker is lost. A job whose workers keep dying (out of "
        "memory on a huge day) is failed, saying so, when the last of them is found lost.",
    )

    @property
    def visibility_timeout_s(self) -> float:
        """The broker's visibility timeout: ``job_time_limit_max_s + job_overrun_s``."""
        return self.job_time_limit_max_s + self.job_overrun_s

    @field_validator("public_url")
    @classmethod
    def _a_web_address(cls, url: str | None) -> str | None:
        """``http(s)://host``: without a scheme, driver links read ``desk.example.com/v1/…``,
        which a phone opens as a search or a file."""
        if url is not None and not url.startswith(("http://", "https://")):
            raise ValueError(f"{url!r} must start with http:// or https://")
        return url

    @model_validator(mode="after")
    def _tiles_are_credited(self) -> Self:
        problem = unknown_tiles(self.map_tiles) or uncredited_tiles(
            self.map_tiles, self.map_attribution
        )
        if problem:
            raise ValueError(problem)
        return self

    @model_validator(mode="after")
    def _jobs_have_a_broker(self) -> Self:
        if self.jobs == "celery" and not self.broker_url:
            raise ValueError(
                "FIELDROUTE_JOBS=celery needs FIELDROUTE_BROKER_URL, the broker the service "
                "and its workers share (e.g. redis://127.0.0.1:6379/0)"
            )
        if self.job_stale_s >= self.visibility_timeout_s:
            raise ValueError(
                f"FIELDROUTE_JOB_STALE_S ({self.job_stale_s:g}) must be shorter than the "
                f"broker's visibility timeout, FIELDROUTE_JOB_TIME_LIMIT_MAX_S + "
                f"FIELDROUTE_JOB_OVERRUN_S ({self.visibility_timeout_s:g})"
            )
        return self


def unknown_tiles(tiles: str | None) -> str | None:
    """Why ``tiles`` (a ``map_tiles`` setting) names no tiles, or ``None``: ``osm``, ``none``
    (or empty) or a web address template. Anything else went to the map library as a URL and
    every map page failed (a 500, the drivers' pages too; ``fieldroute map`` a traceback)."""
    chosen = (tiles or "").strip()
    if chosen.lower() in {"", "none", "blank", "osm"} or chosen.startswith(("http://", "https://")):
        return None
    return (
        f"the tiles {tiles!r} are none of 'osm', 'none' or a tile address such as "
        "'https://tiles.example.com/{z}/{x}/{y}.png'"
    )


def uncredited_tiles(tiles: str | None, attribution: str) -> str | None:
    """Why ``tiles`` (a ``map_tiles`` setting) cannot be drawn with ``attribution``, or
    ``None``: a tile server of your own (a URL template) shows its credit on every map, and
    without one every map page failed (a 500, the drivers' pages too)."""
    if tiles is not None and "://" in tiles and not attribution.strip():
        return (
            f"the tiles {tiles!r} need a credit shown on the maps: set FIELDROUTE_MAP_ATTRIBUTION "
            "(`fieldroute map --attribution`; e.g. '© Example Tiles'), or use 'osm' or 'none'"
        )
    return None
