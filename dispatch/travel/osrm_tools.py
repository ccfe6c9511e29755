"""OSRM's own executables: where they are on this machine, and the step that puts them there.

fieldroute does not build or route roads itself; it runs OSRM's tools (``osrm-extract``,
``osrm-contract``, ``osrm-routed``) and its ``car.lua`` profile. They come from the PyPI wheel
of ``osrm-bindings``, which carries them beside its Python bindings. That wheel is tagged
``cp312-abi3``, so pip installs it as a dependency only on Python 3.12 and newer (the ``roads``
extra); on Python 3.11 the executables still run, and ``install_tools`` fetches the same wheel
by name and version with pip and unpacks its executables and profiles into fieldroute's cache.

``find_tools`` looks, in this order, in

1. the installed ``osrm-bindings`` distribution (``pip install osrm-bindings``, Python >= 3.12);
2. the cache, ``<cache root>/osrm/<OSRM_VERSION>/`` (what ``install_tools`` writes);
3. ``PATH``, for an OSRM installed by the system (its profiles must lie beside it).

The three tools of a dataset must come from one place: OSRM's file formats change between
versions, so the version is part of every dataset's key (``dispatch.travel.roads``).

This module runs pip and reads files; it knows nothing of datasets, servers or HTTP.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path, PurePosixPath

from dispatch.errors import TravelTimeError

__all__ = [
    "KNOWN_WHEEL_SHA256",
    "OSRM_DISTRIBUTION",
    "OSRM_VERSION",
    "TOOL_NAMES",
    "OsrmTools",
    "ToolsUnavailableError",
    "default_cache_root",
    "ensure_tools",
    "file_sha256",
    "find_tools",
    "install_tools",
    "unpack_wheel",
]

logger = logging.getLogger(__name__)

#: The PyPI distribution that carries OSRM's executables.
OSRM_DISTRIBUTION = "osrm-bindings"

#: The OSRM release fieldroute is tested with; ``install_tools`` fetches exactly this one.
OSRM_VERSION = "26.10.0"

#: The executables a dataset needs: build it (extract, contract) and serve it (routed).
TOOL_NAMES = ("osrm-extract", "osrm-contract", "osrm-routed")

#: The wheel's Python tag: pip resolves it as for this Python, whatever runs fieldroute.
_WHEEL_PYTHON = "3.12"

#: sha256 of the wheels fieldroute has been run with, by file name. A PyPI file never changes,
#: so a different hash under one of these names is refused; other platforms' wheels are checked
#: against the hash the index publishes.
KNOWN_WHEEL_SHA256 = {
    "osrm_bindings-26.10.0-cp312-abi3-manylinux_2_28_x86_64.whl": (
        "840d6f82812eb9f9e17c71eb9083dfa15f3be2bfec4965c32aefa48b00d3a951"
    ),
}

#: Where the executables and profiles lie inside the wheel (and the installed package).
_WHEEL_BIN = PurePosixPath("osrm/bin")
_WHEEL_PROFILES = PurePosixPath("osrm/share/profiles")

#: Written last into a tools folder: a folder without it is a half-finished unpack.
_COMPLETE = "complete.json"

#: Longest wait for pip (resolving and downloading about 21 MB).
_PIP_TIMEOUT_S = 600.0

#: Longest wait for ``osrm-routed --version``.
_VERSION_TIMEOUT_S = 10.0

_HASH_CHUNK = 1 << 20


class ToolsUnavailableError(TravelTimeError):
    """OSRM's executables are not on this machine and could not be fetched (no network, no
    wheel for this platform, pip refused)."""


@dataclass(frozen=True, slots=True)
class OsrmTools:
    """One OSRM installation: its executables and its Lua profiles.

    Parameters
    ----------
    bin_dir
        Folder holding ``osrm-extract``, ``osrm-contract`` and ``osrm-routed``.
    profiles_dir
        Folder holding ``car.lua`` and its ``lib/``.
    version
        OSRM's version, e.g. ``26.10.0``.
    origin
        Where it was found: ``package``, ``cache`` or ``path``.
    """

    bin_dir: Path
    profiles_dir: Path
    version: str
    origin: str

    def executable(self, name: str) -> Path:
        """The path of one tool, e.g. ``executable("osrm-routed")``."""
        return self.bin_dir / name

    def profile(self, name: str = "car") -> Path:
        """The path of a Lua profile, ``car`` by default."""
        return self.profiles_dir / f"{name}.lua"


def default_cache_root() -> Path:
    """fieldroute's cache folder: ``$XDG_CACHE_HOME/fieldroute``, else ``~/.cache/fieldroute``."""
    base = os.environ.get("XDG_CACHE_HOME")
    return (Path(base) if base else Path.home() / ".cache") / "fieldroute"


def find_tools(cache_root: Path | None = None) -> OsrmTools | None:
    """The first complete OSRM installation found (see the module docstring), or ``None``.

    Parameters
    ----------
    cache_root
        fieldroute's cache folder; ``default_cache_root()`` when not given.
    """
    root = cache_root if cache_root is not None else default_cache_root()
    for found in (_from_package(), _from_cache(root), _from_path()):
        if found is not None:
            return found
    return None


