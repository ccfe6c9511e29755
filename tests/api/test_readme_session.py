"""The README's curl session runs as written against a fresh ``fieldroute serve``."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.processes import descendants, still_running

ROOT = Path(__file__).resolve().parents[2]
FIELDROUTE = Path(sys.executable).parent / "fieldroute"


def session_script() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(
        r"<!-- curl-session -->\n```sh\n(.*?)```\n<!-- /curl-session -->", readme, re.S
    )
    assert found, "the README has lost its curl session"
    return found.group(1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def running_serve(
    tmp_path: Path, *options: str, environment: Mapping[str, str] | None = None
) -> Iterator[tuple[int, dict[str, str]]]:
    """A fresh ``fieldroute serve`` on a free port and a SQLite file in ``tmp_path``, answering
    /healthz; its port and environment (``environment`` added). Everything it writes goes to
    ``tmp_path / "serve.log"``. Stopped afterwards (SIGTERM), and every process it started
    (its server processes, their job workers) has ended within 10 s of it."""
    port = free_port()
    env = os.environ | {"FIELDROUTE_DATABASE_URL": f"sqlite:///{tmp_path / 'service.db'}"}
    env |= environment or {}
    log = tmp_path / "serve.log"
    started: set[int] = set()
    with log.open("wb") as sink:
        server = subprocess.Popen(
            [str(FIELDROUTE), "serve", "--port", str(port), *options],
            env=env,
            cwd=tmp_path,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60  # 30 s ran out once on a machine at load 7
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz") as answer:
                    assert answer.status == 200
                    break
            except OSError:
                assert server.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "fieldroute serve did not start"
                time.sleep(0.2)
        yield port, env
        started = descendants(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
        left = still_running(started)
    # A job worker of a stopped two-process server waited for ever, idle, with parent 1.
    assert not left, f"fieldroute serve left {len(left)} of its processes running"


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
@pytest.mark.parametrize("processes", [1, 2], ids=["one-process", "two-processes"])
def test_the_readme_curl_session_runs_against_fieldroute_serve(
    tmp_path: Path, processes: int
) -> None:
    """As written, on one server process and on two (the session's requests then land on
    either: jobs, versions and driver links are shared through the database)."""
    with running_serve(tmp_path, "--processes", str(processes)) as (port, env):
        run = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", session_script()],
            cwd=ROOT,
            env=env
            | {"API": f"http://127.0.0.1:{port}", "PATH": f"{FIELDROUTE.parent}:{env['PATH']}"},
            capture_output=True,
            text=True,
            timeout=180,
        )
    assert run.returncode == 0, run.stderr + run.stdout
    lines = run.stdout.strip().splitlines()
    assert int(lines[0]) > 200, "most of the 250 visits are placed"
    assert "'visit_id'" in lines[1] and "'eta'" in lines[1]
    assert lines[2] == "2", "the delay made version 2"
    assert lines[-1].startswith(f"http://127.0.0.1:{port}/v1/plans/") and "token=" in lines[-1]
