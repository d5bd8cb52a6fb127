// Package tokio builds the echo benchmark's Tokio contender: src/main.rs, Tokio's
// idiomatic echo server (a task per connection, a 64 KiB buffer), run by the
// contenders tokio (the current-thread runtime) and tokio-mt2 (the multi-thread
// runtime with 2 workers).
//
// The Rust sources (Cargo.toml, src/main.rs, .cargo/config.toml) are embedded in
// the Go binaries that use this package and built at run time with cargo, offline,
// from the crates Debian packages under /usr/share/cargo/registry
// (librust-tokio+full-dev: Tokio 1.24), into a cache directory, under a name keyed
// by a hash of the sources and the cargo and Tokio versions, so that the program is
// built once per version.
//
// Where cargo or the packaged crates are missing, Build fails with a *MissingError
// that says what to install; the runner then skips the Tokio contenders.
package tokio

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

//go:embed Cargo.toml src/main.rs .cargo/config.toml
var sources embed.FS

// files are the embedded sources, in the layout cargo wants.
var files = []string{"Cargo.toml", "src/main.rs", ".cargo/config.toml"}

// Registry is the directory source .cargo/config.toml builds from: where Debian's
// librust-*-dev packages install their crates.
const Registry = "/usr/share/cargo/registry"

// Package is the Debian package that installs Tokio and every crate it needs.
const Package = "librust-tokio+full-dev"

// binName is the program's name in Cargo.toml.
const binName = "tokio-echo"

// MissingError says that building the Tokio server needs something that is not
// installed.
type MissingError struct {
	What    string // what is missing, e.g. "cargo (Rust's build tool)"
	Install string // how to install it
}

func (e *MissingError) Error() string {
	return fmt.Sprintf("the Tokio contenders need %s, which is not installed here (%s)", e.What, e.Install)
}

// Cargo returns the path of cargo: the one on PATH, else the one rustup installs
// in ~/.cargo/bin.
func Cargo() (string, error) {
	if p, err := exec.LookPath("cargo"); err == nil {
		return p, nil
	}
	if home, err := os.UserHomeDir(); err == nil {
		p := filepath.Join(home, ".cargo", "bin", "cargo")
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", &MissingError{What: "cargo (Rust's build tool)", Install: "apt-get install -y cargo, or rustup"}
}

// packagedTokio returns the Tokio crate directories under the registry, or a
// *MissingError where there is none.
func packagedTokio(registry string) ([]string, error) {
	dirs, _ := filepath.Glob(filepath.Join(registry, "tokio-1.*"))
	if len(dirs) == 0 {
		return nil, &MissingError{What: "Tokio's crates under " + registry, Install: "apt-get install -y '" + Package + "'"}
	}
	return dirs, nil
}

// Build returns the path of the compiled Tokio echo server, building it first if
// the cache does not hold it for these sources. It is safe to call from several
// processes at once: each builds in a directory of its own (cargo locks the shared
// target directory) and renames the result into place. The first build takes
// cargo about half a minute on an idle machine, minutes on a loaded one.
func Build() (string, error) {
	cargo, err := Cargo()
	if err != nil {
		return "", err
	}
	tokios, err := packagedTokio(Registry)
	if err != nil {
		return "", err
	}
	version, err := exec.Command(cargo, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("tokio: %s --version: %w", cargo, err)
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00", cargo, strings.TrimSpace(string(version)), strings.Join(tokios, " "))
	for _, f := range files {
		b, err := sources.ReadFile(f)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", f, len(b))
		h.Write(b)
	}
	dir, err := cacheDir()
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, binName+"-"+hex.EncodeToString(h.Sum(nil)[:8]))
	if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
		return path, nil
	}
	tmp, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	for _, f := range files {
		b, _ := sources.ReadFile(f)
		p := filepath.Join(tmp, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return "", err
		}
	}
	target := filepath.Join(dir, "target")
	cmd := exec.Command(cargo, "build", "--release", "--offline", "--quiet")
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "CARGO_TARGET_DIR="+target)
	if msg, err := cmd.CombinedOutput(); err != nil {
		s := strings.TrimSpace(string(msg))
		if strings.Contains(s, "no matching package named") || strings.Contains(s, "failed to select a version") {
			return "", &MissingError{What: "Tokio's crates (with every feature) under " + Registry,
				Install: "apt-get install -y '" + Package + "'"}
		}
		return "", fmt.Errorf("tokio: cargo build: %w\n%s", err, s)
	}
	if err := copyFile(filepath.Join(target, "release", binName), path); err != nil {
		return "", err
	}
	return path, nil
}

// copyFile copies the program src to dst through a temporary file renamed into
// place, so that no one runs a half-written dst.
func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(dst), filepath.Base(dst)+".tmp-")
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o755)
	}
	if err == nil {
		err = os.Rename(f.Name(), dst)
	}
	if err != nil {
		_ = os.Remove(f.Name())
	}
	return err
}

// cacheDir is the user's cache directory's zokio-bench-echo-tokio, or one in the
// temporary directory where there is no user cache directory.
func cacheDir() (string, error) {
	base, err := os.UserCacheDir()
	if err == nil {
		dir := filepath.Join(base, "zokio-bench-echo-tokio")
		if err = os.MkdirAll(dir, 0o755); err == nil {
			return dir, nil
		}
	}
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("zokio-bench-echo-tokio-%d", os.Getuid()))
	if err2 := os.MkdirAll(dir, 0o755); err2 != nil {
		return "", errors.Join(err, err2)
	}
	return dir, nil
}
