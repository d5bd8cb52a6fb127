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
