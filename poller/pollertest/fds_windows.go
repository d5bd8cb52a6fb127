package pollertest

import (
	"encoding/binary"
	"net"
	"sync"
	"unsafe"

	"golang.org/x/sys/windows"
)

// openFDs counts the handles a leak of a driver would leave: sockets, disk files and
// directories, and I/O completion ports. It lists the process's entries in the system
// handle table (NtQuerySystemInformation, SystemExtendedHandleInformation) and keeps
// those that getsockopt(SO_TYPE) answers for, that GetFileType calls disk files, or
// whose object type is a completion port's (the type of a port made once for the
// comparison). Not GetProcessHandleCount: under Wine 8 it always says 0, and on Windows
// it counts the thread, event and timer handles that Go's runtime creates for each new
// OS thread, which a scenario may start without leaking anything. -1 if the table
// cannot be read.
func openFDs() int {
	portType := portTypeIndex() // first: it may make Go's port
	buf := handleTable()
	if buf == nil {
		return -1
	}
	// SYSTEM_HANDLE_INFORMATION_EX: a count and a reserved word, then 40-byte entries:
	// the object's address, the owning process's ID, the handle's value, the granted
	// access (4 bytes), a back-trace index (2) and the object type index (2).
	const head, entry = 16, 40
	total := int(binary.LittleEndian.Uint64(buf[0:8]))
	pid := uint64(windows.GetCurrentProcessId())
	count := 0
	for i := 0; i < total && head+(i+1)*entry <= len(buf); i++ {
		e := buf[head+i*entry:]
		if binary.LittleEndian.Uint64(e[8:]) != pid {
			continue
		}
		h := windows.Handle(binary.LittleEndian.Uint64(e[16:]))
		typ := binary.LittleEndian.Uint16(e[30:])
		if (portType != 0 && typ == portType) || isSocketHandle(h) || isDiskHandle(h) {
			count++
		}
	}
	return count
}

// handleTable returns the system handle table (SYSTEM_HANDLE_INFORMATION_EX), or nil.
func handleTable() []byte {
	buf := make([]byte, 1<<20)
	for {
		var n uint32
		// SAFETY: the call writes at most len(buf) bytes into buf before it returns.
		err := windows.NtQuerySystemInformation(windows.SystemExtendedHandleInformation, unsafe.Pointer(&buf[0]), uint32(len(buf)), &n)
		switch {
		case err == windows.STATUS_INFO_LENGTH_MISMATCH:
			buf = make([]byte, max(2*len(buf), int(n)+4096))
		case err != nil:
			return nil
		default:
			return buf
		}
	}
}

var portType struct {
	once  sync.Once
	index uint16
}

// portTypeIndex is the object type index of an I/O completion port in the handle
// table, found once through a port made for it, or 0 if the table does not say (then
// ports are not counted).
//
// The first call also makes Go's runtime create its own completion port (its netpoll's,
// made at the first network or timer use, and kept for the process's life) by opening
// and closing a loopback listener: made later, inside a scenario, it would read as a
// leaked port, or take the value of a handle the scenario just closed.
func portTypeIndex() uint16 {
	portType.once.Do(func() {
		if ln, err := net.Listen("tcp", "127.0.0.1:0"); err == nil {
			ln.Close()
		}
		port, err := windows.CreateIoCompletionPort(windows.InvalidHandle, 0, 0, 1)
		if err != nil {
			return
		}
		defer windows.CloseHandle(port)
		buf := handleTable()
		if buf == nil {
			return
		}
		total := int(binary.LittleEndian.Uint64(buf[0:8]))
		pid := uint64(windows.GetCurrentProcessId())
		for i := 0; i < total && 16+(i+1)*40 <= len(buf); i++ {
			e := buf[16+i*40:]
			if binary.LittleEndian.Uint64(e[8:]) == pid && windows.Handle(binary.LittleEndian.Uint64(e[16:])) == port {
				portType.index = binary.LittleEndian.Uint16(e[30:])
				return
			}
		}
	})
	return portType.index
}

func isSocketHandle(h windows.Handle) bool {
	var typ int32
	n := int32(unsafe.Sizeof(typ))
	return windows.Getsockopt(h, windows.SOL_SOCKET, 0x1008 /* SO_TYPE */, (*byte)(unsafe.Pointer(&typ)), &n) == nil
}

func isDiskHandle(h windows.Handle) bool {
	t, err := windows.GetFileType(h)
	return err == nil && t == windows.FILE_TYPE_DISK
}
