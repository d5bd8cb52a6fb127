package testkit

import (
	"testing"

	"golang.org/x/sys/windows"

	"github.com/zokio/zokio/internal/winhandles"
	"github.com/zokio/zokio/runtime/driver"
)

// candidates are the drivers Drivers tries on Windows.
var candidates = []driver.Kind{driver.IOCP}

var procWineGetVersion = windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version")

// FDCount is the number of sockets and disk files the process has open, the handles
// a leak of this project would leave, found among the process's own handle values
// (internal/winhandles). Not the system handle table: Wine 8's server crashes now and
// then answering that query. Not GetProcessHandleCount: Wine's says 0, and the whole
// count includes the events and threads that Wine and Go's runtime create as they go.
func FDCount(tb testing.TB) int {
	tb.Helper()
	c := winhandles.Count()
	return c.Sockets + c.Files
}

// Wine reports whether the process runs under Wine rather than Windows: ntdll then
// exports wine_get_version (../shared/PLATFORMS.md). Tests use it to name the Wine
// difference they work around.
func Wine() bool { return procWineGetVersion.Find() == nil }
