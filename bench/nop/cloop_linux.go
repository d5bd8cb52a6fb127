package main

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
)

// nopC is the C contender's source. It is embedded so that the runner
// works from any directory and always compiles the source it was built
// with.
//
//go:embed c/nop.c
var nopC []byte

const liburingHint = "the C contender needs gcc and liburing's headers: apt-get install -y gcc liburing-dev (bench/nop/run.sh does this when run as root)"

// buildC compiles the C contender into dir and returns the binary's path.
func buildC(dir string) (string, error) {
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		return "", fmt.Errorf("gcc not found: %s", liburingHint)
	}
	src := filepath.Join(dir, "nop.c")
	bin := filepath.Join(dir, "nop")
	if err := os.WriteFile(src, nopC, 0o644); err != nil {
		return "", err
	}
	out, err := exec.Command(gcc, "-O2", "-o", bin, src, "-luring").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("gcc -O2 -o %s nop.c -luring: %v\n%s\n%s", bin, err, out, liburingHint)
	}
	return bin, nil
}

// cResult is the JSON line the C contender prints.
type cResult struct {
	Ops    uint64 `json:"ops"`
	WallNs int64  `json:"wall_ns"`
	UserNs int64  `json:"user_ns"`
	SysNs  int64  `json:"sys_ns"`
	VCSw   int64  `json:"vcsw"`
	IVCSw  int64  `json:"ivcsw"`
	Sum    uint64 `json:"checksum"`
}

// runC runs the C contender once, under taskset when w.cpu is set.
func runC(bin string, w workload) (sample, error) {
	args := []string{bin, u(w.entries), u(w.batch), strconv.FormatUint(w.ops, 10), strconv.FormatUint(w.warmup, 10)}
	if w.cpu >= 0 {
		taskset, err := exec.LookPath("taskset")
		if err != nil {
			return sample{}, errors.New("-cpu needs taskset (util-linux) to pin the C contender")
		}
		args = append([]string{taskset, "-c", strconv.Itoa(w.cpu)}, args...)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return sample{}, fmt.Errorf("c-liburing contender: %v: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	var r cResult
	if err := json.Unmarshal(bytes.TrimSpace(stdout.Bytes()), &r); err != nil {
		return sample{}, fmt.Errorf("c-liburing contender printed %q: %w", stdout.String(), err)
	}
	if r.Ops != w.ops || r.Sum != seqSum(w.warmup, w.ops) {
		return sample{}, fmt.Errorf("c-liburing contender: ran %d ops with checksum %d, want %d and %d",
			r.Ops, r.Sum, w.ops, seqSum(w.warmup, w.ops))
	}
	return sample{Ops: r.Ops, WallNs: r.WallNs, UserNs: r.UserNs, SysNs: r.SysNs, VCSw: r.VCSw, IVCSw: r.IVCSw, Mallocs: -1}, nil
}

func u(v uint32) string { return strconv.FormatUint(uint64(v), 10) }
