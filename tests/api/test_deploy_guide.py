"""docs/deploy.md's walk-through runs as written: PostgreSQL and Redis from the services
script, ``fieldroute serve`` and two ``fieldroute worker``s, two days solved through the API."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def walkthrough() -> str:
    guide = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    found = re.search(
        r"<!-- loopback-walkthrough -->\n```sh\n(.*?)```\n<!-- /loopback-walkthrough -->",
        guide,
        re.S,
    )
    assert found, "docs/deploy.md has lost its walk-through"
    return found.group(1)


def _servers_available() -> bool:
    """The services script installs PostgreSQL and Redis as root; elsewhere they must be there."""
    if os.geteuid() == 0 and shutil.which("apt-get"):
        return True
    return bool(shutil.which("redis-server")) and Path("/usr/lib/postgresql").exists()


@pytest.mark.skipif(not _servers_available(), reason="PostgreSQL and Redis cannot be installed")
def test_the_deploy_guide_runs_as_written() -> None:
    done = subprocess.run(
        ["bash", "-c", walkthrough()],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={k: v for k, v in os.environ.items() if not k.startswith("FIELDROUTE_")},
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    jobs = re.findall(r"^job (\S+): (\w+)$", done.stdout, re.M)
    assert [state for _, state in jobs] == ["done", "done"], done.stdout
    assert len(re.findall(r"^plan pl_\w+: \d+ assigned$", done.stdout, re.M)) == 2
