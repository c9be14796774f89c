#!/usr/bin/env bash
# Runs the product on its embedded defaults (disk storage, SQLite, dev sign-in): installs the npm
# dependencies if needed, builds the web page, starts `upfront dev` and prints its URL.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-fund --no-audit
fi
npm run --silent build:web
exec npx tsx packages/cli/src/bin.ts dev "$@"
