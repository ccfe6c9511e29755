"""Shared fixtures: small hand-made days in the contract's JSON."""

from __future__ import annotations

import copy
import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, make_url, text

from benchmarks.vrptw import DATA_ENV, data_dir
from dispatch.persistence import Store
from dispatch.travel.osrm_tools import OsrmTools, ToolsUnavailableError, find_tools, install_tools
from dispatch.travel.roads import Dataset, prepare

#: Four sites on a line, 10 minutes and 5 km apart: 0 base, 1, 2, 3.
LINE_MINUTES = [[abs(i - j) * 10 for j in range(4)] for i in range(4)]
LINE_KM = [[abs(i - j) * 5.0 for j in range(4)] for i in range(4)]


def line_day(**overrides: Any) -> dict[str, Any]:
    """One technician at site 0, three visits at sites 1-3 of an explicit matrix."""
    day: dict[str, Any] = {
        "date": "2026-11-23",
        "timezone": "Asia/Shanghai",
        "policy": {"time_limit_s": 1},
        "travel": {"durations_min": LINE_MINUTES, "distances_km": LINE_KM},
        "technicians": [
            {
                "id": "T1",
                "name": "Li Wei",
                "skills": ["water_heater"],
                "location_index": 0,
                "shift": {"start": "08:00", "end": "18:00"},
            }
        ],
        "visits": [
            {"id": f"V{i}", "location_index": i, "duration_min": 30, "customer": f"C{i}"}
            for i in (1, 2, 3)
        ],
    }
    day.update(overrides)
    return copy.deepcopy(day)


#: A technician of ``line_day`` who cannot make their day even serving nobody: they end 30 min
#: from where they start (site 3), after a 20-minute shift.
STRANDED_T2: dict[str, Any] = {
    "id": "T2",
    "skills": ["water_heater"],
    "location_index": 0,
    "end_location_index": 3,
    "shift": {"start": "08:00", "end": "08:20"},
}


@pytest.fixture
def day() -> dict[str, Any]:
    """A fresh copy of ``line_day()`` to modify."""
    return line_day()


#: Where the PostgreSQL tests connect: ``scripts/services.sh start`` and ``url`` give it.
POSTGRES_ENV = "FIELDROUTE_TEST_POSTGRES_URL"


def _postgres_database(base_url: str, template: str | None = None) -> Iterator[str]:
    """A fresh database on the test server for one test, dropped afterwards: empty, or a copy
    of ``template``."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    copied = f' TEMPLATE "{template}"' if template else ""
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"{copied}'))
        yield make_url(base_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _postgres_url() -> str:
    """The test server's URL; without one (a developer's machine) a skip saying how to start
    it, and under CI, which always has one, a failure."""
    base_url = os.environ.get(POSTGRES_ENV)
    if not base_url:
        message = f"PostgreSQL not configured: run scripts/services.sh start and set {POSTGRES_ENV}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return base_url


@pytest.fixture(scope="session")
def _migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite store migrated once per session, for each test to start from a copy."""
    path = tmp_path_factory.mktemp("migrated") / "store.db"
    Store(f"sqlite:///{path}").close()
    return path


@pytest.fixture(scope="session")
def _migrated_postgres() -> Iterator[str]:
    """A PostgreSQL database migrated once per session, the template of each test's."""
    with contextmanager(_postgres_database)(_postgres_url()) as url:
        Store(url).close()
        yield make_url(url).database or ""


def _empty_or_migrated(
    request: pytest.FixtureRequest, tmp_path: Path, migrated: bool
) -> Iterator[str]:
    """A database of the kind ``request.param`` names for one test: empty, or ``migrated``
    (a copy of the session's migrated one)."""
    if request.param == "sqlite":
        path = tmp_path / "store.db"
        if migrated:
            template: Path = request.getfixturevalue("_migrated_sqlite")
            with (
                closing(sqlite3.connect(template)) as source,
                closing(sqlite3.connect(path)) as clone,
            ):
                source.backup(clone)
        yield f"sqlite:///{path}"
        return
    base_url = _postgres_url()
    name = request.getfixturevalue("_migrated_postgres") if migrated else None
    yield from _postgres_database(base_url, template=name)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each store test runs on the embedded SQLite file and on PostgreSQL, each a database of
    its own, already migrated (a copy of one migrated per session: migrating each took 0.1 s).

    Without a PostgreSQL server (a developer's machine) the PostgreSQL half is skipped with a
    note saying how to start one; under CI, which always has one, its absence is a failure.
    """
    yield from _empty_or_migrated(request, tmp_path, migrated=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """``database_url``, but an empty database: for the tests of migrating one."""
    yield from _empty_or_migrated(request, tmp_path, migrated=False)


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """A migrated, empty store on each database, closed after the test."""
    opened = Store(database_url)
    yield opened
    opened.close()


# -- roads: OSRM's tools and the Andorra extract, prepared once per session ------------------
# Skipped, saying why, only when the tools cannot be had (no network on a machine without
# them) or the shared data is absent.


@pytest.fixture(scope="session")
def tools() -> OsrmTools:
    """OSRM's executables: already here, or fetched once into fieldroute's cache."""
    found = find_tools()
    if found is not None:
        return found
    try:
        return install_tools()
    except ToolsUnavailableError as error:
        pytest.skip(f"OSRM's executables are not here and cannot be fetched: {error}")


@pytest.fixture(scope="session")
def andorra_extract() -> Path:
    extract = data_dir() / "osm" / "andorra.osm.pbf"
    if not extract.is_file():
        pytest.skip(
            f"{extract} not found: put shared/ beside the repository or set {DATA_ENV} "
            "to the folder holding osm/andorra.osm.pbf"
        )
    return extract


@pytest.fixture(scope="session")
def roads_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("roads")


@pytest.fixture(scope="session")
def andorra(tools: OsrmTools, andorra_extract: Path, roads_cache: Path) -> Dataset:
    """The Andorra extract prepared for cars with contraction hierarchies (well under 1 s)."""
    return prepare(andorra_extract, cache_dir=roads_cache, tools=tools)
