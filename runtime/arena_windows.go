package runtime

import (
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/windows"
)

// mapArena allocates size bytes of committed private memory outside the Go heap
// (VirtualAlloc), binds it with bind (the loop's node: one node on Windows, so nil or
// a no-op) and touches every page, so that the first reads into the arena do not fault
// page by page.
func mapArena(size int, bind func(mem []byte) error) ([]byte, error) {
	p, err := windows.VirtualAlloc(0, uintptr(size), windows.MEM_COMMIT|windows.MEM_RESERVE, windows.PAGE_READWRITE)
	if err != nil {
		return nil, fmt.Errorf("zokio/runtime: allocating a %d-byte arena: %w", size, os.NewSyscallError("VirtualAlloc", err))
	}
	// SAFETY: VirtualAlloc returned size bytes of committed memory at p, which stay
	// valid until unmapArena releases them; the GC never scans or moves them. (The
	// address comes back as a uintptr: unsafe.Add makes it a pointer without a
	// conversion vet would take for a stale heap address.)
	mem := unsafe.Slice((*byte)(unsafe.Add(nil, p)), size)
	if bind != nil {
		if err := bind(mem); err != nil {
			unmapArena(mem)
			return nil, fmt.Errorf("zokio/runtime: binding a %d-byte arena to its loop's node: %w", size, err)
		}
	}
	page := os.Getpagesize()
	for i := 0; i < len(mem); i += page {
		mem[i] = 0
	}
	return mem, nil
}

func unmapArena(mem []byte) {
	_ = windows.VirtualFree(uintptr(unsafe.Pointer(unsafe.SliceData(mem))), 0, windows.MEM_RELEASE)
}

// The IOCP driver has no registered buffers: arenas are plain memory there.
func registerBufTable(l *Loop, n int) error { return errNoFixedBuffers }

func setBufSlot(l *Loop, slot uint16, mem []byte) error { return errNoFixedBuffers }
