#!/usr/bin/env bash
# Starts or stops the example cluster of cluster.yaml on this machine: one
# JobManager and two TaskManagers on 127.0.0.1, each a `weir` process in the
# background, logging to log.dir (/tmp/weir/log).
#
#   examples/cluster/cluster.sh start    # then: build/weir run -m 127.0.0.1:8081 JOB
#   examples/cluster/cluster.sh status
#   examples/cluster/cluster.sh stop
#
# Extra arguments after the command go to every process (-D key=value).
# WEIR (default build/weir) names the binary, CONFIG the config file and
# RUN_DIR (default /tmp/weir/run) where the process ids are kept.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
weir="${WEIR:-$root/build/weir}"
config="${CONFIG:-$here/cluster.yaml}"
run_dir="${RUN_DIR:-/tmp/weir/run}"
command="${1:-}"
shift || true

rest_port() {
  # The REST port as the JobManager reads it: the last -D rest.port wins.
  local port=8081 arg next=0
  for arg in "$@"; do
    if [ "$next" = 1 ]; then
      case "$arg" in rest.port=*) port="${arg#rest.port=}" ;; esac
      next=0
    fi
    [ "$arg" = "-D" ] && next=1
  done
  echo "$port"
}

start_one() {
  local name="$1"
  shift
  "$@" </dev/null >"$run_dir/$name.out" 2>&1 &
  echo $! >"$run_dir/$name.pid"
  echo "started $name (pid $!)"
}

alive() {
  [ -f "$run_dir/$1.pid" ] && kill -0 "$(cat "$run_dir/$1.pid")" 2>/dev/null
}

case "$command" in
  start)
    [ -x "$weir" ] || { echo "cluster.sh: no weir binary at $weir (build first)" >&2; exit 2; }
    mkdir -p "$run_dir"
    for name in jobmanager taskmanager-1 taskmanager-2; do
      if alive "$name"; then
        echo "cluster.sh: $name is running already (pid $(cat "$run_dir/$name.pid"))" >&2
        exit 1
      fi
    done
    start_one jobmanager "$weir" jobmanager --config "$config" "$@"
    port="$(rest_port "$@")"
    # Wait for the REST API before starting the TaskManagers.
    for _ in $(seq 1 50); do
      if "$weir" list -m "127.0.0.1:$port" >/dev/null 2>&1; then break; fi
      if ! alive jobmanager; then
        cat "$run_dir/jobmanager.out" >&2
        exit 1
      fi
      sleep 0.1
    done
    start_one taskmanager-1 "$weir" taskmanager --config "$config" "$@"
    start_one taskmanager-2 "$weir" taskmanager --config "$config" \
      -D taskmanager.rpc.port=6132 "$@"
    n=0
    for _ in $(seq 1 50); do
      n="$(cat "$run_dir"/taskmanager-*.out | grep -c " registered " || true)"
      [ "$n" -ge 2 ] && break
      sleep 0.1
    done
    echo "cluster up: REST API at http://127.0.0.1:$port/, $n TaskManagers registered"
    ;;
  stop)
    for name in taskmanager-2 taskmanager-1 jobmanager; do
      if alive "$name"; then
        pid="$(cat "$run_dir/$name.pid")"
        kill -TERM "$pid"
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
        echo "stopped $name (pid $pid)"
      fi
      rm -f "$run_dir/$name.pid"
    done
    ;;
  status)
    for name in jobmanager taskmanager-1 taskmanager-2; do
      if alive "$name"; then echo "$name: running (pid $(cat "$run_dir/$name.pid"))"
      else echo "$name: not running"; fi
    done
    ;;
  *)
    echo "usage: cluster.sh start|stop|status [-D key=value]..." >&2
    exit 2
    ;;
esac
