"""The desk console as a dispatcher uses it: ``fieldroute serve`` running, the page opened in
headless Chromium, a key entered, a day uploaded and solved, the timeline read, a delay posted
and the call list read, a driver's report arriving on its own, the plan picked from the list of
stored plans in a fresh tab; then the same at 375 px.

Screenshots land in ``test-output/maps/`` (``console.png`` at 1280 px is the README's)."""

from __future__ import annotations

import json
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from benchmarks.dayset import generate_day
from dispatch.contract.record import plan_record
from dispatch.contract.serialize import plan_document
from dispatch.contract.validate import parse_problem
from dispatch.persistence import Store
from dispatch.planning import SolveParams, plan_day
from tests.api.conftest import make_key
from tests.api.test_readme_session import running_serve
from tests.conftest import line_day
from tests.dispatch.test_replan_week import MONDAY, PLACED, TUESDAY, WEDNESDAY, store_week, week
from tests.dispatch.test_sheets import TECHNICIANS_CSV, VISITS_CSV
from tests.dispatch.test_store_weeks import day as week_day
from tests.dispatch.test_store_weeks import week_of
from tests.maps.test_browser import Opened
from tests.maps.test_driver_buttons import PLAN_ID, serving, store_line_day

FIELDROUTE = Path(sys.executable).parent / "fieldroute"

#: A customer's name that runs script if the page ever parses it as HTML.
PAYLOAD = "<img src=x onerror=alert(1)>"


def console_day() -> dict[str, Any]:
    """Three technicians in Dongguan, six visits: four only T1 may serve (water heaters; one an
    appointment, one the customer named :data:`PAYLOAD`), one for anyone (T2 has a lunch
    break) and a piano nobody has the skill to move (unassigned); T3 cannot make their day."""
    shift = {"start": "08:00", "end": "17:00"}

    def visit(number: int, lat: float, lon: float, **more: Any) -> dict[str, Any]:
        return {
            "id": f"V{number}",
            "customer": f"Customer {number}",
            "address": f"{number} Dongmen Rd",
            "phone": f"+86 769 5550 000{number}",
            "location": {"lat": lat, "lon": lon},
            "duration_min": 40,
            "required_skills": ["water_heater"],
        } | more

    return {
        "date": "2026-11-23",
        "timezone": "Asia/Shanghai",
        "policy": {"time_limit_s": 1},
        "technicians": [
            {"id": "T1", "name": "Li Wei", "skills": ["water_heater"]}
            | {"start": {"lat": 22.80, "lon": 113.80}, "shift": shift},
            {
                "id": "T2",
                "name": "Chen Jun",
                "start": {"lat": 22.85, "lon": 113.86},
                "shift": shift,
                "breaks": [{"start": "11:30", "end": "13:30", "duration_min": 30}],
            },
            {  # ends an hour's drive away after a half-hour shift: no route, and why
                "id": "T3",
                "name": "Wang Fang",
                "start": {"lat": 22.80, "lon": 113.80},
                "end": {"lat": 23.30, "lon": 114.30},
                "shift": {"start": "08:00", "end": "08:30"},
            },
        ],
        "visits": [
            visit(1, 22.81, 113.81),
            visit(2, 22.82, 113.80, customer=PAYLOAD),
            visit(3, 22.84, 113.85),
            visit(4, 22.86, 113.87, appointment="10:00"),
            visit(5, 22.83, 113.83, window={"start": "13:00", "end": "15:00"}, required_skills=[]),
            visit(6, 22.82, 113.84, required_skills=["piano"]),
        ],
    }


@dataclass
class Served:
    """``fieldroute serve`` on a free port: its address, a dispatcher's key and its log."""

    url: str
    key: str
    log: Path | None = None

    def get(self, path: str) -> dict[str, Any]:
        request = urllib.request.Request(
            self.url + path, headers={"Authorization": f"Bearer {self.key}"}
        )
        with urllib.request.urlopen(request) as answer:
            found: dict[str, Any] = json.load(answer)
            return found

    def post(self, path: str, body: dict[str, Any], **headers: str) -> dict[str, Any]:
        request = urllib.request.Request(
            self.url + path,
            data=json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"}
            | headers,
        )
        with urllib.request.urlopen(request) as answer:
            found: dict[str, Any] = json.load(answer)
            return found


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """A fresh ``fieldroute serve`` (blank map tiles), everything it writes kept in a log."""
    with running_serve(tmp_path, environment={"FIELDROUTE_MAP_TILES": "none"}) as (port, env):
        key = make_key(env["FIELDROUTE_DATABASE_URL"])
        yield Served(f"http://127.0.0.1:{port}", key, tmp_path / "serve.log")


#: The two plans of :func:`desk`: the same little day (T1 serves V1 08:10, V2 08:50, V3 09:30)
#: in Dongguan and in New York.
SHANGHAI_PLAN = "pl_shanghai"
NEW_YORK_PLAN = "pl_newyork"


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Served]:
    """The service in this process (its clock at ``SERVICE_NOW``) with two stored plans of one
    technician's day, :data:`SHANGHAI_PLAN` and :data:`NEW_YORK_PLAN`."""
    database_url = f"sqlite:///{tmp_path / 'desk.db'}"
    store_line_day(database_url, plan_id=SHANGHAI_PLAN, problem_id="pb_shanghai")
    store_line_day(
        database_url, plan_id=NEW_YORK_PLAN, problem_id="pb_newyork", timezone="America/New_York"
    )
    with serving(database_url) as base:
        yield Served(base, make_key(database_url))


def open_plan(opened: Opened, plan_id: str) -> None:
    """Pick ``plan_id`` from the list of stored plans and open it."""
    page = opened.page
    page.locator(f'#open-plan option[value="{plan_id}"]').wait_for(state="attached")
    page.get_by_label("Stored plan").select_option(plan_id)
    page.get_by_role("button", name="Open the plan").click()
    page.locator("#plan-title", has_text=plan_id).wait_for(timeout=15_000)


def open_typed(opened: Opened, plan_id: str) -> None:
    """Open ``plan_id`` by typing its id."""
    opened.page.get_by_label("Or type a day's, a plan's or a week's id").fill(plan_id)
    opened.page.get_by_label("Or type a day's, a plan's or a week's id").press("Enter")
    opened.page.locator("#plan-title", has_text=plan_id).wait_for(timeout=15_000)


