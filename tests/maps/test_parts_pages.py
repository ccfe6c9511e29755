"""Spare parts as a technician and a desk see them: the driver's view (JSON) and page hold the
morning pick list, each depot call in its place and the parts of each visit; the desk's map
marks the depots and each route's calls; typed part numbers and store names stay text.

The day (``tests.parts_days``): T1 serves V1 from the van, then calls at D1 for V2's valves;
T2, based at D1, loads V3's thermostat there before leaving."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from dispatch.contract.schema import PlanOut, ProblemIn
from dispatch.desk.driver import driver_route
from dispatch.errors import InputError
from maps import Tiles, desk_page, driver_page
from maps.base import Places
from tests.maps.test_browser import OPEN_EVERY_MARKER, Opened
from tests.maps.test_pages import icons, said, unisolated
from tests.maps.test_road_lines import drawn
from tests.parts_days import (
    DEPOT,
    HOSTILE_DEPOT_NAME,
    HOSTILE_PART,
    parts_day,
    solved_parts_day,
)

BLANK = Tiles(None)
#: How a browser shows ``&times;`` and ``&ndash;``.
TIMES, DASH = "\u00d7", "\u2013"


@pytest.fixture(scope="module")
def parts_plan() -> tuple[PlanOut, ProblemIn]:
    """The parts day, planned once for the module."""
    plan, problem = solved_parts_day(parts_day())
    routes = {route.technician_id: route for route in plan.routes}
    assert [stop.visit_id for stop in routes["T1"].stops] == ["V1", "V2"]
    assert [stop.visit_id for stop in routes["T2"].stops] == ["V3", "V4"]
    return plan, problem


@pytest.fixture(scope="module")
def hostile_plan() -> tuple[PlanOut, ProblemIn]:
    """The parts day whose store name and valve part number try to run script."""
    return solved_parts_day(parts_day(depot_name=HOSTILE_DEPOT_NAME, valve=HOSTILE_PART))


def view(plan: PlanOut, problem: ProblemIn, technician_id: str) -> dict[str, Any]:
    """The driver's view as the API sends it (JSON)."""
    route = driver_route(
        plan.model_dump(mode="json"), problem.model_dump(mode="json"), technician_id
    )
    answer: dict[str, Any] = route.model_dump(mode="json")
    return answer


def test_the_drivers_view_holds_the_depot_calls_in_order_and_each_visits_parts(
    parts_plan: tuple[PlanOut, ProblemIn],
) -> None:
    plan, problem = parts_plan
    t1 = view(plan, problem, "T1")
    assert "pick_list" not in t1, "T1 loads nothing before leaving"
    (call,) = t1["depot_stops"]
    planned = next(r for r in plan.routes if r.technician_id == "T1").depot_stops[0]
    assert call == {
        "depot_id": "D1",
        "name": "Nanshan store",
        "address": "8 Keji Rd",
        "location": {**DEPOT, "address": "8 Keji Rd"},
        "opening": {"start": "07:30", "end": "17:30"},
        "before_visit_id": "V2",
        "before_leaving": False,
        "arrival": planned.arrival,
        "departure": planned.departure,
        "parts": [{"part": "VLV-3", "quantity": 2}],
    }
    v1, v2 = t1["stops"]
    assert v1["departure"] <= call["arrival"] < call["departure"] <= v2["eta"], "in its place"
    assert v1["parts"] == [{"part": "HX-220", "quantity": 1, "source": "van", "depot_id": None}]
    assert v2["parts"] == [
        {"part": "VLV-3", "quantity": 2, "source": "depot", "depot_id": "D1"},
        {"part": "HX-220", "quantity": 1, "source": "van", "depot_id": None},
    ]


def test_the_drivers_view_holds_the_morning_pick_list(
    parts_plan: tuple[PlanOut, ProblemIn],
) -> None:
    plan, problem = parts_plan
    t2 = view(plan, problem, "T2")
    (load,) = t2["pick_list"]
    assert t2["depot_stops"] == [load]
    assert load["before_leaving"] is True and load["before_visit_id"] == "V3"
    assert load["depot_id"] == "D1" and load["name"] == "Nanshan store"
    assert load["opening"] == {"start": "07:30", "end": "17:30"}
    assert load["parts"] == [{"part": "TH-9", "quantity": 1}]
    assert load["arrival"] <= t2["stops"][0]["eta"]
    v3, v4 = t2["stops"]
    # Loaded before leaving: in the van when T2 gets there.
    assert v3["parts"] == [{"part": "TH-9", "quantity": 1, "source": "van", "depot_id": None}]
    assert "parts" not in v4


