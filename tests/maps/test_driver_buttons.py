"""The driver's buttons as a driver uses them: the page opened through its signed link from a
running service, in headless Chromium at 375 px, taps on Arrived, Done, Could not complete and
Running late, the stored plan's next versions, and taps made without signal that wait in the
phone through a reload and are delivered in order once it is back.

The phone's clock is set by Playwright (``page.clock``) to the morning of the test day; the
service's clock to noon that day (``SERVICE_NOW``), so the link is valid and no tap runs ahead
of it. Screenshots: ``driver-buttons.png`` and ``driver-refused.png`` in
``test-output/maps/``."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import uvicorn

from api.app import create_app
from api.jobs import JobRunner
from dispatch.config import Settings
from dispatch.contract.record import plan_record
from dispatch.contract.serialize import plan_document
from dispatch.contract.validate import parse_problem
from dispatch.persistence import Store
from dispatch.planning import SolveParams, plan_day
from tests.api.conftest import TEST_NOW, make_key
from tests.conftest import line_day

PLAN_ID = "pl_buttons"
SHANGHAI = ZoneInfo("Asia/Shanghai")


#: The service's clock: noon of the test day, after every time a phone here is set to (a
#: batch may not run ahead of it), with the links made then still valid.
SERVICE_NOW = TEST_NOW.replace(hour=12)


def phone_time(clock: str) -> datetime:
    hours, minutes = map(int, clock.split(":"))
    return datetime(2026, 11, 23, hours, minutes, 5, tzinfo=SHANGHAI)


def store_line_day(
    database_url: str, *, plan_id: str = PLAN_ID, problem_id: str = "pb_buttons", **day: Any
) -> None:
    """Store ``line_day`` (``day`` replacing its fields) and its plan as ``plan_id`` version 1
    (T1: V1 08:10, V2 08:50, V3 09:30 in this order)."""
    raw = line_day(**day)
    # Windows that settle the order (sites 1-3 on a line, either way round costs the same).
    raw["visits"][1]["window"] = {"start": "08:45", "end": "09:15"}
    raw["visits"][2]["window"] = {"start": "09:25", "end": "12:00"}
    problem = parse_problem(raw)
    plan = plan_day(problem, params=SolveParams(time_limit_s=1, metaheuristic="greedy_descent"))
    document = plan_document(
        problem, plan, plan_id=plan_id, version=1, created_at=datetime.now(UTC)
    )
    store = Store(database_url)
    try:
        store.save_problem_and_plan(
            raw, document.model_dump(mode="json"), problem_id=problem_id, record=plan_record(plan)
        )
    finally:
        store.close()


@contextmanager
def serving(database_url: str) -> Iterator[str]:
    """The service on ``database_url``, on a loopback port in this process, its clock at
    ``SERVICE_NOW``; yields its base URL, and stops it afterwards."""
    runner = JobRunner(database_url, executor=ThreadPoolExecutor(max_workers=2))
    app = create_app(
        Settings(database_url=database_url, map_tiles="none"),
        runner=runner,
        clock=lambda: SERVICE_NOW,
    )
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    port = listening.getsockname()[1]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listening]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the service did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        runner.close()
        listening.close()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A service on a loopback port with a stored plan of ``line_day`` (see
    :func:`store_line_day`); yields its base URL and the database URL."""
    database_url = f"sqlite:///{tmp_path / 'buttons.db'}"
    store_line_day(database_url)
    with serving(database_url) as base:
        yield base, database_url


def driver_link(base: str, database_url: str) -> str:
    key = make_key(database_url)
    request = urllib.request.Request(
        f"{base}/v1/plans/{PLAN_ID}/routes/T1/link", method="POST", headers={"X-API-Key": key}
    )
    with urllib.request.urlopen(request) as answer:
        url: str = json.loads(answer.read())["map_url"]
    return url


