"""A day from spreadsheets: a technicians sheet and a visits sheet (CSV or Excel, or one
workbook with both) turned into the contract's problem JSON, with every error naming the
sheet, the row as the spreadsheet shows it (the header is row 1) and the column.

Uploads come from anyone with a key, so reading one takes time linear in its size and
bounded by the caps here (``MAX_ROWS``, ``MAX_COLUMNS``, ``MAX_XLSX_UNPACKED_BYTES``,
``MAX_XLSX_ROW_BYTES``): no backtracking regular expression runs over a file (``csv.Sniffer``
did), an Excel file's declared dimension is never trusted, and a file over a cap is refused
with an ``InputError`` naming the sheet and the limit rather than cut short. Nothing here does
I/O or knows HTTP; the caller runs it off the event loop.

A number is digits with at most one decimal mark, ``.`` or ``,``, and no thousands separator
(``1,200`` from a ``#,##0`` cell, ``1.200`` from a European one), space, underscore or
exponent. A mark followed by exactly three digits after one to three others (``1,200``,
``1.200``) could be a thousands separator, so it is read as a decimal mark only where the
file settles it: ``.`` in a ``,``-separated CSV and in an Excel sheet (its number cells are
read that way), ``,`` in a ``;``-separated CSV (what Excel writes where the decimal mark is a
comma); anywhere else (a tab-separated CSV, say) such a number is refused, never guessed.
An Excel formula is read for the value saved with it; one saved without (as openpyxl and
pandas write them) is refused by row and column rather than read as a blank.

An id, a reference to a technician, a skill, a column name, a time, a number or a word of a
list is read as it shows (``dispatch.contract.codes.code_text``): "T01" typed full-width by an
East Asian input method, or pasted with a zero-width space, is "T01". Names, addresses, phones
and notes are kept as typed.

An Excel sheet is read as it shows: a number cell formatted with leading zeros (``00000000000``,
or ``000 0000 0000``, how a sheet keeps a phone number's ``0``) is read with them, and a value
merged down over several rows (a technician's name over the visits of their day) is the value
of each of those rows, in its first column; a date and time formatted to show the time only
(``hh:mm``, as a sum of times past midnight or a time pasted with its date shows) is that time,
without the seconds the format does not show.
"""

from __future__ import annotations

import csv
import io
import math
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from pathlib import PurePath
from typing import Any

import openpyxl  # type: ignore[import-untyped]
import pandas as pd
from openpyxl.styles.numbers import BUILTIN_FORMATS  # type: ignore[import-untyped]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]
from openpyxl.utils.escape import unescape  # type: ignore[import-untyped]
from openpyxl.worksheet._reader import (  # type: ignore[import-untyped]
    FORMULA_TAG,
    WorkSheetParser,
)

from dispatch.contract.codes import code_text
from dispatch.contract.validate import parse_problem, quoted
from dispatch.errors import FieldError, InputError
from dispatch.model import Problem
from dispatch.units import clock_of_offset

__all__ = [
    "MAX_COLUMNS",
    "MAX_ROWS",
    "MAX_XLSX_ROW_BYTES",
    "MAX_XLSX_UNPACKED_BYTES",
    "SheetDay",
    "problem_from_sheets",
    "read_table",
    "read_workbook",
]

#: Most rows a sheet may have under its header: far above a real day (a large service centre
#: plans a few hundred visits), and low enough that a full sheet is read and checked in about
#: a second. A value in any later row is refused; trailing blank rows are ignored. Both a CSV
#: file and an Excel sheet are read to their end (the sheet's XML is bounded by
#: ``MAX_XLSX_UNPACKED_BYTES``; a blank row, however far down, costs nothing).
MAX_ROWS = 10_000
#: Most columns a sheet may have: the known columns are 20 at most, the rest is room for
#: columns of the dispatcher's own (reported as unknown). A value further right is refused.
MAX_COLUMNS = 100
#: Most bytes an Excel file may unpack to, all its parts together, as its zip directory
#: declares them (checked before openpyxl opens it). A 10,000-row sheet of the known columns
#: unpacks to about 8 MB; a zip bomb to gigabytes from kilobytes. openpyxl parses the worst
#: well-formed XML (empty cells) at about 2.5 MB a second, so no file takes more than ~4 s.
MAX_XLSX_UNPACKED_BYTES = 10_000_000
#: Most bytes of XML one spreadsheet row may take: openpyxl holds all the cells of a row at
#: once (about 80 bytes of memory for each byte of empty cells), so a row of millions of cells
#: would take gigabytes; a row of 100 ordinary cells is a few kilobytes.
MAX_XLSX_ROW_BYTES = 1_000_000
#: CSV delimiters, in order of preference when the header splits as well on two.
_DELIMITERS = (",", ";", "\t")
#: The first line Excel writes (and reads) to name a CSV's delimiter, e.g. ``sep=;``.
_SEP_LINE = re.compile(r"^sep=(.)$", re.IGNORECASE)
_EXCEL = (".xlsx", ".xlsm")
#: A number format that pads with zeros and shows nothing else.
_ZEROS = re.compile("0{2,}")
#: What a number format shows literally (quoted text, escaped characters) or as a colour,
#: locale or condition (``[Red]``, ``[$-409]``): none of it a date or time part.
_FORMAT_LITERALS = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]')
#: Where a spreadsheet row starts in worksheet XML, and where its rows end (any prefix).
_ROW_START = re.compile(rb"<(?:[\w.-]{1,64}:)?row\b")
_ROWS_END = re.compile(rb"</(?:[\w.-]{1,64}:)?sheetData>")
#: The longest start of a row tag ``_ROW_START`` matches (``<`` + prefix + ``:row`` + one).
_ROW_TAG_BYTES = 70

