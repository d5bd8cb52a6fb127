package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestHelpExitsZero: -h prints a command's flags and exits 0, as go's own tools do; a
// bad flag exits 2 with the flag package's explanation; neither starts a server.
func TestHelpExitsZero(t *testing.T) {
	for _, cmd := range []string{"echo", "http", "info"} {
		var out, errOut bytes.Buffer
		if rc := run([]string{cmd, "-h"}, &out, &errOut); rc != 0 {
			t.Errorf("zokio %s -h: exit %d, want 0 (stderr %q)", cmd, rc, errOut.String())
		}
		if !strings.Contains(out.String(), "-loops") {
			t.Errorf("zokio %s -h printed %q, want its flags", cmd, out.String())
		}
		if strings.Contains(errOut.String(), "help requested") {
			t.Errorf("zokio %s -h reported help as an error: %q", cmd, errOut.String())
		}
		out.Reset()
		errOut.Reset()
		if rc := run([]string{cmd, "-no-such-flag"}, &out, &errOut); rc != 2 {
			t.Errorf("zokio %s -no-such-flag: exit %d, want 2", cmd, rc)
		}
		if !strings.Contains(out.String(), "no-such-flag") {
			t.Errorf("zokio %s -no-such-flag printed %q, want the flag named", cmd, out.String())
		}
	}
}
