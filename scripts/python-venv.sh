#!/usr/bin/env bash
# Creates (once) a git-ignored Python virtual environment under .venvs/NAME with pinned
# packages, and prints its python path. Safe to call from several processes at once: the work
# is serialised by a lock, and an environment is only marked ready after a complete install.
# Usage: scripts/python-venv.sh NAME 'pkg==1.2' ...
set -euo pipefail
name=$1; shift
root=$(cd "$(dirname "$0")/.." && pwd)
dir="$root/.venvs/$name"
want=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
mkdir -p "$root/.venvs"
exec 9>"$root/.venvs/.$name.lock"
flock 9
if [ -f "$dir/.ready" ] && [ "$(cat "$dir/.ready")" = "$want" ]; then
  echo "$dir/bin/python"; exit 0
fi
rm -rf "$dir"
python3 -m venv "$dir" >&2
"$dir/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2 || true
"$dir/bin/python" -m pip install --quiet --disable-pip-version-check "$@" >&2
echo "$want" > "$dir/.ready"
echo "$dir/bin/python"
