#!/usr/bin/env bash
# Runs the file I/O comparison: zfile (goroutine, loop and batch APIs; io_uring and
# epoll) vs os.File vs fio's io_uring engine, 4 KiB random reads from a 1 GiB file in
# the page cache and with O_DIRECT at depths 1, 32 and 128, then sequential 1 MiB
# writes with an fsync every 64 MiB. Extra arguments go to the runner, e.g.
#   bench/file/run.sh -reps=3 -modes=direct -depths=32
# Installs fio when it is missing and this runs as root.
set -euo pipefail
cd "$(dirname "$0")/.."   # bench/, its own Go module
export PATH="/usr/local/go/bin:$PATH"

if ! command -v fio >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "run.sh: installing fio" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fio >/dev/null
  else
    echo "run.sh: the fio contenders need fio: apt-get install -y fio (as root)" >&2
    exit 1
  fi
fi

mkdir -p results/tmp
stamp=$(date -u +%Y%m%dT%H%M%SZ)
exec go run -ldflags=-checklinkname=0 ./file -file=/work/zfile-bench/data -size=1073741824 \
  -modes=cache,direct -depths=1,32,128 -reps=5 -dur=2s -warm=300ms \
  -write-mb=512 -sync-mb=64 -json="results/tmp/file-$stamp.json" "$@"
