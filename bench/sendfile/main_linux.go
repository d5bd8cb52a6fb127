// Command sendfile measures io.Copy of a file to a TCP connection over loopback:
// znet's NetConn with its ReadFrom hidden (a user-space copy through io.Copy's
// 32 KiB buffer), znet's ReadFrom (splice through the driver: file → pipe → socket),
// each on the io_uring and the epoll driver, and Go's net.TCPConn (which uses
// sendfile(2) itself). The receiver is a child process (this program with -recv) that
// reads and discards, so the sender's CPU time (getrusage of this process: every
// thread, io_uring's workers included) is the sender's alone.
//
// Runs are paired: each repetition runs every contender once, in turn, on the same
// file, so drift in the machine's load hits all of them alike; the table shows
// medians and each contender's CPU per byte relative to Go's net in the same
// repetition (median of the ratios).
//
//	cd bench && go run -ldflags=-checklinkname=0 ./sendfile -size=256 -reps=7
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/runtime"
	"github.com/zokio/zokio/runtime/driver"
	"github.com/zokio/zokio/runtime/znet"
)

type contender struct {
	name string
	dial func(addr string) (net.Conn, error)
	copy func(c net.Conn, f *os.File) (int64, error)
}

// writerOnly hides ReadFrom, so io.Copy copies through its own buffer.
type writerOnly struct{ io.Writer }

func main() {
	recv := flag.Bool("recv", false, "run as the receiver (internal)")
	sizeMiB := flag.Int("size", 256, "file size in MiB")
	reps := flag.Int("reps", 7, "paired repetitions")
	dir := flag.String("dir", os.TempDir(), "directory for the file")
	flag.Parse()
	if *recv {
		receive()
		return
	}
	if err := run(*sizeMiB, *reps, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "sendfile:", err)
		os.Exit(1)
	}
}

// receive accepts connections and reads each to EOF, then closes it.
func receive() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr())
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			_, _ = io.Copy(io.Discard, c)
			c.Close()
		}()
	}
}

func run(sizeMiB, reps int, dir string) error {
	size := int64(sizeMiB) << 20
	f, err := os.CreateTemp(dir, "sendfile-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	chunk := make([]byte, 1<<20)
	for i := range chunk {
		chunk[i] = byte(i * 31)
	}
	for n := int64(0); n < size; n += int64(len(chunk)) {
		if _, err := f.Write(chunk); err != nil {
			return err
		}
	}
	child := exec.Command(os.Args[0], "-recv")
	child.Stderr = os.Stderr
	out, err := child.StdoutPipe()
	if err != nil {
		return err
	}
	if err := child.Start(); err != nil {
		return err
	}
	defer func() { child.Process.Kill(); child.Wait() }()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		return fmt.Errorf("receiver: %v", err)
	}
	addr := strings.TrimSpace(line)

	var cs []contender
	for _, k := range []driver.Kind{driver.Uring, driver.Epoll} {
		rt, err := runtime.New(runtime.Options{Loops: 1, Driver: k})
		if err != nil {
			fmt.Fprintf(os.Stderr, "sendfile: no %s runtime: %v\n", k, err)
			continue
		}
		defer rt.Close(context.Background())
		dial := func(a string) (net.Conn, error) { return znet.Dial(context.Background(), rt, "tcp", a) }
		cs = append(cs,
			contender{"znet-" + string(k) + "-copy", dial, func(c net.Conn, f *os.File) (int64, error) { return io.Copy(writerOnly{c}, f) }},
			contender{"znet-" + string(k) + "-splice", dial, func(c net.Conn, f *os.File) (int64, error) { return io.Copy(c, f) }})
	}
	cs = append(cs, contender{"net (sendfile)", func(a string) (net.Conn, error) { return net.Dial("tcp", a) },
		func(c net.Conn, f *os.File) (int64, error) { return io.Copy(c, f) }})

	secs := make([][]float64, len(cs))  // wall seconds per run
	cpu := make([][]float64, len(cs))   // CPU ns per KiB per run
	ratio := make([][]float64, len(cs)) // CPU per byte relative to net's, same repetition
	for r := 0; r < reps; r++ {
		for i, c := range cs {
			w, ns, err := once(c, addr, f, size)
			if err != nil {
				return fmt.Errorf("%s: %v", c.name, err)
			}
			secs[i] = append(secs[i], w)
			cpu[i] = append(cpu[i], ns/float64(size>>10))
		}
		last := len(cs) - 1
		for i := range cs {
			ratio[i] = append(ratio[i], cpu[i][r]/cpu[last][r])
		}
		fmt.Fprintf(os.Stderr, "repetition %d/%d done\n", r+1, reps)
	}
	fmt.Printf("io.Copy of a %d MiB file to a loopback TCP connection, %d paired repetitions (medians; min–max)\n\n", sizeMiB, reps)
	fmt.Println("| contender | MiB/s | CPU ns per KiB | CPU per byte vs net |")
	fmt.Println("|---|---|---|---|")
	for i, c := range cs {
		mibs := make([]float64, len(secs[i]))
		for j, s := range secs[i] {
			mibs[j] = float64(sizeMiB) / s
		}
		fmt.Printf("| %s | %s | %s | %.2f× |\n", c.name, stat(mibs), stat(cpu[i]), median(ratio[i]))
	}
	return nil
}

// once sends the file once and returns the wall time until the receiver closed and
// the process's CPU time meanwhile.
func once(c contender, addr string, f *os.File, size int64) (float64, float64, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return 0, 0, err
	}
	conn, err := c.dial(addr)
	if err != nil {
		return 0, 0, err
	}
	defer conn.Close()
	cpu0 := cpuNanos()
	t0 := time.Now()
	n, err := c.copy(conn, f)
	if err != nil || n != size {
		return 0, 0, fmt.Errorf("copied %d of %d: %v", n, size, err)
	}
	if cw, ok := conn.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	var b [1]byte
	conn.Read(b[:]) // EOF: the receiver has read it all
	return time.Since(t0).Seconds(), float64(cpuNanos() - cpu0), nil
}

func cpuNanos() int64 {
	var ru unix.Rusage
	_ = unix.Getrusage(unix.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

func stat(v []float64) string {
	return fmt.Sprintf("%.0f (%.0f–%.0f)", median(v), slices.Min(v), slices.Max(v))
}
