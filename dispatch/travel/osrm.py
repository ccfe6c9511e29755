"""The road provider: durations and distances from an OSRM server's ``table`` service.

``OsrmProvider(base_url)`` asks any OSRM server, a user's own or the one
``dispatch.travel.routed.serve`` starts, for ``table`` with ``annotations=duration,distance``
over the sites' distinct coordinates. A table larger than the server's limit
(``osrm-routed --max-table-size``) is asked in blocks of at most ``max_table_size`` (and
``TABLE_BLOCK``) sources by as many destinations: first the diagonal blocks, which snap every
point once, so a point off the roads is reported before the rest is asked for. Durations are
rounded up to whole seconds, distances to the nearest metre.

Snapping: OSRM moves each point onto the nearest road and says how far. A site moved more than
``snap_limit_m`` raises ``SnapError`` naming the site indices (the caller maps them to visit
ids); a pair with no road between them raises ``TravelTimeError`` naming the pair.

Failures are bounded: each HTTP request has ``timeout_s`` to connect and for each read; a
refused or broken connection and HTTP 502/503/504 are retried ``retries`` times after
``BACKOFF_S``, doubling; a read timeout is not retried. OSRM's error codes (``NoSegment``,
``TooBig``, ``InvalidQuery`` ...), other HTTP errors and unreadable answers raise
``TravelTimeError`` naming the server and the request. Proxy settings of the environment are
not used (a loopback server must not be sent through one); pass a ``transport`` for a proxy.

Matrices are cached in the process per dataset and distinct set of coordinates (rounded to
``COORDINATE_DECIMALS``), up to ``MATRIX_CACHE_BYTES``, and, given a ``matrix_dir`` (a prepared
dataset's folder), on disk for the other processes on the same roads, up to
``MATRIX_DISK_BYTES`` (the least recently used removed): re-planning the day a solve worker
planned asks the server nothing new. ``route_geometry`` draws the road line
through points with ``route``.

This module speaks HTTP only; it starts no process (``dispatch.travel.routed`` does).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import numpy as np
from numpy.typing import NDArray

from dispatch.errors import TravelTimeError
from dispatch.model import LatLon, Site
from dispatch.travel.base import Matrices

__all__ = [
    "BACKOFF_S",
    "COORDINATE_DECIMALS",
    "DEFAULT_SNAP_LIMIT_M",
    "MATRIX_CACHE_BYTES",
    "OSRM_DEFAULT_TABLE_SIZE",
    "TABLE_BLOCK",
    "TABLE_CONCURRENCY",
    "URL_BUDGET_BYTES",
    "CacheInfo",
    "OsrmProvider",
    "Roads",
    "SnapError",
    "clear_matrix_cache",
    "matrix_cache_info",
]

logger = logging.getLogger(__name__)

#: How far (m) OSRM may move a point onto a road before it is an error, unless told otherwise.
DEFAULT_SNAP_LIMIT_M = 500.0

#: Decimals of degrees sent to OSRM and used as cache keys: 1e-6 degrees is about 0.1 m, the
#: precision OSRM stores coordinates with.
COORDINATE_DECIMALS = 6

#: First pause (s) before retrying a failed connection; it doubles at each retry.
BACKOFF_S = 0.1

#: Memory the in-process matrix cache may hold (two int64 matrices per entry): 256 MiB holds
#: the matrices of about 4,000 distinct locations.
MATRIX_CACHE_BYTES = 256 * 1024 * 1024

#: Disk the matrices kept in a dataset's folder may take: past it, the least recently used are
#: removed (a 2,500-visit day's matrix takes 77 MB; a day's validation, solve and re-plans
#: each ask for a set of places of their own).
MATRIX_DISK_BYTES = 1024 * 1024 * 1024

#: Largest block asked at once, whatever the server allows: one huge answer is slower to read
#: than several blocks (``benchmarks/roads.py``), and an answer that takes OSRM more than its
#: keep-alive timeout (5 s by default) to write may be cut off.
TABLE_BLOCK = 1000

#: Longest request line sent: osrm-routed drops a request of more than 48 KiB without a word
#: (measured: 48,837 bytes answered, 48,857 dropped), so blocks are sized to stay under it,
#: coordinates and the ``sources``/``destinations`` lists of an off-diagonal block included.
URL_BUDGET_BYTES = 45_000

#: Blocks asked at once: the server computes one while this process reads the other.
TABLE_CONCURRENCY = 2

#: OSRM's own default ``--max-table-size``: a safe block size for a server of unknown limit.
OSRM_DEFAULT_TABLE_SIZE = 100

#: OSRM's default ``--max-viaroute-size``: points per ``route`` request.
_OSRM_DEFAULT_ROUTE_SIZE = 500

#: HTTP answers of a proxy in front of a server that is restarting: worth one more try.
_RETRY_STATUS = frozenset({502, 503, 504})

#: Seconds a health check waits for the server's answer.
HEALTH_TIMEOUT_S = 2.0

#: Characters of a request or an answer quoted in an error.
_QUOTE_CHARS = 160

#: Sites named in one error message.
_NAMED = 5


class SnapError(TravelTimeError):
    """Sites that lie farther from any road than the snap limit.

    Parameters
    ----------
    too_far
        ``(site index, metres to the nearest road)`` for every such site, by index.
    limit_m
        The snap limit.
    server
        The OSRM server asked.
    """

    def __init__(
        self, too_far: Sequence[tuple[int, float]], *, limit_m: float, server: str
    ) -> None:
        self.too_far: tuple[tuple[int, float], ...] = tuple(too_far)
        self.limit_m = limit_m
        self.server = server
        named = ", ".join(f"site {index} ({metres:.0f} m)" for index, metres in too_far[:_NAMED])
        more = f" and {len(too_far) - _NAMED} more" if len(too_far) > _NAMED else ""
        super().__init__(
            f"{len(too_far)} site(s) lie farther than {limit_m:.0f} m from any road of the "
            f"OSRM server {server}: {named}{more}"
        )

    @property
    def indices(self) -> tuple[int, ...]:
        """The site indices that are off the roads."""
        return tuple(index for index, _ in self.too_far)

    def __reduce__(self) -> tuple[Any, ...]:
        # Crosses process boundaries (solve workers) whole, not as its message alone.
        return (_snap_error, (self.too_far, self.limit_m, self.server))


def _snap_error(too_far: tuple[tuple[int, float], ...], limit_m: float, server: str) -> SnapError:
    return SnapError(too_far, limit_m=limit_m, server=server)


def _network(no_road: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """The points of the largest group joined both ways (``no_road[i, j]``: no route from
    ``i`` to ``j``; a route's table is closed under the roads, so being joined both ways is
    an equivalence), as a mask; the first found (from the best-joined point) among equals."""
    n = len(no_road)
    joined = ~no_road & ~no_road.T
    order = np.argsort(no_road.sum(axis=0) + no_road.sum(axis=1), kind="stable")
    grouped = np.zeros(n, dtype=bool)
    best = np.zeros(n, dtype=bool)
    for point in order:
        if grouped[point]:
            continue
        group = joined[point].copy()
        group[point] = True
        grouped |= group
        if group.sum() > best.sum():
            best = group
    return best


class RoadServerDownError(TravelTimeError):
    """The road server did not answer in time, or could not be reached after its retries:
    what follows from it would wait as long (a route's line, the next route's)."""


class NoRoadError(TravelTimeError):
    """Sites the roads do not join to the others (an island, a road one way out of the
    extract): ``cut_off`` holds ``(site index, pairs of sites with no road)`` for each site
    outside the largest group joined both ways (``_network``), or, when every site is in it
    (a table not closed under its roads), for the sites in the most such pairs (more than
    half as many as the most)."""

    def __init__(self, message: str, cut_off: Sequence[tuple[int, int]]) -> None:
        self.cut_off: tuple[tuple[int, int], ...] = tuple(cut_off)
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        # Crosses process boundaries (solve workers) whole, not as its message alone.
        return (NoRoadError, (str(self), self.cut_off))


@dataclass(frozen=True, slots=True)
class CacheInfo:
    """What the matrix cache holds and how often it answered."""

    hits: int
    misses: int
    entries: int
    bytes: int


@dataclass(frozen=True, slots=True)
class _Table:
    """A matrix over sorted distinct points, and how far each point was moved onto a road."""

    durations_s: NDArray[np.int64]
    distances_m: NDArray[np.int64]
    snap_m: NDArray[np.float64]


_CacheKey = tuple[str, tuple[tuple[float, float], ...]]


class _MatrixCache:
    """A thread-safe LRU of tables, bounded by bytes."""

    def __init__(self, max_bytes: int) -> None:
        self._max_bytes = max_bytes
        self._entries: OrderedDict[_CacheKey, _Table] = OrderedDict()
        self._bytes = 0
        self._hits = 0
        self._misses = 0
        self._lock = threading.Lock()

    def get(self, key: _CacheKey) -> _Table | None:
        with self._lock:
            table = self._entries.get(key)
            if table is None:
                self._misses += 1
                return None
            self._entries.move_to_end(key)
            self._hits += 1
            return table

    def put(self, key: _CacheKey, table: _Table) -> None:
        size = _size(table)
        if size > self._max_bytes:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= _size(old)
            self._entries[key] = table
            self._bytes += size
            while self._bytes > self._max_bytes:
                _, evicted = self._entries.popitem(last=False)
                self._bytes -= _size(evicted)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = self._hits = self._misses = 0

    def info(self) -> CacheInfo:
        with self._lock:
            return CacheInfo(self._hits, self._misses, len(self._entries), self._bytes)


def _table_file(folder: Path, key: _CacheKey) -> Path:
    digest = hashlib.sha256(json.dumps(key).encode("utf-8")).hexdigest()
    return folder / f"{digest[:32]}.npz"


def _read_table(folder: Path, key: _CacheKey) -> _Table | None:
    """A table kept on disk by an earlier process, or ``None``; a damaged file is ignored.
    A table read is marked used now (``_pruned`` keeps the most recently used)."""
    path = _table_file(folder, key)
    try:
        with np.load(path, allow_pickle=False) as stored:
            table = _Table(stored["durations_s"], stored["distances_m"], stored["snap_m"])
        os.utime(path)
    except (OSError, KeyError, ValueError):
        return None
    return table


def _write_table(folder: Path, key: _CacheKey, table: _Table) -> None:
    """Keep ``table`` on disk; written to a scratch name and renamed, so never half-read."""
    path = _table_file(folder, key)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        scratch = path.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(
            scratch,
            durations_s=table.durations_s,
            distances_m=table.distances_m,
            snap_m=table.snap_m,
        )
        scratch.replace(path)
        _pruned(folder)
    except OSError as error:  # a cache is a courtesy: the matrix is answered all the same
        logger.warning("could not keep a matrix in %s: %s", folder, error)


def _pruned(folder: Path) -> None:
    """Remove the least recently used tables of ``folder`` until they take at most
    ``MATRIX_DISK_BYTES``: nothing removed them, and a service's folder grew by every set of
    places it was asked about (one 2,500-visit day: 77 MB). A table another process removes
    first, or is reading, is left to it."""
    tables = []
    for path in folder.glob("*.npz"):
        if ".tmp." in path.name:  # another process's, being written
            continue
        try:
            found = path.stat()
        except OSError:
            continue
        tables.append((found.st_mtime, found.st_size, path))
    total = sum(size for _, size, _ in tables)
    for _, size, path in sorted(tables):
        if total <= MATRIX_DISK_BYTES:
            break
        path.unlink(missing_ok=True)
        total -= size


def _size(table: _Table) -> int:
    return table.durations_s.nbytes + table.distances_m.nbytes + table.snap_m.nbytes


_CACHE = _MatrixCache(MATRIX_CACHE_BYTES)


def matrix_cache_info() -> CacheInfo:
    """Hits, misses and size of the process's matrix cache."""
    return _CACHE.info()


