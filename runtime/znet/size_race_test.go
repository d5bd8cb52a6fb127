//go:build race

package znet

// Scenario sizes under the race detector, which slows this 2-core box about tenfold:
// the same number of streams and connections, fewer messages per stream.
const (
	oracleStreams  = 1000
	oracleMessages = 4
	manyConns      = 10000
)
