"""The ``fieldroute`` command: validate, solve and demo a day (or a horizon of several days,
into a week) from the shell.

An entry point, so side effects live here: reading files, the settings, the store, the
terminal. The settings are read from the environment once per invocation (``_settings``) and
handed down; every store a command opens is closed when it is done (``_store``). Every
``DispatchError`` is caught once, in ``_guard``, and becomes a message on stderr and an exit
code (2 for bad input), never a traceback.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import closing, contextmanager
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text
from sqlalchemy.exc import DatabaseError, IntegrityError

from api.links import LINK_SECRET
from dispatch.config import Settings, uncredited_tiles, unknown_tiles
from dispatch.contract.horizon import is_horizon, parse_horizon
from dispatch.contract.schema import PlanOut, ProblemIn
from dispatch.contract.validate import load_json, parse_problem, pydantic_errors, read_wire
from dispatch.desk.book import BookingRefusedError, asked_at_on, book_stored, slots_stored
from dispatch.desk.replan import replan_stored
from dispatch.desk.roll import roll_week
from dispatch.desk.solve import check_sites, solve_day, solve_params
from dispatch.desk.tracking import DayCard, stored_time_card, to_csv
from dispatch.desk.week import on_the_roster, solve_week
from dispatch.errors import DispatchError, FieldError, InputError, NotFoundError
from dispatch.model import Policy
from dispatch.persistence import Store, new_id
from dispatch.planning import Progress as SolveProgress
from dispatch.travel import Roads, needs_roads
from dispatch.travel.osrm_tools import default_cache_root, ensure_tools
from dispatch.travel.roads import PrepareProgress, prepare
from dispatch.travel.routed import road_server
from dispatch.units import counted, format_iso_clock, percent
from dispatch.verify import CheckReport

__all__ = ["DEMO_DAY", "app"]

#: The cap of a reproducible re-plan given no time limit: it stops at its first local optimum,
#: seconds on a day of hundreds of visits, and the cap only bounds a much slower machine.
REPRODUCIBLE_REPLAN_CAP_S = 60.0
#: The policy a day has when it says nothing: the defaults ``--time-limit`` falls back to.
DEFAULT_POLICY = Policy()

#: How long uvicorn's supervisor waits for a server process of ``serve --processes N`` to answer
#: its health check (uvicorn's own default, 5 s, is about what importing the service takes on
#: a quiet core: on a busy machine (6.8-12.5 s) each new process was killed before it had
#: started, and another put in its place, for ever). It is also how long the supervisor waits
#: on a process killed while it asked, deaf to signals meanwhile: at 60 s, a service whose
#: server process was killed outright did not stop within 30 s of a SIGTERM.
SERVER_PROCESS_START_S = 15

#: The sample day `fieldroute demo` solves: a service centre in Chang'an, Dongguan.
DEMO_DAY = Path(__file__).resolve().parent.parent / "examples" / "changan-day.json"

app = typer.Typer(
    name="fieldroute",
    help="Plan a field-service day (or several, a week): technicians and crews, visits, time "
    "windows and skills.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
_Document = TypeVar("_Document", bound=BaseModel)

#: The ``--roads`` option of the commands that plan.
RoadsOption = Annotated[
    str | None,
    typer.Option(
        "--roads",
        help="Road travel for days that ask for it (policy.travel.provider 'osrm'): an OSRM "
        "server's URL, or an .osm.pbf extract (prepared once, then served on loopback for the "
        "command). Default: FIELDROUTE_ROADS.",
    ),
]
#: The ``--json`` option of the commands that show a plan or a week.
JsonOption = Annotated[
    bool,
    typer.Option("--json", help="Print the document as JSON on stdout instead of the tables."),
]

out = Console()
err = Console(stderr=True)


#: Control characters as pictures of them (ESC as U+241B), C1 ones as ``\x9b``; line breaks
#: and tabs stay. A day's typed text holding an escape sequence (a technician id) reached the
#: terminal raw: it recoloured it, or planted a hyperlink, cut off mid-sequence by a table.
_INERT = (
    {code: chr(0x2400 + code) for code in range(32) if chr(code) not in "\n\t"}
    | {0x7F: "\u2421"}
    | {code: f"\\x{code:02x}" for code in range(0x80, 0xA0)}
)


def _inert(text: str) -> str:
    """``text`` with its control characters made inert (``_INERT``)."""
    return text.translate(_INERT)


def _shown(text: str) -> str:
    """Typed text for a line of markup: shown as typed, never read as markup (``[/]``) or as
    a terminal's control sequence."""
    return escape(_inert(text))


def _add_row(table: Table, *cells: str, end_section: bool = False) -> None:
    """A table row of plain text: what a user typed (ids, reasons, names) is shown as typed,
    never read as markup (a visit id ``[/]`` would end the command with a traceback) nor as a
    control sequence."""
    table.add_row(*(Text(_inert(cell)) for cell in cells), end_section=end_section)


@contextmanager
def _guard() -> Iterator[None]:
    """Turn engine errors, and a database that cannot be reached, into a clear message and
    an exit code."""
    try:
        yield
    except DispatchError as error:
        err.print(
            f"[bold red]error:[/] {_shown(str(error))}",
            highlight=False,
            markup=True,
            soft_wrap=True,
        )
        raise typer.Exit(error.exit_code) from error
    except DatabaseError as error:  # a traceback, once, for a database not up yet
        if isinstance(error, IntegrityError):
            raise  # a rule of the store broken: a bug, not the database
        # One line: the driver's first (its hints follow on lines of their own). A file that
        # is no SQLite database ("file is not a database") is not reached either.
        why = (str(error.orig).strip().splitlines() or [""])[0]
        err.print(
            f"[bold red]error:[/] the database cannot be reached: {_shown(why)}",
            highlight=False,
            markup=True,
            soft_wrap=True,
        )
        raise typer.Exit(1) from error


