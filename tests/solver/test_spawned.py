"""The solver's helper processes (``solver.spawned``): workers that end with their parent."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import pytest

from solver.spawned import process_context, spawned_pool
from tests.processes import killed_afterwards, running, still_running

#: A parent that starts a pool of one worker, prints the worker's pid and waits to be killed.
_PARENT = """
import os, time
from solver.spawned import spawned_pool

if __name__ == "__main__":
    pool = spawned_pool(1)
    print(pool.submit(os.getpid).result(), flush=True)
    time.sleep(120)
"""


def test_a_worker_ends_when_the_process_that_started_it_is_killed(tmp_path: Path) -> None:
    # A worker waits for its next task on a queue it holds both ends of: without the watch on
    # its parent it waited for ever, idle, once a SIGKILL had taken the parent.
    with killed_afterwards(_PARENT, tmp_path) as output:
        worker = int(output.readline())
        assert running(worker)
    assert not still_running({worker})


def test_a_worker_runs_the_pool_s_own_initializer_first(tmp_path: Path) -> None:
    with spawned_pool(1, os.chdir, (str(tmp_path),)) as pool:
        assert pool.submit(os.getcwd).result(timeout=30) == str(tmp_path)


@pytest.mark.skipif(
    "forkserver" not in multiprocessing.get_all_start_methods(), reason="no fork server here"
)
def test_workers_are_forked_from_one_fork_server_that_loaded_the_solver() -> None:
    # Spawned, each side process imported the solver for itself (0.6-0.9 s of its search's
    # budget); forked from the fork server, which loaded it once, it starts in hundredths of a
    # second.
    assert process_context().get_start_method() == "forkserver"
    servers = set()
    for _ in range(2):  # one pool after another, as races start them
        with spawned_pool(1) as pool:
            servers.add(pool.submit(os.getppid).result(timeout=60))
    assert len(servers) == 1
    (server,) = servers
    assert server != os.getpid()
    maps = Path(f"/proc/{server}/maps")
    if maps.exists():  # Linux: the server holds the solver's libraries (OR-Tools) in memory
        assert "ortools" in maps.read_text()
