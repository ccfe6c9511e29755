"""docs/deploy.md's walk-through runs as written: PostgreSQL and Redis from the services
script, ``fieldroute serve`` and two ``fieldroute worker``s, two days solved through the API."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: The walk-through's time; past it the test ends it, and everything it started.
TIMEOUT_S = 300
#: Time an ended walk-through gets to run its own clean-up (its EXIT trap) before SIGKILL.
GRACE_S = 60


def walkthrough() -> str:
    guide = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    found = re.search(
        r"<!-- loopback-walkthrough -->\n```sh\n(.*?)```\n<!-- /loopback-walkthrough -->",
        guide,
        re.S,
    )
    assert found, "docs/deploy.md has lost its walk-through"
    return found.group(1)


def _end_group(group: int, how: signal.Signals) -> None:
    """Send ``how`` to every process of ``group`` still running."""
    with contextlib.suppress(ProcessLookupError):  # all ended already
        os.killpg(group, how)


def run_in_own_group(script: str, timeout_s: float, env: dict[str, str]) -> tuple[int, str, str]:
    """Run ``script`` with bash in a process group of its own: its return code (negative: the
    signal that ended it), stdout and stderr. On overrunning ``timeout_s`` the whole group gets
    SIGTERM (bash runs its EXIT trap: the script's own clean-up), then SIGKILL after
    ``GRACE_S``; whatever of the group outlives bash is killed too, however bash ended."""
    with subprocess.Popen(
        ["bash", "-c", script],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    ) as shell:
        try:
            try:
                out, err = shell.communicate(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                _end_group(shell.pid, signal.SIGTERM)
                try:
                    shell.wait(timeout=GRACE_S)
                finally:
                    _end_group(shell.pid, signal.SIGKILL)  # and what outlived bash
                out, err = shell.communicate()
                err += f"\n[ended by the test after {timeout_s} s]"
        finally:
            _end_group(shell.pid, signal.SIGKILL)
    return shell.returncode, out, err


def stop_servers(script: str) -> None:
    """Stop the walk-through's throwaway PostgreSQL and Redis, should it have been killed before
    its own trap stopped them (they run as daemons, outside its process group). A no-op when they
    are gone; never the shared test servers at the default ports."""
    places = re.findall(r"^export FIELDROUTE_(?:PG|REDIS)_\w+=.*$", script, re.M)
    settings = " ".join(places)
    if not all(f"FIELDROUTE_{name}=" in settings for name in ("PG_PORT", "PG_DIR", "REDIS_PORT")):
        return  # without its own ports the script would stop the shared servers
    subprocess.run(
        ["bash", "-c", "\n".join([*places, "bash scripts/services.sh stop"])],
        cwd=ROOT,
        capture_output=True,
        timeout=GRACE_S,
        check=False,
    )


def _servers_available() -> bool:
    """The services script installs PostgreSQL and Redis as root; elsewhere they must be there."""
    if os.geteuid() == 0 and shutil.which("apt-get"):
        return True
    return bool(shutil.which("redis-server")) and Path("/usr/lib/postgresql").exists()


def _running(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie, killed but not yet reaped by init, does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_a_walkthrough_ended_by_the_test_leaves_nothing_running(tmp_path: Path) -> None:
    # Like the guide's: a trap that cleans up on exit, a background process, a wait that never
    # ends; the background one ignores SIGTERM, so only the group's SIGKILL ends it.
    pids = tmp_path / "pids"
    script = (
        "trap 'echo cleaned up' EXIT\n"
        f"bash -c 'trap \"\" TERM; sleep 300' & echo $! > {pids}\n"
        "until false; do sleep 0.2; done\n"
    )
    code, out, err = run_in_own_group(script, 1, dict(os.environ))
    assert code == -signal.SIGTERM and "cleaned up" in out
    assert "ended by the test after 1 s" in err
    pid = int(pids.read_text())
    for _ in range(50):  # SIGKILL is sent; its process ends at its next turn on a core
        if not _running(pid):
            break
        time.sleep(0.1)
    assert not _running(pid)


@pytest.mark.skipif(not _servers_available(), reason="PostgreSQL and Redis cannot be installed")
def test_the_deploy_guide_runs_as_written() -> None:
    script = walkthrough()
    try:
        code, out, err = run_in_own_group(
            script,
            TIMEOUT_S,
            {k: v for k, v in os.environ.items() if not k.startswith("FIELDROUTE_")},
        )
    finally:
        stop_servers(script)
    assert code == 0, out[-2000:] + err[-4000:]
    jobs = re.findall(r"^job (\S+): (\w+)$", out, re.M)
    assert [state for _, state in jobs] == ["done", "done"], out
    assert len(re.findall(r"^plan pl_\w+: \d+ assigned$", out, re.M)) == 2
