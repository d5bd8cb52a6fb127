package zfile

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/runtime"
	"github.com/zokio/zokio/runtime/driver"
)

// Scenarios that need a process of their own (lowered limits, dropped privileges, a
// private mount) run in a re-executed test binary: TestMain sees childEnv and runs the
// scenario instead of the tests.
const childEnv = "ZFILE_TEST_CHILD"

// runChild runs scenario name in a child process and fails the test with its output if
// the scenario fails. A child reporting "skip:" skips the test.
func runChild(t *testing.T, name string, attr *syscall.SysProcAttr, env ...string) {
	t.Helper()
	cmd := exec.CommandContext(ctxT(t), os.Args[0], "-test.run=^$")
	cmd.Env = append(append(append(os.Environ(), childEnv+"="+name), env...), childCoverEnv()...)
	cmd.SysProcAttr = attr
	out, err := cmd.CombinedOutput()
	if s := string(out); strings.HasPrefix(s, "skip: ") {
		t.Skip(strings.TrimSpace(strings.TrimPrefix(s, "skip: ")))
	}
	if err != nil {
		t.Fatalf("child %s: %v\n%s", name, err, out)
	}
}

func runChildScenario(name string) int {
	scenarios := map[string]func() error{
		"fsize": childFsize, "enospc": childENOSPC, "memlock": childMemlock, "nofile": childNofile,
	}
	fn, ok := scenarios[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "unknown child scenario %q\n", name)
		return 2
	}
	err := fn()
	var skip skipError
	switch {
	case errors.As(err, &skip):
		fmt.Printf("skip: %s\n", skip)
		return 0
	case err != nil:
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

type skipError string

func (s skipError) Error() string { return string(s) }

// eachDriver runs fn with a runtime on each driver, as forEachDriver does in tests.
func eachDriver(loops int, fn func(kind driver.Kind, rt *runtime.Runtime) error) error {
	for _, k := range []driver.Kind{driver.Uring, driver.Epoll} {
		if _, err := driver.Choose(k); err != nil {
			continue
		}
		rt, err := runtime.New(runtime.Options{Loops: loops, Driver: k})
		if err != nil {
			return err
		}
		err = fn(k, rt)
		if cerr := rt.Close(context.Background()); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
	}
	return nil
}

// TestFileTooLarge: with RLIMIT_FSIZE at 1 MiB (and SIGXFSZ ignored, so that the
// kernel reports EFBIG instead of killing the process), writes and truncations past it
// fail as they do through os.File.
func TestFileTooLarge(t *testing.T) { runChild(t, "fsize", nil) }

func childFsize() error {
	signal.Ignore(syscall.SIGXFSZ)
	const limit = 1 << 20
	if err := unix.Setrlimit(unix.RLIMIT_FSIZE, &unix.Rlimit{Cur: limit, Max: limit}); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "zfile-fsize")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	return eachDriver(1, func(k driver.Kind, rt *runtime.Runtime) error {
		name := filepath.Join(dir, string(k))
		f, err := Create(context.Background(), rt, name)
		if err != nil {
			return err
		}
		defer f.Close()
		o, err := os.Create(name + ".os")
		if err != nil {
			return err
		}
		defer o.Close()
		p := make([]byte, 100)
		n, err := f.WriteAt(p, limit-10)
		on, oerr := o.WriteAt(p, limit-10)
		if n != on || !errors.Is(err, syscall.EFBIG) || !errors.Is(oerr, syscall.EFBIG) {
			return fmt.Errorf("WriteAt across the limit: ours %d %v, os %d %v", n, err, on, oerr)
		}
		if _, err := f.Seek(limit-5, 0); err != nil {
			return err
		}
		if n, err := f.Write(p); n != 5 || !errors.Is(err, syscall.EFBIG) {
			pos, _ := f.Seek(0, 1)
			fi, _ := os.Stat(name)
			return fmt.Errorf("Write across the limit: %d %v (pos %d size %d)", n, err, pos, fi.Size())
		}
		if err := f.Truncate(2 * limit); !errors.Is(err, syscall.EFBIG) {
			return fmt.Errorf("Truncate past the limit: %v", err)
		}
		if err := f.Allocate(0, 2*limit); !errors.Is(err, syscall.EFBIG) {
			return fmt.Errorf("Allocate past the limit: %v", err)
		}
		var pe *os.PathError
		if _, err := f.WriteAt(p, limit); !errors.As(err, &pe) || pe.Op != "write" || pe.Path != name {
			return fmt.Errorf("error shape: %#v", err)
		}
		return nil
	})
}

// TestNoSpace: writes to a full file system (a 256 KiB tmpfs mounted in a private
// mount namespace of a child) fail with ENOSPC, as through os.File.
func TestNoSpace(t *testing.T) {
	runChild(t, "enospc", &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS})
}