def sign_in(opened: Opened, served: Served) -> None:
    page = opened.page
    page.goto(served.url + "/console")
    assert page.locator("#key-section").is_visible()
    assert not page.locator("#console").is_visible(), "nothing but the key form without a key"
    page.get_by_label("Dispatcher's API key").fill(served.key)
    page.get_by_role("button", name="Use this key").click()
    page.locator("#day-section").wait_for()
    assert not page.locator("#key-section").is_visible()


def upload_console_day(opened: Opened, folder: Path) -> None:
    """Upload :func:`console_day` as a JSON file from the console, and wait for it."""
    day_file = folder / "day.json"
    day_file.write_text(json.dumps(console_day()), encoding="utf-8")
    opened.page.get_by_label("Day file (.json)").set_input_files(str(day_file))
    opened.page.get_by_role("button", name="Upload the day").click()
    opened.page.locator("#day-loaded").wait_for()


def test_a_day_run_from_the_console(
    browser: Any, served: Served, tmp_path: Path, output_dir: Path
) -> None:
    opened = Opened(browser, 1280, 900)
    page = opened.page
    try:
        sign_in(opened, served)
        assert served.key not in page.url
        # Upload the day (JSON), then plan it and watch the job to its end.
        upload_console_day(opened, tmp_path)
        assert "6 visits" in opened.text("#day-summary")
        day_id = opened.text("#day-summary").split()[1].rstrip(":")
        # The day just stored is offered in the list of stored days, and chosen.
        listed_day = page.locator(f'#open-problem option[value="{day_id}"]')
        listed_day.wait_for(state="attached")
        assert listed_day.text_content() == f"2026-11-23 · {day_id} · 3 technicians, 6 visits"
        assert page.get_by_label("Stored day").input_value() == day_id
        page.get_by_label("Search time (seconds)").fill("1")
        page.get_by_role("button", name="Plan the day").click()
        page.locator("#plan-area .fr-bar").first.wait_for(timeout=60_000)
        assert opened.text("#job-state") == "done"
        plan_id = opened.text("#plan-title").split()[1]
        plan = served.get(f"/v1/plans/{plan_id}")
        stops = [stop for route in plan["routes"] for stop in route["stops"]]
        assert len(stops) >= 3
        listed_plan = page.locator(f'#open-plan option[value="{plan_id}"]')
        listed_plan.wait_for(state="attached")
        assert listed_plan.text_content() == f"2026-11-23 · {plan_id} v1 · {plan['status']}"
        assert page.get_by_label("Stored plan").input_value() == plan_id
        assert opened.count("#timeline .fr-bar") == len(stops), "one bar per stop"
        assert opened.count("#timeline .fr-row:not(.fr-axis)") == 3, "T2 too, idle, and T3"
        for route in plan["routes"]:  # km as the plan says them (2.5 was shown "3")
            who = page.locator(".fr-who", has_text=route["technician_id"]).first
            assert f"{route['distance_km']:.1f} km" in who.inner_text()
        (stranded,) = plan["technicians_without_route"]
        assert stranded["technician_id"] == "T3"
        assert opened.text("#timeline .fr-no-route") == f"No route: {stranded['reason']}"
        appointments = [s for s in stops if s["appointment"]]
        assert opened.count("#timeline .fr-band") == len(appointments)
        unassigned = page.locator("#unassigned-table tbody tr")
        assert unassigned.count() == len(plan["unassigned"]) >= 1
        assert "no_skill" in unassigned.first.inner_text()
        # The typed name is text: shown as written, nothing parsed or run.
        (typed,) = [s for s in stops if s["customer"] == PAYLOAD]
        page.locator(f'.fr-bar[data-visit="{typed["visit_id"]}"]').click()
        details = opened.text("#details-list")
        assert PAYLOAD in details and typed["address"] in details
        assert opened.count('img[src="x"]') == 0
        # The desk's map beside it, fetched with the key and shown in its sandboxed frame.
        frame = page.frame_locator("#map-frame")
        frame.locator(".fr-stop").first.wait_for(timeout=15_000)
        assert frame.locator(".fr-stop").count() == len(stops)
        # Keyboard: a bar takes focus, shows it, and Enter opens its details.
        page.locator(".fr-bar").first.focus()
        page.keyboard.press("Tab")
        page.keyboard.press("Shift+Tab")
        outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert outline != "none", "focus is visible"
        page.keyboard.press("Enter")
        focused = page.evaluate("document.activeElement.dataset.visit")
        assert f"Visit {focused}" == opened.text("#details-title")
        page.evaluate("document.getElementById('plan-area').scrollIntoView()")
        page.wait_for_timeout(300)
        opened.shoot(output_dir, "console")
        # T1, the only one who can fix water heaters, is two hours late just after their first
        # arrival: whatever the plan, their next customers must be called.
        (t1,) = [r for r in plan["routes"] if r["technician_id"] == "T1"]
        hour, minute = map(int, t1["stops"][0]["arrival"][11:16].split(":"))
        reported = f"{hour + (minute + 4) // 60:02d}:{(minute + 4) % 60:02d}"
        page.get_by_label("Time of the report").fill(reported)
        page.get_by_label("Technician", exact=True).select_option("T1")
        page.get_by_label("Minutes late").fill("120")
        page.get_by_label("Reason for the delay").fill("van broke down <b>on</b> the bridge")
        page.get_by_role("button", name="Post the delay").click()
        page.locator("#calls-table tbody tr").first.wait_for(timeout=30_000)
        assert "version 2" in opened.text("#plan-title")
        latest = served.get(f"/v1/plans/{plan_id}")
        calls = [c for c in latest["changes"] if c["notify"]]
        assert calls, "a two-hour delay moves someone's promised time"
        shown = page.locator("#calls-table .fr-call-customer").all_inner_texts()
        assert shown == [c["customer"] for c in calls]
        assert opened.count("#timeline .fr-bar") == sum(len(r["stops"]) for r in latest["routes"])
        opened.shoot(output_dir, "console-calls")
        # A driver's phone reports an arrival: the timeline shows it without a reload.
        first = next(r["stops"][0] for r in latest["routes"] if r["stops"])
        served.post(
            f"/v1/plans/{plan_id}/events",
            {"at": "10:00", "events": [{"type": "arrived", "visit_id": first["visit_id"]}]},
            **{"If-Match": '"2"'},
        )
        page.locator("#plan-title", has_text="version 3").wait_for(timeout=20_000)
        bar = page.locator(f'.fr-bar[data-visit="{first["visit_id"]}"]')
        assert "is-late" in bar.get_attribute("class") or "arrived" in bar.get_attribute(
            "aria-label"
        )
        page.locator("#open-plan option", has_text=f"{plan_id} v3").wait_for(state="attached")
        opened.ran_nothing_typed()
    finally:
        opened.close()
    # Another tab (another desk): sign in, pick the plan from the list, and its day comes along.
    again = Opened(browser, 1280, 900)
    page = again.page
    try:
        sign_in(again, served)
        assert not page.locator("#plan-area").is_visible()
        page.get_by_label("Stored plan").select_option(plan_id)
        page.get_by_role("button", name="Open the plan").click()
        page.locator("#plan-title", has_text="version 3").wait_for(timeout=15_000)
        latest = served.get(f"/v1/plans/{plan_id}")
        assert again.count("#timeline .fr-bar") == sum(len(r["stops"]) for r in latest["routes"])
        names = again.text("#timeline")
        assert "Li Wei" in names and "Chen Jun" in names, "the day it was planned for, opened"
        assert again.text("#day-summary").startswith(f"Day {day_id}: 2026-11-23")
        assert page.get_by_label("Stored day").input_value() == day_id
        again.ran_nothing_typed()
    finally:
        again.close()
    assert served.log is not None
    assert served.key not in served.log.read_text(encoding="utf-8"), "the key is in no log"


