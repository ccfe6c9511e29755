"""The second maker of field days and the many-seed benchmark beside VROOM."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import benchmarks.field_seeds as field_seeds
from benchmarks.dayset import generate_day, haversine_km
from benchmarks.field_seeds import generate, main, own_rule, own_rule_day, run_one
from benchmarks.townset import AREAS, generate_town_day
from dispatch.contract.validate import parse_problem
from dispatch.planning.compile import compile_problem
from dispatch.travel import provider_for


def recorded_run(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
) -> tuple[list[dict[str, Any]], str]:
    """``main(argv)`` recording into a RESULTS.md of its own: the rows it printed, the file."""
    results = tmp_path / "RESULTS.md"
    monkeypatch.setattr("benchmarks.results.RESULTS", results)
    assert main(argv) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line[:1] == "{"]
    return rows, results.read_text()


@pytest.mark.parametrize("area", AREAS)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_drawn_day_is_a_valid_problem_and_the_same_for_the_same_seed(
    area: str, seed: int
) -> None:
    raw = generate_town_day(120, seed, area)  # type: ignore[arg-type]
    problem = parse_problem(raw)
    assert len(problem.visits) == 120
    assert raw == generate_town_day(120, seed, area)  # type: ignore[arg-type]
    assert raw != generate_town_day(120, seed + 10, area)  # type: ignore[arg-type]
    kinds = {"appointment" in v for v in raw["visits"]} | {"window" in v for v in raw["visits"]}
    assert kinds == {True, False}
    assert any(v.get("reported_at") for v in raw["visits"])  # urgent faults with a clock
    assert any(t.get("crew_size") == 2 for t in raw["technicians"])


def test_the_two_areas_differ_where_a_tuned_search_would_notice() -> None:
    city, rural = (generate_town_day(250, 1, area) for area in ("city", "rural"))

    def hop_km(day: dict[str, Any]) -> float:
        points = [(v["location"]["lat"], v["location"]["lon"]) for v in day["visits"]]
        return float(np.median([haversine_km(a, b) for a, b in itertools.pairwise(points)]))

    assert hop_km(city) < 6 < 40 < hop_km(rural)
    # In the county some visits lie beyond some technicians' 100 km: the radius binds.
    beyond = [
        (t["id"], v["id"])
        for t in rural["technicians"]
        for v in rural["visits"]
        if haversine_km(
            (t["start"]["lat"], t["start"]["lon"]), (v["location"]["lat"], v["location"]["lon"])
        )
        > 100
    ]
    assert beyond
    # The city's technicians leave from their own homes; the county's from service centres.
    assert len({(t["start"]["lat"], t["start"]["lon"]) for t in city["technicians"]}) > 10
    assert len({(t["start"]["lat"], t["start"]["lon"]) for t in rural["technicians"]}) <= 2


def test_too_small_a_day_or_an_unknown_area_is_refused_by_name(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(ValueError, match="at least 10"):
        generate_town_day(5, 1, "city")
    with pytest.raises(ValueError, match="'moon'"):
        generate_town_day(50, 1, "moon")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'moon'"):
        generate("moon", 50, 1)
    with pytest.raises(ValueError, match="only the dayset maker takes a roster size, not 'city'"):
        generate("city", 50, 1, technicians=12)
    with pytest.raises(SystemExit):
        main(["--makes", "dayset", "rural", "--technicians", "12", "--no-record"])
    for first in ("0", "4"):
        with pytest.raises(SystemExit):
            main(["--seeds", "3", "--first-seed", first, "--no-record"])
    assert "--first-seed: 4 is not between 1 and --seeds 3" in capsys.readouterr().err


def test_the_dayset_maker_takes_the_roster_size_it_is_given() -> None:
    assert len(generate("dayset", 60, 1, technicians=12)["technicians"]) == 12
    assert generate("dayset", 60, 1) == generate_day(60, 1)


@pytest.mark.parametrize("make", ["dayset", "rural"])
def test_a_day_without_breaks_is_the_same_day_with_every_break_taken_out(make: str) -> None:
    with_breaks = generate(make, 60, 3)
    without = generate(make, 60, 3, breaks=False)
    assert all(technician.get("breaks") for technician in with_breaks["technicians"])
    assert not any("breaks" in technician for technician in without["technicians"])
    for technician in with_breaks["technicians"]:
        del technician["breaks"]
    assert without == with_breaks


def test_vroom_own_rule_opens_each_appointment_to_its_band_and_drops_the_hold() -> None:
    problem = parse_problem(generate_town_day(60, 1, "city"))
    instance, id_map = compile_problem(problem, provider_for(problem))
    loose = own_rule(instance, id_map.door_buffer_s, (300, 600))
    for node in range(instance.n_nodes):
        if id_map.visit(node).appointment is None:
            assert (loose.window_s[node] == instance.window_s[node]).all()
            assert loose.service_s[node] == instance.service_s[node]
            continue
        door = instance.window_s[node][0]  # our rule: at the door by T - 5, held from then
        assert tuple(instance.window_s[node]) == (door, door)
        assert tuple(loose.window_s[node]) == (door - 300, door + 300)  # T - 10 to T
        assert loose.service_s[node] == instance.service_s[node] - 300


@pytest.mark.parametrize("make", ["dayset", "city"])
def test_ours_own_day_compiles_to_the_instance_vroom_own_searches(make: str) -> None:
    raw = generate(make, 60, 2)
    problem = parse_problem(raw)
    instance, id_map = compile_problem(problem, provider_for(problem))
    loose = own_rule(instance, id_map.door_buffer_s, (300, 600))
    day = parse_problem(own_rule_day(raw))
    assert day.policy.appointment_start == "on_arrival"
    assert raw["policy"] != own_rule_day(raw)["policy"]  # a new policy; raw keeps its own
    own, own_map = compile_problem(day, provider_for(day))
    assert own_map.node_visit == id_map.node_visit
    assert (own_map.door_buffer_s == 0).all()
    assert (own.window_s == loose.window_s).all()
    assert (own.service_s == loose.service_s).all()
    assert (own.travel_s == loose.travel_s).all()


def test_each_solver_is_compared_with_every_vroom_run_of_the_same_day() -> None:
    def row(solver: str, seed: int, weighted: int) -> dict[str, Any]:
        return {
            "make": "rural", "visits": 800, "budget_s": 30.0, "seed": seed, "solver": solver,
            "weighted": weighted, "wall_s": 30.0, "cpu_s": 60.0,
        }  # fmt: skip

    rows = [
        row("vroom-ours", 1, 100), row("vroom-own", 1, 110), row("vroom-arrival", 1, 104),
        row("ours-arrival", 1, 105), row("ours-arrival", 2, 50),  # no peer ran on seed 2
    ]  # fmt: skip
    rows[1]["in_reach"] = 100  # VROOM's own rule without the visits beyond ours serves less
    rows.append(row("pyvrp-ours", 1, 80))
    lines = field_seeds._table(rows).splitlines()
    assert lines[0].count("| vs ") == len(field_seeds.PEERS) + 1 == 5
    head = lines[0].split(" | ")
    arrival = next(line for line in lines if "| ours-arrival |" in line).split(" | ")
    assert arrival[head.index("vs vroom-ours")] == "+5.00 %"
    assert arrival[head.index("vs vroom-own")] == "-4.55 %"
    assert arrival[head.index("vs vroom-arrival")] == "+0.96 %"
    assert arrival[head.index("days")] == "2"
    assert arrival[head.index("vs vroom-own in reach")] == "+5.00 %"
    assert arrival[head.index("vs pyvrp-ours")] == "+31.25 %"
    own = next(line for line in lines if "| vroom-own |" in line).split(" | ")
    assert own[head.index("vs vroom-own")] == "+0.00 %"
    assert own[head.index("vs vroom-own in reach")] == "+10.00 %"


def test_each_of_ours_is_timed_to_vroom_under_its_own_rule_and_only_where_it_ran() -> None:
    def row(solver: str, seed: int, weighted: int, match_s: float | None = None) -> dict[str, Any]:
        return {
            "make": "city", "visits": 60, "budget_s": 10.0, "seed": seed, "solver": solver,
            "weighted": weighted, "wall_s": 9.0, "cpu_s": 18.0, "match_s": match_s,
        }  # fmt: skip

    rows = [
        row("vroom-own", 1, 100), row("ours-own", 1, 101, 2.5), row("ours-own", 2, 90, 1.0),
        row("ours", 1, 99, 1.5),  # no vroom-ours ran: no target, no "(0/1)" as if missed
        row("vroom-arrival", 1, 98), row("ours-arrival", 1, 97),
    ]  # fmt: skip
    lines = field_seeds._table(rows).splitlines()
    head = lines[0].split(" | ")

    def match(solver: str) -> str:
        line = next(line for line in lines if f"| {solver} |" in line)
        return line.split(" | ")[head.index("CPU s") + 1].rstrip(" |")

    assert match("ours-own") == "2.5 (1/1)"  # seed 2 had no VROOM run to be timed to
    assert match("ours") == "-"
    assert match("ours-arrival") == "(0/1)"


@pytest.mark.slow
def test_a_run_counts_the_plan_and_times_the_match_and_the_table_is_recorded(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    vroom = run_one("city", 20, 1, 1.0, "vroom-ours")
    ours = run_one("city", 20, 1, 1.0, "ours", target=vroom["weighted"])
    assert vroom["violations"] == ours["violations"] == 0
    assert ours["in_band"] == ours["appointments"]
    if ours["weighted"] >= vroom["weighted"]:
        assert 0 < ours["match_s"] <= ours["wall_s"]
    else:
        assert ours["match_s"] is None
    own = run_one("city", 20, 1, 1.0, "vroom-own")
    # Compiled, decoded and checked under its own rule, as ours-own is.
    assert own["weighted"] > 0 and own["in_reach"] > 0 and own["violations"] == 0
    assert own["in_band"] == own["appointments"] > 0
    arrival = run_one("city", 20, 1, 1.0, "ours-arrival", target=vroom["weighted"])
    assert arrival["violations"] == 0 and arrival["in_band"] == arrival["appointments"]
    # VROOM under the on-arrival rule is decoded and checked against that rule, as ours is.
    vroom_arrival = run_one("city", 20, 1, 1.0, "vroom-arrival")
    assert vroom_arrival["violations"] == 0
    assert vroom_arrival["in_band"] == vroom_arrival["appointments"] > 0
    # Ours under VROOM's own rule is checked against that rule: reached in [T-10, T].
    ours_own = run_one("city", 20, 1, 1.0, "ours-own")
    assert ours_own["violations"] == 0 and ours_own["in_band"] == ours_own["appointments"] > 0

    # Each run is a process of its own (about 2 s to start): two solvers of the five above.
    argv = ["--makes", "rural", "--sizes", "12", "--seeds", "2", "--budgets", "1"]
    rows, text = recorded_run(
        monkeypatch, tmp_path, capsys, [*argv, "--solvers", "vroom-ours", "ours"]
    )
    assert [(row["seed"], row["solver"]) for row in rows] == [
        (seed, solver) for seed in (1, 2) for solver in ("vroom-ours", "ours")
    ]
    assert all("weighted" in row and row["cpu_s"] > 0 for row in rows), rows
    assert "python -m benchmarks.field_seeds --makes rural --sizes 12 --seeds 2" in text
    assert text.count("| rural | 12 | 1 |") == 2
    assert field_seeds.WEIGHT["urgent"] == 100


def test_a_roster_size_reaches_every_run_and_the_recorded_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--makes", "dayset", "--sizes", "12", "--seeds", "1", "--budgets", "1"]
    rows, text = recorded_run(
        monkeypatch, tmp_path, capsys, [*argv, "--solvers", "vroom-ours", "--technicians", "9"]
    )
    assert len(rows) == 1 and rows[0]["violations"] == 0, rows
    assert "--vroom-threads 2 --technicians 9`" in text
    assert "Seeds 1-1 per maker and size, 9 technicians a day;" in text


@pytest.mark.slow
def test_pyvrp_and_plain_or_tools_plan_days_without_breaks_under_our_rule(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # PyVRP takes as many profiles as the day has sets of allowed technicians: 9 on the 60-visit
    # day, more than the engine's seeder takes (MAX_PROFILES, 8).
    for solver, visits in (("pyvrp-ours", 60), ("ortools", 20)):
        run = run_one("city", visits, 1, 1.0, solver, breaks=False)
        assert run["weighted"] > 0 and run["violations"] == 0, (solver, run)
        assert run["in_band"] == run["appointments"] > 0
    with pytest.raises(ValueError, match="PyVRP cannot express this day: a technician takes"):
        run_one("city", 20, 1, 1.0, "pyvrp-ours")
    argv = ["--makes", "city", "--sizes", "12", "--seeds", "1", "--budgets", "1"]
    rows, text = recorded_run(
        monkeypatch, tmp_path, capsys, [*argv, "--solvers", "pyvrp-ours", "--no-breaks"]
    )
    assert len(rows) == 1 and rows[0]["violations"] == 0, rows
    assert "--vroom-threads 2 --no-breaks`" in text
    assert "Seeds 1-1 per maker and size, no technician takes a break;" in text


def test_a_run_carried_on_from_a_later_seed_runs_and_records_only_those_seeds(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--makes", "city", "--sizes", "12", "--seeds", "3", "--first-seed", "2"]
    rows, text = recorded_run(
        monkeypatch, tmp_path, capsys, [*argv, "--budgets", "1", "--solvers", "vroom-ours"]
    )
    assert [row["seed"] for row in rows] == [2, 3], rows
    assert "--sizes 12 --seeds 3 --first-seed 2 --budgets 1" in text
    assert "Seeds 2-3 per maker and size;" in text


def test_a_visit_beyond_our_rule_is_one_no_allowed_technician_could_serve_alone() -> None:
    home = {"lat": 60.17, "lon": 24.94}
    raw = {
        "date": "2026-12-08",
        "timezone": "Europe/Helsinki",
        "technicians": [
            {
                "id": "T1",
                "skills": ["boiler"],
                "start": home,
                "end": home,
                "shift": {"start": "08:00", "end": "16:00"},
                # Lunch 11:00-11:30 and no other time: the door at 11:25 is out of reach.
                "breaks": [{"start": "11:00", "end": "11:30", "duration_min": 30}],
            }
        ],
        "visits": [
            {"id": "held", "location": home, "duration_min": 40, "appointment": "11:30"},
            {"id": "free", "location": home, "duration_min": 40},
            {"id": "nobody", "location": home, "duration_min": 40, "required_skills": ["cctv"]},
        ],
    }
    problem = parse_problem(raw)
    instance, id_map = compile_problem(problem, provider_for(problem))
    names = [visit.id for visit in problem.visits]
    beyond = field_seeds.beyond_reach(instance, id_map)
    assert sorted(names[visit] for visit in beyond) == ["held", "nobody"]
    # Under VROOM's own rule service may start at 11:30 on arrival, after lunch.
    loose = own_rule(instance, id_map.door_buffer_s, (300, 600))
    assert [names[visit] for visit in field_seeds.beyond_reach(loose, id_map)] == ["nobody"]


def test_shapes_make_a_row_group_each_and_reach_the_recorded_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--makes", "dayset", "--sizes", "12", "--seeds", "1", "--budgets", "1"]
    rows, text = recorded_run(
        monkeypatch,
        tmp_path,
        capsys,
        [*argv, "--solvers", "vroom-ours", "--shapes", "tea_and_lunch", "crews"],
    )
    assert [row["make"] for row in rows] == ["dayset+tea_and_lunch", "dayset+crews"]
    assert all(row["violations"] == 0 for row in rows), rows
    assert "--vroom-threads 2 --shapes tea_and_lunch crews`" in text
    assert "| dayset+crews | 12 | 1 | vroom-ours |" in text
