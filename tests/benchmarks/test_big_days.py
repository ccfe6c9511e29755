"""The big-day benchmark: its day of regions (ids stay unique, and the regions are independent
parts of the solver's instance: no technician may serve another region), and its days of a
roster set by ``--technicians``."""

from __future__ import annotations

import sys
import time

import pytest

from benchmarks.big_days import PAUSE_TICK_S, LongestPause, main, region_day, run_day
from dispatch.contract.validate import parse_problem
from dispatch.planning.compile import compile_problem
from dispatch.travel import provider_for
from solver.parts import parts


def test_regions_are_unique_and_independent() -> None:
    raw = region_day(80, 2)
    ids = [v["id"] for v in raw["visits"]] + [t["id"] for t in raw["technicians"]]
    assert len(ids) == len(set(ids))
    problem = parse_problem(raw)
    instance, _ = compile_problem(problem, provider_for(problem))
    found = parts(instance)
    techs = problem.technicians
    for part in found:
        regions = {techs[v].id.split("-")[0] for v in part.vehicles}
        assert len(regions) == 1  # a part never mixes two regions
    assert len({techs[p.vehicles[0]].id.split("-")[0] for p in found}) == 2


def test_a_measured_day_is_checked_and_timed() -> None:
    row = run_day(region_day(40, 2), time_limit_s=2)
    assert row["violations"] == 0 and row["assigned"] > 0
    assert row["first_plan_s"] is not None and row["wall_s"] >= row["first_plan_s"]
    assert PAUSE_TICK_S <= row["longest_pause_s"] <= row["wall_s"]


def test_a_call_that_holds_the_interpreter_is_measured_as_a_pause() -> None:
    with LongestPause() as pause:
        time.sleep(3 * PAUSE_TICK_S)  # the ticks run
        started = time.perf_counter()
        sum(range(50_000_000))  # one C call: no other thread runs until it returns
        held = time.perf_counter() - started
    assert held >= 4 * PAUSE_TICK_S  # long enough to tell from the ticks
    # The ticks may run once more between reading ``started`` and the call taking the
    # interpreter: the interpreter hands over at most every switch interval.
    assert held - sys.getswitchinterval() <= pause.s <= held + 2 * PAUSE_TICK_S


def test_a_day_of_a_set_roster_is_measured_with_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--sizes", "60", "--technicians", "6", "--time-limit", "1", "--no-record"]) == 0
    row = capsys.readouterr().out.strip().splitlines()[-1]
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[:2] == ["60", "6"]  # visits, technicians (the generator's roster has 8)
    assert cells[-1] == "0"  # violations


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--technicians", "6"], "give --sizes"),
        (["--sizes", "60", "--technicians", "5"], "at least 6"),
    ],
)
def test_a_roster_without_days_or_too_small_is_refused(
    argv: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as ended:
        main([*argv, "--no-record"])
    assert ended.value.code == 2 and said in capsys.readouterr().err
