"""A day from spreadsheets: a technicians sheet and a visits sheet (CSV or Excel, or one
workbook with both) turned into the contract's problem JSON, with every error naming the
sheet, the row as the spreadsheet shows it (the header is row 1) and the column."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

import pandas as pd

from dispatch.errors import FieldError, InputError
from dispatch.validate import parse_problem

__all__ = ["problem_from_sheets", "read_table", "read_workbook"]

_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")


@dataclass(frozen=True, slots=True)
class _Column:
    """Where a column's value goes in the row's JSON, and how its text is read."""

    path: tuple[str, ...]
    read: Callable[[str], Any]


def _text(value: str) -> str:
    return value


def _number(value: str) -> float:
    try:
        return float(value.replace(",", "."))
    except ValueError:
        raise ValueError(f"{value!r} is not a number") from None


def _integer(value: str) -> int:
    number = _number(value)
    if not number.is_integer():
        raise ValueError(f"{value!r} is not a whole number")
    return int(number)


def _clock(value: str) -> str:
    match = _TIME.match(value)
    if not match or (match.group(3) not in (None, "00")):
        raise ValueError(f"{value!r} is not a time HH:MM")
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def _names(value: str) -> list[str]:
    return [part.strip() for part in re.split(r"[;,]", value) if part.strip()]


TECHNICIAN_COLUMNS: dict[str, _Column] = {
    "id": _Column(("id",), _text),
    "name": _Column(("name",), _text),
    "skills": _Column(("skills",), _names),
    "start_lat": _Column(("start", "lat"), _number),
    "start_lon": _Column(("start", "lon"), _number),
    "start_address": _Column(("start", "address"), _text),
    "end_lat": _Column(("end", "lat"), _number),
    "end_lon": _Column(("end", "lon"), _number),
    "end_address": _Column(("end", "address"), _text),
    "shift_start": _Column(("shift", "start"), _clock),
    "shift_end": _Column(("shift", "end"), _clock),
    "break_start": _Column(("breaks", "start"), _clock),
    "break_end": _Column(("breaks", "end"), _clock),
    "break_duration_min": _Column(("breaks", "duration_min"), _number),
    "crew_size": _Column(("crew_size",), _integer),
    "capacity_weight_kg": _Column(("capacity", "weight_kg"), _number),
    "capacity_volume_m3": _Column(("capacity", "volume_m3"), _number),
    "service_radius_km": _Column(("service_radius_km",), _number),
    "phone": _Column(("phone",), _text),
}
VISIT_COLUMNS: dict[str, _Column] = {
    "id": _Column(("id",), _text),
    "customer": _Column(("customer",), _text),
    "address": _Column(("address",), _text),
    "phone": _Column(("phone",), _text),
    "lat": _Column(("location", "lat"), _number),
    "lon": _Column(("location", "lon"), _number),
    "kind": _Column(("kind",), _text),
    "duration_min": _Column(("duration_min",), _number),
    "appointment": _Column(("appointment",), _clock),
    "window_start": _Column(("window", "start"), _clock),
    "window_end": _Column(("window", "end"), _clock),
    "required_skills": _Column(("required_skills",), _names),
    "priority": _Column(("priority",), _text),
    "crew_size": _Column(("crew_size",), _integer),
    "demand_weight_kg": _Column(("demand", "weight_kg"), _number),
    "demand_volume_m3": _Column(("demand", "volume_m3"), _number),
    "technician": _Column(("technician",), _text),
    "preferred_technician": _Column(("preferred_technician",), _text),
    "notes": _Column(("notes",), _text),
    "reported_at": _Column(("reported_at",), _clock),
}
_REQUIRED = {"technicians": ("id", "shift_start", "shift_end"), "visits": ("id", "duration_min")}
#: Columns that make one object together: all or none.
_TOGETHER = {
    "technicians": (("break_start", "break_end", "break_duration_min"),),
    "visits": (("window_start", "window_end"), ("lat", "lon")),
}


def _unreadable(sheet: str, why: str) -> InputError:
    return InputError([FieldError(f"{sheet} sheet", why)], what="upload")


def _tidy(frame: pd.DataFrame, sheet: str) -> pd.DataFrame:
    frame = frame.rename(columns=lambda name: str(name).strip().lower())
    frame = frame.map(lambda cell: str(cell).strip())
    if frame.empty:
        raise _unreadable(sheet, "has no rows under its header")
    return frame


def read_table(filename: str, content: bytes, *, sheet: str) -> pd.DataFrame:
    """One sheet from a CSV (``,`` or ``;``, UTF-8 with or without BOM) or an Excel file (its
    sheet named ``sheet``, else its first), every cell as stripped text."""
    suffix = PurePath(filename).suffix.lower()
    try:
        if suffix in (".csv", ".txt"):
            text = content.decode("utf-8-sig")
            delimiter = csv.Sniffer().sniff(text.splitlines()[0], delimiters=",;\t").delimiter
            frame = pd.read_csv(
                io.StringIO(text),
                sep=delimiter,
                dtype=str,
                keep_default_na=False,
                skip_blank_lines=False,  # row numbers must match what the user sees
            )
        elif suffix in (".xlsx", ".xlsm"):
            book = pd.read_excel(
                io.BytesIO(content), sheet_name=None, dtype=str, keep_default_na=False
            )
            named = {str(name).strip().lower(): frame for name, frame in book.items()}
            frame = named.get(sheet, next(iter(book.values())))
        else:
            raise _unreadable(sheet, f"{filename}: send a .csv or .xlsx file")
    except InputError:
        raise
    except (UnicodeDecodeError, csv.Error, IndexError):
        raise _unreadable(sheet, f"{filename} is not a UTF-8 CSV file") from None
    except Exception as error:  # pandas and openpyxl raise many kinds on a damaged file
        raise _unreadable(sheet, f"{filename} cannot be read ({type(error).__name__})") from None
    return _tidy(frame, sheet)


def read_workbook(filename: str, content: bytes) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``technicians`` and ``visits`` sheets of one Excel workbook."""
    if PurePath(filename).suffix.lower() not in (".xlsx", ".xlsm"):
        raise _unreadable("workbook", f"{filename}: a workbook must be an .xlsx file")
    try:
        book = pd.read_excel(io.BytesIO(content), sheet_name=None, dtype=str, keep_default_na=False)
    except Exception as error:  # a damaged or foreign file
        raise _unreadable(
            "workbook", f"{filename} cannot be read ({type(error).__name__})"
        ) from None
    named = {str(name).strip().lower(): frame for name, frame in book.items()}
    missing = [name for name in ("technicians", "visits") if name not in named]
    if missing:
        raise _unreadable("workbook", f"{filename} has no sheet named {' or '.join(missing)}")
    return _tidy(named["technicians"], "technicians"), _tidy(named["visits"], "visits")