#: Why a formula cell saved without its value is refused, and what to do.
_NO_VALUE_MESSAGE = (
    "a formula with no value saved: open and save the file in Excel, or type the value"
)
#: Why a hidden row with values is refused (a filter's, or hidden by hand): the sheet is read as
#: it shows, and a row hidden from the dispatcher was planned all the same (the filtered sheet
#: showed one visit, the day stored had two); dropped, it would be lost unseen.
_HIDDEN_ROW_MESSAGE = "is hidden (a filter, or hidden by hand): show it to plan it, or delete it"
#: What to do about a date in a column of typed text (``_TEXT_COLUMNS``).
_DATE_IN_TEXT_MESSAGE = (
    "Excel turned what was typed into a date (1-2 into 2 January): format the column as Text "
    "and type it again"
)
#: How worksheet XML writes a true attribute.
_TRUE = ("1", "true")
#: What to do about a cell showing an Excel error (``#N/A`` of a lookup that found nothing,
#: ``#REF!``): it was read as that text, a customer named "#N/A".
_ERROR_VALUE_MESSAGE = "fix the formula or type the value"

#: A clock time ``HH:MM`` (seconds ``:00`` allowed), matched after ``code_text`` (the
#: full-width digits and colon a Chinese input method types are ASCII by then).
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s*([AaPp])\.?[Mm]\.?)?$")
#: A number as a sheet may write it: sign, digits, at most one decimal mark (``.`` or ``,``).
_NUMBER = re.compile(r"^([+-]?)(\d*)(?:([.,])(\d+))?$")
#: The integer part of a number whose mark could be a thousands separator (``1,200``).
_THOUSANDS_LEAD = re.compile(r"^[1-9]\d{0,2}$")
#: Where a frame's ``attrs`` keep the decimal mark its file settles ("" for none).
_DECIMAL = "decimal"
#: Where a frame's ``attrs`` list its columns with a blank header (named by their letter).
_UNNAMED = "unnamed"
#: The decimal mark each CSV delimiter settles, and an Excel sheet's.
_DECIMAL_OF_DELIMITER = {",": ".", ";": ",", "\t": ""}
_EXCEL_DECIMAL = "."


@dataclass(frozen=True, slots=True)
class _Column:
    """Where a column's value goes in the row's JSON, and how its text is read (given the
    decimal mark the sheet settles, ``""`` for none)."""

    path: tuple[str, ...]
    read: Callable[[str, str], Any]


def _text(value: str, decimal: str) -> str:
    """Text kept as typed: a name, an address, a note, a phone number."""
    return value


def _code(value: str, decimal: str) -> str:
    """An id or a reference to one, read as the contract reads it (``code_text``): "T01"
    typed full-width by an East Asian input method is "T01"."""
    return code_text(value)


def _number(value: str, decimal: str) -> float:
    """``value`` read as the module docstring says numbers are, ``decimal`` being the mark
    its sheet settles (``""`` for none).

    Raises
    ------
    ValueError
        Not a number so written, or a mark that could be a thousands separator.
    """
    match = _NUMBER.match(code_text(value))
    if match is None or not (match.group(2) or match.group(4)):
        why = "write digits with at most one decimal mark, no thousands separator or space"
        raise ValueError(f"{quoted(value)} is not a number ({why})")
    sign, whole, mark, fraction = match.groups()
    if mark and mark != decimal and len(fraction) == 3 and _THOUSANDS_LEAD.match(whole):
        shown = f"{sign}{whole}{decimal or '.'}{fraction.rstrip('0') or '0'}"
        raise ValueError(
            f"{value!r} may be {sign}{whole}{fraction} or {shown}: "
            "write numbers without a thousands separator"
        )
    return float(f"{sign}{whole or '0'}.{fraction}" if mark else f"{sign}{whole}")


def _integer(value: str, decimal: str) -> int:
    number = _number(value, decimal)
    if not number.is_integer():
        raise ValueError(f"{quoted(value)} is not a whole number")
    return int(number)


def _clock(value: str, decimal: str) -> str:
    """``HH:MM`` of a clock time as a sheet writes it: ``9:00``, ``09:00:00``, or on a
    12-hour clock ``9:00 AM`` (what Excel writes to a CSV from an ``h:mm AM/PM`` cell, read
    as 09:00 from the same workbook)."""
    match = _TIME.match(code_text(value))
    if not match or (match.group(3) is not None and int(match.group(3)) != 0):
        raise ValueError(f"{quoted(value)} is not a time HH:MM")
    hour, minute, half = int(match.group(1)), int(match.group(2)), match.group(4)
    if half is not None:
        if not 1 <= hour <= 12:
            raise ValueError(f"{quoted(value)} is not a time: a 12-hour clock runs 1 to 12")
        hour = hour % 12 + (12 if half in "Pp" else 0)
    return f"{hour:02d}:{minute:02d}"


#: What separates the names of a list cell (skills): commas and semicolons, also as Chinese
#: and Japanese input methods type them (full-width comma U+FF0C and semicolon U+FF1B, the
#: ideographic enumeration comma U+3001), and line breaks (one per line, Alt+Enter in Excel:
#: "air_conditioner⏎water_heater" was one skill of that name, and nobody had it).
_NAME_SEPARATORS = re.compile("[;,\uff0c\uff1b\u3001\r\n]")


def _word(value: str, decimal: str) -> str:
    """A word of a fixed list (a priority, a kind of visit) as a sheet may write it: "Urgent"
    or "REPAIR" was refused, the list being lower case."""
    return code_text(value).lower()


def _names(value: str, decimal: str) -> list[str]:
    """The names of a list cell (skills), each read as a code (``code_text``)."""
    return [part.strip() for part in _NAME_SEPARATORS.split(code_text(value)) if part.strip()]


