"""The ``fieldroute`` command: exit codes, messages, files written and plans stored."""

from __future__ import annotations

import copy
import json
import math
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

import api.cli
from api.cli import app
from dispatch.config import Settings
from dispatch.persistence import ProblemRow, Store
from tests.conftest import STRANDED_T2, line_day

runner = CliRunner()


@pytest.fixture(autouse=True)
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    return url


def write(path: Path, day: dict[str, Any]) -> Path:
    path.write_text(json.dumps(day), encoding="utf-8")
    return path


def test_validate_accepts_a_good_day(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(write(tmp_path / "day.json", line_day()))])
    assert result.exit_code == 0, result.output
    assert "valid: 2026-11-23 (Asia/Shanghai), 1 technician, 3 visits" in result.output


def test_validate_lists_every_problem_and_exits_2(tmp_path: Path) -> None:
    day = line_day()
    day["visits"][0]["window"] = {"start": "10:00", "end": "08:00"}
    day["visits"][1]["id"] = "V1"
    result = runner.invoke(app, ["validate", str(write(tmp_path / "day.json", day))])
    assert result.exit_code == 2
    assert "invalid problem: 2 errors" in result.output
    assert "visits[0] (V1).window.end: 08:00 is before start 10:00" in result.output
    assert "visits[1] (V1).id: duplicate id" in result.output
    assert "Traceback" not in result.output


