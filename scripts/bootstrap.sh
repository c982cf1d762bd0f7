#!/usr/bin/env bash
# Sets up everything this project needs on a fresh machine (Python 3.13+, Node 18+, apt as root):
#   .venv with requirements-dev.txt, Azurite from package-lock.json (npm ci), and, with --browser,
#   Debian's chromium for the browser tests. Safe to run again: each step is skipped when done.
# Python 3.13+ is found as follows: $PYTHON if set (used as given, or an error if older); else the
# lowest 3.13+ among python3.13, python3.14, python3 and python on PATH and pyenv's installed
# versions (`pyenv root`, else $PYENV_ROOT or ~/.pyenv: versions/3.1[3-9]*/bin/python).
# A .venv made with an older Python is recreated. --print-python prints the interpreter it would
# use and exits (nothing is installed).
set -euo pipefail
cd "$(dirname "$0")/.."

want_browser=0
print_python=0
for arg in "$@"; do
  case "$arg" in
    --browser) want_browser=1 ;;
    --print-python) print_python=1 ;;
    *) echo "usage: $0 [--browser] [--print-python]" >&2; exit 2 ;;
  esac
done

min_minor=13  # Python 3.13: Azure Functions' worker library (azure-functions-runtime) needs it

# The minor version of Python 3 that $1 runs ("13"), or nothing when it is not a working Python 3.
python_minor() {
  local out
  out=$("$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) || return 0
  case "$out" in
    3.[0-9]*) echo "${out#3.}" ;;
  esac
}

find_python() {
  local candidate minor best="" best_minor="" root="" looked
  if [ -n "${PYTHON:-}" ]; then
    minor=$(python_minor "$PYTHON")
    if [ -n "$minor" ] && [ "$minor" -ge "$min_minor" ]; then
      echo "$PYTHON"
      return 0
    fi
    if [ -n "$minor" ]; then minor="Python 3.$minor"; else minor="not a working Python 3"; fi
    echo "bootstrap: PYTHON=$PYTHON is $minor; this project needs Python 3.$min_minor or newer." \
      "Point PYTHON at one, or unset it to search PATH and pyenv." >&2
    return 1
  fi
  if command -v pyenv >/dev/null 2>&1; then
    root=$(pyenv root 2>/dev/null) || root=""
  fi
  root=${root:-${PYENV_ROOT:-$HOME/.pyenv}}
  local candidates=()
  for candidate in python3.13 python3.14 python3 python; do
    candidate=$(command -v "$candidate" 2>/dev/null) && candidates+=("$candidate")
  done
  for candidate in "$root"/versions/3.1[3-9]*/bin/python; do
    [ -x "$candidate" ] && candidates+=("$candidate")
  done
  for candidate in ${candidates[@]+"${candidates[@]}"}; do
    minor=$(python_minor "$candidate")
    [ -n "$minor" ] && [ "$minor" -ge "$min_minor" ] || continue
    if [ -z "$best" ] || [ "$minor" -lt "$best_minor" ]; then
      best=$candidate best_minor=$minor  # the lowest suitable; on a tie, PATH before pyenv
    fi
  done
  if [ -n "$best" ]; then
    echo "$best"
    return 0
  fi
  looked="python3.13, python3.14, python3 and python on PATH, and $root/versions/3.1[3-9]*"
  # printf, a builtin: this message must show even on a PATH with hardly anything on it.
  printf >&2 '%s\n' \
    "bootstrap: no Python 3.$min_minor or newer found (looked at $looked)." \
    "This project needs Python 3.$min_minor+: the app is deployed on Azure Functions" \
    "Flex Consumption, which runs Python 3.13, and Microsoft's worker library for 3.13+" \
    "(azure-functions-runtime, which devhost runs on) requires it. Install one, then run this again:" \
    "  pyenv install 3.13                          (with pyenv: https://github.com/pyenv/pyenv)" \
    "  apt-get install python3.13 python3.13-venv  (Debian 13, Ubuntu 25.04+; elsewhere the" \
    "                                              distribution's python3.13 package)" \
    "or point PYTHON at one: PYTHON=/path/to/python3.13 $0"
  return 1
}

if [ "$print_python" = 1 ]; then
  find_python
  exit
fi

if [ -x .venv/bin/python ]; then
  venv_minor=$(python_minor .venv/bin/python)
  if [ -z "$venv_minor" ]; then
    echo "==> .venv's Python no longer runs: recreating .venv"
    rm -rf .venv
  elif [ "$venv_minor" -lt "$min_minor" ]; then
    echo "==> .venv was made with Python 3.$venv_minor, older than 3.$min_minor: recreating .venv"
    rm -rf .venv
  fi
fi
if [ ! -x .venv/bin/python ]; then
  python=$(find_python)
  echo "==> creating .venv with $python (Python 3.$(python_minor "$python"))"
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

# --- devhost RPC schema check (tests/devhost/workers/test_rpc_wire.py) ---------------------------
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
