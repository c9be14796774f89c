#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine (as root): installs what it needs (Debian's
# chromium, nginx and Ceph packages, npm ci), starts a throwaway Ceph RGW, type-checks, builds the web page
# and runs every test with node's test runner. The API runs with RGW's least-privilege user
# (S3_ACCESS_KEY_ID: only the policy `upfront policy` prints); setup and the tests that make buckets of
# their own use the owner (S3_ADMIN_ACCESS_KEY_ID). Set S3_ENDPOINT (and the other S3_* variables, both
# credentials, and RGW_API_USER) to use another Ceph RGW instead of starting one.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v chromium >/dev/null || missing+=(chromium)
# The CDN tests run Debian's nginx (in /usr/sbin, outside a non-root PATH) in front of RGW.
[ -x /usr/sbin/nginx ] || missing+=(nginx)
if [ -z "${S3_ENDPOINT:-}" ]; then
  command -v radosgw >/dev/null || missing+=(ceph-mon ceph-osd radosgw ceph-common)
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "test: missing system packages: ${missing[*]} — install them (as root: apt-get install ${missing[*]}) and run again" >&2
    exit 1
  fi
  echo "test: installing ${missing[*]}"
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm ci when node_modules is missing or older than the lock file.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-fund --no-audit
fi

echo "test: type-checking"
npx tsc -p tsconfig.json

if [ -z "${S3_ENDPOINT:-}" ]; then
  export RGW_DIR="${RGW_DIR:-$(mktemp -d /tmp/upfront-rgw-test.XXXXXX)}"
  # Free ports, so a development RGW already on 7480 does not stop the tests.
  free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
  export RGW_PORT="${RGW_PORT:-$(free_port)}" RGW_MON_PORT="${RGW_MON_PORT:-$(free_port)}"
  # A lifecycle "day" lasts 5 s, so the lifecycle tests see rules act (only buckets with rules notice).
  export RGW_LC_DEBUG_INTERVAL="${RGW_LC_DEBUG_INTERVAL:-5}"
  trap 'bash scripts/rgw/stop.sh >/dev/null 2>&1 || true' EXIT
  echo "test: starting Ceph RGW in $RGW_DIR"
  bash scripts/rgw/start.sh >/dev/null
  # shellcheck disable=SC1091
  source "$RGW_DIR/env"
fi

echo "test: building the packages and the web page"
bash scripts/build.sh

# The AWS SDK warns on every process that Node 20 support ends in 2027; we target Node >= 20 on purpose.
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true

# Node 20's test runner takes no globs: list the files. Tests run the TypeScript sources (the
# upfront-source condition); the pack test installs and runs the compiled packages.
mapfile -t files < <(find test -name '*.test.ts' | sort)
node --conditions=upfront-source --import tsx --test --test-concurrency=1 "$@" "${files[@]}"
