package faultdriver_test

import (
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/internal/faultdriver"
	"github.com/zokio/zokio/internal/testkit"
	"github.com/zokio/zokio/poller"
	"github.com/zokio/zokio/uring"
)

// TestCQOverflowExactlyOnce reaches the kernel's real CQ overflow path: 256 reads
// wait on pipes of an io_uring driver whose CQ has 8 entries, then one burst of
// writes completes them all at once, so the kernel must park most completions on
// its overflow list. The driver's stats must show the overflow, and every read must
// still complete exactly once with its own pipe's byte (the wrapper delays some
// completions on top). Both ring modes the runtime uses are covered.
func TestCQOverflowExactlyOnce(t *testing.T) {
	for _, mode := range []struct {
		name  string
		flags uring.SetupFlags
	}{{"plain", 0}, {"single-issuer-defer-taskrun", uring.SetupSingleIssuer | uring.SetupDeferTaskrun}} {
		t.Run(mode.name, func(t *testing.T) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			fds := testkit.FDCount(t)
			in, err := uring.NewDriver(uring.DriverConfig{Entries: 8, CQEntries: 8, Flags: mode.flags})
			if err != nil {
				t.Skipf("io_uring: %v", err)
			}
			d := faultdriver.New(in, faultdriver.Config{Seed: 5, Rate: 0.2, Kinds: faultdriver.Delay})
			const n = 256
			pipes := make([][2]int, n)
			ops := make([]poller.Op, n)
			got := make([]int, n)
			bufs := make([][]byte, n)
			for i := range ops {
				if err := unix.Pipe2(pipes[i][:], unix.O_CLOEXEC); err != nil {
					t.Fatal(err)
				}
				bufs[i] = make([]byte, 4)
				ops[i] = poller.Op{Code: poller.OpRead, Fd: pipes[i][0], Buf: bufs[i], Offset: -1,
					Done: func(op *poller.Op) {
						got[i]++
						if op.Res != 1 || bufs[i][0] != byte(i) {
							t.Errorf("read %d: res %d byte %d", i, op.Res, bufs[i][0])
						}
					}}
				if err := d.Submit(&ops[i]); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := d.Wait(0); err != nil { // every read reaches the kernel and parks
				t.Fatal(err)
			}
			for i := range pipes {
				if _, err := unix.Write(pipes[i][1], []byte{byte(i)}); err != nil {
					t.Fatal(err)
				}
			}
			total := 0
			for end := time.Now().Add(20 * time.Second); total < n; {
				if time.Now().After(end) {
					t.Fatalf("%d of %d reads completed", total, n)
				}
				k, err := d.Wait(time.Second)
				if err != nil {
					t.Fatal(err)
				}
				total += k
			}
			for i, c := range got {
				if c != 1 {
					t.Errorf("read %d completed %d times", i, c)
				}
			}
			st := d.Stats()
			if st.Overflows == 0 {
				t.Errorf("no CQ overflow counted through an 8-entry CQ: %+v", st)
			}
			if dropped := uring.RingOf(d, 0).CQOverflow(); dropped != 0 {
				t.Errorf("the kernel dropped %d completions", dropped)
			}
			t.Logf("stats %+v, faults %+v", st, d.Injected())
			for _, p := range pipes {
				unix.Close(p[0])
				unix.Close(p[1])
			}
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}
			if after := testkit.FDCount(t); after != fds {
				t.Fatalf("descriptors: %d before, %d after", fds, after)
			}
		})
	}
}
