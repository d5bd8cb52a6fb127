package testkit

import (
	"encoding/binary"
	"os"
	"testing"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/zokio/zokio/runtime/driver"
)

// candidates are the drivers Drivers tries on Windows.
var candidates = []driver.Kind{driver.IOCP}

var procWineGetVersion = windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version")

// FDCount is the number of sockets and disk files the process has open, the handles
// a leak of this project would leave. It lists the process's entries in the system
// handle table (NtQuerySystemInformation, SystemExtendedHandleInformation) and keeps
// those that are sockets (getsockopt SO_TYPE answers) or disk files (GetFileType):
// the whole count would include the events and threads that Wine and Go's runtime
// create as they go, and Wine's GetProcessHandleCount always says 0.
func FDCount(tb testing.TB) int {
	tb.Helper()
	buf := make([]byte, 1<<20)
	for {
		var n uint32
		// SAFETY: the call writes at most len(buf) bytes into buf before it returns.
		err := windows.NtQuerySystemInformation(windows.SystemExtendedHandleInformation, unsafe.Pointer(&buf[0]), uint32(len(buf)), &n)
		if err == windows.STATUS_INFO_LENGTH_MISMATCH {
			buf = make([]byte, max(2*len(buf), int(n)+4096))
			continue
		}
		if err != nil {
			tb.Fatal(os.NewSyscallError("NtQuerySystemInformation", err))
		}
		break
	}
	// SYSTEM_HANDLE_INFORMATION_EX: a count and a reserved word, then 40-byte entries
	// whose second word is the owning process's ID and third the handle's value.
	const head, entry = 16, 40
	total := int(binary.LittleEndian.Uint64(buf[0:8]))
	pid := uint64(windows.GetCurrentProcessId())
	count := 0
	for i := 0; i < total && head+(i+1)*entry <= len(buf); i++ {
		e := buf[head+i*entry:]
		if binary.LittleEndian.Uint64(e[8:]) != pid {
			continue
		}
		if h := windows.Handle(binary.LittleEndian.Uint64(e[16:])); isSocket(h) || isDiskFile(h) {
			count++
		}
	}
	return count
}

func isSocket(h windows.Handle) bool {
	var typ int32
	n := int32(unsafe.Sizeof(typ))
	return windows.Getsockopt(h, windows.SOL_SOCKET, soType, (*byte)(unsafe.Pointer(&typ)), &n) == nil
}

func isDiskFile(h windows.Handle) bool {
	t, err := windows.GetFileType(h)
	return err == nil && t == windows.FILE_TYPE_DISK
}

// Wine reports whether the process runs under Wine rather than Windows: ntdll then
// exports wine_get_version (../shared/PLATFORMS.md). Tests use it to name the Wine
// difference they work around.
func Wine() bool { return procWineGetVersion.Find() == nil }

// soType is SO_TYPE (winsock2.h), which x/sys/windows does not name.
const soType = 0x1008