func childENOSPC() error {
	dir, err := os.MkdirTemp("", "zfile-enospc")
	if err != nil {
		return err
	}
	defer os.Remove(dir)
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=256k"); err != nil {
		return skipError("cannot mount a small tmpfs here: " + err.Error())
	}
	defer unix.Unmount(dir, 0)
	return eachDriver(1, func(k driver.Kind, rt *runtime.Runtime) error {
		name := filepath.Join(dir, "full")
		f, err := Create(context.Background(), rt, name)
		if err != nil {
			return err
		}
		n, err := f.WriteAt(make([]byte, 1<<20), 0)
		f.Close()
		os.Remove(name)
		o, _ := os.Create(name)
		on, oerr := o.WriteAt(make([]byte, 1<<20), 0)
		o.Close()
		os.Remove(name)
		if n != on || !errors.Is(err, syscall.ENOSPC) || !errors.Is(oerr, syscall.ENOSPC) {
			return fmt.Errorf("write to a full file system: ours %d %v, os %d %v", n, err, on, oerr)
		}
		return nil
	})
}

// TestMemlockFallback: without CAP_IPC_LOCK (the child runs as nobody) and with
// RLIMIT_MEMLOCK at 1 MiB, a 4 MiB arena cannot be registered: RegisterRequire fails
// with a *MemlockError carrying have and need, RegisterAuto falls back to plain buffers
// and says why, and a small arena still registers. Arenas on one loop share the limit.
func TestMemlockFallback(t *testing.T) {
	// The child, as nobody, could not remove a directory of its own from the sticky
	// /tmp once done, nor enter t.TempDir's (mode 0700): the parent makes one for it.
	dir, err := os.MkdirTemp("", "zfile-memlock")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	runChild(t, "memlock", nil, childDirEnv+"="+dir)
}

// childDirEnv names a directory the parent made for the child.
const childDirEnv = "ZFILE_TEST_CHILD_DIR"

func childMemlock() error {
	if _, err := driver.Choose(driver.Uring); err != nil {
		return skipError("no io_uring: " + err.Error())
	}
	dir := os.Getenv(childDirEnv)
	if dir == "" {
		return errors.New("no directory from the parent")
	}
	const limit = 1 << 20
	if err := unix.Setrlimit(unix.RLIMIT_MEMLOCK, &unix.Rlimit{Cur: limit, Max: limit}); err != nil {
		return err
	}
	// Root has CAP_IPC_LOCK, which lifts the limit: become nobody (every thread).
	if err := syscall.Setgid(65534); err != nil {
		return skipError("cannot drop privileges: " + err.Error())
	}
	if err := syscall.Setuid(65534); err != nil {
		return skipError("cannot drop privileges: " + err.Error())
	}
	rt, err := runtime.New(runtime.Options{Loops: 1, Driver: driver.Uring})
	if err != nil {
		return err
	}
	defer rt.Close(context.Background())
	ctx, l := context.Background(), rt.Loops()[0]
	big := ArenaOptions{Count: 1024, Register: RegisterRequire} // 4 MiB
	_, err = NewArena(ctx, l, big)
	var me *MemlockError
	if !errors.As(err, &me) || me.Have != limit || me.Need != 4<<20 || !errors.Is(err, syscall.ENOMEM) {
		return fmt.Errorf("RegisterRequire past RLIMIT_MEMLOCK: %v", err)
	}
	big.Register = RegisterAuto
	a, err := NewArena(ctx, l, big)
	if err != nil {
		return err
	}
	if a.Registered() || !errors.As(a.RegisterErr(), &me) {
		return fmt.Errorf("fallback arena: registered %v, %v", a.Registered(), a.RegisterErr())
	}
	f, err := Create(ctx, rt, filepath.Join(dir, "x"))
	if err != nil {
		return err
	}
	defer f.Close()
	b := a.Get()
	fillPattern(b, 3)
	if _, err := f.WriteAt(b, 0); err != nil {
		return err
	}
	got := make([]byte, len(b))
	if _, err := f.ReadAt(got, 0); err != nil || !equal(got, b) {
		return fmt.Errorf("read back through the fallback arena: %v", err)
	}
	_ = a.Put(b)
	if err := a.Close(); err != nil {
		return err
	}
	small, err := NewArena(ctx, l, ArenaOptions{Count: 16, Register: RegisterRequire})
	if err != nil {
		return fmt.Errorf("a 64 KiB arena under a 1 MiB limit: %v", err)
	}
	defer small.Close()
	// Arenas share the limit: each fits alone, but the kernel counts every pinned
	// page of the user, so the third is refused by the kernel itself (not by the
	// check before registering), and fits again once another has closed.
	mid, err := NewArena(ctx, l, ArenaOptions{Count: 192, Register: RegisterRequire}) // 768 KiB
	if err != nil {
		return fmt.Errorf("768 KiB beside 64 KiB under a 1 MiB limit: %v", err)
	}
	third := ArenaOptions{Count: 64, Register: RegisterRequire} // 256 KiB
	_, err = NewArena(ctx, l, third)
	var se *os.SyscallError
	if !errors.As(err, &me) || !errors.As(err, &se) || me.Need != 256<<10 || !errors.Is(err, syscall.ENOMEM) {
		return fmt.Errorf("a third arena past the shared limit: %v, want the kernel's ENOMEM in a MemlockError", err)
	}
	if err := mid.Close(); err != nil {
		return err
	}
	a3, err := NewArena(ctx, l, third)
	if err != nil {
		return fmt.Errorf("the third arena once another closed: %v", err)
	}
	return a3.Close()
}
