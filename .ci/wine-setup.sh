# Wine for Zokio's Windows tests: source this file from bash (`. .ci/wine-setup.sh`), then
# run Windows test binaries with `GOOS=windows go test -exec wine ...`. Every step is
# idempotent: a second source reuses the packages, the prefix, the DLL and a running
# wineserver. Call wine_stop when done (CI traps it on exit).
#
# The steps, and why (see ../shared/PLATFORMS.md, IOCP section):
#  1. Debian's wine and wine64 (Wine 8), and binutils/gcc for mingw-w64 (the DLL below,
#     and -race, which needs cgo).
#  2. A prefix of our own (WINEPREFIX, default /tmp/zokio-wine), created once with wineboot.
#  3. Go ≥ 1.22 Windows binaries import bcryptprimitives.dll's ProcessPrng, which Wine 8
#     lacks: every binary would die at start. A forwarder DLL whose only export is
#     ProcessPrng = advapi32.SystemFunction036 (RtlGenRandom; Go checks only that the result
#     is non-zero, and both return a BOOLEAN-sized success) goes into system32, the only
#     directory Go loads it from.
#  4. wineserver, and Wine's services (one `wine cmd /c exit`), started before go test with
#     their stdio on /dev/null: started by the first test binary instead, they would inherit
#     go test's output pipe and go test would wait for them.

export WINEDEBUG=-all
export WINEPREFIX="${WINEPREFIX:-/tmp/zokio-wine}"
# No Mono or Gecko installer dialogs while the prefix is created.
export WINEDLLOVERRIDES="${WINEDLLOVERRIDES:-mscoree,mshtml=}"

wine_setup() {
	local need=()
	command -v wine >/dev/null || need+=(wine wine64)
	command -v x86_64-w64-mingw32-ld >/dev/null || need+=(binutils-mingw-w64-x86-64)
	command -v x86_64-w64-mingw32-gcc >/dev/null || need+=(gcc-mingw-w64-x86-64)
	if [ ${#need[@]} -gt 0 ]; then
		echo "wine-setup: installing ${need[*]}"
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}" >/dev/null ||
			{ apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}" >/dev/null; } ||
			return 1
	fi

	local sys32="$WINEPREFIX/drive_c/windows/system32"
	if [ ! -d "$sys32" ]; then
		echo "wine-setup: creating the prefix $WINEPREFIX"
		wineboot -i </dev/null >/dev/null 2>&1 || return 1
		wineserver -w
	fi

	if [ ! -f "$sys32/bcryptprimitives.dll" ]; then
		echo "wine-setup: building the ProcessPrng forwarder DLL"
		local tmp
		tmp=$(mktemp -d) || return 1
		printf 'LIBRARY bcryptprimitives.dll\nEXPORTS\nProcessPrng = advapi32.SystemFunction036\n' >"$tmp/prng.def"
		printf '\t.text\n' | x86_64-w64-mingw32-as -o "$tmp/empty.o" &&
			x86_64-w64-mingw32-ld --dll -e 0 --no-seh -s --no-insert-timestamp \
				-o "$tmp/bcryptprimitives.dll" "$tmp/empty.o" "$tmp/prng.def" &&
			cp "$tmp/bcryptprimitives.dll" "$sys32/" || { rm -rf "$tmp"; return 1; }
		rm -rf "$tmp"
	fi

	# -p: persistent, so it outlives the test binaries; detached from our stdio.
	wineserver -p </dev/null >/dev/null 2>&1 &
	wine cmd /c exit </dev/null >/dev/null 2>&1 || return 1
}

wine_stop() {
	wineserver -k >/dev/null 2>&1 || true
}

wine_setup

# wine_go_test ARGS...: `go test -count=1 -exec wine ARGS...` for windows/amd64 (set
# CGO_ENABLED/CC in the environment for -race). Pass one -timeout in ARGS: it is the
# test binary's own deadline, whose panic prints every goroutine. A run is retried once,
# loudly, only when Wine stalled the whole process: go test had to kill the binary
# ("Test killed ... ran too long") although its own deadline never fired (no "panic:
# test timed out") and no test failed. Seen here about once in ten loaded runs of the
# runtime package, in different tests, with no goroutine able to run any more (not even
# the deadline's); a deadlock of ours prints the panic instead and is never retried, nor
# is any failing test.
wine_go_test() {
	local log attempt
	log=$(mktemp) || return 1
	for attempt in 1 2; do
		GOOS=windows GOARCH=amd64 go test -count=1 -exec wine "$@" 2>&1 | tee "$log"
		if [ "${PIPESTATUS[0]}" = 0 ]; then # go test's status, with or without pipefail
			rm -f "$log"
			return 0
		fi
		if [ "$attempt" = 1 ] && grep -q 'ran too long' "$log" &&
			! grep -q 'panic: test timed out' "$log" && ! grep -qE '^\s*--- FAIL' "$log"; then
			echo "wine_go_test: Wine stalled the test process (killed by go test, its own deadline never fired); rerunning once: $*" >&2
			continue
		fi
		rm -f "$log"
		return 1
	done
	rm -f "$log"
	return 1
}
