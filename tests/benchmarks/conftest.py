"""Fixtures of the benchmark tests: the shared benchmark data and a tiny hand-made instance."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.vrptw import DATA_ENV, VrptwInstance, data_dir, read_instance

#: Three customers worked by hand (see the tests): depot at (0, 0), capacity 10, 2 vehicles.
TINY = Path(__file__).with_name("data") / "TINY3.txt"


@pytest.fixture
def tiny() -> VrptwInstance:
    """The hand-made three-customer instance."""
    return read_instance(TINY)


@pytest.fixture
def shared_data() -> Path:
    """The shared benchmark data folder; the test is skipped, saying why, when it is absent."""
    folder = data_dir()
    if not (folder / "solomon").is_dir() or not (folder / "bks.csv").is_file():
        pytest.skip(
            f"benchmark data not found in {folder}: put shared/ beside the repository "
            f"or set {DATA_ENV} to the folder holding solomon/, homberger/ and bks.csv"
        )
    return folder
