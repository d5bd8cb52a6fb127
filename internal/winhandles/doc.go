// Package winhandles counts the handles of the current process that a leak of this
// project would leave on Windows: sockets, disk files and directories, and I/O
// completion ports. Tests use it as their descriptor count (internal/testkit.FDCount,
// the conformance suite's leak check), and names the object a handle refers to
// (Identity), for tests that check a closed handle is gone.
//
// It looks at the process's own handle values, not at the system handle table
// (NtQuerySystemInformation with SystemExtendedHandleInformation): Wine 8's server
// walks every process's table to answer that query and now and then dies of a SIGSEGV
// there, taking every Wine process with it (.ci/wine-setup.sh, wine_go_test).
// Nor is the count GetProcessHandleCount alone: Wine 8 says 0, and on Windows it
// includes the thread, event and timer handles that Go's runtime makes for each new
// OS thread.
package winhandles