def clear_matrix_cache() -> None:
    """Empty the process's matrix cache (tests; a dataset rebuilt under the same id)."""
    _CACHE.clear()


@dataclass(frozen=True, slots=True)
class Roads:
    """Where road travel comes from: an OSRM server a process was given (``--roads``).

    Plain data, handed to worker processes; each builds its ``OsrmProvider`` from it.

    Parameters
    ----------
    url
        The server, e.g. ``http://127.0.0.1:5000``.
    max_table_size
        Locations per ``table`` request the server accepts (its ``--max-table-size``).
    dataset_id
        What identifies its roads (a prepared dataset's ``key``); the URL when not given.
    matrix_dir
        Where matrices are kept across processes (a prepared dataset's own folder, whose roads
        never change under its key); only in memory when not given.
    """

    url: str
    max_table_size: int = OSRM_DEFAULT_TABLE_SIZE
    dataset_id: str | None = None
    matrix_dir: Path | None = None

    def provider(self, snap_limit_m: float = DEFAULT_SNAP_LIMIT_M) -> OsrmProvider:
        """A provider asking this server, with a day's snap limit."""
        return OsrmProvider(
            self.url,
            max_table_size=self.max_table_size,
            snap_limit_m=snap_limit_m,
            dataset_id=self.dataset_id,
            matrix_dir=self.matrix_dir,
        )

    def answers(self, timeout_s: float = HEALTH_TIMEOUT_S) -> bool:
        """Whether the server answers an HTTP request within ``timeout_s``: any answer will do
        (asked the nearest road to 0,0, OSRM may well say it has none), no answer is a
        server gone, which every solve on its roads would fail on."""
        try:
            httpx2.get(f"{self.url}/nearest/v1/driving/0,0", timeout=timeout_s)
        except httpx2.HTTPError:
            return False
        return True


