package winhandles

import (
	"fmt"
	"net/netip"
	"sync"
	"unsafe"

	"golang.org/x/sys/windows"
)

// Counts holds the handles Count found, by kind.
type Counts struct {
	Sockets int // sockets (getsockopt SO_TYPE answers)
	Files   int // disk files and directories (GetFileType says FILE_TYPE_DISK)
	Ports   int // I/O completion ports (object type IoCompletion)
}

var (
	ntdll                = windows.NewLazySystemDLL("ntdll.dll")
	procNtQueryObject    = ntdll.NewProc("NtQueryObject")
	kernel32             = windows.NewLazySystemDLL("kernel32.dll")
	procGetHandleInfo    = kernel32.NewProc("GetHandleInformation")
	procGetProcHandleCnt = kernel32.NewProc("GetProcessHandleCount")
)

// scans serializes Count, which keeps the highest handle value seen open.
var scans struct {
	sync.Mutex
	highest int
}

// gap is how many consecutive free handle values past the highest open one a scan
// looks at before it stops. Windows and Wine hand out the lowest free slots (Windows
// from a free list over the same dense table), so open handles sit low and close
// together; a handle is left above a wider gap only when the table once reached it,
// and the scan always goes past the highest value any earlier scan saw.
const gap = 1024 * 4

// Count scans the process's handle values from the lowest up and classifies the open
// ones. On Windows it stops once it has found as many handles as GetProcessHandleCount
// says the process holds; under Wine (which says 0), gap values past the highest open
// handle seen by this or an earlier scan. Each probe is a call into the kernel (into
// wineserver under Wine, about 50 µs), so a scan costs some milliseconds.
func Count() Counts {
	scans.Lock()
	defer scans.Unlock()
	var total uint32
	if r, _, _ := procGetProcHandleCnt.Call(uintptr(windows.CurrentProcess()), uintptr(unsafe.Pointer(&total))); r == 0 {
		total = 0
	}
	var c Counts
	found := 0
	last := 0
	for v := 4; ; v += 4 {
		if total > 0 && found >= int(total) {
			break
		}
		if v > max(last, scans.highest)+gap {
			break
		}
		h := windows.Handle(v)
		if !isOpen(h) {
			continue
		}
		found++
		last = v
		switch typeName(h) {
		case "IoCompletion":
			c.Ports++
		case "File":
			if isSocket(h) {
				c.Sockets++
			} else if isDisk(h) {
				c.Files++
			}
		}
	}
	scans.highest = max(scans.highest, last)
	return c
}

func isOpen(h windows.Handle) bool {
	var flags uint32
	r, _, _ := procGetHandleInfo.Call(uintptr(h), uintptr(unsafe.Pointer(&flags)))
	return r != 0
}

// typeName is the name of the type of the object h refers to (NtQueryObject,
// ObjectTypeInformation: its answer starts with a UNICODE_STRING), or "" if the call
// fails.
func typeName(h windows.Handle) string {
	var buf [512]uint64 // 8-byte aligned, as the UNICODE_STRING in it must be
	var n uint32
	const objectTypeInformation = 2
	r, _, _ := procNtQueryObject.Call(uintptr(h), objectTypeInformation,
		uintptr(unsafe.Pointer(&buf[0])), unsafe.Sizeof(buf), uintptr(unsafe.Pointer(&n)))
	if r != 0 {
		return ""
	}
	s := (*windows.NTUnicodeString)(unsafe.Pointer(&buf[0]))
	return s.String()
}

func isSocket(h windows.Handle) bool {
	var typ int32
	n := int32(unsafe.Sizeof(typ))
	const soType = 0x1008 // SO_TYPE (winsock2.h), which x/sys/windows does not name
	return windows.Getsockopt(h, windows.SOL_SOCKET, soType, (*byte)(unsafe.Pointer(&typ)), &n) == nil
}

func isDisk(h windows.Handle) bool {
	t, err := windows.GetFileType(h)
	return err == nil && t == windows.FILE_TYPE_DISK
}

// Identity names the object h refers to: a socket by its local and peer addresses, a
// file by its volume and file index, anything else only as an open handle; "" when h
// is not open. Windows (and Wine) hand a closed handle's value out again at once, to
// the runtime's and Wine's own threads too, so a test that checks whether a handle it
// closed is gone compares identities, not only whether the number is open.
func Identity(h windows.Handle) string {
	if local, err := windows.Getsockname(h); err == nil {
		id := "socket " + sockaddrString(local)
		if peer, err := windows.Getpeername(h); err == nil {
			id += " peer " + sockaddrString(peer)
		}
		return id
	}
	var fi windows.ByHandleFileInformation
	if windows.GetFileInformationByHandle(h, &fi) == nil {
		return fmt.Sprintf("file %x:%x:%x", fi.VolumeSerialNumber, fi.FileIndexHigh, fi.FileIndexLow)
	}
	if isOpen(h) {
		return "handle"
	}
	return ""
}

func sockaddrString(sa windows.Sockaddr) string {
	switch a := sa.(type) {
	case *windows.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port)).String()
	case *windows.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(a.Addr), uint16(a.Port)).String()
	}
	return fmt.Sprintf("%T", sa)
}
