# Builds libkqueue (user-space kqueue on epoll) for the kqueue driver's test-only cgo
# build, into bin/libkqueue of this clone (bin/ is ignored), and exports KQ_BUILD,
# CGO_CFLAGS and CGO_LDFLAGS for `go test -tags libkqueue`. Sourced by .ci/run and
# .ci/coverage.sh; needs cmake, a C compiler and patch.
#
# The source is ../shared/third_party/libkqueue, copied to bin/libkqueue-src and patched
# there with .ci/libkqueue-full-event-list.patch (the shared tree stays as it is):
# libkqueue turns one epoll event into a read and a write kevent, drops those that do
# not fit in the caller's event list, and with EV_CLEAR (EPOLLET) an edge dropped so is
# never reported again, where a kernel kqueue keeps it for the next call. The patch
# asks epoll for no more events than always fit. kqueue's TestFullEventListLosesNoEdge
# fails without it; so did, once in several runs, znet's TestOracleUnderGC.
#
# The build directory is inside the clone: one shared between clones (under $TMPDIR)
# keeps a CMake cache naming the other clone's source path, and cmake refuses it.
kq_build_libkqueue() {
  local src root
  root=$(pwd)
  src=$(cd .. && pwd)/shared/third_party/libkqueue
  [ -d "$src" ] || { echo "libkqueue: no source at $src" >&2; return 1; }
  KQ_BUILD=$root/bin/libkqueue
  rm -rf "$root/bin/libkqueue-src" "$KQ_BUILD"
  mkdir -p "$root/bin"
  cp -R "$src" "$root/bin/libkqueue-src" &&
    patch -s -p1 -d "$root/bin/libkqueue-src" <"$root/.ci/libkqueue-full-event-list.patch" &&
    cmake -S "$root/bin/libkqueue-src" -B "$KQ_BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null &&
    cmake --build "$KQ_BUILD" -j2 >/dev/null || { echo "libkqueue: build failed" >&2; return 1; }
  export KQ_BUILD CGO_CFLAGS="-I$KQ_BUILD/include" CGO_LDFLAGS="$KQ_BUILD/libkqueue.a -lpthread"
}
