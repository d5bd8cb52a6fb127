package zfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/zokio/zokio/internal/testkit"
)

// The table test runs the same sequence of operations against *os.File and *File,
// each in its own directory holding the same files, and compares every result: counts,
// bytes, and errors by type, Op, path (relative to the directory), wrapped errno and
// message, with io.EOF required exactly where os returns it.

// api is what both *os.File and *File offer.
type api interface {
	io.Reader
	io.Writer
	io.ReaderAt
	io.WriterAt
	io.Seeker
	io.Closer
	Stat() (fs.FileInfo, error)
	Sync() error
	Truncate(int64) error
	WriteString(string) (int, error)
	Name() string
}

var (
	_ api = (*os.File)(nil)
	_ api = (*File)(nil)
)

// step is one call; it returns what the test compares.
type step struct {
	name string
	fn   func(f api) []any
}

type scenario struct {
	name    string
	content int    // bytes of pattern in the file before it is opened; -1: no file
	dir     bool   // the name is a directory
	flag    int    // open flags
	steps   []step // run in order on the open file
	noClose bool   // the steps close the file themselves
}

func readAt(n int, off int64) step {
	return step{fmt.Sprintf("ReadAt(%d,%d)", n, off), func(f api) []any {
		p := make([]byte, n)
		m, err := f.ReadAt(p, off)
		return []any{m, err, p[:max(m, 0)]}
	}}
}

func read(n int) step {
	return step{fmt.Sprintf("Read(%d)", n), func(f api) []any {
		p := make([]byte, n)
		m, err := f.Read(p)
		return []any{m, err, p[:max(m, 0)]}
	}}
}

func seek(off int64, whence int) step {
	return step{fmt.Sprintf("Seek(%d,%d)", off, whence), func(f api) []any {
		r, err := f.Seek(off, whence)
		return []any{r, err}
	}}
}

func write(n int, seed int64) step {
	return step{fmt.Sprintf("Write(%d)", n), func(f api) []any {
		m, err := f.Write(pattern(seed, n))
		return []any{m, err}
	}}
}

func writeAt(n int, off int64) step {
	return step{fmt.Sprintf("WriteAt(%d,%d)", n, off), func(f api) []any {
		m, err := f.WriteAt(pattern(off+1000, n), off)
		return []any{m, err}
	}}
}

func call(name string, fn func(f api) []any) step { return step{name, fn} }

var (
	closeStep    = call("Close", func(f api) []any { return []any{f.Close()} })
	syncStep     = call("Sync", func(f api) []any { return []any{f.Sync()} })
	statStep     = call("Stat", func(f api) []any { fi, err := f.Stat(); return []any{infoOf(fi), err} })
	truncateStep = func(n int64) step {
		return call(fmt.Sprintf("Truncate(%d)", n), func(f api) []any { return []any{f.Truncate(n)} })
	}
	writeString = call("WriteString", func(f api) []any { n, err := f.WriteString("héllo"); return []any{n, err} })
)

// infoOf keeps what two files made at different times share.
func infoOf(fi fs.FileInfo) any {
	if fi == nil {
		return nil
	}
	return fmt.Sprintf("%s %d %v %v", fi.Name(), fi.Size(), fi.Mode(), fi.IsDir())
}

// readAll reads the whole file through ReadAt, to compare contents at the end.
var readAll = call("ReadAll", func(f api) []any {
	p := make([]byte, 1<<16)
	n, err := f.ReadAt(p, 0)
	return []any{n, err, p[:n]}
})

