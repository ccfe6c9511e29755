"""A day on roads: planned, checked, drawn and re-planned on a real ``osrm-routed`` (Andorra).

The session's fixtures (``tests/conftest.py``) fetch OSRM's tools when this machine has none and
prepare the Andorra extract of the shared data; a server runs for this module.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polyline
import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from api import cli
from dispatch.contract.validate import parse_problem
from dispatch.desk.replan import replan_stored
from dispatch.desk.solve import solve_day
from dispatch.errors import InputError, TravelTimeError
from dispatch.persistence import Store, new_id
from dispatch.planning import SolveParams
from dispatch.travel import NO_ROADS, GeodesicProvider, Roads, provider_for
from dispatch.travel.osrm import clear_matrix_cache
from dispatch.travel.osrm_tools import OsrmTools
from dispatch.travel.roads import Dataset
from dispatch.travel.routed import serve

QUICK = SolveParams(time_limit_s=2, seeders=())

#: Andorra la Vella's service base, and visits in the valley, all beside a street.
BASE = {"lat": 42.5063, "lon": 1.5218}
SPOTS = [
    (42.5080, 1.5340),
    (42.5100, 1.5200),
    (42.5100, 1.5300),
    (42.5050, 1.5250),
    (42.5110, 1.5360),
    (42.5035, 1.5170),
]


def road_day(**policy: Any) -> dict[str, Any]:
    return {
        "date": "2026-11-23",
        "timezone": "Europe/Andorra",
        "policy": {"travel": {"provider": "osrm"}, **policy},
        "technicians": [
            {"id": f"T{t}", "start": BASE, "shift": {"start": "08:00", "end": "17:00"}}
            for t in (1, 2)
        ],
        "visits": [
            {"id": f"V{i}", "location": {"lat": lat, "lon": lon}, "duration_min": 30,
             "customer": f"C{i}", **({"appointment": "10:00"} if i == 1 else {})}
            for i, (lat, lon) in enumerate(SPOTS, start=1)
        ],
    }  # fmt: skip


@pytest.fixture(scope="module")
def roads(tools: OsrmTools, andorra: Dataset) -> Iterator[Roads]:
    with serve(andorra, tools=tools) as server:
        yield Roads(server.base_url, server.max_table_size, andorra.key)


def solved(store: Store, raw: dict[str, Any], roads: Roads | None) -> dict[str, Any]:
    day = solve_day(
        raw,
        parse_problem(raw),
        params=QUICK,
        save=lambda plan, record: store.save_problem_and_plan(
            raw, plan, problem_id=new_id("pb"), record=record
        ),
        roads=roads,
    )
    assert day.report.ok, day.report.violations  # checked on the same roads, leg by leg
    return day.document.model_dump(mode="json")


def test_a_day_on_roads_is_planned_on_road_times_and_drawn_along_the_streets(
    tmp_path: Path, roads: Roads
) -> None:
    store = Store(f"sqlite:///{tmp_path / 'roads.db'}")
    plan = solved(store, road_day(), roads)
    assert plan["kpis"]["assigned"] == len(SPOTS)
    # Travel came from the roads: each leg is what the server says, not the straight line.
    raw = road_day()
    problem = parse_problem(raw)
    road = provider_for(problem, roads=roads)
    straight = GeodesicProvider(problem.policy.travel)
    sites = [tech.start for tech in problem.technicians[:1]] + [v.site for v in problem.visits]
    road_s, _ = road.matrix(sites)
    straight_s, _ = straight.matrix(sites)
    assert (road_s != straight_s).any()
    for route in plan["routes"]:
        first = route["stops"][0]
        row = 1 + int(first["visit_id"][1:]) - 1
        assert first["travel_min"] == -(-int(road_s[0, row]) // 60)  # rounded up, as planned
        line = polyline.decode(route["geometry"], 5)
        assert len(line) > len(route["stops"]) + 2  # bends along streets, not stop to stop
        assert abs(line[0][0] - BASE["lat"]) < 0.003 and abs(line[-1][1] - BASE["lon"]) < 0.003
    store.close()


def test_a_re_plan_on_roads_keeps_travelling_on_them(tmp_path: Path, roads: Roads) -> None:
    store = Store(f"sqlite:///{tmp_path / 'roads.db'}")
    plan = solved(store, road_day(), roads)
    busiest = max(plan["routes"], key=lambda route: len(route["stops"]))
    batch = {"at": "08:05", "events": [
        {"type": "delay", "technician_id": busiest["technician_id"], "minutes": 40}]}  # fmt: skip
    second = replan_stored(store, plan["plan_id"], batch, params=QUICK, roads=roads)
    assert second.version == 2
    assert all(route.geometry for route in second.routes)
    with pytest.raises(TravelTimeError, match="no roads were given"):
        replan_stored(store, plan["plan_id"], {**batch, "at": "08:10"}, params=QUICK)
    store.close()


def test_a_visit_far_from_any_road_is_an_input_error_naming_it(
    tmp_path: Path, roads: Roads
) -> None:
    raw = road_day(travel={"provider": "osrm", "snap_limit_m": 300})
    raw["visits"][2]["location"] = {"lat": 43.6045, "lon": 1.4440}  # Toulouse, off the extract
    store = Store(f"sqlite:///{tmp_path / 'roads.db'}")
    with pytest.raises(InputError) as caught:
        solved(store, raw, roads)
    [error] = caught.value.errors
    assert (error.path, error.entity_id) == ("visits[2].location", "V3")
    assert "from the nearest road (policy.travel.snap_limit_m is 300)" in error.message
    with store.engine.connect() as connection:  # nothing stored
        assert connection.execute(text("SELECT count(*) FROM plans")).scalar() == 0
    store.close()


def test_validate_checks_a_day_s_places_against_the_roads(tmp_path: Path, roads: Roads) -> None:
    # validate said a day was valid whose visit no road reached: only the solve found it.
    env = {"FIELDROUTE_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "FIELDROUTE_ROADS": None}
    good = tmp_path / "good.json"
    good.write_text(json.dumps(road_day()), encoding="utf-8")
    checked = CliRunner().invoke(cli.app, ["validate", str(good), "--roads", roads.url], env=env)
    assert checked.exit_code == 0, checked.output
    assert "every place is on the roads" in checked.output
    unchecked = CliRunner().invoke(cli.app, ["validate", str(good)], env=env)
    assert unchecked.exit_code == 0 and "not checked (give --roads)" in unchecked.output
    raw = road_day(travel={"provider": "osrm", "snap_limit_m": 300})
    raw["visits"][2]["location"] = {"lat": 43.6045, "lon": 1.4440}  # Toulouse, off the extract
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(raw), encoding="utf-8")
    refused = CliRunner().invoke(cli.app, ["validate", str(bad), "--roads", roads.url], env=env)
    assert refused.exit_code == 2, refused.output
    assert "visits[2] (V3).location: 107935 m from the nearest road" in refused.output


def test_a_week_on_roads_names_an_off_road_base_once_by_its_roster_place(
    tmp_path: Path, roads: Roads
) -> None:
    # A week plans one copy of each technician per working date: T2's base off the roads was
    # named technicians[1] and technicians[3] (T2), in a roster of two.
    toulouse = {"lat": 43.6045, "lon": 1.4440}
    week: dict[str, Any] = {
        "horizon": {"start": "2026-11-23", "days": 2},
        "timezone": "Europe/Andorra",
        "policy": {"travel": {"provider": "osrm", "snap_limit_m": 300}},
        "technicians": [
            {"id": f"T{t}", "start": base, "shift": {"start": "08:00", "end": "17:00"}}
            for t, base in ((1, BASE), (2, toulouse))  # T2's base off the extract
        ],
        "visits": [{"id": "V1", "location": {"lat": SPOTS[0][0], "lon": SPOTS[0][1]},
                    "duration_min": 30}],
    }  # fmt: skip
    path = tmp_path / "week.json"
    path.write_text(json.dumps(week), encoding="utf-8")
    env = {"FIELDROUTE_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "FIELDROUTE_ROADS": None}
    for command in (["validate", str(path)], ["solve", str(path), "--time-limit", "1"]):
        refused = CliRunner().invoke(cli.app, [*command, "--roads", roads.url], env=env)
        assert refused.exit_code == 2, refused.output
        assert refused.output.count("technicians[1] (T2).start") == 1, refused.output
        assert "technicians[3]" not in refused.output


def test_roads_given_as_no_url_are_named_not_a_traceback(tmp_path: Path) -> None:
    # ``--roads http://localhost:abc`` ended in httpx's InvalidURL traceback, and a service
    # so started answered its health check with a 500 (a hunt).
    path = tmp_path / "day.json"
    path.write_text(json.dumps(road_day()), encoding="utf-8")
    env = {"FIELDROUTE_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "FIELDROUTE_ROADS": None}
    for command in (["validate", str(path)], ["solve", str(path), "--time-limit", "1"]):
        refused = CliRunner().invoke(
            cli.app, [*command, "--roads", "http://localhost:abc"], env=env
        )
        assert refused.exit_code not in (0, None) and isinstance(refused.exception, SystemExit)
        assert "roads 'http://localhost:abc' is not a well-formed URL" in refused.output


def test_a_day_on_roads_without_roads_says_how_to_give_them() -> None:
    with pytest.raises(TravelTimeError) as caught:
        provider_for(parse_problem(road_day()))
    assert str(caught.value) == NO_ROADS and "--roads" in NO_ROADS


def test_the_cli_prepares_an_extract_once_and_plans_on_it(
    tmp_path: Path, andorra_extract: Path, tools: OsrmTools
) -> None:
    env = {
        "FIELDROUTE_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "FIELDROUTE_CACHE_DIR": str(tmp_path / "cache"),
        "PATH": f"{tools.bin_dir}:/usr/bin:/bin",
    }
    fieldroute = [str(Path(sys.executable).parent / "fieldroute")]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*fieldroute, *args], env=env, capture_output=True, text=True, timeout=300
        )

    first = run("roads", "prepare", str(andorra_extract))
    assert first.returncode == 0, first.stderr
    assert "extracting" in first.stderr and "ready in" in first.stdout
    again = run("roads", "prepare", str(andorra_extract))
    assert again.returncode == 0 and "cached" in again.stderr and "extracting" not in again.stderr
    day = tmp_path / "day.json"
    day.write_text(json.dumps(road_day()), encoding="utf-8")
    plan = tmp_path / "plan.json"
    planned = run("solve", str(day), "--roads", str(andorra_extract), "--time-limit", "2",
                  "-o", str(plan))  # fmt: skip
    assert planned.returncode == 0, planned.stderr
    assert "checker: 0 violations" in planned.stdout
    assert all(route["geometry"] for route in json.loads(plan.read_text())["routes"])
    refused = run("solve", str(day), "--time-limit", "2")
    assert refused.returncode != 0 and "no roads were given" in refused.stderr


def test_a_matrix_is_asked_once_per_dataset_whatever_the_process(
    tmp_path: Path, roads: Roads
) -> None:
    # The solve runs in one worker process and its re-plans in another: the matrix of a
    # prepared dataset is kept beside it, and a later process reads it instead of asking.
    kept = Roads(roads.url, roads.max_table_size, roads.dataset_id, tmp_path / "matrices")
    problem = parse_problem(road_day())
    sites = [visit.site for visit in problem.visits]
    asked = provider_for(problem, roads=kept).matrix(sites)
    assert len(list((tmp_path / "matrices").glob("*.npz"))) == 1
    clear_matrix_cache()  # as a fresh process sees it; and no server at all this time
    gone = Roads("http://127.0.0.1:9", roads.max_table_size, roads.dataset_id, kept.matrix_dir)
    again = provider_for(problem, roads=gone).matrix(sites)
    assert (again[0] == asked[0]).all() and (again[1] == asked[1]).all()
