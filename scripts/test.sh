#!/usr/bin/env bash
# Set up (once) and run every check CI runs: lint, format, types, layering, the test suite.
# Extra arguments go to pytest (e.g. -k planning, -x; -n 0 runs the tests in this process).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --dev
scripts/browser.sh --if-able
export PATH="$PWD/.venv/bin:$PATH"
ruff check .
ruff format --check .
mypy
lint-imports
# Two test processes where there are two cores (pytest-xdist): most of the suite's time is
# spent waiting on the servers, workers and browsers its tests start, and each test's servers,
# ports, databases, queues and folders are its own.
pytest --numprocesses logical --maxprocesses 2 "$@"
