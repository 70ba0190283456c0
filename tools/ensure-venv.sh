#!/usr/bin/env bash
# Create or refresh .venv from requirements.lock. Idempotent: when the lock,
# pyproject.toml and the Python version are unchanged, it does nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || { echo "error: $PY not found; install Python 3.11 (or set PYTHON=/path/to/python3.11)" >&2; exit 1; }
stamp=.venv/.env-hash
env_hash() { { cat requirements.lock pyproject.toml; "$1" -c 'import sys; print(sys.version)'; } | sha256sum | cut -d' ' -f1; }
# Up to date: the stamp matches the lock, pyproject.toml and the venv's own interpreter (asked directly:
# "$PY" is often a pyenv shim that takes half a second to start, the whole budget of a no-op `make reports`).
if [ -f "$stamp" ] && [ -x .venv/bin/python ] && [ "$(cat "$stamp")" = "$(env_hash .venv/bin/python 2>/dev/null)" ]; then
  exit 0
fi
want=$(env_hash "$PY")
if [ -x .venv/bin/python ] && .venv/bin/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
  echo ">> updating .venv to match requirements.lock"
else
  echo ">> building .venv from requirements.lock (this happens once; later runs reuse it)"
  rm -rf .venv
  "$PY" -m venv .venv
fi
# (grep drops pip's notes about this machine's optional local package mirrors, nothing else)
PIP_NO_WARN_SCRIPT_LOCATION=1 .venv/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements.lock \
  2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
.venv/bin/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (district-research)" >/dev/null
echo "$want" > "$stamp"
echo ">> .venv ready"
