#!/usr/bin/env bash
# Runs the product on its embedded defaults (disk storage, SQLite, dev sign-in): installs the npm
# dependencies if needed, builds the packages and the web page, and starts the compiled `upfront dev`.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-fund --no-audit
fi
bash scripts/build.sh
exec node packages/cli/dist/bin.js dev "$@"
