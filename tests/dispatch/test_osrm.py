"""Road travel times on a real ``osrm-routed``: the tools, a dataset, the server, the provider.

The session prepares the Andorra extract of the shared data (``../shared/data/osm``, or
``$FIELDROUTE_BENCHMARK_DATA/osm``) into a temporary cache with OSRM's own tools, found by
``find_tools`` or fetched once into fieldroute's cache by ``install_tools``, and serves it on
loopback with a small ``--max-table-size`` so that chunking shows on a few dozen points. The
tests are skipped, saying why, only when the tools cannot be had (no network on a machine
without them) or the extract is absent.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import pickle
import re
import shutil
import signal
import socket
import threading
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx2
import numpy as np
import pytest

from dispatch.errors import TravelTimeError
from dispatch.model import LatLon, Site
from dispatch.travel import osrm
from dispatch.travel.osrm import (
    TABLE_CONCURRENCY,
    NoRoadError,
    OsrmProvider,
    SnapError,
    clear_matrix_cache,
    matrix_cache_info,
)
from dispatch.travel.osrm_tools import (
    OsrmTools,
    file_sha256,
    find_tools,
    unpack_wheel,
)
from dispatch.travel.roads import DATASET_BASE, Dataset, PrepareProgress, prepare
from dispatch.travel.routed import RoutedServer, serve
from tests.processes import killed_afterwards, still_running
from tests.processes import running as process_running

#: ``--max-table-size`` of the session's server: small, so that 60 points need 3 x 3 blocks.
SERVER_TABLE_SIZE = 25

#: Andorra la Vella: the parliament square, a street 1.2 km east, and three more nearby.
VELLA = [
    LatLon(42.5063, 1.5218),
    LatLon(42.5080, 1.5340),
    LatLon(42.5100, 1.5200),
    LatLon(42.5100, 1.5300),
    LatLon(42.5050, 1.5250),
]

#: Two points 115 m apart on Avinguda Prat de la Creu, a one-way carriageway: from the second
#: to the first is a short drive along it, the other way round a loop of about 700 m.
ONE_WAY = (LatLon(42.507185, 1.526774), LatLon(42.507835, 1.527868))

#: Toulouse: about 90 km north of any road of the extract.
OFF_THE_MAP = LatLon(43.6045, 1.4440)


def _great_circle_m(a: LatLon, b: LatLon) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (a.lat, a.lon, b.lat, b.lon))
    half = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_008.8 * math.asin(math.sqrt(half))


def _grid(count: int) -> list[LatLon]:
    """``count`` points on a grid over Andorra la Vella and Escaldes (all near a road)."""
    side = math.ceil(math.sqrt(count))
    return [
        LatLon(42.5020 + 0.0012 * (i // side), 1.5150 + 0.0018 * (i % side)) for i in range(count)
    ][:count]


def _sites(points: list[LatLon]) -> list[Site]:
    return [Site(location=point) for point in points]


# -- the session's tools, dataset and server ------------------------------------------------


@pytest.fixture(scope="session")
def server(tools: OsrmTools, andorra: Dataset) -> Iterator[RoutedServer]:
    with serve(andorra, tools=tools, max_table_size=SERVER_TABLE_SIZE) as running:
        yield running


@pytest.fixture(autouse=True)
def _empty_matrix_cache() -> Iterator[None]:
    clear_matrix_cache()
    yield
    clear_matrix_cache()


def _provider(
    server: RoutedServer,
    *,
    max_table_size: int | None = None,
    dataset_id: str | None = None,
    snap_limit_m: float = 500.0,
    max_route_size: int = 500,
) -> OsrmProvider:
    """A provider on ``server``, with the server's table limit and dataset unless told."""
    return OsrmProvider(
        server.base_url,
        timeout_s=10.0,
        max_table_size=max_table_size or server.max_table_size,
        dataset_id=dataset_id or server.dataset.key,
        snap_limit_m=snap_limit_m,
        max_route_size=max_route_size,
    )


