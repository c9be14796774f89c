#!/usr/bin/env bash
# npm run bench: builds the packages, starts a throwaway Ceph RGW (unless S3_ENDPOINT names a store)
# and runs every benchmark (bench/run.ts). Takes ~5 minutes; needs ~3 GB of free disk in the temp dir,
# and memory: RGW's memory store may grow to 6 GiB (the large uploads put GiBs through it; RGW frees
# deleted data only when the benches collect its garbage between runs).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-fund --no-audit
fi
bash scripts/build.sh
if [ -z "${S3_ENDPOINT:-}" ]; then
  export RGW_DIR="${RGW_DIR:-$(mktemp -d /tmp/upfront-rgw-bench.XXXXXX)}"
  free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
  export RGW_PORT="${RGW_PORT:-$(free_port)}" RGW_MON_PORT="${RGW_MON_PORT:-$(free_port)}"
  trap 'bash scripts/rgw/stop.sh >/dev/null 2>&1 || true' EXIT
  RGW_MEMSTORE_BYTES="${RGW_MEMSTORE_BYTES:-6442450944}" bash scripts/rgw/start.sh >/dev/null
  # shellcheck disable=SC1091
  source "$RGW_DIR/env"
fi
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
node --import tsx bench/run.ts
