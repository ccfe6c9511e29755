"""The map pages as a person sees them: opened in headless Chromium with no network, checked for
JavaScript errors, counted (markers, route lines, list entries) and photographed.

Screenshots land in ``test-output/maps/`` (see ``output_dir``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dispatch.contract.schema import PlanOut, ProblemIn
from dispatch.persistence import Store
from maps import OSM_TILES, Tiles, desk_page, driver_page
from maps.base import MAX_ZOOM
from tests.api.conftest import make_key, start_service
from tests.maps.conftest import TypedDay, solved, typed_raw

BLANK = Tiles(None)

#: Opens every marker's tooltip and popup through Leaflet, one after another, and returns what
#: each shows (``innerText``), as ``{"tooltips": [...], "popups": [...]}``.
OPEN_EVERY_MARKER = """() => {
  const map = window[document.querySelector(".folium-map").id];
  const shown = {tooltips: [], popups: []};
  map.eachLayer((layer) => {
    if (!(layer instanceof L.Marker)) return;
    if (layer.getTooltip()) {
      layer.openTooltip();
      shown.tooltips.push(layer.getTooltip().getElement().innerText);
      layer.closeTooltip();
    }
    if (layer.getPopup()) {
      layer.openPopup();
      const content = layer.getPopup().getElement().querySelector(".leaflet-popup-content");
      shown.popups.push(content.innerText);
      layer.closePopup();
    }
  });
  return shown;
}"""


class Opened:
    """A page opened in the browser, with everything that went wrong while it loaded."""

    def __init__(self, browser: Any, width: int, height: int) -> None:
        self.page = browser.new_page(viewport={"width": width, "height": height})
        self.errors: list[str] = []
        self.failed: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))
        self.page.on("requestfailed", lambda request: self.failed.append(request.url))
        self.page.on("dialog", self._dismiss)

    def _dismiss(self, dialog: Any) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def load(self, page: str, folder: Path, name: str) -> Opened:
        """Open ``page`` and let its scripts run, whatever they draw."""
        path = folder / f"{name}.html"
        path.write_text(page, encoding="utf-8")
        self.page.goto(path.as_uri())
        return self

    def served(self, answer: Any, name: str) -> Opened:
        """Open a service's ``answer`` as the browser gets it: its headers (the page's policy
        among them) apply, as they do not to a file."""
        url = f"http://fieldroute.test/{name}"
        headers = dict(answer.headers)

        def fulfil(route: Any) -> None:
            route.fulfill(status=answer.status_code, body=answer.text, headers=headers)

        self.page.route(url, fulfil)
        self.page.goto(url)
        return self

    def show(self, page: str, folder: Path, name: str) -> Opened:
        self.load(page, folder, name)
        self.page.wait_for_selector(".leaflet-marker-icon", state="attached", timeout=15_000)
        self.page.wait_for_timeout(300)  # let the tiles' failures, if any, come in
        return self

    def count(self, selector: str) -> int:
        found: int = self.page.locator(selector).count()
        return found

    def text(self, selector: str) -> str:
        shown: str = self.page.locator(selector).inner_text()
        return shown

    def ran_nothing_typed(self) -> None:
        """No typed text ran as script: no dialog, ``window.__pwned`` unset, no error."""
        assert self.dialogs == [], "no alert() ran"
        assert self.page.evaluate("typeof window.__pwned") == "undefined"
        assert self.errors == [] and self.failed == []

    def shoot(self, folder: Path, name: str) -> Path:
        shot = folder / f"{name}.png"
        self.page.screenshot(path=str(shot))
        assert shot.stat().st_size > 10_000, "a screenshot with something on it"
        return shot

    def close(self) -> None:
        self.page.close()


def test_the_desk_map_in_a_browser(
    browser: Any, day_plan: tuple[PlanOut, ProblemIn], output_dir: Path
) -> None:
    plan, problem = day_plan
    stops = sum(len(route.stops) for route in plan.routes)
    bases = len(problem.technicians)
    opened = Opened(browser, 1280, 800).show(
        desk_page(plan, problem, tiles=BLANK), output_dir, "desk"
    )
    try:
        assert opened.errors == [] and opened.failed == []
        assert opened.count(".fr-stop") == stops
        assert opened.count(".fr-base") == bases
        assert opened.count(".leaflet-marker-icon") == stops + bases + len(plan.unassigned)
        assert opened.count("path.fr-route") == len([r for r in plan.routes if r.stops])
        assert opened.count(".leaflet-control-layers-overlays label") == bases + 2
        assert opened.count(".fr-legend tr") == bases + 1
        assert opened.page.evaluate("window.injected") is None, "customer text stays text"
        opened.shoot(output_dir, "desk")
        # A click on the first stop (dispatched to it: markers may overlap at this zoom).
        opened.page.evaluate(
            "document.querySelector('.fr-stop')"
            ".dispatchEvent(new MouseEvent('click', {bubbles: true}))"
        )
        popup = opened.page.locator(".leaflet-popup-content")
        popup.wait_for(timeout=5_000)
        assert "arrival" in popup.inner_text() and "customer" in popup.inner_text()
        opened.page.wait_for_timeout(400)  # the popup fades in
        opened.shoot(output_dir, "desk-popup")
    finally:
        opened.close()


def test_a_very_long_name_leaves_the_layer_switches_on_screen(
    browser: Any, output_dir: Path
) -> None:
    # A 2,000-character technician name made the layer control 17,348 px wide: its switches
    # (the radius and unassigned layers) sat at x = -16,146, off screen.
    plan, problem = solved(typed_raw("Longname" * 250, far_id="FAR", other_id="T2"))
    opened = Opened(browser, 1200, 800).show(
        desk_page(plan, problem, tiles=BLANK), output_dir, "desk-long-name"
    )
    try:
        assert opened.errors == [] and opened.failed == []
        opened.page.evaluate(
            "document.querySelector('.leaflet-control-layers')"
            ".classList.add('leaflet-control-layers-expanded')"
        )
        boxes = opened.page.evaluate(
            "[...document.querySelectorAll('.leaflet-control-layers input')]"
            ".map(b => { const r = b.getBoundingClientRect(); return [r.left, r.right]; })"
        )
        assert boxes and all(left >= 0 and right <= 1200 for left, right in boxes), boxes
        legend = opened.page.evaluate(
            "document.querySelector('.fr-legend').getBoundingClientRect().width"
        )
        assert legend <= 600
    finally:
        opened.close()


def test_the_driver_page_on_a_phone(
    browser: Any, day_plan: tuple[PlanOut, ProblemIn], output_dir: Path
) -> None:
    plan, problem = day_plan
    route = max(plan.routes, key=lambda r: len(r.stops))
    page = driver_page(plan, problem, route.technician_id, tiles=BLANK)
    opened = Opened(browser, 375, 812).show(page, output_dir, "driver")
    try:
        assert opened.errors == [] and opened.failed == []
        assert opened.count(".leaflet-marker-icon") == len(route.stops) + 1  # stops and base
        assert opened.count("path.fr-route") == 1
        assert opened.count(".fr-item") == len(route.stops)
        assert opened.count('a[href^="tel:"]') == len([s for s in route.stops if s.phone])
        width = opened.page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, "nothing wider than the phone"
        eta = opened.page.evaluate(
            "parseFloat(getComputedStyle(document.querySelector('.fr-eta')).fontSize)"
        )
        assert eta >= 18, "arrival times readable at arm's length"
        map_box = opened.page.locator(".folium-map").bounding_box()
        list_box = opened.page.locator(".fr-list").bounding_box()
        assert map_box["height"] > 250 and list_box["y"] >= map_box["y"] + map_box["height"] - 1
        opened.shoot(output_dir, "driver")
    finally:
        opened.close()
    wide = Opened(browser, 1280, 800).show(page, output_dir, "driver-wide")
    try:
        map_box = wide.page.locator(".folium-map").bounding_box()
        list_box = wide.page.locator(".fr-list").bounding_box()
        assert list_box["x"] >= map_box["x"] + map_box["width"] - 1, "the list beside the map"
        wide.shoot(output_dir, "driver-wide")
    finally:
        wide.close()


def test_a_map_of_one_place_opens_on_it_without_tiles(
    browser: Any, day_plan: tuple[PlanOut, ProblemIn], output_dir: Path
) -> None:
    # A driver with no stops: their base is the map's one point. Without a tile layer the map
    # had no zoom bound, fitted the point at zoom Infinity and threw "Invalid LatLng object:
    # (NaN, NaN)", opening on the whole world.
    plan, problem = day_plan
    raw = problem.model_dump(mode="json", exclude_none=True)
    idle = raw["technicians"][0] | {"id": "IDLE", "skills": []}
    day = ProblemIn.model_validate(raw | {"technicians": [*raw["technicians"], idle]})
    page = driver_page(plan, day, "IDLE", tiles=BLANK)
    opened = Opened(browser, 375, 812).show(page, output_dir, "driver-one-place")
    try:
        assert opened.errors == [] and opened.failed == []
        zoom = opened.page.evaluate(
            "Object.values(window).find((v) => v instanceof L.Map).getZoom()"
        )
        assert zoom == MAX_ZOOM
    finally:
        opened.close()


def test_without_a_reachable_tile_server_markers_and_lines_still_show(
    browser: Any, day_plan: tuple[PlanOut, ProblemIn], output_dir: Path
) -> None:
    plan, problem = day_plan
    opened = Opened(browser, 1024, 700).show(
        desk_page(plan, problem, tiles=OSM_TILES), output_dir, "desk-no-tiles"
    )
    try:
        uncaught = [error for error in opened.errors if error.startswith("uncaught")]
        assert uncaught == []
        assert all("tile.openstreetmap.org" in url for url in opened.failed)
        assert opened.count(".fr-stop") == sum(len(route.stops) for route in plan.routes)
        assert opened.count("path.fr-route") > 0
    finally:
        opened.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_served_pages_open_with_a_key_and_with_the_drivers_link(
    browser: Any,
    database_url: str,
    day_raw: dict[str, Any],
    day_plan: tuple[PlanOut, ProblemIn],
    output_dir: Path,
) -> None:
    plan, _ = day_plan
    store = Store(database_url)
    try:
        store.save_problem_and_plan(day_raw, plan.model_dump(mode="json"), problem_id="pb_maps")
    finally:
        store.close()
    key = make_key(database_url)
    technician = plan.routes[0].technician_id
    with start_service(database_url, map_tiles="none") as client:
        desk = client.get(f"/v1/plans/{plan.plan_id}/map", headers={"X-API-Key": key})
        assert desk.status_code == 200
        link = client.post(
            f"/v1/plans/{plan.plan_id}/routes/{technician}/link", headers={"X-API-Key": key}
        ).json()
        driver = client.get(link["map_url"])
        assert driver.status_code == 200
        report = client.get(f"/v1/plans/{plan.plan_id}/report", headers={"X-API-Key": key})
    for name, answer, width, markers in (
        ("served-desk", desk, 1280, sum(len(r.stops) for r in plan.routes)),
        ("served-driver", driver, 375, len(plan.routes[0].stops)),
    ):
        opened = Opened(browser, width, 800).show(answer.text, output_dir, name)
        try:
            assert opened.errors == [] and opened.failed == []
            assert opened.count(".fr-stop, .fr-pin:not(.fr-base)") == markers
            opened.shoot(output_dir, name)
        finally:
            opened.close()
    # Sent with the service's page policy (never framed, nothing loaded from elsewhere, no
    # referrer: a driver's page has its token in its URL), each still draws whole.
    for name, answer, markers in (
        ("policy-desk", desk, sum(len(r.stops) for r in plan.routes)),
        ("policy-driver", driver, len(plan.routes[0].stops)),
        ("policy-report", report, 0),
    ):
        assert answer.headers["referrer-policy"] == "no-referrer"
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
        opened = Opened(browser, 1280, 800).served(answer, name)
        try:
            opened.page.wait_for_load_state("load")
            if markers:
                opened.page.wait_for_selector(".leaflet-marker-icon", state="attached")
            assert opened.errors == [] and opened.failed == [], (name, opened.errors)
            assert opened.count(".fr-stop, .fr-pin:not(.fr-base)") == markers
        finally:
            opened.close()


def test_typed_text_shows_as_text_and_runs_nothing_on_the_desk_map(
    browser: Any, typed_day: TypedDay, output_dir: Path
) -> None:
    """Customer, address, phone, technician name and an unassigned visit (its id too) carry
    ``${...}``, ``</script>``, an attribute break (case ``script``) or backslashes and a backtick
    (case ``backslash``): every marker is drawn and every tooltip and popup shows the text."""
    plan, problem, text = typed_day.plan, typed_day.problem, typed_day.text
    page = desk_page(plan, problem, tiles=BLANK)
    opened = Opened(browser, 1280, 800).load(page, output_dir, f"desk-typed-{typed_day.case}")
    try:
        (route,) = [r for r in plan.routes if r.stops]
        assert route.technician_id == "T1" and len(route.stops) == 3
        assert [item.visit_id for item in plan.unassigned] == [typed_day.far_id]
        assert opened.count(".leaflet-marker-icon") == 3 + 2 + 1, "every marker is drawn"
        assert opened.count(".fr-stop") == 3
        assert opened.count(".fr-base") == 2
        assert opened.count(".fr-unassigned") == 1
        opened.ran_nothing_typed()
        shown = opened.page.evaluate(OPEN_EVERY_MARKER)
        tooltips, popups = shown["tooltips"], shown["popups"]
        assert len(tooltips) == 6 and len(popups) == 4
        name = f"T1 Li Wei {text}"
        assert f"{name}: base" in tooltips
        assert f"{typed_day.far_id}: radius" in tooltips
        for sequence, stop in enumerate(route.stops, start=1):
            assert stop.customer == f"Mrs Wong {text}"
            assert f"{sequence}. {stop.customer} {stop.arrival[11:16]}" in tooltips
            (popup,) = [p for p in popups if p.startswith(f"{stop.visit_id}\n")]
            for expected in (f"{sequence} of {name}", stop.customer, stop.address, stop.phone):
                assert expected in popup
        (far,) = [p for p in popups if p.startswith(f"{typed_day.far_id}\n")]
        for expected in (f"Mr Zhao {text}", f"{typed_day.far_id} Dongmen Rd {text}"):
            assert expected in far
        assert name in opened.text(".leaflet-control-layers-overlays")
    finally:
        opened.close()


def test_typed_text_shows_as_text_and_runs_nothing_on_the_drivers_page(
    browser: Any, typed_day: TypedDay, output_dir: Path
) -> None:
    """T1's page of the typed day: the list shows the typed text as it is. The plan is read as
    from a file whose first arrival was edited by hand to hold a backslash (``fieldroute map
    plan.json`` does not check a plan's times), which reaches the markers' tooltips: every
    marker is still drawn and the tooltip shows the backslash."""
    edited = typed_day.plan.model_dump(mode="json")
    edited["routes"][0]["stops"][0]["arrival"] = "2026-11-23T\\x:00+08:00"
    plan, problem, text = PlanOut.model_validate(edited), typed_day.problem, typed_day.text
    page = driver_page(plan, problem, "T1", tiles=BLANK)
    opened = Opened(browser, 375, 812).load(page, output_dir, f"driver-typed-{typed_day.case}")
    try:
        assert opened.count(".leaflet-marker-icon") == 3 + 1, "the stops and the base"
        assert opened.count(".fr-item") == 3
        opened.ran_nothing_typed()
        assert opened.page.title() == f"Li Wei {text} · 2026-11-23"
        assert f"Li Wei {text}" in opened.text(".fr-head")
        listed = opened.text(".fr-list")
        for stop in plan.routes[0].stops:
            for expected in (
                stop.customer,
                stop.address,
                f"Call {stop.phone}",
                f"gate code {text}",
            ):
                assert expected in listed
        shown = opened.page.evaluate(OPEN_EVERY_MARKER)
        assert "1. \\x:00" in shown["tooltips"]
        assert "\\x:00 " in listed
    finally:
        opened.close()