def test_the_console_on_a_phone(browser: Any, served: Served, output_dir: Path) -> None:
    problem, job = solved(served, console_day())
    opened = Opened(browser, 375, 812)
    page = opened.page
    try:
        sign_in(opened, served)
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        # Pick the day from the list and open it, then the plan: no id typed.
        page.get_by_label("Stored day").select_option(problem)
        page.get_by_role("button", name="Open the day").click()
        page.locator("#day-loaded").wait_for()
        assert opened.text("#day-summary").startswith(f"Day {problem}: 2026-11-23")
        page.get_by_label("Stored plan").select_option(job["plan_id"])
        page.get_by_role("button", name="Open the plan").click()
        page.locator("#plan-area .fr-bar").first.wait_for(timeout=15_000)
        plan = served.get(f"/v1/plans/{job['plan_id']}")
        assert opened.count("#timeline .fr-bar") == sum(len(r["stops"]) for r in plan["routes"])
        assert "Chen Jun" in opened.text("#timeline"), "the day opened beside it names them"
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, "the timeline scrolls inside its box, the page does not"
        page.locator("#timeline-section").scroll_into_view_if_needed()
        opened.shoot(output_dir, "console-phone")
        opened.ran_nothing_typed()
        # Forgetting the key leaves only the key form.
        page.get_by_role("button", name="Forget the key").click()
        assert page.locator("#key-section").is_visible()
        assert not page.locator("#console").is_visible()
        assert page.evaluate("sessionStorage.length") == 0
        assert opened.count("#open-plan option") == 1, "the lists are emptied too"
        assert served.key not in json.dumps(
            page.evaluate("Object.assign({}, sessionStorage, localStorage)")
        )
    finally:
        opened.close()


def test_the_cancel_list_offers_only_stops_not_yet_reached(browser: Any, desk: Served) -> None:
    """A visit the technician reached (arrived, started) or left cannot be cancelled: the
    list offers only stops still planned."""
    events = f"/v1/plans/{SHANGHAI_PLAN}/events"
    arrived = {"type": "arrived", "visit_id": "V1", "at": "08:12"}
    desk.post(events, {"at": "08:12", "events": [arrived]}, **{"If-Match": '"1"'})
    opened = Opened(browser, 1280, 900)
    page = opened.page
    shanghai = ZoneInfo("Asia/Shanghai")
    page.clock.set_fixed_time(datetime(2026, 11, 23, 8, 12, 30, tzinfo=shanghai))
    try:
        sign_in(opened, desk)
        open_plan(opened, SHANGHAI_PLAN)
        offered = page.locator("#cancel-visit option")
        assert offered.evaluate_all("all => all.map(o => o.value)") == ["V2", "V3"]
        # Reported at 09:00, V2 (planned 08:50) is taken as under way or done: the API
        # refuses to cancel it, and the list no longer offers it.
        page.get_by_label("Time of the report").fill("09:00")
        assert offered.evaluate_all("all => all.map(o => o.value)") == ["V3"]
        page.get_by_label("Time of the report").fill("")
        started = {"type": "started", "visit_id": "V1", "at": "08:14"}
        desk.post(events, {"at": "08:14", "events": [started]}, **{"If-Match": '"2"'})
        page.locator("#plan-title", has_text="version 3").wait_for(timeout=20_000)
        assert desk.get(f"/v1/plans/{SHANGHAI_PLAN}")["routes"][0]["stops"][0]["status"] == (
            "in_progress"
        )
        assert offered.evaluate_all("all => all.map(o => o.value)") == ["V2", "V3"]
        opened.ran_nothing_typed()
    finally:
        opened.close()


def bar_marks(browser: Any, served: Served, plan_id: str) -> dict[str, str]:
    """The classes of each visit's bar on the timeline of ``plan_id`` opened in the console
    (``is-late``, ``is-done``...), by visit."""
    opened = Opened(browser, 1280, 900)
    try:
        sign_in(opened, served)
        open_plan(opened, plan_id)
        bars = opened.page.locator("#timeline .fr-bar")
        bars.first.wait_for()
        marks: dict[str, str] = bars.evaluate_all(
            "all => Object.fromEntries(all.map(b => [b.dataset.visit, b.className]))"
        )
        opened.ran_nothing_typed()
        return marks
    finally:
        opened.close()


def test_a_stop_reached_after_its_window_is_marked_late(browser: Any, desk: Served) -> None:
    """Read from the planned start, a stop reached at 09:40 for a window to 09:15, only
    Arrived and Done tapped, showed "done ✓" while the time card had it 25 minutes late."""
    events = f"/v1/plans/{SHANGHAI_PLAN}/events"
    reports = [
        {"type": "arrived", "visit_id": "V1", "at": "08:10"},
        {"type": "completed", "visit_id": "V1", "at": "08:40"},
        {"type": "arrived", "visit_id": "V2", "at": "09:40"},
        {"type": "completed", "visit_id": "V2", "at": "10:10"},
    ]
    desk.post(events, {"at": "10:15", "events": reports}, **{"If-Match": '"1"'})
    marks = bar_marks(browser, desk, SHANGHAI_PLAN)
    assert "is-late" in marks["V2"] and "is-late" not in marks["V1"], marks


