package runtime

import (
	"errors"
	"os"
	"testing"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/zokio/zokio/numa"
)

// TestMapArenaWindows maps an arena through the node binding (a no-op for Windows'
// one node): it is page-aligned, committed and writable end to end, and gone after
// unmapArena (VirtualQuery sees the range free). A failing binding releases the
// memory and says so.
func TestMapArenaWindows(t *testing.T) {
	const size = 16 << 12
	bound := 0
	mem, err := mapArena(size, func(m []byte) error { bound = len(m); return numa.Bind(m, 0, numa.Preferred) })
	if err != nil {
		t.Fatal(err)
	}
	addr := uintptr(unsafe.Pointer(&mem[0]))
	if len(mem) != size || bound != size || addr%uintptr(os.Getpagesize()) != 0 {
		t.Fatalf("arena: %d bytes at %#x, bound %d", len(mem), addr, bound)
	}
	for i := range mem {
		mem[i] = byte(i)
	}
	if mem[size-1] != byte((size-1)%256) {
		t.Fatal("arena memory lost a write")
	}
	unmapArena(mem)
	var mbi windows.MemoryBasicInformation
	if err := windows.VirtualQuery(addr, &mbi, unsafe.Sizeof(mbi)); err != nil {
		t.Fatal(err)
	}
	if mbi.State != memFree {
		t.Errorf("after unmapArena the range is in state %#x, want MEM_FREE", mbi.State)
	}
	boom := errors.New("boom")
	if _, err := mapArena(size, func([]byte) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("failing bind: %v, want it wrapped", err)
	}
}

// memFree is VirtualQuery's state of an unallocated range (winnt.h).
const memFree = 0x10000
