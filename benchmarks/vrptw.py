"""Reading the VRPTW benchmark data: Solomon and Gehring & Homberger files, and ``bks.csv``.

This module only reads: it turns the text files of ``../shared/data`` (described in that folder's
README) into plain values and says where the data lives. Scaling to integers is
``benchmarks.vrptw_convert``'s job, checking routes ``benchmarks.vrptw_check``'s.

Both instance sets share Solomon's text format: the instance name, a ``VEHICLE`` section with the
fleet size and capacity, then a ``CUSTOMER`` table of ``CUST NO., XCOORD., YCOORD., DEMAND,
READY TIME, DUE DATE, SERVICE TIME``, row 0 the depot (CRLF line endings). Every value is a whole
number in the published files; the reader refuses anything else rather than round it.

``bks.csv`` holds two rows per instance, one for each convention of the README:

- ``hierarchical``: fewest vehicles first, then distance; real-valued Euclidean arcs, only the
  total rounded (2 decimals for Solomon, 4 for Homberger);
- ``distance`` (DIMACS 2021): vehicles free, distance only; every arc distance and travel time
  truncated to one decimal, ``floor(10 d) / 10``, before summing.
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path

__all__ = [
    "DATA_ENV",
    "BestKnown",
    "Convention",
    "InstanceFormatError",
    "VrptwInstance",
    "data_dir",
    "family",
    "instance_paths",
    "read_bks",
    "read_instance",
]

#: Environment variable naming the shared benchmark data folder (the one holding ``solomon/``,
#: ``homberger/`` and ``bks.csv``); by default ``../shared/data`` beside the repository.
DATA_ENV = "FIELDROUTE_BENCHMARK_DATA"

_REPOSITORY = Path(__file__).resolve().parents[1]
_COLUMNS = 7
_FAMILY = re.compile(r"^(RC|R|C)(\d)")


class InstanceFormatError(ValueError):
    """A benchmark file that does not follow the format it claims; names the file and line."""


class Convention(StrEnum):
    """The two ways ``bks.csv`` counts distance, named as in its ``objective`` column."""

    #: Fewest vehicles, then distance; real-valued arcs, only the total rounded.
    HIERARCHICAL = "hierarchical"
    #: Distance only (DIMACS 2021); arcs truncated to one decimal before summing.
    DIMACS = "distance"


@dataclass(frozen=True, slots=True)
class VrptwInstance:
    """One Solomon-format instance as published; node 0 is the depot, 1..n the customers.

    Parameters
    ----------
    name
        The file name without ``.txt`` (``C101``, ``RC2_10_5``).
    vehicles
        Fleet size of the ``VEHICLE`` section.
    capacity
        Capacity of every vehicle.
    x, y, demand, ready, due, service
        One entry per node, depot first. ``ready``/``due`` bound the start of service; the
        depot's are the horizon: leave at ``ready[0]`` at the earliest, be back by ``due[0]``.
    """

    name: str
    vehicles: int
    capacity: int
    x: tuple[int, ...]
    y: tuple[int, ...]
    demand: tuple[int, ...]
    ready: tuple[int, ...]
    due: tuple[int, ...]
    service: tuple[int, ...]

    @property
    def n_customers(self) -> int:
        """Number of customers (nodes other than the depot)."""
        return len(self.x) - 1

    @property
    def family(self) -> str:
        """The instance's class: ``C1``, ``C2``, ``R1``, ``R2``, ``RC1`` or ``RC2``."""
        return family(self.name)


@dataclass(frozen=True, slots=True)
class BestKnown:
    """A row of ``bks.csv``: the best-known solution of one instance under one convention.

    ``distance`` is kept as the published decimal, so its number of decimals is known and a
    comparison with it can be exact.
    """

    instance: str
    customers: int
    vehicles: int
    distance: Decimal
    convention: Convention
    source: str


def family(name: str) -> str:
    """The class of an instance name: ``C101`` -> ``C1``, ``RC2_10_5`` -> ``RC2``.

    Raises
    ------
    ValueError
        If the name starts with no Solomon class.
    """
    match = _FAMILY.match(name.upper())
    if match is None:
        raise ValueError(f"{name!r} is not a Solomon or Homberger instance name")
    return match.group(1) + match.group(2)


