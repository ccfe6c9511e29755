"""Validation: every rule of the contract, all problems reported at once with path and id."""

from __future__ import annotations

import json
from datetime import UTC, timedelta
from typing import Annotated, Any, Literal, get_args, get_origin

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, TypeAdapter, ValidationError

from dispatch.contract.horizon import parse_horizon
from dispatch.contract.schema import (
    MAX_TECHNICIANS,
    MAX_VISITS,
    EventBatchIn,
    PolicyIn,
    ProblemIn,
)
from dispatch.contract.validate import MAX_JSON_DEPTH, PERMUTED_BREAKS, load_json, parse_problem
from dispatch.errors import InputError
from dispatch.model import Plan, Policy, Priority, Problem
from dispatch.planning import SolveParams, plan_day, policy_params
from dispatch.replanning.events import parse_events
from dispatch.units import seconds_after
from solver.instance import MAX_PERMUTED_BREAKS, BreakRule, turn_order
from solver.params import STALL_SHARE
from tests.conftest import line_day


def errors_of(raw: Any) -> list[str]:
    with pytest.raises(InputError) as caught:
        parse_problem(raw)
    return [str(error) for error in caught.value.errors]


def test_a_valid_day_becomes_the_domain(day: dict[str, Any]) -> None:
    day["visits"][0].update(
        appointment="09:30", priority="urgent", required_skills=["water_heater"]
    )
    problem = parse_problem(day)
    visit = problem.visits[0]
    assert visit.appointment is not None and visit.appointment.hour == 9
    assert visit.appointment.utcoffset() == timedelta(hours=8)
    assert visit.priority is Priority.URGENT
    assert problem.technicians[0].end.matrix_index == 0


def test_ids_and_skills_sent_as_json_are_taken_exactly_as_sent(day: dict[str, Any]) -> None:
    # A sheet reads "T1" typed full-width as "T1" (``dispatch.contract.sheets``); JSON ids are
    # the client's own strings, compared as sent: a day whose every id is typed full-width was
    # valid before sheets read them so, and stays valid, the same id as stored.
    technician = day["technicians"][0]["id"]
    wide = technician.translate(
        str.maketrans({chr(code): chr(code + 0xFEE0) for code in range(0x21, 0x7F)})
    )
    day["technicians"][0].update(id=wide, skills=["\uff41\uff43"])
    day["visits"][0].update(technician=wide, required_skills=["\uff41\uff43"])
    problem = parse_problem(day)
    assert problem.technicians[0].id == wide and problem.visits[0].pinned_to == wide
    assert problem.visits[0].required_skills == frozenset({"\uff41\uff43"})


@pytest.mark.parametrize(
    ("date", "clock", "utc"),
    [
        ("2026-03-08", "02:30", "2026-03-08T07:30:00+00:00"),  # skipped: 03:30 EDT
        ("2026-11-01", "01:30", "2026-11-01T05:30:00+00:00"),  # repeated: the first, EDT
    ],
)
def test_a_clock_time_the_change_skips_or_repeats_reads_as_the_contract_says(
    date: str, clock: str, utc: str
) -> None:
    day = line_day(date=date, timezone="America/New_York")
    day["technicians"][0]["shift"] = {"start": "00:00", "end": "08:00"}
    day["visits"][0]["appointment"] = clock
    appointment = parse_problem(day).visits[0].appointment
    assert appointment is not None
    assert appointment.astimezone(UTC).isoformat() == utc


def test_a_window_opening_in_the_hour_the_clocks_skip_says_how_it_reads() -> None:
    day = line_day(date="2026-03-08", timezone="America/New_York")
    day["technicians"][0]["shift"] = {"start": "00:00", "end": "08:00"}
    day["visits"][0]["window"] = {"start": "02:30", "end": "03:10"}
    assert errors_of(day) == [
        "visits[0] (V1).window.end: 03:10 is before start 02:30 (02:30 is skipped by the "
        "clock change that day: it reads as 03:30)"
    ]


