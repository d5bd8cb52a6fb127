package pollertest

import (
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"
	"golang.org/x/sys/windows"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestOpenFDsCounts checks that the leak check sees each kind of handle a driver could
// leak (a socket, a disk file, a completion port) and nothing once they are closed.
func TestOpenFDsCounts(t *testing.T) {
	base := openFDs()
	if base < 0 {
		t.Fatal("the handle table cannot be read")
	}
	s, err := windows.WSASocket(windows.AF_INET, windows.SOCK_STREAM, windows.IPPROTO_TCP, nil, 0, windows.WSA_FLAG_OVERLAPPED)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(tempDirT(t), "f"))
	if err != nil {
		t.Fatal(err)
	}
	port, err := windows.CreateIoCompletionPort(windows.InvalidHandle, 0, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if n := openFDs(); n != base+3 {
		t.Errorf("with a socket, a file and a port open: %d, want %d", n, base+3)
	}
	windows.Closesocket(s)
	f.Close()
	windows.CloseHandle(port)
	if n := openFDs(); n != base {
		t.Errorf("after closing them: %d, want %d", n, base)
	}
}

// tempDirT is a directory removed at cleanup (os.Remove per entry: see tempDir).
func tempDirT(t *testing.T) string {
	dir, err := os.MkdirTemp("", "pollertest-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := removeTree(dir); err != nil {
			t.Error(err)
		}
	})
	return dir
}
