"""The VRPTW benchmark runner: peers on the tiny instance, the class table, one real run."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path

import pytest

import benchmarks.vrp
from benchmarks.vrp import Run, main, run_one, summary_table
from benchmarks.vrp_peers import PEERS, installed, versions
from benchmarks.vrptw import BestKnown, Convention, VrptwInstance
from benchmarks.vrptw_check import check_routes
from benchmarks.vrptw_convert import CONVENTION, Objective, scale_problem


@pytest.mark.parametrize("objective", list(Objective))
@pytest.mark.parametrize("solver", list(PEERS))
def test_every_solver_finds_the_tiny_optimum(
    tiny: VrptwInstance, solver: str, objective: Objective
) -> None:
    if solver not in installed():
        pytest.skip(f"{solver} is not installed: pip install -e .")
    result = PEERS[solver](scale_problem(tiny, objective), 0.5, 1)
    checked = check_routes(tiny, result.routes, CONVENTION[objective])
    assert checked.feasible, checked.violations
    assert sorted(r for r in result.routes if r) == [(1,), (3, 2)]
    assert result.wall_s > 0 and result.note == ""


def test_a_best_known_row_of_the_other_convention_is_refused(tiny: VrptwInstance) -> None:
    best = BestKnown("TINY3", 3, 2, Decimal("32.2"), Convention.DIMACS, "hand")
    with pytest.raises(ValueError, match="not hierarchical"):
        run_one(tiny, best, Objective.VEHICLES, "ours", 0.5, 0)


def test_run_one_reports_the_exact_distance_and_gap(tiny: VrptwInstance) -> None:
    named = dataclasses.replace(tiny, name="C1TINY")  # a name of the C1 class
    best = BestKnown("C1TINY", 3, 2, Decimal("32.0"), Convention.DIMACS, "made up")
    run = run_one(named, best, Objective.DISTANCE, "ours", 0.5, 0)
    assert (run.solved, run.distance, run.vehicles, run.family) == (True, Decimal("32.2"), 2, "C1")
    assert run.gap_pct == pytest.approx(0.625)  # 0.2 over 32.0


def _run(instance: str, solver: str, distance: str | None, vehicles: int = 10) -> Run:
    return Run(
        instance=instance,
        family=instance[:2],
        solver=solver,
        solved=distance is not None,
        distance=None if distance is None else Decimal(distance),
        vehicles=vehicles,
        best_distance=Decimal("100.0"),
        best_vehicles=9,
        wall_s=2.0,
        violations=() if distance is not None else ("1 customers not served: [7]",),
    )


def test_summary_table_counts_solved_gaps_vehicles_and_ratios() -> None:
    runs = [
        _run("C101", "ours", "110.0"),
        _run("C101", "pyvrp", "100.0"),
        _run("C102", "ours", "104.0"),
        _run("C102", "pyvrp", None),
        _run("R101", "ours", None),
        _run("R101", "pyvrp", "101.0", vehicles=12),
    ]
    lines = summary_table(runs, ["ours", "pyvrp"]).splitlines()
    assert lines[2] == "| C1 | ours | 2/2 | 7.00 | 20 (18) | 2.0 | — |"
    # The ratio only counts C101, the one instance both solved: 110 / 100.
    assert lines[3] == "| C1 | pyvrp | 1/2 | 0.00 | 10 (9) | 2.0 | 1.100 (1) |"
    assert lines[4] == "| R1 | ours | 0/1 | — | — | 2.0 | — |"
    assert lines[5] == "| R1 | pyvrp | 1/1 | 1.00 | 12 (9) | 2.0 | — |"
    assert lines[7] == "| all | pyvrp | 2/3 | 0.50 | 22 (18) | 2.0 | 1.100 (1) |"


def test_unknown_solver_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--peers", "ours,gurobi", "--no-record"]) == 2
    assert "unknown solvers ['gurobi']" in capsys.readouterr().err


@pytest.mark.slow
def test_end_to_end_on_c101_records_figures_versions_and_command(
    shared_data: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    del shared_data  # only its presence matters: the runner finds the data the same way
    recorded: list[tuple[str, str, str]] = []
    monkeypatch.setattr(benchmarks.vrp, "record", lambda *section: recorded.append(section))
    argv = ["--instances", "C101", "--time-limit", "1", "--peers", "ours", "--seed", "3"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "C101       ours     distance " in out
    assert "| C1 | ours | 1/1 |" in out
    ((title, command, body),) = recorded
    assert title == "VRPTW quality, solomon"
    assert command == "python -m benchmarks.vrp " + " ".join(argv)
    assert f"ortools {versions(['ours'])['ortools']}" in body
    assert "| C1 | ours | 1/1 |" in body and "seed 3" in body
