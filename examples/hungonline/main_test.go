package main

import (
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The quick start tells its story in order and ends closed.
func TestQuickstart(t *testing.T) {
	var b strings.Builder
	if err := run(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"Online() returned at once: OnlinePending",
		"OnlinePending → Failed — Online did not return within 3m0s: resource: pending timeout",
		"pending timeout: true",
		"event #3 Terminated",
		"after Terminate the resource is Failed",
		"Failed → OnlinePending",
		"second Online: Online; IsAlive (cached, never blocks): <nil>",
		"Online → OfflinePending",
		"Offline → Unknown",
		"closed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