def test_bad_json_and_missing_file_are_clear_errors(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"date": ', encoding="utf-8")
    result = runner.invoke(app, ["solve", str(broken)])
    assert result.exit_code == 2 and "not valid JSON" in result.output
    result = runner.invoke(app, ["solve", str(tmp_path / "absent.json")])
    assert result.exit_code == 2 and "cannot read" in result.output
    assert "Traceback" not in result.output


def test_solve_writes_stores_and_summarises(tmp_path: Path, database: str) -> None:
    day = line_day()
    day["visits"].append(
        {"id": "V9", "location_index": 3, "duration_min": 30, "required_skills": ["gas"]}
    )
    out = tmp_path / "out" / "plan.json"
    result = runner.invoke(
        app, ["solve", str(write(tmp_path / "day.json", day)), "-o", str(out), "--time-limit", "1"]
    )
    assert result.exit_code == 0, result.output
    plan = json.loads(out.read_text(encoding="utf-8"))
    assert plan["kpis"]["assigned"] == 3
    assert plan["unassigned"] == [
        {
            "visit_id": "V9",
            "code": "no_skill",
            "reason": "no technician has skill 'gas'",
            "candidates": [],
        }
    ]
    assert Store(database).load_plan(plan["plan_id"]) == plan
    assert "checker: 0 violations" in result.output
    assert "assigned 3/4" in result.output
    assert "no technician has skill 'gas'" in result.output


def test_solve_lists_the_technicians_without_a_route_and_why(tmp_path: Path) -> None:
    day = line_day()
    day["technicians"].append(copy.deepcopy(STRANDED_T2))
    out = tmp_path / "plan.json"
    result = runner.invoke(
        app, ["solve", str(write(tmp_path / "day.json", day)), "-o", str(out), "--time-limit", "1"]
    )
    assert result.exit_code == 0, result.output
    (stranded,) = json.loads(out.read_text(encoding="utf-8"))["technicians_without_route"]
    assert "Without a route (1)" in result.output
    assert "the drive takes 30 min" in stranded["reason"]
    assert re.search(r"T2\s+│\s+cannot get from their start to their end", result.output)
    assert re.search(r"\b1\s+technician;", result.output), "one technician, not 'technicians'"


def test_invalid_day_stores_nothing(tmp_path: Path, database: str) -> None:
    day = line_day()
    day["visits"][0]["duration_min"] = -1
    result = runner.invoke(app, ["solve", str(write(tmp_path / "day.json", day))])
    assert result.exit_code == 2
    store = Store(database)
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("select count(*) from plans").scalar() == 0


def test_replan_prints_changes_and_call_list_then_report_gives_the_card(
    tmp_path: Path, database: str
) -> None:
    day = line_day()
    day["visits"][2]["window"] = {"start": "08:00", "end": "18:00"}
    out = tmp_path / "plan.json"
    solved = runner.invoke(app, ["solve", str(write(tmp_path / "day.json", day)), "-o", str(out)])
    assert solved.exit_code == 0, solved.output
    plan_id = json.loads(out.read_text(encoding="utf-8"))["plan_id"]
    events = {
        "at": "09:00",
        "events": [
            {"type": "arrived", "visit_id": "V1", "at": "08:12"},
            {"type": "completed", "visit_id": "V1", "at": "08:55"},
            {"type": "delay", "technician_id": "T1", "minutes": 60, "reason": "flat tyre"},
        ],
    }
    new = tmp_path / "v2.json"
    result = runner.invoke(
        app,
        ["replan", plan_id, str(write(tmp_path / "events.json", events)), "-o", str(new)],
    )
    assert result.exit_code == 0, result.output
    version = json.loads(new.read_text(encoding="utf-8"))
    assert version["version"] == 2 and Store(database).load_plan(plan_id) == version
    assert "Changes at 09:00" in result.output and "flat tyre" in result.output
    assert "Call list" in result.output and "between" in result.output
    assert f"plan {plan_id} version 2 stored" in result.output

    csv_path = tmp_path / "card.csv"
    card = runner.invoke(app, ["report", plan_id, "--csv", str(csv_path)])
    assert card.exit_code == 0, card.output
    assert "reported arrivals 1; on time 100%" in card.output
    # UTF-8 with a byte-order mark, for Excel (a fresh-eyes hunt of the exports).
    assert csv_path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert csv_path.read_text(encoding="utf-8-sig").startswith("technician_id,visit_id,kind")


def test_replan_with_bad_events_exits_2_and_stores_nothing(tmp_path: Path, database: str) -> None:
    out = tmp_path / "plan.json"
    runner.invoke(app, ["solve", str(write(tmp_path / "day.json", line_day())), "-o", str(out)])
    plan_id = json.loads(out.read_text(encoding="utf-8"))["plan_id"]
    events = {"at": "09:00", "events": [{"type": "cancelled", "visit_id": "V7"}]}
    result = runner.invoke(app, ["replan", plan_id, str(write(tmp_path / "e.json", events))])
    assert result.exit_code == 2
    assert "events[0] (V7): unknown visit 'V7'" in result.output
    assert "Traceback" not in result.output
    assert Store(database).plan_versions(plan_id) == [1]
    missing = runner.invoke(app, ["replan", "pl_nope", str(tmp_path / "e.json")])
    assert missing.exit_code == 2 and "no plan 'pl_nope'" in missing.output
    # A file that is no JSON was an "invalid problem" (a hunt of the CLI).
    garbled = tmp_path / "garbled.json"
    garbled.write_text('{"at": "09:00", "events": [', encoding="utf-8")
    result = runner.invoke(app, ["replan", plan_id, str(garbled)])
    assert result.exit_code == 2 and "invalid events" in result.output
    assert Store(database).plan_versions(plan_id) == [1]


def test_apikey_create_prints_the_key_once_and_stores_its_hash(database: str) -> None:
    created = runner.invoke(app, ["apikey", "create", "desk-1"])
    assert created.exit_code == 0, created.output
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("fr_")
    store = Store(database)
    record = store.api_key_for(key)
    assert record is not None and record.name == "desk-1"
    listed = runner.invoke(app, ["apikey", "list"])
    assert "desk-1" in listed.stdout and key not in listed.stdout
    revoked = runner.invoke(app, ["apikey", "revoke", record.id])
    assert revoked.exit_code == 0 and store.api_key_for(key) is None
    unknown = runner.invoke(app, ["apikey", "revoke", "ak_nope"])
    assert unknown.exit_code == 2 and "ak_nope" in unknown.output
    empty = runner.invoke(app, ["apikey", "create", " "])
    assert empty.exit_code == 2 and "name" in empty.output
    # A name read as markup: '[/x]' stored the key and then ended in a traceback before it
    # was shown, '[bold]x' was shown as 'x' (a fresh-eyes hunt of the CLI).
    for name in ("[/x]", "[bold]x"):
        created = runner.invoke(app, ["apikey", "create", name])
        assert created.exit_code == 0, created.output
        assert f"for {name};" in created.stderr and created.stdout.strip().startswith("fr_")
    store.close()


@pytest.mark.slow
def test_solve_with_a_seed_gives_the_same_plan_twice(tmp_path: Path) -> None:
    from benchmarks.dayset import generate_day

    day = write(tmp_path / "day.json", generate_day(40, 11))
    routes = []
    for run in range(2):
        out = tmp_path / f"plan{run}.json"
        result = runner.invoke(
            app, ["solve", str(day), "-o", str(out), "--time-limit", "2", "--seed", "7"]
        )
        assert result.exit_code == 0, result.output
        plan = json.loads(out.read_text(encoding="utf-8"))
        routes.append(
            [
                (route["technician_id"], [stop["visit_id"] for stop in route["stops"]])
                for route in plan["routes"]
            ]
        )
    assert routes[0] == routes[1]
    assert sum(len(stops) for _, stops in routes[0]) > 20


def test_replan_with_a_seed_gives_the_same_version_twice(tmp_path: Path) -> None:
    from benchmarks.dayset import generate_day

    day = write(tmp_path / "day.json", generate_day(40, 11))
    events = write(
        tmp_path / "events.json",
        {"at": "10:30", "events": [{"type": "delay", "technician_id": "T02", "minutes": 40}]},
    )
    versions = []
    for run in range(2):
        store = f"sqlite:///{tmp_path / f'run{run}.db'}"
        env = {"DATABASE_URL": store}
        out = tmp_path / f"plan{run}.json"
        solved = runner.invoke(
            app, ["solve", str(day), "-o", str(out), "--time-limit", "2", "--seed", "7"], env=env
        )
        assert solved.exit_code == 0, solved.output
        plan_id = json.loads(out.read_text(encoding="utf-8"))["plan_id"]
        new = tmp_path / f"v2-{run}.json"
        result = runner.invoke(
            app, ["replan", plan_id, str(events), "-o", str(new), "--seed", "3"], env=env
        )
        assert result.exit_code == 0, result.output
        version = json.loads(new.read_text(encoding="utf-8"))
        routes = [
            (r["technician_id"], [(s["visit_id"], s["arrival"]) for s in r["stops"]])
            for r in version["routes"]
        ]
        changes = [(c["visit_id"], c["new_technician"]) for c in version["changes"]]
        versions.append((routes, changes))
    assert versions[0] == versions[1]
    assert any(changes for _, changes in versions)


def test_each_command_reads_the_settings_once_and_closes_every_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[Settings] = []
    opened: list[Store] = []
    closed: list[Store] = []

    class CountedSettings(Settings):
        def __init__(self, **values: Any) -> None:
            super().__init__(**values)
            built.append(self)

    class TrackedStore(Store):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            opened.append(self)

        def close(self) -> None:
            closed.append(self)
            super().close()

    monkeypatch.setattr(api.cli, "Settings", CountedSettings)
    monkeypatch.setattr(api.cli, "Store", TrackedStore)
    day = line_day()
    day["travel"]["locations"] = [{"lat": 22.8, "lon": 113.8 + 0.01 * i} for i in range(4)]
    plan_file = tmp_path / "plan.json"
    events = {"at": "09:00", "events": [{"type": "delay", "technician_id": "T1", "minutes": 5}]}

    def run(*args: str) -> str:
        built.clear()
        result = runner.invoke(app, list(args))
        assert result.exit_code == 0, (args, result.output)
        assert len(built) == 1, args
        assert opened and set(map(id, closed)) == set(map(id, opened)), args
        opened.clear()
        closed.clear()
        return result.stdout

    run("solve", str(write(tmp_path / "day.json", day)), "-o", str(plan_file))
    plan_id = json.loads(plan_file.read_text(encoding="utf-8"))["plan_id"]
    run("map", str(plan_file), "-o", str(tmp_path / "day.html"), "--tiles", "none")
    run("replan", plan_id, str(write(tmp_path / "events.json", events)))
    run("report", plan_id)
    run("apikey", "create", "desk-2")
    listed = re.search(r"ak_\w+", run("apikey", "list"))
    assert listed is not None
    run("apikey", "revoke", listed.group())


def test_what_a_user_typed_is_shown_as_typed_never_read_as_markup(tmp_path: Path) -> None:
    """A visit id or a skill such as ``[/]`` once ended ``fieldroute solve`` with a traceback
    (rich read it as a closing tag)."""
    day = {
        "date": "2026-11-23",
        "technicians": [
            {
                "id": "[i]T",  # a technician id may not hold '/'; a visit's may
                "shift": {"start": "08:00", "end": "18:00"},
                "start": {"lat": 22.5, "lon": 113.9},
            }
        ],
        "visits": [
            {
                "id": "[/]",
                "location": {"lat": 22.51, "lon": 113.91},
                "duration_min": 30,
                "required_skills": ["[bold]gas"],
            }
        ],
    }
    path = tmp_path / "day.json"
    path.write_text(json.dumps(day), encoding="utf-8")
    env = {"FIELDROUTE_DATABASE_URL": f"sqlite:///{tmp_path / 'f.db'}"}
    result = CliRunner().invoke(app, ["solve", str(path), "--time-limit", "1"], env=env)
    assert result.exit_code == 0, result.output
    assert "[/]" in result.output and "[bold]gas" in result.output
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**day, "date": "[/]"}), encoding="utf-8")
    refused = CliRunner().invoke(app, ["validate", str(bad)], env=env)
    assert refused.exit_code == 2 and "[/]" in refused.output


