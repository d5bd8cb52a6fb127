package poller

import (
	"encoding/binary"
	"errors"
	"syscall"
	"testing"
	"time"
)

// opFromBytes builds an op from fuzz input: every field a caller sets, including
// nonsense (unknown opcodes and flags, negative offsets, oversized address lengths,
// NUL bytes in paths, misaligned statx buffers).
func opFromBytes(b []byte) *Op {
	get := func(n int) uint64 {
		var v [8]byte
		k := copy(v[:n], b)
		b = b[k:]
		return binary.LittleEndian.Uint64(v[:])
	}
	op := &Op{
		Code:     Opcode(get(1)),
		Flags:    OpFlags(get(2)),
		Group:    uint16(get(2)),
		BufIndex: uint16(get(2)),
		Arg:      uint32(get(4)),
		Mode:     uint32(get(4)),
		Fd:       int(int32(get(4))),
		Offset:   int64(get(8)),
		Len:      int64(get(8)),
		Timeout:  time.Duration(int64(get(8))),
	}
	shape := get(1)
	if shape&1 != 0 {
		op.Done = func(*Op) {}
	}
	if shape&2 != 0 {
		n := int(get(2) % 600)
		buf := make([]byte, n+1)
		op.Buf = buf[shape>>7 : n+int(shape>>7)] // shape>>7 misaligns it by one
	}
	if shape&4 != 0 {
		op.Bufs = [][]byte{make([]byte, get(1)), nil, make([]byte, get(1))}
	}
	if shape&8 != 0 {
		op.Addr = &Sockaddr{Len: uint32(get(2))}
	}
	if shape&16 != 0 {
		op.Control = make([]byte, get(1))
	}
	if shape&32 != 0 {
		op.Ref = get(1)
	}
	n := int(get(1))
	op.Path = string(b[:min(n, len(b))])
	b = b[min(n, len(b)):]
	op.Path2 = string(b)
	return op
}

// FuzzValidate: Validate never panics, and returns nil, ErrInFlight or an
// *InvalidOpError matching EINVAL; an op it accepts has a valid opcode and a Done.
func FuzzValidate(f *testing.F) {
	f.Add([]byte{byte(OpRead), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 16, 0})
	f.Add([]byte{byte(OpStatx), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x83, 0, 1, 4, 'a', 0, 'b'})
	f.Add([]byte{byte(OpRecv), byte(FlagMultishot | FlagBufferSelect), 0, 1, 0})
	f.Add([]byte{byte(OpConnect), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 200, 1})
	f.Add([]byte{byte(OpTimeout), byte(FlagLink)})
	f.Fuzz(func(t *testing.T, b []byte) {
		op := opFromBytes(b)
		err := Validate(op)
		var inv *InvalidOpError
		switch {
		case err == nil:
			if !op.Code.Valid() || op.Done == nil || op.Ref != 0 || op.Flags&^flagsAll != 0 {
				t.Fatalf("accepted a bad op: %+v", op)
			}
		case errors.Is(err, ErrInFlight):
			if op.Ref == 0 {
				t.Fatalf("ErrInFlight for an idle op")
			}
		case errors.As(err, &inv):
			if !errors.Is(err, syscall.EINVAL) || inv.Error() == "" {
				t.Fatalf("InvalidOpError %v does not match EINVAL", err)
			}
		default:
			t.Fatalf("unexpected error %T %v", err, err)
		}
	})
}
