package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The scale program runs every part on every system with a tiny N and
// prints the table, with nothing left running.
func TestRunTiny(t *testing.T) {
	var out bytes.Buffer
	if err := run([]string{"-n", "200", "-d", "100ms", "-interval", "50ms", "-sparse", "20", "-spread", "20ms", "-lead", "30ms", "-wake-samples", "4"}, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"bytes/resource", "goroutines/resource", "CPU µs/check", "checks ran/expected",
		"check lateness p99 µs", "sparse failure→restart p99 µs", "storm failure→restart p99 µs",
		"storm restarts lost", "time-out lateness (spread) p99 µs", "time-out lateness (one deadline) p99 µs",
		"ours/seed", "ours/afterfunc", "ours/heap", "idle processor wake-up:",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the table has no %q:\n%s", want, out.String())
		}
	}
}

// -cpuprofile and -trace write a CPU profile and an execution trace of the
// run.
func TestRunRecords(t *testing.T) {
	dir := t.TempDir()
	cpu, tr := filepath.Join(dir, "scale.cpu"), filepath.Join(dir, "scale.trace")
	if err := run([]string{"-n", "50", "-d", "50ms", "-interval", "25ms", "-parts", "checks", "-systems", "ours", "-wake-samples", "0", "-cpuprofile", cpu, "-trace", tr}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{cpu, tr} {
		fi, err := os.Stat(file)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() == 0 {
			t.Errorf("%s is empty", file)
		}
	}
}

func TestRunRefusesUnknown(t *testing.T) {
	for _, args := range [][]string{{"-parts", "nope"}, {"-systems", "ours,nope"}, {"-n", "0"}} {
		if err := run(args, &bytes.Buffer{}); err == nil {
			t.Errorf("run(%q) = nil, want an error", args)
		}
	}
}
