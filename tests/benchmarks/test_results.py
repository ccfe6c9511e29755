"""The machine line of a recorded benchmark section (``benchmarks.results``)."""

from __future__ import annotations

import os
from pathlib import Path

from benchmarks.results import _machine


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
