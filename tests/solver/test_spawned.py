"""The solver's helper processes (``solver.spawned``): workers that end with their parent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from solver.spawned import spawned_pool
from tests.processes import running, still_running

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
    script = tmp_path / "parent.py"
    script.write_text(_PARENT)
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    command = [sys.executable, str(script)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env) as parent:
        try:
            assert parent.stdout is not None
            worker = int(parent.stdout.readline())
            assert running(worker)
        finally:
            parent.send_signal(signal.SIGKILL)
            parent.wait(timeout=10)
    assert not still_running({worker})


def test_a_worker_runs_the_pool_s_own_initializer_first(tmp_path: Path) -> None:
    with spawned_pool(1, os.chdir, (str(tmp_path),)) as pool:
        assert pool.submit(os.getcwd).result(timeout=30) == str(tmp_path)
