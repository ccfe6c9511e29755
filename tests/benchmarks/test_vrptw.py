"""Reading Solomon and Gehring & Homberger files and bks.csv."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from benchmarks.vrptw import (
    Convention,
    InstanceFormatError,
    VrptwInstance,
    family,
    instance_paths,
    read_bks,
    read_instance,
)
from tests.benchmarks.conftest import TINY


def test_the_tiny_file_is_read_row_by_row(tiny: VrptwInstance) -> None:
    assert (tiny.name, tiny.vehicles, tiny.capacity, tiny.n_customers) == ("TINY3", 2, 10, 3)
    assert tiny.x == (0, 3, 6, 4) and tiny.y == (0, 4, 8, 0)
    assert tiny.demand == (0, 6, 6, 3)
    assert tiny.ready == (0, 0, 30, 0) and tiny.due == (100, 20, 40, 10)
    assert tiny.service == (0, 2, 2, 1)


@pytest.mark.parametrize(
    ("name", "expected"),
    [("C101", "C1"), ("R211", "R2"), ("RC108", "RC1"), ("rc2_10_5", "RC2"), ("C1_2_1", "C1")],
)
def test_family_of_a_name(name: str, expected: str) -> None:
    assert family(name) == expected


def test_a_name_of_no_family_is_refused() -> None:
    with pytest.raises(ValueError, match="X101"):
        family("X101")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("    3       4          0", "    3       4.5        0"), "not a whole number"),
        (("    3       4          0", "    4       4          0"), "out of order"),
        (("          0         10          1   ", "          0         10"), "expected 7 values"),
        (("VEHICLE", "VEHICLES!"), "no VEHICLE section"),
    ],
)
def test_a_malformed_file_names_what_is_wrong(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    broken = tmp_path / "BROKEN.txt"
    broken.write_text(TINY.read_text().replace(*change))
    with pytest.raises(InstanceFormatError, match=message):
        read_instance(broken)


def test_solomon_and_homberger_files(shared_data: Path) -> None:
    c101 = read_instance(shared_data / "solomon" / "C101.txt")
    assert (c101.name, c101.vehicles, c101.capacity, c101.n_customers) == ("C101", 25, 200, 100)
    assert (c101.x[0], c101.y[0], c101.due[0]) == (40, 50, 1236)
    row = (c101.x[1], c101.y[1], c101.demand[1], c101.ready[1], c101.due[1], c101.service[1])
    assert row == (45, 68, 10, 912, 967, 90)
    assert (c101.x[100], c101.y[100], c101.demand[100]) == (55, 85, 20)
    homberger = read_instance(shared_data / "homberger" / "C1_2_1.txt")
    assert (homberger.vehicles, homberger.n_customers, homberger.family) == (50, 200, "C1")
    assert (homberger.x[0], homberger.y[0], homberger.due[0]) == (70, 70, 1351)


def test_instances_are_chosen_by_name_or_glob(shared_data: Path) -> None:
    solomon = shared_data / "solomon"
    assert len(instance_paths(solomon)) == 56
    assert [p.stem for p in instance_paths(solomon, ["c10[12]", "R101"])] == [
        "C101",
        "C102",
        "R101",
    ]
    assert len(instance_paths(solomon, ["RC2*"])) == 8
    with pytest.raises(ValueError, match="Z9"):
        instance_paths(solomon, ["Z9"])


BKS_HEADER = "instance,customers,vehicles,distance,objective,source\n"


def test_bks_rows_are_keyed_by_instance_and_convention(tmp_path: Path) -> None:
    path = tmp_path / "bks.csv"
    path.write_text(
        BKS_HEADER + 'C101,100,10,828.94,hierarchical,"a, b"\nC101,100,10,827.3,distance,c\n'
    )
    known = read_bks(path)
    hierarchical = known[("C101", Convention.HIERARCHICAL)]
    assert (hierarchical.vehicles, hierarchical.distance) == (10, Decimal("828.94"))
    assert hierarchical.source == "a, b"
    # Kept as published: the number of decimals tells how the total was rounded.
    assert hierarchical.distance.as_tuple().exponent == -2
    assert known[("C101", Convention.DIMACS)].distance == Decimal("827.3")


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("C101,100,10,827.3,distance,c\nC101,100,9,827.0,distance,d\n", "second distance row"),
        ("C101,100,10,827.3,lexicographic,c\n", "lexicographic"),
        ("C101,100,ten,827.3,distance,c\n", "ten"),
        ("C101,100,10\n", ":2:"),
    ],
)
def test_a_bad_bks_row_is_refused(tmp_path: Path, rows: str, message: str) -> None:
    path = tmp_path / "bks.csv"
    path.write_text(BKS_HEADER + rows)
    with pytest.raises(InstanceFormatError, match=message):
        read_bks(path)


def test_the_shared_bks_file_has_both_conventions_for_every_instance(shared_data: Path) -> None:
    known = read_bks(shared_data / "bks.csv")
    assert len(known) == 712
    names = {
        path.stem
        for folder in ("solomon", "homberger")
        for path in (shared_data / folder).glob("*.txt")
    }
    assert {name for name, _ in known} == names
    assert {(name, c) for name in names for c in Convention} == set(known)
    r101 = known[("R101", Convention.DIMACS)]
    assert (r101.vehicles, r101.distance) == (20, Decimal("1637.7"))
    assert known[("R101", Convention.HIERARCHICAL)].distance == Decimal("1645.79")
    assert known[("C1_2_1", Convention.HIERARCHICAL)].distance.as_tuple().exponent == -4