def stored(database_url: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The latest stored version and every batch of events, oldest first."""
    store = Store(database_url)
    try:
        return store.load_plan(PLAN_ID), store.load_events(PLAN_ID)
    finally:
        store.close()


def stop_of(plan: dict[str, Any], visit_id: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [
        s for r in plan["routes"] for s in r["stops"] if s["visit_id"] == visit_id
    ]
    assert len(found) == 1, visit_id
    return found[0]


def open_phone(
    browser: Any, url: str, clock: str, *, workers: bool = True
) -> tuple[Any, Any, list[str]]:
    """A 375 px phone, its clock at ``clock``, on the driver's page at ``url`` with the three
    stops shown: its browser context (to close), the page, and the page's uncaught errors.
    Without ``workers`` the page's service worker is blocked (its requests would pass by a
    test's ``page.route``)."""
    from playwright.sync_api import expect

    context = browser.new_context(
        viewport={"width": 375, "height": 812}, service_workers="allow" if workers else "block"
    )
    page = context.new_page()
    uncaught: list[str] = []
    page.on("pageerror", lambda error: uncaught.append(str(error)))
    page.clock.set_fixed_time(phone_time(clock))
    try:
        page.goto(url)
        expect(page.locator(".fr-item")).to_have_count(3)
    except BaseException:
        context.close()
        raise
    return context, page, uncaught


def test_a_driver_reports_from_the_phone_online_and_offline(
    browser: Any, served: tuple[str, str], output_dir: Path
) -> None:
    from playwright.sync_api import expect

    base, database_url = served
    context, page, uncaught = open_phone(browser, driver_link(base, database_url), "08:12")
    try:
        # Labelled, big enough to tap, nothing wider than the phone.
        expect(page.get_by_role("button", name="Arrived")).to_have_count(3)
        expect(page.get_by_role("group", name="Report on stop 1: C1")).to_be_visible()
        box = page.locator('.fr-item[data-visit="V1"] [data-event=arrived]').bounding_box()
        assert box["height"] >= 44 and box["width"] >= 120
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=15_000)

        # Online: Arrived, then Done on the first stop.
        state = page.locator('.fr-item[data-visit="V1"] .fr-state')
        page.locator('.fr-item[data-visit="V1"] [data-event=arrived]').click()
        expect(state).to_have_text("Arrived 08:12", timeout=20_000)
        page.clock.set_fixed_time(phone_time("08:41"))
        page.locator('.fr-item[data-visit="V1"] [data-event=completed]').click()
        expect(state).to_have_text("Done 08:41", timeout=20_000)
        expect(page.locator('.fr-item[data-visit="V1"]')).to_have_class("fr-item fr-done")
        plan, batches = stored(database_url)
        assert plan["version"] == 3 and plan["at"] == "2026-11-23T08:41:00+08:00"
        v1 = stop_of(plan, "V1")
        assert (v1["status"], v1["actual_arrival"], v1["actual_departure"]) == (
            "done",
            "2026-11-23T08:12:00+08:00",
            "2026-11-23T08:41:00+08:00",
        )
        page.locator('.fr-item[data-visit="V2"]').scroll_into_view_if_needed()
        page.screenshot(path=str(output_dir / "driver-buttons.png"))

        # No signal: two taps wait in the phone, through a reload, then go in order.
        context.set_offline(True)
        page.clock.set_fixed_time(phone_time("08:52"))
        page.locator('.fr-item[data-visit="V2"] [data-event=arrived]').click()
        expect(page.locator('.fr-item[data-visit="V2"] .fr-state')).to_have_text(
            "Arrived 08:52 · not sent yet"
        )
        page.clock.set_fixed_time(phone_time("09:20"))
        page.locator('.fr-item[data-visit="V2"] [data-event=completed]').click()
        waiting = "fieldroute:taps:pl_buttons:T1"
        queued = json.loads(page.evaluate(f"localStorage.getItem('{waiting}')"))
        assert [(t["event"]["type"], t["at"]) for t in queued] == [
            ("arrived", "08:52"),
            ("completed", "09:20"),
        ]
        page.reload()  # served by the page's worker from its last copy
        expect(page.locator('.fr-item[data-visit="V2"] .fr-state')).to_have_text(
            "Done 09:20 · not sent yet"
        )
        expect(page.locator("#fr-sync")).to_have_text("2 report(s) waiting to be sent")
        assert len(stored(database_url)[1]) == 2, "nothing reached the service"
        context.set_offline(False)
        expect(page.locator('.fr-item[data-visit="V2"] .fr-state')).to_have_text(
            "Done 09:20", timeout=30_000
        )
        expect(page.locator("#fr-sync")).to_have_text("")
        plan, batches = stored(database_url)
        assert [b["events"] for b in batches[2:]] == [
            [{"type": "arrived", "visit_id": "V2", "at": "08:52"}],
            [{"type": "completed", "visit_id": "V2", "at": "09:20"}],
        ]
        # Each tap goes with its own id: sent again after a lost answer, it is applied once.
        assert [b["report_id"] for b in batches[2:]] == [t["id"] for t in queued]
        v2 = stop_of(plan, "V2")
        assert (v2["actual_arrival"], v2["actual_departure"]) == (
            "2026-11-23T08:52:00+08:00",
            "2026-11-23T09:20:00+08:00",
        )

        # A tap the service refuses is shown with its reason and not sent again. By keyboard.
        page.clock.set_fixed_time(phone_time("09:25"))
        page.locator('.fr-item[data-visit="V3"] [data-event=arrived]').focus()
        page.keyboard.press("Enter")
        expect(page.locator('.fr-item[data-visit="V3"] .fr-state')).to_have_text(
            "Arrived 09:25", timeout=20_000
        )
        page.clock.set_fixed_time(phone_time("09:24"))  # a phone whose clock went back
        page.locator('.fr-item[data-visit="V3"] [data-event=completed]').click()
        message = page.locator("#fr-msg")
        expect(message).to_be_visible(timeout=20_000)
        expect(message).to_contain_text("completed before it arrived (09:24)")
        assert page.evaluate(f"localStorage.getItem('{waiting}')") == "[]"
        expect(page.locator('.fr-item[data-visit="V3"] .fr-state')).to_have_text("Arrived 09:25")
        page.screenshot(path=str(output_dir / "driver-refused.png"))
        page.locator("#fr-msg-close").click()
        expect(message).to_be_hidden()

        # Could not complete asks why; Running late asks how long.
        page.clock.set_fixed_time(phone_time("09:40"))
        page.locator('.fr-item[data-visit="V3"] [data-event=not_completed]').click()
        expect(page.get_by_role("textbox", name="Why could it not be completed?")).to_be_focused()
        page.keyboard.type('no part <b>"${x}"</b>')
        page.keyboard.press("Enter")
        state = page.locator('.fr-item[data-visit="V3"] .fr-state')
        expect(state).to_have_text("Could not complete 09:40", timeout=20_000)
        page.locator("#fr-late").click()
        page.get_by_role("spinbutton", name="How many minutes late are you?").fill("15")
        page.keyboard.press("Enter")
        expect(page.locator("#fr-sync")).to_have_text("", timeout=20_000)
        deadline = time.monotonic() + 20
        while stored(database_url)[0]["version"] < 8 and time.monotonic() < deadline:
            time.sleep(0.1)
        plan, batches = stored(database_url)
        assert [b["events"][0]["type"] for b in batches[-2:]] == ["not_completed", "delay"]
        assert batches[-2]["events"][0]["reason"] == 'no part <b>"${x}"</b>'
        assert batches[-1]["events"][0] == {
            "type": "delay",
            "technician_id": "T1",
            "minutes": 15,
            "reason": "reported by the driver",
        }
        (left,) = [u for u in plan["unassigned"] if u["visit_id"] == "V3"]
        assert left["code"] == "not_completed" and "no part" in left["reason"]
        assert uncaught == []
        assert page.evaluate("typeof window.x") == "undefined"
    finally:
        context.close()


