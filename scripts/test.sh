#!/usr/bin/env bash
# One command to set everything up and run the whole test suite: lint, format check, then pytest
# (unit, devhost, end to end through devhost with real Azurite and SQLite, browser tests in chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh --browser
echo "==> ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "==> import contracts (pyproject.toml [tool.importlinter])"
.venv/bin/lint-imports --no-cache
echo "==> pytest"
exec .venv/bin/python -m pytest "$@"
