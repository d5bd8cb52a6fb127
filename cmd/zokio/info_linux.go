package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/runtime/driver"
	"github.com/zokio/zokio/uring"
)

var setupOrder = []string{"SQPOLL", "SINGLE_ISSUER", "DEFER_TASKRUN", "COOP_TASKRUN", "PBUF_RING_INC"}

var setupChecks = map[string]uring.SetupFlags{
	"SQPOLL":        uring.SetupSQPoll,
	"SINGLE_ISSUER": uring.SetupSingleIssuer,
	"DEFER_TASKRUN": uring.SetupSingleIssuer | uring.SetupDeferTaskrun,
	"COOP_TASKRUN":  uring.SetupCoopTaskrun | uring.SetupTaskrunFlag,
}

func gatherPlatform(r *infoReport, dec driver.Decision) {
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		r.Kernel = unix.ByteSliceToString(u.Release[:])
	}
	var set unix.CPUSet
	if unix.SchedGetaffinity(0, &set) == nil {
		for cpu := 0; cpu < len(set)*64; cpu++ {
			if set.IsSet(cpu) {
				r.CPUs = append(r.CPUs, cpu)
			}
		}
	}
	var lim unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_MEMLOCK, &lim) == nil {
		r.Memlock = &limit{Soft: bytesOrUnlimited(lim.Cur), Hard: bytesOrUnlimited(lim.Max)}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/io_uring_disabled"); err == nil {
		r.Sysctl = strings.TrimSpace(string(b))
	}
	r.IOUring = &uringInfo{Probed: dec.Probed}
	if !dec.Probed {
		return // ZOKIO_DRIVER=epoll: never call io_uring_setup
	}
	p := driver.ProbeUring()
	u2 := r.IOUring
	u2.Available = p.Err == nil
	if p.Err != nil {
		u2.Error = p.Err.Error()
	}
	u2.Features = featureNames(p.Features)
	u2.Missing = p.Missing
	u2.Opcodes = fmt.Sprintf("%d/%d", p.Opcodes, p.Required)
	if p.Features == 0 {
		return // setup itself failed; the flags would fail the same way
	}
	u2.Setup = map[string]string{}
	for name, f := range setupChecks {
		ring, err := uring.New(uring.Config{Entries: 4, Flags: f, SQThreadCPU: -1})
		if err != nil {
			u2.Setup[name] = "refused: " + err.Error()
			continue
		}
		ring.Close()
		u2.Setup[name] = "accepted"
	}
	// Not a setup flag but a buffer-ring one: whether receives consume a provided
	// buffer a piece at a time, which sets znet's default receive group.
	ring, err := uring.New(uring.Config{Entries: 4, SQThreadCPU: -1})
	if err != nil {
		u2.Setup["PBUF_RING_INC"] = "not checked: " + err.Error()
		return
	}
	defer ring.Close()
	if ring.SupportsIncBufRing() {
		u2.Setup["PBUF_RING_INC"] = "accepted (receive buffers are consumed a piece at a time)"
	} else {
		u2.Setup["PBUF_RING_INC"] = "refused (Linux 6.12 has it): every receive takes a whole buffer"
	}
}

func bytesOrUnlimited(v uint64) string {
	if v == unix.RLIM_INFINITY {
		return "unlimited"
	}
	switch {
	case v >= 1<<20 && v%(1<<20) == 0:
		return strconv.FormatUint(v>>20, 10) + " MiB"
	case v >= 1<<10 && v%(1<<10) == 0:
		return strconv.FormatUint(v>>10, 10) + " KiB"
	}
	return strconv.FormatUint(v, 10) + " B"
}

var featureTable = []struct {
	f    uring.FeatureFlags
	name string
}{
	{uring.FeatSingleMmap, "SINGLE_MMAP"}, {uring.FeatNoDrop, "NODROP"},
	{uring.FeatSubmitStable, "SUBMIT_STABLE"}, {uring.FeatRWCurPos, "RW_CUR_POS"},
	{uring.FeatCurPersonality, "CUR_PERSONALITY"}, {uring.FeatFastPoll, "FAST_POLL"},
	{uring.FeatPoll32Bits, "POLL_32BITS"}, {uring.FeatSQPollNonfixed, "SQPOLL_NONFIXED"},
	{uring.FeatExtArg, "EXT_ARG"}, {uring.FeatNativeWorkers, "NATIVE_WORKERS"},
	{uring.FeatRsrcTags, "RSRC_TAGS"}, {uring.FeatCQESkip, "CQE_SKIP"},
	{uring.FeatLinkedFile, "LINKED_FILE"}, {uring.FeatRegRegRing, "REG_REG_RING"},
	{uring.FeatRecvSendBundle, "RECVSEND_BUNDLE"}, {uring.FeatMinTimeout, "MIN_TIMEOUT"},
	{uring.FeatRWAttr, "RW_ATTR"}, {uring.FeatNoIOWait, "NO_IOWAIT"},
}

func featureNames(f uring.FeatureFlags) []string {
	var names []string
	for _, e := range featureTable {
		if f&e.f != 0 {
			names = append(names, e.name)
		}
	}
	return names
}
