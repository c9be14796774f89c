#!/usr/bin/env bash
# Boots a throwaway single-node Ceph cluster (1 mon + 1 memstore OSD + radosgw) for dev and tests,
# provisions the three Upfront buckets and the API's least-privilege user, and prints/writes the S3_*
# environment (S3_ACCESS_KEY_ID: the API's user; S3_ADMIN_ACCESS_KEY_ID: the buckets' owner).
# All state lives in $RGW_DIR; stop with scripts/rgw/stop.sh. Dev only: cephx is off, RGW binds 127.0.0.1.
set -euo pipefail

RGW_DIR=${RGW_DIR:-/tmp/upfront-rgw}
RGW_PORT=${RGW_PORT:-7480}
# The monitor needs its own port; derived from RGW_PORT so two clusters on other RGW ports never collide.
RGW_MON_PORT=${RGW_MON_PORT:-$((RGW_PORT + 10000))}
RGW_ACCESS_KEY_ID=${RGW_ACCESS_KEY_ID:-UPFRONTDEVACCESSKEY0}
RGW_SECRET_ACCESS_KEY=${RGW_SECRET_ACCESS_KEY:-upfront-dev-secret-key-not-for-production}
# The API's own credential: a second user whose only rights are the IAM policy `upfront policy` prints
# (provision.ts attaches it). The first user owns the buckets and is the admin credential of setup/doctor.
RGW_API_USER=upfront-api
RGW_API_ACCESS_KEY_ID=${RGW_API_ACCESS_KEY_ID:-UPFRONTAPIACCESSKEY0}
RGW_API_SECRET_ACCESS_KEY=${RGW_API_SECRET_ACCESS_KEY:-upfront-api-secret-key-not-for-production}
RGW_CORS_ORIGINS=${RGW_CORS_ORIGINS:-http://localhost:*,http://127.0.0.1:*}
# RGW signs in its zonegroup's name; the zonegroup created on first start is called "default".
RGW_REGION=default

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$SCRIPT_DIR/../.." && pwd)
ENDPOINT="http://127.0.0.1:$RGW_PORT"
CONF="$RGW_DIR/ceph.conf"

log() { printf 'rgw: %s\n' "$*" >&2; }

env_lines() {
  cat <<EOF
export S3_ENDPOINT=$ENDPOINT S3_REGION=$RGW_REGION S3_ACCESS_KEY_ID=$RGW_API_ACCESS_KEY_ID S3_SECRET_ACCESS_KEY=$RGW_API_SECRET_ACCESS_KEY
export S3_ADMIN_ACCESS_KEY_ID=$RGW_ACCESS_KEY_ID S3_ADMIN_SECRET_ACCESS_KEY=$RGW_SECRET_ACCESS_KEY RGW_API_USER=$RGW_API_USER
export S3_BUCKET_STAGING=upfront-staging S3_BUCKET_PUBLIC=upfront-public S3_BUCKET_PRIVATE=upfront-private S3_FORCE_PATH_STYLE=true
EOF
}

# Plain bash (/dev/tcp) rather than curl or ss: neither is in a minimal Debian.
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
rgw_answers() {
  (
    exec 3<>"/dev/tcp/127.0.0.1/$RGW_PORT" && printf 'GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3 \
      && IFS= read -r -t 2 status <&3 && [[ "$status" == HTTP/* ]]
  ) 2>/dev/null
}
pid_alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

if pid_alive "$RGW_DIR/run/client.rgw.pid" && [[ -f "$RGW_DIR/env" ]] && rgw_answers; then
  log "already running at $ENDPOINT (state in $RGW_DIR)"
  cat "$RGW_DIR/env"
  exit 0
fi

# A half-started or crashed earlier run: stop what it left behind (only its own PIDs), then start clean.
if [[ -d "$RGW_DIR" ]]; then
  RGW_DIR="$RGW_DIR" "$SCRIPT_DIR/stop.sh"
fi

if ! command -v radosgw >/dev/null || ! command -v ceph-mon >/dev/null || ! command -v ceph-osd >/dev/null \
  || ! command -v radosgw-admin >/dev/null; then
  log "installing Ceph packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends ceph-mon ceph-osd radosgw ceph-common >/dev/null 2>&1 \
    || { apt-get update >/dev/null && apt-get install -y --no-install-recommends ceph-mon ceph-osd radosgw ceph-common >/dev/null; }
fi

fail() {
  log "FAILED: $*"
  for f in "$RGW_DIR"/log/*.log; do
    [[ -f "$f" ]] || continue
    printf '\n==> %s (last 30 lines) <==\n' "$f" >&2
    tail -n 30 "$f" >&2
  done
  RGW_DIR="$RGW_DIR" "$SCRIPT_DIR/stop.sh" >&2 || true
  exit 1
}

# Polls `$@` every 0.1 s for up to $1 seconds.
wait_for() {
  local seconds=$1; shift
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

started_at=$EPOCHREALTIME
for port in "$RGW_PORT" "$RGW_MON_PORT"; do
  if port_in_use "$port"; then
    log "FAILED: port $port is already in use (another RGW? set RGW_PORT / RGW_MON_PORT, or stop it)"
    exit 1
  fi
done
mkdir -p "$RGW_DIR"/{run,log,mon,osd,rgw,crash}
FSID=$(cat /proc/sys/kernel/random/uuid)

cat >"$CONF" <<EOF
[global]
fsid = $FSID
mon host = [v1:127.0.0.1:$RGW_MON_PORT]
ms bind msgr2 = false
# Without explicit addresses the OSD probes for an IPv6 socket and retries forever where IPv6 is off.
public addr = 127.0.0.1
cluster addr = 127.0.0.1
auth cluster required = none
auth service required = none
auth client required = none
run dir = $RGW_DIR/run
admin socket = $RGW_DIR/run/\$name.asok
pid file = $RGW_DIR/run/\$name.pid
log file = $RGW_DIR/log/\$name.log
mon cluster log file = $RGW_DIR/log/cluster.log
crash dir = $RGW_DIR/crash
keyring = /dev/null
mon data = $RGW_DIR/mon/\$name
osd data = $RGW_DIR/osd/\$name
osd objectstore = memstore
memstore device bytes = ${RGW_MEMSTORE_BYTES:-2147483648}
# One OSD holds every replica: size 1, few PGs, no autoscaler, CRUSH picks OSDs rather than hosts.
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
mon warn on pool no redundancy = false
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
# The OSD would place itself in CRUSH with mon commands sent at boot, which race the monmap and then
# fail as "wrong fsid" about one start in five; the script places it instead.
osd crush update on start = false
osd class update on start = false
# The 1 s default makes each of RGW's pool creations wait for a paxos round (~9 s in total).
paxos propose interval = 0.05

[client.rgw]
rgw data = $RGW_DIR/rgw
# RGW sends a response's headers and body separately; with Nagle on it holds the body until the
# client ACKs the headers, which a client on a busy keep-alive connection delays by 40 ms.
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT tcp_nodelay=1
# Static websites (upfront site deploy): RGW answers as a bucket's website when the Host is
# <bucket>.s3-website.localhost (browsers resolve *.localhost to loopback); 127.0.0.1 and localhost stay
# the S3 API with path-style addressing (a host name outside "rgw dns name" would be taken for a bucket).
rgw enable static website = true
rgw dns name = localhost
rgw dns s3website name = s3-website.localhost
EOF
# Lifecycle tests: RGW_LC_DEBUG_INTERVAL=N makes a lifecycle "day" last N seconds.
if [[ -n "${RGW_LC_DEBUG_INTERVAL:-}" ]]; then
  echo "rgw lc debug interval = $RGW_LC_DEBUG_INTERVAL" >>"$CONF"
fi

CEPH=(ceph -c "$CONF" --connect-timeout 10)

monmaptool --create --clobber --fsid "$FSID" --addv a "[v1:127.0.0.1:$RGW_MON_PORT]" "$RGW_DIR/run/monmap" >"$RGW_DIR/log/start.log" 2>&1 || fail "monmaptool"
ceph-mon -c "$CONF" -i a --mkfs --monmap "$RGW_DIR/run/monmap" >>"$RGW_DIR/log/start.log" 2>&1 || fail "ceph-mon --mkfs"
timeout 30 ceph-mon -c "$CONF" -i a >>"$RGW_DIR/log/start.log" 2>&1 || fail "ceph-mon did not start"
wait_for 15 "${CEPH[@]}" mon stat || fail "monitor did not answer"

OSD_UUID=$(cat /proc/sys/kernel/random/uuid)
OSD_ID=$("${CEPH[@]}" osd new "$OSD_UUID" 2>>"$RGW_DIR/log/start.log") || fail "ceph osd new"
[[ "$OSD_ID" == 0 ]] || fail "expected osd id 0, got '$OSD_ID'"
"${CEPH[@]}" osd crush add osd.0 1.0 root=default >>"$RGW_DIR/log/start.log" 2>&1 || fail "ceph osd crush add"
mkdir -p "$RGW_DIR/osd/osd.0"
ceph-osd -c "$CONF" -i 0 --mkfs --osd-uuid "$OSD_UUID" >>"$RGW_DIR/log/start.log" 2>&1 || fail "ceph-osd --mkfs"
timeout 30 ceph-osd -c "$CONF" -i 0 >>"$RGW_DIR/log/start.log" 2>&1 || fail "ceph-osd did not start"
osd_up() { "${CEPH[@]}" osd dump 2>/dev/null | grep -q '^osd.0 up'; }
wait_for 20 osd_up || fail "osd.0 did not come up"

timeout 30 radosgw -c "$CONF" -n client.rgw >>"$RGW_DIR/log/start.log" 2>&1 || fail "radosgw did not start"
wait_for 30 rgw_answers || fail "radosgw did not answer on $ENDPOINT"

radosgw-admin -c "$CONF" user create --uid=upfront --display-name="Upfront dev" \
  --access-key="$RGW_ACCESS_KEY_ID" --secret-key="$RGW_SECRET_ACCESS_KEY" >/dev/null 2>>"$RGW_DIR/log/start.log" \
  || fail "radosgw-admin user create"
# The owner attaches the API user's policy with the IAM API (PutUserPolicy), which needs this capability.
radosgw-admin -c "$CONF" caps add --uid=upfront --caps="user-policy=*" >/dev/null 2>>"$RGW_DIR/log/start.log" \
  || fail "radosgw-admin caps add"
# RGW lets any user create buckets of its own whatever its policy says; --max-buckets=-1 takes that away.
radosgw-admin -c "$CONF" user create --uid="$RGW_API_USER" --display-name="Upfront API (least privilege)" --max-buckets=-1 \
  --access-key="$RGW_API_ACCESS_KEY_ID" --secret-key="$RGW_API_SECRET_ACCESS_KEY" >/dev/null 2>>"$RGW_DIR/log/start.log" \
  || fail "radosgw-admin user create $RGW_API_USER"

# A second storage class, COLD, with its own data pool, for routes' storageClass and lifecycle
# transitions. radosgw takes zone changes only when it starts, so it is stopped (SIGTERM: a killed one
# leaves watches the next start waits ~30 s for) and started again.
for what in zonegroup zone; do
  radosgw-admin -c "$CONF" "$what" placement add "--rgw-$what" default --placement-id default-placement --storage-class COLD \
    $([[ $what == zone ]] && echo --data-pool default.rgw.cold.data) >/dev/null 2>>"$RGW_DIR/log/start.log" \
    || fail "radosgw-admin $what placement add (storage class COLD)"
done
RGW_PID=$(cat "$RGW_DIR/run/client.rgw.pid")
kill -TERM "$RGW_PID"
rgw_gone() { ! kill -0 "$RGW_PID"; }
wait_for 30 rgw_gone || fail "radosgw did not stop"
timeout 30 radosgw -c "$CONF" -n client.rgw >>"$RGW_DIR/log/start.log" 2>&1 || fail "radosgw did not start again"
wait_for 30 rgw_answers || fail "radosgw did not answer on $ENDPOINT after its restart"

eval "$(env_lines)"
RGW_CORS_ORIGINS="$RGW_CORS_ORIGINS" "$REPO_DIR/node_modules/.bin/tsx" "$SCRIPT_DIR/provision.ts" \
  >>"$RGW_DIR/log/provision.log" 2>&1 || fail "bucket provisioning"

env_lines >"$RGW_DIR/env"
log "up at $ENDPOINT in $(awk "BEGIN { printf \"%.1f\", $EPOCHREALTIME - $started_at }") s (state in $RGW_DIR; env in $RGW_DIR/env)"
env_lines
