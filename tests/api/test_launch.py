"""The ``fieldroute`` script (``api.launch``): a process the engine spawns imports it again
before its task, so it must load nothing of the engine until the command line runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

#: What a spawned process does with its parent's main script, then what it holds.
_AS_SPAWNED = """
import runpy, sys
runpy.run_path(sys.argv[1], run_name="__mp_main__")
print(sorted(name for name in ("api.cli", "dispatch", "solver", "fastapi") if name in sys.modules))
"""


def test_the_script_imported_again_by_a_spawned_process_loads_nothing_of_the_engine() -> None:
    script = Path(sys.executable).parent / "fieldroute"
    loaded = subprocess.run(
        [sys.executable, "-c", _AS_SPAWNED, str(script)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    # With the command line as its import, each side process of a solve in the service paid
    # 2-3 s for it, inside the solve's budget.
    assert loaded.stdout.strip() == "[]"


def test_the_script_runs_the_command_line() -> None:
    script = Path(sys.executable).parent / "fieldroute"
    ran = subprocess.run(
        [str(script), "--help"], capture_output=True, text=True, check=False, timeout=60
    )
    assert ran.returncode == 0
    assert "solve" in ran.stdout
