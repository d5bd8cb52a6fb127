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

	wine_start
}

# wine_start starts wineserver and Wine's services unless they run. -p: persistent, so
# the server outlives the test binaries; -f: in the foreground of a background job, so
# that WINE_SERVER_PID is the server itself and wine_go_test sees it die; detached from
# our stdio.
wine_start() {
	if [ -n "${WINE_SERVER_PID:-}" ] && kill -0 "$WINE_SERVER_PID" 2>/dev/null; then
		return 0
	fi
	WINE_SERVER_PID=
	wineserver -f -p </dev/null >/dev/null 2>&1 &
	WINE_SERVER_PID=$!
	wine cmd /c exit </dev/null >/dev/null 2>&1 || return 1
	# A server another shell started already serves this prefix: ours exited at once.
	# Then there is no server of ours to watch.
	kill -0 "$WINE_SERVER_PID" 2>/dev/null || WINE_SERVER_PID=
	return 0
}

# wine_procs lists the Wine processes of this prefix (test binaries, Wine's services,
# the server): Wine's own executables, with this WINEPREFIX in their environment.
wine_procs() {
	local p
	for p in /proc/[0-9]*; do
		case "$(readlink "$p/exe" 2>/dev/null)" in /usr/lib/wine/*) ;; *) continue ;; esac
		if tr '\0' '\n' <"$p/environ" 2>/dev/null | grep -qx "WINEPREFIX=$WINEPREFIX"; then
			echo "${p#/proc/}"
		fi
	done
	return 0
}

# wine_stop ends the server and every process of the prefix: after a server crash,
# Wine's services and the test binaries outlive it, hung. Safe under set -e (CI traps
# it on exit): nothing in it fails.
wine_stop() {
	wineserver -k >/dev/null 2>&1 || true
	local procs
	procs=$(wine_procs) || true
	if [ -n "$procs" ]; then
		kill -KILL $procs 2>/dev/null || true
	fi
	if [ -n "${WINE_SERVER_PID:-}" ]; then
		kill -KILL "$WINE_SERVER_PID" 2>/dev/null || true
		wait "$WINE_SERVER_PID" 2>/dev/null || true
	fi
	WINE_SERVER_PID=
	return 0
}

wine_setup

# wine_go_test ARGS...: `go test -count=1 -exec wine ARGS...` for windows/amd64 (set
# CGO_ENABLED/CC in the environment for -race). Pass one -timeout in ARGS: it is the
# test binary's own deadline, whose panic prints every goroutine.
#
# A run is retried, loudly, at most twice, and only when Wine failed under it:
#  - wineserver crashed. Every test binary then hangs on its dead connection. A watcher
#    sees the server exit, kills the binaries at once (instead of go test doing so at
#    -timeout + 1 min), and the run goes again on a fresh server and services. Seen
#    here (2026-12-08) in about one run in four of the first step below, until the
#    tests' leak checks stopped asking for the system handle table: under gdb, Wine
#    8's server died of a SIGSEGV in the loop that walks every process's handle table
#    for NtQuerySystemInformation(SystemExtendedHandleInformation). internal/winhandles
#    now looks at the process's own handles instead; the watcher stays for any other
#    crash.
#  - Wine stalled the whole process: go test had to kill the binary ("Test killed ...
#    ran too long") although its own deadline never fired (no "panic: test timed out").
# A failing test, or a deadlock of ours (which prints the deadline's panic), fails at
# once and is never retried, unless the server died in that run: what failed after
# that says nothing of ours, and the rerun must pass on its own.
wine_go_test() {
	local log attempt gopid rc crashed
	log=$(mktemp) || return 1
	for attempt in 1 2 3; do
		wine_start
		crashed=
		GOOS=windows GOARCH=amd64 go test -count=1 -exec wine "$@" > >(tee "$log") 2>&1 &
		gopid=$!
		while kill -0 "$gopid" 2>/dev/null; do
			if [ -z "$crashed" ] && [ -n "${WINE_SERVER_PID:-}" ] && ! kill -0 "$WINE_SERVER_PID" 2>/dev/null; then
				crashed=1
				echo "wine_go_test: wineserver exited during the run; ending the test binaries:" $(wine_procs) >&2
			fi
			# Until go test ends, so that a binary it starts after the crash goes too.
			[ -n "$crashed" ] && wine_stop
			sleep 1
		done
		wait "$gopid"
		rc=$?
		sleep 0.2 # let tee drain
		if [ "$rc" = 0 ]; then
			rm -f "$log"
			return 0
		fi
		grep -q 'wineserver crashed' "$log" && crashed=1
		if [ -z "$crashed" ] && { grep -q 'panic: test timed out' "$log" || grep -qE '^\s*--- FAIL' "$log"; }; then
			break
		fi
		if [ "$attempt" -lt 3 ] && { [ -n "$crashed" ] || grep -q 'ran too long' "$log"; }; then
			echo "wine_go_test: Wine failed under the run (attempt $attempt: $([ -n "$crashed" ] && echo "the server crashed" || echo "a stall")); restarting Wine and rerunning: $*" >&2
			wine_stop
			continue
		fi
		break
	done
	rm -f "$log"
	return 1
}
