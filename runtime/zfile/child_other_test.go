//go:build !linux

package zfile

const childEnv = "ZFILE_TEST_CHILD"

func runChildScenario(name string) int { return 2 }
