"""Draft plans while the search goes on: valid plans of the best routes so far, made off the
search thread, all before the final plan, which is at least as good."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from benchmarks.dayset import generate_day
from dispatch.contract.validate import parse_problem
from dispatch.desk.solve import checker_places, solve_day
from dispatch.model import Plan
from dispatch.planning import Progress, SolveParams, plan_day
from dispatch.planning import drafts as drafts_module
from dispatch.planning.compile import compile_problem
from dispatch.planning.drafts import Drafts
from dispatch.travel import pair_lookup, provider_for
from dispatch.verify import check_plan
from solver import Instance, Solution, schedule
from tests.conftest import line_day

SEEDED = SolveParams(time_limit_s=3)
ORTOOLS = SolveParams(time_limit_s=3, seeders=())


@pytest.mark.parametrize("params", [ORTOOLS, SEEDED], ids=["ortools-alone", "seeded"])
def test_drafts_of_a_generated_day_are_checked_valid_and_come_before_the_final_plan(
    params: SolveParams,
) -> None:
    raw = generate_day(60, 5)
    problem = parse_problem(raw)
    heard: list[tuple[str, dict[str, Any]]] = []
    solved = solve_day(
        raw,
        problem,
        params=params,
        plan_id="pl_day",
        save=lambda plan, _record: heard.append(("final", plan)),
        on_draft=lambda plan: heard.append(("draft", plan)),
    )
    *drafts, (last, final) = heard
    assert last == "final" and final == solved.document.model_dump(mode="json")
    assert drafts and all(kind == "draft" for kind, _ in drafts)
    lookup = pair_lookup(provider_for(problem), known=checker_places(problem))
    for _, draft in drafts:
        assert draft["plan_id"] == "pl_day" and draft["version"] == 1
        assert check_plan(raw, draft, lookup).violations == ()
    assigned = [draft["kpis"]["assigned"] for _, draft in drafts]
    found_s = [draft["kpis"]["solve_s"] for _, draft in drafts]
    assert assigned[0] > 0
    assert found_s == sorted(found_s) and found_s[-1] <= final["kpis"]["solve_s"]
    assert final["kpis"]["assigned"] >= assigned[-1]


def test_no_draft_work_runs_on_the_search_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    timing: list[str] = []
    real_schedule = schedule

    def watched(*args: Any) -> Solution:
        timing.append(threading.current_thread().name)
        return real_schedule(*args)

    monkeypatch.setattr(drafts_module, "schedule", watched)
    searching: set[str] = set()
    drafting: list[str] = []
    plan = plan_day(
        parse_problem(line_day()),
        params=SolveParams(time_limit_s=1, seeders=()),
        on_progress=lambda _progress: searching.add(threading.current_thread().name),
        on_draft=lambda _draft: drafting.append(threading.current_thread().name),
    )
    assert len(plan.routes[0].stops) == 3
    assert searching == {threading.current_thread().name}
    # OR-Tools' snapshots come timed (``Progress.timed``): whatever is timed here is too.
    assert drafting and set(drafting) == {"drafts"} and set(timing) <= {"drafts"}
    # Stopped with the solve: no drafting thread outlives it.
    assert "drafts" not in {thread.name for thread in threading.enumerate()}


def _snapshot(routes: tuple[tuple[int, ...], ...], elapsed_s: float) -> Progress:
    return Progress(elapsed_s, 0, sum(map(len, routes)), 3, routes)


def _line_instance(**overrides: Any) -> Instance:
    problem = parse_problem(line_day(**overrides))
    instance, _ = compile_problem(problem, provider_for(problem))
    return instance


def _empty_plan(solution: Solution) -> Plan:
    return Plan(routes=(), unassigned=(), solve_s=solution.elapsed_s, objective=0)


def _wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 5
    while not condition():
        assert time.monotonic() < deadline, "waited 5 s"
        time.sleep(0.01)


def test_a_lagging_draft_skips_to_the_newest_snapshot() -> None:
    taken, release = threading.Event(), threading.Event()
    finished: list[float] = []

    def finish(solution: Solution) -> Plan:
        finished.append(solution.elapsed_s)
        if len(finished) == 2:
            taken.set()
            release.wait(5)
        return _empty_plan(solution)

    drafts: list[float] = []
    with Drafts(_line_instance(), finish, lambda plan: drafts.append(plan.solve_s)) as drafting:
        drafting.hear(_snapshot(((0,),), 0.1))
        assert drafts == [0.1]  # the first snapshot is drafted before the search goes on
        drafting.hear(_snapshot(((0, 1),), 0.2))
        assert taken.wait(5)  # the second snapshot is being drafted; the next ones wait
        drafting.hear(Progress(0.25, 0, 2, 3))  # no routes: nothing to draft
        drafting.hear(_snapshot(((),), 0.3))  # places nothing: no draft
        drafting.hear(_snapshot(((0, 1),), 0.35))
        drafting.hear(_snapshot(((0, 1, 2),), 0.4))
        release.set()
        _wait_for(lambda: len(drafts) == 3)
    assert finished == drafts == [0.1, 0.2, 0.4]


def test_a_slow_first_draft_holds_the_search_no_longer_than_its_wait(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(drafts_module, "FIRST_DRAFT_WAIT_S", 0.2)
    release = threading.Event()

    def finish(solution: Solution) -> Plan:
        release.wait(5)
        return _empty_plan(solution)

    drafts: list[float] = []
    with Drafts(_line_instance(), finish, lambda plan: drafts.append(plan.solve_s)) as drafting:
        began = time.monotonic()
        drafting.hear(_snapshot(((0,),), 0.1))
        waited = time.monotonic() - began
        assert 0.2 <= waited < 4 and drafts == []
        drafting.hear(_snapshot(((0, 1),), 0.2))  # the first still drafts: at most its wait again
        assert time.monotonic() - began - waited < 4
        release.set()
        _wait_for(lambda: len(drafts) == 2)
    assert drafts == [0.1, 0.2]


def test_a_snapshot_that_does_not_hold_gives_no_draft_and_drafting_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger=drafts_module.__name__)
    # V1 (node 0) by 09:00: after V3 (node 2) and its 30 minutes, it is reached at 09:20.
    instance = _line_instance(
        visits=[
            {"id": f"V{i}", "location_index": i, "duration_min": 30, "customer": f"C{i}"}
            | ({"window": {"start": "08:00", "end": "09:00"}} if i == 1 else {})
            for i in (1, 2, 3)
        ]
    )
    drafts: list[float] = []
    with Drafts(instance, _empty_plan, lambda plan: drafts.append(plan.solve_s)) as drafting:
        drafting.hear(_snapshot(((2, 0),), 0.1))
        _wait_for(lambda: "do not hold" in caplog.text)
        drafting.hear(_snapshot(((0, 2, 1),), 0.2))
        _wait_for(lambda: bool(drafts))
    assert drafts == [0.2]


def test_a_snapshot_timed_by_the_search_is_drafted_without_timing_it_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    instance = _line_instance()
    timed = schedule(instance, [[0, 1, 2]])

    def untimed(*args: object) -> Solution:
        raise AssertionError("timed again")

    monkeypatch.setattr(drafts_module, "schedule", untimed)
    finished: list[Solution] = []

    def finish(solution: Solution) -> Plan:
        finished.append(solution)
        return _empty_plan(solution)

    with Drafts(instance, finish, lambda plan: None) as drafting:
        drafting.hear(Progress(0.4, timed.objective, 3, 3, ((0, 1, 2),), timed))
    assert [solution.routes for solution in finished] == [timed.routes]
    assert finished[0].elapsed_s == 0.4
