package numa

import (
	"strings"
	"testing"
)

func TestParseProcCgroup(t *testing.T) {
	p := parseProcCgroup("12:pids:/a\n3:cpuset,cpu:/docker/x\n0::/system.slice/y.service\nbroken\n5:memory\n")
	if !p.hasV1 || p.v1Cpuset != "/docker/x" || !p.hasV2 || p.v2 != "/system.slice/y.service" {
		t.Fatalf("parseProcCgroup = %+v", p)
	}
	if p := parseProcCgroup("0::/\n"); p.hasV1 || !p.hasV2 || p.v2 != "/" {
		t.Fatalf("v2 only: %+v", p)
	}
}

func TestParseMountinfo(t *testing.T) {
	m := parseMountinfo(`31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
34 31 0:31 /kubepods /sys/fs/cgroup/cpu\040set rw,relatime shared:5 - cgroup cgroup rw,cpuset
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
42 31 0:39 / /elsewhere rw - cgroup2 cgroup2 rw
short line
`)
	if !m.hasV1 || m.v1Cpuset != (cgroupMount{root: "/kubepods", dir: "/sys/fs/cgroup/cpu set"}) {
		t.Fatalf("v1 cpuset mount: %+v", m.v1Cpuset)
	}
	if !m.hasV2 || m.v2.dir != "/sys/fs/cgroup/unified" {
		t.Fatalf("v2 mount: %+v (the first one wins)", m.v2)
	}
}

func TestCgroupDir(t *testing.T) {
	for _, c := range []struct {
		m    cgroupMount
		path string
		want string
	}{
		{cgroupMount{"/", "/sys/fs/cgroup"}, "/a/b", "sys/fs/cgroup/a/b"},
		{cgroupMount{"/", "/sys/fs/cgroup"}, "/", "sys/fs/cgroup"},
		{cgroupMount{"/kubepods", "/sys/fs/cgroup/cpuset"}, "/kubepods/pod1", "sys/fs/cgroup/cpuset/pod1"},
		{cgroupMount{"/kubepods", "/sys/fs/cgroup/cpuset"}, "/kubepodsX", "sys/fs/cgroup/cpuset/kubepodsX"},
		{cgroupMount{"/", "/sys/fs/cgroup"}, "/../../etc", "sys/fs/cgroup/etc"}, // never escapes the mount
	} {
		if got := cgroupDir(c.m, c.path); got != c.want {
			t.Errorf("cgroupDir(%+v, %q) = %q, want %q", c.m, c.path, got, c.want)
		}
	}
}

// FuzzCgroupFiles feeds arbitrary /proc/self/cgroup and mountinfo text through the
// parsers and the path join: no panics, and the joined path is a relative fs.FS path.
func FuzzCgroupFiles(f *testing.F) {
	f.Add("3:cpuset:/docker/abc\n0::/\n", "34 31 0:31 / /sys/fs/cgroup/cpuset rw - cgroup cgroup rw,cpuset\n")
	f.Add("0::/a\\040b", `1 2 3 \101 /x\1 - cgroup2 c rw`)
	f.Fuzz(func(t *testing.T, cg, mi string) {
		p, m := parseProcCgroup(cg), parseMountinfo(mi)
		for _, try := range []struct {
			m cgroupMount
			p string
		}{{m.v1Cpuset, p.v1Cpuset}, {m.v2, p.v2}} {
			if d := cgroupDir(try.m, try.p); strings.HasPrefix(d, "/") {
				t.Fatalf("cgroupDir(%+v, %q) = %q: absolute", try.m, try.p, d)
			}
		}
	})
}
