#!/usr/bin/env bash
# Runs the echo comparison: driverecho on Zokio's uring and epoll drivers, gnet v2,
# Go's net and Tokio (skipped without cargo), each server pinned to CPU 0 against
# the load generator pinned to CPU 1, interleaved. Extra arguments go to the runner, e.g.
#   bench/echo/run.sh -reps=9   or   bench/echo/run.sh -scenarios=1000x64p1 -duration=10s
set -euo pipefail
cd "$(dirname "$0")/.."   # bench/, its own Go module
export PATH="/usr/local/go/bin:$PATH"
mkdir -p results/tmp
stamp=$(date -u +%Y%m%dT%H%M%SZ)
# bench/ builds take -checklinkname=0 (giouring, another benchmark of this module,
# links syscall.mmap by name); the runner passes it to its own builds too.
exec go run -ldflags=-checklinkname=0 ./echo \
  -reps=7 -duration=5s -warmup=1s -scenarios=1000x64p1,1000x64p1@40000,1000x64p16,50x4096p16 \
  -contenders=uring,epoll,gnet,gonet,tokio -server-cpu=0 -load-cpu=1 -load-procs=1 -load-threads=1 \
  -json="results/tmp/echo-$stamp.json" "$@"
