#!/usr/bin/env bash
# Sets up everything this project needs on a fresh machine (Python 3.10+, Node 18+, apt as root):
#   .venv with requirements-dev.txt, Azurite from package-lock.json (npm ci), and, with --browser,
#   Debian's chromium for the browser tests. Safe to run again: each step is skipped when done.
set -euo pipefail
cd "$(dirname "$0")/.."

want_browser=0
for arg in "$@"; do
  case "$arg" in
    --browser) want_browser=1 ;;
    *) echo "usage: $0 [--browser]" >&2; exit 2 ;;
  esac
done

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv"
  "$python" -m venv .venv
fi
stamp=.venv/.requirements.stamp
if [ ! -f "$stamp" ] || [ requirements.txt -nt "$stamp" ] || [ requirements-dev.txt -nt "$stamp" ]; then
  echo "==> installing Python requirements"
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -r requirements-dev.txt
  touch "$stamp"
fi

if [ ! -x node_modules/.bin/azurite-blob ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "==> installing Azurite (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi

if [ "$want_browser" = 1 ] && [ ! -x /usr/bin/chromium ]; then
  echo "==> installing chromium (apt)"
  if [ "$(id -u)" != 0 ]; then
    echo "chromium is missing and this is not root: run 'sudo apt-get install -y chromium'" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

# --- devhost RPC schema check (tests/devhost_workers/test_rpc_wire.py) ---------------------------
# The wire test compares devhost's compiled schema with the FunctionRpc_pb2 generated independently
# in azure-functions-runtime-v1. Its wheel also ships a top-level `tests` package, so it goes into
# a directory of its own that the test loads by path, never into the venv's site-packages.
if [ ! -d .venv/runtime-v1 ]; then
  echo "==> fetching azure-functions-runtime-v1 1.2.0 for the RPC wire test (.venv/runtime-v1)"
  rm -rf .venv/runtime-v1.partial
  .venv/bin/python -m pip install --quiet --no-deps --target .venv/runtime-v1.partial \
    azure-functions-runtime-v1==1.2.0
  mv .venv/runtime-v1.partial .venv/runtime-v1
fi
# --- end devhost RPC schema check -----------------------------------------------------------------

echo "==> ready"