class OsrmProvider:
    """Travel times on real roads from an OSRM server (see the module docstring).

    Parameters
    ----------
    base_url
        The server, e.g. ``http://127.0.0.1:5000``.
    timeout_s
        Bound on connecting and on each read of one HTTP request.
    retries
        Further attempts after a refused or broken connection or HTTP 502/503/504. The longest
        a call can wait on a dead server is about ``(retries + 1) * timeout_s`` plus the
        backoff pauses.
    max_table_size
        The server's ``--max-table-size`` (OSRM's default 100): sources and destinations per
        request.
    snap_limit_m
        How far a site may lie from the nearest road.
    dataset_id
        What identifies the server's roads for the matrix cache (a dataset's ``key``); the
        ``base_url`` when not given.
    profile
        The profile segment of OSRM's URLs (OSRM serves one profile per server).
    max_route_size
        The server's ``--max-viaroute-size``: points per ``route`` request.
    transport
        An httpx2 transport to send requests through (a proxy, a mock, a test's hook); the
        caller keeps it open and closes it. A fresh connection pool per call by default.
    matrix_dir
        Where matrices are also kept on disk, for other processes on the same roads (the
        solve, then its re-plans); give it only with a ``dataset_id`` whose roads never change.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout_s: float = 30.0,
        retries: int = 2,
        max_table_size: int = OSRM_DEFAULT_TABLE_SIZE,
        snap_limit_m: float = DEFAULT_SNAP_LIMIT_M,
        dataset_id: str | None = None,
        profile: str = "driving",
        max_route_size: int = _OSRM_DEFAULT_ROUTE_SIZE,
        transport: httpx2.BaseTransport | None = None,
        matrix_dir: Path | None = None,
    ) -> None:
        if max_table_size < 1 or max_route_size < 2:
            raise ValueError("max_table_size must be >= 1 and max_route_size >= 2")
        if timeout_s <= 0 or retries < 0:
            raise ValueError("timeout_s must be > 0 and retries >= 0")
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.retries = retries
        self.max_table_size = max_table_size
        self.snap_limit_m = snap_limit_m
        self.dataset_id = dataset_id or self.base_url
        self.profile = profile
        self.max_route_size = max_route_size
        self._transport = None if transport is None else _Borrowed(transport)
        self.matrix_dir = matrix_dir

    def matrix(self, sites: Sequence[Site]) -> Matrices:
        """Road durations (s, rounded up) and distances (m) between ``sites``; row = from.

        Raises
        ------
        SnapError
            When sites lie farther than ``snap_limit_m`` from any road.
        TravelTimeError
            When a site has no coordinates, two sites have no road between them, or the
            server cannot be reached or refuses (see the module docstring).
        """
        missing = [i for i, site in enumerate(sites) if site.location is None]
        if missing:
            raise TravelTimeError(
                f"the osrm provider needs coordinates; sites {missing[:_NAMED]} have none"
            )
        rounded = [_rounded(site.location) for site in sites if site.location is not None]
        if not rounded:
            empty = np.zeros((0, 0), dtype=np.int64)
            return empty, empty.copy()
        points = sorted(set(rounded))
        key: _CacheKey = (self.dataset_id, tuple(points))
        position = {point: i for i, point in enumerate(points)}
        rows = np.array([position[point] for point in rounded], dtype=np.int64)
        table = _CACHE.get(key)
        if table is None and self.matrix_dir is not None:
            table = _read_table(self.matrix_dir, key)
            if table is not None:
                _CACHE.put(key, table)
        if table is None:
            table = self._table(points, rows)
            _CACHE.put(key, table)
            if self.matrix_dir is not None:
                _write_table(self.matrix_dir, key, table)
        else:
            logger.debug("matrix of %d points from the cache", len(points))
        self._check_snapping(table.snap_m[rows])
        pick = np.ix_(rows, rows)
        return table.durations_s[pick], table.distances_m[pick]

    def route_geometry(self, points: Sequence[LatLon]) -> list[tuple[float, float]]:
        """The road line through ``points`` in order, as ``(lat, lon)`` pairs.

        Longer sequences than the server's ``max_route_size`` are asked in overlapping pieces
        and joined. Fewer than two points give their own coordinates.

        Raises
        ------
        TravelTimeError
            When the server cannot be reached, refuses, or finds no route.
        """
        if len(points) < 2:
            return [(point.lat, point.lon) for point in points]
        line: list[tuple[float, float]] = []
        step = self.max_route_size - 1
        with self._client() as client:
            for start in range(0, len(points) - 1, step):
                piece = [_rounded(point) for point in points[start : start + step + 1]]
                answer = self._get(
                    client,
                    "route",
                    _coordinates(piece),
                    {
                        "overview": "full",
                        "geometries": "geojson",
                        "steps": "false",
                        # Each leg as the table measured it: turning at a stop is allowed.
                        "continue_straight": "false",
                    },
                    f"route through points {start}-{start + len(piece) - 1}",
                )
                try:
                    coordinates = answer["routes"][0]["geometry"]["coordinates"]
                    piece_line = [(float(lat), float(lon)) for lon, lat in coordinates]
                except (KeyError, IndexError, TypeError, ValueError) as error:
                    raise TravelTimeError(
                        f"OSRM server {self.base_url} sent a route without geometry "
                        f"for points {start}-{start + len(piece) - 1}"
                    ) from error
                line.extend(piece_line[1:] if line else piece_line)
        return line

    # -- the table, in blocks -------------------------------------------------------------

    def _table(self, points: list[tuple[float, float]], rows: NDArray[np.int64]) -> _Table:
        """The table over distinct ``points``; ``rows[site]`` is the point of each site, so
        that errors name sites, not points."""
        count = len(points)
        size = min(self.max_table_size, TABLE_BLOCK, _fitting_block(points))
        durations = np.empty((count, count), dtype=np.int64)
        distances = np.empty((count, count), dtype=np.int64)
        snap_m = np.full(count, np.nan, dtype=np.float64)
        blocks = [range(start, min(start + size, count)) for start in range(0, count, size)]
        started = time.monotonic()
        # The diagonal blocks first: they snap every point once, so that a site off the roads
        # is reported before the rest of the table is asked for.
        order = [(block, block) for block in blocks] + list(_off_diagonal(blocks))

        def ask(client: httpx2.Client, number: int) -> None:
            sources, destinations = order[number - 1]
            what = (
                f"table block {number}/{len(order)} "
                f"({len(sources)} x {len(destinations)} of {count} points)"
            )
            source_snap, destination_snap = self._block(
                client, points, sources, destinations, what, durations, distances
            )
            snap_m[np.array(sources)] = source_snap  # blocks write disjoint parts
            snap_m[np.array(destinations)] = destination_snap

        with self._client() as client, ThreadPoolExecutor(TABLE_CONCURRENCY) as pool:
            for _ in pool.map(lambda n: ask(client, n), range(1, len(blocks) + 1)):
                pass
            self._check_snapping(snap_m[rows])
            for _ in pool.map(lambda n: ask(client, n), range(len(blocks) + 1, len(order) + 1)):
                pass
        no_road = durations < 0
        if no_road.any():
            raise self._no_road(no_road, rows)
        logger.info(
            "OSRM table %d x %d from %s in %d request(s), %.2f s",
            count,
            count,
            self.base_url,
            len(blocks) ** 2,
            time.monotonic() - started,
        )
        for table in (durations, distances, snap_m):
            table.flags.writeable = False
        return _Table(durations, distances, snap_m)

    def _block(
        self,
        client: httpx2.Client,
        points: list[tuple[float, float]],
        sources: range,
        destinations: range,
        what: str,
        durations: NDArray[np.int64],
        distances: NDArray[np.int64],
    ) -> tuple[list[float], list[float]]:
        """Ask one block of the table and write it into the matrices (-1 where no road).

        Returns how far the sources and the destinations were moved onto a road.
        """
        params = {"annotations": "duration,distance"}
        if sources == destinations and len(sources) > 1:
            asked = [points[i] for i in sources]
        else:
            # Two blocks, or one point (OSRM asks for at least two coordinates) given twice.
            asked = [points[i] for i in sources] + [points[j] for j in destinations]
            params["sources"] = ";".join(str(i) for i in range(len(sources)))
            params["destinations"] = ";".join(
                str(len(sources) + j) for j in range(len(destinations))
            )
        answer = self._get(client, "table", _coordinates(asked), params, what)
        try:
            block_s = np.array(answer["durations"], dtype=np.float64)
            block_m = np.array(answer["distances"], dtype=np.float64)
            source_snap = [float(waypoint["distance"]) for waypoint in answer["sources"]]
            destination_snap = [float(waypoint["distance"]) for waypoint in answer["destinations"]]
        except (KeyError, TypeError, ValueError) as error:
            raise TravelTimeError(
                f"OSRM server {self.base_url} sent an unreadable answer to the {what}: "
                f"missing or malformed {error}"
            ) from error
        shape = (len(sources), len(destinations))
        if block_s.shape != shape or block_m.shape != shape:
            raise TravelTimeError(
                f"OSRM server {self.base_url} answered the {what} with a {block_s.shape} "
                f"table, not {shape}"
            )
        # OSRM answers null (NaN here) for a pair with no road between them.
        no_road = np.isnan(block_s) | np.isnan(block_m)
        pick = np.ix_(np.array(sources), np.array(destinations))
        durations[pick] = np.where(no_road, -1, np.ceil(np.round(block_s, 3)))
        distances[pick] = np.where(no_road, -1, np.rint(block_m))
        return source_snap, destination_snap

    def _no_road(self, no_road: NDArray[np.bool_], rows: NDArray[np.int64]) -> NoRoadError:
        """Name the sites cut off: a clipped extract leaves some roads one way out. A table
        answers for whole routes, so the sites joined both ways form groups, the largest the
        network (``_network``); every site outside it is cut off (one way or both), named all
        at once: named five at a time, a desk fixed a day in four rounds."""
        per_site = (no_road.sum(axis=0) + no_road.sum(axis=1))[rows]
        worst = np.argsort(-per_site, kind="stable")[:_NAMED]
        named = ", ".join(f"site {int(i)} ({int(per_site[i])} pairs)" for i in worst)
        joined = _network(no_road)
        cut_off = [(int(i), int(per_site[i])) for i in np.flatnonzero(~joined[rows])]
        if not cut_off:
            # Cut off one way (a road out of the extract): in a pair with each other site,
            # which are in one pair each with it; named, they were blamed beside it.
            most = int(per_site.max(initial=0))
            cut_off = [(int(i), int(per_site[i])) for i in worst if 2 * per_site[i] > most]
        return NoRoadError(
            f"OSRM server {self.base_url} finds no road between {int(no_road.sum())} of "
            f"{no_road.size - len(no_road)} pairs of points; the sites cut off most: {named}. "
            "Their roads may be cut off from the rest (one-way out of the extract, an island)",
            cut_off,
        )

    def _check_snapping(self, snap_m: NDArray[np.float64]) -> None:
        far = np.flatnonzero(snap_m > self.snap_limit_m)
        if far.size:
            too_far = [(int(i), float(snap_m[i])) for i in far]
            raise SnapError(too_far, limit_m=self.snap_limit_m, server=self.base_url)

    # -- HTTP -----------------------------------------------------------------------------

    def _client(self) -> httpx2.Client:
        """A client for one call: its connections are kept across the call's requests."""
        return httpx2.Client(
            base_url=self.base_url,
            timeout=httpx2.Timeout(self.timeout_s),
            transport=self._transport,
            trust_env=False,
        )

    def _get(
        self,
        client: httpx2.Client,
        service: str,
        coordinates: str,
        params: dict[str, str],
        what: str,
    ) -> dict[str, Any]:
        """GET one OSRM service, retrying broken connections; the answer's JSON when ``Ok``."""
        path = f"/{service}/v1/{self.profile}/{coordinates}"
        request = f"{what} ({service} {_quote(path)})"
        for attempt, pause in enumerate(_backoff(self.retries)):
            try:
                response = client.get(path, params=params)
            except httpx2.TimeoutException as error:
                raise RoadServerDownError(
                    f"OSRM server {self.base_url} did not answer the {request} within "
                    f"{self.timeout_s:g} s ({type(error).__name__})"
                ) from error
            except httpx2.TransportError as error:
                if pause is None:
                    raise RoadServerDownError(
                        f"OSRM server {self.base_url} cannot be reached for the {request} "
                        f"after {attempt + 1} attempt(s): {type(error).__name__}: {error}"
                    ) from error
                logger.warning("OSRM %s: %s; retrying in %.1f s", self.base_url, error, pause)
                time.sleep(pause)
                continue
            if response.status_code in _RETRY_STATUS and pause is not None:
                logger.warning(
                    "OSRM %s answered HTTP %d; retrying in %.1f s",
                    self.base_url,
                    response.status_code,
                    pause,
                )
                time.sleep(pause)
                continue
            return self._answer(response, request)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _answer(self, response: httpx2.Response, request: str) -> dict[str, Any]:
        """The JSON of an ``Ok`` answer; anything else as a ``TravelTimeError``."""
        try:
            document = response.json()
        except ValueError:
            document = None
        if not isinstance(document, dict):
            raise TravelTimeError(
                f"OSRM server {self.base_url} answered the {request} with HTTP "
                f"{response.status_code} and no OSRM answer: {_quote(response.text)!r}"
            )
        code = document.get("code")
        if code != "Ok":
            message = document.get("message", "")
            hint = (
                "; the server takes fewer locations a request than fieldroute sends it (up to "
                f"{self.max_table_size}): set FIELDROUTE_ROADS_TABLE_SIZE to its --max-table-size"
                if code == "TooBig"
                else ""
            )
            raise TravelTimeError(
                f"OSRM server {self.base_url} refused the {request}: {code}: {message} "
                f"(HTTP {response.status_code}){hint}"
            )
        return document