def test_a_view_without_parts_has_no_parts_keys(day_plan: tuple[PlanOut, ProblemIn]) -> None:
    plan, problem = day_plan
    shown = view(plan, problem, plan.routes[0].technician_id)
    assert "pick_list" not in shown and "depot_stops" not in shown
    assert all("parts" not in stop for stop in shown["stops"])


def test_a_plan_calling_at_a_depot_its_day_does_not_list_is_named(
    parts_plan: tuple[PlanOut, ProblemIn],
) -> None:
    plan, problem = parts_plan
    other = problem.model_copy(update={"depots": []})
    with pytest.raises(InputError) as refused:
        driver_route(plan.model_dump(mode="json"), other.model_dump(mode="json"), "T1")
    (error,) = refused.value.errors
    t1 = next(n for n, route in enumerate(plan.routes) if route.technician_id == "T1")
    assert error.path == f"routes[{t1}].depot_stops[0].depot_id" and error.entity_id == "D1"


def entries(page: str) -> list[str]:
    """The driver's list as ``stop-N`` and ``depot-N`` ids, in page order."""
    return re.findall(r'<li class="fr-(?:item|depot)[^"]*" id="((?:stop|depot)-\d+)"', page)


def entry(page: str, ident: str) -> str:
    """One list entry's HTML, typed text without the ``<bdi>`` that isolates it."""
    found = re.search(rf'<li class="[^"]*" id="{ident}".*?</li>(?=<li|</ol>)', page)
    assert found is not None, ident
    return unisolated(found.group(0))


def test_the_drivers_page_shows_the_call_in_its_place_and_what_each_stop_needs(
    parts_plan: tuple[PlanOut, ProblemIn],
) -> None:
    plan, problem = parts_plan
    page = driver_page(plan, problem, "T1", tiles=BLANK)
    assert entries(page) == ["stop-1", "depot-1", "stop-2"]
    call = entry(page, "depot-1")
    for text in (
        "Depot call: Nanshan store</b> (D1)",
        '<a href="geo:22.830000,113.830000">8 Keji Rd</a>',
        "open 07:30&ndash;17:30",
        "<li>2 &times; <b>VLV-3</b></li>",
    ):
        assert text in call
    assert "fr-btn" not in call and "data-event" not in call, "no buttons: no events for it"
    assert "1 &times; <b>HX-220</b> in the van" in entry(page, "stop-1")
    needs = entry(page, "stop-2")
    assert "2 &times; <b>VLV-3</b> picked up at D1 on the way" in needs
    assert "1 &times; <b>HX-220</b> in the van" in needs
    assert icons(page, "fr-pin fr-store") == 1 and icons(page, "fr-pin") == 2
    assert "depot Nanshan store" in said(page) and 'href=\\"#depot-1\\"' in page
    # The straight legs go by way of the depot, as the route does.
    places = Places(problem)
    depot = (DEPOT["lat"], DEPOT["lon"])
    base, v1, v2 = places.start("T1"), places.visit("V1"), places.visit("V2")
    assert [line for _, line in drawn(page)] == [[base, v1, depot, v2, base]]


def test_the_drivers_page_opens_with_the_pick_list(
    parts_plan: tuple[PlanOut, ProblemIn],
) -> None:
    plan, problem = parts_plan
    page = driver_page(plan, problem, "T2", tiles=BLANK)
    assert entries(page) == ["depot-1", "stop-1", "stop-2"]
    load = entry(page, "depot-1")
    assert "Before leaving: load at Nanshan store</b> (D1)" in load
    assert "<li>1 &times; <b>TH-9</b></li>" in load
    assert "1 &times; <b>TH-9</b> in the van" in entry(page, "stop-1")


def test_typed_store_names_and_part_numbers_stay_text_on_the_drivers_page(
    hostile_plan: tuple[PlanOut, ProblemIn],
) -> None:
    plan, problem = hostile_plan
    for technician_id in ("T1", "T2"):
        page = driver_page(plan, problem, technician_id, tiles=BLANK)
        assert "<script>window.__pwned" not in page
        assert page.count("<script") == page.count("</script>") == 5
    page = driver_page(plan, problem, "T1", tiles=BLANK)
    name = "Nanshan &lt;script&gt;window.__pwned=7&lt;/script&gt; store"
    part = "VLV&lt;/script&gt;&lt;script&gt;window.__pwned=6&lt;/script&gt;"
    assert f"Depot call: {name}</b>" in entry(page, "depot-1")
    assert f"<li>2 &times; <b>{part}</b></li>" in entry(page, "depot-1")
    assert f"2 &times; <b>{part}</b> picked up at D1" in entry(page, "stop-2")
    assert f"depot {name}" in said(page)