# -- preparing a dataset ---------------------------------------------------------------------


def test_prepare_builds_a_contracted_car_dataset_keyed_by_the_extracts_content(
    andorra: Dataset, andorra_extract: Path, tools: OsrmTools
) -> None:
    digest = file_sha256(andorra_extract)
    assert andorra.extract_sha256 == digest
    assert andorra.folder.name.startswith(digest[:16])
    assert andorra.osrm_version == tools.version and andorra.folder.name.endswith(tools.version)
    assert andorra.base == andorra.folder / DATASET_BASE
    assert (andorra.folder / f"{DATASET_BASE}.hsgr").stat().st_size > 0  # the hierarchy
    marker = json.loads((andorra.folder / "complete.json").read_text())
    assert marker["extract_sha256"] == digest and marker["profile"] == "car"
    # Only the dataset lies beside it: no scratch folder left behind.
    assert [p.name for p in andorra.folder.parent.iterdir()] == [andorra.folder.name]


def test_a_second_prepare_of_the_same_content_is_instant(
    andorra: Dataset, andorra_extract: Path, roads_cache: Path, tools: OsrmTools, tmp_path: Path
) -> None:
    renamed = tmp_path / "principality.osm.pbf"  # another name, the same content
    shutil.copyfile(andorra_extract, renamed)
    before = (andorra.base.with_suffix(".osrm.hsgr")).stat().st_mtime_ns
    stages: list[PrepareProgress] = []
    started = time.monotonic()
    again = prepare(renamed, cache_dir=roads_cache, tools=tools, on_progress=stages.append)
    assert time.monotonic() - started < 0.5
    assert again == andorra
    assert [step.stage for step in stages] == ["hashing", "cached"]
    assert (andorra.base.with_suffix(".osrm.hsgr")).stat().st_mtime_ns == before


def test_a_half_built_dataset_is_built_again(
    andorra_extract: Path, tools: OsrmTools, tmp_path: Path
) -> None:
    first = prepare(andorra_extract, cache_dir=tmp_path, tools=tools)
    (first.folder / "complete.json").unlink()  # as if the build had stopped before the end
    (first.folder / f"{DATASET_BASE}.hsgr").write_bytes(b"half")
    stages: list[str] = []
    second = prepare(
        andorra_extract,
        cache_dir=tmp_path,
        tools=tools,
        on_progress=lambda step: stages.append(step.stage),
    )
    assert second == first
    assert stages == ["hashing", "extracting", "contracting", "done"]
    assert (second.folder / "complete.json").is_file()
    assert (second.folder / f"{DATASET_BASE}.hsgr").stat().st_size > len(b"half")


def test_a_broken_extract_is_an_error_quoting_osrm(tools: OsrmTools, tmp_path: Path) -> None:
    broken = tmp_path / "broken.osm.pbf"
    broken.write_bytes(b"this is not a protocol buffer")
    with pytest.raises(
        TravelTimeError,
        match=r"osrm-extract failed \((exit|signal) \w+\) on .*broken(.|\n)*PBF error",
    ):
        prepare(broken, cache_dir=tmp_path / "cache", tools=tools)
    assert list((tmp_path / "cache").iterdir()) == []  # no half-built folder kept


# -- the server ------------------------------------------------------------------------------


#: A process that serves a pickled dataset with pickled tools, says the server's pid and waits
#: to be killed.
_SERVING = """
import pickle, sys, time
from pathlib import Path
from dispatch.travel.routed import serve

if __name__ == "__main__":
    dataset, tools = pickle.loads(Path(sys.argv[1]).read_bytes())
    with serve(dataset, tools=tools) as running:
        print(running.pid, flush=True)
        time.sleep(120)
"""


