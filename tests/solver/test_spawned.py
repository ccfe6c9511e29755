"""The solver's helper processes (``solver.spawned``): workers that end with their parent."""

from __future__ import annotations

import os
from pathlib import Path

from solver.spawned import spawned_pool
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
