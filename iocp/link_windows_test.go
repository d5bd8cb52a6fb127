package iocp_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/zokio/zokio/poller"
)

// submitAll submits ops in order, as one batch on the driver's goroutine.
func submitAll(t *testing.T, d interface{ Submit(*poller.Op) error }, recs ...*rec) {
	t.Helper()
	for _, r := range recs {
		if err := d.Submit(&r.op); err != nil {
			t.Fatalf("Submit(%v): %v", r.op.Code, err)
		}
	}
}

// TestLinkWriteFsync: a write linked to an fsync (which runs on a worker), and an fsync
// linked to a write, both complete, in order, on an overlapped file and on a
// synchronous one (whose write runs on a worker too).
func TestLinkWriteFsync(t *testing.T) {
	d := newDriver(t)
	dir := tempDir(t)
	ovl := openFile(t, d, filepath.Join(dir, "ovl"), syscall.O_RDWR|syscall.O_CREAT|syscall.O_TRUNC)
	defer closeOp(t, d, ovl)
	sf, err := os.OpenFile(filepath.Join(dir, "sync"), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer sf.Close()
	for _, tc := range []struct {
		name string
		fd   int
	}{{"overlapped", int(ovl)}, {"synchronous", int(sf.Fd())}} {
		t.Run(tc.name, func(t *testing.T) {
			// A lone write first, as zfile's Batch sends it, then write → fsync.
			w0 := newRec(poller.Op{Code: poller.OpWrite, Fd: tc.fd, Buf: []byte("record 1;"), Offset: 0})
			w1 := newRec(poller.Op{Code: poller.OpWrite, Fd: tc.fd, Buf: []byte("record 2;"), Offset: 9, Flags: poller.FlagLink})
			fs := newRec(poller.Op{Code: poller.OpFsync, Fd: tc.fd})
			submitAll(t, d, w0, w1, fs)
			until(t, d, "write → fsync", func() bool { return w0.fin && w1.fin && fs.fin })
			if w0.res[0] != 9 || w1.res[0] != 9 || fs.res[0] != 0 {
				t.Fatalf("write %d (%v), write %d (%v), fsync %d (%v)",
					w0.res[0], errOf(w0.res[0]), w1.res[0], errOf(w1.res[0]), fs.res[0], errOf(fs.res[0]))
			}
			// fsync → write → fsync: each link waits for a worker's result.
			fs0 := newRec(poller.Op{Code: poller.OpFsync, Fd: tc.fd, Flags: poller.FlagLink})
			w2 := newRec(poller.Op{Code: poller.OpWrite, Fd: tc.fd, Buf: []byte("record 3;"), Offset: 18, Flags: poller.FlagLink})
			fs1 := newRec(poller.Op{Code: poller.OpFsync, Fd: tc.fd})
			submitAll(t, d, fs0, w2, fs1)
			until(t, d, "fsync → write → fsync", func() bool { return fs0.fin && w2.fin && fs1.fin })
			if fs0.res[0] != 0 || w2.res[0] != 9 || fs1.res[0] != 0 {
				t.Fatalf("fsync %d (%v), write %d (%v), fsync %d (%v)",
					fs0.res[0], errOf(fs0.res[0]), w2.res[0], errOf(w2.res[0]), fs1.res[0], errOf(fs1.res[0]))
			}
			buf := make([]byte, 27)
			if res := run(t, d, newRec(poller.Op{Code: poller.OpRead, Fd: tc.fd, Buf: buf, Offset: 0})); res != 27 || string(buf) != "record 1;record 2;record 3;" {
				t.Fatalf("read back %d %q", res, buf[:max(res, 0)])
			}
		})
	}
}