def test_an_urgent_fault_reached_past_its_response_time_is_marked_late(
    browser: Any, tmp_path: Path
) -> None:
    """V3, an urgent fault called in at 07:40 (to be reached by 09:40), reached at 09:50
    inside its window: the console had it "arrived", never late."""
    visits = line_day()["visits"]
    visits[2] |= {"priority": "urgent", "reported_at": "07:40"}
    database_url = f"sqlite:///{tmp_path / 'urgent.db'}"
    store_line_day(database_url, visits=visits)
    reports = [
        {"type": "arrived", "visit_id": "V1", "at": "08:10"},
        {"type": "completed", "visit_id": "V1", "at": "08:40"},
        {"type": "arrived", "visit_id": "V2", "at": "08:50"},
        {"type": "completed", "visit_id": "V2", "at": "09:20"},
        {"type": "arrived", "visit_id": "V3", "at": "09:50"},
    ]
    with serving(database_url) as base:
        desk = Served(base, make_key(database_url))
        events = f"/v1/plans/{PLAN_ID}/events"
        desk.post(events, {"at": "09:55", "events": reports}, **{"If-Match": '"1"'})
        marks = bar_marks(browser, desk, PLAN_ID)
    assert "is-late" in marks["V3"] and "is-late" not in marks["V2"], marks


def test_the_plan_s_figures_count_an_urgent_fault_left_out_as_not_in_time(
    browser: Any, tmp_path: Path
) -> None:
    """V1 and V2, urgent faults called in at 08:00 with two hours of work each: one is left
    out. The console said nothing of the urgent response, the CLI "100%" of the one served."""
    visits = line_day()["visits"]
    for visit in visits[:2]:
        visit |= {"priority": "urgent", "reported_at": "08:00", "duration_min": 120}
    database_url = f"sqlite:///{tmp_path / 'urgent.db'}"
    store_line_day(database_url, visits=visits)
    with serving(database_url) as base:
        desk = Served(base, make_key(database_url))
        opened = Opened(browser, 1280, 900)
        try:
            sign_in(opened, desk)
            open_plan(opened, PLAN_ID)
            figures = opened.text("#plan-kpis")
        finally:
            opened.close()
    assert "urgent within response 1/2 (50%)" in figures, figures


def test_a_solve_is_followed_through_a_lost_poll_and_a_key_given_again(
    browser: Any, served: Served, tmp_path: Path
) -> None:
    """One poll of the job lost (the network down a moment) ended the watch: the plan stored
    and never shown, "Plan the day" enabled for a second solve. The key forgotten during the
    solve, then given again, left the job forgotten and the button disabled."""
    opened = Opened(browser, 1280, 900)
    page = opened.page
    try:
        sign_in(opened, served)
        upload_console_day(opened, tmp_path)
        page.get_by_label("Search time (seconds)").fill("4")
        dropped: list[str] = []

        def drop_once(route: Any) -> None:
            if dropped:
                route.continue_()
            else:
                dropped.append(route.request.url)
                route.abort("internetdisconnected")

        page.route("**/v1/jobs/*", drop_once)
        page.get_by_role("button", name="Plan the day").click()
        page.locator("#problems-title", has_text="cannot be reached").wait_for()
        assert page.locator("#solve-button").is_disabled(), "no second solve meanwhile"
        page.get_by_role("button", name="Forget the key").click()
        page.get_by_label("Dispatcher's API key").fill(served.key)
        page.get_by_role("button", name="Use this key").click()
        page.locator("#plan-area .fr-bar").first.wait_for(timeout=60_000)
        assert dropped and opened.text("#job-state") == "done"
        assert not page.locator("#problems").is_visible(), "the service answered again"
        assert page.locator("#solve-button").is_enabled()
        assert len(served.get("/v1/plans")) == 1, "one solve"
    finally:
        opened.close()


def test_a_visit_not_completed_is_marked_to_book_again_not_done(browser: Any, desk: Served) -> None:
    events = f"/v1/plans/{SHANGHAI_PLAN}/events"
    reports = [
        {"type": "arrived", "visit_id": "V1", "at": "08:10"},
        {"type": "not_completed", "visit_id": "V1", "at": "08:20", "reason": "no part"},
    ]
    desk.post(events, {"at": "08:25", "events": reports}, **{"If-Match": '"1"'})
    opened = Opened(browser, 1280, 900)
    try:
        sign_in(opened, desk)
        open_plan(opened, SHANGHAI_PLAN)
        bar = opened.page.locator('#timeline .fr-bar[data-visit="V1"]')
        bar.wait_for()
        assert "is-unfinished" in (bar.get_attribute("class") or "")
        assert "not completed" in (bar.get_attribute("aria-label") or bar.inner_text())
    finally:
        opened.close()


def test_a_double_click_stores_one_day_and_starts_one_solve(
    browser: Any, desk: Served, tmp_path: Path
) -> None:
    """Double clicks on "Upload the day", "Upload the sheets" and "Plan the day" each send
    their request once (two days, two solves, two plans stored were the dispatcher's lot)."""
    day_file = tmp_path / "day.json"
    day_file.write_text(json.dumps(console_day()), encoding="utf-8")
    (tmp_path / "technicians.csv").write_text(TECHNICIANS_CSV, encoding="utf-8")
    (tmp_path / "visits.csv").write_text(VISITS_CSV, encoding="utf-8")
    opened = Opened(browser, 1280, 900)
    page = opened.page
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if r.method == "POST" else None)
    try:
        sign_in(opened, desk)
        page.get_by_label("Day file (.json)").set_input_files(str(day_file))
        page.get_by_role("button", name="Upload the day").dblclick()
        page.locator("#status", has_text="stored").wait_for()
        page.get_by_label("Search time (seconds)").fill("1")
        page.get_by_role("button", name="Plan the day").dblclick()
        page.locator("#plan-area .fr-bar").first.wait_for(timeout=60_000)
        page.get_by_label("Date").fill("2026-11-23")
        page.get_by_label("Time zone").fill("Asia/Shanghai")
        page.get_by_label("Technicians sheet").set_input_files(str(tmp_path / "technicians.csv"))
        page.get_by_label("Visits sheet").set_input_files(str(tmp_path / "visits.csv"))
        page.get_by_role("button", name="Upload the sheets").dblclick()
        page.locator("#status", has_text="stored from the sheets").wait_for()
        page.wait_for_timeout(500)  # a second request would be on its way by now
        assert sent.count(f"{desk.url}/v1/problems") == 2, "the JSON day once, the sheets once"
        assert sent.count(f"{desk.url}/v1/plans") == 1
        assert len(desk.get("/v1/plans?limit=200")) == 3, "the two stored and the one planned"
        opened.ran_nothing_typed()
    finally:
        opened.close()


