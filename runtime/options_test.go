package runtime

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/zokio/zokio/numa"
)

// TestNewRefusesBadOptions: values no runtime could honour are refused by New with an
// error that names the field, before any loop starts (issue 15, items 3 and 9: CPUs
// {-1} was silently dropped and an hour's BatchWait accepted).
func TestNewRefusesBadOptions(t *testing.T) {
	for _, c := range []struct {
		o    Options
		want string
		is   error
	}{
		{Options{CPUs: []int{-1}}, "CPU -1", ErrInvalidOptions},
		{Options{CPUs: []int{0, -3}}, "CPU -3", ErrInvalidOptions},
		{Options{CPUs: []int{0, 0}}, "CPU 0 twice", ErrInvalidOptions},
		{Options{CPUs: []int{1 << 20}}, "1048576", numa.ErrNotAllowed},
		{Options{Loops: -1}, "Loops", ErrInvalidOptions},
		{Options{BatchWait: -time.Millisecond}, "BatchWait", ErrInvalidOptions},
		{Options{BatchWait: MaxBatchWait + time.Nanosecond}, "MaxBatchWait", ErrInvalidOptions},
		{Options{BatchWait: time.Hour}, "BatchWait", ErrInvalidOptions},
		{Options{SpinBeforePark: -1}, "SpinBeforePark", ErrInvalidOptions},
		{Options{TickBudget: -1}, "TickBudget", ErrInvalidOptions},
	} {
		rt, err := New(c.o)
		if err == nil {
			_ = rt.Close(t.Context())
			t.Errorf("New(%+v) succeeded", c.o)
			continue
		}
		if rt != nil || !errors.Is(err, c.is) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("New(%+v): %v, %v; want nil and an error matching %v that names %q", c.o, rt, err, c.is, c.want)
		}
	}
}
