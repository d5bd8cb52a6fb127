// Package testkit holds what the test packages share: the drivers a test runs on
// (Drivers), descriptor counts (FDCount; handles on Windows), a test directory that
// Wine can remove (TempDir), collector pressure (GCStorm), and what a
// test prints when a wait times out (Registry: the in-flight op table of every
// runtime the running tests use, then every goroutine's stack — docs/RELIABILITY.md's
// "every test ... dumps goroutines and the in-flight table on timeout"). It is for
// tests only.
package testkit