def data_dir() -> Path:
    """The shared benchmark data folder: ``$FIELDROUTE_BENCHMARK_DATA`` or ``../shared/data``."""
    configured = os.environ.get(DATA_ENV)
    return Path(configured) if configured else _REPOSITORY.parent / "shared" / "data"


def instance_paths(folder: Path, patterns: list[str] | None = None) -> list[Path]:
    """The ``*.txt`` instances of ``folder`` whose names match any of ``patterns``.

    Patterns are shell globs on the name without ``.txt``, upper-cased (``C1*``, ``r101``);
    none means every instance. The result is sorted by name; a pattern that matches nothing is
    an error, so a typo never runs an empty benchmark.
    """
    every = sorted(folder.glob("*.txt"))
    if not patterns:
        return every
    chosen: dict[str, Path] = {}
    for pattern in patterns:
        matched = [p for p in every if Path(p.stem).match(pattern.upper())]
        if not matched:
            raise ValueError(f"no instance in {folder} matches {pattern!r}")
        chosen.update((p.stem, p) for p in matched)
    return [chosen[name] for name in sorted(chosen)]


def _whole(value: str, path: Path, line: int) -> int:
    if not re.fullmatch(r"-?\d+", value):
        raise InstanceFormatError(f"{path}:{line}: {value!r} is not a whole number")
    return int(value)


def read_instance(path: Path) -> VrptwInstance:
    """Read a Solomon-format file (Solomon or Gehring & Homberger).

    Raises
    ------
    InstanceFormatError
        If a section is missing, a row has the wrong number of values, a value is not whole,
        or the customer numbers are not 0, 1, 2, ... in order.
    """
    lines = path.read_text(encoding="ascii").splitlines()
    rows = [(number, line.split()) for number, line in enumerate(lines, start=1)]
    words = [(number, fields) for number, fields in rows if fields]
    if len(words) < 5 or [w[1][0].upper() for w in words[1:2]] != ["VEHICLE"]:
        raise InstanceFormatError(f"{path}: no VEHICLE section after the name")
    fleet_line, fleet = words[3]
    if len(fleet) != 2:
        raise InstanceFormatError(f"{path}:{fleet_line}: expected NUMBER and CAPACITY")
    vehicles, capacity = (_whole(v, path, fleet_line) for v in fleet)
    if words[4][1][0].upper() != "CUSTOMER":
        raise InstanceFormatError(f"{path}:{words[4][0]}: expected the CUSTOMER section")
    table: list[list[int]] = []
    for number, fields in words[6:]:  # after CUSTOMER and its column header
        if len(fields) != _COLUMNS:
            raise InstanceFormatError(f"{path}:{number}: expected {_COLUMNS} values")
        values = [_whole(v, path, number) for v in fields]
        if values[0] != len(table):
            raise InstanceFormatError(f"{path}:{number}: customer {values[0]} out of order")
        table.append(values)
    if len(table) < 2:
        raise InstanceFormatError(f"{path}: no customers")
    columns = list(zip(*table, strict=True))
    return VrptwInstance(
        name=path.stem,
        vehicles=vehicles,
        capacity=capacity,
        x=columns[1],
        y=columns[2],
        demand=columns[3],
        ready=columns[4],
        due=columns[5],
        service=columns[6],
    )


def read_bks(path: Path) -> dict[tuple[str, Convention], BestKnown]:
    """Read ``bks.csv`` into ``{(instance, convention): row}``.

    Raises
    ------
    InstanceFormatError
        If a column is missing, a value does not parse, the convention is unknown or an
        instance has two rows for one convention.
    """
    known: dict[tuple[str, Convention], BestKnown] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        for line, row in enumerate(reader, start=2):
            try:
                best = BestKnown(
                    instance=row["instance"],
                    customers=int(row["customers"]),
                    vehicles=int(row["vehicles"]),
                    distance=Decimal(row["distance"]),
                    convention=Convention(row["objective"]),
                    source=row["source"],
                )
            except (KeyError, TypeError, ValueError, InvalidOperation) as error:
                raise InstanceFormatError(f"{path}:{line}: {error!r}") from error
            key = (best.instance, best.convention)
            if key in known:
                raise InstanceFormatError(f"{path}:{line}: second {best.convention} row")
            known[key] = best
    return known
