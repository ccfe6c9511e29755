#!/usr/bin/env bash
# Install Debian's chromium for the browser tests of the maps (tests/maps/test_browser.py), if
# it is missing. Playwright drives it; it never downloads a browser of its own.
#   scripts/browser.sh            install (needs root and apt-get), or fail saying why
#   scripts/browser.sh --if-able  install when root and apt-get are at hand, else only say so
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  message="chromium is missing: install Debian's package 'chromium' to run the browser tests"
  if [ "${1:-}" = "--if-able" ]; then
    echo "note: $message (they are skipped)" >&2
    exit 0
  fi
  echo "$message" >&2
  exit 1
fi
echo "installing Debian's chromium for the browser tests..." >&2
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q chromium >/dev/null 2>&1 || {
  apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null
}
chromium --version >&2