def test_an_escape_sequence_a_user_typed_reaches_the_terminal_inert(tmp_path: Path) -> None:
    # A technician id holding ESC recoloured the dispatcher's terminal and planted a link,
    # cut off mid-sequence by the table (an outside hunt).
    sequence = "\x1b[41m\x1b]8;;mailto:x@example.com\x1b\\click\x9b"
    day = line_day()
    day["technicians"][0]["id"] = f"T{sequence}"
    day["visits"][0]["technician"] = f"T{sequence}"
    path = write(tmp_path / "day.json", day)
    env = {"FIELDROUTE_DATABASE_URL": f"sqlite:///{tmp_path / 'f.db'}"}
    result = CliRunner().invoke(app, ["solve", str(path), "--time-limit", "1"], env=env)
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\x9b" not in result.output
    assert "T\u241b[41m" in result.output
    day["date"] = f"2026-11-23{sequence}"
    refused = CliRunner().invoke(app, ["validate", str(write(tmp_path / "bad.json", day))])
    assert refused.exit_code == 2 and "\x1b" not in refused.output


def test_solve_lists_the_stores_pick_lists_of_a_parts_day(tmp_path: Path) -> None:
    example = Path(__file__).parents[2] / "examples" / "parts-day.json"
    out = tmp_path / "plan.json"
    result = runner.invoke(
        app, ["solve", str(example), "-o", str(out), "--time-limit", "2"], terminal_width=200
    )
    assert result.exit_code == 0, result.output
    plan = json.loads(out.read_text(encoding="utf-8"))
    assert plan["pick_lists"], "the example's day calls at a depot"
    assert f"Pick lists ({len(plan['pick_lists'])}" in result.output
    for pick in plan["pick_lists"]:
        parts = ", ".join(f"{item['quantity']} x {item['part']}" for item in pick["parts"])
        row = re.search(
            rf"{pick['depot_id']}\s+│\s+{pick['technician_id']}\s+│[^│]+│\s+{re.escape(parts)}",
            result.output,
        )
        assert row, (pick, result.output)


