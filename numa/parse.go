package numa

import (
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"
)

// ErrDistances is wrapped by every error ParseDistances returns.
var ErrDistances = errors.New("numa: malformed distance row")

// MaxDistance is the largest distance ParseDistances accepts: the ACPI SLIT stores
// distances in a byte (10 is local, 255 unreachable).
const MaxDistance = 255

// ParseDistances parses a node's distance row, as /sys/devices/system/node/nodeN/distance
// prints it: one distance per online node, separated by spaces, "10 21 31 21". The
// empty row is an empty slice.
func ParseDistances(s string) ([]int, error) {
	fields := strings.Fields(s)
	d := make([]int, 0, len(fields))
	for _, f := range fields {
		if strings.TrimLeft(f, "0123456789") != "" || len(f) > 3 {
			return nil, fmt.Errorf("%w %q: %q is not a distance", ErrDistances, s, f)
		}
		v, _ := strconv.Atoi(f) // at most three digits: cannot fail
		if v > MaxDistance {
			return nil, fmt.Errorf("%w %q: %d exceeds %d", ErrDistances, s, v, MaxDistance)
		}
		d = append(d, v)
	}
	return d, nil
}

// cgroupPaths holds this process's cgroup paths from /proc/self/cgroup.
type cgroupPaths struct {
	v1Cpuset string // the path in the v1 hierarchy that has the cpuset controller
	v2       string // the path in the unified (v2) hierarchy
	hasV1    bool
	hasV2    bool
}

// parseProcCgroup reads /proc/self/cgroup: one "hierarchy-ID:controllers:path" line per
// hierarchy; the unified hierarchy is "0::path". Malformed lines are skipped, as the
// kernel never writes them and a partial answer beats none.
func parseProcCgroup(s string) cgroupPaths {
	var p cgroupPaths
	for line := range strings.Lines(s) {
		id, rest, ok := strings.Cut(strings.TrimRight(line, "\n"), ":")
		ctrls, cgPath, ok2 := strings.Cut(rest, ":")
		if !ok || !ok2 || !strings.HasPrefix(cgPath, "/") {
			continue
		}
		switch {
		case id == "0" && ctrls == "":
			p.v2, p.hasV2 = cgPath, true
		case hasElem(ctrls, "cpuset"):
			p.v1Cpuset, p.hasV1 = cgPath, true
		}
	}
	return p
}

// cgroupMount is where a cgroup hierarchy is mounted: root is the hierarchy's path at
// the mount point.
type cgroupMount struct {
	root, dir string
}

// cgroupMounts holds the cgroup mounts found in /proc/self/mountinfo.
type cgroupMounts struct {
	v1Cpuset, v2 cgroupMount
	hasV1, hasV2 bool
}

// parseMountinfo finds the v2 mount and the v1 mount carrying the cpuset controller in
// /proc/self/mountinfo lines: "36 35 98:0 ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE
// SOURCE SUPEROPTS". The first mount of each kind wins.
func parseMountinfo(s string) cgroupMounts {
	var m cgroupMounts
	for line := range strings.Lines(s) {
		f := strings.Fields(line)
		sep := -1
		for i := 6; i < len(f); i++ {
			if f[i] == "-" {
				sep = i
				break
			}
		}
		if sep < 0 || sep+1 >= len(f) {
			continue
		}
		mnt := cgroupMount{root: unescapeMount(f[3]), dir: unescapeMount(f[4])}
		super := ""
		if sep+3 < len(f) {
			super = f[sep+3]
		}
		switch fstype := f[sep+1]; {
		case fstype == "cgroup2" && !m.hasV2:
			m.v2, m.hasV2 = mnt, true
		case fstype == "cgroup" && !m.hasV1 && hasElem(super, "cpuset"):
			m.v1Cpuset, m.hasV1 = mnt, true
		}
	}
	return m
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space, \011, \012, \134).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// hasElem reports whether the comma-separated list has elem.
func hasElem(list, elem string) bool {
	for e := range strings.SplitSeq(list, ",") {
		if e == elem {
			return true
		}
	}
	return false
}

// cgroupDir joins a mount and a process's path in that hierarchy into an fs.FS path
// (no leading slash). A path outside the mount's root (a cgroup namespace shows paths
// relative to its own root) is taken as relative to the mount.
func cgroupDir(m cgroupMount, cgPath string) string {
	rel := cgPath
	if m.root != "/" {
		if r, ok := strings.CutPrefix(cgPath, m.root); ok && (r == "" || r[0] == '/') {
			rel = r
		}
	}
	// Cleaning rel as an absolute path first keeps ".." from climbing out of the mount.
	return strings.TrimPrefix(path.Join(m.dir, path.Clean("/"+rel)), "/")
}
