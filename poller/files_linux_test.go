package poller

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
	"unsafe"

	"go.uber.org/goleak"
	"golang.org/x/sys/unix"
)

// File and path ops on the worker pool.

func tempFile(t *testing.T, content string) (int, string) {
	t.Helper()
	name := filepath.Join(t.TempDir(), "data")
	if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Open(name, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	closeOnCleanup(t, fd)
	return fd, name
}

func TestEpollFileReadWrite(t *testing.T) {
	d := newTestEpoll(t, EpollConfig{})
	fd, name := tempFile(t, "0123456789")
	buf := make([]byte, 4)
	if res := run(t, d, newRecord(Op{Code: OpRead, Fd: fd, Buf: buf, Offset: 3})); res != 4 || string(buf) != "3456" {
		t.Fatalf("pread = %d %q", res, buf)
	}
	if res := run(t, d, newRecord(Op{Code: OpRead, Fd: fd, Buf: buf, Offset: -1})); res != 4 || string(buf) != "0123" {
		t.Fatalf("read at the file position = %d %q", res, buf)
	}
	if res := run(t, d, newRecord(Op{Code: OpWrite, Fd: fd, Buf: []byte("ab"), Offset: 8})); res != 2 {
		t.Fatalf("pwrite = %d", res)
	}
	w := newRecord(Op{Code: OpWritev, Fd: fd, Bufs: [][]byte{[]byte("X"), nil, []byte("YZ")}, Offset: 0})
	if res := run(t, d, w); res != 3 {
		t.Fatalf("pwritev = %d", res)
	}
	p1, p2 := make([]byte, 2), make([]byte, 3)
	if res := run(t, d, newRecord(Op{Code: OpReadv, Fd: fd, Bufs: [][]byte{p1, p2}, Offset: 6})); res != 4 {
		t.Fatalf("preadv = %d", res)
	}
	if string(p1)+string(p2[:2]) != "67ab" {
		t.Fatalf("preadv read %q %q", p1, p2)
	}
	for _, arg := range []uint32{0, FsyncDatasync} {
		if res := run(t, d, newRecord(Op{Code: OpFsync, Fd: fd, Arg: arg})); res != 0 {
			t.Fatalf("fsync(%d) = %d", arg, res)
		}
	}
	if res := run(t, d, newRecord(Op{Code: OpFallocate, Fd: fd, Offset: 0, Len: 4096})); res != 0 {
		t.Fatalf("fallocate = %d", res)
	}
	if res := run(t, d, newRecord(Op{Code: OpFtruncate, Fd: fd, Len: 5})); res != 0 {
		t.Fatalf("ftruncate = %d", res)
	}
	got, _ := os.ReadFile(name)
	if string(got) != "XYZ34" {
		t.Fatalf("file holds %q", got)
	}
	// Past the end of the file a read returns 0.
	if res := run(t, d, newRecord(Op{Code: OpRead, Fd: fd, Buf: buf, Offset: 100})); res != 0 {
		t.Fatalf("read past EOF = %d", res)
	}
}

func TestEpollPathOps(t *testing.T) {
	d := newTestEpoll(t, EpollConfig{})
	dir := t.TempDir()
	dfd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	closeOnCleanup(t, dfd)
	if res := run(t, d, newRecord(Op{Code: OpMkdirat, Fd: dfd, Path: "sub", Mode: 0o700})); res != 0 {
		t.Fatalf("mkdirat = %d", res)
	}
	open := newRecord(Op{Code: OpOpenat, Fd: dfd, Path: "sub/f", Arg: unix.O_CREAT | unix.O_WRONLY | unix.O_CLOEXEC, Mode: 0o600})
	fd := run(t, d, open)
	if fd < 0 {
		t.Fatalf("openat = %d", fd)
	}
	if res := run(t, d, newRecord(Op{Code: OpWrite, Fd: int(fd), Buf: []byte("hello"), Offset: -1})); res != 5 {
		t.Fatalf("write = %d", res)
	}
	if res := run(t, d, newRecord(Op{Code: OpClose, Fd: int(fd)})); res != 0 {
		t.Fatalf("close = %d", res)
	}
	stx := make([]uint64, StatxSize/8) // 8-byte aligned
	sbuf := unsafe.Slice((*byte)(unsafe.Pointer(&stx[0])), StatxSize)
	st := newRecord(Op{Code: OpStatx, Fd: dfd, Path: "sub/f", Mode: unix.STATX_SIZE, Buf: sbuf})
	if res := run(t, d, st); res != 0 {
		t.Fatalf("statx = %d", res)
	}
	if sz := (*unix.Statx_t)(unsafe.Pointer(&stx[0])).Size; sz != 5 {
		t.Fatalf("statx size %d", sz)
	}
	rn := newRecord(Op{Code: OpRenameat, Fd: dfd, Path: "sub/f", Fd2: unix.AT_FDCWD, Path2: filepath.Join(dir, "g")})
	if res := run(t, d, rn); res != 0 {
		t.Fatalf("renameat = %d", res)
	}
	if res := run(t, d, newRecord(Op{Code: OpUnlinkat, Fd: dfd, Path: "g"})); res != 0 {
		t.Fatalf("unlinkat = %d", res)
	}
	if res := run(t, d, newRecord(Op{Code: OpUnlinkat, Fd: dfd, Path: "sub", Arg: unix.AT_REMOVEDIR})); res != 0 {
		t.Fatalf("rmdir = %d", res)
	}
	if res := run(t, d, newRecord(Op{Code: OpUnlinkat, Fd: dfd, Path: "missing"})); res != errnoRes(unix.ENOENT) {
		t.Fatalf("unlinkat of a missing file = %d, want ENOENT", res)
	}
}

// Workers start with the first file op, never more than configured, and exit in
// Close; many ops through a tiny queue all complete, in order.
func TestEpollWorkerPoolBackpressure(t *testing.T) {
	others := goleak.IgnoreCurrent()
	base := runtime.NumGoroutine()
	d, err := NewEpoll(EpollConfig{Workers: 1, MaxQueuedFileOps: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if n := runtime.NumGoroutine(); n > base {
		t.Fatalf("NewEpoll started goroutines: %d → %d", base, n)
	}
	fd, _ := tempFile(t, "abcdefghijklmnopqrstuvwxyz")
	const n = 50
	var order []int
	recs := make([]*record, n)
	for i := range recs {
		recs[i] = newRecord(Op{Code: OpRead, Fd: fd, Buf: make([]byte, 1), Offset: int64(i % 26)})
		inner := recs[i].op.Done
		recs[i].op.Done = func(op *Op) { order = append(order, i); inner(op) }
		submit(t, d, &recs[i].op)
	}
	if g := runtime.NumGoroutine(); g > base+1 {
		t.Fatalf("%d goroutines for 1 worker (base %d)", g, base)
	}
	waitUntil(t, d, "file reads", func() bool { return len(order) == n })
	for i, r := range recs {
		if r.res(t) != 1 || r.op.Buf[0] != byte('a'+i%26) || order[i] != i {
			t.Fatalf("read %d = %d %q (completion order %v)", i, r.res(t), r.op.Buf, order[:i+1])
		}
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	goleak.VerifyNone(t, others) // retries: a worker's wg.Done precedes its exit
}

// blockedWorker occupies a worker with openat(O_RDONLY) of a FIFO, which blocks until
// unblock opens the other end.
func blockedWorker(t *testing.T, d *Epoll, dfd int) (opener *record, unblock func()) {
	t.Helper()
	dir := t.TempDir()
	if err := unix.Mkfifo(filepath.Join(dir, "fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
	ddir := dfd
	path := filepath.Join(dir, "fifo")
	if dfd >= 0 {
		if err := unix.Mkfifoat(dfd, "fifo", 0o600); err != nil {
			t.Fatal(err)
		}
		path = "fifo"
	} else {
		ddir = unix.AT_FDCWD
	}
	opener = newRecord(Op{Code: OpOpenat, Fd: ddir, Path: path, Arg: unix.O_RDONLY | unix.O_CLOEXEC})
	submit(t, d, &opener.op)
	full := path
	if dfd >= 0 {
		full = filepath.Join(fdPath(t, dfd), "fifo")
	}
	return opener, func() {
		// O_RDWR never blocks on a FIFO and counts as its writer.
		w, err := unix.Open(full, unix.O_RDWR|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Error(err)
			return
		}
		unix.Close(w)
	}
}

// waitRunning waits until a worker has taken op. A worker's pickup is invisible to
// the kernel, so the test watches the job's state, pacing itself with Wait.
func waitRunning(t *testing.T, d *Epoll, op *Op) {
	t.Helper()
	idx, _ := splitRef(op.Ref)
	end := time.Now().Add(testDeadline)
	for {
		s := d.slot(idx)
		if s.state == stWorker && d.pool.jobs[s.job].state.Load() == jobRunning {
			return
		}
		if time.Now().After(end) {
			t.Fatal("worker never took the op")
		}
		if _, err := d.Wait(time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
}

func fdPath(t *testing.T, fd int) string {
	p, err := os.Readlink(filepath.Join("/proc/self/fd", itoa(fd)))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func itoa(i int) string { return string(appendInt(nil, i)) }

func appendInt(b []byte, i int) []byte {
	if i >= 10 {
		b = appendInt(b, i/10)
	}
	return append(b, byte('0'+i%10))
}

// An op queued behind a busy worker is cancelled at once; the running one keeps its
// real result (an opened descriptor is delivered, not leaked).
func TestEpollWorkerCancel(t *testing.T) {
	d := newTestEpoll(t, EpollConfig{Workers: 1})
	fd, _ := tempFile(t, "x")
	opener, unblock := blockedWorker(t, d, -1)
	waitRunning(t, d, &opener.op)
	queued := newRecord(Op{Code: OpFsync, Fd: fd})
	submit(t, d, &queued.op)
	if err := d.Cancel(&queued.op); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, d, "cancelled fsync", queued.final)
	if queued.res(t) != errnoRes(unix.ECANCELED) || opener.final() {
		t.Fatalf("fsync %d, opener done %v", queued.res(t), opener.final())
	}
	if err := d.Cancel(&opener.op); err != nil { // running: its result stands
		t.Fatal(err)
	}
	unblock()
	waitUntil(t, d, "openat", opener.final)
	if res := opener.res(t); res < 0 {
		t.Fatalf("openat = %d, want its real result", res)
	} else {
		unix.Close(int(res))
	}
}

// OpClose of a directory descriptor waits for the worker op that uses it.
func TestEpollOpCloseWaitsForWorker(t *testing.T) {
	d := newTestEpoll(t, EpollConfig{Workers: 1})
	dfd, err := unix.Open(t.TempDir(), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(dfd) // EBADF once the driver closed it, harmless
	opener, unblock := blockedWorker(t, d, dfd)
	waitRunning(t, d, &opener.op)
	fd, _ := tempFile(t, "y")
	queued := newRecord(Op{Code: OpFtruncate, Fd: fd})
	submit(t, d, &queued.op)
	fileClose := newRecord(Op{Code: OpClose, Fd: fd})
	submit(t, d, &fileClose.op)
	dirClose := newRecord(Op{Code: OpClose, Fd: dfd})
	submit(t, d, &dirClose.op)
	waitUntil(t, d, "cancelled ftruncate", queued.final)
	if queued.res(t) != errnoRes(unix.ECANCELED) {
		t.Fatalf("ftruncate = %d, want ECANCELED", queued.res(t))
	}
	if _, err := d.Wait(20 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if dirClose.final() {
		t.Fatal("directory closed while a worker op used it")
	}
	if _, err := unix.FcntlInt(uintptr(dfd), unix.F_GETFD, 0); err != nil {
		t.Fatalf("directory descriptor gone early: %v", err)
	}
	unblock()
	waitUntil(t, d, "closes", func() bool { return dirClose.final() && fileClose.final() })
	if dirClose.res(t) != 0 || fileClose.res(t) != 0 {
		t.Fatalf("closes %d %d", dirClose.res(t), fileClose.res(t))
	}
	if res := opener.res(t); res >= 0 {
		unix.Close(int(res))
	}
}

// Close waits for a running worker op and reports its real result.
func TestEpollCloseWithWorkerBusy(t *testing.T) {
	d, err := NewEpoll(EpollConfig{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	opener, _ := blockedWorker(t, d, -1)
	waitRunning(t, d, &opener.op)
	fd, _ := tempFile(t, "z")
	queued := newRecord(Op{Code: OpFsync, Fd: fd})
	submit(t, d, &queued.op)
	done := make(chan struct{})
	go func() { // rendezvous with the worker's blocking open; no timing assumed
		defer close(done)
		w, err := unix.Open(opener.op.Path, unix.O_WRONLY|unix.O_CLOEXEC, 0)
		if err == nil {
			unix.Close(w)
		}
	}()
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	<-done
	// The writer may unblock the worker before Close's sweep; then the fsync ran.
	if res := queued.res(t); res != errnoRes(unix.ECANCELED) && res != 0 {
		t.Fatalf("queued fsync = %d", res)
	}
	if res := opener.res(t); res < 0 {
		t.Fatalf("openat = %d, want its real result", res)
	} else {
		unix.Close(int(res))
	}
}

// TestEpollFileVectoredPositions drives the one fileRW helper both ways: readv and
// writev at the file position (Offset -1, which must advance it), and preadv/pwritev
// at an offset past 4 GiB, which must reach the kernel whole (the offset words) and
// leave the position alone.
func TestEpollFileVectoredPositions(t *testing.T) {
	d := newTestEpoll(t, EpollConfig{})
	fd, name := tempFile(t, "")
	w := newRecord(Op{Code: OpWritev, Fd: fd, Bufs: [][]byte{[]byte("ab"), []byte("cd")}, Offset: -1})
	if res := run(t, d, w); res != 4 {
		t.Fatalf("writev at the position = %d", res)
	}
	w = newRecord(Op{Code: OpWritev, Fd: fd, Bufs: [][]byte{[]byte("ef")}, Offset: -1})
	if res := run(t, d, w); res != 2 {
		t.Fatalf("second writev at the position = %d", res)
	}
	const far = 5<<30 + 3
	w = newRecord(Op{Code: OpWritev, Fd: fd, Bufs: [][]byte{[]byte("FAR")}, Offset: far})
	if res := run(t, d, w); res == -int32(unix.EFBIG) || res == -int32(unix.ENOSPC) {
		t.Skipf("the temp file system refuses a sparse file past 5 GiB (%d)", res)
	} else if res != 3 {
		t.Fatalf("pwritev at %d = %d", far, res)
	}
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := make([]byte, 3)
	if _, err := f.ReadAt(got, far); err != nil || string(got) != "FAR" {
		t.Fatalf("ReadAt(%d) = %q, %v; want FAR", far, got, err)
	}
	if fi, err := f.Stat(); err != nil || fi.Size() != far+3 {
		t.Fatalf("size %v, %v; want %d", fi.Size(), err, far+3)
	}
	p := make([]byte, 3)
	r := newRecord(Op{Code: OpReadv, Fd: fd, Bufs: [][]byte{p}, Offset: far})
	if res := run(t, d, r); res != 3 || string(p) != "FAR" {
		t.Fatalf("preadv at %d = %d %q", far, res, p)
	}
	// The position is 6 (after the writes; pwritev and preadv left it): a readv
	// there reads the zeros of the hole.
	if pos, err := unix.Seek(fd, 0, 1); err != nil || pos != 6 {
		t.Fatalf("position = %d, %v; want 6", pos, err)
	}
	if _, err := unix.Seek(fd, 0, 0); err != nil {
		t.Fatal(err)
	}
	p1, p2 := make([]byte, 4), make([]byte, 4)
	r = newRecord(Op{Code: OpReadv, Fd: fd, Bufs: [][]byte{p1, p2}, Offset: -1})
	if res := run(t, d, r); res != 8 || string(p1) != "abcd" || string(p2) != "ef\x00\x00" {
		t.Fatalf("readv at the position = %d %q %q", res, p1, p2)
	}
}
