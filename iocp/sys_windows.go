package iocp

import (
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

// What x/sys/windows lacks: GetQueuedCompletionStatusEx and its OVERLAPPED_ENTRY, ConnectEx
// with a raw address, and the AFD poll interface.

var (
	modkernel32 = windows.NewLazySystemDLL("kernel32.dll")
	modntdll    = windows.NewLazySystemDLL("ntdll.dll")
	modws2_32   = windows.NewLazySystemDLL("ws2_32.dll")

	procGetQueuedCompletionStatusEx = modkernel32.NewProc("GetQueuedCompletionStatusEx")
	procWineGetVersion              = modntdll.NewProc("wine_get_version")
	procWSAPoll                     = modws2_32.NewProc("WSAPoll")
)

// wsaPollFd is WSAPOLLFD; the events are POLLRDNORM and POLLWRNORM.
type wsaPollFd struct {
	fd      windows.Handle
	events  int16
	revents int16
}

const (
	wsaPollRdNorm int16 = 0x0100
	wsaPollWrNorm int16 = 0x0010
)

// wouldBlock reports whether a call on socket h would have to wait: WSAPoll with a
// zero timeout finds it neither readable (write false) nor writable, nor failed nor
// hung up (those the call itself reports at once).
func wouldBlock(h windows.Handle, write bool) (bool, error) {
	p := wsaPollFd{fd: h, events: wsaPollRdNorm}
	if write {
		p.events = wsaPollWrNorm
	}
	// SAFETY: p is read and written during the call only.
	r, _, e := procWSAPoll.Call(uintptr(unsafe.Pointer(&p)), 1, 0)
	if int32(r) < 0 {
		return false, e
	}
	return r == 0, nil
}

// overlappedEntry is OVERLAPPED_ENTRY: one packet as GetQueuedCompletionStatusEx returns
// it. Internal is the NTSTATUS of the I/O; zero is success.
type overlappedEntry struct {
	Key        uintptr
	Overlapped *windows.Overlapped
	Internal   uintptr
	Qty        uint32
}

// getQueuedCompletionStatusEx dequeues up to len(entries) packets, waiting up to ms
// milliseconds (windows.INFINITE: no limit). It returns WAIT_TIMEOUT when none came.
func getQueuedCompletionStatusEx(port windows.Handle, entries []overlappedEntry, ms uint32) (int, error) {
	var n uint32
	r1, _, e1 := syscall.SyscallN(procGetQueuedCompletionStatusEx.Addr(), uintptr(port),
		uintptr(unsafe.Pointer(&entries[0])), uintptr(len(entries)), uintptr(unsafe.Pointer(&n)),
		uintptr(ms), 0)
	if r1 == 0 {
		if e1 == 0 {
			e1 = syscall.EINVAL
		}
		return 0, e1
	}
	return int(n), nil
}

// connectEx is the extension function pointer, loaded once per process.
var connectEx struct {
	once sync.Once
	addr uintptr
	err  error
}

func loadConnectEx(s windows.Handle) error {
	connectEx.once.Do(func() {
		var n uint32
		connectEx.err = windows.WSAIoctl(s, windows.SIO_GET_EXTENSION_FUNCTION_POINTER,
			(*byte)(unsafe.Pointer(&windows.WSAID_CONNECTEX)), uint32(unsafe.Sizeof(windows.WSAID_CONNECTEX)),
			(*byte)(unsafe.Pointer(&connectEx.addr)), uint32(unsafe.Sizeof(connectEx.addr)), &n, nil, 0)
	})
	return connectEx.err
}

// callConnectEx starts ConnectEx on s to the raw address sa. SAFETY: sa and ov point into
// the op's custody (its Sockaddr and its request), referenced until the packet arrives.
func callConnectEx(s windows.Handle, sa unsafe.Pointer, salen int32, ov *windows.Overlapped) error {
	if err := loadConnectEx(s); err != nil {
		return err
	}
	r1, _, e1 := syscall.SyscallN(connectEx.addr, uintptr(s), uintptr(sa), uintptr(salen), 0, 0, 0,
		uintptr(unsafe.Pointer(ov)))
	if r1 == 0 {
		if e1 == 0 {
			e1 = syscall.EINVAL
		}
		return e1
	}
	return nil
}

// The AFD poll interface (afd.h in mio and wepoll; undocumented but stable since
// Windows XP): IOCTL_AFD_POLL on a handle to \Device\Afd polls sockets in the kernel and
// completes through the port like any overlapped I/O.
const (
	ioctlAFDPoll = 0x00012024

	afdPollReceive          = 0x0001
	afdPollReceiveExpedited = 0x0002
	afdPollSend             = 0x0004
	afdPollDisconnect       = 0x0008
	afdPollAbort            = 0x0010
	afdPollLocalClose       = 0x0020
	afdPollAccept           = 0x0080
	afdPollConnectFail      = 0x0100

	sioBaseHandle = windows.IOC_OUT | windows.IOC_WS2 | 34
)

type afdPollHandleInfo struct {
	Handle windows.Handle
	Events uint32
	Status windows.NTStatus
}

type afdPollInfo struct {
	Timeout         int64
	NumberOfHandles uint32
	Exclusive       uint32
	Handles         [1]afdPollHandleInfo
}

// openAFD opens a handle to the AFD device with a name of our own, as mio and wepoll
// do; \Device\Afd accepts any name below it.
func openAFD() (windows.Handle, error) {
	name, err := windows.NewNTUnicodeString(`\Device\Afd\Zokio`)
	if err != nil {
		return 0, err
	}
	oa := windows.OBJECT_ATTRIBUTES{ObjectName: name}
	oa.Length = uint32(unsafe.Sizeof(oa))
	var iosb windows.IO_STATUS_BLOCK
	var h windows.Handle
	err = windows.NtCreateFile(&h, windows.SYNCHRONIZE, &oa, &iosb, nil, 0,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE, windows.FILE_OPEN, 0, 0, 0)
	if err != nil {
		if st, ok := err.(windows.NTStatus); ok {
			return 0, st.Errno()
		}
		return 0, err
	}
	return h, nil
}

// baseHandle returns the base service provider's socket under s, which AFD wants; where
// the ioctl is missing (Wine) s itself is the base socket.
func baseHandle(s windows.Handle) windows.Handle {
	var base windows.Handle
	var n uint32
	err := windows.WSAIoctl(s, sioBaseHandle, nil, 0, (*byte)(unsafe.Pointer(&base)),
		uint32(unsafe.Sizeof(base)), &n, nil, 0)
	if err != nil || base == 0 {
		return s
	}
	return base
}

// WineVersion returns the version of Wine this process runs under, or "" on Windows
// itself. Tests use it to name the Wine difference they tolerate.
func WineVersion() string {
	if procWineGetVersion.Find() != nil {
		return ""
	}
	r1, _, _ := syscall.SyscallN(procWineGetVersion.Addr())
	if r1 == 0 {
		return "unknown"
	}
	// SAFETY: wine_get_version returns a static NUL-terminated string.
	return windows.BytePtrToString(*(**byte)(unsafe.Pointer(&r1)))
}

// syscallRawSockaddrAny is the address type WSAMsg points at.
type syscallRawSockaddrAny = syscall.RawSockaddrAny

// soType is SOL_SOCKET's SO_TYPE option, which x/sys/windows does not name.
const soType = 0x1008

// fileModeInformation is NtQueryInformationFile's FileModeInformation class.
const fileModeInformation = 16