def ensure_tools(cache_root: Path | None = None) -> OsrmTools:
    """The OSRM installation ``find_tools`` finds, installing it into the cache if none is.

    Raises
    ------
    ToolsUnavailableError
        When none is here and the wheel cannot be fetched.
    TravelTimeError
        When the fetched wheel does not match its published hash, or does not hold the tools.
    """
    root = cache_root if cache_root is not None else default_cache_root()
    return find_tools(root) or install_tools(root)


def install_tools(cache_root: Path | None = None, *, python: str | None = None) -> OsrmTools:
    """Fetch ``osrm-bindings==OSRM_VERSION`` with pip and unpack its tools into the cache.

    pip resolves the wheel for this platform as for Python 3.12 (``--python-version 3.12
    --only-binary=:all: --no-deps``) and reports the file and the sha256 the index publishes;
    the wheel is then downloaded under that hash (pip's ``--require-hashes``), its hash is
    checked once more here, and against ``KNOWN_WHEEL_SHA256`` where the file is known. The
    executables and profiles are unpacked into ``<cache_root>/osrm/OSRM_VERSION/``; nothing is
    installed into any Python environment. pip's own configuration (index URL, proxy) applies.

    Parameters
    ----------
    cache_root
        fieldroute's cache folder; ``default_cache_root()`` when not given.
    python
        The Python whose pip runs; this one by default.

    Returns
    -------
    The installed tools (``origin="cache"``).

    Raises
    ------
    ToolsUnavailableError
        When pip cannot fetch the wheel (no network, no wheel for this platform).
    TravelTimeError
        When the wheel's hash or contents are not what the index and this module say.
    """
    root = cache_root if cache_root is not None else default_cache_root()
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="osrm-wheel-", dir=root) as scratch:
        wheel = _fetch_wheel(Path(scratch), python or sys.executable)
        return unpack_wheel(wheel, root)


def unpack_wheel(wheel: Path, cache_root: Path) -> OsrmTools:
    """Unpack the executables and profiles of an ``osrm-bindings`` wheel into the cache.

    The files go to a scratch folder first and are moved into place complete, so a crash
    leaves no half-filled tools folder behind. Used by ``install_tools``; callable on a wheel
    copied by hand to a machine without network.

    Raises
    ------
    TravelTimeError
        When the wheel is not a zip holding the three tools and ``car.lua``, or a member would
        land outside the folder.
    """
    version = _wheel_version(wheel)
    target = _cache_folder(cache_root, version)
    scratch = target.with_name(f".{target.name}.{uuid.uuid4().hex}")
    try:
        with zipfile.ZipFile(wheel) as archive:
            for member in archive.infolist():
                _unpack_member(archive, member, scratch)
        for name in TOOL_NAMES:
            if not (scratch / "bin" / name).is_file():
                raise TravelTimeError(f"{wheel.name} does not hold {_WHEEL_BIN / name}")
        if not (scratch / "profiles" / "car.lua").is_file():
            raise TravelTimeError(f"{wheel.name} does not hold {_WHEEL_PROFILES / 'car.lua'}")
        (scratch / _COMPLETE).write_text(
            json.dumps({"wheel": wheel.name, "sha256": file_sha256(wheel), "version": version})
        )
        if target.exists():
            shutil.rmtree(target)
        scratch.rename(target)
    except zipfile.BadZipFile as error:
        raise TravelTimeError(f"{wheel} is not a wheel (zip): {error}") from error
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    logger.info("OSRM %s tools unpacked into %s", version, target)
    return OsrmTools(target / "bin", target / "profiles", version, "cache")


