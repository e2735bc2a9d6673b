//go:build linux

package main

import (
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The demo shows the kill, the report that saw it (R23), the restart (R31)
// and a clean shutdown (R38).
func TestDemo(t *testing.T) {
	var b strings.Builder
	if err := run(t.Context(), &b); err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	out := b.String()
	for _, want := range []string{
		"killing it from outside with SIGKILL",
		"sleeper Report: Online → Failed (process ",
		"was killed by signal 9 (killed))",
		"Failed → OnlinePending",
		"restarts: 1, failures: 1",
		"Online → OfflinePending",
		"OfflinePending → Offline",
		"done: the process is stopped and its pid file removed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
