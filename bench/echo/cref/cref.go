// Package cref holds the echo benchmark's C reference servers, the contenders
// c-uring (uring_echo.c: liburing, a provided buffer ring, multishot accept and
// recv) and c-epoll (epoll_echo.c: level-triggered epoll), and builds them.
//
// The C sources (and common.h, which both include) are embedded in the Go
// binaries that use this package and compiled at run time with gcc -O2 (linking
// -luring for c-uring) into a cache directory, under a name keyed by a hash of
// the sources and the compiler command, so that a program is compiled once per
// source version. Each C file
// starts with a go:build ignore line: a package directory with C files in it is
// otherwise taken for cgo.
//
// Where gcc or liburing's development files are missing, Build fails with a
// *MissingError that names them and the Debian package to install.
package cref

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

//go:embed uring_echo.c epoll_echo.c common.h
var sources embed.FS

// header is the file both programs include (from their own directory).
const header = "common.h"

// program is one C reference server: its source file and what it links.
type program struct {
	src  string
	libs []string
}

// cflags are gcc's flags for every program.
var cflags = []string{"-O2", "-Wall"}

var programs = map[string]program{
	"c-uring": {src: "uring_echo.c", libs: []string{"-luring"}},
	"c-epoll": {src: "epoll_echo.c"},
}

// Names lists the C reference contenders, sorted.
func Names() []string { return slices.Sorted(maps.Keys(programs)) }

// Is reports whether name is a C reference contender.
func Is(name string) bool {
	_, ok := programs[name]
	return ok
}

// MissingError says that building a contender needs something that is not
// installed.
type MissingError struct {
	Contender string
	What      string // what is missing, e.g. "gcc (a C compiler)"
	Package   string // the Debian/Ubuntu package that provides it
}

func (e *MissingError) Error() string {
	return fmt.Sprintf("%s needs %s, which is not installed here (apt-get install %s)", e.Contender, e.What, e.Package)
}

// Build returns the path of contender name's compiled program, compiling it
// first if the cache does not hold it for this source. It is safe to call from
// several processes at once: each compiles into a directory of its own and
// renames the result into place.
func Build(name string) (string, error) {
	p, ok := programs[name]
	if !ok {
		return "", fmt.Errorf("cref: unknown contender %q (have %s)", name, strings.Join(Names(), ", "))
	}
	src, err := sources.ReadFile(p.src)
	if err != nil {
		return "", err
	}
	hdr, err := sources.ReadFile(header)
	if err != nil {
		return "", err
	}
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		return "", &MissingError{Contender: name, What: "gcc (a C compiler)", Package: "gcc"}
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00", gcc, strings.Join(cflags, " "), strings.Join(p.libs, " "), p.src)
	h.Write(src)
	h.Write(hdr)
	bin := strings.TrimSuffix(p.src, ".c") + "-" + hex.EncodeToString(h.Sum(nil)[:8])

	dir, err := cacheDir()
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, bin)
	if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
		return path, nil
	}
	tmp, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	srcPath := filepath.Join(tmp, p.src)
	if err := os.WriteFile(srcPath, src, 0o644); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(tmp, header), hdr, 0o644); err != nil {
		return "", err
	}
	out := filepath.Join(tmp, bin)
	// The libraries go after the source, where the linker looks for them.
	args := append(append(slices.Clone(cflags), "-o", out, srcPath), p.libs...)
	cmd := exec.Command(gcc, args...)
	msg, err := cmd.CombinedOutput()
	if err != nil {
		s := string(msg)
		if strings.Contains(s, "liburing.h") || strings.Contains(s, "-luring") {
			return "", &MissingError{Contender: name, What: "liburing's development files (liburing.h, -luring)", Package: "liburing-dev"}
		}
		return "", fmt.Errorf("cref: compiling %s: %w\n%s", p.src, err, strings.TrimSpace(s))
	}
	if err := os.Rename(out, path); err != nil {
		return "", err
	}
	return path, nil
}

// cacheDir is the user's cache directory's zokio-bench-echo-cref, or one in the
// temporary directory where there is no user cache directory.
func cacheDir() (string, error) {
	base, err := os.UserCacheDir()
	if err == nil {
		dir := filepath.Join(base, "zokio-bench-echo-cref")
		if err = os.MkdirAll(dir, 0o755); err == nil {
			return dir, nil
		}
	}
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("zokio-bench-echo-cref-%d", os.Getuid()))
	if err2 := os.MkdirAll(dir, 0o755); err2 != nil {
		return "", errors.Join(err, err2)
	}
	return dir, nil
}
