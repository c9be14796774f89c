#!/usr/bin/env bash
# Builds every package to plain JavaScript: @upfront/server, @upfront/client (with its hashing worker) and
# @upfront/cli into their dist/ (ESM, .d.ts, source maps; incremental, so a second run with nothing changed
# takes ~1 s), then the demo web page, which the CLI serves in `upfront dev` and ships inside its package.
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc -b packages/server/tsconfig.build.json packages/client/tsconfig.build.json packages/cli/tsconfig.build.json \
  packages/react/tsconfig.build.json packages/uppy/tsconfig.build.json
# The client's browser hashing worker: one self-contained file with hash-wasm inside, loaded by the client on demand.
npx esbuild packages/client/src/hash-worker.ts --bundle --minify --format=iife --target=es2022 --log-level=warning \
  --outfile=packages/client/dist/hash-worker.js
# <upfront-uploader> for a page with one script tag: client, queue, element and hashing worker in one file.
node --import tsx scripts/build-uploader.ts >/dev/null
# @upfront/react's optional stylesheet (exported as "@upfront/react/styles.css").
cp packages/react/src/styles.css packages/react/dist/styles.css
node --import tsx apps/web/build.ts >/dev/null
rm -rf packages/cli/dist/web
cp -r apps/web/dist packages/cli/dist/web
# `upfront dev` serves it at /upfront-uploader.js.
cp packages/client/dist/upfront-uploader.js packages/cli/dist/web/
