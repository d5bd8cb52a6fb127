package znet

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/internal/iouringblock"
	"github.com/zokio/zokio/internal/testkit"
	"github.com/zokio/zokio/runtime"
	"github.com/zokio/zokio/runtime/driver"
)

// emfileEnv makes the test binary the child of TestAcceptUnderEMFILE, for the driver
// it names.
const emfileEnv = "ZOKIO_ZNET_EMFILE_CHILD"

// TestAcceptUnderEMFILE starves a server of descriptors: a child process lowers
// RLIMIT_NOFILE, serves, and fills its table, while this process dials it, so that
// every accept fails with EMFILE and the connections wait in the backlog. Over a
// second of starvation the child must stay nearly idle (its CPU time and the accepts
// its loop submits are bounded: znet backs off on a loop timer, never spinning);
// once the child frees descriptors, every waiting connection must be accepted and
// echo.
func TestAcceptUnderEMFILE(t *testing.T) {
	if k := os.Getenv(emfileEnv); k != "" {
		emfileChild(t, driver.Kind(k))
		return
	}
	for _, k := range testkit.Drivers(t) {
		t.Run(string(k), func(t *testing.T) { emfileParent(t, k) })
	}
}

func emfileParent(t *testing.T, k driver.Kind) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := []string{"-test.run=^TestAcceptUnderEMFILE$", "-test.v", "-test.count=1", "-test.timeout=80s"}
	cmd := exec.CommandContext(ctx, exe, append(args, iouringblock.CoverArgs()...)...)
	cmd.Env = append(os.Environ(), emfileEnv+"="+string(k))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var transcript strings.Builder
	lines := bufio.NewScanner(stdout)
	next := func(prefix string) string {
		t.Helper()
		for lines.Scan() {
			l := lines.Text()
			transcript.WriteString(l + "\n")
			if strings.HasPrefix(l, prefix) {
				return strings.TrimPrefix(l, prefix)
			}
		}
		cmd.Wait()
		t.Fatalf("child ended before %q\n%s\n%s", prefix, transcript.String(), stderr.String())
		return ""
	}
	addr := next("ADDR ")
	const n = 4
	conns := make([]net.Conn, n)
	for i := range conns {
		c, err := net.DialTimeout("tcp", addr, 10*time.Second)
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(30 * time.Second))
		if _, err := fmt.Fprintf(c, "ping %d\n", i); err != nil {
			t.Fatal(err)
		}
		conns[i] = c
	}
	fmt.Fprintln(stdin, "dialed")
	t.Logf("child while starved: %s", next("STARVED "))
	next("FREED")
	for i, c := range conns {
		want := fmt.Sprintf("ping %d\n", i)
		got := make([]byte, len(want))
		if _, err := io.ReadFull(c, got); err != nil || string(got) != want {
			t.Fatalf("connection %d after the descriptors came back: %q, %v\n%s", i, got, err, transcript.String())
		}
	}
	fmt.Fprintln(stdin, "done")
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v\n%s%s", err, transcript.String(), stderr.String())
	}
}

// emfileChild is the starved server. It reports on stdout and takes its cues from
// stdin; its own assertions fail its test, and so the parent's.
func emfileChild(t *testing.T, k driver.Kind) {
	// The limit goes down first: io_uring reads RLIMIT_NOFILE when it prepares an
	// accept, so a multishot accept armed under the old limit would go on accepting
	// past the new one. Room for the runtime and the server, then the table is filled.
	var old unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	lim := unix.Rlimit{Cur: uint64(testkit.FDCount(t) + 24), Max: old.Max}
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	rt, err := runtime.New(runtime.Options{Loops: 1, Driver: k, NoPin: true})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(context.Background())
	s, err := Serve(context.Background(), rt, "tcp", "127.0.0.1:0", Config{Handler: newEcho()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	var reserve []int
	for {
		fd, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			if err != unix.EMFILE {
				t.Fatal(err)
			}
			break
		}
		reserve = append(reserve, fd)
	}
	fmt.Printf("ADDR %s\n", s.Addr())
	in := bufio.NewScanner(os.Stdin)
	if !in.Scan() || in.Text() != "dialed" {
		t.Fatal("no cue from the parent")
	}
	// Starvation has begun once the loop re-arms its accept after a failure; the
	// counter is published once per loop tick, so it is read until it moves (on a
	// loaded host the first failed accept may take a while to come).
	start := rt.Stats()[0].OpsSubmitted
	for end := time.Now().Add(30 * time.Second); rt.Stats()[0].OpsSubmitted < start+2; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("the server never retried its accept while starved")
		}
	}
	before, cpu0 := rt.Stats()[0], cpuTime(t)
	time.Sleep(time.Second) // the starved window whose cost is measured: not a wait for an event
	after, cpu1 := rt.Stats()[0], cpuTime(t)
	submits, cpu := after.OpsSubmitted-before.OpsSubmitted, cpu1-cpu0
	fmt.Printf("STARVED %d ops submitted, %v CPU in 1s (limit %d fds, %d reserved)\n", submits, cpu, lim.Cur, len(reserve))
	// Backing off every 10 ms is about 100 accepts a second; a spinning loop makes
	// hundreds of thousands and burns the whole second.
	// Retries in the window show the server kept trying rather than giving up.
	if submits > 400 || cpu > 400*time.Millisecond {
		t.Errorf("busy while starved of descriptors: %d ops, %v CPU in 1 s", submits, cpu)
	}
	if submits < 2 {
		t.Errorf("the server stopped retrying its accept: %d ops in 1 s", submits)
	}
	for _, fd := range reserve {
		unix.Close(fd)
	}
	unix.Setrlimit(unix.RLIMIT_NOFILE, &old)
	fmt.Println("FREED")
	if !in.Scan() || in.Text() != "done" {
		t.Error("no end cue from the parent")
	}
}

func cpuTime(t *testing.T) time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