class _Borrowed(httpx2.BaseTransport):
    """A caller's transport, lent to one client after another: closing the client leaves it
    open."""

    def __init__(self, transport: httpx2.BaseTransport) -> None:
        self._transport = transport

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        return self._transport.handle_request(request)

    def close(self) -> None:
        """Leave the transport open: it is the caller's."""


def _backoff(retries: int) -> Iterator[float | None]:
    """The pause before each retry, doubling; ``None`` marks the last attempt."""
    for retry in range(retries):
        yield BACKOFF_S * 2**retry
    yield None


def _fitting_block(points: Sequence[tuple[float, float]]) -> int:
    """The largest block whose request line stays within ``URL_BUDGET_BYTES``: an off-diagonal
    block sends twice its size in coordinates and in indices."""
    coordinate = max((len(_coordinates([point])) for point in points), default=1) + 1
    index = len(str(2 * len(points))) + 1
    return max(1, URL_BUDGET_BYTES // (2 * (coordinate + index)))


def _off_diagonal(blocks: list[range]) -> Iterator[tuple[range, range]]:
    for i, sources in enumerate(blocks):
        for j, destinations in enumerate(blocks):
            if i != j:
                yield sources, destinations


def _rounded(point: LatLon) -> tuple[float, float]:
    if not (math.isfinite(point.lat) and math.isfinite(point.lon)):
        raise TravelTimeError(f"the osrm provider cannot route from {point}")
    return round(point.lat, COORDINATE_DECIMALS), round(point.lon, COORDINATE_DECIMALS)


def _coordinates(points: Sequence[tuple[float, float]]) -> str:
    """OSRM's ``lon,lat;lon,lat`` path segment."""
    return ";".join(
        f"{lon:.{COORDINATE_DECIMALS}f},{lat:.{COORDINATE_DECIMALS}f}" for lat, lon in points
    )


def _quote(text: str) -> str:
    return text if len(text) <= _QUOTE_CHARS else f"{text[:_QUOTE_CHARS]}..."
