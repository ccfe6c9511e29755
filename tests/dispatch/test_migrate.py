"""Migrating one fresh database from many processes at once: on a new deployment the service and
its workers all start together, and each migrates the store it opens."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
from contextlib import closing
from multiprocessing.synchronize import Barrier
from pathlib import Path
from queue import Empty

from alembic.migration import MigrationContext

from dispatch.persistence import Store
from dispatch.persistence.migrate import HEAD, upgrade

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
