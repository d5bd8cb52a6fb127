package zfile

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"testing"
)

// describeErr reduces a path error to what os promises about it: its type, the op and
// paths it names, and the errno.
func describeErr(err error) string {
	var errno syscall.Errno
	errors.As(err, &errno)
	switch e := err.(type) {
	case nil:
		return "nil"
	case *os.PathError:
		return fmt.Sprintf("PathError{%s %q: %v}", e.Op, e.Path, errno)
	case *os.LinkError:
		return fmt.Sprintf("LinkError{%s %q %q: %v}", e.Op, e.Old, e.New, errno)
	default:
		return fmt.Sprintf("%T(%v)", err, err)
	}
}

// TestEmptyPathsLikeOS runs each path entry point with "" beside its os counterpart: the
// same error type, op, paths and errno (ENOENT). Stat("") and Lstat("") used to return
// the current directory's info (issue 15, item 6: AT_EMPTY_PATH was set for an
// AT_FDCWD lookup).
func TestEmptyPathsLikeOS(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, e *env) {
		ctx, rt := ctxT(t), e.rt
		other := e.path("other")
		writeFile(t, other, 8)
		missing := e.path("missing")
		open := func(f *File, err error) error {
			if f != nil {
				f.Close()
			}
			return err
		}
		osOpen := func(f *os.File, err error) error {
			if f != nil {
				f.Close()
			}
			return err
		}
		cases := []struct {
			name     string
			zfile, o func() error
		}{
			{"Stat", func() error { _, err := Stat(ctx, rt, ""); return err }, func() error { _, err := os.Stat(""); return err }},
			{"Lstat", func() error { _, err := Lstat(ctx, rt, ""); return err }, func() error { _, err := os.Lstat(""); return err }},
			{"Open", func() error { return open(Open(ctx, rt, "")) }, func() error { return osOpen(os.Open("")) }},
			{"Create", func() error { return open(Create(ctx, rt, "")) }, func() error { return osOpen(os.Create("")) }},
			{"OpenFile", func() error { return open(OpenFile(ctx, rt, "", os.O_RDWR|os.O_CREATE, 0o600)) },
				func() error { return osOpen(os.OpenFile("", os.O_RDWR|os.O_CREATE, 0o600)) }},
			{"Remove", func() error { return Remove(ctx, rt, "") }, func() error { return os.Remove("") }},
			{"Mkdir", func() error { return Mkdir(ctx, rt, "", 0o700) }, func() error { return os.Mkdir("", 0o700) }},
			{"Rename(\"\", missing)", func() error { return Rename(ctx, rt, "", missing) }, func() error { return os.Rename("", missing) }},
			{"Rename(\"\", existing)", func() error { return Rename(ctx, rt, "", other) }, func() error { return os.Rename("", other) }},
			{"Rename(existing, \"\")", func() error { return Rename(ctx, rt, other, "") }, func() error { return os.Rename(other, "") }},
		}
		for _, c := range cases {
			got, want := c.zfile(), c.o()
			if describeErr(got) != describeErr(want) {
				t.Errorf("%s: zfile %s, os %s", c.name, describeErr(got), describeErr(want))
			}
			if !errors.Is(got, os.ErrNotExist) {
				t.Errorf("%s: %v does not match os.ErrNotExist", c.name, got)
			}
		}
		if _, err := os.Stat(other); err != nil {
			t.Fatalf("the renames with an empty path touched %s: %v", other, err)
		}
	})
}
