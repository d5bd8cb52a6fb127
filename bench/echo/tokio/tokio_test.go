package tokio

import (
	"errors"
	"os"
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if a test leaves a goroutine behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestBuildMissingCargo: without cargo on PATH or in ~/.cargo/bin, Build says how
// to install it.
func TestBuildMissingCargo(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("PATH", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	_, err := Build()
	var m *MissingError
	if !errors.As(err, &m) || m.What == "" || m.Install == "" {
		t.Fatalf("Build without cargo: %v, want a *MissingError", err)
	}
	t.Log(err)
}

// TestPackagedTokioMissing: a registry without Tokio's crates names the package.
func TestPackagedTokioMissing(t *testing.T) {
	_, err := packagedTokio(t.TempDir())
	var m *MissingError
	if !errors.As(err, &m) || m.Install != "apt-get install -y '"+Package+"'" {
		t.Fatalf("packagedTokio of an empty registry: %v, want a *MissingError naming %s", err, Package)
	}
}

// TestBuild builds the server, or finds it in the user's cache (skipped where
// cargo or the packaged crates are missing), then finds it there again.
func TestBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: building Tokio takes cargo minutes on a loaded machine")
	}
	path, err := Build()
	var m *MissingError
	if errors.As(err, &m) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode()&0o111 == 0 {
		t.Fatalf("%s is not an executable (%v)", path, err)
	}
	again, err := Build()
	if err != nil || again != path {
		t.Fatalf("second Build gave %q, %v; want the cached %q", again, err, path)
	}
}
