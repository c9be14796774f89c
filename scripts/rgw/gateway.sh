#!/usr/bin/env bash
# Stops or starts only the radosgw daemon of the cluster scripts/rgw/start.sh booted in $RGW_DIR; the
# monitor and the memstore OSD keep running, so the stored data survives. For fault tests:
#   scripts/rgw/gateway.sh stop    # SIGKILL radosgw (connections are cut mid-request)
#   scripts/rgw/gateway.sh start   # start it again, wait until it answers S3 requests
#   scripts/rgw/gateway.sh restart
set -euo pipefail

RGW_DIR=${RGW_DIR:-/tmp/upfront-rgw}
CONF="$RGW_DIR/ceph.conf"
PID_FILE="$RGW_DIR/run/client.rgw.pid"
[[ -f "$CONF" ]] || { echo "rgw: no cluster in $RGW_DIR (start it with scripts/rgw/start.sh)" >&2; exit 1; }
PORT=$(sed -n 's/^rgw frontends = beast endpoint=127\.0\.0\.1:\([0-9]*\).*/\1/p' "$CONF")

answers() {
  (
    exec 3<>"/dev/tcp/127.0.0.1/$PORT" && printf 'GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3 \
      && IFS= read -r -t 2 status <&3 && [[ "$status" == HTTP/* ]]
  ) 2>/dev/null
}

stop_gateway() {
  [[ -f "$PID_FILE" ]] || return 0
  local pid
  pid=$(cat "$PID_FILE")
  # Only our own daemon: its command line names our ceph.conf (PIDs get reused).
  if [[ "$pid" =~ ^[0-9]+$ ]] && grep -qsa -- "$CONF" "/proc/$pid/cmdline"; then
    kill -KILL "$pid"
    for _ in $(seq 100); do
      [[ -r "/proc/$pid/stat" && "$(awk '{ print $3 }' "/proc/$pid/stat")" != Z ]] || break
      sleep 0.05
    done
  fi
  rm -f "$PID_FILE"
}

start_gateway() {
  timeout 30 radosgw -c "$CONF" -n client.rgw >>"$RGW_DIR/log/start.log" 2>&1 || { echo "rgw: radosgw did not start" >&2; exit 1; }
  for _ in $(seq 300); do
    answers && return 0
    sleep 0.1
  done
  echo "rgw: radosgw did not answer on port $PORT within 30 s" >&2
  exit 1
}

case "${1:-}" in
  stop) stop_gateway ;;
  start) start_gateway ;;
  restart) stop_gateway; start_gateway ;;
  *) echo "usage: scripts/rgw/gateway.sh stop|start|restart" >&2; exit 2 ;;
esac