def test_a_technicians_breaks_are_kept_in_the_order_they_are_taken(day: dict[str, Any]) -> None:
    day["technicians"][0]["breaks"] = [
        {"start": "12:00", "end": "13:30", "duration_min": 30},
        {"start": "15:00", "end": "15:30", "duration_min": 10},
        {"start": "10:00", "end": "10:30", "duration_min": 10},
    ]
    breaks = parse_problem(day).technicians[0].breaks
    assert [rest.window.start.strftime("%H:%M") for rest in breaks] == ["10:00", "12:00", "15:00"]


def test_breaks_are_taken_in_an_order_that_leaves_each_room(day: dict[str, Any]) -> None:
    # By their windows' opening, the lunch would leave the tea no room: the tea comes first.
    day["technicians"][0]["breaks"] = [
        {"start": "12:00", "end": "14:00", "duration_min": 60},
        {"start": "12:30", "end": "12:45", "duration_min": 10},
    ]
    breaks = parse_problem(day).technicians[0].breaks
    assert [rest.window.start.strftime("%H:%M") for rest in breaks] == ["12:30", "12:00"]


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    st.lists(
        st.tuples(st.integers(0, 24), st.integers(0, 12), st.sampled_from([1, 10, 30, 60])),
        min_size=1,
        max_size=4,
    )
)
def test_the_domain_keeps_breaks_in_the_order_the_solver_takes_them(
    rows: list[tuple[int, int, int]],
) -> None:
    # Windows on a quarter-hour grid from 08:00, up to three hours long.
    day = line_day()
    day["technicians"][0]["breaks"] = [
        {
            "start": f"{8 + opens // 4:02d}:{opens % 4 * 15:02d}",
            "end": f"{8 + (opens + length) // 4:02d}:{(opens + length) % 4 * 15:02d}",
            "duration_min": minutes,
        }
        for opens, length, minutes in rows
        if minutes <= length * 15
    ]
    try:
        problem = parse_problem(day)
    except InputError:
        return  # no order leaves every break room: refused, as the solver could not take them
    midnight = problem.midnight
    rules = [
        BreakRule(
            seconds_after(rest.window.start, midnight),
            seconds_after(rest.window.end, midnight) - round(rest.duration.total_seconds()),
            round(rest.duration.total_seconds()),
        )
        for rest in problem.technicians[0].breaks
    ]
    assert turn_order(rules) == list(range(len(rules)))
    assert PERMUTED_BREAKS == MAX_PERMUTED_BREAKS


