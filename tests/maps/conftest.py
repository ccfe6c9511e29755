"""Fixtures of the map tests: a small realistic day, solved once, and headless Chromium.

The browser is Debian's ``chromium`` (``scripts/browser.sh`` installs it; ``.ci/run`` does),
driven by Playwright without a browser download of its own. Without it a developer's run skips
the browser tests with a note; under CI its absence is a failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from benchmarks.dayset import generate_day
from dispatch.planning import SolveParams, plan_day
from dispatch.schema import PlanOut, ProblemIn
from dispatch.serialize import plan_document
from dispatch.validate import parse_problem

ROOT = Path(__file__).resolve().parents[2]

#: Chromium as this machine kind runs it headless: no sandbox (root), no background traffic.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def solved(raw: dict[str, Any], seconds: float = 2) -> tuple[PlanOut, ProblemIn]:
    """``raw`` planned into a stored-plan document, and its day as the contract's model."""
    problem = parse_problem(raw)
    plan = plan_day(problem, params=SolveParams(time_limit_s=seconds))
    created = datetime(2026, 11, 23, tzinfo=UTC)
    document = plan_document(problem, plan, plan_id="pl_maptest", version=1, created_at=created)
    return document, ProblemIn.model_validate(raw)


@pytest.fixture(scope="session")
def day_raw() -> dict[str, Any]:
    """A generated day of 40 visits; one customer's name tries to inject HTML."""
    raw = generate_day(40, seed=11)
    raw["visits"][0]["customer"] = '<img src=x onerror="window.injected=1">Mr Li'
    return raw


@pytest.fixture(scope="session")
def day_plan(day_raw: dict[str, Any]) -> tuple[PlanOut, ProblemIn]:
    """The 40-visit day, solved once for the whole run."""
    return solved(day_raw)


@pytest.fixture(scope="session")
def output_dir() -> Path:
    """Where the browser tests leave their screenshots (``FIELDROUTE_TEST_OUTPUT`` or
    ``test-output/`` in the repository), to be looked at after a run."""
    folder = Path(os.environ.get("FIELDROUTE_TEST_OUTPUT", ROOT / "test-output")) / "maps"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Chromium through Playwright."""
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - playwright is a dev dependency
        executable = None
    if executable is None:
        message = "Chromium is not installed: run scripts/browser.sh (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