def test_the_desk_map_marks_depots_and_each_routes_calls(
    parts_plan: tuple[PlanOut, ProblemIn],
) -> None:
    plan, problem = parts_plan
    page = desk_page(plan, problem, tiles=BLANK)
    assert icons(page, "fr-depot") == 1, "one store pin for D1"
    assert icons(page, "fr-call") == 2, "T1's call on the way and T2's load before leaving"
    assert "Depots · 1" in said(page)
    text = said(page)
    # The depot's popup: its hours, its stock, the day's calls there.
    assert "Nanshan store (D1)" in text and "07:30&ndash;17:30" in text
    assert "4 &times; VLV-3, 2 &times; TH-9" in text
    t1 = next(r for r in plan.routes if r.technician_id == "T1")
    t2 = next(r for r in plan.routes if r.technician_id == "T2")
    arrival, departure = t1.depot_stops[0].arrival[11:16], t1.depot_stops[0].departure[11:16]
    assert f"T1 {arrival}: 2 &times; VLV-3" in text
    assert f"T2 {t2.depot_stops[0].arrival[11:16]} (before leaving): 1 &times; TH-9" in text
    # T1's call: who, where, for which stop, when, what is taken.
    call = next(s for s in text.split("\n") if "depot call" in s and "T1 Li Wei" in s)
    for expected in (
        "<td>T1 Li Wei</td>",
        "<td>Nanshan store (D1)</td>",
        "<td>stop 2 (V2)</td>",
        f"<td>{arrival}&ndash;{departure}</td>",
        "<th>parts taken</th><td>2 &times; VLV-3</td>",
    ):
        assert expected in call
    # V2's popup names its parts.
    popup = next(s for s in text.split("\n") if s.startswith('<div class="fr-popup"><b>V2</b>'))
    assert "<th>parts</th><td>2 &times; VLV-3, 1 &times; HX-220</td>" in popup
    # T1's line goes by way of the depot.
    places = Places(problem)
    depot = (DEPOT["lat"], DEPOT["lon"])
    lines = dict(drawn(page))
    base, v1, v2 = places.start("T1"), places.visit("V1"), places.visit("V2")
    assert [base, v1, depot, v2, base] in lines.values()


def test_typed_store_names_and_part_numbers_stay_text_on_the_desk_map(
    hostile_plan: tuple[PlanOut, ProblemIn],
) -> None:
    plan, problem = hostile_plan
    page = desk_page(plan, problem, tiles=BLANK)
    assert "<script>window.__pwned" not in page
    # Leaflet's, the map's own, and the one keeping its view in the console's frame.
    assert page.count("<script") == page.count("</script>") == 4
    text = said(page)
    assert "Nanshan &lt;script&gt;window.__pwned=7&lt;/script&gt; store (D1)" in text
    assert "2 &times; VLV&lt;/script&gt;&lt;script&gt;window.__pwned=6&lt;/script&gt;" in text


def test_parts_on_the_phone_and_the_desk_map_in_a_browser(
    browser: Any, hostile_plan: tuple[PlanOut, ProblemIn], output_dir: Path
) -> None:
    """The typed day's pages in Chromium: the calls and the parts show as text, the store pins
    and call markers are drawn, and nothing typed runs."""
    plan, problem = hostile_plan
    phone = Opened(browser, 375, 812).show(
        driver_page(plan, problem, "T1", tiles=BLANK), output_dir, "driver-parts"
    )
    try:
        phone.ran_nothing_typed()
        assert phone.count(".fr-depot") == 1 and phone.count(".fr-item") == 2
        assert phone.count(".fr-depot .fr-btn") == 0
        assert phone.count(".leaflet-marker-icon") == 2 + 1 + 1, "stops, base, store"
        call = phone.text(".fr-depot")
        assert f"Depot call: {HOSTILE_DEPOT_NAME} (D1)" in call
        assert f"2 {TIMES} {HOSTILE_PART}" in call and f"open 07:30{DASH}17:30" in call
        assert f"2 {TIMES} {HOSTILE_PART} picked up at D1 on the way" in phone.text("#stop-2")
        width = phone.page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, "nothing wider than the phone"
        phone.shoot(output_dir, "driver-parts")
    finally:
        phone.close()
    desk = Opened(browser, 1280, 800).show(
        desk_page(plan, problem, tiles=BLANK), output_dir, "desk-parts"
    )
    try:
        desk.ran_nothing_typed()
        assert desk.count(".fr-depot") == 1 and desk.count(".fr-call") == 2
        shown = desk.page.evaluate(OPEN_EVERY_MARKER)
        (store,) = [p for p in shown["popups"] if p.startswith("depot\n")]
        assert f"{HOSTILE_DEPOT_NAME} (D1)" in store
        calls = [p for p in shown["popups"] if p.startswith("depot call\n")]
        assert len(calls) == 2 and any(f"2 {TIMES} {HOSTILE_PART}" in p for p in calls)
        desk.shoot(output_dir, "desk-parts")
    finally:
        desk.close()
