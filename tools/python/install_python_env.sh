#!/usr/bin/env bash
# Installs the project's Python environment: a venv at .deps/python with exactly the packages of
# tools/python/requirements.txt, from PyPI (wheels cached by pip). Idempotent: when the venv
# already has every pinned version it downloads nothing. Called by tools/setup.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=.deps/python
requirements=tools/python/requirements.txt

# Every "name==version" line of the requirements, checked against what the venv has.
pins_met() {
  "$venv/bin/python" - "$requirements" <<'PY' >/dev/null 2>&1
import sys
from importlib import metadata
for line in open(sys.argv[1]):
    line = line.split("#")[0].strip()
    if not line:
        continue
    name, version = line.split("==")
    if metadata.version(name).split("+")[0] != version:
        sys.exit(1)
PY
}

if [ -x "$venv/bin/python" ] && pins_met; then
  echo "setup: Python environment $venv already has $requirements."
  exit 0
fi
echo "setup: installing $requirements into $venv (torch pulls several GiB of CUDA wheels)"
# Measured: the installed venv is 4.7 GiB; pip unpacks each wheel beside it before installing.
source tools/disk_space.sh
require_free_bytes "$venv" $(( 6 * 2**30 )) "Installing the Python environment"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
log=/tmp/mochi-setup-python.log
if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements" \
    >"$log" 2>&1; then
  tail -n 20 "$log" >&2
  echo "setup: pip install -r $requirements failed (log: $log). Is PyPI reachable?" >&2
  exit 1
fi
pins_met || { echo "setup: $venv does not have the pinned versions after pip install" >&2; exit 1; }
echo "setup: Python environment ready ($venv)."