def test_an_output_that_cannot_be_written_is_an_error_that_says_what_was_stored(
    tmp_path: Path, database: str
) -> None:
    # Each ended in a traceback (FileNotFoundError) after the plan or version was stored.
    nowhere = tmp_path / "file" / "plan.json"
    (tmp_path / "file").write_text("a file, not a folder", encoding="utf-8")
    day = write(tmp_path / "day.json", line_day())
    solved = runner.invoke(app, ["solve", str(day), "-o", str(nowhere), "--time-limit", "1"])
    assert solved.exit_code == 2, solved.output
    assert "Traceback" not in solved.output and f"cannot write {nowhere}" in solved.output
    (plan_id,) = re.findall(r"plan (pl_\w+) is stored", solved.output)
    assert Store(database).plan_versions(plan_id) == [1]
    events = {"at": "09:00", "events": [{"type": "delay", "technician_id": "T1", "minutes": 5}]}
    replanned = runner.invoke(
        app, ["replan", plan_id, str(write(tmp_path / "e.json", events)), "-o", str(nowhere)]
    )
    assert replanned.exit_code == 2 and f"plan {plan_id} version 2 is stored" in replanned.output
    card = runner.invoke(app, ["report", plan_id, "--csv", str(nowhere)])
    assert card.exit_code == 2 and "cannot write" in card.output