def test_the_call_list_offers_another_day_for_a_visit_not_completed(
    browser: Any, desk: Served
) -> None:
    """A visit the driver could not complete stays on the route (the attempt) and is
    unassigned, to be booked again: its customer is offered another day, not a time today."""
    failed = {"type": "not_completed", "visit_id": "V1", "reason": "no part", "at": "08:30"}
    plan = desk.post(
        f"/v1/plans/{SHANGHAI_PLAN}/events",
        {"at": "08:30", "events": [failed]},
        **{"If-Match": '"1"'},
    )
    (change,) = [c for c in plan["changes"] if c["visit_id"] == "V1"]
    assert change["notify"] and plan["routes"][0]["stops"][0]["promised_window"]
    assert [u["code"] for u in plan["unassigned"] if u["visit_id"] == "V1"] == ["not_completed"]
    opened = Opened(browser, 1280, 900)
    page = opened.page
    try:
        sign_in(opened, desk)
        open_plan(opened, SHANGHAI_PLAN)
        row = page.locator("#calls-table tbody tr", has_text="V1")
        assert row.locator("td").nth(3).inner_text() == "cannot be served today: offer another day"
        opened.ran_nothing_typed()
    finally:
        opened.close()


def test_the_call_list_keeps_every_customer_to_call_through_later_versions(
    browser: Any, desk: Served
) -> None:
    """A re-plan that asks no call (a driver's arrival seconds after a delay) leaves the call
    list as it was: it shows every customer the service lists to call, each once."""
    events = f"/v1/plans/{SHANGHAI_PLAN}/events"
    late = {"type": "delay", "technician_id": "T1", "minutes": 60}
    desk.post(events, {"at": "08:00", "events": [late]}, **{"If-Match": '"1"'})
    opened = Opened(browser, 1280, 900)
    page = opened.page
    rows = page.locator("#calls-table tbody tr")

    def shown() -> dict[str, str]:
        return {row.locator("td").first.inner_text(): row.inner_text() for row in rows.all()}

    try:
        sign_in(opened, desk)
        open_plan(opened, SHANGHAI_PLAN)
        page.locator("#calls-title", has_text="Call list (3)").wait_for()
        assert list(shown()) == ["V1", "V2", "V3"]
        assert "cannot be served today" in shown()["V2"], "V2's window is out of reach"
        arrived = {"type": "arrived", "visit_id": "V1", "at": "09:12"}
        third = desk.post(events, {"at": "09:12", "events": [arrived]}, **{"If-Match": '"2"'})
        assert not [c for c in third["changes"] if c["notify"]], "nobody more to call"
        page.locator("#plan-title", has_text="version 3").wait_for(timeout=20_000)
        page.locator("#calls-title", has_text="Call list (3)").wait_for()
        assert list(shown()) == ["V1", "V2", "V3"]
        # V3 moved again: listed once, with its latest window.
        again = {"type": "delay", "technician_id": "T1", "minutes": 60}
        fourth = desk.post(events, {"at": "09:13", "events": [again]}, **{"If-Match": '"3"'})
        (v3,) = [s for s in fourth["routes"][0]["stops"] if s["visit_id"] == "V3"]
        assert [c["visit_id"] for c in fourth["changes"] if c["notify"]] == ["V3"]
        page.locator("#plan-title", has_text="version 4").wait_for(timeout=20_000)
        window = v3["promised_window"]
        told = f"between {window['start'][11:16]} and {window['end'][11:16]} (T1)"
        page.locator("#calls-table tbody tr", has_text=told).wait_for()
        listed = desk.get(f"/v1/plans/{SHANGHAI_PLAN}/changes?notify=true")["versions"]
        assert {c["visit_id"] for v in listed for c in v["changes"]} == set(shown())
        assert list(shown()) == ["V1", "V2", "V3"]
        opened.ran_nothing_typed()
    finally:
        opened.close()


def test_the_time_of_the_report_follows_the_plan_shown_and_the_clock(
    browser: Any, desk: Served
) -> None:
    """The report's time is the clock now in the zone of the plan shown: opening a New York
    plan after a Shanghai one does not keep Shanghai's time, a console left open does not post
    the time it was opened at, and a time typed for one plan is not used for another."""
    new_york = ZoneInfo("America/New_York")
    opened = Opened(browser, 1280, 900)
    page = opened.page
    box = page.get_by_label("Time of the report")
    note = page.locator("#event-at-note")
    page.clock.set_fixed_time(datetime(2026, 11, 23, 8, 30, 5, tzinfo=new_york))  # 21:30 there
    try:
        sign_in(opened, desk)
        open_plan(opened, SHANGHAI_PLAN)
        assert box.input_value() == "21:30"
        assert note.inner_text().startswith("Asia/Shanghai time, now")
        open_plan(opened, NEW_YORK_PLAN)
        assert box.input_value() == "08:30"
        assert note.inner_text().startswith("America/New_York time, now")
        # A quarter of an hour later, the delay is posted at the time it is posted.
        page.clock.set_fixed_time(datetime(2026, 11, 23, 8, 45, 5, tzinfo=new_york))
        page.get_by_label("Minutes late").fill("10")
        page.get_by_role("button", name="Post the delay").click()
        page.locator("#plan-title", has_text="version 2").wait_for(timeout=20_000)
        assert desk.get(f"/v1/plans/{NEW_YORK_PLAN}")["at"] == "2026-11-23T08:45:00-05:00"
        # A time typed for New York stays through a check for new versions, for this plan...
        box.fill("08:50")
        assert note.inner_text().startswith("America/New_York time, as typed")
        page.locator("#plan-refresh", has_text="08:45").wait_for()
        page.clock.set_fixed_time(datetime(2026, 11, 23, 8, 46, 5, tzinfo=new_york))
        page.locator("#plan-refresh", has_text="08:46").wait_for(timeout=15_000)
        assert box.input_value() == "08:50"
        # ... and is not Shanghai's, nor New York's once another plan was opened.
        open_plan(opened, SHANGHAI_PLAN)
        assert box.input_value() == "21:46"
        open_plan(opened, NEW_YORK_PLAN)
        assert box.input_value() == "08:46"
        box.fill("08:50")
        page.get_by_role("button", name="Post the delay").click()
        page.locator("#plan-title", has_text="version 3").wait_for(timeout=20_000)
        assert desk.get(f"/v1/plans/{NEW_YORK_PLAN}")["at"] == "2026-11-23T08:50:00-05:00"
        opened.ran_nothing_typed()
    finally:
        opened.close()