def file_sha256(path: Path) -> str:
    """The sha256 of a file's content, hex."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _fetch_wheel(scratch: Path, python: str) -> Path:
    """Ask pip which wheel it would take and its published hash, then download it under it."""
    requirement = f"{OSRM_DISTRIBUTION}=={OSRM_VERSION}"
    platform = ["--python-version", _WHEEL_PYTHON, "--only-binary=:all:", "--no-deps"]
    report = scratch / "report.json"
    _pip(
        python,
        ["install", "--dry-run", "--ignore-installed", *platform, "--target", str(scratch / "t")],
        ["--report", str(report), requirement],
    )
    url, published = _reported_wheel(report)
    name = url.rsplit("/", 1)[-1]
    known = KNOWN_WHEEL_SHA256.get(name)
    if known is not None and known != published:
        raise TravelTimeError(
            f"the package index publishes sha256 {published} for {name}; fieldroute knows this "
            f"file as {known}: refusing it"
        )
    pinned = scratch / "requirements.txt"
    pinned.write_text(f"{requirement} --hash=sha256:{published}\n")
    downloads = scratch / "wheel"
    _pip(python, ["download", *platform, "--dest", str(downloads)], ["-r", str(pinned)])
    wheel = downloads / name
    if not wheel.is_file():
        raise TravelTimeError(f"pip downloaded {sorted(downloads.iterdir())}, not {name}")
    actual = file_sha256(wheel)
    if actual != published:
        raise TravelTimeError(f"{name}: sha256 {actual}, the index publishes {published}")
    logger.info("fetched %s (sha256 %s)", name, actual)
    return wheel


def _pip(python: str, command: list[str], arguments: list[str]) -> None:
    argv = [python, "-m", "pip", *command, "--quiet", "--disable-pip-version-check", *arguments]
    try:
        subprocess.run(
            argv,
            check=True,
            capture_output=True,
            text=True,
            timeout=_PIP_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.CalledProcessError as error:
        tail = "\n".join((error.stderr or "").strip().splitlines()[-6:])
        raise ToolsUnavailableError(
            f"pip could not fetch {OSRM_DISTRIBUTION}=={OSRM_VERSION} "
            f"(`pip {command[0]}` exited {error.returncode}):\n{tail}"
        ) from error
    except subprocess.TimeoutExpired as error:
        raise ToolsUnavailableError(
            f"pip did not fetch {OSRM_DISTRIBUTION}=={OSRM_VERSION} within {_PIP_TIMEOUT_S:.0f} s"
        ) from error
    except OSError as error:
        raise ToolsUnavailableError(f"could not run pip with {python}: {error}") from error


def _reported_wheel(report: Path) -> tuple[str, str]:
    """The URL and published sha256 of the one wheel in pip's installation report."""
    try:
        document = json.loads(report.read_text())
        (item,) = document["install"]
        info = item["download_info"]
        return str(info["url"]), str(info["archive_info"]["hashes"]["sha256"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise TravelTimeError(
            f"pip's report {report} does not name one wheel with a sha256: {error}"
        ) from error


def _wheel_version(wheel: Path) -> str:
    parts = wheel.name.split("-")
    if len(parts) < 5 or parts[0] != OSRM_DISTRIBUTION.replace("-", "_"):
        raise TravelTimeError(f"{wheel.name} is not an {OSRM_DISTRIBUTION} wheel")
    return parts[1]


def _unpack_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, scratch: Path) -> None:
    """Unpack one wheel member if it is an executable or a profile, keeping its mode."""
    name = PurePosixPath(member.filename)
    if ".." in name.parts or name.is_absolute():
        raise TravelTimeError(f"wheel member {member.filename!r} would land outside the folder")
    if member.is_dir():
        return
    if name.parent == _WHEEL_BIN:
        destination = scratch / "bin" / name.name
        mode = 0o755
    elif _WHEEL_PROFILES in name.parents:
        destination = scratch / "profiles" / name.relative_to(_WHEEL_PROFILES)
        mode = 0o644
    else:
        return
    destination.parent.mkdir(parents=True, exist_ok=True)
    with archive.open(member) as source, destination.open("wb") as sink:
        shutil.copyfileobj(source, sink)
    destination.chmod(mode)


def _cache_folder(cache_root: Path, version: str) -> Path:
    return cache_root / "osrm" / version


def _complete(bin_dir: Path, profiles_dir: Path) -> bool:
    tools = all(os.access(bin_dir / name, os.X_OK) for name in TOOL_NAMES)
    return tools and (profiles_dir / "car.lua").is_file()


def _from_package() -> OsrmTools | None:
    """The tools of an installed ``osrm-bindings`` distribution, found without importing it."""
    try:
        distribution = metadata.distribution(OSRM_DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return None
    bin_dir = Path(str(distribution.locate_file(str(_WHEEL_BIN))))
    profiles_dir = Path(str(distribution.locate_file(str(_WHEEL_PROFILES))))
    if not _complete(bin_dir, profiles_dir):
        return None
    return OsrmTools(bin_dir, profiles_dir, distribution.version, "package")


def _from_cache(cache_root: Path) -> OsrmTools | None:
    folder = _cache_folder(cache_root, OSRM_VERSION)
    bin_dir, profiles_dir = folder / "bin", folder / "profiles"
    if not (folder / _COMPLETE).is_file() or not _complete(bin_dir, profiles_dir):
        return None
    return OsrmTools(bin_dir, profiles_dir, OSRM_VERSION, "cache")


def _from_path() -> OsrmTools | None:
    """An OSRM on ``PATH`` whose tools share one folder and whose profiles lie beside it."""
    routed = shutil.which("osrm-routed")
    if routed is None:
        return None
    bin_dir = Path(routed).resolve().parent
    share = bin_dir.parent / "share"
    candidates = (share / "osrm" / "profiles", share / "profiles", share / "osrm-profiles")
    profiles_dir = next((c for c in candidates if (c / "car.lua").is_file()), None)
    if profiles_dir is None or not _complete(bin_dir, profiles_dir):
        return None
    version = _reported_version(bin_dir / "osrm-routed")
    return None if version is None else OsrmTools(bin_dir, profiles_dir, version, "path")


def _reported_version(routed: Path) -> str | None:
    try:
        answer = subprocess.run(
            [str(routed), "--version"],
            capture_output=True,
            text=True,
            timeout=_VERSION_TIMEOUT_S,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"v?(\d+\.\d+\.\d+\S*)", answer.stdout)
    return match.group(1) if match else None
