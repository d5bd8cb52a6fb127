#!/usr/bin/env bash
# Runs the NOP submit+reap comparison: Zokio's uring binding vs giouring vs a
# C liburing loop, interleaved, pinned to one CPU. Extra arguments go to the
# runner, e.g.  bench/nop/run.sh -reps=11 -ops=8000000  or  -cpu=  (no pinning).
#
# Installs liburing-dev (and gcc) when liburing's header is missing and this
# runs as root; otherwise it tells you what to install.
set -euo pipefail
cd "$(dirname "$0")/.."   # bench/, its own Go module
export PATH="/usr/local/go/bin:$PATH"

if [ ! -e /usr/include/liburing.h ] || ! command -v gcc >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "run.sh: installing gcc and liburing-dev for the C contender" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc liburing-dev >/dev/null
  else
    echo "run.sh: the C contender needs gcc and liburing: apt-get install -y gcc liburing-dev (as root)" >&2
    exit 1
  fi
fi

mkdir -p results/tmp
stamp=$(date -u +%Y%m%dT%H%M%SZ)
# giouring reaches syscall.mmap through go:linkname, which the Go linker
# refuses unless told not to check; only bench/ builds need this flag.
exec go run -ldflags=-checklinkname=0 ./nop \
  -batches=1,32,256 -reps=7 -ops=4000000 -warmup=100000 -entries=256 -cpu=auto \
  -json="results/tmp/nop-$stamp.json" "$@"
