#!/usr/bin/env bash
# Makes sure Debian's headless-capable `chromium` is installed (for the dashboard's browser
# tests). Idempotent and locked, so that parallel test runs install it once. Prints the path of
# the executable on success; exits non-zero with one line on stderr when it cannot install.
set -euo pipefail

BIN="${CHROMIUM_BIN:-/usr/bin/chromium}"
if [ -x "$BIN" ]; then echo "$BIN"; exit 0; fi

if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
    echo "ensure-chromium: $BIN is missing and installing it needs root (apt-get install chromium)" >&2
    exit 3
  fi
else
  SUDO=""
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: $BIN is missing and this machine has no apt-get to install Debian's chromium" >&2
  exit 3
fi

LOG="$(mktemp -t ensure-chromium.XXXXXX.log)"
(
  flock 9
  if [ ! -x "$BIN" ]; then
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update >>"$LOG" 2>&1 \
      && $SUDO apt-get install -y --no-install-recommends chromium fonts-dejavu-core >>"$LOG" 2>&1 \
      || { echo "ensure-chromium: apt-get install chromium failed (log: $LOG): $(tail -n 1 "$LOG")" >&2; exit 4; }
  fi
) 9>/tmp/segtune-ensure-chromium.lock
if [ ! -x "$BIN" ]; then echo "ensure-chromium: installed chromium but $BIN is not there" >&2; exit 5; fi
rm -f "$LOG"
echo "$BIN"
