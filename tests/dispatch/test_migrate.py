"""Migrating one fresh database from many processes at once: on a new deployment the service and
its workers all start together, and each migrates the store it opens."""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import subprocess
import sys
import threading
from contextlib import closing
from multiprocessing.synchronize import Barrier
from pathlib import Path
from queue import Empty

import pytest
from alembic.migration import MigrationContext
from typer.testing import CliRunner

from api import cli
from dispatch.errors import StoredDataError
from dispatch.persistence import Store
from dispatch.persistence.migrate import HEAD, MIGRATIONS, upgrade

#: The pieces starting at once: a service and several workers.
STARTING = 4
#: Long enough for a loaded machine to start them all; a piece stuck past it fails the test.
WAIT_S = 120


def _start(database_url: str, together: Barrier, said: multiprocessing.Queue[str]) -> None:
    """One piece starting: its own engine, then its migration in the same instant as the rest."""
    store = Store(database_url, migrate=False)
    try:
        together.wait(timeout=WAIT_S)
        upgrade(store.engine)
        said.put("migrated")
    except Exception as error:  # reported to the test, which names it
        said.put(f"{type(error).__name__}: {error}"[:300])
    finally:
        store.close()


def test_pieces_starting_at_once_all_migrate_one_fresh_database(empty_database_url: str) -> None:
    # Separate processes, as the service and the workers are; forked from a server that has
    # already imported the store, so they start in a moment.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["dispatch.persistence"])
    together = context.Barrier(STARTING)
    said: multiprocessing.Queue[str] = context.Queue()
    pieces = [
        context.Process(target=_start, args=(empty_database_url, together, said))
        for _ in range(STARTING)
    ]
    for piece in pieces:
        piece.start()
    try:
        outcomes = []
        for _ in pieces:
            try:
                outcomes.append(said.get(timeout=WAIT_S))
            except Empty:
                outcomes.append("still migrating")
    finally:
        for piece in pieces:
            piece.join(timeout=5)
            if piece.is_alive():
                piece.kill()
                piece.join()
    assert outcomes == ["migrated"] * STARTING
    with closing(Store(empty_database_url, migrate=False)) as store, store.engine.connect() as db:
        assert MigrationContext.configure(db).get_current_revision() == HEAD


def test_a_connection_waits_while_another_turns_a_fresh_file_to_wal(tmp_path: Path) -> None:
    # SQLite answers "database is locked" at once, without its busy timeout, to a connection that
    # asks for WAL while another is writing to the file (as a piece migrating under BEGIN
    # IMMEDIATE is); the store's connections wait for it instead.
    path = tmp_path / "store.db"
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("CREATE TABLE taken (id INTEGER)")
    holder.execute("BEGIN IMMEDIATE")
    done_writing = threading.Timer(0.5, lambda: holder.execute("COMMIT"))
    done_writing.start()
    store = Store(f"sqlite:///{path}", migrate=False)
    try:
        with closing(store.engine.connect()) as connection:
            mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
        assert mode == "wal"
    finally:
        store.close()
        done_writing.join()
        holder.close()


def test_a_database_a_newer_release_migrated_is_refused_in_one_sentence(tmp_path: Path) -> None:
    # It was a 106-line alembic traceback at every start, a service crash-looping.
    url = f"sqlite:///{tmp_path / 'newer.db'}"
    Store(url).close()
    with closing(sqlite3.connect(tmp_path / "newer.db")) as connection, connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(StoredDataError, match=rf"its newest is {HEAD}.*a newer release"):
        Store(url)
    env = {"FIELDROUTE_DATABASE_URL": url}
    refused = CliRunner().invoke(cli.app, ["apikey", "list"], env=env)
    assert refused.exit_code == 1
    assert refused.output.startswith("error: the database's schema is at a revision")
    assert "Traceback" not in refused.output


def test_alembic_run_by_hand_migrates_the_database_the_settings_name(tmp_path: Path) -> None:
    # DATABASE_URL was ignored for alembic.ini's ./fieldroute.db: a downgrade meant for the
    # shared database went to a local file.
    ini = tmp_path / "alembic.ini"
    ini.write_text(
        f"[alembic]\nscript_location = {MIGRATIONS}\nsqlalchemy.url = "
        f"sqlite:///{tmp_path / 'ini.db'}\n",
        encoding="utf-8",
    )
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'meant.db'}"}
    env.pop("FIELDROUTE_DATABASE_URL", None)
    alembic = Path(sys.executable).parent / "alembic"
    done = subprocess.run(
        [str(alembic), "-c", str(ini), "upgrade", "head"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "meant.db").is_file() and not (tmp_path / "ini.db").exists()
    with closing(sqlite3.connect(tmp_path / "meant.db")) as connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchone() == (HEAD,)