@pytest.mark.parametrize("limit", ["inf", "nan", "1e400"])
def test_a_time_limit_beyond_an_hour_is_refused(tmp_path: Path, limit: str) -> None:
    day = write(tmp_path / "day.json", line_day())
    result = runner.invoke(app, ["solve", str(day), "--time-limit", limit])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "--time-limit" in result.output


def test_a_database_that_cannot_be_reached_is_said_in_one_line(tmp_path: Path) -> None:
    # `fieldroute worker` or `serve` started before PostgreSQL ended in a traceback.
    env = {"FIELDROUTE_DATABASE_URL": "postgresql+psycopg://desk:secret@127.0.0.1:1/fieldroute"}
    result = CliRunner().invoke(app, ["apikey", "list"], env=env)
    assert result.exit_code == 1
    assert "error: the database cannot be reached:" in result.output
    assert "Traceback" not in result.output
    # One line: psycopg's hint ("Is the server running ...") was a second.
    assert len(result.output.strip().splitlines()) == 1, result.output
    # A file that is no SQLite database (a path typed wrong, a damaged file) ended every
    # command in a traceback (a hunt of the CLI).
    notes = tmp_path / "notes.json"
    notes.write_text('{"date": "2026-11-23"}\n' * 100)
    env = {"FIELDROUTE_DATABASE_URL": f"sqlite:///{notes}"}
    result = CliRunner().invoke(app, ["apikey", "list"], env=env)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "error: the database cannot be reached: file is not a database" in result.output


def test_replan_tells_the_customer_of_a_visit_not_completed_to_book_another_day(
    tmp_path: Path, database: str
) -> None:
    # The attempt stays on the route as a done stop: its window today was read as the call.
    out = tmp_path / "plan.json"
    solved = runner.invoke(
        app, ["solve", str(write(tmp_path / "day.json", line_day())), "-o", str(out)]
    )
    assert solved.exit_code == 0, solved.output
    plan_id = json.loads(out.read_text(encoding="utf-8"))["plan_id"]
    failed = {"type": "not_completed", "visit_id": "V1", "reason": "no part", "at": "08:50"}
    events = {
        "at": "09:00",
        "events": [{"type": "arrived", "visit_id": "V1", "at": "08:12"}, failed],
    }
    result = runner.invoke(app, ["replan", plan_id, str(write(tmp_path / "events.json", events))])
    assert result.exit_code == 0, result.output
    call_list = result.output[result.output.index("Call list") :]
    row = next(line for line in call_list.splitlines() if line.startswith("│ V1"))
    assert "cannot be served today" in row and "between" not in row


def test_map_reads_a_day_stored_before_types_were_strict(tmp_path: Path, database: str) -> None:
    # `map` read the stored day strictly and refused what report, slots and the service read.
    plan_file = tmp_path / "plan.json"
    solved = runner.invoke(app, ["solve", str(write(tmp_path / "day.json", line_day())), "-o",
                                 str(plan_file)])  # fmt: skip
    assert solved.exit_code == 0, solved.output
    plan = json.loads(plan_file.read_text(encoding="utf-8"))
    store = Store(database)
    try:
        raw = store.load_problem_of_plan(plan["plan_id"], plan["version"])
        raw["policy"] = {"service_radius_km": "100"}  # as an older release stored it
        with store.engine.begin() as connection:
            connection.execute(update(ProblemRow).values(payload=json.dumps(raw)))
    finally:
        store.close()
    drawn = runner.invoke(app, ["map", str(plan_file), "-o", str(tmp_path / "day.html"),
                                "--tiles", "none"])  # fmt: skip
    assert drawn.exit_code == 0, drawn.output
    assert (tmp_path / "day.html").is_file()


