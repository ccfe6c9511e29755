"""The machine, commit and libraries of a recorded benchmark section (``benchmarks.results``)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from benchmarks.results import _commit, _libraries, _machine


def test_the_machine_line_names_the_processor_model(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(
        "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD  EPYC 7B13\n\n"
        "processor\t: 1\nmodel name\t: AMD  EPYC 7B13\n",
        encoding="utf-8",
    )
    line = _machine(cpuinfo)
    assert ", AMD EPYC 7B13, " in line
    assert f"{os.cpu_count()} cores, Python " in line


def test_without_a_cpuinfo_the_line_still_names_cores_and_python(tmp_path: Path) -> None:
    line = _machine(tmp_path / "absent")
    assert f"{os.cpu_count()} cores, Python " in line
    assert ", ," not in line


def test_the_commit_says_when_the_measured_tree_had_changes(tmp_path: Path) -> None:
    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", "-C", str(tmp_path), *args], capture_output=True, text=True, check=True
        )
        return done.stdout.strip()

    git("init", "-q")
    (tmp_path / "solver.py").write_text("A = 1\n", encoding="utf-8")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "first")
    head = git("rev-parse", "--short", "HEAD")
    assert _commit(tmp_path) == head
    (tmp_path / "notes.txt").write_text("untracked: not the measured code\n", encoding="utf-8")
    assert _commit(tmp_path) == head
    (tmp_path / "RESULTS.md").write_text("# figures\n", encoding="utf-8")
    git("add", "RESULTS.md")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "results")
    head = git("rev-parse", "--short", "HEAD")
    (tmp_path / "RESULTS.md").write_text("# figures\n\n## a run\n", encoding="utf-8")
    assert _commit(tmp_path) == head  # an earlier run's section: still the commit's code
    (tmp_path / "solver.py").write_text("A = 2\n", encoding="utf-8")
    assert _commit(tmp_path) == f"{head}+changes"  # was the clean HEAD's hash


def test_the_libraries_line_names_each_solver_library_s_version() -> None:
    line = _libraries()
    assert [part.split(" ")[0] for part in line.split(", ")] == ["ortools", "pyvroom", "pyvrp"]
    assert "ortools 9." in line
