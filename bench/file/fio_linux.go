package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"strconv"
	"time"
)

// runFio runs fio's io_uring engine on the same file, mode and depth: one job,
// random 4 KiB reads, no random map, the page cache left as it is (invalidate=0).
// fio reports its own CPU as usr and sys percentages of the job's runtime.
func runFio(s *readSample, file string, size int64, warm, dur time.Duration, fixed bool) error {
	if _, err := exec.LookPath("fio"); err != nil {
		return fmt.Errorf("fio not found: apt-get install -y fio")
	}
	direct := "0"
	if s.Mode == "direct" {
		direct = "1"
	}
	args := []string{
		"--name=zfile", "--filename=" + file, "--rw=randread", "--bs=4k",
		"--ioengine=io_uring", "--iodepth=" + strconv.Itoa(s.Depth), "--direct=" + direct,
		"--size=" + strconv.FormatInt(size, 10), "--time_based",
		"--runtime=" + strconv.FormatInt(dur.Milliseconds(), 10) + "ms",
		"--ramp_time=" + strconv.FormatInt(warm.Milliseconds(), 10) + "ms",
		"--invalidate=0", "--norandommap", "--randrepeat=0", "--output-format=json",
	}
	if fixed {
		args = append(args, "--fixedbufs=1", "--registerfiles=1")
	}
	out, err := exec.Command("fio", args...).Output()
	if err != nil {
		return fmt.Errorf("fio: %w", err)
	}
	var r struct {
		Jobs []struct {
			Read struct {
				IOPS     float64 `json:"iops"`
				TotalIOs uint64  `json:"total_ios"`
			} `json:"read"`
			UsrCPU  float64 `json:"usr_cpu"`
			SysCPU  float64 `json:"sys_cpu"`
			Runtime float64 `json:"job_runtime"` // ms
		} `json:"jobs"`
	}
	// fio may print warnings before its JSON.
	if i := bytes.IndexByte(out, '{'); i > 0 {
		out = out[i:]
	}
	if err := json.Unmarshal(out, &r); err != nil || len(r.Jobs) == 0 {
		return fmt.Errorf("fio output: %v", err)
	}
	j := r.Jobs[0]
	s.Ops, s.Seconds, s.IOPS = j.Read.TotalIOs, j.Runtime/1e3, j.Read.IOPS
	s.CPUSeconds = (j.UsrCPU + j.SysCPU) / 100 * s.Seconds
	if s.Ops > 0 {
		s.CPUPerOp = s.CPUSeconds / float64(s.Ops)
	}
	s.Note = fmt.Sprintf("usr %.1f%% sys %.1f%%", j.UsrCPU, j.SysCPU)
	return nil
}
