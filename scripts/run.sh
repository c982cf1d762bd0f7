#!/usr/bin/env bash
# One command to run the app locally: set up what is missing, then start devhost on
# http://localhost:7071 (it starts Azurite itself when AzureWebJobsStorage=UseDevelopmentStorage=true
# and nothing listens on 10000). Extra arguments go to devhost (see: .venv/bin/python -m devhost --help).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
echo "==> the client page: http://localhost:7071/api/ui (with another --port, that port)"
exec .venv/bin/python -m devhost --app-dir . "$@"
