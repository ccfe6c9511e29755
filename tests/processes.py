"""What tests of processes ask of Linux's ``/proc``: whether a process still runs, and which
processes one has started (its descendants); and a Python script run until it is killed."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

#: The repository, importable by the scripts ``killed_afterwards`` runs.
ROOT = Path(__file__).resolve().parents[1]


def running(pid: int) -> bool:
    """Whether process ``pid`` is still running (not gone, nor a zombie left to reap)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return "\nState:\tZ" not in status


def descendants(pid: int) -> set[int]:
    """The processes ``pid`` started, and the ones they started, and so on, running now."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except (FileNotFoundError, ProcessLookupError):
            continue  # ended meanwhile
        # "pid (command) state ppid ...": the command may hold spaces and parentheses.
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return {child for child in found if running(child)}


def still_running(pids: set[int], within_s: float = 10.0) -> set[int]:
    """Those of ``pids`` still running after waiting up to ``within_s`` for all to end; they
    are killed (so that a failing test leaves none behind) and returned."""
    deadline = time.monotonic() + within_s
    while any(running(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = {pid for pid in pids if running(pid)}
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return left


@contextlib.contextmanager
def killed_afterwards(script: str, folder: Path, *args: str) -> Iterator[IO[str]]:
    """``script`` (Python source) written to ``folder`` and run with ``args``, the repository
    importable; the block reads what it prints, and it is killed (SIGKILL, as the kernel's OOM
    killer kills) and reaped when the block ends."""
    path = folder / "killed.py"
    path.write_text(script)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, str(path), *args]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env) as process:
        try:
            assert process.stdout is not None
            yield process.stdout
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
