#!/usr/bin/env bash
# Stops the cluster scripts/rgw/start.sh booted in $RGW_DIR — only the PIDs its daemons wrote there —
# and removes the directory (memstore keeps no data worth saving).
set -euo pipefail

RGW_DIR=${RGW_DIR:-/tmp/upfront-rgw}
[[ -d "$RGW_DIR" ]] || exit 0

pids=()
# RGW first, the monitor last, so nothing logs reconnect noise while going down.
for name in client.rgw osd.0 mon.a; do
  pid_file="$RGW_DIR/run/$name.pid"
  [[ -f "$pid_file" ]] || continue
  pid=$(cat "$pid_file")
  # Only signal a process that is still the Ceph daemon we started (PIDs get reused).
  if [[ "$pid" =~ ^[0-9]+$ ]] && grep -qsa -- "$RGW_DIR/ceph.conf" "/proc/$pid/cmdline"; then
    kill -TERM "$pid" 2>/dev/null && pids+=("$pid")
  fi
done

for pid in "${pids[@]}"; do
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "rgw: pid $pid ignored SIGTERM for 5 s; sending SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
done

rm -rf -- "$RGW_DIR"
echo "rgw: stopped (${#pids[@]} daemons) and removed $RGW_DIR" >&2