def test_tiles_of_your_own_need_a_credit_before_any_map_is_drawn(
    tmp_path: Path, database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A tile URL template without FIELDROUTE_MAP_ATTRIBUTION started the service, then every
    # map page answered 500 (the drivers' too); `map --tiles URL` ended in a traceback.
    own = "https://tiles.example.com/{z}/{x}/{y}.png"
    plan_file = tmp_path / "plan.json"
    solved = runner.invoke(app, ["solve", str(write(tmp_path / "day.json", line_day())), "-o",
                                 str(plan_file)])  # fmt: skip
    assert solved.exit_code == 0, solved.output
    page = tmp_path / "day.html"
    drawn = runner.invoke(app, ["map", str(plan_file), "-o", str(page), "--tiles", own])
    assert drawn.exit_code == 2 and "--attribution" in drawn.output, drawn.output
    assert "Traceback" not in drawn.output and not page.exists()
    credited = ["--tiles", own, "--attribution", "© Example Tiles"]
    drawn = runner.invoke(app, ["map", str(plan_file), "-o", str(page), *credited])
    assert drawn.exit_code == 0, drawn.output
    assert "tiles.example.com" in page.read_text(encoding="utf-8")
    monkeypatch.setenv("FIELDROUTE_MAP_TILES", own)
    refused = runner.invoke(app, ["serve"])
    assert refused.exit_code == 2 and "FIELDROUTE_MAP_ATTRIBUTION" in refused.output
    # Neither osm, none nor an address ('topo', 'javascript:…'): taken as a URL, the same
    # traceback and 500s (a fresh-eyes hunt of the pages).
    for unknown in ("topo", "javascript:alert(1)"):
        monkeypatch.delenv("FIELDROUTE_MAP_TILES")
        drawn = runner.invoke(app, ["map", str(plan_file), "-o", str(page), "--tiles", unknown])
        assert drawn.exit_code == 2 and "--tiles" in drawn.output, drawn.output
        assert "Traceback" not in drawn.output
        monkeypatch.setenv("FIELDROUTE_MAP_TILES", unknown)
        refused = runner.invoke(app, ["serve"])
        assert refused.exit_code == 2 and "none of 'osm', 'none'" in refused.output


def test_a_database_url_fieldroute_cannot_use_is_named_in_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # `postgres://` (as many hosts spell DATABASE_URL) and a mistyped URL ended every command
    # in a SQLAlchemy traceback; the password is never echoed.
    assert Settings(database_url="postgres://u@h/db").database_url == "postgresql://u@h/db"
    monkeypatch.delenv("FIELDROUTE_DATABASE_URL", raising=False)
    for url, said in (
        ("postgresql+psycopg//u:secret@h/db", "FIELDROUTE_DATABASE_URL: not a database URL"),
        ("mysql://u:secret@h/db", "SQLite or PostgreSQL, not 'mysql://u:***@h/db'"),
        ("postgresql+asyncpg://u:secret@h/db", "no database driver for"),
    ):
        monkeypatch.setenv("DATABASE_URL", url)
        result = runner.invoke(app, ["apikey", "list"])
        assert result.exit_code == 2 and said in result.output, (url, result.output)
        assert "secret" not in result.output and "Traceback" not in result.output


def test_a_key_without_a_name_is_refused_as_an_api_key(database: str) -> None:
    # It was refused as "error: invalid problem".
    result = runner.invoke(app, ["apikey", "create", " "])
    assert result.exit_code == 2
    assert "invalid API key" in result.output and "1 to 100 characters" in result.output


def test_a_public_url_without_its_scheme_is_refused_at_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Driver links read "desk.example.com/v1/...", which a phone opens as a search.
    monkeypatch.setenv("FIELDROUTE_PUBLIC_URL", "desk.example.com")
    refused = runner.invoke(app, ["serve"])
    assert refused.exit_code == 2 and "FIELDROUTE_PUBLIC_URL" in refused.output
    assert "http://" in refused.output
    assert Settings(public_url="https://desk.example.com").public_url == "https://desk.example.com"


def test_a_rate_over_no_stops_is_not_printed_as_100_percent(tmp_path: Path, database: str) -> None:
    # Both urgent faults left out (nobody has the skill): "urgent 0/1 ... urgent within
    # response 100%", and "early band 0/0 (100%)".
    day = line_day()
    day["visits"][0].update(priority="urgent", required_skills=["gas"])
    solved = runner.invoke(app, ["solve", str(write(tmp_path / "day.json", day))])
    assert solved.exit_code == 0, solved.output
    said = " ".join(solved.stdout.split())
    assert "urgent 0/1" in said and "urgent within response 0/0;" in said  # no report time
    assert "early band 0/0;" in said


def test_the_summary_counts_an_urgent_fault_left_out_as_not_in_time(tmp_path: Path) -> None:
    # Two faults called in at 08:00 and room for one: "urgent 1/2 ... urgent within response
    # 100%", the rate over the one served.
    day = line_day()
    for visit in day["visits"][:2]:
        visit.update(priority="urgent", reported_at="08:00", duration_min=120)
    env = {"FIELDROUTE_DATABASE_URL": f"sqlite:///{tmp_path / 'f.db'}"}
    solved = runner.invoke(app, ["solve", str(write(tmp_path / "day.json", day))], env=env)
    assert solved.exit_code == 0, solved.output
    said = " ".join(solved.stdout.split())
    assert "urgent 1/2" in said and "urgent within response 1/2 (50%);" in said


def test_the_summary_says_no_rate_of_nothing_and_rounds_rates_down(tmp_path: Path) -> None:
    # An empty day read "on time 100%"; utilisation was rounded up (200 of 201 minutes read
    # "100%") where every other rate rounds down.
    env = {"FIELDROUTE_DATABASE_URL": f"sqlite:///{tmp_path / 'f.db'}"}
    empty = write(tmp_path / "empty.json", {**line_day(), "visits": []})
    result = CliRunner().invoke(app, ["solve", str(empty), "--time-limit", "1"], env=env)
    assert result.exit_code == 0, result.output
    assert "on time - (nobody out)" in " ".join(result.output.split())
    out = tmp_path / "plan.json"
    day = write(tmp_path / "day.json", line_day())
    result = CliRunner().invoke(
        app, ["solve", str(day), "--time-limit", "1", "-o", str(out)], env=env
    )
    utilisation = json.loads(out.read_text(encoding="utf-8"))["kpis"]["utilisation"]
    shown = f"utilisation {math.floor(utilisation * 100 + 1e-9)}%;"
    assert shown in " ".join(result.output.split())


@pytest.mark.parametrize(
    ("command", "default"),
    [
        ("solve", "the day's policy.time_limit_s, 10 unless it says otherwise"),
        ("demo", "the sample day's policy.time_limit_s"),
        ("replan", "the day's policy.replan_time_limit_s, 1 unless it says otherwise"),
    ],
)
def test_each_time_limit_option_says_what_it_defaults_to(command: str, default: str) -> None:
    # --time-limit said "Solver budget in seconds." and nothing of the policy it falls back to:
    # a solve's 10 s, a re-plan's 1 s (docs/contract.md, Policy).
    shown = runner.invoke(app, [command, "--help"], env={"COLUMNS": "400", "NO_COLOR": "1"})
    assert shown.exit_code == 0, shown.output
    assert f"(default: {default}" in re.sub(r"\s+", " ", shown.output)


@pytest.mark.parametrize("document", ["README.md", "docs/contract.md"])
def test_the_documents_error_example_is_what_validate_prints(document: str, tmp_path: Path) -> None:
    # The example listed the visit's error before the technician's; validate lists them in
    # the day's order, technicians first.
    root = Path(__file__).parents[2]
    text = (root / document).read_text(encoding="utf-8")
    shown = re.search(r"```text\n(error: invalid problem: 2 errors\n.*?)```", text, re.DOTALL)
    assert shown, f"{document} lost its error example"
    day = json.loads((root / "examples" / "changan-day.json").read_text(encoding="utf-8"))
    day["visits"][12] |= {"appointment": None, "window": {"start": "10:00", "end": "08:00"}}
    day["technicians"][3]["breaks"] = [{"start": "12:00", "end": "12:30", "duration_min": 60}]
    result = runner.invoke(app, ["validate", str(write(tmp_path / "day.json", day))])
    assert result.exit_code == 2
    assert result.output == shown.group(1)
