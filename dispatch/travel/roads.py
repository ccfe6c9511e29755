"""Road datasets: an OpenStreetMap extract prepared by OSRM's own tools for fast tables.

``prepare`` runs ``osrm-extract`` with the car profile and ``osrm-contract`` (contraction
hierarchies, the fastest algorithm for many-to-many tables) on a ``.osm.pbf`` extract. The result
lies in ``<cache_dir>/<key>/``, where the key joins the extract's content hash (sha256), the
profile, the algorithm and OSRM's version: the same extract is prepared once, whatever its file
name, and a new OSRM release prepares it afresh. A folder is built under a scratch name, gets
its ``complete.json`` marker last and is then renamed into place, so an interrupted build is
never taken for a dataset; a folder without the marker is removed and built again.

The extract is only read, never copied. Serving a dataset is ``dispatch.travel.routed``'s job;
this module runs no server and speaks no HTTP.
"""

from __future__ import annotations

import json
import logging
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dispatch.errors import TravelTimeError
from dispatch.travel.osrm_tools import OsrmTools, ToolsUnavailableError, file_sha256, find_tools

__all__ = ["DATASET_BASE", "PROFILE", "Dataset", "PrepareProgress", "dataset_key", "prepare"]

logger = logging.getLogger(__name__)

#: The vehicle profile of every dataset: field technicians drive cars and vans.
PROFILE = "car"

#: OSRM's algorithm for the dataset: contraction hierarchies, the fastest for tables.
ALGORITHM = "ch"

#: Base name of a dataset's files inside its folder (``roads.osrm.hsgr`` ...).
DATASET_BASE = "roads.osrm"

#: Written last into a dataset folder; its absence marks a half-built folder.
_COMPLETE = "complete.json"

#: Lines of a failing tool's log quoted in the error.
_LOG_TAIL_LINES = 8


@dataclass(frozen=True, slots=True)
class Dataset:
    """A prepared road dataset, ready for ``osrm-routed``.

    Parameters
    ----------
    folder
        The dataset's folder in the cache.
    extract_sha256
        Content hash of the ``.osm.pbf`` it was prepared from.
    osrm_version
        The OSRM release that prepared it; ``osrm-routed`` must be the same release.
    profile, algorithm
        ``car`` and ``ch``.
    """

    folder: Path
    extract_sha256: str
    osrm_version: str
    profile: str = PROFILE
    algorithm: str = ALGORITHM

    @property
    def base(self) -> Path:
        """The path ``osrm-routed`` is given (the files share this base name)."""
        return self.folder / DATASET_BASE

    @property
    def key(self) -> str:
        """What identifies the dataset's roads: the folder name, stable across machines."""
        return self.folder.name


@dataclass(frozen=True, slots=True)
class PrepareProgress:
    """A step of ``prepare``: ``stage`` is ``hashing``, ``extracting``, ``contracting``,
    ``done`` or ``cached``; ``elapsed_s`` counts from the call."""

    stage: str
    elapsed_s: float


def dataset_key(extract_sha256: str, osrm_version: str) -> str:
    """The folder name of a dataset: hash prefix, profile, algorithm and OSRM release."""
    return f"{extract_sha256[:16]}-{PROFILE}-{ALGORITHM}-osrm{osrm_version}"


def prepare(
    extract: Path,
    *,
    cache_dir: Path,
    tools: OsrmTools | None = None,
    on_progress: Callable[[PrepareProgress], None] | None = None,
    threads: int | None = None,
) -> Dataset:
    """Prepare ``extract`` for routing, or return the dataset already prepared from it.

    Parameters
    ----------
    extract
        An OpenStreetMap extract (``.osm.pbf``); only read.
    cache_dir
        Folder of the datasets; each lands in a subfolder named by ``dataset_key``.
    tools
        The OSRM installation to use; ``find_tools()`` when not given.
    on_progress
        Called at each step with a ``PrepareProgress``.
    threads
        Threads the OSRM tools use; OSRM's default (2) when not given.

    Returns
    -------
    The dataset; a second call with the same extract returns at once (after hashing it).

    Raises
    ------
    ToolsUnavailableError
        When ``tools`` is not given and no OSRM installation is found.
    TravelTimeError
        When the extract cannot be read or an OSRM tool fails (its log's last lines quoted).
    """
    started = time.monotonic()

    def report(stage: str) -> None:
        if on_progress is not None:
            on_progress(PrepareProgress(stage, time.monotonic() - started))

    tools = tools or find_tools()
    if tools is None:
        raise ToolsUnavailableError(
            "OSRM's executables were not found: run scripts/osrm.sh (or install osrm-bindings "
            "on Python >= 3.12) to put them in fieldroute's cache"
        )
    report("hashing")
    try:
        digest = file_sha256(extract)
    except OSError as error:
        raise TravelTimeError(f"cannot read the extract {extract}: {error}") from error
    folder = cache_dir / dataset_key(digest, tools.version)
    dataset = Dataset(folder, digest, tools.version)
    if (folder / _COMPLETE).is_file():
        report("cached")
        return dataset
    if folder.exists():
        logger.warning("removing the half-built dataset %s", folder)
        shutil.rmtree(folder)

    cache_dir.mkdir(parents=True, exist_ok=True)
    scratch = cache_dir / f".{folder.name}.{uuid.uuid4().hex}"
    scratch.mkdir()
    try:
        base = scratch / DATASET_BASE
        thread_args = [] if threads is None else ["--threads", str(threads)]
        report("extracting")
        _run(
            tools,
            "osrm-extract",
            [str(extract), "--profile", str(tools.profile(PROFILE)), "--output", str(base)],
            thread_args,
            scratch,
        )
        report("contracting")
        _run(tools, "osrm-contract", [str(base)], thread_args, scratch)
        (scratch / _COMPLETE).write_text(
            json.dumps(
                {
                    "extract": extract.name,
                    "extract_sha256": digest,
                    "osrm_version": tools.version,
                    "profile": PROFILE,
                    "algorithm": ALGORITHM,
                    "prepare_s": round(time.monotonic() - started, 3),
                },
                indent=2,
            )
        )
        try:
            scratch.rename(folder)
        except OSError:
            # Another process finished the same dataset first; its copy serves as well.
            if not (folder / _COMPLETE).is_file():
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    logger.info("prepared %s from %s in %.1f s", folder, extract, time.monotonic() - started)
    report("done")
    return dataset


def _run(
    tools: OsrmTools, name: str, arguments: list[str], thread_args: list[str], folder: Path
) -> None:
    """Run one OSRM tool, its output in ``<folder>/<name>.log``; a failure quotes the log."""
    log = folder / f"{name}.log"
    argv = [str(tools.executable(name)), *arguments, *thread_args]
    with log.open("wb") as output:
        try:
            returncode = subprocess.run(
                argv, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            ).returncode
        except OSError as error:
            raise TravelTimeError(f"cannot run {argv[0]}: {error}") from error
    if returncode != 0:
        lines = log.read_text(errors="replace").strip().splitlines()[-_LOG_TAIL_LINES:]
        tail = "\n".join(lines)
        raise TravelTimeError(f"{name} failed ({_exit(returncode)}) on {arguments[0]}:\n{tail}")


def _exit(returncode: int) -> str:
    """``exit 1``, or ``signal SIGABRT`` for a tool that crashed."""
    if returncode >= 0:
        return f"exit {returncode}"
    try:
        return f"signal {signal.Signals(-returncode).name}"
    except ValueError:
        return f"signal {-returncode}"
