"""Fixtures of the map tests: a small realistic day, solved once, a tiny day whose typed text
tries to break the pages, and headless Chromium.

The browser is Debian's ``chromium`` (``scripts/browser.sh`` installs it; ``.ci/run`` does),
driven by Playwright without a browser download of its own. Without it a developer's run skips
the browser tests with a note; under CI its absence is a failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from benchmarks.dayset import generate_day
from dispatch.contract.schema import PlanOut, ProblemIn
from dispatch.contract.serialize import plan_document
from dispatch.contract.validate import parse_problem
from dispatch.planning import SolveParams, plan_day

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


#: Text that runs script if a page splices it into JavaScript source (a template literal) or
#: into HTML unescaped; none of it may set ``window.__pwned`` or open a dialog.
SCRIPT_PAYLOADS = (
    "${alert(document.cookie)}",
    "${window.__pwned=1}",
    "</script><script>window.__pwned=2</script>",
    '"><img src=x onerror="window.__pwned=3">',
)

#: Text that breaks a script holding it in a JavaScript string or template literal: an
#: invalid escape, a backtick, a lone backslash.
BREAKING_TEXT = "Rm 12\\u, unit `7`, C:\\x\\"


@dataclass(frozen=True, slots=True)
class TypedDay:
    """A tiny planned day whose typed text carries ``text`` (see :func:`typed_raw`)."""

    case: str
    text: str
    far_id: str
    plan: PlanOut
    problem: ProblemIn


def typed_raw(text: str, *, far_id: str, other_id: str) -> dict[str, Any]:
    """A day in which every field a person types carries ``text``: technician T1's name, each
    visit's customer, address, phone and notes. Only T1 has the skill, so T1 serves V1 to V3;
    ``far_id`` (a typed id too) is left unassigned, too far from every base; technician
    ``other_id`` has no work but a base on the map."""
    base = {"lat": 22.80, "lon": 113.80}
    shift = {"start": "08:00", "end": "18:00"}

    def visit(visit_id: str, where: dict[str, float], who: str) -> dict[str, Any]:
        return {
            "id": visit_id,
            "customer": f"{who} {text}",
            "address": f"{visit_id} Dongmen Rd {text}",
            "phone": f"+86 769 5550 {text}",
            "notes": f"gate code {text}",
            "duration_min": 30,
            "required_skills": ["water_heater"],
            "location": where,
        }

    visits = [
        visit(f"V{i}", {"lat": 22.80 + 0.01 * i, "lon": 113.81}, "Mrs Wong") for i in (1, 2, 3)
    ]
    visits.append(visit(far_id, {"lat": 40.0, "lon": 116.4}, "Mr Zhao"))
    return {
        "date": "2026-11-23",
        "timezone": "Asia/Shanghai",
        "technicians": [
            {"id": "T1", "name": f"Li Wei {text}", "skills": ["water_heater"], "start": base}
            | {"shift": shift},
            {"id": other_id, "name": "Chen Jun", "start": {"lat": 22.82, "lon": 113.78}}
            | {"shift": shift},
        ],
        "visits": visits,
    }


@pytest.fixture(scope="session", params=["script", "backslash"])
def typed_day(request: pytest.FixtureRequest) -> TypedDay:
    """The tiny day typed with every :data:`SCRIPT_PAYLOADS` (``script``), or with
    :data:`BREAKING_TEXT` (``backslash``); planned once per run."""
    if request.param == "script":
        text = " ".join(SCRIPT_PAYLOADS)
        ids = {
            "far_id": "FAR${window.__pwned=4}",
            "other_id": 'T2"><img src=x onerror="window.__pwned=5">',
        }
    else:
        text = BREAKING_TEXT
        ids = {"far_id": "FAR\\u`", "other_id": "T2\\x"}
    raw = typed_raw(text, **ids)
    problem = parse_problem(raw)
    quick = SolveParams(time_limit_s=5, metaheuristic="greedy_descent", solution_limit=1)
    plan = plan_day(problem, params=quick)
    created = datetime(2026, 11, 23, tzinfo=UTC)
    document = plan_document(problem, plan, plan_id="pl_typed", version=1, created_at=created)
    return TypedDay(request.param, text, ids["far_id"], document, ProblemIn.model_validate(raw))


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