def test_serve_answers_on_loopback_and_leaves_nothing_running(
    andorra: Dataset, tools: OsrmTools
) -> None:
    with serve(andorra, tools=tools) as running:
        assert running.base_url.startswith("http://127.0.0.1:")
        assert process_running(running.pid)
        answer = httpx2.get(f"{running.base_url}/nearest/v1/driving/1.5218,42.5063", timeout=5)
        assert answer.json()["code"] == "Ok"
    assert not process_running(running.pid)


def test_a_server_ends_when_the_process_that_started_it_is_killed(
    andorra: Dataset, tools: OsrmTools, tmp_path: Path
) -> None:
    # A SIGKILL (the OOM killer) runs no block's end: the server served on, orphaned, holding
    # its dataset, until the kernel's parent-death signal (setpriv) was set on it.
    state = tmp_path / "serving.pickle"
    state.write_bytes(pickle.dumps((andorra, tools)))
    with killed_afterwards(_SERVING, tmp_path, str(state)) as output:
        server = int(output.readline())
        assert process_running(server)
    assert not still_running({server})


def test_serve_stops_the_server_when_the_block_fails(andorra: Dataset, tools: OsrmTools) -> None:
    pid = 0
    with pytest.raises(KeyError), serve(andorra, tools=tools) as running:
        pid = running.pid
        raise KeyError("the caller failed")
    assert pid and not process_running(pid)


def test_a_server_that_cannot_start_is_an_error_quoting_its_log(
    andorra: Dataset, tools: OsrmTools, tmp_path: Path
) -> None:
    missing = Dataset(tmp_path / "nothing", andorra.extract_sha256, andorra.osrm_version)
    started = time.monotonic()
    failing = pytest.raises(TravelTimeError, match=r"osrm-routed on nothing .* exited with code")
    with failing, serve(missing, tools=tools):
        pass
    assert time.monotonic() - started < 10


def test_serve_refuses_a_dataset_of_another_osrm_release(
    andorra: Dataset, tools: OsrmTools
) -> None:
    older = Dataset(andorra.folder, andorra.extract_sha256, "5.27.1")
    refused = pytest.raises(TravelTimeError, match=r"prepared by OSRM 5.27.1.*prepare it again")
    with refused, serve(older, tools=tools):
        pass


# -- matrices --------------------------------------------------------------------------------


def test_a_small_table_is_road_distances_and_plausible_durations(server: RoutedServer) -> None:
    durations, distances = _provider(server).matrix(_sites(VELLA))
    assert durations.dtype == np.int64 and distances.dtype == np.int64
    assert durations.shape == distances.shape == (5, 5)
    assert np.all(np.diag(durations) == 0) and np.all(np.diag(distances) == 0)
    for i, j in [(i, j) for i in range(5) for j in range(5) if i != j]:
        straight = _great_circle_m(VELLA[i], VELLA[j])
        # On roads, never shorter than the straight line (less the two snaps, a few metres),
        # and in a town not more than four times as long.
        assert straight - 30 <= distances[i, j] <= 4 * straight + 300, (i, j)
        speed_kmh = distances[i, j] / durations[i, j] * 3.6
        assert 5 <= speed_kmh <= 90, (i, j, speed_kmh)


def test_durations_are_rounded_up_and_distances_to_the_metre(server: RoutedServer) -> None:
    path = ";".join(f"{point.lon},{point.lat}" for point in VELLA)
    raw = httpx2.get(
        f"{server.base_url}/table/v1/driving/{path}",
        params={"annotations": "duration,distance"},
        timeout=5,
    ).json()
    durations, distances = _provider(server).matrix(_sites(VELLA))
    assert any(value % 1 for row in raw["durations"] for value in row)  # fractions to round
    np.testing.assert_array_equal(durations, np.ceil(np.array(raw["durations"])))
    np.testing.assert_array_equal(distances, np.rint(np.array(raw["distances"])))


def test_duplicate_sites_share_one_point(server: RoutedServer) -> None:
    sites = _sites([VELLA[0], VELLA[1], VELLA[0]])
    durations, distances = _provider(server).matrix(sites)
    assert durations[0, 2] == durations[2, 0] == 0 and distances[2, 0] == 0
    assert durations[2, 1] == durations[0, 1] and durations[1, 2] == durations[1, 0]


