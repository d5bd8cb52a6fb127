package bufgroup

import (
	"os"
	"unsafe"

	"golang.org/x/sys/windows"
)

// alloc commits n bytes of private memory with VirtualAlloc.
func alloc(n int) ([]byte, error) {
	p, err := windows.VirtualAlloc(0, uintptr(n), windows.MEM_COMMIT|windows.MEM_RESERVE, windows.PAGE_READWRITE)
	if err != nil {
		return nil, os.NewSyscallError("VirtualAlloc", err)
	}
	// SAFETY: p is n committed bytes outside the Go heap, valid until release.
	return unsafe.Slice(*(**byte)(unsafe.Pointer(&p)), n), nil
}

func release(mem []byte) error {
	return windows.VirtualFree(uintptr(unsafe.Pointer(&mem[0])), 0, windows.MEM_RELEASE)
}