func scenarios() []scenario {
	const size = 10000
	ro, rw := os.O_RDONLY, os.O_RDWR
	return []scenario{
		{name: "reads", content: size, flag: ro, steps: []step{
			readAt(100, 0), readAt(100, 9950), readAt(100, size), readAt(100, size+5),
			readAt(0, 0), readAt(0, size+5), readAt(0, -1), readAt(10, -1), readAt(size, 0),
			readAt(size+1, 0), readAt(1, size-1),
		}},
		{name: "sequential", content: 25, flag: ro, steps: []step{
			read(10), read(10), read(10), read(10), read(0), seek(0, io.SeekStart), read(0),
			read(100), read(1),
		}},
		{name: "seek", content: size, flag: ro, steps: []step{
			seek(0, io.SeekEnd), seek(-1, io.SeekStart), seek(5, io.SeekStart), seek(5, io.SeekCurrent),
			read(3), seek(-3, io.SeekEnd), read(10), seek(size+100, io.SeekStart), read(5),
			seek(0, 7), seek(-size-1, io.SeekEnd),
		}},
		{name: "read-only-writes", content: 100, flag: ro, steps: []step{
			write(10, 0), write(0, 0), writeAt(10, 0), writeAt(0, 5), writeAt(10, -1), writeString,
			syncStep, truncateStep(5),
		}},
		{name: "write-only-reads", content: 100, flag: os.O_WRONLY, steps: []step{
			read(10), readAt(10, 0), read(0), readAt(0, 0), write(10, 1), writeAt(5, 2),
		}},
		{name: "writes", content: 50, flag: rw, steps: []step{
			write(10, 1), writeAt(20, 40), writeAt(30, 200), readAt(300, 0), seek(0, io.SeekCurrent),
			write(0, 0), writeString, syncStep, statStep, truncateStep(120), statStep,
			truncateStep(-1), readAll, readAt(10, 115), read(10),
		}},
		{name: "append", content: 30, flag: rw | os.O_APPEND, steps: []step{
			write(10, 1), writeAt(10, 0), seek(0, io.SeekStart), write(5, 2), seek(0, io.SeekCurrent),
			readAll,
		}},
		{name: "create-trunc", content: 30, flag: rw | os.O_CREATE | os.O_TRUNC, steps: []step{
			statStep, readAt(10, 0), read(10), write(5, 3), readAll,
		}},
		{name: "directory", dir: true, flag: ro, steps: []step{
			read(10), read(0), readAt(10, 0), readAt(0, 0), write(1, 0), statStep, seek(0, io.SeekStart),
			syncStep,
		}},
		{name: "after-close", content: 100, flag: rw, noClose: true, steps: []step{
			closeStep, read(10), read(0), readAt(10, 0), readAt(0, 0), readAt(0, -1), write(10, 0),
			write(0, 0), writeAt(10, 0), writeAt(0, 0), seek(0, io.SeekStart), statStep, syncStep,
			truncateStep(0), writeString, closeStep,
		}},
	}
}

