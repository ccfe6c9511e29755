"""The time-tracking card's page (``maps.report``), from ``fieldroute report --html`` and
``GET /v1/plans/{id}/report``: the chart of where the minutes went, the tables, escaping."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from dispatch.desk.tracking import stored_time_card
from dispatch.persistence import Store
from maps.report import report_page
from tests.api.conftest import make_key, start_service
from tests.dispatch.test_replan import make_day, planned, replan

REPORTS = {"at": "11:30", "events": [
    {"type": "arrived", "visit_id": "V1", "at": "08:15"},
    {"type": "started", "visit_id": "V1", "at": "08:20"},
    {"type": "completed", "visit_id": "V1", "at": "09:35"},
    {"type": "arrived", "visit_id": "V2", "at": "10:01"},
    {"type": "departed", "visit_id": "V2", "at": "11:00"},
]}  # fmt: skip


def reported_day(store: Store, technician: str = "T1") -> None:
    """``technician`` serves V1 then V2 and reports both (see tests/dispatch/test_tracking.py)."""
    raw: dict[str, Any] = make_day()
    raw["visits"] = [v for v in raw["visits"] if v["id"] in ("V1", "V2")]
    raw["technicians"][0]["id"] = technician
    for visit in raw["visits"]:
        visit["technician"] = technician
    planned(store, raw)
    replan(store, REPORTS)


@pytest.fixture
def database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'card.db'}"
    store = Store(url)
    reported_day(store)
    store.close()
    return url


def test_the_chart_shows_where_each_technicians_minutes_went(database: str) -> None:
    store = Store(database)
    page = report_page(*stored_time_card(store, "pl_day"))
    store.close()
    rows = re.findall(r'<g class="technician" data-technician="([^"]+)">', page)
    assert rows == ["T1"]  # one row per technician with a route
    t1 = page[page.index('data-technician="T1"') : page.index("</svg>")]
    for said in (
        "T1: 26 min on the way",
        "T1: 5 min waiting at the door",
        "T1: 119 min service within its estimate",
        "T1: 15 min service over its estimate",
    ):
        assert said in t1
    assert ">165 min<" in t1  # the total, as text beside the bar
    assert "http://" not in page and "https://" not in page and "<script" not in page


def test_text_of_the_day_reaches_the_page_escaped(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'card.db'}")
    # A technician id holds no '/' (their route is addressed by it): no closing tag here.
    reported_day(store, technician='<img src=x onerror="alert(1)">')
    page = report_page(*stored_time_card(store, "pl_day"))
    store.close()
    assert "<img" not in page and "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in page


def test_the_service_serves_the_card_to_the_desk_only(database: str) -> None:
    key = make_key(database)
    with start_service(database) as client:
        answer = client.get("/v1/plans/pl_day/report", headers={"Authorization": f"Bearer {key}"})
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
        assert "Where the minutes went" in answer.text and "T1: 26 min on the way" in answer.text
        assert client.get("/v1/plans/pl_day/report").status_code == 401
        missing = client.get("/v1/plans/pl_x/report", headers={"Authorization": f"Bearer {key}"})
        assert missing.status_code == 404


def test_fieldroute_report_writes_the_page(database: str, tmp_path: Path) -> None:
    page = tmp_path / "out" / "card.html"
    fieldroute = str(Path(sys.executable).parent / "fieldroute")
    done = subprocess.run(
        [fieldroute, "report", "pl_day", "--html", str(page)],
        env={"FIELDROUTE_DATABASE_URL": database, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "Where the minutes went" in done.stdout
    assert "T1: 15 min service over its estimate" in page.read_text(encoding="utf-8")


def test_the_card_in_a_browser(database: str, browser: Any, output_dir: Path) -> None:
    from tests.maps.test_browser import Opened

    store = Store(database)
    page = report_page(*stored_time_card(store, "pl_day"))
    store.close()
    opened = Opened(browser, 1100, 900).load(page, output_dir, "report")
    try:
        assert opened.errors == [] and opened.failed == []
        assert opened.count("svg#minutes rect") == 4  # T1: driving, waiting, within, over
        assert "165 min" in opened.page.locator("svg#minutes").text_content()
        opened.shoot(output_dir, "report")
    finally:
        opened.close()