def test_one_way_streets_make_the_two_directions_differ(server: RoutedServer) -> None:
    durations, distances = _provider(server).matrix(_sites(list(ONE_WAY)))
    straight = _great_circle_m(*ONE_WAY)
    assert distances[1, 0] < 1.5 * straight  # along the one-way street
    assert distances[0, 1] > 4 * straight  # round the block, against it
    assert durations[0, 1] > 3 * durations[1, 0]


def test_a_table_larger_than_the_servers_limit_is_asked_in_blocks(
    server: RoutedServer, andorra: Dataset, tools: OsrmTools
) -> None:
    sites = _sites(_grid(60))  # 60 > 25: 3 x 3 blocks, the last ones 10 wide
    chunked = _provider(server).matrix(sites)
    finer = _provider(server, max_table_size=7, dataset_id="finer blocks").matrix(sites)
    with serve(andorra, tools=tools, max_table_size=100) as roomy:
        whole = _provider(roomy, dataset_id="one request").matrix(sites)
    for got in (chunked, finer):
        np.testing.assert_array_equal(got[0], whole[0])
        np.testing.assert_array_equal(got[1], whole[1])
    # A real table: a few neighbours on the grid snap onto the same spot of road, no more.
    assert whole[0].shape == (60, 60) and np.count_nonzero(whole[0]) > 0.9 * 60 * 59


def test_a_site_far_from_any_road_is_named_by_its_index(server: RoutedServer) -> None:
    sites = _sites([VELLA[0], OFF_THE_MAP, VELLA[1], OFF_THE_MAP])
    with pytest.raises(SnapError) as raised:
        _provider(server).matrix(sites)
    assert raised.value.indices == (1, 3)
    assert raised.value.too_far[0][1] > 50_000
    assert "site 1 (" in str(raised.value) and server.base_url in str(raised.value)


def test_the_snap_limit_is_checked_on_cached_matrices_too(server: RoutedServer) -> None:
    # A point off the street grid of Andorra la Vella, up the hillside.
    near = VELLA[0]
    aside = LatLon(near.lat + 0.0027, near.lon - 0.0045)
    relaxed = _provider(server, snap_limit_m=5000)
    relaxed.matrix(_sites([near, aside]))
    snapped = _snapped_metres(server, aside)
    assert 20 < snapped < 5000
    with pytest.raises(SnapError) as raised:
        _provider(server, snap_limit_m=snapped / 2).matrix(_sites([near, aside]))
    assert raised.value.indices == (1,)
    assert matrix_cache_info().hits == 1  # the second call asked the server nothing


def _snapped_metres(server: RoutedServer, point: LatLon) -> float:
    answer = httpx2.get(f"{server.base_url}/nearest/v1/driving/{point.lon},{point.lat}", timeout=5)
    return float(answer.json()["waypoints"][0]["distance"])


def test_the_same_locations_are_asked_once(server: RoutedServer) -> None:
    provider = _provider(server)
    first = provider.matrix(_sites(VELLA))
    assert matrix_cache_info().misses == 1 and matrix_cache_info().hits == 0
    # The same set in another order, one site twice: served from the cache, rows permuted.
    order = [4, 2, 0, 1, 3, 2]
    again = provider.matrix(_sites([VELLA[i] for i in order]))
    assert matrix_cache_info().hits == 1 and matrix_cache_info().entries == 1
    np.testing.assert_array_equal(again[0], first[0][np.ix_(order, order)])
    # Proof that nothing was asked: the same roads behind an address where nothing answers.
    dead = OsrmProvider(_closed_port_url(), dataset_id=server.dataset.key, retries=0)
    np.testing.assert_array_equal(dead.matrix(_sites(VELLA))[1], first[1])
    # Other roads (another dataset id) are not served from it.
    with pytest.raises(TravelTimeError, match="cannot be reached"):
        OsrmProvider(_closed_port_url(), dataset_id="other roads", retries=0).matrix(_sites(VELLA))