func TestMatchesOSFile(t *testing.T) {
	testkit.SkipUnderFaults(t, "compares each Read's count with os.File's, which gets the kernel's full count, not a shortened one")
	forEachDriver(t, 2, func(t *testing.T, e *env) {
		osDir, ourDir := e.path("os"), e.path("ours")
		for _, d := range []string{osDir, ourDir} {
			if err := os.Mkdir(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		// Every scenario runs twice: reads through the fast path where they can, and
		// every read through the driver.
		for _, sc := range scenarios() {
			for _, ring := range []bool{false, true} {
				name := sc.name
				if ring {
					name += "-ring"
				}
				t.Run(name, func(t *testing.T) {
					runScenario(t, e, osDir+"/"+name, ourDir+"/"+name, sc, ring)
				})
			}
		}
	})
}

func runScenario(t *testing.T, e *env, osDir, ourDir string, sc scenario, ring bool) {
	for _, d := range []string{osDir, ourDir} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	osF, osErr := setup(t, osDir, sc, func(name string) (api, error) { return os.OpenFile(name, sc.flag, 0o644) })
	ourF, ourErr := setup(t, ourDir, sc, func(name string) (api, error) {
		f, err := OpenFileWith(ctxT(t), e.rt, name, sc.flag, 0o644, OpenOptions{NoFastPath: ring})
		if f == nil {
			return nil, err // a nil *File is not a nil api
		}
		return f, err
	})
	compare(t, "open", osDir, ourDir, []any{osErr}, []any{ourErr})
	if osErr != nil || ourErr != nil {
		return
	}
	for _, st := range sc.steps {
		compare(t, st.name, osDir, ourDir, st.fn(osF), st.fn(ourF))
	}
	if !sc.noClose {
		compare(t, "Close", osDir, ourDir, []any{osF.Close()}, []any{ourF.Close()})
	}
}

// TestCompareCatchesDifferences makes sure the table test's comparison would see the
// differences it exists to catch.
func TestCompareCatchesDifferences(t *testing.T) {
	pe := func(op, path string, err error) error { return &os.PathError{Op: op, Path: path, Err: err} }
	cases := []struct{ want, got error }{
		{io.EOF, pe("read", "/b/x", io.EOF)},
		{nil, io.EOF},
		{pe("read", "/a/x", syscall.EISDIR), pe("readat", "/b/x", syscall.EISDIR)},
		{pe("read", "/a/x", syscall.EISDIR), pe("read", "/b/y", syscall.EISDIR)},
		{pe("read", "/a/x", syscall.EISDIR), pe("read", "/b/x", syscall.EBADF)},
		{pe("read", "/a/x", os.ErrClosed), pe("read", "/b/x", errors.New("file already closed"))},
		{io.ErrShortWrite, io.ErrUnexpectedEOF},
	}
	for _, c := range cases {
		if errDiff(c.want, c.got, "/a", "/b") == "" {
			t.Errorf("errDiff(%v, %v) saw no difference", c.want, c.got)
		}
	}
	if d := errDiff(pe("read", "/a/x", syscall.EISDIR), pe("read", "/b/x", syscall.EISDIR), "/a", "/b"); d != "" {
		t.Errorf("equal errors reported different: %s", d)
	}
}

// setup creates the scenario's file in dir and opens it with open.
func setup(t *testing.T, dir string, sc scenario, open func(string) (api, error)) (api, error) {
	name := dir + "/" + sc.name
	switch {
	case sc.dir:
		if err := os.Mkdir(name, 0o755); err != nil {
			t.Fatal(err)
		}
	case sc.content >= 0:
		writeFile(t, name, sc.content)
	}
	return open(name)
}

// compare checks two result lists value by value; paths inside errors are compared
// relative to their directories.
func compare(t *testing.T, what, osDir, ourDir string, want, got []any) {
	t.Helper()
	if len(want) != len(got) {
		t.Fatalf("%s: %d results from os, %d from ours", what, len(want), len(got))
	}
	for i := range want {
		w, g := want[i], got[i]
		we, wIsErr := w.(error)
		ge, gIsErr := g.(error)
		if wIsErr || gIsErr || (w == nil) != (g == nil) {
			if msg := errDiff(we, ge, osDir, ourDir); msg != "" {
				t.Errorf("%s: result %d: %s", what, i, msg)
			}
			continue
		}
		if !reflect.DeepEqual(w, g) {
			t.Errorf("%s: result %d: os %v, ours %v", what, i, short(w), short(g))
		}
	}
}

func short(v any) any {
	if b, ok := v.([]byte); ok && len(b) > 16 {
		return fmt.Sprintf("%d bytes %x…", len(b), b[:16])
	}
	return v
}

// errDiff describes how two errors differ, or returns "".
func errDiff(want, got error, osDir, ourDir string) string {
	switch {
	case want == nil && got == nil:
		return ""
	case want == nil || got == nil:
		return fmt.Sprintf("os %v, ours %v", want, got)
	case (want == io.EOF) != (got == io.EOF):
		return fmt.Sprintf("os %v, ours %v (io.EOF must be returned unwrapped where os does)", want, got)
	case reflect.TypeOf(want) != reflect.TypeOf(got):
		return fmt.Sprintf("os %T %v, ours %T %v", want, want, got, got)
	}
	var wp, gp *os.PathError
	if errors.As(want, &wp) && errors.As(got, &gp) {
		if wp.Op != gp.Op || rel(wp.Path, osDir) != rel(gp.Path, ourDir) {
			return fmt.Sprintf("os %q %q, ours %q %q", wp.Op, rel(wp.Path, osDir), gp.Op, rel(gp.Path, ourDir))
		}
		var we, ge syscall.Errno
		if errors.As(wp.Err, &we) != errors.As(gp.Err, &ge) || we != ge {
			return fmt.Sprintf("os errno %v, ours %v", wp.Err, gp.Err)
		}
		if errors.Is(wp.Err, os.ErrClosed) != errors.Is(gp.Err, os.ErrClosed) {
			return fmt.Sprintf("os %v, ours %v (ErrClosed)", wp.Err, gp.Err)
		}
	}
	if strings.ReplaceAll(want.Error(), osDir, "") != strings.ReplaceAll(got.Error(), ourDir, "") {
		return fmt.Sprintf("messages differ: os %q, ours %q", want, got)
	}
	return ""
}

func rel(p, dir string) string { return strings.TrimPrefix(p, dir) }

// TestPathOpsMatchOS compares the package functions with os's.
func TestPathOpsMatchOS(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, e *env) {
		ctx := ctxT(t)
		osDir, ourDir := e.path("os"), e.path("ours")
		for _, d := range []string{osDir, ourDir} {
			if err := os.Mkdir(d, 0o755); err != nil {
				t.Fatal(err)
			}
			writeFile(t, d+"/file", 10)
			if err := os.Mkdir(d+"/full", 0o755); err != nil {
				t.Fatal(err)
			}
			writeFile(t, d+"/full/x", 0)
			if err := os.Symlink("file", d+"/link"); err != nil {
				t.Fatal(err)
			}
		}
		type op struct {
			name string
			os   func(d string) []any
			ours func(d string) []any
		}
		info := func(fi fs.FileInfo, err error) []any { return []any{infoOf(fi), err} }
		ops := []op{
			{"Mkdir", func(d string) []any { return []any{os.Mkdir(d+"/new", 0o750)} },
				func(d string) []any { return []any{Mkdir(ctx, e.rt, d+"/new", 0o750)} }},
			{"Mkdir again", func(d string) []any { return []any{os.Mkdir(d+"/new", 0o750)} },
				func(d string) []any { return []any{Mkdir(ctx, e.rt, d+"/new", 0o750)} }},
			{"Stat dir", func(d string) []any { return info(os.Stat(d + "/new")) },
				func(d string) []any { return info(Stat(ctx, e.rt, d+"/new")) }},
			{"Stat link", func(d string) []any { return info(os.Stat(d + "/link")) },
				func(d string) []any { return info(Stat(ctx, e.rt, d+"/link")) }},
			{"Lstat link", func(d string) []any { return info(os.Lstat(d + "/link")) },
				func(d string) []any { return info(Lstat(ctx, e.rt, d+"/link")) }},
			{"Stat missing", func(d string) []any { return info(os.Stat(d + "/missing")) },
				func(d string) []any { return info(Stat(ctx, e.rt, d+"/missing")) }},
			{"Rename file", func(d string) []any { return []any{os.Rename(d+"/file", d+"/file2")} },
				func(d string) []any { return []any{Rename(ctx, e.rt, d+"/file", d+"/file2")} }},
			{"Rename missing", func(d string) []any { return []any{os.Rename(d+"/file", d+"/file3")} },
				func(d string) []any { return []any{Rename(ctx, e.rt, d+"/file", d+"/file3")} }},
			{"Rename onto dir", func(d string) []any { return []any{os.Rename(d+"/file2", d+"/new")} },
				func(d string) []any { return []any{Rename(ctx, e.rt, d+"/file2", d+"/new")} }},
			{"Remove full dir", func(d string) []any { return []any{os.Remove(d + "/full")} },
				func(d string) []any { return []any{Remove(ctx, e.rt, d+"/full")} }},
			{"Remove file", func(d string) []any { return []any{os.Remove(d + "/file2")} },
				func(d string) []any { return []any{Remove(ctx, e.rt, d+"/file2")} }},
			{"Remove dir", func(d string) []any { return []any{os.Remove(d + "/new")} },
				func(d string) []any { return []any{Remove(ctx, e.rt, d+"/new")} }},
			{"Remove missing", func(d string) []any { return []any{os.Remove(d + "/new")} },
				func(d string) []any { return []any{Remove(ctx, e.rt, d+"/new")} }},
			{"Open missing", func(d string) []any { return osOpened(os.Open(d + "/missing")) },
				func(d string) []any { return opened(Open(ctx, e.rt, d+"/missing")) }},
			{"Open NUL", func(d string) []any { return osOpened(os.Open(d + "/a\x00b")) },
				func(d string) []any { return opened(Open(ctx, e.rt, d+"/a\x00b")) }},
			{"Create in missing dir", func(d string) []any { return osOpened(os.Create(d + "/no/such")) },
				func(d string) []any { return opened(Create(ctx, e.rt, d+"/no/such")) }},
			// The link dangles here (its target was renamed and removed above). Linux and
			// Windows refuse O_EXCL on it with EEXIST; under Wine CreateFile's CREATE_NEW
			// creates the target through it and succeeds, for os as for zfile, so the files
			// opened are closed (they would keep the directory from being removed).
			{"O_EXCL existing", func(d string) []any {
				return osOpened(os.OpenFile(d+"/link", os.O_CREATE|os.O_EXCL|os.O_RDWR, 0o600))
			}, func(d string) []any {
				return opened(OpenFile(ctx, e.rt, d+"/link", os.O_CREATE|os.O_EXCL|os.O_RDWR, 0o600))
			}},
			{"Create dir name", func(d string) []any { return osOpened(os.Create(d + "/full")) },
				func(d string) []any { return opened(Create(ctx, e.rt, d+"/full")) }},
		}
		for _, o := range ops {
			w, g := o.os(osDir), o.ours(ourDir)
			compareLink(t, o.name, osDir, ourDir, w, g)
		}
	})
}

// osOpened and opened report an open's error, closing the file if it opened.
func osOpened(f *os.File, err error) []any {
	if f != nil {
		f.Close()
	}
	return []any{err}
}

func opened(f *File, err error) []any {
	if f != nil {
		f.Close()
	}
	return []any{err}
}

// compareLink is compare that also understands *os.LinkError.
func compareLink(t *testing.T, what, osDir, ourDir string, want, got []any) {
	t.Helper()
	for i := range want {
		var wl, gl *os.LinkError
		we, _ := want[i].(error)
		ge, _ := got[i].(error)
		if errors.As(we, &wl) && errors.As(ge, &gl) {
			if wl.Op != gl.Op || rel(wl.Old, osDir) != rel(gl.Old, ourDir) || rel(wl.New, osDir) != rel(gl.New, ourDir) || wl.Err != gl.Err {
				t.Errorf("%s: os %v, ours %v", what, we, ge)
			}
			want[i], got[i] = nil, nil
		}
	}
	compare(t, what, osDir, ourDir, want, got)
}
