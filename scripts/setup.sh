#!/usr/bin/env bash
# Create .venv (Python >= 3.11) and install fieldroute into it, with the dev tools when asked:
#   scripts/setup.sh          the engine and its CLI
#   scripts/setup.sh --dev    plus pytest, hypothesis, ruff, mypy, import-linter, playwright,
#                             and OSRM's executables for the road tests (scripts/osrm.sh)
# Re-running is cheap: it reinstalls only when pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")/.."

extras=""
[ "${1:-}" = "--dev" ] && extras="[dev]"
python="${PYTHON:-python3}"
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "fieldroute needs Python 3.11 or newer (found: $("$python" --version 2>&1))" >&2
  exit 1
fi
[ -x .venv/bin/python ] || "$python" -m venv .venv
stamp=".venv/.fieldroute-installed${extras}"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet --editable ".${extras}"
  touch "$stamp"
fi
# The road tests run OSRM's own tools: fetch them now (instant once cached), so that a machine
# that cannot reach the package index says so here, loudly, and not only in skipped tests.
if [ "${1:-}" = "--dev" ]; then
  scripts/osrm.sh || echo "warning: OSRM's tools could not be had; the road tests will skip" >&2
fi