def test_route_geometry_follows_the_roads_of_the_table(server: RoutedServer) -> None:
    stops = [VELLA[0], VELLA[1], VELLA[2]]
    provider = _provider(server)
    line = provider.route_geometry(stops)
    _, distances = provider.matrix(_sites(stops))
    drawn_m = sum(_great_circle_m(LatLon(*a), LatLon(*b)) for a, b in itertools.pairwise(line))
    legs_m = distances[0, 1] + distances[1, 2]
    assert drawn_m == pytest.approx(legs_m, rel=0.03)
    # It starts and ends where OSRM put the first and the last stop on the road.
    assert _great_circle_m(LatLon(*line[0]), stops[0]) < _snapped_metres(server, stops[0]) + 10
    assert _great_circle_m(LatLon(*line[-1]), stops[-1]) < _snapped_metres(server, stops[-1]) + 10
    # Asked two points at a time, the same line.
    assert _provider(server, max_route_size=2).route_geometry(stops) == line


# -- failures --------------------------------------------------------------------------------


def _closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_an_unreachable_server_fails_quickly_after_its_retries() -> None:
    url = _closed_port_url()
    started = time.monotonic()
    with pytest.raises(TravelTimeError) as raised:
        OsrmProvider(url, retries=2, timeout_s=1.0).matrix(_sites(VELLA[:2]))
    assert time.monotonic() - started < 2.0  # refused at once; pauses of 0.1 s and 0.2 s
    message = str(raised.value)
    assert url in message and "cannot be reached" in message and "after 3 attempt(s)" in message
    assert "table block 1/1" in message


def test_a_server_that_never_answers_is_given_up_after_the_timeout() -> None:
    with socket.socket() as silent:  # accepts connections (the kernel does) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        started = time.monotonic()
        with pytest.raises(TravelTimeError, match=r"did not answer .* within 0.3 s"):
            OsrmProvider(url, timeout_s=0.3, retries=2).matrix(_sites(VELLA[:2]))
        assert time.monotonic() - started < 2.0  # a read timeout is not retried


class _KillAfter(httpx2.BaseTransport):
    """Passes requests to the server and kills the server after the first ``count`` answers."""

    def __init__(self, pid: int, count: int) -> None:
        self._inner = httpx2.HTTPTransport()
        self._pid = pid
        self._left = count
        self.answered = 0

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        response = self._inner.handle_request(request)
        response.read()
        self.answered += 1
        self._left -= 1
        if self._left == 0:
            os.kill(self._pid, signal.SIGKILL)
        return response

    def close(self) -> None:
        self._inner.close()


def test_a_server_killed_mid_table_is_a_clear_error_not_a_hang(
    andorra: Dataset, tools: OsrmTools
) -> None:
    with serve(andorra, tools=tools, max_table_size=10) as doomed:
        killer = _KillAfter(doomed.pid, count=3)
        provider = OsrmProvider(doomed.base_url, max_table_size=10, retries=2, transport=killer)
        started = time.monotonic()
        with pytest.raises(TravelTimeError) as raised:
            provider.matrix(_sites(_grid(40)))  # 16 requests; the server dies after 3
        killer.close()
    assert time.monotonic() - started < 5.0
    # Blocks are asked TABLE_CONCURRENCY at a time: one asked beside the third may have been
    # answered before the server died.
    assert 3 <= killer.answered < 3 + TABLE_CONCURRENCY
    message = str(raised.value)
    failed = re.search(r"table block (\d+)/16", message)
    assert doomed.base_url in message and failed is not None
    # Blocks in flight together are answered in any order: the one that failed may be any of
    # them, even the first, when those asked beside it were answered before the server died.
    assert 1 <= int(failed.group(1)) <= 16
    assert "cannot be reached" in message
    assert matrix_cache_info().entries == 0  # nothing half-asked is kept


