"""Recording benchmark figures: one dated section per run, appended to ``benchmarks/RESULTS.md``
with the exact command, the commit and the machine, and echoed to standard output."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

__all__ = ["RESULTS", "record"]

RESULTS = Path(__file__).with_name("RESULTS.md")


def _machine(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The machine a run was measured on: architecture, processor model (where the system
    names it: two machines of the same architecture and cores may differ in speed, and a
    budget-bound figure with them), cores and Python."""
    processor = _processor(cpuinfo)
    named = f", {processor}" if processor else ""
    return (
        f"{platform.machine()}{named}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )


def _processor(cpuinfo: Path) -> str:
    """The processor's model name from ``cpuinfo`` (Linux), else the platform's when it says
    more than the architecture, else ``""``."""
    try:
        lines = cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        lines = []
    for line in lines:
        key, _, value = line.partition(":")
        if key.strip() == "model name" and value.strip():
            return " ".join(value.split())
    named = platform.processor().strip()
    return "" if named in ("", "unknown", platform.machine()) else named


def _commit(here: Path = Path(__file__).parent) -> str:
    """The commit of the checkout at ``here`` that was measured, ``+changes`` when tracked
    files other than the results differ from it (the figures are not that commit's alone)."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], capture_output=True, text=True, check=True, cwd=here)
        return done.stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        changed = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    # RESULTS.md itself is what runs change: a run after another is still the commit's.
    code = [line for line in changed.splitlines() if not line.endswith(RESULTS.name)]
    return f"{commit}+changes" if code else commit


#: The solver libraries whose versions a figure depends on.
_LIBRARIES = ("ortools", "pyvroom", "pyvrp")


def _libraries() -> str:
    """The installed versions of the solver libraries (``-`` for one not installed)."""
    found = []
    for name in _LIBRARIES:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} -")
    return ", ".join(found)


def record(title: str, command: str, body: str) -> None:
    """Print a section titled ``title`` for a run of ``command`` and append it to RESULTS.md."""
    section = (
        f"\n## {title} ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {_commit()})\n\n"
        f"Command: `{command}`  \nMachine: {_machine()}  \nLibraries: {_libraries()}  \n{body}"
    )
    sys.stdout.write(section)
    with RESULTS.open("a", encoding="utf-8") as results:
        results.write(section)
