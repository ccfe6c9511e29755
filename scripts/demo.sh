#!/usr/bin/env bash
# Set up (once) and plan the sample day of examples/ on the embedded default: SQLite file
# ./fieldroute.db, solver in-process, no server to start. Extra arguments go to
# `fieldroute demo` (e.g. --time-limit 30).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/fieldroute demo "$@"
