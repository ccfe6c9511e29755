"""The solver's helper processes (``solver.spawned``): workers that end with their parent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from solver.spawned import spawned_pool

#: A parent that starts a pool of one worker, prints the worker's pid and waits to be killed.
_PARENT = """
import os, time
from solver.spawned import spawned_pool

if __name__ == "__main__":
    pool = spawned_pool(1)
    print(pool.submit(os.getpid).result(), flush=True)
    time.sleep(120)
"""


def _running(pid: int) -> bool:
    """Whether process ``pid`` is still running (not gone, nor a zombie left to reap)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


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
            assert _running(worker)
        finally:
            parent.send_signal(signal.SIGKILL)
            parent.wait(timeout=10)
    deadline = time.monotonic() + 10
    while _running(worker) and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        assert not _running(worker)
    finally:
        if _running(worker):
            os.kill(worker, signal.SIGKILL)


def test_a_worker_runs_the_pool_s_own_initializer_first(tmp_path: Path) -> None:
    with spawned_pool(1, os.chdir, (str(tmp_path),)) as pool:
        assert pool.submit(os.getcwd).result(timeout=30) == str(tmp_path)