TECHNICIAN_COLUMNS: dict[str, _Column] = {
    "id": _Column(("id",), _code),
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
    "id": _Column(("id",), _code),
    "customer": _Column(("customer",), _text),
    "address": _Column(("address",), _text),
    "phone": _Column(("phone",), _text),
    "lat": _Column(("location", "lat"), _number),
    "lon": _Column(("location", "lon"), _number),
    "kind": _Column(("kind",), _word),
    "duration_min": _Column(("duration_min",), _number),
    "appointment": _Column(("appointment",), _clock),
    "window_start": _Column(("window", "start"), _clock),
    "window_end": _Column(("window", "end"), _clock),
    "required_skills": _Column(("required_skills",), _names),
    "priority": _Column(("priority",), _word),
    "crew_size": _Column(("crew_size",), _integer),
    "demand_weight_kg": _Column(("demand", "weight_kg"), _number),
    "demand_volume_m3": _Column(("demand", "volume_m3"), _number),
    "technician": _Column(("technician",), _code),
    "preferred_technician": _Column(("preferred_technician",), _code),
    "notes": _Column(("notes",), _text),
    "reported_at": _Column(("reported_at",), _clock),
}
_REQUIRED = {"technicians": ("id", "shift_start", "shift_end"), "visits": ("id", "duration_min")}
#: The columns of each sheet that hold typed text (ids, names, addresses, lists of names):
#: a date in one is what Excel made of the text typed ("1-2" became 2 January), never meant.
_TEXT_COLUMNS = {
    sheet: frozenset(
        name for name, column in columns.items() if column.read in (_text, _code, _names)
    )
    for sheet, columns in (("technicians", TECHNICIAN_COLUMNS), ("visits", VISIT_COLUMNS))
}
#: Columns that make one object together: all or none.
_TOGETHER = {
    "technicians": (("break_start", "break_end", "break_duration_min"),),
    "visits": (("window_start", "window_end"), ("lat", "lon")),
}


def _unreadable(sheet: str, why: str) -> InputError:
    return InputError([FieldError(f"{sheet} sheet", why)], what="upload")


def _too_many_rows(sheet: str) -> InputError:
    return _unreadable(sheet, f"has more than {MAX_ROWS:,} rows under its header (the limit)")


def _too_many_columns(sheet: str) -> InputError:
    return _unreadable(sheet, f"has more than {MAX_COLUMNS} columns (the limit)")