def test_every_problem_is_reported_in_one_error() -> None:
    day = line_day()
    day["technicians"].append(dict(day["technicians"][0]))  # duplicate T1
    day["technicians"][1]["shift"] = {"start": "18:00", "end": "08:00"}
    day["technicians"][0]["breaks"] = [{"start": "12:00", "end": "12:20", "duration_min": 30}]
    day["visits"][0]["appointment"] = "09:00"
    day["visits"][0]["window"] = {"start": "10:00", "end": "08:00"}
    day["visits"][1]["technician"] = "T9"
    day["visits"][2]["location_index"] = 7
    found = errors_of(day)
    assert "technicians[1] (T1).id: duplicate id, already used by technicians[0]" in found
    assert "technicians[1] (T1).shift.end: 08:00 is before start 18:00" in found
    assert any(
        e.startswith("technicians[0] (T1).breaks[0].duration_min: 30 min does not fit")
        for e in found
    )
    assert "visits[0] (V1).appointment: give either an appointment or a window, not both" in found
    assert "visits[0] (V1).window.end: 08:00 is before start 10:00" in found
    assert "visits[1] (V2).technician: unknown technician 'T9'" in found
    assert "visits[2] (V3).location_index: 7 is outside the travel matrix (size 4)" in found
    assert len(found) == 7


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda d: d["visits"][0].update(duration_min=0),
            "visits[0] (V1).duration_min: Input should be greater than 0",
        ),
        (
            lambda d: d["visits"][0].update(duration_min=-5),
            "visits[0] (V1).duration_min: Input should be greater than 0",
        ),
        (
            lambda d: d["visits"][0].update(appointment="9:30"),
            "visits[0] (V1).appointment: '9:30' is not a time HH:MM",
        ),
        (
            lambda d: d["visits"][0].update(appointment="25:00"),
            "visits[0] (V1).appointment: '25:00' is not a time HH:MM",
        ),
        (
            lambda d: d["visits"][0].update(apointment="09:30"),
            "visits[0] (V1).apointment: unknown key 'apointment' (free text belongs in 'notes')",
        ),
        (
            lambda d: d["visits"][0].update(location={"lat": 95, "lon": 0}),
            "visits[0] (V1).location.lat: Input should be less than or equal to 90",
        ),
        (
            lambda d: d["visits"][0].update(location={"lat": 0, "lon": 190}),
            "visits[0] (V1).location.lon: Input should be less than or equal to 180",
        ),
        (lambda d: d.update(timezone="Mars/Olympus"), "timezone: unknown time zone 'Mars/Olympus'"),
        # A region's folder or an over-long name: the zone database reads them as files.
        (lambda d: d.update(timezone="Europe"), "timezone: unknown time zone 'Europe'"),
        # The host's own zone, read as a file: a stored day would mean another time elsewhere.
        (lambda d: d.update(timezone="localtime"), "timezone: unknown time zone 'localtime'"),
        (lambda d: d.update(timezone="Factory"), "timezone: unknown time zone 'Factory'"),
        (lambda d: d.update(timezone="posixrules"), "timezone: unknown time zone 'posixrules'"),
        (lambda d: d.update(timezone="A" * 300), "timezone: unknown time zone 'AAAA"),
        (lambda d: d.update(date="2026-13-40"), "date: '2026-13-40' is not a date YYYY-MM-DD"),
        # Years the engine's day arithmetic would run off the calendar with.
        (
            lambda d: d.update(date="0001-01-01"),
            "date: '0001-01-01' is not a date YYYY-MM-DD of the years 1900-2999",
        ),
        (
            lambda d: d.update(date="9999-12-31"),
            "date: '9999-12-31' is not a date YYYY-MM-DD of the years 1900-2999",
        ),
        (
            lambda d: d["technicians"][0].update(
                breaks=[{"start": "12:00", "end": "12:10", "duration_min": 0}]
            ),
            "technicians[0] (T1).breaks[0].duration_min: Input should be greater than 0",
        ),
        (
            lambda d: d["technicians"][0].update(
                breaks=[
                    {"start": "12:00", "end": "12:40", "duration_min": 30},
                    {"start": "11:50", "end": "12:30", "duration_min": 30},
                ]
            ),
            "technicians[0] (T1).breaks[0]: 30 min in 12:00-12:40 cannot follow breaks[1] "
            "(30 min in 11:50-12:30): a technician's breaks are taken one after another",
        ),
        (
            lambda d: d["travel"].update(durations_min=[[0, 1], [1, 0]]),
            "travel.distances_km: has 4 rows, expected 2",
        ),
        (
            lambda d: d["travel"]["durations_min"][2].pop(),
            "travel.durations_min[2]: has 3 columns, expected 4 (the matrix must be square)",
        ),
        (
            lambda d: d["travel"]["distances_km"][1].__setitem__(2, 1e300),
            "travel.distances_km[1]: has a value above 1,000,000",
        ),
        (
            lambda d: d["travel"]["durations_min"][3].__setitem__(0, 1_000_001),
            "travel.durations_min[3]: has a value above 1,000,000",
        ),
        (lambda d: d["visits"][0].pop("duration_min"), "visits[0] (V1).duration_min: is required"),
        (lambda d: d["visits"][0].update(priority="asap"), "visits[0] (V1).priority:"),
    ],
)
def test_each_rule_names_its_field_and_id(change: Any, expected: str) -> None:
    day = line_day()
    change(day)
    found = errors_of(day)
    assert any(error.startswith(expected) for error in found), found