def _settings(ctx: typer.Context) -> Settings:
    """The invocation's settings: read from the environment at the first command that needs
    them, then kept on the root context for the rest of the invocation. Settings that cannot
    be used (``FIELDROUTE_JOBS=celery`` without a broker, a number out of range) end the
    command with each problem named, exit code 2."""
    root = ctx.find_root()
    if not isinstance(root.obj, Settings):
        try:
            root.obj = Settings()
        except ValidationError as error:
            for problem in error.errors():
                where = "_".join(str(part) for part in problem["loc"]).upper()
                message = problem["msg"].removeprefix("Value error, ")
                if where and not where.startswith("FIELDROUTE_") and where != "DATABASE_URL":
                    where = f"FIELDROUTE_{where}"
                named = f"{where}: {message}" if where else message
                err.print(f"[bold red]error:[/] {_shown(named)}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from error
    settings: Settings = root.obj
    return settings


def _store(settings: Settings) -> closing[Store]:
    """The store of ``settings``, to open with ``with``: closed when the block ends."""
    return closing(Store(settings.database_url))


@contextmanager
def _roads(settings: Settings, spec: str | None) -> Iterator[Roads | None]:
    """The roads of a command (``--roads``, else the settings'), served until it is done."""
    with road_server(
        spec or settings.roads,
        cache_root=settings.cache_dir,
        table_size=settings.roads_table_size,
        on_progress=_say_preparing,
    ) as roads:
        yield roads


def _say_preparing(progress: PrepareProgress) -> None:
    err.print(f"roads: {progress.stage} ({progress.elapsed_s:.1f} s)", highlight=False)


def _read_json(path: Path, what: str = "problem") -> Any:
    """The JSON of the file at ``path``, a ``what`` (a problem, events, a plan, a visit): its
    errors say so (an events file that was no JSON was an "invalid problem")."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        reason = error.strerror or str(error)
        raise InputError([FieldError("", f"cannot read {path}: {reason}")], what="file") from error
    return load_json(raw, what=what)


@app.command()
def validate(
    ctx: typer.Context,
    day: Annotated[Path, typer.Argument(help="The day or horizon to check (problem JSON).")],
    roads: Annotated[
        str | None,
        typer.Option(
            "--roads",
            help="For a day on roads (policy.travel.provider 'osrm'): check that every visit, "
            "base and depot is on these roads (an OSRM server's URL or an .osm.pbf extract), "
            "as a solve would. Default: FIELDROUTE_ROADS.",
        ),
    ] = None,
) -> None:
    """Check a day or a horizon against the contract and list every problem found."""
    with _guard():
        raw = _read_json(day)
        if is_horizon(raw):
            horizon = parse_horizon(raw)
            problem = horizon.as_problem()
            people = len({workday.id for workday in horizon.workdays})
            said = (
                f"horizon of {counted(len(horizon.dates), 'day')} from "
                f"{horizon.dates[0]} ({horizon.timezone.key}), "
                f"{counted(people, 'technician')} working, "
                f"{counted(len(horizon.visits), 'visit')} in it ({len(horizon.rounds)} of "
                f"rounds), {len(horizon.beyond)} beyond it"
            )
        else:
            problem = parse_problem(raw)
            said = (
                f"{problem.date} ({problem.timezone.key}), "
                f"{counted(len(problem.technicians), 'technician')}, "
                f"{counted(len(problem.visits), 'visit')}"
            )
        if needs_roads(problem):
            with _roads(_settings(ctx), roads) as given:
                try:
                    on_roads = check_sites(problem, given)
                except InputError as error:  # a horizon's: named on its roster, not by workday
                    raise on_the_roster(error, raw) if is_horizon(raw) else error from None
            said += (
                "; every place is on the roads"
                if on_roads
                else "; on roads, its places not checked (give --roads)"
            )
        out.print(f"[green]valid[/]: {_shown(said)}", soft_wrap=True)


def _solve_file(
    settings: Settings,
    day: Path,
    output: Path | None,
    time_limit: float | None,
    seed: int | None = None,
    roads_spec: str | None = None,
    as_json: bool = False,
) -> None:
    raw = _read_json(day)
    if is_horizon(raw):
        _solve_week_file(settings, raw, output, time_limit, seed, roads_spec, as_json)
        return
    problem = parse_problem(raw)
    params = solve_params(problem, time_limit, seed)
    with (
        _roads(settings, roads_spec) as roads,
        _store(settings) as store,
        _progress_bar(params.time_limit_s, len(problem.visits)) as on_progress,
    ):
        solved = solve_day(
            raw,
            problem,
            params=params,
            save=lambda plan, record: store.save_problem_and_plan(
                raw, plan, problem_id=new_id("pb"), record=record
            ),
            on_progress=on_progress,
            roads=roads,
        )
    document, report = solved.document, solved.report
    plan_id = document.plan_id
    stored = document.model_dump(mode="json")
    if output is not None:
        _write_json(output, stored, kept=f"plan {plan_id} is stored")
    where = f" and written to {output}" if output else ""
    if as_json:
        typer.echo(json.dumps(stored, indent=1, ensure_ascii=False))
        _say_checked(report, err)
        err.print(f"plan [bold]{plan_id}[/] stored{_shown(where)}", soft_wrap=True)
        return
    _print_summary(document, report)
    out.print(f"plan [bold]{plan_id}[/] stored{_shown(where)}")


def _write_json(path: Path, document: dict[str, Any], *, kept: str = "") -> None:
    _write_file(path, json.dumps(document, indent=1, ensure_ascii=False) + "\n", kept=kept)


def _write_file(path: Path, text: str, *, kept: str = "") -> None:
    """Write ``text`` to ``path`` (its folders made); one that cannot be written is an error
    naming it, and ``kept`` says what was stored all the same (``plan pl_x is stored``)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        reason = error.strerror or str(error)
        said = f"cannot write {path}: {reason}" + (f" ({kept})" if kept else "")
        raise InputError([FieldError("", said)], what="output") from error


def _solve_week_file(
    settings: Settings,
    raw: dict[str, Any],
    output: Path | None,
    time_limit: float | None,
    seed: int | None,
    roads_spec: str | None,
    as_json: bool,
) -> None:
    """``solve`` of a horizon: its week and a day plan per date, stored with the horizon."""
    horizon = parse_horizon(raw)
    params = solve_params(horizon.as_problem(), time_limit, seed)
    problem_id = new_id("pb")
    with (
        _roads(settings, roads_spec) as roads,
        _store(settings) as store,
        _progress_bar(params.time_limit_s, len(horizon.visits)) as on_progress,
    ):
        solved = solve_week(
            raw,
            horizon,
            params=params,
            problem_id=problem_id,
            save=lambda week, days: store.save_week(
                week=week, problem_id=problem_id, problem=raw, days=days
            ),
            on_progress=on_progress,
            roads=roads,
        )
    week = solved.document
    if output is not None:
        _write_json(output, week, kept=f"week {week['week_id']} is stored")
    where = f" and written to {output}" if output else ""
    if as_json:
        typer.echo(json.dumps(week, indent=1, ensure_ascii=False))
        _say_checked(solved.reports, err)
        err.print(f"week [bold]{week['week_id']}[/] stored{_shown(where)}", soft_wrap=True)
        return
    _print_week(week)
    _say_checked(solved.reports, out)
    _print_week_ids(week, f"stored{where}")


@contextmanager
def _progress_bar(limit_s: float, visits: int) -> Iterator[Callable[[SolveProgress], None]]:
    columns = (
        TextColumn("[bold]solving"),
        BarColumn(),
        TimeElapsedColumn(),
        TextColumn("best cost {task.fields[cost]}"),
        TextColumn("placed {task.fields[placed]}/{task.fields[visits]}"),
    )
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task("solve", total=limit_s, cost="-", placed=0, visits=visits)

        def report(progress: SolveProgress) -> None:
            bar.update(task, completed=min(progress.elapsed_s, limit_s))
            bar.update(task, cost=f"{progress.best_cost:,}")
            if progress.placed is not None:
                bar.update(task, placed=progress.placed)

        yield report


def _print_summary(plan: PlanOut, report: CheckReport) -> None:
    table = Table(title=f"Plan {plan.plan_id} for {plan.date} ({plan.timezone})")
    for name, justify in (
        ("technician", "left"),
        ("stops", "right"),
        ("leaves", "right"),
        ("first arrival", "right"),
        ("back", "right"),
        ("km", "right"),
        ("utilisation", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for route in plan.routes:
        _add_row(
            table,
            route.technician_id,
            str(len(route.stops)),
            format_iso_clock(route.start_time),
            format_iso_clock(route.stops[0].arrival),
            format_iso_clock(route.end_time),
            f"{route.distance_km:.1f}",
            percent(route.utilisation),
        )
    out.print(table)
    if plan.technicians_without_route:
        idle = Table(title=f"Without a route ({len(plan.technicians_without_route)})")
        idle.add_column("technician")
        idle.add_column("reason")
        for stranded in plan.technicians_without_route:
            _add_row(idle, stranded.technician_id, stranded.reason)
        out.print(idle)
    if plan.pick_lists:
        picks = Table(title=f"Pick lists ({len(plan.pick_lists)}: spare parts taken at depots)")
        for name in ("depot", "technician", "when", "parts"):
            picks.add_column(name)
        for pick in plan.pick_lists:
            _add_row(
                picks,
                pick.depot_id,
                pick.technician_id,
                "before leaving" if pick.before_leaving else format_iso_clock(pick.arrival),
                ", ".join(f"{item.quantity} x {item.part}" for item in pick.parts),
            )
        out.print(picks)
    if plan.unassigned:
        counts = Counter(item.code for item in plan.unassigned)
        by_code = ", ".join(f"{code} {count}" for code, count in sorted(counts.items()))
        left = Table(title=f"Unassigned ({len(plan.unassigned)}: {by_code})")
        left.add_column("visit")
        left.add_column("code")
        left.add_column("reason")
        for item in sorted(plan.unassigned, key=lambda item: (item.code, item.visit_id)):
            _add_row(left, item.visit_id, item.code, item.reason)
        out.print(left)
    k = plan.kpis
    by_priority = ", ".join(
        f"{name} {count.assigned}/{count.visits}" for name, count in k.assigned_by_priority.items()
    )
    # A rate of nothing is no rate: "urgent within response 100%" of no urgent fault.
    band = f" ({percent(k.early_band_rate)})" if k.appointment_stops else ""
    within = f" ({percent(k.urgent_within_response)})" if k.urgent_faults else ""
    on_time = percent(k.on_time_rate) if plan.routes else "- (nobody out)"
    out.print(
        f"assigned {k.assigned}/{k.visits} ({by_priority}); on time {on_time}; "
        f"early band {k.appointments_in_band}/{k.appointment_stops}{band}; "
        f"urgent within response {k.urgent_reached_in_time}/{k.urgent_faults}{within}; "
        f"{k.distance_km:.1f} km, "
        f"{k.travel_min} min driving; utilisation {percent(k.utilisation)}; "
        f"{counted(k.technicians_used, 'technician')}; "
        f"solved in {k.solve_s:.1f} s",
        highlight=False,
    )
    _say_checked(report, out)


def _say_checked(reports: CheckReport | Mapping[date, CheckReport], console: Console) -> None:
    """What the checker found in a plan, or in each day's plan of a week (first 20)."""
    found = (
        [("", v.message) for v in reports.violations]
        if isinstance(reports, CheckReport)
        else [
            (f"{day.isoformat()}: ", v.message)
            for day, report in sorted(reports.items())
            for v in report.violations
        ]
    )
    if not found:
        console.print("[green]checker: 0 violations[/]")
        return
    console.print(f"[bold red]checker: {len(found)} violations[/]")
    for where, message in found[:20]:
        console.print(f"  - {where}{message}", highlight=False)


def _print_week(week: dict[str, Any]) -> None:
    """A week's tables: per date and technician, what was left out, the rounds; its figures."""
    dates = week["dates"]
    out.print(
        f"Week [bold]{week['week_id']}[/]: {dates[0]} to {dates[-1]} ({week['timezone']})",
        highlight=False,
        soft_wrap=True,
    )
    table = Table()
    for name, justify in (
        ("date", "left"),
        ("technician", "left"),
        ("stops", "right"),
        ("hours", "right"),
        ("utilisation", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for day in week["days"]:
        if not day["technicians"]:
            idle = "nobody working" if day["plan_id"] is None else "no stops"
            _add_row(table, day["date"], f"({idle})", "0", "", "", end_section=True)
            continue
        last = len(day["technicians"]) - 1
        for k, tech in enumerate(day["technicians"]):
            _add_row(
                table,
                day["date"] if k == 0 else "",
                tech["technician_id"],
                str(tech["stops"]),
                f"{tech['hours']:.1f}",
                percent(tech["utilisation"]),
                end_section=k == last,
            )
    out.print(table)
    unassigned = week["unassigned"]
    if unassigned:
        counts = Counter(item["code"] for item in unassigned)
        by_code = ", ".join(f"{code} {count}" for code, count in sorted(counts.items()))
        left = Table(title=f"Unassigned in the week ({len(unassigned)}: {by_code})")
        for name in ("visit", "code", "reason"):
            left.add_column(name)
        for item in sorted(unassigned, key=lambda item: (item["code"], item["visit_id"])):
            _add_row(left, item["visit_id"], item["code"], item["reason"])
        out.print(left)
    if week["rounds"]:
        rounds = Table(title=f"Rounds ({len(week['rounds'])} due dates)")
        for name in ("round", "visit", "due", "status", "planned on", "overdue since"):
            rounds.add_column(name)
        for item in week["rounds"]:
            _add_row(
                rounds,
                item["round_id"],
                item["visit_id"],
                item["due"],
                item["status"],
                item["date"] or "-",
                item["overdue_since"] or "",
            )
        out.print(rounds)
    k = week["kpis"]
    out.print(
        f"assigned {k['assigned']}/{k['visits']}; within promise {k['within_promise']}; "
        f"{k['distance_km']:.1f} km; utilisation {percent(k['utilisation_min'])} to "
        f"{percent(k['utilisation_max'])} a day; solved in {k['solve_s']:.1f} s",
        highlight=False,
    )
    broken = [(day["date"], day.get("violations", 0)) for day in week["days"]]
    if any(count for _, count in broken):  # a week stored before the count has none
        by_day = ", ".join(f"{day} {count}" for day, count in broken if count)
        out.print(
            f"[bold red]the checker found {sum(count for _, count in broken)} broken rules in "
            f"the day plans ({by_day})[/]",
            highlight=False,
        )


def _print_week_ids(week: dict[str, Any], what: str) -> None:
    """The week's id and each date's plan id (open a day with its plan's commands)."""
    out.print(
        f"week [bold]{week['week_id']}[/] (problem {week['problem_id']}) {_shown(what)}",
        soft_wrap=True,
    )
    for day in week["days"]:
        plan = day["plan_id"] or "- (nobody working)"
        out.print(f"  {day['date']}: plan {plan}", highlight=False, soft_wrap=True)


@app.command()
def solve(
    ctx: typer.Context,
    day: Annotated[
        Path, typer.Argument(help="The day, or a horizon of several days, to plan (JSON).")
    ],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the plan JSON (a horizon's: the week) here."),
    ] = None,
    time_limit: Annotated[
        float | None,
        typer.Option(
            "--time-limit",
            help="Solver budget in seconds, a cap (default: the day's policy.time_limit_s, "
            f"{DEFAULT_POLICY.time_limit_s:g} unless it says otherwise).",
            min=0.1,
            max=3600,
        ),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(
            "--seed",
            help="Reproducible plan: the search counts work instead of time, so the same day, "
            "time limit and seed give the same plan (the time limit stays a cap).",
            min=0,
        ),
    ] = None,
    roads: RoadsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Plan a day (or a horizon, as a week), store it and print a summary for the dispatcher.

    A horizon (a problem with ``horizon`` instead of ``date``) is planned as a week: a plan per
    date and the week pointing at them, all stored; the summary is the week's."""
    with _guard():
        _solve_file(_settings(ctx), day, output, time_limit, seed, roads, as_json)


@app.command()
def week(
    ctx: typer.Context,
    week_id: Annotated[str, typer.Argument(help="A stored week's id (wk_...).")],
    as_json: JsonOption = False,
) -> None:
    """Show a stored week.

    Per date and technician the stops, hours and utilisation, what was left out, the rounds,
    and each date's plan id."""
    with _guard():
        with _store(_settings(ctx)) as store:
            document = store.load_week(week_id)
        if as_json:
            typer.echo(json.dumps(document, indent=1, ensure_ascii=False))
            return
        _print_week(document)
        _print_week_ids(document, f"stored {document['created_at']}")


@app.command()
def roll(
    ctx: typer.Context,
    week_id: Annotated[str, typer.Argument(help="The stored week to roll forward (wk_...).")],
    start: Annotated[
        datetime,
        typer.Option(
            "--from", formats=["%Y-%m-%d"], help="The next horizon's first date (YYYY-MM-DD)."
        ),
    ],
    days: Annotated[
        int | None,
        typer.Option("--days", help="Its dates (default: as many as the week's).", min=1, max=28),
    ] = None,
    assume_done: Annotated[
        bool,
        typer.Option(
            "--assume-done",
            help="Count a stop of a day before --from that nobody reported as done.",
        ),
    ] = False,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the horizon here (default: stdout)."),
    ] = None,
) -> None:
    """Roll a stored week forward: the next horizon from a date, as JSON.

    What the week's day plans did not report done comes back with its span, and each round's
    last service moves on. Plan it with ``fieldroute solve``."""
    with _guard():
        with _store(_settings(ctx)) as store:
            horizon = roll_week(
                store, week_id, start=start.date(), days=days, assume_done=assume_done
            )
        if output is None:
            typer.echo(json.dumps(horizon, indent=1, ensure_ascii=False))
            return
        _write_json(output, horizon)
        out.print(
            f"the horizon from {start.date()} written to {output}; plan it with "
            f"fieldroute solve {output}",
            highlight=False,
            soft_wrap=True,
        )


@app.command()
def demo(
    ctx: typer.Context,
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the plan.")] = Path(
        "plans/demo-plan.json"
    ),
    time_limit: Annotated[
        float | None,
        typer.Option(
            "--time-limit",
            help="Solver budget in seconds (default: the sample day's policy.time_limit_s).",
            min=0.1,
            max=3600,
        ),
    ] = None,
) -> None:
    """Plan the sample day of a service centre in Chang'an, Dongguan (examples/)."""
    with _guard():
        out.print(f"Planning the sample day {DEMO_DAY.name}", highlight=False)
        _solve_file(_settings(ctx), DEMO_DAY, output, time_limit)


@app.command()
def replan(
    ctx: typer.Context,
    plan_id: Annotated[
        str, typer.Argument(help="The stored plan to re-plan (its latest version).")
    ],
    events: Annotated[
        Path, typer.Argument(help="The batch of events (JSON, see docs/contract.md).")
    ],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the new version's JSON here.")
    ] = None,
    time_limit: Annotated[
        float | None,
        typer.Option(
            "--time-limit",
            help="Solver budget in seconds (default: the day's policy.replan_time_limit_s, "
            f"{DEFAULT_POLICY.replan_time_limit_s:g} unless it says otherwise; with --seed, "
            f"{REPRODUCIBLE_REPLAN_CAP_S:g}).",
            min=0.1,
            max=3600,
        ),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(
            "--seed",
            help="Reproducible re-plan: the search stops at its first local optimum instead of "
            "the time limit, so the same plan, events and seed give the same version.",
            min=0,
        ),
    ] = None,
    roads: RoadsOption = None,
) -> None:
    """Apply a batch of events to a stored plan: store the next version, print the changes and
    the customers to call."""
    with _guard():
        if time_limit is None and seed is not None:
            time_limit = REPRODUCIBLE_REPLAN_CAP_S  # the policy's short budget would cut it
        settings = _settings(ctx)
        with _roads(settings, roads) as served, _store(settings) as store:
            document = replan_stored(
                store,
                plan_id,
                _read_json(events, "events"),
                time_limit_s=time_limit,
                seed=seed,
                roads=served,
                now=_now(),
            )
        stored = document.model_dump(mode="json")
        if output is not None:
            kept = f"plan {plan_id} version {document.version} is stored"
            _write_json(output, stored, kept=kept)
        _print_changes(document)
        where = f" and written to {output}" if output else ""
        out.print(f"plan [bold]{plan_id}[/] version {document.version} stored{_shown(where)}")


def _clock_of(moment: str | None) -> str:
    return format_iso_clock(moment) or "-"


def _print_changes(plan: PlanOut) -> None:
    left = {item.visit_id for item in plan.unassigned}  # a visit not completed keeps its attempt
    promised = {
        stop.visit_id: stop.promised_window
        for route in plan.routes
        for stop in route.stops
        if stop.visit_id not in left
    }
    table = Table(title=f"Changes at {format_iso_clock(plan.at)} ({len(plan.changes)})")
    for name in ("visit", "technician", "arrival", "moved", "call", "why"):
        table.add_column(name)
    for change in plan.changes:
        _add_row(
            table,
            change.visit_id,
            f"{change.old_technician or '-'} → {change.new_technician or '-'}",
            f"{_clock_of(change.old_arrival)} → {_clock_of(change.new_arrival)}",
            f"{change.moved_min:+d} min" if change.moved_min is not None else "",
            "yes" if change.notify else "",
            change.reason,
        )
    out.print(table)
    calls = [change for change in plan.changes if change.notify]
    if not calls:
        out.print("no customer needs a call")
        return
    call_list = Table(title=f"Call list ({len(calls)})")
    for name in ("visit", "customer", "phone", "tell them"):
        call_list.add_column(name)
    for change in calls:
        window = promised.get(change.visit_id)
        if change.new_date is not None and change.new_date != plan.date:
            # Moved to another date of the week: the customer is asked to agree.
            new = change.new_window
            hours = (
                f" between {format_iso_clock(new.start)} and {format_iso_clock(new.end)}"
                if new is not None
                else ""
            )
            say = f"moved to {change.new_date}{hours} ({change.new_technician}): ask them"
        elif window is not None:
            start, end = format_iso_clock(window.start), format_iso_clock(window.end)
            say = f"between {start} and {end} ({change.new_technician})"
        else:
            say = "cannot be served today: offer another day"
        _add_row(call_list, change.visit_id, change.customer, change.phone, say)
    out.print(call_list)


@app.command()
def report(
    ctx: typer.Context,
    plan: Annotated[str, typer.Argument(help="A stored plan id (its latest version).")],
    csv_path: Annotated[
        Path | None, typer.Option("--csv", help="Also write the per-stop card as CSV here.")
    ] = None,
    html_path: Annotated[
        Path | None,
        typer.Option("--html", help="Also write the card as a page, with its chart, here."),
    ] = None,
) -> None:
    """The time-tracking card: planned against actual per stop, per technician and per kind,
    and where the minutes went."""
    with _guard():
        with _store(_settings(ctx)) as store:
            document, card = stored_time_card(store, plan)
        if csv_path is not None:
            # With a byte-order mark: Excel on Windows read the file as cp1252 without one
            # (ids such as 张伟 garbled), as the sheets fieldroute reads come from it.
            _write_file(csv_path, "\ufeff" + to_csv(card.stops))
        if html_path is not None:
            from maps.report import report_page  # the page's templates, only when asked

            _write_file(html_path, report_page(document, card))
        _print_card(card)


def _print_card(card: DayCard) -> None:
    stops = Table(title="Stops reported")
    for name in ("technician", "visit", "kind", "planned", "actual", "Δ min", "late", "overrun"):
        stops.add_column(name)
    for r in card.stops:
        if r.actual_arrival is None and r.actual_service_min is None:
            continue
        _add_row(
            stops,
            r.technician_id,
            r.visit_id,
            r.kind,
            r.planned_arrival,
            r.actual_arrival or "-",
            "-" if r.arrival_delta_min is None else f"{r.arrival_delta_min:+d}",
            "-" if r.late_min is None else str(r.late_min),
            "-" if r.overrun_min is None else f"{r.overrun_min:+d}",
        )
    out.print(stops)
    techs = Table(title="Per technician")
    for name in ("technician", "stops", "reported", "on time", "mean Δ", "over estimate", "travel"):
        techs.add_column(name)
    for t in card.technicians:
        if not t.reported:
            continue
        _add_row(
            techs,
            t.technician_id,
            str(t.stops),
            str(t.reported),
            str(t.on_time),
            "-" if t.mean_arrival_delta_min is None else f"{t.mean_arrival_delta_min:+.1f}",
            f"{t.overrun_min} min",
            f"{t.actual_travel_min}/{t.planned_travel_min} min",
        )
    out.print(techs)
    kinds = Table(title="Service time by kind")
    for name in ("kind", "reported", "mean overrun", "actual/planned"):
        kinds.add_column(name)
    for k in card.kinds:
        _add_row(
            kinds,
            k.kind,
            str(k.reported),
            f"{k.mean_overrun_min:+.1f} min",
            f"{k.actual_service_min}/{k.planned_service_min} min",
        )
    out.print(kinds)
    spent = Table(title="Where the minutes went")
    for name in ("technician", "on the way", "waiting", "service", "over estimate"):
        spent.add_column(name, justify="right")
    for went in card.spent:
        if went.total_min:
            _add_row(
                spent,
                went.technician_id,
                *(f"{m} min" for m in (went.travel_min, went.waiting_min, went.service_min)),
                f"{went.over_estimate_min} min",
            )
    out.print(spent)
    out.print(
        f"reported arrivals {card.reported_arrivals}; on time {percent(card.on_time_rate)} "
        f"(target 90%); urgent within response {percent(card.urgent_within_response)} "
        f"of {card.urgent_reported}; early band {percent(card.early_band_rate)} "
        f"of {card.appointments_reported} appointments",
        highlight=False,
    )


def _document(raw: Any, model: type[_Document], what: str) -> _Document:
    """``raw`` as ``model``, or ``InputError`` naming each bad field."""
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        raise InputError(pydantic_errors(error, raw), what=what) from error


def _day_of_plan(settings: Settings, plan: PlanOut, problem_file: Path | None) -> ProblemIn:
    if problem_file is not None:
        raw = _read_json(problem_file)
        parse_problem(raw)  # every problem of the day at once, as `validate` reports them
        day = _document(raw, ProblemIn, "problem")
        _check_day_of_plan(plan, day)
        return day
    with _store(settings) as store:
        try:
            raw = store.load_problem_of_plan(plan.plan_id, plan.version)
        except NotFoundError as error:
            raise NotFoundError(
                f"plan {plan.plan_id} version {plan.version} is not in the store "
                f"({settings.database_url}); give its day with --problem DAY.json"
            ) from error
    # As stored: with the lenient types of a day an older release accepted, as the service's
    # maps read it (strictly, `map` refused a day every other command read).
    return read_wire(raw, ProblemIn, stored=True)


def _check_day_of_plan(plan: PlanOut, day: ProblemIn) -> None:
    """Refuse a day given with ``--problem`` that is not the plan's: another date, or without
    technicians or visits the plan has (its map would place them nowhere or wrongly).

    Raises
    ------
    InputError
        Naming the date, or the first technicians and visits missing from the day.
    """
    if day.date != plan.date:
        why = f"is the day of {day.date}; plan {plan.plan_id} is of {plan.date}"
        raise InputError([FieldError("--problem", why)], what="map options")
    technicians = {technician.id for technician in day.technicians}
    visits = {visit.id for visit in day.visits}
    missing = [
        route.technician_id for route in plan.routes if route.technician_id not in technicians
    ]
    missing += [
        stop.visit_id
        for route in plan.routes
        for stop in route.stops
        if stop.visit_id not in visits
    ]
    missing += [item.visit_id for item in plan.unassigned if item.visit_id not in visits]
    if missing:
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        why = f"is not the day of plan {plan.plan_id}: it has no {', '.join(missing[:5])}{more}"
        raise InputError([FieldError("--problem", why)], what="map options")


@app.command(name="map")
def map_command(
    ctx: typer.Context,
    plan_file: Annotated[Path, typer.Argument(help="The plan (JSON, as solve -o wrote it).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Write the page here.")],
    technician: Annotated[
        str | None,
        typer.Option("--technician", "-t", help="Only this technician's route: the driver's page."),
    ] = None,
    problem_file: Annotated[
        Path | None,
        typer.Option("--problem", help="The plan's day (default: found in the store)."),
    ] = None,
    tiles: Annotated[
        str | None,
        typer.Option(
            help="'osm', 'none' (blank, no network) or a tile URL template "
            "(default: FIELDROUTE_MAP_TILES or osm)."
        ),
    ] = None,
    attribution: Annotated[
        str | None,
        typer.Option(
            help="The credit shown for a tile URL template (default: "
            "FIELDROUTE_MAP_ATTRIBUTION); required with one."
        ),
    ] = None,
) -> None:
    """Draw a plan as a map page: the desk's whole day, or one driver's route with its list.

    The page is one HTML file with Leaflet inside; it opens without internet (tiles aside)."""
    from maps import Tiles, desk_page, driver_page  # only this command draws

    with _guard():
        settings = _settings(ctx)
        plan = _document(_read_json(plan_file, "plan"), PlanOut, "plan")
        problem = _day_of_plan(settings, plan, problem_file)
        chosen = tiles if tiles is not None else settings.map_tiles
        credit = attribution if attribution is not None else settings.map_attribution
        unknown = unknown_tiles(chosen)
        if unknown:
            raise InputError([FieldError("--tiles", unknown)], what="map options")
        uncredited = uncredited_tiles(chosen, credit)
        if uncredited:
            raise InputError([FieldError("--attribution", uncredited)], what="map options")
        source = Tiles.from_setting(chosen, credit)
        page = (
            desk_page(plan, problem, tiles=source)
            if technician is None
            else driver_page(plan, problem, technician, tiles=source)
        )
        _write_file(output, page)
    what = f"{technician}'s route" if technician else f"{len(plan.routes)} routes"
    out.print(
        f"map of plan [bold]{plan.plan_id}[/] v{plan.version} ({_shown(what)}) written to "
        f"{_shown(str(output))}"
    )


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    processes: Annotated[
        int | None,
        typer.Option(
            help="HTTP server processes (default: FIELDROUTE_PROCESSES or 1); one per core "
            "serves the most readers.",
            min=1,
            max=64,
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            help="Solve worker processes of each server process (default: FIELDROUTE_WORKERS "
            "or 1); with FIELDROUTE_JOBS=celery, jobs go to the broker's `fieldroute worker` "
            "processes instead.",
            min=1,
        ),
    ] = None,
    roads: RoadsOption = None,
) -> None:
    """Run the HTTP service (docs at /docs) on the configured database; its solve jobs run in
    its own worker processes, or with FIELDROUTE_JOBS=celery on `fieldroute worker`s."""
    updates = {"processes": processes, "workers": workers}
    settings = _settings(ctx).model_copy(update={k: v for k, v in updates.items() if v is not None})
    # Migrate and fail here, not in the first request.
    with _guard(), _store(settings) as store:
        if settings.processes > 1:
            store.secret(LINK_SECRET)  # once, not raced for by every process
    # One road server for every process, started here and stopped when the service stops.
    with _guard(), _roads(settings, roads) as served:
        if served is not None:
            dataset_dir = served.matrix_dir.parent if served.matrix_dir is not None else None
            settings = settings.model_copy(
                update={
                    "roads": served.url,
                    "roads_table_size": served.max_table_size,
                    "roads_dataset_dir": dataset_dir,
                }
            )
        _run_service(settings, host, port)


def _run_service(settings: Settings, host: str, port: int) -> None:
    import uvicorn  # the service's server; only this command needs it

    from api.app import create_app
    from api.server import PROTOCOL

    run = partial(
        uvicorn.run,
        host=host,
        port=port,
        log_level="info",
        http=PROTOCOL,
        timeout_keep_alive=settings.keep_alive_s,
    )
    if settings.processes == 1:
        run(create_app(settings))
        return
    # Each server process builds its app from the environment: hand the settings down.
    os.environ.update(
        {
            "FIELDROUTE_DATABASE_URL": settings.database_url,
            "FIELDROUTE_PROCESSES": str(settings.processes),
            "FIELDROUTE_WORKERS": str(settings.workers),
            **(
                {
                    "FIELDROUTE_ROADS": settings.roads,
                    "FIELDROUTE_ROADS_TABLE_SIZE": str(settings.roads_table_size),
                }
                if settings.roads
                else {}
            ),
            **(
                {"FIELDROUTE_ROADS_DATASET_DIR": str(settings.roads_dataset_dir)}
                if settings.roads_dataset_dir
                else {}
            ),
        }
    )
    run(
        "api.app:create_app",
        factory=True,
        workers=settings.processes,
        timeout_worker_healthcheck=SERVER_PROCESS_START_S,
    )


@app.command()
def worker(
    ctx: typer.Context,
    concurrency: Annotated[
        int,
        typer.Option(
            help="Jobs solved at once (processes of the worker's pool); each solve uses a "
            "second process already, for a seeding search.",
            min=1,
            max=64,
        ),
    ] = 1,
    name: Annotated[
        str | None,
        typer.Option(help="The worker's name in its log (default: fieldroute-PID@HOST)."),
    ] = None,
    roads: RoadsOption = None,
) -> None:
    """Solve the jobs of a service run with FIELDROUTE_JOBS=celery: take them from the broker
    (FIELDROUTE_BROKER_URL), store their plans in the configured database (which the service
    and every worker share). Start as many as you like, on any machine; stop one with SIGTERM
    (its running solves end first). A job whose worker is lost runs again on another one."""
    settings = _settings(ctx)
    with _guard():
        if not settings.broker_url:
            raise InputError(
                [
                    FieldError(
                        "FIELDROUTE_BROKER_URL",
                        "a worker takes its jobs from a broker: set it to the service's "
                        "(e.g. redis://127.0.0.1:6379/0)",
                    )
                ],
                what="settings",
            )
        with _store(settings):
            pass  # migrated here, before any job is taken
    from api.celery_jobs import run_worker  # Celery, only for this command

    quiet_s = settings.job_time_limit_max_s / 2  # a pool's VROOM run holds its process
    if concurrency > 1 and settings.job_stale_s <= quiet_s:
        err.print(
            f"[yellow]warning:[/] with --concurrency {concurrency}, a solve's VROOM run holds "
            f"its process and the job's heartbeat for up to about {quiet_s:g} s (half of "
            f"FIELDROUTE_JOB_TIME_LIMIT_MAX_S), longer than FIELDROUTE_JOB_STALE_S "
            f"({settings.job_stale_s:g} s): a big day's job may be taken for lost and solved "
            "again. Raise FIELDROUTE_JOB_STALE_S above it, or run --concurrency 1 workers.",
            highlight=False,
            soft_wrap=True,
        )
    with _guard(), _roads(settings, roads) as served:
        code = run_worker(settings, concurrency=concurrency, name=name, roads=served)
    if code:
        raise typer.Exit(code)


roads_app = typer.Typer(help="Road travel from OpenStreetMap, with OSRM.", no_args_is_help=True)
app.add_typer(roads_app, name="roads")


@roads_app.command("prepare")
def roads_prepare(
    ctx: typer.Context,
    extract: Annotated[
        Path, typer.Argument(help="An OpenStreetMap extract (.osm.pbf), e.g. from Geofabrik.")
    ],
) -> None:
    """Build the road dataset of an extract (car profile, contraction hierarchies) in the cache,
    fetching OSRM's executables first if this machine has none; again with the same extract, it
    is already there."""
    with _guard():
        settings = _settings(ctx)
        if not extract.is_file():
            raise InputError([FieldError("extract", f"no file {extract}")], what="command")
        root = settings.cache_dir or default_cache_root()
        tools = ensure_tools(root)
        dataset = prepare(
            extract, cache_dir=root / "roads", tools=tools, on_progress=_say_preparing
        )
        out.print(
            f"roads of [bold]{extract.name}[/] ready in {dataset.folder} (OSRM "
            f"{dataset.osrm_version}); plan on them with --roads {extract}",
            highlight=False,
        )


apikey_app = typer.Typer(help="Dispatchers' API keys for the HTTP service.", no_args_is_help=True)
app.add_typer(apikey_app, name="apikey")


@apikey_app.command("create")
def apikey_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Who holds it, e.g. 'desk-1'.")],
) -> None:
    """Make a key and print it once; only its hash is stored."""
    with _guard():
        with _store(_settings(ctx)) as store:
            record, key = store.create_api_key(name)
        err.print(
            f"API key [bold]{record.id}[/] for {_shown(record.name)}; it is shown only this once:"
        )
        print(key)  # noqa: T201 - the key alone on stdout, for scripts: KEY=$(fieldroute apikey create x)


@apikey_app.command("list")
def apikey_list(ctx: typer.Context) -> None:
    """The keys (never the keys themselves): id, name, created, revoked."""
    with _guard():
        with _store(_settings(ctx)) as store:
            keys = store.api_keys()
        table = Table("id", "name", "created", "revoked")
        for key in keys:
            revoked = key.revoked_at.isoformat(timespec="seconds") if key.revoked_at else ""
            _add_row(table, key.id, key.name, key.created_at.isoformat(timespec="seconds"), revoked)
        out.print(table)


@apikey_app.command("revoke")
def apikey_revoke(
    ctx: typer.Context,
    key_id: Annotated[str, typer.Argument(help="The key's id (ak_...).")],
) -> None:
    """Revoke a key; it stops working at once."""
    with _guard():
        with _store(_settings(ctx)) as store:
            store.revoke_api_key(key_id)
        out.print(f"revoked {key_id}")


# -- booking: slots of a new visit, and booking one (docs/contract.md, "Slots and booking") --

#: The ``--shape`` option of ``slots`` and ``book``.
ShapeOption = Annotated[
    str | None,
    typer.Option(
        "--shape",
        help="two_hours (default), half_day or appointment (on the half hour).",
    ),
]
FirstDateOption = Annotated[
    str | None, typer.Option("--from", help="First date offered (a week's PLAN_ID).")
]
LastDateOption = Annotated[
    str | None, typer.Option("--to", help="Last date offered (a week's PLAN_ID).")
]
AtOption = Annotated[
    str | None,
    typer.Option("--at", help="Clock time of the booking (HH:MM): nothing is offered before."),
]


def _slot_request(
    target: str,
    visit_file: Path,
    shape: str | None,
    first: str | None,
    last: str | None,
    at: str | None,
) -> dict[str, Any]:
    """The slot request of the CLI: the file (a visit, or a request holding ``visit``) for the
    plan or week ``target``, with the options given on top."""
    document = _read_json(visit_file, "visit")
    if not isinstance(document, dict):
        raise InputError([FieldError("", "must be a JSON object")], what="visit file")
    request: dict[str, Any] = dict(document) if "visit" in document else {"visit": document}
    request["plan_id"] = target
    for key, value in (("shape", shape), ("first_date", first), ("last_date", last), ("at", at)):
        if value is not None:
            request[key] = value
    return request


def _print_slots(answer: Any) -> None:
    if not answer.slots:
        out.print(f"no slot: {_shown(answer.code or '')}", highlight=False)
        err.print(_shown(answer.reason or ""), highlight=False, soft_wrap=True)
        return
    table = Table(title=f"Slots for {_shown(answer.visit_id)} ({len(answer.slots)}, best first)")
    for name in ("#", "date", "time", "technician", "starts", "+travel", "+km", "grade"):
        table.add_column(name)
    for slot in answer.slots:
        start, end = format_iso_clock(slot.start), format_iso_clock(slot.end)
        _add_row(
            table,
            str(slot.rank),
            slot.date,
            start if slot.appointment else f"{start}-{end}",
            slot.technician_id,
            format_iso_clock(slot.service_start),
            f"{slot.added_travel_min:g} min",
            f"{slot.added_km:g}",
            f"{slot.grade:g}",
        )
    out.print(table)


@app.command()
def slots(
    ctx: typer.Context,
    plan_id: Annotated[str, typer.Argument(help="A stored day plan, or a week (wk_...).")],
    visit: Annotated[
        Path, typer.Argument(help="The new visit (JSON), or a slot request holding it.")
    ],
    shape: ShapeOption = None,
    first: FirstDateOption = None,
    last: LastDateOption = None,
    at: AtOption = None,
    roads: RoadsOption = None,
    as_json: JsonOption = False,
) -> None:
    """The times a new visit can be offered, best first, none breaking a promise already made;
    or why there are none."""
    with _guard():
        request = _slot_request(plan_id, visit, shape, first, last, at)
        settings = _settings(ctx)
        with _roads(settings, roads) as served, _store(settings) as store:
            answer = slots_stored(store, request, roads=served, now=_now())
        if as_json:
            typer.echo(answer.model_dump_json(indent=1))
            return
        _print_slots(answer)
        if not answer.slots:
            raise typer.Exit(1)


def _now() -> datetime:
    """The command's clock: the present, aware (without ``--at``, a plan of today is offered
    and booked from now; a batch of a plan of today may not be timed well after it)."""
    return datetime.now(UTC)


def _is_rank(spec: str) -> bool:
    """Whether a ``SLOT`` is a rank: ASCII digits only (``"²".isdigit()`` is true)."""
    return spec.isascii() and spec.isdigit()


def _slot_spec(spec: str, answer: Any) -> tuple[str, dict[str, Any]]:
    """The plan and slot a ``SLOT`` names: a rank of ``answer``, or ``HH:MM`` (an appointment)
    or ``HH:MM-HH:MM`` (a window), optionally ``@TECHNICIAN``, on the plan's date."""
    if _is_rank(spec):
        rank = int(spec)
        if not 1 <= rank <= len(answer.slots):
            raise InputError(
                [FieldError("SLOT", f"no slot {rank}: {len(answer.slots)} offered")], what="slot"
            )
        slot = answer.slots[rank - 1]
        return slot.plan_id, slot.slot.model_dump(mode="json", exclude_none=True)
    times, _, technician = spec.partition("@")
    start, dash, end = times.partition("-")
    if dash and not end:  # "14:30-" was booked as an appointment at 14:30
        message = f"{spec!r}: give HH:MM (an appointment) or HH:MM-HH:MM (a window)"
        raise InputError([FieldError("SLOT", message)], what="slot")
    found: dict[str, Any] = {"window": {"start": start, "end": end}} if end else {}
    if not end:
        found["appointment"] = start
    if technician:
        found["technician_id"] = technician
    return "", found


@app.command()
def book(
    ctx: typer.Context,
    plan_id: Annotated[str, typer.Argument(help="A stored day plan, or a week (wk_...).")],
    visit: Annotated[
        Path, typer.Argument(help="The new visit (JSON), or a slot request holding it.")
    ],
    slot: Annotated[
        str,
        typer.Argument(
            help="The rank of a slot `fieldroute slots` lists (1 = best), or HH:MM (an "
            "appointment) or HH:MM-HH:MM (a window), optionally @TECHNICIAN."
        ),
    ],
    shape: ShapeOption = None,
    first: FirstDateOption = None,
    last: LastDateOption = None,
    at: AtOption = None,
    roads: RoadsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Book a new visit into a slot: store the plan's next version (as a new_visit event
    would) and print the changes; no other customer's promise moves."""
    with _guard():
        request = _slot_request(plan_id, visit, shape, first, last, at)
        settings = _settings(ctx)
        with _roads(settings, roads) as served, _store(settings) as store:
            now = _now()
            answer = slots_stored(store, request, roads=served, now=now) if _is_rank(slot) else None
            target, chosen = _slot_spec(slot, answer)
            if not target and plan_id.startswith("wk_"):
                raise InputError(
                    [FieldError("SLOT", "in a week, give the rank of a slot (or book a time "
                                "into the plan of its date)")],
                    what="slot",
                )  # fmt: skip
            target = target or plan_id
            if "date" not in chosen:
                chosen["date"] = store.load_plan(target)["date"]
            body = {"visit": request["visit"], "slot": chosen}
            at_then = asked_at_on(store, request, date.fromisoformat(chosen["date"]), now)
            if at_then is not None:
                body["at"] = at_then
            try:
                document = book_stored(store, target, body, roads=served, now=now)
            except BookingRefusedError as error:
                err.print(f"[bold red]error:[/] {_shown(str(error))}", highlight=False)
                _print_slots(error.answer)
                raise typer.Exit(error.exit_code) from error
        if as_json:
            typer.echo(document.model_dump_json(indent=1))
            return
        _print_changes(document)
        out.print(f"plan [bold]{_shown(target)}[/] version {document.version} stored")
