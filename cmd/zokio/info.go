package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"runtime"
	"strings"

	"github.com/zokio/zokio/numa"
	"github.com/zokio/zokio/runtime/driver"
)

func init() {
	commands = append(commands, command{"info", "which I/O driver this machine gets, and why", runInfo})
}

// infoReport is what `zokio info` prints; --json prints it as is.
type infoReport struct {
	OS        string      `json:"os"`
	Arch      string      `json:"arch"`
	Kernel    string      `json:"kernel,omitempty"`
	GoVersion string      `json:"go_version"`
	CPUs      []int       `json:"cpus,omitempty"` // the CPUs in this process's affinity mask
	Memlock   *limit      `json:"memlock,omitempty"`
	Sysctl    string      `json:"io_uring_disabled,omitempty"`
	Driver    decision    `json:"driver"`
	IOUring   *uringInfo  `json:"io_uring,omitempty"`
	NUMA      *numaInfo   `json:"numa,omitempty"`
	SQPoll    *sqpollInfo `json:"sqpoll,omitempty"`
}

type limit struct {
	Soft string `json:"soft"`
	Hard string `json:"hard"`
}

type decision struct {
	Chosen string `json:"chosen,omitempty"`
	Forced string `json:"forced,omitempty"`
	Reason string `json:"reason"`
	Error  string `json:"error,omitempty"`
}

type uringInfo struct {
	Probed    bool              `json:"probed"`
	Available bool              `json:"available"`
	Error     string            `json:"error,omitempty"`
	Features  []string          `json:"features,omitempty"`
	Missing   []string          `json:"missing,omitempty"`
	Opcodes   string            `json:"required_opcodes,omitempty"`
	Setup     map[string]string `json:"setup_flags,omitempty"` // flag → "accepted" or the error
}

func runInfo(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("info", flag.ContinueOnError)
	fs.SetOutput(stdout)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	var plan numa.PlanOptions
	fs.IntVar(&plan.Loops, "loops", 0, "loops to plan for (default: one per allowed CPU)")
	strategy := fs.String("strategy", "spread", "how the plan places loops on nodes: spread or pack")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var err error
	if plan.Strategy, err = numa.ParseStrategy(*strategy); err != nil {
		return err
	}
	r := infoReport{OS: runtime.GOOS, Arch: runtime.GOARCH, GoVersion: runtime.Version()}
	dec, err := driver.Choose(driver.Auto)
	r.Driver = decision{Chosen: string(dec.Kind), Forced: dec.Forced, Reason: dec.Reason}
	if err != nil {
		r.Driver.Error = err.Error()
	}
	gatherPlatform(&r, dec)
	gatherPlacement(&r, dec, plan)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	printInfo(stdout, &r)
	return nil
}

func printInfo(w io.Writer, r *infoReport) {
	fmt.Fprintf(w, "system      %s/%s, kernel %s, %s\n", r.OS, r.Arch, orDash(r.Kernel), r.GoVersion)
	if len(r.CPUs) > 0 {
		fmt.Fprintf(w, "cpus        %d in the affinity mask: %s\n", len(r.CPUs), cpuList(r.CPUs))
	}
	if r.Memlock != nil {
		fmt.Fprintf(w, "memlock     soft %s, hard %s (RLIMIT_MEMLOCK: registered buffers are limited by it)\n", r.Memlock.Soft, r.Memlock.Hard)
	}
	if r.Sysctl != "" {
		fmt.Fprintf(w, "sysctl      kernel.io_uring_disabled = %s\n", r.Sysctl)
	}
	if u := r.IOUring; u != nil {
		switch {
		case !u.Probed:
			fmt.Fprintf(w, "io_uring    not probed\n")
		case u.Available:
			fmt.Fprintf(w, "io_uring    available; required opcodes %s\n", u.Opcodes)
		default:
			fmt.Fprintf(w, "io_uring    UNAVAILABLE: %s\n", u.Error)
		}
		if len(u.Features) > 0 {
			fmt.Fprintf(w, "  features  %s\n", strings.Join(u.Features, " "))
		}
		if len(u.Missing) > 0 {
			fmt.Fprintf(w, "  missing   %s\n", strings.Join(u.Missing, " "))
		}
		for _, k := range setupOrder {
			if v, ok := u.Setup[k]; ok {
				fmt.Fprintf(w, "  %-15s %s\n", k, v)
			}
		}
	}
	printPlacement(w, r)
	if r.Driver.Error != "" {
		fmt.Fprintf(w, "driver      NONE: %s\n", r.Driver.Error)
		return
	}
	fmt.Fprintf(w, "driver      %s — %s\n", r.Driver.Chosen, r.Driver.Reason)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// cpuList prints CPUs as ranges: 0-3,8,10-11.
func cpuList(cpus []int) string {
	var b strings.Builder
	for i := 0; i < len(cpus); {
		j := i
		for j+1 < len(cpus) && cpus[j+1] == cpus[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		if j > i {
			fmt.Fprintf(&b, "%d-%d", cpus[i], cpus[j])
		} else {
			fmt.Fprintf(&b, "%d", cpus[i])
		}
		i = j + 1
	}
	return b.String()
}