def test_matrix_index_without_matrix_and_missing_location() -> None:
    day = line_day()
    del day["travel"]
    found = errors_of(day)
    assert (
        "technicians[0] (T1).location_index: given but the problem has no 'travel' matrix" in found
    )
    day["visits"][0].pop("location_index")
    found = errors_of(day)
    assert any(e.startswith("visits[0] (V1).location: is required") for e in found)


def test_json_that_is_not_json() -> None:
    assert errors_of('{"date": "2026-11-23",') == [
        "not valid JSON: Expecting property name enclosed in double quotes at line 1, column 23"
    ]
    assert errors_of("[1, 2]") == ["a problem must be a JSON object"]


def test_message_names_what_and_counts() -> None:
    day = line_day()
    day["visits"][0]["window"] = {"start": "10:00", "end": "08:00"}
    with pytest.raises(InputError, match=r"invalid problem: 1 error\n  - visits\[0\] \(V1\)"):
        parse_problem(day)


def test_urgent_report_time_sets_a_deadline(day: dict[str, Any]) -> None:
    day["policy"]["urgent_response_min"] = 90
    day["visits"][0].update(priority="urgent", reported_at="10:40")
    day["visits"][1].update(priority="high", reported_at="10:40")
    problem = parse_problem(day)
    assert problem.visits[0].deadline is not None
    assert problem.visits[0].deadline.strftime("%H:%M") == "12:10"
    assert problem.visits[1].deadline is None


# -- what the wire refuses before any rule: broken text, deep nesting, loose types ----------

SURROGATE = "\ud800"
#: What every door says of a lone surrogate (JSON "\ud800"), whatever field holds it.
BROKEN_TEXT = r"contains an unpaired surrogate (\ud800); send valid Unicode text"


def full_day() -> dict[str, Any]:
    """``line_day()`` with every optional text field of the problem filled in."""
    day = line_day()
    day["technicians"][0].update(phone="+86 1", end={"lat": 22.5, "lon": 113.9, "address": "Base"})
    day["technicians"][0]["start"] = {"lat": 22.5, "lon": 113.9, "address": "Base"}
    day["visits"][0].update(
        address="12 Keyuan Rd",
        phone="+86 2",
        notes="2nd floor",
        required_skills=["water_heater"],
        technician="T1",
        preferred_technician="T1",
        kind="install",
        priority="high",
        location={"lat": 22.5, "lon": 113.9, "address": "12 Keyuan Rd"},
    )
    return day


