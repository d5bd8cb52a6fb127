package zfile

import (
	"io"
	"os"
	"testing"

	"github.com/zokio/zokio/internal/testkit"
)

// TestHugeBuffers hands File's calls a buffer of 4 GiB + 16 bytes (mapped without
// reserving memory; only the pages a read fills are touched) and offsets past 4 GiB
// (issue 15, item 4): a write of all of it returns its full length, reads into it get
// what the file holds, never a length cut to 32 bits or an op the driver refuses.
func TestHugeBuffers(t *testing.T) {
	const huge = 1<<32 + 16
	buf := testkit.HugeBuffer(t, huge)
	forEachDriver(t, 1, func(t *testing.T, e *env) {
		// Write loops in pieces the driver takes: /dev/null swallows all of them.
		null := mustOpen(t, e, os.DevNull, os.O_WRONLY, OpenOptions{})
		if n, err := null.Write(buf); n != huge || err != nil {
			t.Fatalf("Write(4 GiB + 16) to %s = %d, %v; want %d, nil", os.DevNull, n, err, huge)
		}
		null.Close()

		// A sparse file of 4 GiB + 16 bytes whose last 16 are written at offset 4 GiB.
		name := e.path("sparse")
		f := mustOpen(t, e, name, os.O_RDWR|os.O_CREATE, OpenOptions{})
		defer f.Close()
		tail := pattern(1<<32, 16)
		if n, err := f.WriteAt(tail, 1<<32); n != 16 || err != nil {
			t.Fatalf("WriteAt(16 bytes, 4 GiB) = %d, %v", n, err)
		}
		if st, err := os.Stat(name); err != nil || st.Size() != 1<<32+16 {
			t.Fatalf("file after WriteAt at 4 GiB: %v, %v; want %d bytes", st, err, 1<<32+16)
		}
		osf, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]byte, 16)
		_, err = osf.ReadAt(got, 1<<32)
		osf.Close()
		if err != nil || !equal(got, tail) {
			t.Fatalf("os reads %x, %v at 4 GiB; want %x", got, err, tail)
		}
		if n, err := f.ReadAt(buf[:64], 1<<32); n != 16 || err != io.EOF || !equal(buf[:16], tail) {
			t.Fatalf("ReadAt(64, 4 GiB) = %d, %v, %x; want 16, EOF, %x", n, err, buf[:16], tail)
		}
		// Read into the whole buffer at the file position: a short read of what is left.
		if _, err := f.Seek(1<<32+8, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		if n, err := f.Read(buf); n != 8 || err != nil || !equal(buf[:8], tail[8:]) {
			t.Fatalf("Read(4 GiB + 16) at 4 GiB + 8 = %d, %v; want 8, nil", n, err)
		}
		// ReadAt into the whole buffer of a small file: what it holds, then io.EOF.
		small := e.path("small")
		data := writeFile(t, small, 100)
		g := mustOpen(t, e, small, os.O_RDONLY, OpenOptions{})
		defer g.Close()
		if n, err := g.ReadAt(buf, 0); n != 100 || err != io.EOF || !equal(buf[:100], data) {
			t.Fatalf("ReadAt(4 GiB + 16, 0) of 100 bytes = %d, %v", n, err)
		}
	})
}

// TestVectorsPastIovMax: WritevAt and ReadvAt of more buffers than one system call
// takes (UIO_MAXIOV, 1024) split into several calls, as net.Buffers does, instead of
// failing with EINVAL; the bytes land in order.
func TestVectorsPastIovMax(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, e *env) {
		f := mustOpen(t, e, e.path("vec"), os.O_RDWR|os.O_CREATE, OpenOptions{})
		defer f.Close()
		const count = 3*maxIovecs + 5
		want := pattern(0, 2*count)
		bufs := make([][]byte, count)
		for i := range bufs {
			bufs[i] = want[2*i : 2*i+2]
		}
		if n, err := f.WritevAt(bufs, 0); n != len(want) || err != nil {
			t.Fatalf("WritevAt(%d buffers) = %d, %v; want %d, nil", count, n, err, len(want))
		}
		got, err := os.ReadFile(e.path("vec"))
		if err != nil || !equal(got, want) {
			t.Fatalf("the file after WritevAt: %d bytes, %v; equal %v", len(got), err, equal(got, want))
		}
		back := make([]byte, len(want))
		for i := range bufs {
			bufs[i] = back[2*i : 2*i+2]
		}
		if n, err := f.ReadvAt(bufs, 0); n != len(want) || err != nil || !equal(back, want) {
			t.Fatalf("ReadvAt(%d buffers) = %d, %v; equal %v", count, n, err, equal(back, want))
		}
	})
}