def test_a_week_from_the_console(browser: Any, tmp_path: Path) -> None:
    """A horizon in the console: listed and opened as a week (it showed "Day pb_…: undefined"),
    planned into its day plans (the page asked GET /v1/plans/wk_… and failed on the 404), and
    a visit a re-plan moves to another date told to its customer with that date's window, not
    "cannot be served today: offer another day"."""
    dates = {MONDAY: "2026-11-23", TUESDAY: "2026-11-24", WEDNESDAY: "2026-11-25"}
    text = json.dumps(week())
    for old, new in dates.items():  # the week of the service's clock, SERVICE_NOW
        text = text.replace(old, new)
    raw = json.loads(text)
    # One visit nobody can serve: in no day plan, only the week's own unassigned.
    nobody = raw["visits"][0] | {"id": "X9", "required_skills": ["piano"]}
    raw["visits"].append(nobody)
    database_url = f"sqlite:///{tmp_path / 'week.db'}"
    store = Store(database_url)
    try:
        plans = store_week(store, raw, {dates[d]: v for d, v in PLACED.items()})
    finally:
        store.close()
    with serving(database_url) as base:
        served = Served(base, make_key(database_url))
        horizon = served.post("/v1/problems", raw)
        opened = Opened(browser, 1280, 900)
        page = opened.page
        try:
            sign_in(opened, served)
            listed = page.locator(
                f'#open-problem option[value="{horizon["problem_id"]}"]',
                has_text="week of 3 days from 2026-11-23",
            )
            listed.wait_for(state="attached")
            page.get_by_label("Stored day (newest first)").select_option(horizon["problem_id"])
            page.get_by_role("button", name="Open the day").click()
            page.locator("#day-summary", has_text="week of 3 days from 2026-11-23").wait_for()
            page.get_by_label("Search time (seconds)").fill("1")
            page.get_by_role("button", name="Plan the day").click()
            page.locator("#status", has_text="Week wk_").wait_for(timeout=60_000)
            assert page.locator("#plan-title", has_text="pl_").is_visible()
            # The visit no day took is said (the console showed "Unassigned (0)").
            left = page.locator("#problems")
            assert "fit no day of it" in left.inner_text() and "X9" in left.inner_text()
            # Its id typed in opens it again (it said "is a week, not a plan").
            week_id = page.locator("#status").inner_text().split()[1].rstrip(":")
            assert week_id.startswith("wk_")
            page.get_by_label("Or type a day's, a plan's or a week's id").fill(week_id)
            page.get_by_label("Or type a day's, a plan's or a week's id").press("Enter")
            page.locator("#status", has_text=f"Week {week_id} planned").wait_for()
            # Monday's technician falls ill: S1 moves to Tuesday.
            ill = {"at": "07:30", "events": [
                {"type": "unavailable", "technician_id": "T1", "reason": "ill"}]}  # fmt: skip
            monday = served.post(f"/v1/plans/{plans['2026-11-23']}/events", ill)
            (moved,) = [c for c in monday["changes"] if c["visit_id"] == "S1"]
            assert moved["new_date"] == "2026-11-24"
            open_plan(opened, plans["2026-11-23"])
            window = moved["new_window"]
            told = (
                f"moved to 2026-11-24, between {window['start'][11:16]} and "
                f"{window['end'][11:16]} ({moved['new_technician']})"
            )
            row = page.locator("#calls-table tbody tr", has_text="S1")
            row.wait_for()
            assert row.locator("td").nth(3).inner_text() == told
            change = page.locator("#changes-table tbody tr", has_text="S1")
            assert "2026-11-24 " in change.inner_text(), "the new date beside the new time"
            opened.ran_nothing_typed()
        finally:
            opened.close()


def test_a_report_on_tomorrow_s_plan_is_timed_before_its_day_begins(
    browser: Any, tmp_path: Path
) -> None:
    """Tomorrow's plan opened at 21:30: the report's time was now (21:30), read on tomorrow's
    date, so a cancellation took every stop as made by 21:30 tomorrow and was refused, and a
    delay left the whole day done with nobody reporting (a fresh-eyes hunt of the desk). A day
    to come is reported at its start (or its last re-plan)."""
    shanghai = ZoneInfo("Asia/Shanghai")
    database_url = f"sqlite:///{tmp_path / 'desk.db'}"
    store_line_day(database_url, plan_id="pl_tomorrow", problem_id="pb_tomorrow", date="2026-11-24")
    opened = Opened(browser, 1280, 900)
    page = opened.page
    page.clock.set_fixed_time(datetime(2026, 11, 23, 21, 30, 5, tzinfo=shanghai))
    try:
        with serving(database_url) as base:
            desk = Served(base, make_key(database_url))
            sign_in(opened, desk)
            open_plan(opened, "pl_tomorrow")
            assert page.get_by_label("Time of the report").input_value() == "00:00"
            note = page.locator("#event-at-note").inner_text()
            assert note.startswith("Asia/Shanghai time on 2026-11-24, a day to come")
            page.locator("#cancel-visit").select_option("V2")
            page.get_by_role("button", name="Post the cancellation").click()
            page.locator("#plan-title", has_text="version 2").wait_for(timeout=20_000)
            plan = desk.get("/v1/plans/pl_tomorrow")
            assert plan["at"] == "2026-11-24T00:00:00+08:00"
            assert [(s["visit_id"], s["status"]) for r in plan["routes"] for s in r["stops"]] == [
                ("V1", "planned"),
                ("V3", "planned"),
            ]
            opened.ran_nothing_typed()
    finally:
        opened.close()


