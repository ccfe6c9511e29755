# ruff: noqa: E501 - the sample sheets read best one row a line
"""A day from spreadsheets: CSV and Excel in, the contract's JSON out, errors by sheet, row
and column."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from dispatch.errors import InputError
from dispatch.sheets import problem_from_sheets, read_table, read_workbook
from dispatch.validate import parse_problem

TECHNICIANS_CSV = """id,name,skills,start_lat,start_lon,shift_start,shift_end,break_start,break_end,break_duration_min,capacity_volume_m3
T1,Li Wei,water_heater;ac,22.98,113.80,8:00,18:00,12:00,13:30,30,
T2,Wang Fang,delivery,22.99,113.81,08:00:00,17:00,,,,12.5
"""
VISITS_CSV = """id,customer,phone,address,lat,lon,duration_min,window_start,window_end,appointment,required_skills,priority,demand_volume_m3
V1,Zhang San,+86 138 0000 0001,Chang'an Rd 1,22.97,113.79,45,09:00,12:00,,water_heater,high,
V2,Chen Jing,+86 138 0000 0002,Chang'an Rd 2,22.96,113.78,30,,,14:00,,normal,2.5

V3,Liu Yang,,Xiaobian 3,22.95,113.77,60,,,,,urgent,
"""


def sheets(
    technicians: str = TECHNICIANS_CSV, visits: str = VISITS_CSV
) -> tuple[pd.DataFrame, pd.DataFrame]:
    return (
        read_table("technicians.csv", technicians.encode(), sheet="technicians"),
        read_table("visits.csv", visits.encode("utf-8-sig"), sheet="visits"),
    )


def errors_of(
    technicians: str = TECHNICIANS_CSV, visits: str = VISITS_CSV
) -> list[tuple[str, str | None]]:
    with pytest.raises(InputError) as caught:
        problem_from_sheets(*sheets(technicians, visits), date="2026-11-23")
    return [(e.path, e.entity_id) for e in caught.value.errors]


def test_two_csv_sheets_make_a_valid_day() -> None:
    day = problem_from_sheets(*sheets(), date="2026-11-23", timezone="Asia/Shanghai")
    problem = parse_problem(day)
    assert [t.id for t in problem.technicians] == ["T1", "T2"]
    t1, t2 = day["technicians"]
    assert t1["shift"] == {"start": "08:00", "end": "18:00"}
    assert t1["breaks"] == [{"start": "12:00", "end": "13:30", "duration_min": 30.0}]
    assert t1["skills"] == ["water_heater", "ac"]
    assert t2["capacity"] == {"volume_m3": 12.5} and "breaks" not in t2
    v1, v2, v3 = day["visits"]
    assert v1["window"] == {"start": "09:00", "end": "12:00"}
    assert v1["location"] == {"lat": 22.97, "lon": 113.79, "address": "Chang'an Rd 1"}
    assert v2["appointment"] == "14:00" and v2["demand"] == {"volume_m3": 2.5}
    assert v3["priority"] == "urgent" and "phone" not in v3


def test_semicolons_and_decimal_commas_are_read() -> None:
    technicians = TECHNICIANS_CSV.replace(",", ";").replace("water_heater;ac", "water_heater,ac")
    technicians = technicians.replace(";12.5", ";12,5")
    day = problem_from_sheets(*sheets(technicians=technicians), date="2026-11-23")
    assert day["technicians"][1]["capacity"] == {"volume_m3": 12.5}
    assert day["technicians"][0]["skills"] == ["water_heater", "ac"]


def workbook(**frames: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in frames.items():
            frame.to_excel(writer, sheet_name=name, index=False)
    return buffer.getvalue()


def test_an_excel_workbook_and_separate_excel_files_give_the_same_day() -> None:
    technicians, visits = (
        pd.read_csv(io.StringIO(t), dtype=str) for t in (TECHNICIANS_CSV, VISITS_CSV)
    )
    from_csv = problem_from_sheets(*sheets(), date="2026-11-23")
    book = read_workbook("day.xlsx", workbook(Technicians=technicians, visits=visits))
    assert problem_from_sheets(*book, date="2026-11-23") == from_csv
    apart = (
        read_table("t.xlsx", workbook(Sheet1=technicians), sheet="technicians"),
        read_table("v.xlsx", workbook(Sheet1=visits), sheet="visits"),
    )
    assert problem_from_sheets(*apart, date="2026-11-23") == from_csv
    with pytest.raises(InputError, match="no sheet named visits"):
        read_workbook("day.xlsx", workbook(technicians=technicians))


def test_cell_errors_name_sheet_row_and_column_all_at_once() -> None:
    visits = VISITS_CSV.replace("45,09:00,12:00", "45,9h00,12:00").replace("60,,,", "sixty,,,")
    technicians = TECHNICIANS_CSV + "T3,Zhao,,22.9,113.8,08:00,17:00,12:00,,,\n"
    assert errors_of(technicians, visits) == [
        ("technicians sheet, row 4, column break_start", "T3"),
        ("visits sheet, row 2, column window_start", "V1"),
        ("visits sheet, row 5, column duration_min", "V3"),
    ]


def test_unknown_and_missing_columns_are_errors() -> None:
    visits = VISITS_CSV.replace("priority", "priorty").replace("duration_min", "minutes")
    found = errors_of(visits=visits)
    assert ("visits sheet, column priorty", None) in found
    assert ("visits sheet, column duration_min", None) in found


def test_rules_across_rows_are_reported_at_the_row() -> None:
    visits = VISITS_CSV.replace("V2,", "V1,").replace("60,,,", "60,13:00,11:00,")
    found = errors_of(visits=visits)
    assert ("visits sheet, row 3, column id", "V1") in found
    assert any(path.startswith("visits sheet, row 5, column window") for path, _ in found)


def test_unreadable_files_are_input_errors() -> None:
    with pytest.raises(InputError, match="cannot be read"):
        read_table("visits.xlsx", b"not a zip", sheet="visits")
    with pytest.raises(InputError, match=r"send a \.csv or \.xlsx"):
        read_table("visits.pdf", b"%PDF", sheet="visits")
    with pytest.raises(InputError, match="not a UTF-8 CSV"):
        read_table("visits.csv", "id\nV1\n".encode("utf-16"), sheet="visits")
    with pytest.raises(InputError, match="no rows"):
        read_table("visits.csv", b"id,duration_min\n", sheet="visits")
