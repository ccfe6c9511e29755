#!/usr/bin/env bash
# Set up (once) and run every check CI runs: lint, format, types, layering, the test suite.
# Extra arguments go to pytest (e.g. -k planning, -x).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --dev
scripts/browser.sh --if-able
export PATH="$PWD/.venv/bin:$PATH"
ruff check .
ruff format --check .
mypy
lint-imports
pytest "$@"
