//go:build !race

package znet

// Scenario sizes without the race detector: what the issue names.
const (
	oracleStreams  = 1000
	oracleMessages = 20
	manyConns      = 10000
)
