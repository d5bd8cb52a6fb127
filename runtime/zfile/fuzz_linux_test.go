package zfile

import (
	"bytes"
	"context"
	"encoding/binary"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/internal/testkit"
	"github.com/zokio/zokio/runtime"
)

// fuzzName maps fuzz bytes to a name inside dir (separators and dots replaced, so no
// path leaves it); the empty name stays empty, for the calls that must refuse it.
func fuzzName(dir string, b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return filepath.Join(dir, strings.Map(func(r rune) rune {
		if r == '/' || r == '.' {
			return '_'
		}
		return r
	}, string(b)))
}

// fuzzFlags keeps the open flags a test may use on a file in a temporary directory:
// access mode, create, exclusive, truncate, append, sync (no O_DIRECT, whose alignment
// rules os does not share with the page cache, no O_PATH or O_TMPFILE).
func fuzzFlags(v uint32) int {
	f := int(v & 3)
	if f == 3 {
		f = os.O_RDWR
	}
	for _, m := range []int{os.O_CREATE, os.O_EXCL, os.O_TRUNC, os.O_APPEND, os.O_SYNC} {
		if v&uint32(m) != 0 {
			f |= m
		}
	}
	return f
}

// FuzzFileOps runs a fuzzed sequence of file calls (open with fuzzed name, flags and
// permissions; ReadAt, WriteAt, Truncate, Stat with fuzzed offsets and lengths) on a
// zfile.File and, side by side, on an os.File in a twin directory: no call may panic
// or hang, each must succeed or fail as os's does, with the same count, and the two
// files must end with the same contents.
func FuzzFileOps(f *testing.F) {
	var rts []*runtime.Runtime
	for _, k := range testkit.Drivers(f) {
		rt, err := runtime.New(runtime.Options{Loops: 1, Driver: k, NoPin: true})
		if err != nil {
			f.Fatal(err)
		}
		rts = append(rts, rt)
	}
	f.Cleanup(func() {
		for _, rt := range rts {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if err := rt.Close(ctx); err != nil {
				f.Errorf("Close: %v", err)
			}
			cancel()
		}
	})
	f.Add([]byte("f"), uint32(os.O_RDWR|os.O_CREATE), uint16(0o644), []byte{1, 0, 0, 0, 10, 0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte("g"), uint32(os.O_WRONLY|os.O_CREATE|os.O_APPEND), uint16(0o600), []byte{1, 5, 0, 0, 3, 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte(""), uint32(os.O_RDONLY), uint16(0), []byte{4})
	f.Add([]byte("h"), uint32(os.O_RDWR|os.O_CREATE|os.O_EXCL), uint16(0o400), []byte{2, 0xff, 0xff, 0xff, 0xf0, 16, 0, 0, 0, 3, 0, 0, 1, 0})
	f.Fuzz(func(t *testing.T, name []byte, flags uint32, perm uint16, script []byte) {
		if bytes.IndexByte(name, 0) >= 0 {
			return // os and zfile both refuse it; the comparison below needs a file
		}
		for _, rt := range rts {
			fuzzFileOne(t, rt, name, flags, perm, script)
		}
	})
}

func fuzzFileOne(t *testing.T, rt *runtime.Runtime, name []byte, flags uint32, perm uint16, script []byte) {
	ctx := context.Background()
	base := t.TempDir()
	osDir, ourDir := filepath.Join(base, "os"), filepath.Join(base, "ours")
	for _, d := range []string{osDir, ourDir} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "f"), []byte("0123456789abcdef"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	fl := fuzzFlags(flags)
	pm := fs.FileMode(perm & 0o777)
	of, oerr := os.OpenFile(fuzzName(osDir, name), fl, pm)
	zf, zerr := OpenFile(ctx, rt, fuzzName(ourDir, name), fl, pm)
	if (oerr == nil) != (zerr == nil) {
		t.Fatalf("%s: OpenFile(%q, %#x, %v): os %v, zfile %v", rt.Driver().Kind, name, fl, pm, oerr, zerr)
	}
	if oerr != nil {
		return
	}
	defer of.Close()
	defer zf.Close()
	get := func(n int) int64 {
		var v [8]byte
		k := copy(v[:n], script)
		script = script[k:]
		return int64(binary.LittleEndian.Uint64(v[:]))
	}
	for step := 0; len(script) > 0 && step < 16; step++ {
		op := get(1) % 5
		off := int64(int32(get(4))) // negative offsets included
		n := int(get(2) % (64 << 10))
		what, on, oe, zn, ze := "", 0, error(nil), 0, error(nil)
		switch op {
		case 0, 1:
			ob, zb := make([]byte, n), make([]byte, n)
			what = "ReadAt"
			on, oe = of.ReadAt(ob, off)
			zn, ze = zf.ReadAt(zb, off)
			if on == zn && !bytes.Equal(ob[:on], zb[:zn]) {
				t.Fatalf("%s: ReadAt(%d, %d) read different bytes", rt.Driver().Kind, n, off)
			}
		case 2:
			p := bytes.Repeat([]byte{byte(step)}, n)
			what = "WriteAt"
			on, oe = of.WriteAt(p, off)
			zn, ze = zf.WriteAt(p, off)
		case 3:
			size := off % (1 << 20)
			what = "Truncate"
			oe, ze = of.Truncate(size), zf.Truncate(size)
		case 4:
			what = "Stat"
			oi, e1 := of.Stat()
			zi, e2 := zf.Stat()
			oe, ze = e1, e2
			if e1 == nil && e2 == nil && (oi.Size() != zi.Size() || oi.Mode() != zi.Mode()) {
				t.Fatalf("%s: Stat: os %v %v, zfile %v %v", rt.Driver().Kind, oi.Size(), oi.Mode(), zi.Size(), zi.Mode())
			}
		}
		if on != zn || (oe == nil) != (ze == nil) || errnoOf(oe) != errnoOf(ze) {
			t.Fatalf("%s: %s(len %d, off %d) on %q (flags %#x): os %d, %v; zfile %d, %v",
				rt.Driver().Kind, what, n, off, name, fl, on, oe, zn, ze)
		}
	}
	ob, e1 := os.ReadFile(of.Name())
	zb, e2 := os.ReadFile(zf.Name())
	if (e1 == nil) != (e2 == nil) || !bytes.Equal(ob, zb) {
		t.Fatalf("%s: the files differ at the end: os %d bytes (%v), zfile %d bytes (%v)", rt.Driver().Kind, len(ob), e1, len(zb), e2)
	}
}

// errnoOf is the errno inside err, or 0.
func errnoOf(err error) unix.Errno {
	var e unix.Errno
	for err != nil {
		if x, ok := err.(unix.Errno); ok {
			return x
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return e
		}
		err = u.Unwrap()
	}
	return e
}