def _cell_text(value: object) -> str:
    """A cell as text: whole numbers without ``.0``, others with a decimal point and no
    exponent (``0.00001``, not ``1e-05``), nothing as ``""``, stripped."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, float) and math.isfinite(value):
        return format(Decimal(repr(value)), "f")
    return str(value).strip()


def _bounded_rows(rows: Iterable[Sequence[object]], sheet: str) -> list[list[str]]:
    """The rows of a sheet as text, header first, with no trailing blank rows or cells.

    Blank rows before a row with a value are kept, so that row numbers match what the user
    sees; blank rows after the last are never stored, however many there are.

    Raises
    ------
    InputError
        At the first row with a value past ``MAX_ROWS`` rows under the header, or with a value
        past ``MAX_COLUMNS`` columns.
    """
    kept: list[list[str]] = []
    blank = 0  # blank rows since the last kept one
    for row in rows:
        end = len(row)
        while end and not _cell_text(row[end - 1]):
            end -= 1
        if not end:
            blank += 1
            continue
        if end > MAX_COLUMNS:
            raise _too_many_columns(sheet)
        if len(kept) + blank > MAX_ROWS:  # this row's number under the header
            raise _too_many_rows(sheet)
        kept.extend([] for _ in range(blank))
        blank = 0
        kept.append([_cell_text(value) for value in row[:end]])
    return kept


def _frame(rows: list[list[str]], sheet: str, decimal: str) -> pd.DataFrame:
    """A sheet's rows under its header (row 1) as text; column names lower-cased, a blank one
    named by its letter as the spreadsheet shows it (``F``, kept in ``attrs`` as unnamed) and a
    repeated one ``name.1``, ``name.2``; ``attrs`` keep the decimal mark its file settles
    (``decimal``, ``""`` for none)."""
    width = max((len(row) for row in rows), default=0)
    header = rows[0] if rows else []
    names: list[str] = []
    unnamed: list[str] = []
    for position in range(width):
        name = _column_name(header[position]) if position < len(header) else ""
        if not name:
            name = get_column_letter(position + 1)
            unnamed.append(name)
        unique, repeat = name, 0
        while unique in names:
            repeat += 1
            unique = f"{name}.{repeat}"
        names.append(unique)
    if rows and not rows[0]:  # blank, with rows after it
        why = "must be the header (the column names), and is blank"
        raise InputError([FieldError(_where(sheet, 1), why)], what="upload")
    below = _header_below(rows, sheet)
    if below is not None:
        why = (
            f"must be the header (the column names), which row {below} holds: delete the "
            "rows above it (a title)"
        )
        raise InputError([FieldError(_where(sheet, 1), why)], what="upload")
    body = [row + [""] * (width - len(row)) for row in rows[1:]]
    if not names:
        raise _unreadable(sheet, "is empty: row 1 must be the header (the column names)")
    if not body and sheet != "visits":  # a day of no visits yet is a day, as in JSON
        raise _unreadable(sheet, "has no rows under its header")
    frame = pd.DataFrame(body, columns=names, dtype=str)
    frame.attrs[_DECIMAL] = decimal
    frame.attrs[_UNNAMED] = unnamed
    return frame


#: Most rows searched under row 1 for the header a title above it pushed down.
_TITLE_ROWS = 10


def _header_below(rows: list[list[str]], sheet: str) -> int | None:
    """The row (as the spreadsheet numbers it) under row 1 that holds ``sheet``'s required
    columns, when row 1 names none of them (a title row or two above the header, as a sheet
    printed for the desk has); else ``None``. Read so, the title was the header and each column
    name a row of values: every column was said unknown or unnamed, none where the header was."""
    required = set(_REQUIRED[sheet])

    def names(row: list[str]) -> set[str]:
        return {_column_name(cell) for cell in row}

    if not rows or names(rows[0]) & required:
        return None
    for number, row in enumerate(rows[1 : _TITLE_ROWS + 1], start=2):
        if required <= names(row):
            return number
    return None


def _column_name(text: str) -> str:
    """A header cell as a column name: read as ids are (``code_text``), stripped and in lower
    case. A header "id" holding a zero-width space, or "ID" typed full-width, was an unknown
    column beside a missing "id"."""
    return code_text(text).strip().lower()


def _first_line(text: str) -> str:
    ends = [end for end in (text.find("\n"), text.find("\r")) if end >= 0]
    return text[: min(ends)] if ends else text


def _delimiter(header: str) -> str:
    """The delimiter of ``_DELIMITERS`` that splits the header line into the most cells (the
    first of them on a tie, so ``,`` for a one-column sheet).

    Each trial is one pass of the csv module's C parser over that line, so the whole takes time
    linear in its length. ``csv.Sniffer`` took time quadratic in it (its regular expressions
    backtrack on lines such as ``, ", ", ...``: seconds for 48 KB, an hour for 1 MB, all of
    it holding the GIL), and refused a header without a delimiter.
    """

    def cells(delimiter: str) -> int:
        try:
            return len(next(csv.reader([header], delimiter=delimiter), []))
        except csv.Error:
            return 0

    return max(_DELIMITERS, key=cells)


def _split_sep_line(text: str, sheet: str) -> tuple[str, str | None]:
    """``text`` without its first line if that is Excel's ``sep=X`` (which Excel reads as
    naming the delimiter and does not show, so the header is still row 1), and ``X``; else
    ``text`` and ``None``.

    Raises
    ------
    InputError
        A ``sep=`` line naming a delimiter other than ``,``, ``;`` or tab.
    """
    first = _first_line(text)
    match = _SEP_LINE.match(first)
    if match is None:
        return text, None
    delimiter = match.group(1)
    if delimiter not in _DELIMITERS:
        why = f"{first!r} names a delimiter not read here: use , or ; or a tab"
        raise InputError([FieldError(_where(sheet, 1), why)], what="upload")
    rest = text[len(first) :]
    return rest[2:] if rest.startswith("\r\n") else rest[1:], delimiter


def _csv_text(filename: str, content: bytes, sheet: str) -> str:
    """The text of a CSV file: UTF-8 (with or without BOM), or UTF-16 with its BOM (Excel's
    "Unicode Text"); else refused, saying how to save it as UTF-8, never guessed.

    Raises
    ------
    InputError
        Neither; a file whose text reads as Chinese in GB2312 (what Chinese Excel's "CSV
        (逗号分隔)" writes, GBK) is told so: read as another encoding would be a silent
        misreading.
    """
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return content.decode("utf-16")
        except UnicodeDecodeError:
            raise _unreadable(sheet, f"{filename} is not a readable UTF-16 file") from None
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    why = f"{filename} is not a UTF-8 CSV file"
    try:
        chinese = any("\u4e00" <= char <= "\u9fff" for char in content.decode("gb2312"))
    except UnicodeDecodeError:
        chinese = False
    if not chinese:
        raise _unreadable(sheet, why)
    raise _unreadable(
        sheet,
        f'{why}: it reads as Chinese GBK (Excel\'s "CSV (逗号分隔)"); in Excel save it as '
        '"CSV UTF-8 (逗号分隔)", or send the .xlsx',
    )


def _csv_rows(text: str, delimiter: str, sheet: str) -> Iterator[list[str]]:
    """The records of a CSV file, each cut to ``MAX_COLUMNS + 1`` cells when the rest are
    blank (a line of delimiters must not become a row of a million cells).

    The reader is strict: a quote opened and never closed would otherwise take every later
    line into its cell, and ``"a"b`` would lose its quotes.

    Raises
    ------
    InputError
        Over ``MAX_COLUMNS``, or a quote the CSV rules do not allow, naming its row.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    row = 0  # rows read, as the spreadsheet numbers them
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise _misquoted(sheet, row + 1, str(error)) from None
        row += 1
        record = [_excel_text(cell) for cell in record]
        if len(record) > MAX_COLUMNS:
            if "".join(record[MAX_COLUMNS:]).strip():
                raise _too_many_columns(sheet)
            del record[MAX_COLUMNS:]
        yield record


#: A CSV cell written ``="0138"``: how a CSV keeps a leading zero for Excel, which shows 0138.
_EXCEL_TEXT = re.compile(r'^="(.*)"$', re.DOTALL)


def _excel_text(cell: str) -> str:
    """A CSV cell as Excel shows it: ``="0138"`` is ``0138`` (it was stored as typed)."""
    found = _EXCEL_TEXT.match(cell)
    return cell if found is None else found.group(1).replace('""', '"')


def _misquoted(sheet: str, row: int, error: str) -> InputError:
    """The error for a CSV record the strict reader refused (``error``, its message)."""
    if error == "unexpected end of data":
        why = (
            'opens a quote (") that is never closed, so every later line would be read into '
            'its cell: close it, or write a quote inside a cell as two ("")'
        )
    elif '"' in error:
        why = f'is not valid CSV ({error}): a quote inside a cell is written as two ("")'
    else:  # a cell over the csv module's field size limit (128 KiB)
        why = f"is not valid CSV ({error})"
    return InputError([FieldError(_where(sheet, row), why)], what="upload")


def _check_unpacked(filename: str, content: bytes, sheet: str) -> None:
    """Refuse an Excel file that unpacks past ``MAX_XLSX_UNPACKED_BYTES`` or holds a row past
    ``MAX_XLSX_ROW_BYTES``, before openpyxl parses any of it.

    The sizes are those the zip's directory declares: zipfile stops reading a part at its
    declared size (and fails its checksum if there was more), so they bind.
    """
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        parts = archive.infolist()
        if sum(part.file_size for part in parts) > MAX_XLSX_UNPACKED_BYTES:
            limit_mb = MAX_XLSX_UNPACKED_BYTES // 1_000_000
            raise _unreadable(sheet, f"{filename} unpacks to more than {limit_mb} MB (the limit)")
        for part in parts:
            if part.file_size > MAX_XLSX_ROW_BYTES and _has_a_long_row(archive.read(part)):
                limit_mb = MAX_XLSX_ROW_BYTES // 1_000_000
                why = f"{filename} has a row of more than {limit_mb} MB (the limit)"
                raise _unreadable(sheet, why)


def _has_a_long_row(xml: bytes) -> bool:
    """Whether worksheet XML has a row of ``MAX_XLSX_ROW_BYTES`` or more (or, erring on the
    side of refusing, of half as much).

    Between its first row and the end of its rows, the XML is cut into windows of half the
    limit: a row that long covers a whole window, in which no row starts. A few searches, in
    time linear in the XML, whatever the number of rows.
    """
    first = _ROW_START.search(xml)
    if first is None:
        return False
    rows_end = _ROWS_END.search(xml, first.end())
    end = rows_end.start() if rows_end else len(xml)
    step = MAX_XLSX_ROW_BYTES // 2
    return any(
        _ROW_START.search(xml, at, at + step + _ROW_TAG_BYTES) is None
        for at in range(first.end(), end - step, step)
    )


#: The namespaces of a workbook saved as Excel's "Strict Open XML Spreadsheet" and their
#: transitional names, the only ones openpyxl reads (a Strict workbook was said to have no
#: sheets); a more specific name before the name it starts with.
_STRICT_NAMESPACES = (
    (
        b"http://purl.oclc.org/ooxml/officeDocument/relationships/extendedProperties",
        b"http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties",
    ),
    (
        b"http://purl.oclc.org/ooxml/officeDocument/relationships",
        b"http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    ),
    (
        b"http://purl.oclc.org/ooxml/officeDocument/extendedProperties",
        b"http://schemas.openxmlformats.org/officeDocument/2006/extended-properties",
    ),
    (
        b"http://purl.oclc.org/ooxml/officeDocument/docPropsVTypes",
        b"http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes",
    ),
    (
        b"http://purl.oclc.org/ooxml/spreadsheetml/main",
        b"http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    ),
    (
        b"http://purl.oclc.org/ooxml/drawingml/main",
        b"http://schemas.openxmlformats.org/drawingml/2006/main",
    ),
)
#: What marks a Strict workbook: its package relationships name the workbook by a Strict type.
_STRICT_PACKAGE = b"http://purl.oclc.org/ooxml/officeDocument/relationships/officeDocument"


def _transitional(content: bytes) -> bytes:
    """``content``, an Excel file, with the namespaces of a Strict workbook
    (``_STRICT_NAMESPACES``) in its XML parts translated to their transitional names, in
    memory; any other file as it is. The parts' sizes were checked (``_check_unpacked``)."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        names = set(archive.namelist())
        if "_rels/.rels" not in names or _STRICT_PACKAGE not in archive.read("_rels/.rels"):
            return content
        translated = io.BytesIO()
        with zipfile.ZipFile(translated, "w") as written:
            for part in archive.infolist():
                data = archive.read(part)
                if part.filename.endswith((".xml", ".rels")):
                    for strict, transitional in _STRICT_NAMESPACES:
                        data = data.replace(strict, transitional)
                written.writestr(part.filename, data)
    return translated.getvalue()


@contextmanager
def _workbook(filename: str, content: bytes, sheet: str) -> Iterator[Any]:
    """The workbook in ``content``, opened read-only (parts are parsed as they are read), and
    closed after use."""
    _check_unpacked(filename, content, sheet)
    book = openpyxl.load_workbook(
        io.BytesIO(_transitional(content)), read_only=True, data_only=True, keep_links=False
    )
    try:
        yield book
    finally:
        book.close()


def _sheets_by_name(book: Any) -> dict[str, Any]:
    return {str(found.title).strip().lower(): found for found in book.worksheets}


def _first_shown(book: Any) -> Any:
    """The first sheet Excel shows (a hidden sheet of drop-down lists often comes first, and
    was read as the day), else the first."""
    shown = [found for found in book.worksheets if getattr(found, "sheet_state", "") == "visible"]
    return (shown or book.worksheets)[0]


class _NoValue:
    """The value of a formula cell saved without its result (``_FormulaParser``)."""


_NO_VALUE = _NoValue()


class _FormulaParser(WorkSheetParser):  # type: ignore[misc]
    """openpyxl's worksheet parser, reading cached values (``data_only``), that gives
    ``_NO_VALUE`` for a formula saved without one.

    openpyxl, pandas and other scripts write a formula with an empty ``<v/>``, leaving Excel
    to compute it on opening; read for its value it would be a blank cell. Excel saves a
    formula whose result is empty text as ``t="str"`` with an empty ``<v>``: that stays blank.
    """

    def parse_cell(self, element: Any) -> dict[str, Any]:
        cell: dict[str, Any] = super().parse_cell(element)
        refused = (
            cell["value"] is None
            and element.get("t") != "str"
            and element.find(FORMULA_TAG) is not None
        )
        if refused:
            cell["value"] = _NO_VALUE
        return cell


def _excel_rows(found: Any, sheet: str) -> list[list[str]]:
    """The rows of a worksheet as text, as ``_bounded_rows`` keeps them, each value merged down
    over rows under it written in each of them.

    The dimension a worksheet declares (``A1:XFD1048576`` costs nothing to write) is ignored,
    and so are cells without a value: rows and cells are taken as the worksheet's XML has
    them, so empty styled cells far right or far down cost nothing, while a value anywhere
    past ``MAX_COLUMNS`` or ``MAX_ROWS`` is found and refused, never cut off.
    """
    merged: list[tuple[int, int, int]] = []
    rows = _bounded_rows(_worksheet_rows(found, sheet, merged), sheet)
    covered = sum(max(0, min(bottom, len(rows)) - top) for _, top, bottom in merged)
    if covered > len(rows) * MAX_COLUMNS:  # Excel never saves ranges that overlap
        raise _unreadable(sheet, "has merged cells that overlap")
    for column, top, bottom in merged:
        head = rows[top - 1] if top <= len(rows) else []
        value = head[column - 1] if column <= len(head) else ""
        for row in rows[top : min(bottom, len(rows))] if value else []:
            if not any(row):  # a blank row stays blank: no day's row of a name alone
                continue
            row.extend("" for _ in range(column - len(row)))
            row[column - 1] = row[column - 1] or value
    return rows


def _merged_down(parser: Any) -> Iterator[tuple[int, int, int]]:
    """The merged ranges of a worksheet that span rows: the first column of each, and its
    first and last row. A range's other columns stay blank, as Excel shows them."""
    for merged in parser.merged_cells.mergeCell if parser.merged_cells else []:
        if merged.max_row > merged.min_row and merged.min_col <= MAX_COLUMNS:
            yield merged.min_col, merged.min_row, merged.max_row


#: The built-in number formats of Chinese, Japanese and Korean Excel that a file names by id
#: alone (openpyxl knows none of them): dates and times, as Simplified Chinese Excel shows
#: them. A time cell showing "9时00分" (id 32) was read as the day's fraction 0.375.
_EAST_ASIAN_FORMATS = {
    27: 'yyyy"年"m"月"',
    28: 'm"月"d"日"',
    29: 'm"月"d"日"',
    30: "m-d-yy",
    31: 'yyyy"年"m"月"d"日"',
    32: 'h"时"mm"分"',
    33: 'h"时"mm"分"ss"秒"',
    34: '上午/下午h"时"mm"分"',
    35: '上午/下午h"时"mm"分"ss"秒"',
    36: 'yyyy"年"m"月"',
    50: 'yyyy"年"m"月"',
    51: 'm"月"d"日"',
    52: 'yyyy"年"m"月"',
    53: 'm"月"d"日"',
    54: 'm"月"d"日"',
    55: '上午/下午h"时"mm"分"',
    56: '上午/下午h"时"mm"分"ss"秒"',
    57: 'yyyy"年"m"月"',
    58: 'm"月"d"日"',
}


def _number_format(book: Any, style_id: int) -> str:
    """The number format of cell style ``style_id`` of ``book``, as Excel names it."""
    try:
        number = book._cell_styles[style_id].numFmtId if style_id else 0
        if number in BUILTIN_FORMATS:
            return str(BUILTIN_FORMATS[number])
        if number in _EAST_ASIAN_FORMATS:
            return _EAST_ASIAN_FORMATS[number]
        return str(book._number_formats[number - 164])
    except IndexError:  # a style or format the file does not hold: shown as General
        return "General"


def _east_asian_date_styles(book: Any) -> set[int]:
    """The cell styles of ``book`` whose number format is an East Asian built-in date or time
    (``_EAST_ASIAN_FORMATS``): their numbers are dates and times, as openpyxl reads the
    others'."""
    return {
        k
        for k, style in enumerate(book._cell_styles)
        if style.numFmtId in _EAST_ASIAN_FORMATS and style.numFmtId not in BUILTIN_FORMATS
    }


def _shown(value: object, number_format: str) -> object:
    """A number cell as its format shows it where the format pads with zeros: ``138``
    formatted ``00000`` is ``00138``, ``1380001111`` formatted ``000 0000 0000`` (or
    ``000-0000-0000``, ``0##########``) is ``013 8000 1111`` (read as ``1380001111``, a
    phone lost its ``0`` with no word); a date and time formatted to show its time only
    (``_time_only``) is that time (read as ``2026-11-23 09:30:00``, or ``1900-01-01 09:30:00``
    for a sum of times past midnight, where the sheet showed ``09:30``), without the seconds
    when the format shows none (``09:30:20`` formatted ``hh:mm`` is ``09:30``, as Excel shows
    it); an elapsed time of at most a day (``[h]:mm``) is its ``HH:MM`` (``24:00`` too)."""
    if isinstance(value, datetime | time) and _time_only(number_format):
        of_day = value.time() if isinstance(value, datetime) else value
        if not _shows_seconds(number_format):
            of_day = of_day.replace(second=0, microsecond=0)
        return of_day
    if isinstance(value, timedelta) and timedelta(0) <= value <= timedelta(days=1):
        # Elapsed time (``[h]:mm``), as Excel stores a 24:00 typed in: "1 day, 0:00:00".
        return clock_of_offset(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    whole = math.isfinite(value) and value >= 0 and value == round(value)
    if not whole:
        return value
    if _ZEROS.fullmatch(number_format):
        return f"{round(value):0{len(number_format)}d}"
    tokens = _padding_tokens(number_format)
    if tokens is None:
        return value
    digits = list(str(round(value)))
    shown: list[str] = []
    for kind, text in reversed(tokens):
        if kind == "literal":
            shown.append(text)
        elif digits:
            shown.append(digits.pop())
        elif text == "0":
            shown.append("0")
    first = next(k for k, (kind, _) in enumerate(tokens) if kind == "digit")
    out = "".join(reversed(shown))
    # Digits beyond the placeholders go before the first of them, as Excel shows them.
    lead = len("".join(text for _, text in tokens[:first]))
    return out[:lead] + "".join(digits) + out[lead:]


def _time_only(number_format: str) -> bool:
    """Whether ``number_format`` shows a time of day and no date: hours (``h``, not elapsed
    hours ``[h]``, which count the days too) and neither year nor day (``m`` beside ``h`` is
    minutes)."""
    shown = _FORMAT_LITERALS.sub("", number_format).lower()
    return "h" in shown and "y" not in shown and "d" not in shown


def _shows_seconds(number_format: str) -> bool:
    """Whether ``number_format`` shows seconds (``s``, outside literals)."""
    return "s" in _FORMAT_LITERALS.sub("", number_format).lower()


def _padding_tokens(number_format: str) -> list[tuple[str, str]] | None:
    """``number_format`` as digit placeholders (``0``, ``#``) and literals (spaces, dashes,
    brackets, a character after ``\\``, text in quotes), when it pads with a leading ``0``;
    ``None`` for any other format (decimals, thousands, sections, colours, text...)."""
    tokens: list[tuple[str, str]] = []
    k = 0
    while k < len(number_format):
        char = number_format[k]
        if char in "0#":
            tokens.append(("digit", char))
        elif char in " -()/+":
            tokens.append(("literal", char))
        elif char == "\\" and k + 1 < len(number_format):
            k += 1
            tokens.append(("literal", number_format[k]))
        elif char == '"':
            end = number_format.find('"', k + 1)
            if end < 0:
                return None
            tokens.append(("literal", number_format[k + 1 : end]))
            k = end
        else:
            return None
        k += 1
    placeholders = [text for kind, text in tokens if kind == "digit"]
    if len(placeholders) < 2 or placeholders[0] != "0":
        return None
    return tokens


def _worksheet_rows(
    found: Any, sheet: str, merged: list[tuple[int, int, int]]
) -> Iterator[list[object]]:
    """The rows of read-only worksheet ``found`` from row 1, each its values up to its last
    one (``[]`` for a row without any) as its number format shows them, a missing row as
    ``[]``; once read, the ranges merged down (``_merged_down``) are added to ``merged``.

    openpyxl's ``iter_rows`` pads every row to the width asked for, or to its last cell (empty
    cells at column XFD make rows of 16,384), so the worksheet's parser is read directly: it
    yields each row's cells as the XML lists them. A gap of missing rows is given as at most
    ``MAX_ROWS + 2`` blank rows, which puts a row after it past the cap all the same.

    Raises
    ------
    InputError
        A value past ``MAX_COLUMNS`` columns; or formulas saved without their value, cells
        showing an error, hidden rows with values (all of them, by row and column, once the
        sheet is read).
    """
    book = found.parent
    header: dict[int, object] = {}
    refused: list[FieldError] = []
    with found._get_source() as source:
        parser = _FormulaParser(
            source,
            found._shared_strings,
            data_only=True,
            epoch=book.epoch,
            date_formats=book._date_formats | _east_asian_date_styles(book),
            timedelta_formats=book._timedelta_formats,
        )
        expected = 1  # the row number the next row should have
        for number, cells in parser.parse():
            for _ in range(min(number - expected, MAX_ROWS + 2)):
                yield []
            row = max(number, expected)
            expected = row + 1
            for cell in cells:
                if cell["value"] is _NO_VALUE or cell["data_type"] == "e":
                    name = _cell_text(header.get(cell["column"])).lower()
                    where = _where(sheet, row, name or get_column_letter(cell["column"]))
                    why = (
                        _NO_VALUE_MESSAGE
                        if cell["value"] is _NO_VALUE
                        else f"shows the error {cell['value']}: {_ERROR_VALUE_MESSAGE}"
                    )
                    refused.append(FieldError(where, why))
                elif isinstance(cell["value"], str):
                    # Excel writes a control character as _xHHHH_ (a carriage return as
                    # _x000D_), which openpyxl leaves: "V1_x000D_" was a visit id.
                    cell["value"] = unescape(cell["value"])
            filled = {
                cell["column"]: _shown(cell["value"], _number_format(book, cell["style_id"]))
                for cell in cells
                if cell["value"] is not _NO_VALUE
                and cell["data_type"] != "e"
                and _cell_text(cell["value"])
            }
            width = max(filled, default=0)
            if width > MAX_COLUMNS:
                raise _too_many_columns(sheet)
            if filled and parser.row_dimensions.get(str(number), {}).get("hidden") in _TRUE:
                refused.append(FieldError(_where(sheet, row), _HIDDEN_ROW_MESSAGE))
            for column, value in filled.items() if row > 1 else ():
                name = _cell_text(header.get(column)).lower()
                if isinstance(value, datetime) and name in _TEXT_COLUMNS.get(sheet, ()):
                    why = f"holds the date {value:%Y-%m-%d}: {_DATE_IN_TEXT_MESSAGE}"
                    refused.append(FieldError(_where(sheet, row, name), why))
            if row == 1:
                header = filled
            yield [filled.get(column) for column in range(1, width + 1)]
        merged.extend(_merged_down(parser))
    if refused:
        raise InputError(refused, what="upload")


def read_table(filename: str, content: bytes, *, sheet: str) -> pd.DataFrame:
    """One sheet from a CSV (``,``, ``;`` or tab, found from the header or named by a first
    line ``sep=X`` as Excel writes it; UTF-8 with or without BOM, or UTF-16 with one) or an
    Excel file (its sheet named ``sheet``, else the first it shows), every cell as stripped
    text. Row 1 is the header.

    Raises
    ------
    InputError
        The file cannot be read, its row 1 is blank, it has no rows under its header (but a
        visits sheet, for a day of no visits yet), or it is
        over a cap (``MAX_ROWS``, ``MAX_COLUMNS``, ``MAX_XLSX_UNPACKED_BYTES``,
        ``MAX_XLSX_ROW_BYTES``).
    """
    suffix = PurePath(filename).suffix.lower()
    try:
        if suffix in (".csv", ".txt"):
            text, delimiter = _split_sep_line(_csv_text(filename, content, sheet), sheet)
            delimiter = delimiter or _delimiter(_first_line(text))
            rows = _bounded_rows(_csv_rows(text, delimiter, sheet), sheet)
            decimal = _DECIMAL_OF_DELIMITER[delimiter]
        elif suffix in _EXCEL:
            decimal = _EXCEL_DECIMAL
            with _workbook(filename, content, sheet) as book:
                named = _sheets_by_name(book)
                if not named:
                    raise _unreadable(sheet, f"{filename} has no sheets")
                rows = _excel_rows(named.get(sheet) or _first_shown(book), sheet)
        else:
            raise _unreadable(sheet, f"{filename}: send a .csv or .xlsx file")
    except InputError:
        raise
    except csv.Error as error:
        raise _unreadable(sheet, f"{filename} is not a readable CSV file ({error})") from None
    except Exception as error:  # openpyxl and zipfile raise many kinds on a damaged file
        raise _unreadable(sheet, _why_unreadable(filename, content, error)) from None
    return _frame(rows, sheet, decimal)


#: How an OLE2 compound file starts: an Excel 97-2003 workbook (.xls), or an .xlsx saved with
#: a password (Excel wraps it, encrypted, in one).
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _why_unreadable(filename: str, content: bytes, error: Exception) -> str:
    """Why an Excel file cannot be read: an old or password-protected workbook said as such
    (it was "cannot be read (BadZipFile)", which told a dispatcher nothing to do)."""
    if content.startswith(_OLE2):
        return (
            f"{filename} is an Excel 97-2003 workbook or one saved with a password: save it "
            "in Excel as an .xlsx workbook (Excel Workbook), without a password"
        )
    if content.lstrip()[:1] not in (b"P", b""):  # a zip starts "PK": text renamed .xlsx
        return f"{filename} is no Excel workbook (a CSV renamed?): send it as .csv or .xlsx"
    return f"{filename} cannot be read ({type(error).__name__})"


def read_workbook(filename: str, content: bytes) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``technicians`` and ``visits`` sheets of one Excel workbook.

    Raises
    ------
    InputError
        As ``read_table``, or a sheet is missing.
    """
    if PurePath(filename).suffix.lower() not in _EXCEL:
        raise _unreadable("workbook", f"{filename}: a workbook must be an .xlsx file")
    try:
        with _workbook(filename, content, "workbook") as book:
            named = _sheets_by_name(book)
            missing = [name for name in ("technicians", "visits") if name not in named]
            if missing:
                why = f"{filename} has no sheet named {' or '.join(missing)}"
                raise _unreadable("workbook", why)
            technicians: list[list[str]] = []
            visits: list[list[str]] = []
            cells: list[FieldError] = []
            for found, name in ((technicians, "technicians"), (visits, "visits")):
                try:
                    found.extend(_excel_rows(named[name], name))
                except InputError as error:  # each sheet's cells named at once
                    cells.extend(error.errors)
            if cells:
                raise InputError(cells, what="upload")
    except InputError:
        raise
    except Exception as error:  # a damaged or foreign file
        raise _unreadable("workbook", _why_unreadable(filename, content, error)) from None
    return (
        _frame(technicians, "technicians", _EXCEL_DECIMAL),
        _frame(visits, "visits", _EXCEL_DECIMAL),
    )


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
    unnamed = frame.attrs.get(_UNNAMED, [])
    unknown = [
        name
        for name in frame.columns
        if name not in columns and (name not in unnamed or frame[name].astype(bool).any())
    ]  # a column with neither a header nor a value is nothing
    for name in unknown:
        known = ", ".join(columns)
        why = (
            "has values but no name in row 1 (the header)"
            if name in unnamed
            else f"unknown column; known: {known}"
        )
        errors.append(FieldError(_where(sheet, column=name), why))
    for name in _REQUIRED[sheet]:
        if name not in frame.columns:
            errors.append(FieldError(_where(sheet, column=name), "is required"))
    decimal = str(frame.attrs.get(_DECIMAL, ""))
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
                parsed = column.read(value, decimal)
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


#: A reference to a row of the problem JSON, in an error's path or message (``visits[0]``).
_JSON_ROW = re.compile(r"\b(technicians|visits)\[(\d+)\]")


def _translate(
    error: FieldError, rows: Mapping[str, list[tuple[int, dict[str, Any]]]]
) -> FieldError:
    """``error`` of the problem JSON as the sheets show it: its path by sheet, row and column,
    and a row its message names (``already used by visits[0]``) by sheet and row."""

    def row_named(found: re.Match[str]) -> str:
        sheet, index = found.group(1), int(found.group(2))
        if index >= len(rows[sheet]):
            return found.group(0)
        return _where(sheet, rows[sheet][index][0])

    message = _JSON_ROW.sub(row_named, error.message)
    match = re.match(r"^(technicians|visits)\[(\d+)\]\.?(.*)$", error.path)
    if not match:
        return FieldError(error.path, message, error.entity_id)
    sheet, index, rest = match.group(1), int(match.group(2)), match.group(3)
    if index >= len(rows[sheet]):
        return FieldError(error.path, message, error.entity_id)
    parts = re.findall(r"[A-Za-z_]+|\d+", rest)
    where = _where(sheet, rows[sheet][index][0], _column_of(sheet, parts))
    return FieldError(where, message, error.entity_id)


@dataclass(frozen=True, slots=True)
class SheetDay:
    """A day read from sheets: the problem JSON to store and the validated ``Problem``."""

    raw: dict[str, Any]
    problem: Problem


def problem_from_sheets(
    technicians: pd.DataFrame,
    visits: pd.DataFrame,
    *,
    date: str,
    timezone: str = "UTC",
    policy: Mapping[str, Any] | None = None,
) -> SheetDay:
    """The day given as two sheets: its problem JSON, checked like any posted day, and the
    validated ``Problem`` (so no caller validates it again).

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
    if any(_ROW_OF.match(error.path) is None for error in errors):
        raise InputError(errors, what="upload")  # a sheet's columns: every row would say so
    # A row with a cell that cannot be read is left out of the day checked: read without the
    # cell, it would be said to lack it, and the rules across fields wait for every field's
    # shape. Checked without them, the other rows and the day are listed beside the cells: a
    # bad cell no longer hides the form's date, an id used twice or a shift ending before it
    # starts until it is mended, one upload after another.
    flawed = {match.group(1, 2) for e in errors if (match := _ROW_OF.match(e.path))}
    checked = {
        sheet: [(row, target) for row, target in found if (sheet, str(row)) not in flawed]
        for sheet, found in rows.items()
    }
    problem: dict[str, Any] = {
        "date": date,
        "timezone": timezone,
        "technicians": [target for _, target in checked["technicians"]],
        "visits": [target for _, target in checked["visits"]],
    }
    if policy:
        problem["policy"] = dict(policy)
    try:
        parsed = parse_problem(problem)
    except InputError as error:
        left_out = {
            str(target.get("id"))
            for row, target in rows["technicians"]
            if ("technicians", str(row)) in flawed
        }
        # A sheet whose every row was left out is not empty: its rows' cells are named.
        emptied = {sheet for sheet, found in rows.items() if found and not checked[sheet]}
        errors.extend(
            _translate(e, checked)
            for e in error.errors
            if not _names_one_left_out(e, problem, left_out) and e.path not in emptied
        )
        raise InputError(errors, what="upload") from None
    if errors:
        raise InputError(errors, what="upload")
    return SheetDay(problem, parsed)


#: The sheet and row an error of the sheets names (``visits sheet, row 5, column window``).
_ROW_OF = re.compile(r"^(technicians|visits) sheet, row (\d+)(,|$)")


def _names_one_left_out(error: FieldError, problem: Mapping[str, Any], left_out: set[str]) -> bool:
    """Whether ``error`` is a visit's reference to a technician whose row was left out."""
    match = re.match(r"^visits\[(\d+)\]\.(technician|preferred_technician)$", error.path)
    if match is None:
        return False
    return str(problem["visits"][int(match.group(1))].get(match.group(2))) in left_out
