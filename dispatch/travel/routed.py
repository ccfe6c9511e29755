"""A local ``osrm-routed`` over a prepared dataset, for as long as a ``with`` block needs it.

``serve(dataset)`` starts OSRM's HTTP server on a free port of 127.0.0.1 (never on a public
interface), waits until it answers, yields its address and stops it when the block ends, by
SIGTERM and, if it has not stopped within ``STOP_TIMEOUT_S``, SIGKILL. A server that exits or
does not answer within ``startup_timeout_s`` is an error quoting its log; the process is
stopped either way, so the block leaves nothing running behind it. A process killed inside
the block (SIGKILL, the OOM killer) runs no block's end: its server then gets SIGTERM from the
kernel (a parent-death signal, set by ``setpriv``), instead of serving on, orphaned.

This module starts and stops the process; the HTTP questions are ``dispatch.travel.osrm``'s.
"""

from __future__ import annotations

import http.client
import logging
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import httpx2

from dispatch.errors import TravelTimeError
from dispatch.travel.osrm import OSRM_DEFAULT_TABLE_SIZE, Roads
from dispatch.travel.osrm_tools import (
    OsrmTools,
    ToolsUnavailableError,
    default_cache_root,
    ensure_tools,
    find_tools,
)
from dispatch.travel.roads import Dataset, PrepareProgress, prepare

__all__ = [
    "DEFAULT_MAX_TABLE_SIZE",
    "LOOPBACK",
    "STOP_TIMEOUT_S",
    "RoutedServer",
    "road_server",
    "serve",
]

logger = logging.getLogger(__name__)

#: The only interface a server started here listens on.
LOOPBACK = "127.0.0.1"

#: Locations per ``table`` query allowed by a server started here (OSRM's own default is
#: 100). With contraction hierarchies a 1,000 x 1,000 table answers in under a second, and a
#: request of that size stays within the URL length OSRM accepts for it.
DEFAULT_MAX_TABLE_SIZE = 1000

#: The folder of a prepared dataset where its road matrices are kept.
MATRICES = "matrices"

#: Seconds a stopping server is given after SIGTERM before it is killed.
STOP_TIMEOUT_S = 5.0

#: Seconds between two looks at a starting server.
_POLL_S = 0.02

#: Attempts at a free port (another process may take the one picked before the server binds).
_PORT_ATTEMPTS = 3

#: Lines of the server's log quoted when it fails to start.
_LOG_TAIL_LINES = 8


@dataclass(frozen=True, slots=True)
class RoutedServer:
    """A running ``osrm-routed``.

    Parameters
    ----------
    base_url
        ``http://127.0.0.1:<port>``.
    max_table_size
        Locations per ``table`` query it accepts (give it to ``OsrmProvider``).
    dataset
        The dataset it serves (its ``key`` identifies the roads for matrix caches).
    pid
        The process id.
    """

    base_url: str
    max_table_size: int
    dataset: Dataset
    pid: int


@contextmanager
def serve(
    dataset: Dataset,
    *,
    tools: OsrmTools | None = None,
    max_table_size: int = DEFAULT_MAX_TABLE_SIZE,
    threads: int | None = None,
    startup_timeout_s: float = 60.0,
) -> Iterator[RoutedServer]:
    """Run ``osrm-routed`` on ``dataset`` for the duration of the ``with`` block.

    Parameters
    ----------
    dataset
        A dataset from ``dispatch.travel.roads.prepare``.
    tools
        The OSRM installation; ``find_tools()`` when not given. Its version must be the one
        that prepared the dataset.
    max_table_size
        ``--max-table-size``: locations per ``table`` query.
    threads
        Server threads; OSRM's default (2) when not given.
    startup_timeout_s
        How long the server may take to load the dataset and answer.

    Yields
    ------
    The running server.

    Raises
    ------
    ToolsUnavailableError
        When no OSRM installation is found.
    TravelTimeError
        When the tools' version differs from the dataset's, or the server exits or does not
        answer in time (its log quoted).
    """
    tools = tools or find_tools()
    if tools is None:
        raise ToolsUnavailableError("OSRM's executables were not found: run scripts/osrm.sh")
    if tools.version != dataset.osrm_version:
        raise TravelTimeError(
            f"the dataset {dataset.key} was prepared by OSRM {dataset.osrm_version}; "
            f"osrm-routed here is {tools.version}: prepare it again"
        )
    with tempfile.TemporaryDirectory(prefix="osrm-routed-") as scratch:
        log = Path(scratch) / "osrm-routed.log"
        for attempt in range(1, _PORT_ATTEMPTS + 1):
            port = _free_port()
            argv = [
                str(tools.executable("osrm-routed")),
                str(dataset.base),
                "--ip",
                LOOPBACK,
                "--port",
                str(port),
                "--algorithm",
                dataset.algorithm.upper(),
                "--max-table-size",
                str(max_table_size),
            ]
            if threads is not None:
                argv += ["--threads", str(threads)]
            with log.open("wb") as output:
                try:
                    process = subprocess.Popen(
                        [*_ending_with_this_process(), *argv],
                        stdout=output,
                        stderr=subprocess.STDOUT,
                        stdin=subprocess.DEVNULL,
                    )
                except OSError as error:
                    raise TravelTimeError(f"cannot run {argv[0]}: {error}") from error
            try:
                started = _wait_until_answering(process, port, startup_timeout_s)
                if not started and attempt < _PORT_ATTEMPTS and _port_taken(log):
                    continue
                if not started:
                    raise TravelTimeError(
                        f"osrm-routed on {dataset.key} (port {port}) "
                        f"{_why_not_started(process, startup_timeout_s)}:\n{_tail(log)}"
                    )
                base_url = f"http://{LOOPBACK}:{port}"
                logger.info("osrm-routed %s serving %s", base_url, dataset.key)
                yield RoutedServer(base_url, max_table_size, dataset, process.pid)
                return
            finally:
                _stop(process)


