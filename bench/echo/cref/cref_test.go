package cref

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if a test leaves a goroutine behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestBuildMissingGCC: without gcc on PATH, Build names it and its package.
func TestBuildMissingGCC(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("PATH", t.TempDir())
	_, err := Build("c-epoll")
	var m *MissingError
	if !errors.As(err, &m) || m.Package != "gcc" {
		t.Fatalf("Build without gcc: %v, want a *MissingError for package gcc", err)
	}
	t.Log(err)
}

// TestBuildMissingLiburing: a gcc that cannot find liburing.h makes Build name
// liburing-dev.
func TestBuildMissingLiburing(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	bin := t.TempDir()
	script := "#!/bin/sh\necho 'uring_echo.c:1:10: fatal error: liburing.h: No such file or directory' >&2\nexit 1\n"
	if err := os.WriteFile(filepath.Join(bin, "gcc"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin)
	_, err := Build("c-uring")
	var m *MissingError
	if !errors.As(err, &m) || m.Package != "liburing-dev" {
		t.Fatalf("Build without liburing: %v, want a *MissingError for package liburing-dev", err)
	}
	t.Log(err)
}

// TestBuild compiles both programs into an empty cache, then finds them there.
func TestBuild(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	for _, name := range Names() {
		path, err := Build(name)
		var m *MissingError
		if errors.As(err, &m) {
			t.Skip(err)
		}
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil || fi.Mode()&0o111 == 0 {
			t.Fatalf("%s: %s is not an executable (%v)", name, path, err)
		}
		again, err := Build(name)
		if err != nil || again != path {
			t.Fatalf("%s: second Build gave %q, %v; want the cached %q", name, again, err, path)
		}
	}
	if _, err := Build("c-nothing"); err == nil {
		t.Error("Build of an unknown contender succeeded")
	}
}