def text_paths(node: Any, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Where ``node`` holds a string, as key and index paths."""
    if isinstance(node, dict):
        return [p for key, value in node.items() for p in text_paths(value, (*path, key))]
    if isinstance(node, list):
        return [p for i, value in enumerate(node) for p in text_paths(value, (*path, i))]
    return [path] if isinstance(node, str) else []


def dotted(path: tuple[str | int, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


@pytest.mark.parametrize("where", text_paths(full_day()), ids=dotted)
def test_an_unpaired_surrogate_is_refused_in_every_text_field(
    where: tuple[str | int, ...],
) -> None:
    day = full_day()
    node: Any = day
    for part in where[:-1]:
        node = node[part]
    node[where[-1]] = f"{node[where[-1]]}{SURROGATE}"
    with pytest.raises(InputError) as caught:
        parse_problem(json.dumps(day))  # the JSON escape "\ud800", as a client sends it
    rows: Any = day.get(str(where[0]))
    entity = rows[where[1]]["id"] if where[0] in ("technicians", "visits") else None
    expected_id = None if entity is None else entity.replace(SURROGATE, r"\ud800")
    assert [(e.path, e.entity_id, e.message) for e in caught.value.errors] == [
        (dotted(where), expected_id, BROKEN_TEXT)
    ]
    str(caught.value).encode("utf-8")  # printable: the CLI and the API can write it


def test_a_surrogate_in_a_key_or_an_id_is_reported_escaped() -> None:
    day = line_day()
    day["visits"][1]["id"] = f"V{SURROGATE}"
    day["visits"][2][f"note{SURROGATE}"] = "x"
    found = errors_of(json.dumps(day))
    assert found == [
        r"visits[1] (V\ud800).id: " + BROKEN_TEXT,
        r"visits[2] (V3): key 'note\ud800' " + BROKEN_TEXT,
    ]
    # Not escaped but encoded in the bytes (as CESU-8 does, not UTF-8): the same error.
    raw = json.dumps(line_day()).encode().replace(b'"C1"', b'"C1\xed\xa0\x80"')
    assert errors_of(raw) == [f"visits[0] (V1).customer: {BROKEN_TEXT}"]


def test_every_text_field_of_the_input_schemas_refuses_surrogates() -> None:
    """Structural: a new string field that is plain ``str`` (not ``Text``) fails here."""
    unchecked = [
        name
        for model in (ProblemIn, EventBatchIn)
        for name, annotation in string_leaves(model)
        if not refuses_surrogates(annotation)
    ]
    assert unchecked == []
    names = {name for model in (ProblemIn, EventBatchIn) for name, _ in string_leaves(model)}
    assert {"VisitIn.customer", "DelayIn.reason", "TechnicianIn.skills"} <= names


def string_leaves(model: type[BaseModel], seen: set[type] | None = None) -> list[tuple[str, Any]]:
    """Every ``str`` a model tree holds, each as ``Model.field`` and its annotated type."""
    seen = set() if seen is None else seen
    seen.add(model)
    found = []
    for name, field in model.model_fields.items():
        annotation: Any = field.annotation
        if field.metadata:
            annotation = Annotated[(annotation, *field.metadata)]
        found += _str_types(f"{model.__name__}.{name}", annotation, seen)
    return found


def _str_types(name: str, annotation: Any, seen: set[type]) -> list[tuple[str, Any]]:
    base = get_args(annotation)[0] if get_origin(annotation) is Annotated else annotation
    if base is str:
        return [(name, annotation)]
    if isinstance(base, type) and issubclass(base, BaseModel):
        return [] if base in seen else string_leaves(base, seen)
    if get_origin(base) is Literal:
        return []
    return [leaf for arg in get_args(base) for leaf in _str_types(name, arg, seen)]


def refuses_surrogates(annotation: Any) -> bool:
    try:
        TypeAdapter(annotation).validate_python(SURROGATE)
    except ValidationError as error:
        return error.errors()[0]["type"] == "unpaired_surrogate"
    return False


def test_load_json_refuses_deep_nesting_before_parsing() -> None:
    deep = "[" * 100_000 + "]" * 100_000
    for raw in (deep, deep.encode(), '{"visits": ' + deep + "}"):
        with pytest.raises(InputError) as caught:
            load_json(raw)
        assert [str(e) for e in caught.value.errors] == [
            f"nests deeper than {MAX_JSON_DEPTH} levels of arrays and objects"
        ]
    assert errors_of(deep) == [f"nests deeper than {MAX_JSON_DEPTH} levels of arrays and objects"]
    at_limit = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert load_json(at_limit) == json.loads(at_limit)
    with pytest.raises(InputError, match="nests deeper"):
        load_json("[" + at_limit + "]")
    # Brackets inside strings, escaped quotes included, are text, not nesting.
    text = '{"notes": "' + "[{" * 5_000 + '\\"]"}'
    assert load_json(text) == {"notes": "[{" * 5_000 + '"]'}


def test_load_json_refuses_what_json_loads_would_raise_besides_syntax() -> None:
    with pytest.raises(InputError, match=r"not valid JSON: Exceeds the limit \(4300 digits\)"):
        load_json('{"version": ' + "1" * 5_000 + "}")
    with pytest.raises(InputError, match="not UTF-8 text"):
        load_json(b'{"a": "\xff"}')
    assert load_json(b'\xef\xbb\xbf{"a": 1}') == {"a": 1}  # a UTF-8 BOM, as json.loads allows


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda d: d["policy"].update(time_limit_s=True),
            "policy.time_limit_s: Input should be a valid number (got True)",
        ),
        (
            lambda d: d["visits"][0].update(duration_min="30"),
            "visits[0] (V1).duration_min: Input should be a valid number (got '30')",
        ),
        (
            lambda d: d["visits"][0].update(crew_size=1.5),
            "visits[0] (V1).crew_size: Input should be a valid integer (got 1.5)",
        ),
        (
            lambda d: d["visits"][0].update(crew_size=True),
            "visits[0] (V1).crew_size: Input should be a valid integer (got True)",
        ),
        (
            lambda d: d["technicians"][0].update(location_index="0"),
            "technicians[0] (T1).location_index: Input should be a valid integer (got '0')",
        ),
        (
            lambda d: d["travel"]["durations_min"][1].__setitem__(2, False),
            "travel.durations_min[1][2]: Input should be a valid number (got False)",
        ),
        (
            lambda d: d["travel"]["durations_min"][1].__setitem__(2, float("nan")),
            "travel.durations_min[1][2]: Input should be a finite number (got nan)",
        ),
        (
            lambda d: d["visits"][0].update(location={"lat": "22.5", "lon": 113.9}),
            "visits[0] (V1).location.lat: Input should be a valid number (got '22.5')",
        ),
        (
            lambda d: d["policy"].update(early_arrival_min=[5, True]),
            "policy.early_arrival_min[1]: Input should be a valid number (got True)",
        ),
        (
            lambda d: d["visits"][0].update(customer=42),
            "visits[0] (V1).customer: Input should be a valid string (got 42)",
        ),
    ],
)
def test_types_are_strict(change: Any, expected: str) -> None:
    day = line_day()
    change(day)
    assert errors_of(day) == [expected]


@pytest.mark.parametrize("share", [-0.1, 1.5])
def test_a_stall_share_outside_0_to_1_is_refused_by_name(share: float) -> None:
    day = line_day()
    day["policy"]["stall_share"] = share
    [error] = errors_of(day)
    assert error.startswith("policy.stall_share: Input should be")


def test_the_policy_s_stall_share_reaches_the_search() -> None:
    day = line_day()
    assert parse_problem(day).policy.stall_share == STALL_SHARE  # the solver's own default
    day["policy"].update(time_limit_s=4, stall_share=0)
    params = policy_params(parse_problem(day).policy)
    assert (params.time_limit_s, params.stall_share) == (4, 0)
    replan = policy_params(parse_problem(day).policy, 1.5)
    assert (replan.time_limit_s, replan.stall_share) == (1.5, 0)


def test_integers_pass_as_numbers(day: dict[str, Any]) -> None:
    day["policy"].update(time_limit_s=2, service_radius_km=50.5)
    day["travel"]["durations_min"][1][2] = 10.5
    problem = parse_problem(day)
    assert problem.policy.time_limit_s == 2.0 and problem.policy.service_radius_km == 50.5
    assert problem.travel is not None and problem.travel.durations_min[1][2] == 10.5


def test_visits_and_technicians_are_required() -> None:
    day = line_day()
    del day["visits"]
    assert errors_of(day) == ["visits: is required"]
    del day["technicians"]
    assert errors_of(day) == ["technicians: is required", "visits: is required"]
    assert parse_problem(line_day(visits=[])).visits == ()  # an empty day, said so


@pytest.fixture(scope="module")
def planned_day() -> tuple[dict[str, Any], Problem, Plan]:
    raw = line_day()
    problem = parse_problem(raw)
    quick = SolveParams(time_limit_s=1, metaheuristic="greedy_descent")
    return raw, problem, plan_day(problem, params=quick)


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (
            {"type": "delay", "technician_id": "T1", "minutes": 5, "reason": f"jam{SURROGATE}"},
            f"events[0] (T1).reason: {BROKEN_TEXT}",
        ),
        (
            {"type": "cancelled", "visit_id": "V2", "reason": SURROGATE},
            f"events[0] (V2).reason: {BROKEN_TEXT}",
        ),
        (
            {"type": "unavailable", "technician_id": "T1", "reason": SURROGATE},
            f"events[0] (T1).reason: {BROKEN_TEXT}",
        ),
        (
            {"type": "new_visit", "visit": {"id": "V9", "location_index": 1, "duration_min": 30,
                                           "customer": SURROGATE}},
            f"events[0] (V9).visit.customer: {BROKEN_TEXT}",
        ),
        (
            {"type": "delay", "technician_id": "T1", "minutes": True},
            "events[0] (T1).minutes: Input should be a valid number (got True)",
        ),
        (
            {"type": "delay", "technician_id": "T1", "minutes": "35"},
            "events[0] (T1).minutes: Input should be a valid number (got '35')",
        ),
        (
            {"type": "new_visit", "visit": {"id": "V9", "location_index": 1, "duration_min": 30,
                                           "crew_size": 1.5}},
            "events[0] (V9).visit.crew_size: Input should be a valid integer (got 1.5)",
        ),
    ],
)  # fmt: skip
def test_bad_text_and_loose_types_in_events_are_refused(
    planned_day: tuple[dict[str, Any], Problem, Plan], event: dict[str, Any], expected: str
) -> None:
    raw, problem, plan = planned_day
    batch = json.dumps({"at": "09:00", "events": [event]})
    with pytest.raises(InputError) as caught:
        parse_events(batch, raw, problem, plan)
    assert [str(e) for e in caught.value.errors] == [expected]
    assert caught.value.what == "events"


def test_events_nesting_too_deep_or_a_boolean_version_are_refused(
    planned_day: tuple[dict[str, Any], Problem, Plan],
) -> None:
    raw, problem, plan = planned_day
    deep = '{"at": "09:00", "events": ' + "[" * 100_000 + "]" * 100_000 + "}"
    with pytest.raises(InputError, match=f"nests deeper than {MAX_JSON_DEPTH} levels"):
        parse_events(deep, raw, problem, plan)
    delay = {"type": "delay", "technician_id": "T1", "minutes": 5}
    with pytest.raises(InputError, match=r"version: Input should be a valid integer \(got True"):
        parse_events({"at": "09:00", "version": True, "events": [delay]}, raw, problem, plan)


def test_a_day_without_a_policy_gets_the_domain_defaults() -> None:
    from dispatch.model import Policy
    from tests.conftest import line_day

    day = line_day()
    del day["policy"]
    assert parse_problem(day).policy == Policy()


def test_the_notes_hint_is_given_only_where_there_are_notes() -> None:
    # Only a visit has notes: on a technician, the policy or a request body the hint sent the
    # user to a field that does not exist there.
    raw = line_day()
    raw["technicians"][0]["remark"] = "van 2"
    raw["policy"]["remark"] = "winter"
    raw["visits"][0]["remark"] = "ring twice"
    with pytest.raises(InputError) as caught:
        parse_problem(raw)
    assert [str(error) for error in caught.value.errors] == [
        "policy.remark: unknown key 'remark'",
        "technicians[0] (T1).remark: unknown key 'remark'",
        "visits[0] (V1).remark: unknown key 'remark' (free text belongs in 'notes')",
    ]


def test_appointment_start_is_at_time_by_default_and_an_unknown_value_is_named() -> None:
    assert PolicyIn().appointment_start == Policy().appointment_start == "at_time"
    assert parse_problem(line_day()).policy.appointment_start == "at_time"
    day = line_day(policy={"appointment_start": "on_arrival"})
    assert parse_problem(day).policy.appointment_start == "on_arrival"
    day["policy"]["appointment_start"] = "early"
    assert errors_of(day) == [
        "policy.appointment_start: Input should be 'at_time' or 'on_arrival' (got 'early')"
    ]


def test_a_technician_id_with_a_slash_is_refused_when_sent_and_read_when_stored() -> None:
    day = line_day()
    day["technicians"][0]["id"] = "North/1"
    for visit in day["visits"]:
        visit.pop("technician", None)
    said = "may not hold '/' nor be '.' or '..': a driver's route is addressed by it"
    assert errors_of(day) == [f"technicians[0] (North/1).id: {said}"]
    assert parse_problem(day, stored=True).technicians[0].id == "North/1"
    # Nor "." or "..": clients drop dot segments (GET .../routes/.. read the whole plan).
    for dots in (".", ".."):
        day["technicians"][0]["id"] = dots
        assert errors_of(day) == [f"technicians[0] ({dots}).id: {said}"]


def test_an_appointment_at_24_00_is_refused_when_sent_and_read_when_stored() -> None:
    # 24:00 ends the day (a shift's or a window's end); an appointment at it was accepted and
    # named "the appointment at 00:00" in its reason, the day's start.
    day = line_day()
    day["visits"][0]["appointment"] = "24:00"
    assert errors_of(day) == [
        "visits[0] (V1).appointment: '24:00' ends the day: give a time from 00:00 to 23:59"
    ]
    assert parse_problem(day, stored=True).visits[0].appointment is not None


def test_a_day_or_horizon_past_the_size_the_engine_can_plan_is_refused_naming_the_list() -> None:
    # A day of 30,000 visits (3 MB of JSON) was stored, and planning it would have needed
    # about 48 GB: memory grows with the square of the places.
    one = {"location": {"lat": 22.5, "lon": 113.9}, "duration_min": 10}
    day = line_day()
    day.pop("travel")
    day["technicians"][0] |= {"start": {"lat": 22.5, "lon": 113.9}}
    day["technicians"][0].pop("location_index")
    day["visits"] = [{"id": f"V{i}", **one} for i in range(MAX_VISITS + 1)]
    with pytest.raises(InputError) as caught:
        parse_problem(day)
    assert [(e.path, e.message) for e in caught.value.errors] == [
        ("visits", f"at most {MAX_VISITS:,} entries (got {MAX_VISITS + 1:,})")
    ]
    day["visits"] = day["visits"][:MAX_VISITS]
    assert len(parse_problem(day).visits) == MAX_VISITS
    horizon = {
        "horizon": {"start": "2026-11-23", "days": 2},
        "technicians": day["technicians"] * (MAX_TECHNICIANS + 1),
        "visits": [],
    }
    with pytest.raises(InputError) as caught:
        parse_horizon(horizon)
    assert caught.value.errors[0].path == "technicians"
    assert caught.value.errors[0].message.startswith(f"at most {MAX_TECHNICIANS:,} entries")


def test_a_bad_date_and_zone_are_listed_beside_the_shape_s_errors() -> None:
    # Read only once every field had its shape, a bad date and zone were named on a second
    # try ("every problem in the file, at once").
    day = line_day()
    day.update(date="2026-13-45", timezone="Mars/Base")
    day["visits"][0]["duration_min"] = -5
    with pytest.raises(InputError) as caught:
        parse_problem(day)
    paths = [error.path for error in caught.value.errors]
    assert paths == ["visits[0].duration_min", "date", "timezone"]
