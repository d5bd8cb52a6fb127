package driver

import (
	"errors"
	"strings"
	"syscall"
	"testing"
)

// TestEpermReasons: EPERM from io_uring_setup is explained by the sysctl when it
// forbids io_uring (either level, as the file reads with its newline), and as a
// seccomp filter otherwise; the error names the errno.
func TestEpermReasons(t *testing.T) {
	for _, c := range []struct{ sysctl, want string }{
		{"2\n", "kernel.io_uring_disabled=2 forbids io_uring for every process"},
		{"1\n", "kernel.io_uring_disabled=1 allows io_uring only to members of kernel.io_uring_group"},
		{"0\n", "a seccomp filter"},
		{"", "a seccomp filter"},
	} {
		if got := epermReasonFor(c.sysctl); !strings.HasPrefix(got, c.want) {
			t.Errorf("epermReasonFor(%q) = %q, want %q", c.sysctl, got, c.want)
		}
	}
	err := classify(syscall.EPERM)
	if !strings.HasPrefix(err.Error(), "io_uring unavailable (EPERM: operation not permitted): ") {
		t.Errorf("classify(EPERM) says %q", err)
	}
}

// TestClassifyPassesOtherErrors: only the errnos that mean "io_uring cannot be used
// here" become ErrUnavailable (which makes Open fall back to epoll); any other error,
// an errno or not, passes through unchanged, so that it is reported, not hidden by a
// fallback.
func TestClassifyPassesOtherErrors(t *testing.T) {
	other := errors.New("not an errno")
	for _, err := range []error{other, syscall.EINVAL, syscall.EFAULT} {
		if got := classify(err); got != err || errors.Is(got, ErrUnavailable) {
			t.Errorf("classify(%v) = %v", err, got)
		}
	}
	for _, e := range []syscall.Errno{syscall.ENOSYS, syscall.EPERM, syscall.EACCES, syscall.ENOMEM} {
		if got := classify(e); !errors.Is(got, ErrUnavailable) || !errors.Is(got, e) || !errors.Is(got, errors.ErrUnsupported) {
			t.Errorf("classify(%v) = %v, want ErrUnavailable wrapping it", e, got)
		}
	}
}