def solved(served: Served, raw: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """``raw`` stored and planned in one second through ``served``'s API: its problem's id
    and the job, done."""
    problem = served.post("/v1/problems", raw)["problem_id"]
    job = served.post("/v1/plans", {"problem_id": problem, "time_limit_s": 1})
    deadline = time.monotonic() + 60
    while (job := served.get(f"/v1/jobs/{job['id']}"))["state"] not in ("done", "failed"):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert job["state"] == "done"
    return problem, job


def planned(served: Served, raw: dict[str, Any]) -> dict[str, Any]:
    """``raw`` stored and planned in one second through ``served``'s API: its plan."""
    _, job = solved(served, raw)
    return served.get(f"/v1/plans/{job['plan_id']}")


#: The desk map's zoom and centre, read in the console's map frame (folium names it ``map_…``).
MAP_VIEW = (
    "() => { const chart = window[Object.keys(window).find((k) => k.startsWith('map_'))];"
    " const centre = chart.getCenter();"
    " return [chart.getZoom(), centre.lat.toFixed(5), centre.lng.toFixed(5)]; }"
)


def map_view(page: Any, version: int) -> list[Any]:
    """The view of the map frame once the map of ``version`` is drawn in it and has settled."""
    page.locator("#map-note", has_text=f"Version {version}.").wait_for(timeout=20_000)
    page.frame_locator("#map-frame").locator(".fr-stop").first.wait_for(timeout=15_000)
    page.wait_for_timeout(1_000)  # the frame's load, and the console's answer to it
    (frame,) = [frame for frame in page.frames if frame != page.main_frame]
    view: list[Any] = frame.evaluate(MAP_VIEW)
    return view


def test_a_new_version_keeps_the_map_where_the_dispatcher_moved_it(
    browser: Any, desk: Served
) -> None:
    """A driver's report made a new version, whose map replaced the frame's page: the map
    jumped back to the whole day, and a dispatcher zoomed on a street lost it every few
    seconds. The view they chose stays; a plan opened again shows its whole day."""
    plan = planned(desk, console_day())
    first = next(route["stops"][0] for route in plan["routes"] if route["stops"])
    opened = Opened(browser, 1280, 900)
    page = opened.page
    try:
        sign_in(opened, desk)
        open_plan(opened, plan["plan_id"])
        whole_day = map_view(page, 1)
        zoom_in = page.frame_locator("#map-frame").locator(".leaflet-control-zoom-in")
        for _ in range(2):
            zoom_in.click()
            page.wait_for_timeout(400)  # the zoom's animation
        (frame,) = [frame for frame in page.frames if frame != page.main_frame]
        chosen = frame.evaluate(MAP_VIEW)
        assert chosen[0] == whole_day[0] + 2
        arrived = {"type": "arrived", "visit_id": first["visit_id"]}
        desk.post(
            f"/v1/plans/{plan['plan_id']}/events",
            {"at": first["arrival"][11:16], "events": [arrived]},
            **{"If-Match": '"1"'},
        )
        page.locator("#plan-title", has_text="version 2").wait_for(timeout=20_000)
        assert map_view(page, 2) == chosen
        open_typed(opened, SHANGHAI_PLAN)
        page.locator("#map-note", has_text="Version 1.").wait_for()
        open_typed(opened, plan["plan_id"])
        assert map_view(page, 2) == whole_day
        opened.ran_nothing_typed()
    finally:
        opened.close()


#: What has the keyboard's focus: a visit's button by its visit, another control by its id.
FOCUSED = (
    "(() => { const a = document.activeElement; return a.dataset.visit || a.id || a.tagName; })()"
)


def test_a_new_version_keeps_the_keyboard_on_the_visit_it_was_on(
    browser: Any, desk: Served
) -> None:
    """A keyboard user on a visit of the timeline when a driver's report arrived was thrown
    to the top of the page (the timeline is drawn anew): the focus stays on that visit, and
    goes to the timeline when the visit is no longer on it."""
    events = f"/v1/plans/{SHANGHAI_PLAN}/events"
    opened = Opened(browser, 1280, 900)
    page = opened.page
    try:
        sign_in(opened, desk)
        open_plan(opened, SHANGHAI_PLAN)
        page.locator('.fr-bar[data-visit="V2"]').focus()
        arrived = {"type": "arrived", "visit_id": "V1", "at": "08:10"}
        desk.post(events, {"at": "08:25", "events": [arrived]}, **{"If-Match": '"1"'})
        page.locator("#plan-title", has_text="version 2").wait_for(timeout=20_000)
        assert page.evaluate(FOCUSED) == "V2"
        page.keyboard.press("Tab")
        assert page.evaluate(FOCUSED) == "V3", "the next Tab goes on from there"
        cancelled = {"type": "cancelled", "visit_id": "V3"}
        desk.post(events, {"at": "08:30", "events": [cancelled]}, **{"If-Match": '"2"'})
        page.locator("#plan-title", has_text="version 3").wait_for(timeout=20_000)
        assert page.locator('#timeline .fr-bar[data-visit="V3"]').count() == 0
        assert page.evaluate(FOCUSED) == "timeline-section"
        opened.ran_nothing_typed()
    finally:
        opened.close()


def test_a_plan_picked_and_not_yet_opened_stays_picked_when_a_version_arrives(
    browser: Any, desk: Served
) -> None:
    """The stored plans are listed again when a driver's report makes a new version of the
    plan shown: the list chose the open plan again over the one the dispatcher had just
    picked, and "Open the plan" opened the wrong one. The pick stays until a plan is opened."""
    opened = Opened(browser, 1280, 900)
    page = opened.page
    try:
        sign_in(opened, desk)
        open_plan(opened, SHANGHAI_PLAN)
        page.get_by_label("Stored plan").select_option(NEW_YORK_PLAN)
        arrived = {"type": "arrived", "visit_id": "V1", "at": "08:10"}
        desk.post(
            f"/v1/plans/{SHANGHAI_PLAN}/events",
            {"at": "08:25", "events": [arrived]},
            **{"If-Match": '"1"'},
        )
        page.locator("#plan-title", has_text="version 2").wait_for(timeout=20_000)
        # The list is filled again once it names the new version.
        listed = page.locator(f'#open-plan option[value="{SHANGHAI_PLAN}"]', has_text=" v2 ")
        listed.wait_for(state="attached", timeout=20_000)
        assert page.get_by_label("Stored plan").input_value() == NEW_YORK_PLAN
        page.get_by_role("button", name="Open the plan").click()
        page.locator("#plan-title", has_text=NEW_YORK_PLAN).wait_for(timeout=15_000)
        assert page.get_by_label("Stored plan").input_value() == NEW_YORK_PLAN
        opened.ran_nothing_typed()
    finally:
        opened.close()


@pytest.mark.parametrize(
    ("date", "browser_hour", "replanned_at", "note"),
    [
        # A day gone by: yesterday's plan, re-planned at 23:58, opened at noon.
        ("2026-11-22", 12, "23:58", " on 2026-11-22, a day gone by: at its last"),
        # Today's, re-planned at 11:30 by the service (its clock at noon), opened where the
        # computer's clock is behind it (11:00).
        ("2026-11-23", 11, "11:30", ", re-planned after this computer's now: at"),
    ],
)
def test_a_report_on_a_plan_re_planned_after_the_browser_s_now_is_timed_at_that_re_plan(
    browser: Any, tmp_path: Path, date: str, browser_hour: int, replanned_at: str, note: str
) -> None:
    """The report's time was the computer's now (12:00 or 11:00), before the day's last
    re-plan, and every report was refused ("events must move forward in time") while the note
    said to type an earlier one. A day gone by, or re-planned after this computer's now, is
    reported at its last re-plan (or its start)."""
    shanghai = ZoneInfo("Asia/Shanghai")
    database_url = f"sqlite:///{tmp_path / 'desk.db'}"
    store_line_day(database_url, plan_id="pl_day", problem_id="pb_day", date=date)
    opened = Opened(browser, 1280, 900)
    page = opened.page
    page.clock.set_fixed_time(datetime(2026, 11, 23, browser_hour, 0, 5, tzinfo=shanghai))
    try:
        with serving(database_url) as base:
            desk = Served(base, make_key(database_url))
            late = {"type": "delay", "technician_id": "T1", "minutes": 20}
            desk.post(
                "/v1/plans/pl_day/events",
                {"at": replanned_at, "events": [late]},
                **{"If-Match": '"1"'},
            )
            sign_in(opened, desk)
            open_plan(opened, "pl_day")
            assert page.get_by_label("Time of the report").input_value() == replanned_at
            said = page.locator("#event-at-note").inner_text()
            assert said.startswith(f"Asia/Shanghai time{note}")
            page.get_by_role("button", name="Post the delay").click()
            page.locator("#plan-title", has_text="version 3").wait_for(timeout=20_000)
            assert desk.get("/v1/plans/pl_day")["at"] == f"{date}T{replanned_at}:00+08:00"
            opened.ran_nothing_typed()
    finally:
        opened.close()


def test_a_week_s_day_plans_are_listed_in_date_order(browser: Any, tmp_path: Path) -> None:
    """A week stores its day plans at one moment: "Stored plan (newest first)" listed them in
    id order, the dates jumbled (12-09, 12-07, 12-08). They follow the week's dates."""
    dates = ("2026-12-07", "2026-12-08", "2026-12-09")
    days = [week_day(date, f"pl_{i}", f"pb_{i}") for date, i in zip(dates, "zam", strict=True)]
    database_url = f"sqlite:///{tmp_path / 'week.db'}"
    store = Store(database_url)
    try:
        horizon = {"horizon": {"start": dates[0], "days": 3}, "technicians": [], "visits": []}
        store.save_week(week=week_of("wk_1", days), problem_id="pb_h", problem=horizon, days=days)
    finally:
        store.close()
    opened = Opened(browser, 1280, 900)
    page = opened.page
    try:
        with serving(database_url) as base:
            sign_in(opened, Served(base, make_key(database_url)))
            page.locator('#open-plan option[value="pl_m"]').wait_for(state="attached")
            listed = page.locator("#open-plan option").all_inner_texts()[1:]
            assert [text[:10] for text in listed] == list(dates)
            opened.ran_nothing_typed()
    finally:
        opened.close()


def store_big_day(database_url: str) -> None:
    """Store a generated day of 31 technicians (60 visits, planned at the first solution
    found) and its plan as ``pl_big`` version 1: a timeline taller than the screen."""
    raw = generate_day(60, seed=7, technicians=31)
    problem = parse_problem(raw)
    quick = SolveParams(time_limit_s=5, metaheuristic="greedy_descent", solution_limit=1)
    plan = plan_day(problem, params=quick)
    created = datetime.now(UTC)
    document = plan_document(problem, plan, plan_id="pl_big", version=1, created_at=created)
    store = Store(database_url)
    try:
        store.save_problem_and_plan(
            raw, document.model_dump(mode="json"), problem_id="pb_big", record=plan_record(plan)
        )
    finally:
        store.close()


#: Where the visit's details are: their top and bottom, and the height of the view.
DETAILS_AT = (
    "(() => { const box = document.getElementById('details-list').getBoundingClientRect();"
    " return [box.top, box.bottom, innerHeight]; })()"
)


@pytest.mark.parametrize("width, height", [(1280, 900), (375, 800)])
def test_a_visit_clicked_on_a_big_day_shows_its_details_in_view(
    browser: Any, tmp_path: Path, width: int, height: int
) -> None:
    """On a day of 31 technicians the details of a visit clicked on the timeline filled a card
    below the whole timeline, far out of view: the click looked like it did nothing."""
    database_url = f"sqlite:///{tmp_path / 'big.db'}"
    store_big_day(database_url)
    opened = Opened(browser, width, height)
    page = opened.page
    try:
        with serving(database_url) as base:
            sign_in(opened, Served(base, make_key(database_url)))
            open_plan(opened, "pl_big")
            assert opened.count("#timeline .fr-row:not(.fr-axis)") == 31
            bar = page.locator("#timeline .fr-bar").first
            bar.scroll_into_view_if_needed()
            top, _, view = page.evaluate(DETAILS_AT)
            assert top > view, "the details card starts below the view: a day big enough"
            bar.click()
            visit = bar.get_attribute("data-visit")
            assert opened.text("#details-title") == f"Visit {visit}"
            top, bottom, view = page.evaluate(DETAILS_AT)
            assert top >= 0 and bottom <= view, "the visit's details are in view"
            assert page.evaluate("document.activeElement.dataset.visit") == visit
            opened.ran_nothing_typed()
    finally:
        opened.close()


def test_the_report_form_is_two_keys_from_the_top_of_the_page(browser: Any, desk: Served) -> None:
    """From the top of the page, the report form was behind every bar of the timeline and
    every marker of the map: 540 Tab presses on the 250-visit day. A skip link leads there."""
    opened = Opened(browser, 1280, 900)
    page = opened.page
    try:
        sign_in(opened, desk)
        open_plan(opened, SHANGHAI_PLAN)
        page.get_by_role("link", name="Skip to the timeline").focus()  # the page's first stop
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == (
            "Skip to the report from the field"
        )
        page.keyboard.press("Enter")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "event-at"
        opened.ran_nothing_typed()
    finally:
        opened.close()
