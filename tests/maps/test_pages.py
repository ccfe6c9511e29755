"""The map pages as HTML: what they draw, what they say, and that they fetch nothing."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from api.cli import app
from dispatch.contract.schema import PlanOut, ProblemIn
from dispatch.errors import NotFoundError
from maps import OSM_TILES, Tiles, desk_map, desk_page, driver_page
from maps.base import Places, route_line, script_json
from tests.conftest import line_day
from tests.maps.conftest import TypedDay, solved, typed_raw

BLANK = Tiles(None)


def icons(page: str, css_class: str) -> int:
    """Marker icons of ``css_class`` (their HTML sits in the page's script, quotes escaped)."""
    return page.count(f'class=\\"{css_class}\\"')


#: A JSON string in a script.
JSON_STRING = r'"(?:[^"\\\n]|\\.)*"'


def map_script(page: str) -> str:
    """The page's last script: folium's, which draws the map."""
    return page[page.rindex("<script>") + len("<script>") : page.rindex("</script>")]


def said(page: str) -> str:
    """Every string in the map's script, decoded, one a line: what its tooltips, popups, icons
    and layer names say, typed text without the ``<bdi>`` that isolates it (its own test)."""
    strings = re.findall(JSON_STRING, map_script(page))
    return unisolated("\n".join(json.loads(string) for string in strings))


def unisolated(page: str) -> str:
    """``page`` without the ``<bdi>`` elements typed text is isolated in."""
    return re.sub("</?bdi>", "", page)


def fetched(page: str) -> list[str]:
    """Every address the page would load by itself: scripts, styles, images, frames."""
    return re.findall(r'<(?:script|link|img|iframe)[^>]+(?:src|href)="([^"]+)"', page)


def test_the_desk_map_draws_every_stop_base_route_and_unassigned_visit(
    day_plan: tuple[PlanOut, ProblemIn],
) -> None:
    plan, problem = day_plan
    page = desk_page(plan, problem, tiles=BLANK)
    stops = sum(len(route.stops) for route in plan.routes)
    assert stops > 30
    assert icons(page, "fr-stop") == stops
    assert icons(page, "fr-base") == len(problem.technicians)
    assert icons(page, "fr-unassigned") == len(plan.unassigned)
    assert page.count('"className": "fr-route"') == len([r for r in plan.routes if r.stops])
    assert page.count("L.circle(") == len(problem.technicians), "one radius circle per base"
    for technician in problem.technicians:
        label = html.escape(f"{technician.id} {technician.name}".strip())
        assert label in said(page), "a layer per technician"
    assert "Unassigned" in page and "Service radius" in page
    assert fetched(page) == []


def test_stop_popups_say_who_where_when_and_escape_what_customers_typed(
    day_plan: tuple[PlanOut, ProblemIn],
) -> None:
    plan, problem = day_plan
    page = desk_page(plan, problem, tiles=BLANK)
    first = next(stop for route in plan.routes for stop in route.stops)
    for text in (first.customer, first.address, first.phone, first.kind, first.arrival[11:16]):
        assert text and html.escape(text) in said(page)
    assert f"{first.early_min} min" in said(page)
    assert "<img src=x" not in page and "&lt;img src=x onerror=" in said(page)


@pytest.mark.parametrize(
    "text",
    [
        "${alert(document.cookie)}",
        "</script><script>window.__pwned=2</script>",
        "<!-- <script>",
        '"><img src=x onerror="window.__pwned=3">',
        "Rm 12\\u",
        "`${1}`\\",
        "line\u2028paragraph\u2029end",
        "Li & 'Wei' 李伟",
    ],
)
def test_script_json_gives_the_text_back_with_nothing_that_can_end_a_script(text: str) -> None:
    written = script_json(text)
    assert json.loads(written) == text
    assert set(written).isdisjoint("<>&\u2028\u2029")
    assert script_json({"html": text}) == f'{{"html": {written}}}'


@pytest.mark.parametrize("drawn", ["desk", "driver"])
def test_typed_text_reaches_the_map_script_only_as_json_strings(
    typed_day: TypedDay, drawn: str
) -> None:
    plan, problem, text = typed_day.plan, typed_day.problem, typed_day.text
    if drawn == "desk":
        page = desk_page(plan, problem, tiles=BLANK)
        shown = [f"T1 Li Wei {text}: base", f"Mrs Wong {text}", f"V1 Dongmen Rd {text}"]
        shown += [f"{typed_day.far_id}: radius", f"Mr Zhao {text}"]
    else:
        page = driver_page(plan, problem, "T1", tiles=BLANK)
        shown = [f"{n}. {stop.arrival[11:16]}" for n, stop in enumerate(plan.routes[0].stops, 1)]
    code = re.sub(JSON_STRING, '""', map_script(page))
    assert "`" not in code, "no template literal: there ${...} runs and a backslash escapes"
    # The desk page adds the script that keeps its view in the console's frame; the driver's
    # page its data (a JSON block) and the script that reports from the field.
    scripts = 4 if drawn == "desk" else 5
    assert page.count("<script") == page.count("</script>") == scripts
    for text_shown in shown:
        assert html.escape(text_shown) in said(page)


#: Jinja template code: branca's Element compiled the HTML it was given, typed text and all.
TEMPLATE_CODE = "{{ 7*191 }} {{ 'ran' ~ 'x'*3 }} {% raw %} {# x"


@pytest.mark.parametrize("drawn", ["desk", "driver"])
def test_typed_template_code_is_text_never_run(drawn: str) -> None:
    # A customer named {{7*7}} was shown as 49; an address of os.popen('id') showed uid=0
    # (root), also from a driver's "could not complete" reason; {% raw %} answered 500.
    plan, problem = solved(typed_raw(TEMPLATE_CODE, far_id="FAR{{1}}", other_id="T2{%"))
    page = (
        desk_page(plan, problem, tiles=BLANK)
        if drawn == "desk"
        else driver_page(plan, problem, "T1", tiles=BLANK)
    )
    shown = html.unescape(page + said(page))
    assert TEMPLATE_CODE in shown
    assert "1337" not in shown and "ranxxx" not in shown


def test_typed_text_keeps_its_direction_to_itself_on_both_pages() -> None:
    # A right-to-left override typed in a customer's name reversed the rest of the driver's
    # line ("· install · 30 min" read backwards); an Arabic name reorders what follows the same
    # way. Each typed text sits in its own <bdi>.
    text = "\u202e\u0645\u062d\u0645\u062f"  # RLO, then an Arabic name
    plan, problem = solved(typed_raw(text, far_id="FAR", other_id="T2"))
    driver = driver_page(plan, problem, "T1", tiles=BLANK)
    stop = plan.routes[0].stops[0]
    assert f"<b><bdi>{html.escape(stop.customer)}</bdi></b> · <bdi>" in driver
    assert f"<bdi>{html.escape(stop.address)}</bdi></a>" in driver
    assert f"<div><bdi>gate code {text}</bdi></div>" in driver
    assert f"<b><bdi>Li Wei {text}</bdi></b> · 2026-11-23" in driver
    words = re.findall(JSON_STRING, map_script(desk_page(plan, problem, tiles=BLANK)))
    desk = "\n".join(json.loads(string) for string in words)
    assert f"<td><bdi>{html.escape(stop.customer)}</bdi></td>" in desk
    assert f"<td><bdi>{html.escape(stop.address)}</bdi></td>" in desk
    assert f"<bdi>T1 Li Wei {text}</bdi>: base" in desk
    outside = re.sub(r"<bdi>[^<]*</bdi>|<title>[^<]*</title>|=\"[^\"]*\"", "", driver + desk)
    assert "\u202e" not in outside and "\u0645" not in outside, "no typed text outside a <bdi>"


def test_the_legend_lists_each_technicians_stops_km_and_utilisation(
    day_plan: tuple[PlanOut, ProblemIn],
) -> None:
    plan, problem = day_plan
    page = desk_page(plan, problem, tiles=BLANK)
    legend = page[page.index('<div class="fr-legend">') :]
    for route in plan.routes:
        row = f"{route.technician_id}</td><td>{len(route.stops)}</td>"
        assert row in legend
        assert f"{route.distance_km:.1f}" in legend and f"{route.utilisation:.0%}" in legend
    # The day's km as the plan says them, to the tenth (2.5 km was "2 km", rounded to even).
    assert f", {plan.kpis.distance_km:.1f} km<table>" in legend


def test_pages_show_km_as_the_plan_says_them(day_plan: tuple[PlanOut, ProblemIn]) -> None:
    plan, problem = day_plan
    route = plan.routes[0].model_copy(update={"distance_km": 2.5})
    halfway = plan.model_copy(
        update={"routes": [route, *plan.routes[1:]],
                "kpis": plan.kpis.model_copy(update={"distance_km": 2.5})}
    )  # fmt: skip
    assert " · 2.5 km · " in driver_page(halfway, problem, route.technician_id, tiles=BLANK)
    assert ", 2.5 km<table>" in desk_page(halfway, problem, tiles=BLANK)


def test_unassigned_popups_give_the_reason(day_plan: tuple[PlanOut, ProblemIn]) -> None:
    _, problem = day_plan
    raw = problem.model_dump(mode="json", exclude_none=True)
    far = raw["visits"][1] | {"id": "FAR", "location": {"lat": 40.0, "lon": 116.4}}
    raw["visits"].append(far)
    planned, day = solved(raw, seconds=1)
    reasons = {item.visit_id: item for item in planned.unassigned}
    assert reasons["FAR"].code == "radius"
    page = desk_page(planned, day, tiles=BLANK)
    assert reasons["FAR"].reason.split(" (")[0] in page


def test_legs_follow_road_geometry_when_the_provider_has_it() -> None:
    bend = (22.85, 113.85)

    def road(origin: tuple[float, float], destination: tuple[float, float]) -> list[Any]:
        return [origin, bend, destination]

    assert route_line([(22.8, 113.8), (22.9, 113.9)], road) == [(22.8, 113.8), bend, (22.9, 113.9)]
    assert route_line([(22.8, 113.8), (22.9, 113.9)], None) == [(22.8, 113.8), (22.9, 113.9)]
    assert route_line([(0, 0), (1, 1), (2, 2)], lambda a, b: None) == [(0, 0), (1, 1), (2, 2)]


def test_the_desk_map_draws_roads_from_the_path_it_is_given(
    day_plan: tuple[PlanOut, ProblemIn],
) -> None:
    plan, problem = day_plan
    calls: list[tuple[Any, Any]] = []

    def road(origin: tuple[float, float], destination: tuple[float, float]) -> list[Any]:
        calls.append((origin, destination))
        middle = ((origin[0] + destination[0]) / 2 + 0.001, (origin[1] + destination[1]) / 2)
        return [origin, middle, destination]

    straight = desk_page(plan, problem, tiles=BLANK)
    curved = desk_page(plan, problem, tiles=BLANK, path=road)
    legs = sum(len(route.stops) + 1 for route in plan.routes if route.stops)
    assert len(calls) == legs
    assert curved.count("[") == straight.count("[") + legs  # a point more on every leg


def test_the_driver_page_lists_stops_in_order_with_windows_and_phones(
    day_plan: tuple[PlanOut, ProblemIn],
) -> None:
    plan, problem = day_plan
    route = max(plan.routes, key=lambda r: len(r.stops))
    page = driver_page(plan, problem, route.technician_id, tiles=BLANK)
    assert 'name="viewport" content="width=device-width' in page
    assert "&amp;ndash;" not in page
    assert [int(n) for n in re.findall(r'id="stop-(\d+)"', page)] == list(
        range(1, len(route.stops) + 1)
    )
    assert icons(page, "fr-pin") == len(route.stops)
    assert icons(page, "fr-pin fr-base") == 1
    for stop in route.stops:
        assert f'href="tel:{stop.phone}"' in page
        if stop.appointment:
            assert f"agreed time {stop.appointment}" in page
        elif stop.promised_window:
            start, end = stop.promised_window.start[11:16], stop.promised_window.end[11:16]
            assert f"tell the customer {start}&ndash;{end}" in page
    assert fetched(page) == []


def test_the_driver_page_of_an_unknown_technician_is_not_found(
    day_plan: tuple[PlanOut, ProblemIn],
) -> None:
    plan, problem = day_plan
    with pytest.raises(NotFoundError, match="no technician 'NOBODY'"):
        driver_page(plan, problem, "NOBODY", tiles=BLANK)


def test_sites_known_only_as_matrix_rows_are_left_off_the_map() -> None:
    plan, problem = solved(line_day(), seconds=1)
    assert Places(problem).visit("V1") is None
    page = desk_page(plan, problem, tiles=BLANK)
    assert icons(page, "fr-stop") == 0 and "fr-legend" in page
    driver = driver_page(plan, problem, "T1", tiles=BLANK)
    assert driver.count('class="fr-item') == 3


def test_tiles_come_from_the_setting() -> None:
    assert Tiles.from_setting("none").url is None
    assert Tiles.from_setting("").url is None
    assert Tiles.from_setting("osm") == OSM_TILES
    own = Tiles.from_setting("https://tiles.example.com/{z}/{x}/{y}.png", "Example")
    assert own.url == "https://tiles.example.com/{z}/{x}/{y}.png" and own.attribution == "Example"


def test_tiles_are_the_only_thing_a_page_asks_the_network_for(
    day_plan: tuple[PlanOut, ProblemIn],
) -> None:
    plan, problem = day_plan
    chart = desk_map(plan, problem, tiles=OSM_TILES)
    page = chart.get_root().render()
    assert "https://tile.openstreetmap.org/{z}/{x}/{y}.png" in page
    assert fetched(page) == []
    blank = desk_page(plan, problem, tiles=BLANK)
    assert "tile.openstreetmap.org" not in blank


def files_of(
    tmp_path: Path, day_plan: tuple[PlanOut, ProblemIn], monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, Path]:
    """The plan and its day written to files, beside an empty store: where ``fieldroute map``
    is given them."""
    monkeypatch.setenv("FIELDROUTE_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    plan, problem = day_plan
    plan_file, day_file = tmp_path / "plan.json", tmp_path / "day.json"
    plan_file.write_text(plan.model_dump_json(), encoding="utf-8")
    day_file.write_text(problem.model_dump_json(exclude_none=True), encoding="utf-8")
    return plan_file, day_file


def test_fieldroute_map_writes_both_pages(
    tmp_path: Path, day_plan: tuple[PlanOut, ProblemIn], monkeypatch: pytest.MonkeyPatch
) -> None:
    plan, _ = day_plan
    plan_file, day_file = files_of(tmp_path, day_plan, monkeypatch)
    runner = CliRunner()
    desk = runner.invoke(
        app, ["map", str(plan_file), "--problem", str(day_file), "-o", str(tmp_path / "day.html")]
    )
    assert desk.exit_code == 0, desk.output
    assert icons((tmp_path / "day.html").read_text(encoding="utf-8"), "fr-stop") > 30
    technician = plan.routes[0].technician_id
    one = runner.invoke(
        app,
        [
            *("map", str(plan_file), "--problem", str(day_file), "--technician", technician),
            *("-o", str(tmp_path / "t.html"), "--tiles", "none"),
        ],
    )
    assert one.exit_code == 0, one.output
    assert "tile.openstreetmap.org" not in (tmp_path / "t.html").read_text(encoding="utf-8")


def test_fieldroute_map_refuses_a_day_that_is_not_the_plans(
    tmp_path: Path, day_plan: tuple[PlanOut, ProblemIn], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another day's file drew the plan's stops where that day's visits were, or left them off.
    plan, _ = day_plan
    plan_file, day_file = files_of(tmp_path, day_plan, monkeypatch)
    raw = json.loads(day_file.read_text(encoding="utf-8"))
    runner = CliRunner()

    def drawn_with(day: dict[str, Any]) -> str:
        day_file.write_text(json.dumps(day), encoding="utf-8")
        result = runner.invoke(
            app, ["map", str(plan_file), "--problem", str(day_file), "-o", str(tmp_path / "m.html")]
        )
        assert result.exit_code != 0 and "Traceback" not in result.output
        assert not (tmp_path / "m.html").exists()
        return " ".join(result.output.split())

    dated = drawn_with(raw | {"date": "2026-11-24"})
    assert f"--problem: is the day of 2026-11-24; plan {plan.plan_id} is of {plan.date}" in dated
    served = plan.routes[0].stops[0].visit_id
    without = raw | {"visits": [v for v in raw["visits"] if v["id"] != served]}
    assert f"is not the day of plan {plan.plan_id}: it has no {served}" in drawn_with(without)


def test_fieldroute_map_finds_the_day_in_the_store_or_says_how_to_give_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FIELDROUTE_DATABASE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    monkeypatch.chdir(tmp_path)
    day = line_day()
    day["travel"]["locations"] = [{"lat": 22.8, "lon": 113.8 + 0.01 * i} for i in range(4)]
    (tmp_path / "day.json").write_text(json.dumps(day), encoding="utf-8")
    runner = CliRunner()
    solve = runner.invoke(app, ["solve", "day.json", "-o", "plan.json", "--time-limit", "1"])
    assert solve.exit_code == 0, solve.output
    drawn = runner.invoke(app, ["map", "plan.json", "-o", "day.html"])
    assert drawn.exit_code == 0, drawn.output
    assert icons((tmp_path / "day.html").read_text(encoding="utf-8"), "fr-stop") == 3

    monkeypatch.setenv("FIELDROUTE_DATABASE_URL", f"sqlite:///{tmp_path / 'other.db'}")
    lost = runner.invoke(app, ["map", "plan.json", "-o", "x.html"])
    assert lost.exit_code != 0 and "--problem" in lost.output
    bad = tmp_path / "bad.json"
    bad.write_text('{"plan_id": 3}', encoding="utf-8")
    refused = runner.invoke(app, ["map", str(bad), "-o", "x.html"])
    assert refused.exit_code != 0 and "plan_id" in refused.output
    assert "Traceback" not in refused.output


def test_a_technician_without_a_route_says_so_on_the_desk_map_and_their_phone(
    day_plan: tuple[PlanOut, ProblemIn],
) -> None:
    _, problem = day_plan
    raw = problem.model_dump(mode="json", exclude_none=True)
    first = raw["technicians"][0]
    stranded = {  # ends about 70 km from their base, after a half-hour shift
        "id": "FAR<b>",
        "start": first["start"],
        "end": {"lat": first["start"]["lat"] + 0.5, "lon": first["start"]["lon"] + 0.5},
        "shift": {"start": "08:00", "end": "08:30"},
    }
    raw["technicians"].append(stranded)
    planned, day = solved(raw, seconds=1)
    (item,) = planned.technicians_without_route
    page = desk_page(planned, day, tiles=BLANK)
    words = said(page)
    assert f"{html.escape('FAR<b>')} · no route" in words
    assert f"{html.escape('FAR<b>')}: base · no route: {html.escape(item.reason)}" in words
    assert "FAR<b>" not in words, "a typed id is escaped"
    phone = driver_page(planned, day, "FAR<b>", tiles=BLANK)
    assert f"No route today: {html.escape(item.reason)}" in phone
    assert "No visits today" not in phone and "FAR<b>" not in phone
    # A technician with a route reads no such line.
    assert "No route today" not in driver_page(planned, day, first["id"], tiles=BLANK)
