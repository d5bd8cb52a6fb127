#!/usr/bin/env bash
# System calls, context switches and CPU time per message of one echo server, counted
# by perf stat over 3 s of load: figures that, unlike throughput, hardly move with
# what else the machine runs. The server is pinned to CPU 0 (GOMAXPROCS=1), the
# generator to CPU 1.
#
#   bench/echo/syscalls.sh "-impl=znetconn -driver=uring" 1000 64 1 20000   # CONNS SIZE PIPELINE RATE (0: closed loop)
#   SERVER=/tmp/server-before bench/echo/syscalls.sh "-impl=znetconn -driver=uring" 50 4096 16 0
set -euo pipefail
cd "$(dirname "$0")/.."   # bench/, its own Go module
args=$1 conns=$2 size=$3 pipe=$4 rate=$5
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
server=${SERVER:-$tmp/server}
[ -n "${SERVER:-}" ] || go build -ldflags=-checklinkname=0 -o "$server" ./echo/server
go build -ldflags=-checklinkname=0 -o "$tmp/load" ./echo/load
# shellcheck disable=SC2086
coproc SRV { GOMAXPROCS=1 exec taskset -c 0 "$server" $args -addr=127.0.0.1:0; }
read -r line <&"${SRV[0]}"
addr=${line#ready }
pid=$SRV_PID
taskset -c 1 "$tmp/load" -addr="$addr" -conns="$conns" -size="$size" -pipeline="$pipe" -rate="$rate" \
  -duration=4s -warmup=1s -server-pid="$pid" >"$tmp/load.out" 2>&1 &
lp=$!
sleep 1.5   # into the measured window
perf stat -x, -e raw_syscalls:sys_enter,context-switches,task-clock -p "$pid" -- sleep 3 2>"$tmp/perf.out"
wait "$lp"
kill -TERM "$pid"
wait "$pid" 2>/dev/null || true
python3 - "$tmp/load.out" "$tmp/perf.out" "$args" <<'PY'
import json, sys
res = [l for l in open(sys.argv[1]) if l.startswith("result ")][0]
d = json.loads(res[len("result "):])
rate = d["msgs"] / (d["window_ns"] / 1e9)
perf = {l.split(",")[2]: float(l.split(",")[0]) for l in open(sys.argv[2]) if l.count(",") > 3 and l.split(",")[0][0].isdigit()}
msgs = rate * 3
print("%-40s msg/s %8.0f  syscalls/msg %.3f  ctxsw/msg %.3f  server CPU ns/msg %.0f" % (
    sys.argv[3], rate, perf["raw_syscalls:sys_enter"] / msgs, perf["context-switches"] / msgs, perf["task-clock"] * 1e6 / msgs))
PY
