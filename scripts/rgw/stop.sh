#!/usr/bin/env bash
# Stops the cluster scripts/rgw/start.sh booted in $RGW_DIR (only the PIDs its daemons wrote there)
# and removes the directory.
set -euo pipefail

RGW_DIR=${RGW_DIR:-/tmp/upfront-rgw}
[[ -d "$RGW_DIR" ]] || exit 0

# A process that exited but was not reaped yet (a zombie) counts as gone.
running() { [[ -r "/proc/$1/stat" ]] && [[ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" != Z ]]; }

pids=()
for name in client.rgw osd.0 mon.a; do
  pid_file="$RGW_DIR/run/$name.pid"
  [[ -f "$pid_file" ]] || continue
  pid=$(cat "$pid_file")
  # Only a process that is still the daemon we started: its command line names our ceph.conf (PIDs get reused).
  if [[ "$pid" =~ ^[0-9]+$ ]] && grep -qsa -- "$RGW_DIR/ceph.conf" "/proc/$pid/cmdline"; then
    # SIGKILL, not SIGTERM: memstore keeps nothing worth flushing, and a graceful Ceph shutdown takes ~2 s a daemon.
    kill -KILL "$pid" 2>/dev/null && pids+=("$pid")
  fi
done

for pid in "${pids[@]}"; do
  for _ in $(seq 100); do
    running "$pid" || break
    sleep 0.05
  done
  running "$pid" && echo "rgw: pid $pid is still running after SIGKILL" >&2
done

rm -rf -- "$RGW_DIR"
echo "rgw: stopped (${#pids[@]} daemons) and removed $RGW_DIR" >&2
