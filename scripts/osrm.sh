#!/usr/bin/env bash
# Put OSRM's own executables (osrm-extract, osrm-contract, osrm-routed) and its car profile where
# fieldroute finds them, for real road travel times (`policy.travel.provider: osrm`):
#   scripts/osrm.sh        find them, or fetch them into ~/.cache/fieldroute/osrm/<version>/
# They come from the PyPI wheel of osrm-bindings, fetched with pip by name and exact version
# (dispatch.travel.osrm_tools.OSRM_VERSION) and checked against the sha256 the index publishes
# and the one fieldroute knows. Nothing is installed into any Python environment; on
# Python >= 3.12 `pip install osrm-bindings` serves as well. Instant once they are there.
# Needs the .venv of scripts/setup.sh; XDG_CACHE_HOME moves the cache.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || scripts/setup.sh
.venv/bin/python - <<'PY'
import sys

from dispatch.travel.osrm_tools import ensure_tools

tools = ensure_tools()
sys.stdout.write(f"OSRM {tools.version} ({tools.origin}): {tools.bin_dir}\n")
PY