@contextmanager
def road_server(
    spec: str | None,
    *,
    cache_root: Path | None = None,
    table_size: int = OSRM_DEFAULT_TABLE_SIZE,
    on_progress: Callable[[PrepareProgress], None] | None = None,
    dataset_dir: Path | None = None,
) -> Iterator[Roads | None]:
    """The roads a process was given (``--roads``, ``FIELDROUTE_ROADS``), served for the block.

    Parameters
    ----------
    spec
        ``None`` (no roads: ``None`` is yielded); the URL of an OSRM server the user runs
        (``http://...``, used as it is); or an OpenStreetMap extract (``.osm.pbf``), prepared
        into ``cache_root`` on first use (``dispatch.travel.roads.prepare``, instant once
        cached) and served by a local ``osrm-routed`` until the block ends.
    table_size
        Locations per ``table`` request a server at a URL accepts (its ``--max-table-size``).
    cache_root
        fieldroute's cache (``osrm_tools.default_cache_root()`` when not given): OSRM's
        executables, fetched there when missing, and the prepared datasets under ``roads/``.
    on_progress
        Hears the preparation's steps.
    dataset_dir
        With a URL: the prepared dataset that server serves (a process of ``fieldroute
        serve``, whose parent serves an extract), so that its matrices are kept on disk there
        as the parent's are, not only in this process's memory.

    Raises
    ------
    TravelTimeError
        ``spec`` is neither a well-formed URL nor an existing extract, or OSRM could not be
        fetched, prepare the extract or start.
    """
    if spec is None:
        yield None
        return
    if spec.startswith(("http://", "https://")):
        try:
            httpx2.URL(spec)
        except httpx2.InvalidURL as error:
            raise TravelTimeError(f"roads '{spec}' is not a well-formed URL: {error}") from error
        if dataset_dir is None:
            yield Roads(spec, table_size)
        else:
            yield Roads(spec, table_size, dataset_dir.name, dataset_dir / MATRICES)
        return
    extract = Path(spec)
    if not extract.is_file() or not extract.name.endswith(".osm.pbf"):
        raise TravelTimeError(
            f"roads '{spec}' is neither the URL of an OSRM server (http://...) nor an "
            "OpenStreetMap extract (.osm.pbf) on this machine"
        )
    root = cache_root or default_cache_root()
    tools = ensure_tools(root)
    dataset = prepare(extract, cache_dir=root / "roads", tools=tools, on_progress=on_progress)
    with serve(dataset, tools=tools) as server:
        yield Roads(server.base_url, server.max_table_size, dataset.key, dataset.folder / MATRICES)


@cache
def _ending_with_this_process() -> tuple[str, ...]:
    """What a server's command is run under so that it gets SIGTERM once the thread that
    started it is gone: ``setpriv --pdeathsig TERM`` (util-linux, on every Debian), which sets
    the signal and then runs the server in its own place; nothing where setpriv is missing or
    cannot (then only the block's end stops the server)."""
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return ()
    prefix = (setpriv, "--pdeathsig", "TERM")
    try:
        works = subprocess.run([*prefix, "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        works = False
    return prefix if works else ()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_until_answering(process: subprocess.Popen[bytes], port: int, timeout_s: float) -> bool:
    """True once the server answers any HTTP request; False if it exits or time runs out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        connection = http.client.HTTPConnection(LOOPBACK, port, timeout=1.0)
        try:
            connection.request("GET", "/")
            connection.getresponse().read()
            return True
        except OSError:
            time.sleep(_POLL_S)
        finally:
            connection.close()
    return False


def _why_not_started(process: subprocess.Popen[bytes], timeout_s: float) -> str:
    code = process.poll()
    if code is None:
        return f"did not answer within {timeout_s:g} s"
    return f"exited with code {code}"


def _port_taken(log: Path) -> bool:
    return "address already in use" in log.read_text(errors="replace").lower()


def _tail(log: Path) -> str:
    return "\n".join(log.read_text(errors="replace").strip().splitlines()[-_LOG_TAIL_LINES:])


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after ``STOP_TIMEOUT_S``; returns once the process is gone."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            logger.warning("osrm-routed %d ignored SIGTERM; killing it", process.pid)
            process.kill()
            process.wait()
    logger.debug("osrm-routed %d stopped (exit %s)", process.pid, process.returncode)
