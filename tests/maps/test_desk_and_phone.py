"""The desk and a driver together, as issue 22 asks: the console open at the desk, the driver's
page on a phone through its signed link; the driver taps Arrived and Done and the desk's
timeline shows it without a reload; the same link tried on another route is refused."""

from __future__ import annotations

import re
import urllib.parse
from pathlib import Path
from typing import Any

from tests.api.conftest import make_key
from tests.maps.test_driver_buttons import PLAN_ID, driver_link, phone_time, served  # noqa: F401


def test_a_tap_on_the_phone_shows_on_the_desks_timeline(
    browser: Any,
    served: tuple[str, str],  # noqa: F811
    output_dir: Path,
) -> None:
    from playwright.sync_api import expect

    base, database_url = served
    link = driver_link(base, database_url)
    desk = browser.new_context(viewport={"width": 1280, "height": 900})
    phone = browser.new_context(viewport={"width": 375, "height": 812})
    try:
        console = desk.new_page()
        console.goto(base + "/console")
        console.get_by_label("Dispatcher's API key").fill(make_key(database_url))
        console.get_by_role("button", name="Use this key").click()
        plans = console.get_by_label("Stored plan (newest first; its day opens with it)")
        expect(plans.locator(f'option[value="{PLAN_ID}"]')).to_have_count(1, timeout=20_000)
        plans.select_option(PLAN_ID)
        console.get_by_role("button", name="Open the plan").click()
        bar = console.locator('#timeline .fr-bar[data-visit="V1"]')
        expect(bar).to_have_attribute("aria-label", re.compile(r"planned$"), timeout=20_000)

        driver = phone.new_page()
        driver.clock.set_fixed_time(phone_time("08:12"))
        driver.goto(link)
        state = driver.locator('.fr-item[data-visit="V1"] .fr-state')
        driver.locator('.fr-item[data-visit="V1"] [data-event=arrived]').click()
        expect(state).to_have_text("Arrived 08:12", timeout=20_000)
        expect(bar).to_have_attribute("aria-label", re.compile(r"arrived"), timeout=20_000)
        driver.clock.set_fixed_time(phone_time("08:41"))
        driver.locator('.fr-item[data-visit="V1"] [data-event=completed]').click()
        expect(state).to_have_text("Done 08:41", timeout=20_000)
        expect(bar).to_have_attribute("aria-label", re.compile(r"done"), timeout=20_000)
        console.screenshot(path=str(output_dir / "console-from-the-field.png"))

        # The driver's link opens their route and nothing else.
        token = urllib.parse.parse_qs(urllib.parse.urlparse(link).query)["token"][0]
        other = driver.goto(f"{base}/v1/plans/{PLAN_ID}/routes/T2/map?token={token}")
        assert other is not None and other.status in (401, 403)
        other = driver.goto(f"{base}/v1/plans/{PLAN_ID}/map?token={token}")
        assert other is not None and other.status in (401, 403)
    finally:
        desk.close()
        phone.close()
