package znet

import (
	"bytes"
	"io"
	"math/rand"
	"testing"

	"github.com/zokio/zokio/poller"
	"github.com/zokio/zokio/runtime"
)

// TestDefaultRecvGroup: with RecvBuffers and RecvBufferSize unset, each loop's group
// follows its driver (DefaultIncRecvBuffers × DefaultIncRecvBufferSize where the
// driver's groups really are consumed incrementally, DefaultRecvBuffers ×
// DefaultRecvBufferSize elsewhere); a field set alone keeps the other's plain default;
// the write limit's floor covers the larger default buffer; and 1 MiB echoed through
// each group comes back intact.
func TestDefaultRecvGroup(t *testing.T) {
	forEachDriver(t, 2, func(t *testing.T, rt *runtime.Runtime) {
		incFeat := rt.Loops()[0].Driver().Info().Features.Has(poller.FeatIncrementalBuffers)
		defCount, defSize := DefaultRecvBuffers, DefaultRecvBufferSize
		if incFeat {
			defCount, defSize = DefaultIncRecvBuffers, DefaultIncRecvBufferSize
		}
		cases := []struct {
			name        string
			cfg         Config
			count, size int
			limit       int
		}{
			{"defaults", Config{WriteBufferLimit: 4096}, defCount, defSize, 2 * DefaultIncRecvBufferSize},
			{"size only", Config{RecvBufferSize: 8192}, DefaultRecvBuffers, 8192, DefaultWriteBufferLimit},
			{"count only", Config{RecvBuffers: 100, WriteBufferLimit: 4096}, 128, DefaultRecvBufferSize, 2 * DefaultRecvBufferSize},
		}
		for _, tc := range cases {
			s := serveEcho(t, rt, newEcho(), tc.cfg)
			if s.cfg.WriteBufferLimit != tc.limit {
				t.Errorf("%s: WriteBufferLimit %d, want %d", tc.name, s.cfg.WriteBufferLimit, tc.limit)
			}
			for i, sl := range s.loops {
				var count, size int
				var inc bool
				if err := sl.l.Call(ctxT(t), func() {
					count, size = sl.g.count, sl.g.size
					ig, ok := sl.g.g.(interface{ Incremental() bool })
					inc = ok && ig.Incremental()
				}); err != nil {
					t.Fatal(err)
				}
				if count != tc.count || size != tc.size || inc != incFeat {
					t.Errorf("%s: loop %d's group %d × %d (incremental %v), want %d × %d (driver's feature %v)",
						tc.name, i, count, size, inc, tc.count, tc.size, incFeat)
				}
			}
			c := dialStd(t, s)
			msg := make([]byte, 1<<20)
			rand.New(rand.NewSource(int64(len(tc.name)))).Read(msg)
			go c.Write(msg)
			got := make([]byte, len(msg))
			if _, err := io.ReadFull(c, got); err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if !bytes.Equal(got, msg) {
				t.Fatalf("%s: the echo differs from what was sent", tc.name)
			}
			c.Close()
		}
	})
}