def test_a_tap_after_a_re_plan_made_elsewhere_ahead_of_the_phones_clock_is_recorded(
    browser: Any, served: tuple[str, str]
) -> None:
    """The desk re-plans at 08:13 while the open page, its clock at 08:12, has not heard of
    it: the driver's Arrived at 08:12 is refused for its batch's time, so the page reads the
    route again and sends it after the re-plan, at the time it was tapped. Nothing is lost."""
    from playwright.sync_api import expect

    base, database_url = served
    context, page, uncaught = open_phone(browser, driver_link(base, database_url), "08:12")
    try:
        late = {"type": "delay", "technician_id": "T1", "minutes": 5}
        request = urllib.request.Request(
            f"{base}/v1/plans/{PLAN_ID}/events",
            data=json.dumps({"at": "08:13", "events": [late]}).encode(),
            headers={"X-API-Key": make_key(database_url), "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request) as answer:
            assert answer.status == 201
        page.locator('.fr-item[data-visit="V1"] [data-event=arrived]').click()
        state = page.locator('.fr-item[data-visit="V1"] .fr-state')
        expect(state).to_have_text("Arrived 08:12", timeout=20_000)
        expect(page.locator("#fr-sync")).to_have_text("")
        expect(page.locator("#fr-msg")).to_be_hidden()
        plan, batches = stored(database_url)
        assert plan["version"] == 3
        assert (batches[-1]["at"], batches[-1]["events"]) == (
            "08:13",
            [{"type": "arrived", "visit_id": "V1", "at": "08:12"}],
        )
        assert stop_of(plan, "V1")["actual_arrival"] == "2026-11-23T08:12:00+08:00"
        assert page.evaluate("localStorage.getItem('fieldroute:taps:pl_buttons:T1')") == "[]"
        assert uncaught == []
    finally:
        context.close()


def test_a_tap_from_a_phone_whose_clock_runs_ahead_is_refused_and_said(
    browser: Any, served: tuple[str, str]
) -> None:
    """The phone reads 13:30 where the service reads noon: its batch is refused for its time
    and no re-plan explains it. The driver is told why; the page does not send it for ever."""
    from playwright.sync_api import expect

    base, database_url = served
    context, page, uncaught = open_phone(browser, driver_link(base, database_url), "13:30")
    try:
        page.locator('.fr-item[data-visit="V1"] [data-event=arrived]').click()
        message = page.locator("#fr-msg")
        expect(message).to_contain_text("Not recorded", timeout=20_000)
        expect(message).to_contain_text("later than the time now (12:00")
        assert page.evaluate("localStorage.getItem('fieldroute:taps:pl_buttons:T1')") == "[]"
        plan, _ = stored(database_url)
        assert plan["version"] == 1
        assert uncaught == []
    finally:
        context.close()


def test_an_arrival_tapped_at_the_wrong_stop_is_taken_back_from_the_phone(
    browser: Any, served: tuple[str, str]
) -> None:
    """At V1 since 08:12, the driver taps Arrived on V3 by mistake: V1 is read as left. Undo
    arrival on V3 takes the report back (``retracted``, no time of its own): V3 is a stop to
    make again and V1 under way, so its Done is recorded."""
    from playwright.sync_api import expect

    base, database_url = served
    context, page, uncaught = open_phone(browser, driver_link(base, database_url), "08:12")
    try:
        v1 = page.locator('.fr-item[data-visit="V1"]')
        v3 = page.locator('.fr-item[data-visit="V3"]')
        v1.locator("[data-event=arrived]").click()
        expect(v1.locator(".fr-state")).to_have_text("Arrived 08:12", timeout=20_000)
        page.clock.set_fixed_time(phone_time("08:15"))
        v3.locator("[data-event=arrived]").click()
        expect(v3.locator(".fr-state")).to_have_text("Arrived 08:15", timeout=20_000)
        expect(v1.locator(".fr-state")).to_have_text("Done", timeout=20_000)
        # V2, read as gone past, is planned after V3: the page says the route changed.
        expect(page.locator("#fr-msg")).to_contain_text("Your route changed")
        page.locator("#fr-msg-close").click()
        page.clock.set_fixed_time(phone_time("08:16"))
        v3.get_by_role("button", name="Undo arrival").click()
        expect(v3.locator(".fr-state")).to_have_text("", timeout=20_000)
        expect(v1.locator(".fr-state")).to_have_text("Arrived 08:12")
        expect(page.locator("#fr-msg")).to_be_hidden()  # the route is as the page shows it
        plan, batches = stored(database_url)
        assert (batches[-1]["at"], batches[-1]["events"]) == (
            "08:16",
            [{"type": "retracted", "visit_id": "V3"}],
        )
        assert stop_of(plan, "V3")["status"] == "planned"
        assert stop_of(plan, "V3")["actual_arrival"] is None
        assert stop_of(plan, "V1")["status"] == "arrived"
        page.clock.set_fixed_time(phone_time("08:41"))
        v1.locator("[data-event=completed]").click()
        expect(v1.locator(".fr-state")).to_have_text("Done 08:41", timeout=20_000)
        assert uncaught == []
    finally:
        context.close()


def test_a_tap_whose_answer_was_lost_is_sent_again_as_the_same_batch(
    browser: Any, served: tuple[str, str]
) -> None:
    """Running late 30 reaches the service, which stores it, but the answer is lost; the page
    sends it again a minute later by the phone's clock. Timed afresh, the batch was refused
    (its report_id had made a batch at another time) and the page said "Not recorded" of a
    stored delay, inviting a second tap: 60 minutes held."""
    from playwright.sync_api import expect

    base, database_url = served
    link = driver_link(base, database_url)
    context, page, uncaught = open_phone(browser, link, "08:12", workers=False)
    posts: list[dict[str, Any]] = []

    def answer_lost_once(route: Any) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        posts.append(json.loads(route.request.post_data))
        answer = route.fetch()  # the service answers ...
        if len(posts) == 1:
            route.abort("failed")  # ... and the phone never hears it
        else:
            route.fulfill(response=answer)

    try:
        page.route("**/events", answer_lost_once)
        page.locator("#fr-late").click()
        page.get_by_role("spinbutton", name="How many minutes late are you?").fill("30")
        page.keyboard.press("Enter")
        page.wait_for_function("() => document.getElementById('fr-sync').textContent !== ''")
        page.clock.set_fixed_time(phone_time("08:13"))  # the retry comes a minute later
        expect(page.locator("#fr-sync")).to_have_text("", timeout=30_000)
        expect(page.locator("#fr-msg")).not_to_contain_text("Not recorded")
        assert len(posts) == 2 and posts[0] == posts[1] and posts[0]["at"] == "08:12"
        _, batches = stored(database_url)
        delays = [b for b in batches if b["events"][0]["type"] == "delay"]
        assert [(b["at"], b["events"][0]["minutes"]) for b in delays] == [("08:12", 30)]
        assert uncaught == []
    finally:
        context.close()
