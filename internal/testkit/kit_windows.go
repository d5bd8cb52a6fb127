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

// FDCount is the number of handles the process has open: sockets, files, events and
// the port itself, so compare counts, not values. Wine's GetProcessHandleCount always
// says 0, so it counts the process's entries in the system handle table
// (NtQuerySystemInformation, SystemExtendedHandleInformation), which Wine fills.
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
	// whose second word is the owning process's ID.
	const head, entry = 16, 40
	total := int(binary.LittleEndian.Uint64(buf[0:8]))
	pid := uint64(windows.GetCurrentProcessId())
	count := 0
	for i := 0; i < total && head+(i+1)*entry <= len(buf); i++ {
		if binary.LittleEndian.Uint64(buf[head+i*entry+8:]) == pid {
			count++
		}
	}
	return count
}

// Wine reports whether the process runs under Wine rather than Windows: ntdll then
// exports wine_get_version (../shared/PLATFORMS.md). Tests use it to name the Wine
// difference they work around.
func Wine() bool { return procWineGetVersion.Find() == nil }
