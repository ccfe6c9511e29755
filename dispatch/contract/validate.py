"""Validation at the edge: raw JSON -> ``ProblemIn`` (shapes) -> ``Problem`` (rules).

``parse_problem`` is the one door into the engine. It never raises anything but ``InputError``,
and that error lists every problem found, each with its path and the id of the visit or
technician concerned: ``visits[12] (V0012).window.end: 08:00 is before start 10:00``. Shapes,
types, ranges and unknown keys are pydantic's job (``dispatch.contract.schema``); the rules that tie
fields together are checked here, once, for the CLI and the API alike.

JSON text comes in through ``load_json``, which refuses what would break the parser rather
than the contract: text that is not UTF-8, and nesting deeper than ``MAX_JSON_DEPTH``.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from itertools import accumulate, chain, permutations
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ValidationError

from dispatch.contract.schema import (
    DATE_PATTERN,
    MOMENT_PATTERN,
    UNPAIRED_SURROGATE,
    BreakIn,
    CapacityIn,
    DepotIn,
    LocationIn,
    PartArrivalIn,
    PartIn,
    PolicyIn,
    ProblemIn,
    RoundIn,
    StockIn,
    TechnicianIn,
    TravelIn,
    VisitIn,
    WindowIn,
    unpaired_surrogate,
)
from dispatch.errors import FieldError, InputError
from dispatch.model import (
    Break,
    Capacity,
    Demand,
    Depot,
    DepotId,
    LatLon,
    PartArrival,
    PartQuantity,
    Policy,
    Priority,
    Problem,
    Site,
    Technician,
    TechnicianId,
    TimeWindow,
    TravelMatrix,
    TravelSettings,
    Visit,
    VisitId,
)
from dispatch.units import (
    clock_to_datetime,
    elapsed,
    format_clock,
    local_moment,
    minutes_to_duration,
    shifted,
)

__all__ = [
    "END_OF_DAY",
    "MAX_JSON_DEPTH",
    "MAX_MATRIX_VALUE",
    "Scope",
    "addressless",
    "build_depots",
    "build_parts",
    "build_policy",
    "build_technician",
    "build_travel",
    "build_visit",
    "check_unique",
    "ends_of_day",
    "field_errors",
    "load_json",
    "parse_problem",
    "parse_stored_day",
    "pydantic_errors",
    "quoted",
    "read_wire",
    "time_zone",
]

#: Deepest nesting of arrays and objects a JSON document may have. The contract's own
#: documents nest 5 deep (a break inside ``technicians``, a location inside a new visit's
#: event); far deeper is no day but an attack on the parser, whose recursion it would exhaust
#: (a ``RecursionError``), and is refused before parsing.
MAX_JSON_DEPTH = 64

#: The largest entry of an explicit travel matrix, in minutes or km. Far beyond any day, and
#: small enough that every sum the engine makes of them stays a whole number of seconds or
#: metres: 1e300 km became stops of -9.2e15 km (an integer cast overflowed).
MAX_MATRIX_VALUE = 1_000_000

_PRIORITIES = {priority.label: priority for priority in Priority}
_Wire = TypeVar("_Wire", bound=BaseModel)
#: A JSON string, escapes included; one left open runs to the end (a syntax error for
#: ``json.loads`` to name), so a match never fails and the scan stays linear.
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_BRACKET_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
#: Keys whose value names the entity of an error: a visit's or technician's id, an event's.
_ID_KEYS = ("id", "visit_id", "technician_id")


def load_json(raw: str | bytes, *, what: str = "problem") -> Any:
    """Parse JSON text, turning every way it can fail into an ``InputError``.

    Bytes are decoded as ``json.loads`` decodes them (UTF-8, or UTF-16/32 found by their
    first bytes). Nesting is measured before parsing, in one pass over the text, and refused
    beyond ``MAX_JSON_DEPTH``.

    Raises
    ------
    InputError
        Not UTF-8 text, nesting deeper than ``MAX_JSON_DEPTH``, a syntax error (with its
        line and column), or a key given twice in one object (named).
    """
    try:
        text = (
            raw.decode(json.detect_encoding(raw), "surrogatepass")
            if isinstance(raw, bytes)
            else raw
        )
    except UnicodeDecodeError as error:
        raise InputError([FieldError("", f"not UTF-8 text: {error.reason}")], what=what) from error
    if _json_depth(text) > MAX_JSON_DEPTH:
        message = f"nests deeper than {MAX_JSON_DEPTH} levels of arrays and objects"
        raise InputError([FieldError("", message)], what=what)
    try:
        return json.loads(text, object_pairs_hook=_once_each)
    except _RepeatedKeyError as error:
        message = (
            f"{error.key!r} is given twice in one object (the second would silently win): "
            "give each field once"
        )
        raise InputError([FieldError(error.key, message)], what=what) from error
    except json.JSONDecodeError as error:
        message = f"not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}"
        raise InputError([FieldError("", message)], what=what) from error
    except ValueError as error:  # an integer of more digits than Python converts (4300)
        message = f"not valid JSON: {str(error).partition(';')[0]}"
        raise InputError([FieldError("", message)], what=what) from error


class _RepeatedKeyError(ValueError):
    """A key given twice in one JSON object."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _once_each(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object's pairs as a dict, each key once: ``json.loads`` keeps a repeated key's
    last value without a word (``"visits"`` twice stored a day of the second list alone, a
    delay's ``"minutes": 5, "minutes": 600`` held the technician 600)."""
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise _RepeatedKeyError(key)
        found[key] = value
    return found


def _json_depth(text: str) -> int:
    """How deep arrays and objects nest in JSON ``text``, brackets inside strings aside.

    Linear in the length of ``text``, and never recursive: strings are cut out and the
    brackets left are counted by the regular-expression engine and ``itertools``, in C.
    """
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    return max(accumulate(map(_BRACKET_STEP.__getitem__, brackets)), default=0)


def parse_problem(raw: str | bytes | Mapping[str, Any], *, stored: bool = False) -> Problem:
    """Validate a problem given as JSON text or as decoded JSON and return the domain value.

    ``stored``: a day the store already holds, read with lenient types (``"30"`` or ``true``
    for a number, as accepted before types were strict), so that no stored day becomes
    unreadable; every other rule holds as for a day sent now.

    Raises
    ------
    InputError
        Listing every problem found, each with its path and entity id.
    """
    data = load_json(raw) if isinstance(raw, str | bytes) else raw
    try:
        wire = read_wire(data, ProblemIn, stored=stored)
    except InputError as error:
        raise InputError([*error.errors, *_day_and_zone(data, error.errors)]) from None
    errors: list[FieldError] = (
        [] if stored else [*addressless(wire.technicians), *ends_of_day(wire.visits)]
    )
    problem = _build(wire, errors)
    if errors or problem is None:
        raise InputError(errors)
    return problem


def parse_stored_day(raw: Mapping[str, Any], *, plan_id: str, version: int) -> Problem:
    """The day a plan version was made from, read as the store holds it
    (``parse_problem(stored=True)``).

    Raises
    ------
    InputError
        The stored day breaks a rule added since it was stored (two breaks that cannot follow
        each other, a matrix value over the cap): named as that plan's stored day, with what to
        do, not as a problem the caller sent.
    """
    try:
        return parse_problem(raw, stored=True)
    except InputError as error:
        what = (
            f"stored day of plan {plan_id} version {version}, which a rule added since it was "
            "stored refuses (send the day again as a new problem and plan it)"
        )
        raise InputError(error.errors, what=what) from None


def read_wire(
    raw: str | bytes | Mapping[str, Any], model: type[_Wire], *, stored: bool = False
) -> _Wire:
    """``raw`` (JSON text or decoded JSON) read as the wire schema ``model``: its shapes and
    types, with the lenient types of a stored problem when ``stored``.

    Raises
    ------
    InputError
        Listing every problem pydantic found, each with its path and entity id.
    """
    data = load_json(raw) if isinstance(raw, str | bytes) else raw
    if not isinstance(data, Mapping):
        raise InputError([FieldError("", "a problem must be a JSON object")])
    try:
        return model.model_validate(data, strict=False if stored else None)
    except ValidationError as error:
        raise InputError(pydantic_errors(error, data)) from error


def pydantic_errors(error: ValidationError, data: Any) -> list[FieldError]:
    """Translate pydantic errors into ``FieldError`` with ``visits[3].window.end`` paths and ids.

    The path is the one in ``data`` (the tag pydantic adds for a member of a tagged union, as
    in ``events[0].delay.minutes``, is left out), the id is the nearest one along it. Paths,
    ids and messages are printable whatever was sent: an unpaired surrogate in a key or an id
    is written as its escape (``\\ud800``), never as itself.
    """
    return field_errors(error.errors(), data)


def quoted(value: Any) -> str:
    """``value`` as an error message quotes it: its ``repr``, cut short past
    ``_SHOWN_CHARACTERS`` (a megabyte sent back in the answer is no help)."""
    text = repr(value)
    if len(text) <= _SHOWN_CHARACTERS:
        return text
    return f"{text[:_SHOWN_CHARACTERS]}… ({len(text)} characters)"


#: How much of a bad value an error message quotes.
_SHOWN_CHARACTERS = 80

#: What a date's or a moment's pattern asks for, in words.
_DATES = {
    DATE_PATTERN: "a date YYYY-MM-DD of the years 1900-2999",
    MOMENT_PATTERN: "a local moment YYYY-MM-DDTHH:MM of the years 1900-2999",
}


def field_errors(errors: Iterable[Mapping[str, Any]], data: Any) -> list[FieldError]:
    """``pydantic_errors`` of pydantic's error dicts (``ValidationError.errors()``, or those
    a framework collected, each ``loc`` relative to ``data``) rather than of the exception."""
    found: list[FieldError] = []
    for item in errors:
        location, entity_id, node = _locate(data, item["loc"])
        if location and location[-1] == "[key]":  # pydantic's mark of a bad key: the key's path
            location = location[:-1]
        value = item.get("input")
        if item["type"] == "extra_forbidden":
            message = f"unknown key '{location[-1]}'"
            if _on_a_visit(location):
                message += " (free text belongs in 'notes')"
        elif item["type"] == "string_pattern_mismatch" and "24:00" in str(item.get("ctx")):
            message = f"{item['input']!r} is not a time HH:MM"
        elif item["type"] == "string_pattern_mismatch" and item["ctx"]["pattern"] in _DATES:
            message = f"{item['input']!r} is not {_DATES[item['ctx']['pattern']]}"
        elif item["type"] == "missing":
            message = "is required"
        elif item["type"] == "too_long" and isinstance(value, str):
            limit = item.get("ctx", {}).get("max_length")
            message = f"at most {limit} characters (got {len(value)})"
        elif item["type"] == "too_long" and isinstance(value, list):
            limit = item.get("ctx", {}).get("max_length")
            message = f"at most {limit:,} entries (got {len(value):,})"
        elif item["type"] == "too_short" and isinstance(value, str):
            least = item.get("ctx", {}).get("min_length", 1)
            message = "must not be empty" if least == 1 else f"at least {least} characters"
        elif item["type"] in ("unpaired_surrogate", "string_unicode") and isinstance(value, str):
            message = UNPAIRED_SURROGATE.format(code=unpaired_surrogate(value) or "?")
            if isinstance(node, Mapping) and value in node:  # a key, not a value
                message = f"key {value!r} {message}"
        else:
            message = f"{item['msg'].removeprefix('Value error, ')} (got {quoted(value)})"
        found.append(
            FieldError(
                _printable(_path(location)),
                _printable(message),
                None if entity_id is None else _printable(entity_id),
            )
        )
    return found


def _on_a_visit(location: Sequence[int | str]) -> bool:
    """Whether a key at ``location`` sits on a visit (of the day, or of a ``new_visit``
    event): the one object with ``notes`` for free text."""
    parent = location[:-1]
    return bool(parent) and (parent[-1] == "visit" or (len(parent) >= 2 and parent[-2] == "visits"))


def _printable(text: str) -> str:
    """``text`` with each unpaired surrogate written as its escape, so UTF-8 can carry it."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _path(location: Sequence[int | str]) -> str:
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def _locate(
    data: Any, location: Sequence[int | str]
) -> tuple[tuple[int | str, ...], str | None, Any]:
    """Follow a pydantic error's location through ``data``: the location without union tags,
    the id nearest to the error along it (a technician's, a visit's, an event's) and the value
    found there (``None`` when the location leaves ``data``)."""
    kept: list[int | str] = []
    entity_id: str | None = None
    node = data
    for part in (*location, None):
        if isinstance(node, Mapping):
            value = next((node[key] for key in _ID_KEYS if key in node), None)
            if isinstance(value, str | int) and not isinstance(value, bool):
                entity_id = str(value)
        if part is None:
            break
        if isinstance(node, Mapping):
            if isinstance(part, str) and part not in node and node.get("type") == part:
                continue  # the tag pydantic puts in the location of a tagged union's member
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            node = None
        kept.append(part)
    return tuple(kept), entity_id, node


class Scope:
    """Collects errors for one entity, prefixing its path and id."""

    def __init__(self, errors: list[FieldError], path: str, entity_id: str | None) -> None:
        self.errors, self.path, self.entity_id = errors, path, entity_id

    def add(self, field: str, message: str) -> None:
        path = f"{self.path}.{field}" if field else self.path
        self.errors.append(FieldError(path, message, self.entity_id))


#: Files of the zone database that are no place's time: ``localtime`` is whatever the host is
#: set to (a stored day would mean another time on another machine), ``posixrules`` a template
#: and ``Factory`` a placeholder.
_NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})


def time_zone(name: str, errors: list[FieldError]) -> ZoneInfo | None:
    """The IANA time zone ``name``; ``None`` with an error on ``timezone`` when there is none
    (a region's folder such as ``Europe`` or an over-long name too: the zone database reads
    them as files, and ``IsADirectoryError`` had been a 500)."""
    try:
        if name in _NOT_ZONES:
            raise ZoneInfoNotFoundError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        errors.append(
            FieldError(
                "timezone",
                f"unknown time zone {name!r} (use an IANA name such as 'Asia/Shanghai')",
            )
        )
        return None


def _plan_date(text: str, errors: list[FieldError]) -> date | None:
    """The day ``text`` names; ``None`` with an error on ``date`` when it names none."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors.append(FieldError("date", f"{text!r} is not a date YYYY-MM-DD"))
        return None


def _day_and_zone(data: Any, found: Sequence[FieldError]) -> list[FieldError]:
    """The errors of the ``date`` and ``timezone`` of a problem whose shape was refused
    (``found``): read only once the shape was mended, a bad date and zone showed up on a second
    try, where every problem of the file is listed at once."""
    errors: list[FieldError] = []
    named = {error.path for error in found}
    if isinstance(data, Mapping):
        if isinstance(data.get("date"), str) and "date" not in named:
            _plan_date(data["date"], errors)
        if isinstance(data.get("timezone"), str) and "timezone" not in named:
            time_zone(data["timezone"], errors)
    return errors


def _build(wire: ProblemIn, errors: list[FieldError]) -> Problem | None:
    day = _plan_date(wire.date, errors)
    zone = time_zone(wire.timezone, errors)
    policy = build_policy(wire.policy, errors)
    travel = build_travel(wire.travel, errors)
    check_unique(wire.technicians, "technicians", errors)
    check_unique(wire.visits, "visits", errors)
    if day is None or zone is None:
        return None
    matrix_size = len(travel.durations_min) if travel else None
    technicians = tuple(
        build_technician(row, Scope(errors, f"technicians[{i}]", row.id), day, zone, matrix_size)
        for i, row in enumerate(wire.technicians)
    )
    known = {row.id for row in wire.technicians}
    visits = tuple(
        build_visit(
            row, Scope(errors, f"visits[{i}]", row.id), day, zone, policy, matrix_size, known
        )
        for i, row in enumerate(wire.visits)
    )
    depots = build_depots(wire.depots, errors, day, zone, matrix_size)
    return Problem(
        date=day,
        timezone=zone,
        policy=policy,
        technicians=technicians,
        visits=visits,
        travel=travel,
        depots=depots,
    )


def build_parts(
    rows: Sequence[PartIn | StockIn], scope: Scope, field: str
) -> tuple[PartQuantity, ...]:
    """The parts of ``rows`` (a visit's needs, a van's or a depot's stock), one entry per part
    number: a part listed twice is an error at the second entry."""
    seen: dict[str, int] = {}
    found: list[PartQuantity] = []
    for k, row in enumerate(rows):
        if row.part in seen:
            scope.add(
                f"{field}[{k}].part",
                f"part {row.part!r} is listed twice (already at {field}[{seen[row.part]}])",
            )
            continue
        seen[row.part] = k
        found.append(PartQuantity(row.part, row.quantity))
    return tuple(found)


def _arrival(row: PartArrivalIn, scope: Scope, field: str, zone: ZoneInfo) -> PartArrival | None:
    try:
        moment = local_moment(datetime.fromisoformat(row.at), zone)
    except ValueError:
        scope.add(f"{field}.at", f"{row.at!r} is not a moment YYYY-MM-DDTHH:MM")
        return None
    return PartArrival(row.part, row.quantity, moment)


def build_depots(
    rows: Sequence[DepotIn],
    errors: list[FieldError],
    day: date,
    zone: ZoneInfo,
    matrix_size: int | None,
) -> tuple[Depot, ...]:
    """The depots of a day (spare parts): ids unique, opening hours in order, each part
    listed once in a depot's stock; problems go to ``errors``."""
    counts = Counter(row.id for row in rows)
    depots: list[Depot] = []
    for i, row in enumerate(rows):
        scope = Scope(errors, f"depots[{i}]", row.id)
        if counts[row.id] > 1 and next(j for j, o in enumerate(rows) if o.id == row.id) != i:
            scope.add("id", "duplicate id, already used by another depot")
        site = _site(
            scope, row.location, row.location_index, "location", "location_index", matrix_size
        )
        opening = _window(scope, "opening", row.opening, day, zone)
        arrivals = tuple(
            found
            for k, arrival in enumerate(row.arrivals)
            if (found := _arrival(arrival, scope, f"arrivals[{k}]", zone)) is not None
        )
        depots.append(
            Depot(
                id=DepotId(row.id),
                site=site,
                opening=opening,
                stock=build_parts(row.stock, scope, "stock"),
                arrivals=arrivals,
                handling=minutes_to_duration(row.handling_min),
            )
        )
    return tuple(depots)


#: Why an appointment (or a report) at 24:00 is refused (``ends_of_day``).
END_OF_DAY = "'24:00' ends the day: give a time from 00:00 to 23:59"


def ends_of_day(visits: Sequence[VisitIn]) -> list[FieldError]:
    """An error for each visit whose appointment (or report, of a day) is ``24:00``: the
    end of the day starts nothing in it (an appointment at 24:00 was named "at 00:00", the
    day's start). Only for a day sent now: a stored day is read as it was accepted."""
    return [
        FieldError(
            f"visits[{i}].{field}",
            END_OF_DAY,
            visit.id,
        )
        for i, visit in enumerate(visits)
        for field in ("appointment", "reported_at")
        if getattr(visit, field) == "24:00"
    ]


def addressless(technicians: Sequence[TechnicianIn]) -> list[FieldError]:
    """An error for each technician whose id holds a ``/`` or is ``.`` or ``..``: their
    route's address (``/v1/plans/{plan_id}/routes/{technician_id}``) could never name them
    (clients drop dot segments: ``..`` read the whole plan), so they would have no route,
    link or page for their phone. Only for a day sent now: a stored day is read as it was
    accepted."""
    return [
        FieldError(
            f"technicians[{i}].id",
            "may not hold '/' nor be '.' or '..': a driver's route is addressed by it",
            technician.id,
        )
        for i, technician in enumerate(technicians)
        if "/" in technician.id or technician.id in {".", ".."}
    ]


def check_unique(
    rows: Sequence[TechnicianIn | VisitIn | RoundIn], name: str, errors: list[FieldError]
) -> None:
    """An error for every row whose id an earlier row of ``name`` already used."""
    counts = Counter(row.id for row in rows)
    for i, row in enumerate(rows):
        if counts[row.id] > 1:
            first = next(j for j, other in enumerate(rows) if other.id == row.id)
            if first != i:
                errors.append(
                    FieldError(
                        f"{name}[{i}].id", f"duplicate id, already used by {name}[{first}]", row.id
                    )
                )


def build_policy(wire: PolicyIn, errors: list[FieldError]) -> Policy:
    """The domain policy of ``wire``; problems go to ``errors``."""
    near, far = wire.early_arrival_min
    if not 0 <= near <= far:
        errors.append(
            FieldError(
                "policy.early_arrival_min",
                f"[{near}, {far}] must be two minutes with 0 <= first <= second",
            )
        )
    speeds = wire.travel.speed_kmh
    distances = [km for km, _ in speeds]
    if distances != sorted(distances) or any(kmh <= 0 for _, kmh in speeds) or distances[0] < 0:
        errors.append(
            FieldError(
                "policy.travel.speed_kmh", "points must have increasing km >= 0 and speeds > 0"
            )
        )
    return Policy(
        early_band=(minutes_to_duration(near), minutes_to_duration(far)),
        appointment_start=wire.appointment_start,
        service_radius_km=wire.service_radius_km,
        time_limit_s=wire.time_limit_s,
        stall_share=wire.stall_share,
        urgent_response=minutes_to_duration(wire.urgent_response_min),
        preferred_technician_bonus=minutes_to_duration(wire.preferred_technician_min),
        travel=TravelSettings(
            provider=wire.travel.provider,
            snap_limit_m=wire.travel.snap_limit_m,
            circuity=wire.travel.circuity,
            speed_kmh=tuple(speeds),
        ),
        promise_width=minutes_to_duration(wire.promise_window_min),
        notify_tolerance=minutes_to_duration(wire.notify_tolerance_min),
        reassign_cost=minutes_to_duration(wire.reassign_cost_min),
        replan_time_limit_s=wire.replan_time_limit_s,
        general_response=timedelta(hours=wire.general_response_h),
    )


def build_travel(travel: TravelIn | None, errors: list[FieldError]) -> TravelMatrix | None:
    """The explicit matrices of ``travel``, checked square; problems go to ``errors``."""
    if travel is None:
        return None
    size = len(travel.durations_min)
    if travel.locations and len(travel.locations) != size:
        errors.append(
            FieldError(
                "travel.locations", f"has {len(travel.locations)} entries, the matrices {size}"
            )
        )
    matrices = [("durations_min", travel.durations_min)]
    if travel.distances_km is not None:
        matrices.append(("distances_km", travel.distances_km))
    for name, matrix in matrices:
        if len(matrix) != size:
            errors.append(FieldError(f"travel.{name}", f"has {len(matrix)} rows, expected {size}"))
        for i, row in enumerate(matrix):
            if len(row) != size:
                errors.append(
                    FieldError(
                        f"travel.{name}[{i}]",
                        f"has {len(row)} columns, expected {size} (the matrix must be square)",
                    )
                )
            if any(value < 0 for value in row):
                errors.append(FieldError(f"travel.{name}[{i}]", "has a negative value"))
            if any(value > MAX_MATRIX_VALUE for value in row):
                errors.append(
                    FieldError(
                        f"travel.{name}[{i}]",
                        f"has a value above {MAX_MATRIX_VALUE:,} (a pair no one can drive "
                        "between needs no more: it is longer than any day)",
                    )
                )
    return TravelMatrix(
        durations_min=tuple(tuple(row) for row in travel.durations_min),
        distances_km=tuple(tuple(row) for row in travel.distances_km)
        if travel.distances_km
        else None,
        locations=tuple(
            LatLon(place.lat, place.lon) if place is not None else None
            for place in travel.locations
        ),
    )


def _site(
    scope: Scope,
    location: LocationIn | None,
    index: int | None,
    field: str,
    index_field: str,
    matrix_size: int | None,
    address: str = "",
) -> Site:
    if index is not None:
        if matrix_size is None:
            scope.add(index_field, "given but the problem has no 'travel' matrix")
        elif index >= matrix_size:
            scope.add(index_field, f"{index} is outside the travel matrix (size {matrix_size})")
    elif location is None:
        scope.add(field, "is required (or a location_index into the 'travel' matrix)")
    elif matrix_size is not None:
        scope.add(index_field, "is required when the problem has a 'travel' matrix")
    point = LatLon(location.lat, location.lon) if location else None
    return Site(
        location=point,
        matrix_index=index,
        address=address or (location.address or "" if location else ""),
    )


def _window(
    scope: Scope, field: str, window: WindowIn | BreakIn, day: date, zone: ZoneInfo
) -> TimeWindow:
    start = clock_to_datetime(window.start, day, zone)
    end = clock_to_datetime(window.end, day, zone)
    if end < start:
        skipped = (
            ""
            if format_clock(start) == window.start
            else (
                f" ({window.start} is skipped by the clock change that day: it reads as "
                f"{format_clock(start)})"
            )
        )
        scope.add(f"{field}.end", f"{window.end} is before start {window.start}{skipped}")
    return TimeWindow(start, end)


def _capacity(raw: CapacityIn | None) -> Capacity:
    return Capacity(raw.weight_kg, raw.volume_m3) if raw else Capacity()


def build_technician(
    row: TechnicianIn, scope: Scope, day: date, zone: ZoneInfo, matrix_size: int | None
) -> Technician:
    """The technician of ``row`` working on ``day``; problems go to ``scope``."""
    start = _site(scope, row.start, row.location_index, "start", "location_index", matrix_size)
    if row.end is None and row.end_location_index is None:
        end = start
    else:
        end = _site(
            scope,
            row.end or (row.start if row.end_location_index is None else None),
            row.end_location_index if row.end_location_index is not None else row.location_index,
            "end",
            "end_location_index",
            matrix_size,
        )
    shift = _window(scope, "shift", row.shift, day, zone)
    if shift.end == shift.start:
        scope.add("shift.end", f"{row.shift.end} equals the start: the shift is empty")
    breaks = []
    for i, raw in enumerate(row.breaks):
        window = _window(scope, f"breaks[{i}]", raw, day, zone)
        duration = minutes_to_duration(raw.duration_min)
        if elapsed(window.start, window.end) < duration:
            scope.add(
                f"breaks[{i}].duration_min",
                f"{raw.duration_min:g} min does not fit in its window {raw.start}-{raw.end}",
            )
        if window.start < shift.start or window.end > shift.end:
            scope.add(
                f"breaks[{i}]",
                f"window {raw.start}-{raw.end} is outside the shift "
                f"{row.shift.start}-{row.shift.end}",
            )
        breaks.append(Break(window, duration))
    _check_breaks_in_turn(scope, row.breaks, breaks)
    return Technician(
        id=TechnicianId(row.id),
        name=row.name,
        skills=frozenset(row.skills),
        start=start,
        end=end,
        shift=shift,
        breaks=tuple(breaks[i] for i in _in_turn_order(breaks)),
        crew_size=row.crew_size,
        capacity=_capacity(row.capacity),
        service_radius_km=row.service_radius_km,
        phone=row.phone or "",
        unavailable_from=clock_to_datetime(row.unavailable_from, day, zone)
        if row.unavailable_from
        else None,
        van_stock=build_parts(row.van_stock, scope, "van_stock"),
    )


def _check_breaks_in_turn(scope: Scope, rows: Sequence[BreakIn], breaks: Sequence[Break]) -> None:
    """Breaks are taken one after another, never overlapping, in an order that leaves each
    room (``_in_turn_order``): when none does, the break its turn by the windows' opening
    leaves no room for is refused, naming the break before it."""
    order = _in_turn_order(breaks)
    free = None
    for before, i in zip([None, *order], order, strict=False):
        if _latest(breaks[i]) < breaks[i].window.start:
            return  # its duration does not fit its window: said already
        start = breaks[i].window.start if free is None else max(free, breaks[i].window.start)
        if before is not None and start > _latest(breaks[i]):
            earlier, later = rows[before], rows[i]
            scope.add(
                f"breaks[{i}]",
                f"{later.duration_min:g} min in {later.start}-{later.end} cannot follow "
                f"breaks[{before}] ({earlier.duration_min:g} min in {earlier.start}-"
                f"{earlier.end}): a technician's breaks are taken one after another",
            )
            return
        free = shifted(start, breaks[i].duration)


#: Up to this many breaks a technician, every order is tried (``solver.instance``'s
#: ``MAX_PERMUTED_BREAKS``: the two must agree).
PERMUTED_BREAKS = 6


def _in_turn_order(breaks: Sequence[Break]) -> list[int]:
    """The indices of ``breaks`` in the order they are taken: their windows' opening, then
    their latest start, when all can be taken that way; else the first order that can: by
    latest start, then any (up to ``PERMUTED_BREAKS``). A tea break of 12:30-12:45 inside
    a lunch window of 12:00-14:00 comes first. ``solver.instance.turn_order``'s rule, on clock
    times."""
    n = len(breaks)
    by_opening = sorted(range(n), key=lambda i: (breaks[i].window.start, _latest(breaks[i])))
    by_latest = sorted(range(n), key=lambda i: (_latest(breaks[i]), breaks[i].window.start))
    tries = chain(
        (by_opening, by_latest),
        permutations(by_opening) if n <= PERMUTED_BREAKS else (),
    )
    return list(next((order for order in tries if _can_take(breaks, order)), by_opening))


def _can_take(breaks: Sequence[Break], order: Sequence[int]) -> bool:
    """Whether ``breaks`` can all be taken in ``order``, each as soon as the one before ends."""
    free: datetime | None = None
    for i in order:
        start = breaks[i].window.start if free is None else max(free, breaks[i].window.start)
        if start > _latest(breaks[i]):
            return False
        free = shifted(start, breaks[i].duration)
    return True


def _latest(rest: Break) -> datetime:
    """The latest start of a break."""
    return shifted(rest.window.end, -rest.duration)


def build_visit(
    row: VisitIn,
    scope: Scope,
    day: date,
    zone: ZoneInfo,
    policy: Policy,
    matrix_size: int | None,
    technicians: set[str],
) -> Visit:
    """The visit of ``row`` with its clock times on ``day``; problems go to ``scope``."""
    site = _site(
        scope,
        row.location,
        row.location_index,
        "location",
        "location_index",
        matrix_size,
        row.address,
    )
    appointment: datetime | None = None
    window: TimeWindow | None = None
    if row.appointment is not None and row.window is not None:
        scope.add("appointment", "give either an appointment or a window, not both")
    if row.appointment is not None:
        appointment = clock_to_datetime(row.appointment, day, zone)
    if row.window is not None:
        window = _window(scope, "window", row.window, day, zone)
    for field, ref in (
        ("technician", row.technician),
        ("preferred_technician", row.preferred_technician),
    ):
        if ref is not None and ref not in technicians:
            scope.add(field, f"unknown technician '{ref}'")
    reported_at = clock_to_datetime(row.reported_at, day, zone) if row.reported_at else None
    deadline = None
    if reported_at is not None and row.priority == "urgent":
        deadline = shifted(reported_at, policy.urgent_response)
    demand = row.demand or CapacityIn()
    return Visit(
        id=VisitId(row.id),
        site=site,
        duration=minutes_to_duration(row.duration_min),
        kind=row.kind,
        customer=row.customer,
        phone=row.phone,
        appointment=appointment,
        window=window,
        required_skills=frozenset(row.required_skills),
        priority=_PRIORITIES[row.priority],
        crew_size=row.crew_size,
        demand=Demand(demand.weight_kg or 0.0, demand.volume_m3 or 0.0),
        pinned_to=TechnicianId(row.technician) if row.technician else None,
        preferred=TechnicianId(row.preferred_technician) if row.preferred_technician else None,
        notes=row.notes,
        reported_at=reported_at,
        deadline=deadline,
        parts=build_parts(row.parts, scope, "parts"),
    )