def _where(sheet: str, row: int | None = None, column: str | None = None) -> str:
    parts = [f"{sheet} sheet"]
    if row is not None:
        parts.append(f"row {row}")
    if column is not None:
        parts.append(f"column {column}")
    return ", ".join(parts)


def _rows(
    frame: pd.DataFrame, sheet: str, columns: Mapping[str, _Column], errors: list[FieldError]
) -> list[tuple[int, dict[str, Any]]]:
    """``(spreadsheet row, JSON object)`` for each non-empty row."""
    unknown = [name for name in frame.columns if name not in columns]
    for name in unknown:
        known = ", ".join(columns)
        errors.append(FieldError(_where(sheet, column=name), f"unknown column; known: {known}"))
    for name in _REQUIRED[sheet]:
        if name not in frame.columns:
            errors.append(FieldError(_where(sheet, column=name), "is required"))
    rows = []
    for position, cells in enumerate(frame.to_dict("records"), start=2):
        values = {name: cells[name] for name in frame.columns if name in columns}
        if not any(values.values()):
            continue
        entity = values.get("id") or None
        target: dict[str, Any] = {}
        for name, value in values.items():
            if not value:
                continue
            column = columns[name]
            try:
                parsed = column.read(value)
            except ValueError as error:
                errors.append(FieldError(_where(sheet, position, name), str(error), entity))
                continue
            node = target
            for key in column.path[:-1]:
                node = node.setdefault(key, {})
            node[column.path[-1]] = parsed
        for group in _TOGETHER[sheet]:
            given = [name for name in group if values.get(name)]
            if given and len(given) < len(group):
                absent = [name for name in group if name not in given]
                message = f"needs {', '.join(absent)} too"
                errors.append(FieldError(_where(sheet, position, given[0]), message, entity))
        if isinstance(target.get("breaks"), dict):
            target["breaks"] = [target["breaks"]]
        if "address" in target and isinstance(target.get("location"), dict):
            target["location"]["address"] = target["address"]
        rows.append((position, target))
    return rows


def _column_of(sheet: str, parts: list[str]) -> str | None:
    """The column a wire path inside one row comes from, e.g. ``shift.end`` → ``shift_end``."""
    columns = TECHNICIAN_COLUMNS if sheet == "technicians" else VISIT_COLUMNS
    keys = [part for part in parts if not part.isdigit()]
    for name, column in columns.items():
        if list(column.path) == keys[: len(column.path)] and len(keys) >= len(column.path):
            return name
    for name, column in columns.items():
        if keys and column.path[0] == keys[0]:
            return name
    return keys[0] if keys else None


def _translate(
    error: FieldError, rows: Mapping[str, list[tuple[int, dict[str, Any]]]]
) -> FieldError:
    match = re.match(r"^(technicians|visits)\[(\d+)\]\.?(.*)$", error.path)
    if not match:
        return error
    sheet, index, rest = match.group(1), int(match.group(2)), match.group(3)
    if index >= len(rows[sheet]):
        return error
    parts = re.findall(r"[A-Za-z_]+|\d+", rest)
    where = _where(sheet, rows[sheet][index][0], _column_of(sheet, parts))
    return FieldError(where, error.message, error.entity_id)


def problem_from_sheets(
    technicians: pd.DataFrame,
    visits: pd.DataFrame,
    *,
    date: str,
    timezone: str = "UTC",
    policy: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The problem JSON of a day given as two sheets, checked like any posted day.

    Raises
    ------
    InputError
        Every problem found, each named by sheet, row and column (and the row's id).
    """
    errors: list[FieldError] = []
    rows = {
        "technicians": _rows(technicians, "technicians", TECHNICIAN_COLUMNS, errors),
        "visits": _rows(visits, "visits", VISIT_COLUMNS, errors),
    }
    if errors:
        raise InputError(errors, what="upload")
    problem: dict[str, Any] = {
        "date": date,
        "timezone": timezone,
        "technicians": [row for _, row in rows["technicians"]],
        "visits": [row for _, row in rows["visits"]],
    }
    if policy:
        problem["policy"] = dict(policy)
    try:
        parse_problem(problem)
    except InputError as error:
        raise InputError([_translate(e, rows) for e in error.errors], what="upload") from None
    return problem