def test_an_osrm_error_code_names_the_server_and_the_request(server: RoutedServer) -> None:
    # The provider believes the server takes 60 locations; it takes 25 and answers TooBig.
    sites = _sites(_grid(30))
    with pytest.raises(TravelTimeError) as raised:
        _provider(server, max_table_size=60).matrix(sites)
    message = str(raised.value)
    assert "TooBig" in message and server.base_url in message
    assert "table block 1/1 (30 x 30 of 30 points)" in message and "/table/v1/driving/" in message
    # What to do about it: the setting was in no error and no page.
    assert "set FIELDROUTE_ROADS_TABLE_SIZE to its --max-table-size" in message


def test_coordinates_osrm_rejects_are_its_error_not_ours(server: RoutedServer) -> None:
    with pytest.raises(TravelTimeError, match=r"refused the table .*: InvalidOptions: Coord"):
        _provider(server).matrix(_sites([VELLA[0], LatLon(95.0, 1.5)]))


class _Canned(BaseHTTPRequestHandler):
    """Answers every GET with the server's ``status`` and ``body``; counts the requests."""

    def do_GET(self) -> None:
        server = self.server
        assert isinstance(server, _CannedServer)
        server.requests += 1
        self.send_response(server.status)
        self.send_header("Content-Type", server.content_type)
        self.send_header("Content-Length", str(len(server.body)))
        self.end_headers()
        self.wfile.write(server.body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


class _CannedServer(ThreadingHTTPServer):
    """A stand-in for a server or proxy that answers the same thing to every request."""

    def __init__(self, status: int, body: bytes, content_type: str) -> None:
        super().__init__(("127.0.0.1", 0), _Canned)
        self.status, self.body, self.content_type = status, body, content_type
        self.requests = 0
        self.url = f"http://127.0.0.1:{self.server_address[1]}"


@contextmanager
def _canned(
    status: int, body: bytes, content_type: str = "application/json"
) -> Iterator[_CannedServer]:
    server = _CannedServer(status, body, content_type)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_http_503_is_retried_then_named() -> None:
    with _canned(503, b"<html>upstream restarting</html>", "text/html") as proxy:
        started = time.monotonic()
        with pytest.raises(TravelTimeError) as raised:
            OsrmProvider(proxy.url, retries=2).matrix(_sites(VELLA[:2]))
        assert proxy.requests == 3
    assert time.monotonic() - started < 2.0
    message = str(raised.value)
    assert proxy.url in message and "HTTP 503" in message and "upstream restarting" in message


def test_no_segment_is_named() -> None:
    body = json.dumps({"code": "NoSegment", "message": "Could not find a matching segment"})
    with _canned(400, body.encode()) as server:
        with pytest.raises(TravelTimeError, match=r"refused the table .*: NoSegment: Could not"):
            OsrmProvider(server.url).matrix(_sites(VELLA[:2]))
        assert server.requests == 1  # an answer, even a refusal, is not retried


def test_an_answer_without_the_table_is_an_error() -> None:
    half = json.dumps({"code": "Ok", "durations": [[0]]}).encode()
    unreadable = pytest.raises(TravelTimeError, match=r"unreadable answer to the table block 1/1")
    with _canned(200, half) as server, unreadable:
        OsrmProvider(server.url).matrix(_sites(VELLA[:2]))


def test_sites_no_road_connects_are_named() -> None:
    # Site 2 lies on a road cut off from the others' (an island, a one-way out of the extract).
    waypoints = [{"distance": 1.0}] * 3
    table = {
        "code": "Ok",
        "durations": [[0, 60, None], [60, 0, None], [None, None, 0]],
        "distances": [[0, 500, None], [500, 0, None], [None, None, 0]],
        "sources": waypoints,
        "destinations": waypoints,
    }
    with _canned(200, json.dumps(table).encode()) as server:
        # Sorted by coordinates the server's points are the sites in this order.
        sites = _sites([LatLon(42.50, 1.50), LatLon(42.51, 1.51), LatLon(42.52, 1.52)])
        with pytest.raises(TravelTimeError) as raised:
            OsrmProvider(server.url).matrix(sites)
    message = str(raised.value)
    assert "no road between 4 of 6 pairs" in message
    assert "cut off most: site 2 (4 pairs), site 0 (2 pairs)" in message
    # Which site is cut off, for the day to name whoever stands there; whole across processes.
    assert isinstance(raised.value, NoRoadError) and raised.value.cut_off == ((2, 4),)
    copy = pickle.loads(pickle.dumps(raised.value))
    assert copy.cut_off == ((2, 4),) and str(copy) == message


def test_a_site_the_roads_lead_to_but_not_back_is_the_one_named() -> None:
    # Site 3 is reached from each of the others, but no road leads back (one way out of the
    # extract): in 3 pairs, each other site in one. All four were named.
    durations: list[list[int | None]] = [
        [0, 60, 60, 60],
        [60, 0, 60, 60],
        [60, 60, 0, 60],
        [None, None, None, 0],
    ]
    assert _cut_off(durations) == ((3, 3),)


def test_every_site_cut_off_one_way_is_named_at_once() -> None:
    # Sites 7-12 are reached from sites 0-6 but lead nowhere back (one-way streets out of the
    # extract), and reach each other. They were named five at a time, or not at all: sites
    # 0-6, in 6 pairs each, were "cut off most" (a hunt: 16 such visits, four rounds).
    n, joined = 13, 7
    durations: list[list[int | None]] = [
        [0 if i == j else (None if i >= joined > j else 60) for j in range(n)] for i in range(n)
    ]
    assert _cut_off(durations) == tuple((site, joined) for site in range(joined, n))


def _cut_off(durations: list[list[int | None]]) -> tuple[tuple[int, int], ...]:
    """The sites named cut off by a server whose table has ``durations`` (``None``: no road),
    one site a row on a diagonal of Andorra."""
    waypoints = [{"distance": 1.0}] * len(durations)
    table = {
        "code": "Ok",
        "durations": durations,
        "distances": [[None if d is None else d * 8 for d in row] for row in durations],
        "sources": waypoints,
        "destinations": waypoints,
    }
    with _canned(200, json.dumps(table).encode()) as server:
        sites = _sites([LatLon(42.50 + k / 100, 1.50 + k / 100) for k in range(len(durations))])
        with pytest.raises(NoRoadError) as raised:
            OsrmProvider(server.url).matrix(sites)
    return raised.value.cut_off


def test_the_matrices_kept_on_disk_stay_within_their_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every new set of places wrote its matrix beside the dataset and nothing removed one: a
    # 2,500-visit day wrote 77 MB, three validations of it 154 MB more (a hunt).
    keys = {name: ("andorra", ((42.5, k / 100),)) for k, name in enumerate("abc")}
    table = osrm._Table(np.zeros((50, 50), np.int64), np.zeros((50, 50), np.int64), np.zeros(50))
    osrm._write_table(tmp_path, keys["a"], table)
    one = sum(path.stat().st_size for path in tmp_path.glob("*.npz"))
    monkeypatch.setattr(osrm, "MATRIX_DISK_BYTES", 2 * one)
    osrm._write_table(tmp_path, keys["b"], table)
    for key, age_s in (("a", 100), ("b", 50)):
        then = time.time() - age_s
        os.utime(osrm._table_file(tmp_path, keys[key]), (then, then))
    assert osrm._read_table(tmp_path, keys["a"]) is not None  # the older, but used now
    osrm._write_table(tmp_path, keys["c"], table)
    assert osrm._read_table(tmp_path, keys["b"]) is None
    assert osrm._read_table(tmp_path, keys["a"]) is not None
    assert osrm._read_table(tmp_path, keys["c"]) is not None


def test_sites_without_coordinates_are_refused() -> None:
    with pytest.raises(TravelTimeError, match=r"needs coordinates; sites \[1\]"):
        OsrmProvider("http://127.0.0.1:9").matrix([Site(VELLA[0]), Site(matrix_index=3)])


def test_snap_errors_cross_process_boundaries_whole() -> None:
    error = SnapError([(3, 812.0)], limit_m=500, server="http://osrm")
    copy = pickle.loads(pickle.dumps(error))
    assert copy.too_far == ((3, 812.0),) and str(copy) == str(error)


# -- the tools' install step -----------------------------------------------------------------


def _wheel(folder: Path, members: dict[str, bytes]) -> Path:
    wheel = folder / "osrm_bindings-9.9.9-cp312-abi3-manylinux_2_28_x86_64.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return wheel


def test_unpack_wheel_keeps_only_the_tools_and_profiles(tmp_path: Path) -> None:
    members = {f"osrm/bin/{name}": b"#!" for name in ("osrm-extract", "osrm-contract")}
    members |= {
        "osrm/bin/osrm-routed": b"#!",
        "osrm/share/profiles/car.lua": b"-- car",
        "osrm/share/profiles/lib/set.lua": b"-- set",
        "osrm/osrm_ext.abi3.so": b"\x7fELF",
    }
    tools = unpack_wheel(_wheel(tmp_path, members), tmp_path / "cache")
    assert tools.version == "9.9.9" and tools.origin == "cache"
    assert tools.bin_dir == tmp_path / "cache" / "osrm" / "9.9.9" / "bin"
    assert os.access(tools.executable("osrm-routed"), os.X_OK)
    assert tools.profile().read_bytes() == b"-- car"
    assert (tools.profiles_dir / "lib" / "set.lua").is_file()
    assert not list((tmp_path / "cache").rglob("*.so"))
    marker = json.loads((tools.bin_dir.parent / "complete.json").read_text())
    assert marker["version"] == "9.9.9" and len(marker["sha256"]) == 64


def test_unpack_wheel_refuses_a_wheel_without_the_tools(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path, {"osrm/share/profiles/car.lua": b"-- car"})
    with pytest.raises(TravelTimeError, match=r"does not hold osrm/bin/osrm-extract"):
        unpack_wheel(wheel, tmp_path / "cache")
    assert not (tmp_path / "cache" / "osrm" / "9.9.9").exists()


def test_unpack_wheel_refuses_members_outside_its_folder(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path, {"osrm/share/profiles/../../../../evil.lua": b"x"})
    with pytest.raises(TravelTimeError, match="would land outside"):
        unpack_wheel(wheel, tmp_path / "cache")


def test_find_tools_finds_the_installed_tools(tools: OsrmTools) -> None:
    found = find_tools()
    assert found == tools
    for name in ("osrm-extract", "osrm-contract", "osrm-routed"):
        assert os.access(found.executable(name), os.X_OK)
    assert found.profile().name == "car.lua" and found.profile().is_file()


def test_blocks_are_sized_so_that_no_request_line_passes_osrms_limit() -> None:
    # osrm-routed drops a request longer than 48 KiB without answering: blocks of 1,000 x 1,000
    # points off the diagonal (about 49.5 kB of coordinates and indices) never came back.
    from dispatch.travel.osrm import URL_BUDGET_BYTES, _coordinates, _fitting_block

    points = [(60.1 + i * 1e-5, 24.9 + i * 1e-5) for i in range(2500)]  # Helsinki-like
    block = _fitting_block(points)
    assert 500 < block < 1000

    def request_line(size: int) -> int:
        asked = points[:size] + points[-size:]
        sources = ";".join(str(i) for i in range(size))
        destinations = ";".join(str(size + j) for j in range(size))
        return len(_coordinates(asked)) + len(sources) + len(destinations)

    # A request of 48,857 bytes was dropped, one of 48,837 answered (benchmarks/roads.py).
    assert request_line(block) <= URL_BUDGET_BYTES < 48_837
    assert request_line(1000) > 48_857  # what the blocks were before
