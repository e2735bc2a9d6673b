//go:build linux

package process_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/resdll/resdll/examples/process"
	"github.com/resdll/resdll/monitor"
	"github.com/resdll/resdll/properties"
	"github.com/resdll/resdll/resource"
	"github.com/resdll/resdll/resource/resourcetest"
	"github.com/resdll/resdll/wrapper"
)

var sleeper = []string{"sleep", "1000"}

// A process killed from outside is seen through the notifier, not a health
// check (they are off), and the monitor restarts it: a new process, a new
// pid file (R23, R31).
func TestKilledFromOutsideMonitorRestarts(t *testing.T) {
	ctx := bounded(t)
	dir := t.TempDir()
	m, err := monitor.New(monitor.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.RegisterType(process.Type()); err != nil {
		t.Fatal(err)
	}
	sub := m.Subscribe(0)
	policy := monitor.Policy{
		Policy:       wrapper.Policy{PendingTimeout: 5 * time.Second, IsAliveInterval: resource.Never, LooksAliveInterval: resource.Never},
		RestartDelay: resource.NoDelay,
	}
	if err := m.Add(ctx, monitor.Spec{Name: "sleeper", Type: process.TypeName, Properties: values(t, dir, sleeper), Policy: policy}); err != nil {
		t.Fatal(err)
	}
	next := func(want func(resource.Event) bool) resource.Event {
		t.Helper()
		for {
			select {
			case e := <-sub.C():
				if want(e) {
					return e
				}
			case <-ctx.Done():
				t.Fatalf("waiting for an event: %v", ctx.Err())
			}
		}
	}
	to := func(s resource.State) func(resource.Event) bool {
		return func(e resource.Event) bool { return e.Kind == resource.StateChanged && e.To == s }
	}

	if _, err := m.Online("sleeper"); err != nil {
		t.Fatal(err)
	}
	next(to(resource.Online))
	first := readPid(t, dir, "sleeper")

	if err := syscall.Kill(first.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	failed := next(to(resource.Failed))
	if failed.Op != resource.OpReport || failed.From != resource.Online { // R23: the notifier, not a check
		t.Errorf("failure event %v: want Online → Failed by Report", failed)
	}
	if failed.Err == nil || !strings.Contains(failed.Err.Error(), "killed by signal 9") {
		t.Errorf("failure error %v: want it to say the process was killed by signal 9", failed.Err)
	}
	next(to(resource.Online)) // R31: restarted
	second := readPid(t, dir, "sleeper")
	if second.Pid == first.Pid || !alive(second.Pid) {
		t.Errorf("after the restart the pid file names %d (alive %v); the killed process was %d", second.Pid, alive(second.Pid), first.Pid)
	}
	if _, ok := readStat(first.Pid); ok {
		t.Errorf("the killed process %d is still in /proc: it was not reaped", first.Pid)
	}
	st, err := m.Status("sleeper")
	if err != nil {
		t.Fatal(err)
	}
	if st.Restarts != 1 || st.Failures != 1 {
		t.Errorf("status: %d restarts, %d failures; want 1 and 1", st.Restarts, st.Failures)
	}

	if err := m.Shutdown(ctx); err != nil { // R38
		t.Fatal(err)
	}
	sub.Close()
	if alive(second.Pid) {
		t.Errorf("process %d runs after Shutdown", second.Pid)
	}
	noPidFile(t, dir, "sleeper")
	noGoroutines(t)
}

// An Offline that hangs (the program and its child ignore SIGTERM) is
// escalated at the pending timeout to Terminate, which kills the whole
// process group (R16).
func TestOfflineHangsTerminateKillsGroup(t *testing.T) {
	ctx := bounded(t)
	dir := t.TempDir()
	fifo, read := pipe(t, dir)
	script := `trap "" TERM; sleep 1000 & echo $! > ` + fifo + `; wait`
	p, w, rec := host(t, values(t, dir, []string{"/bin/sh", "-c", script}),
		wrapper.Policy{PendingTimeout: 300 * time.Millisecond, TerminateTimeout: 5 * time.Second})
	online(t, w)
	leader := p.Pid()
	child := atoi(t, read())
	if got := groupAlive(t, leader); len(got) != 2 {
		t.Fatalf("group %d has %v; want the shell %d and its child %d", leader, got, leader, child)
	}

	if _, err := w.Offline(); err != nil {
		t.Fatal(err)
	}
	ev, err := rec.Wait(ctx, resourcetest.Match{From: resource.OfflinePending, To: resource.Offline, Forced: true}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !ev.Forced {
		t.Errorf("event %v: want forced (R16)", ev)
	}
	term, err := rec.Wait(ctx, resourcetest.OfKind(resource.Terminated), 1)
	if err != nil {
		t.Fatal(err)
	}
	if term.Err != nil {
		t.Errorf("the Terminator failed: %v", term.Err)
	}
	if got := groupAlive(t, leader); len(got) > 0 {
		t.Errorf("group %d still has %v after Terminate", leader, got)
	}
	if alive(child) {
		t.Errorf("the shell's child %d survived Terminate", child)
	}
	noPidFile(t, dir, "svc")
	if err := rec.CheckSequence(); err != nil {
		t.Error(err)
	}
}

// A fresh resource in a fresh wrapper finds the running process through the
// pid file and adopts it with Probe (R7): it then watches it (an exit is
// reported, R23) and stops it as if it had started it.
func TestProbeAdopts(t *testing.T) {
	for _, tc := range []struct {
		name string
		stop func(ctx context.Context, t *testing.T, w *wrapper.Wrapper, rec *resourcetest.Recorder, pid int)
	}{
		{"Offline", func(ctx context.Context, t *testing.T, w *wrapper.Wrapper, rec *resourcetest.Recorder, _ int) {
			if _, err := w.Offline(); err != nil {
				t.Fatal(err)
			}
			if _, err := rec.Wait(ctx, resourcetest.To(resource.Offline), 1); err != nil {
				t.Fatal(err)
			}
			rec.AssertTransitions(t, "Offline→Online", "Online→OfflinePending", "OfflinePending→Offline")
		}},
		{"Terminate", func(ctx context.Context, t *testing.T, w *wrapper.Wrapper, rec *resourcetest.Recorder, _ int) {
			if err := w.Terminate(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := rec.Wait(ctx, resourcetest.To(resource.Offline), 1); err != nil {
				t.Fatal(err)
			}
			rec.AssertTransitions(t, "Offline→Online", "Online→Offline")
		}},
		{"KilledFromOutside", func(ctx context.Context, t *testing.T, w *wrapper.Wrapper, rec *resourcetest.Recorder, pid int) {
			if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			if _, err := rec.Wait(ctx, resourcetest.Match{From: resource.Online, To: resource.Failed, Op: resource.OpReport}, 1); err != nil {
				t.Fatal(err) // R23, for an adopted process too
			}
			if err := w.Terminate(ctx); err != nil { // the clean-up before a restart
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := bounded(t)
			dir := t.TempDir()
			vals := values(t, dir, sleeper)

			// The first program: starts the process and leaves it running.
			p1, w1, _ := host(t, vals, wrapper.Policy{})
			online(t, w1)
			pid := p1.Pid()
			t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL); reap(t, pid) }) // it was detached: the test is its parent
			p1.Detach()
			if err := w1.Close(ctx); err != nil {
				t.Fatal(err)
			}
			if !alive(pid) {
				t.Fatalf("process %d did not survive the detached resource's Close", pid)
			}

			// The second: a fresh resource and wrapper adopt it.
			p2, w2, rec := host(t, vals, wrapper.Policy{})
			state, err := w2.Probe(ctx)
			if err != nil || state != resource.Online {
				t.Fatalf("Probe: %v, %v; want Online, nil", state, err)
			}
			if p2.Pid() != pid {
				t.Fatalf("adopted pid %d, want %d", p2.Pid(), pid)
			}
			tc.stop(ctx, t, w2, rec, pid)
			if alive(pid) {
				t.Errorf("process %d still runs", pid)
			}
			noPidFile(t, dir, "svc")
		})
	}
}

// IsAlive says "not running" (an error wrapping resource.ErrNotRunning) when
// the process is cleanly gone, and gives a plain error when something is
// odd; Probe turns these into Offline and Failed (R7).
func TestIsAlive(t *testing.T) {
	t.Run("NoPidFile", func(t *testing.T) {
		dir := t.TempDir()
		p, w, _ := host(t, values(t, dir, sleeper), wrapper.Policy{})
		if err := p.IsAlive(t.Context()); !errors.Is(err, resource.ErrNotRunning) {
			t.Errorf("IsAlive: %v, want ErrNotRunning", err)
		}
		if state, err := w.Probe(t.Context()); state != resource.Offline || !errors.Is(err, resource.ErrNotRunning) {
			t.Errorf("Probe: %v, %v; want Offline, ErrNotRunning", state, err)
		}
	})

	t.Run("AfterOffline", func(t *testing.T) {
		dir := t.TempDir()
		p, w, _ := host(t, values(t, dir, sleeper), wrapper.Policy{})
		online(t, w)
		if err := p.IsAlive(t.Context()); err != nil {
			t.Errorf("IsAlive while Online: %v", err)
		}
		if _, err := w.Offline(); err != nil {
			t.Fatal(err)
		}
		if err := w.Wait(bounded(t)); err != nil {
			t.Fatal(err)
		}
		if err := p.IsAlive(t.Context()); !errors.Is(err, resource.ErrNotRunning) {
			t.Errorf("IsAlive after Offline: %v, want ErrNotRunning", err)
		}
	})

	t.Run("ExitedWhileRunning", func(t *testing.T) {
		ctx := bounded(t)
		dir := t.TempDir()
		p, _ := open(t, "svc", values(t, dir, sleeper))
		reports := make(chan error, 1)
		p.SetFailureReporter(func(err error) { reports <- err })
		if err := p.Online(ctx); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Kill(p.Pid(), syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		select {
		case <-reports:
		case <-ctx.Done():
			t.Fatal("no report of the exit")
		}
		err := p.IsAlive(ctx)
		if !errors.Is(err, resource.ErrNotRunning) || !strings.Contains(err.Error(), "killed by signal 9") {
			t.Errorf("IsAlive: %v; want ErrNotRunning, killed by signal 9", err)
		}
		if err := p.Terminate(ctx); err != nil { // the clean-up
			t.Fatal(err)
		}
	})

	// The pid file of a detached process, rewritten by each case.
	for _, tc := range []struct {
		name       string
		edit       func(*process.Record)
		notRunning bool
		want       string
	}{
		{"PidReused", func(r *process.Record) { r.Start++ }, true, "is another process now"},
		{"EarlierBoot", func(r *process.Record) { r.Boot = "00000000-0000-0000-0000-000000000000" }, true, "before the last boot"},
		{"CommandLineDiffers", func(r *process.Record) { r.Argv = []string{"sleep", "999"} }, false, "not the recorded"},
		{"Gone", func(r *process.Record) { r.Pid, r.Pgid = 0x3ffffe, 0x3ffffe }, true, "is gone"},
		{"GroupDiffers", func(r *process.Record) { r.Pgid++ }, false, "not the recorded"},
		{"ThisProgram", func(r *process.Record) {
			me, _ := readStat(os.Getpid())
			argv, _ := os.ReadFile("/proc/self/cmdline")
			r.Pid, r.Pgid, r.Start = os.Getpid(), me.pgrp, me.start
			r.Argv = strings.Split(strings.TrimSuffix(string(argv), "\x00"), "\x00")
		}, false, "names this program"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			vals := values(t, dir, sleeper)
			p1, _ := open(t, "svc", vals)
			if err := p1.Online(bounded(t)); err != nil {
				t.Fatal(err)
			}
			pid := p1.Pid()
			t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL); reap(t, pid) })
			p1.Detach()
			rec := readPid(t, dir, "svc")
			tc.edit(&rec)
			writeRecord(t, process.PidFilePath(dir, "svc"), rec)

			p2, w, _ := host(t, vals, wrapper.Policy{})
			err := p2.IsAlive(t.Context())
			if err == nil || errors.Is(err, resource.ErrNotRunning) != tc.notRunning || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("IsAlive: %v; want an error saying %q, ErrNotRunning %v", err, tc.want, tc.notRunning)
			}
			want := resource.Failed
			if tc.notRunning {
				want = resource.Offline
			}
			if state, _ := w.Probe(t.Context()); state != want {
				t.Errorf("Probe: %v, want %v", state, want)
			}
			if p2.Pid() != 0 {
				t.Errorf("the resource adopted %d", p2.Pid())
			}
		})
	}

	t.Run("BadPidFile", func(t *testing.T) {
		dir := t.TempDir()
		p, _ := open(t, "svc", values(t, dir, sleeper))
		if err := os.WriteFile(process.PidFilePath(dir, "svc"), []byte("garbage\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		err := p.IsAlive(t.Context())
		if err == nil || errors.Is(err, resource.ErrNotRunning) {
			t.Errorf("IsAlive with a garbled pid file: %v, want a plain error", err)
		}
		if err := p.Online(bounded(t)); err == nil || !strings.Contains(err.Error(), "is not a pid") {
			t.Errorf("Online with a garbled pid file: %v, want it refused", err)
		}
	})
}

// writeRecord writes a pid file in the documented format.
func writeRecord(t *testing.T, path string, rec process.Record) {
	t.Helper()
	quoted := make([]string, len(rec.Argv))
	for i, a := range rec.Argv {
		quoted[i] = fmt.Sprintf("%q", a)
	}
	data := fmt.Sprintf("%d\n{\"version\":%d,\"pid\":%d,\"pgid\":%d,\"start\":%d,\"boot\":%q,\"argv\":[%s]}\n",
		rec.Pid, rec.Version, rec.Pid, rec.Pgid, rec.Start, rec.Boot, strings.Join(quoted, ","))
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

// Online waits for the ReadyFile, removing a stale one first; a program
// that exits before it is ready fails the Online with its exit status; one
// that is never ready is killed when the pending timeout cancels Online
// (R11); StartGrace catches a program that dies soon after its start.
func TestReadiness(t *testing.T) {
	t.Run("ReadyFile", func(t *testing.T) {
		dir := t.TempDir()
		ready := join(dir, "ready")
		if err := os.WriteFile(ready, []byte("stale\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		script := `sleep 0.1; echo fresh > ` + ready + `.tmp && mv ` + ready + `.tmp ` + ready + `; exec sleep 1000`
		_, w, _ := host(t, values(t, dir, []string{"/bin/sh", "-c", script}, process.PropReadyFile, ready), wrapper.Policy{PendingTimeout: 5 * time.Second})
		online(t, w)
		if data, err := os.ReadFile(ready); err != nil || string(data) != "fresh\n" {
			t.Errorf("ready file when Online returned: %q, %v; want the program's", data, err)
		}
	})

	t.Run("ExitsBeforeReady", func(t *testing.T) {
		dir := t.TempDir()
		p, _ := open(t, "svc", values(t, dir, []string{"/bin/sh", "-c", "exit 3"}, process.PropReadyFile, join(dir, "ready")))
		err := p.Online(bounded(t))
		if err == nil || !strings.Contains(err.Error(), "exited with status 3 before it was ready") {
			t.Errorf("Online: %v; want exited with status 3 before it was ready", err)
		}
		noPidFile(t, dir, "svc")
		if p.Pid() != 0 {
			t.Errorf("the resource still tracks %d", p.Pid())
		}
		noGoroutines(t)
	})

	t.Run("NeverReady", func(t *testing.T) {
		ctx := bounded(t)
		dir := t.TempDir()
		fifo, read := pipe(t, dir)
		script := `echo $$ > ` + fifo + `; exec sleep 1000`
		_, w, rec := host(t, values(t, dir, []string{"/bin/sh", "-c", script}, process.PropReadyFile, join(dir, "ready")),
			wrapper.Policy{PendingTimeout: 300 * time.Millisecond})
		if _, err := w.Online(); err != nil {
			t.Fatal(err)
		}
		pid := atoi(t, read())
		ev, err := rec.Wait(ctx, resourcetest.To(resource.Failed), 1)
		if err != nil {
			t.Fatal(err)
		}
		if !errors.Is(ev.Err, resource.ErrPendingTimeout) {
			t.Errorf("failure %v: want the pending timeout (R11)", ev.Err)
		}
		if err := w.Close(ctx); err != nil { // R18: waits for the abandoned Online, which killed the program
			t.Fatal(err)
		}
		if alive(pid) {
			t.Errorf("process %d runs after the Online that started it timed out", pid)
		}
		noPidFile(t, dir, "svc")
	})

	t.Run("StartGrace", func(t *testing.T) {
		dir := t.TempDir()
		p, _ := open(t, "svc", values(t, dir, []string{"/bin/sh", "-c", "sleep 0.1; exit 4"}, process.PropStartGrace, 5*time.Second))
		if err := p.Online(bounded(t)); err == nil || !strings.Contains(err.Error(), "exited with status 4 before it was ready") {
			t.Errorf("Online: %v; want exited with status 4 before it was ready", err)
		}
		p2, _ := open(t, "svc2", values(t, dir, sleeper, process.PropStartGrace, 50*time.Millisecond))
		if err := p2.Online(bounded(t)); err != nil {
			t.Errorf("Online of a program that survives its grace: %v", err)
		}
	})
}

// Bad properties are refused when the resource is opened, each problem
// naming its property (R52), as resource.ErrNotConfigured; a missing or
// unusable program, or a missing directory, at Online is
// resource.ErrNotInstalled or resource.ErrPermission.
func TestBadProperties(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		vals map[string]any
		prop string
	}{
		{"NoCommand", map[string]any{process.PropStateDir: dir}, process.PropCommand},
		{"EmptyCommand", map[string]any{process.PropCommand: []string{}, process.PropStateDir: dir}, process.PropCommand},
		{"EmptyProgram", map[string]any{process.PropCommand: []string{""}, process.PropStateDir: dir}, process.PropCommand},
		{"RelativeProgram", map[string]any{process.PropCommand: []string{"./run"}, process.PropStateDir: dir}, process.PropCommand},
		{"NoStateDir", map[string]any{process.PropCommand: sleeper}, process.PropStateDir},
		{"RelativeStateDir", map[string]any{process.PropCommand: sleeper, process.PropStateDir: "run/state"}, process.PropStateDir},
		{"RelativeReadyFile", map[string]any{process.PropCommand: sleeper, process.PropStateDir: dir, process.PropReadyFile: "ready"}, process.PropReadyFile},
		{"BadEnvironment", map[string]any{process.PropCommand: sleeper, process.PropStateDir: dir, process.PropEnvironment: []string{"A=1", "NOEQUALS"}}, process.PropEnvironment},
		{"StopSignalKill", map[string]any{process.PropCommand: sleeper, process.PropStateDir: dir, process.PropStopSignal: "KILL"}, process.PropStopSignal},
		{"NegativeGrace", map[string]any{process.PropCommand: sleeper, process.PropStateDir: dir, process.PropStartGrace: -time.Second}, process.PropStartGrace},
		{"WrongKind", map[string]any{process.PropCommand: "sleep 1000", process.PropStateDir: dir}, process.PropCommand},
		{"Unknown", map[string]any{process.PropCommand: sleeper, process.PropStateDir: dir, "Colour": "blue"}, "Colour"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vals, err := properties.NewValues(tc.vals)
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = process.Type().Open(t.Context(), "svc", vals)
			if !errors.Is(err, resource.ErrNotConfigured) || !errors.Is(err, properties.ErrInvalid) || !strings.Contains(err.Error(), `"`+tc.prop+`"`) {
				t.Errorf("Open: %v; want ErrNotConfigured and ErrInvalid naming %q", err, tc.prop)
			}
		})
	}

	t.Run("EveryProblemAtOnce", func(t *testing.T) {
		vals, _ := properties.NewValues(map[string]any{process.PropStateDir: "rel", process.PropLogFile: "out.log"})
		_, err := process.New("svc", vals, process.Options{})
		for _, prop := range []string{process.PropCommand, process.PropStateDir, process.PropLogFile} {
			if err == nil || !strings.Contains(err.Error(), `"`+prop+`"`) {
				t.Errorf("New: %v; want it to name %q", err, prop)
			}
		}
	})

	notExec := join(dir, "not-executable")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		argv  []string
		extra []any
		want  error
	}{
		{"MissingProgram", []string{"/nonexistent/program"}, nil, resource.ErrNotInstalled},
		{"ProgramNotInPath", []string{"resdll-no-such-program"}, nil, resource.ErrNotInstalled},
		{"NotExecutable", []string{notExec}, nil, resource.ErrPermission},
		{"MissingWorkingDirectory", sleeper, []any{process.PropWorkingDirectory, join(dir, "nowhere")}, resource.ErrNotInstalled},
		{"MissingLogDirectory", sleeper, []any{process.PropLogFile, join(dir, "nowhere/out.log")}, resource.ErrNotInstalled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, _ := open(t, "svc", values(t, dir, tc.argv, tc.extra...))
			if err := p.Online(bounded(t)); !errors.Is(err, tc.want) {
				t.Errorf("Online: %v; want %v", err, tc.want)
			}
			if p.Pid() != 0 {
				t.Errorf("a process %d runs", p.Pid())
			}
		})
	}
}

// StopSignal is reloadable: a new value set while Online applies at once
// and the next Offline sends it (R58). A change of another property is
// stored for the next Online. Once the program has exited, Offline kills
// what is left of its group and waits for it.
func TestStopSignalReloadable(t *testing.T) {
	ctx := bounded(t)
	dir := t.TempDir()
	ready := join(dir, "ready")
	script := `trap "" TERM; trap "exit 0" INT; sleep 1000 & : > ` + ready + `; wait`
	vals := values(t, dir, []string{"/bin/sh", "-c", script}, process.PropReadyFile, ready)
	p, w, rec := host(t, vals, wrapper.Policy{PendingTimeout: 5 * time.Second})
	online(t, w)
	leader := p.Pid()

	changed := vals.Clone()
	if err := changed.Set(process.PropStopSignal, "INT"); err != nil {
		t.Fatal(err)
	}
	if err := w.SetProperties(ctx, changed); err != nil {
		t.Fatalf("SetProperties of the reloadable StopSignal: %v", err)
	}
	other := changed.Clone()
	if err := other.Set(process.PropCommand, sleeper); err != nil {
		t.Fatal(err)
	}
	if err := w.SetProperties(ctx, other); !errors.Is(err, properties.ErrStored) {
		t.Errorf("SetProperties of Command while Online: %v, want ErrStored", err)
	}
	if _, err := w.Offline(); err != nil {
		t.Fatal(err)
	}
	ev, err := rec.Wait(ctx, resourcetest.To(resource.Offline), 1)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Forced {
		t.Errorf("Offline was forced: the program did not get SIGINT")
	}
	// The shell exited on SIGINT; its child, which ignores it, was killed
	// with the rest of the group before Offline returned.
	if got := groupAlive(t, leader); len(got) > 0 {
		t.Errorf("group %d still has %v after Offline", leader, got)
	}
}

// Close kills a process still running and leaves no goroutine (R18, R42).
func TestCloseKills(t *testing.T) {
	dir := t.TempDir()
	p, _ := open(t, "svc", values(t, dir, sleeper))
	if err := p.Online(bounded(t)); err != nil {
		t.Fatal(err)
	}
	pid := p.Pid()
	noGoroutinesOK := len(resourcetest.GoroutinesIn(pkg+".")) == 1 // the watcher
	if !noGoroutinesOK {
		t.Errorf("goroutines while running: %v, want the one watcher", resourcetest.GoroutinesIn(pkg+"."))
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := readStat(pid); ok {
		t.Errorf("process %d is still in /proc after Close", pid)
	}
	noPidFile(t, dir, "svc")
	noGoroutines(t)
	if err := p.Close(); err != nil { // R42
		t.Errorf("second Close: %v", err)
	}
	if err := p.Online(bounded(t)); !errors.Is(err, resource.ErrClosed) {
		t.Errorf("Online after Close: %v, want ErrClosed", err)
	}
}

// A fresh program's Online finds its instance running and adopts it rather
// than start a second one.
func TestOnlineAdopts(t *testing.T) {
	dir := t.TempDir()
	vals := values(t, dir, sleeper)
	p1, _ := open(t, "svc", vals)
	if err := p1.Online(bounded(t)); err != nil {
		t.Fatal(err)
	}
	pid := p1.Pid()
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL); reap(t, pid) })
	p1.Detach()
	if err := p1.Online(bounded(t)); !errors.Is(err, process.ErrDetached) {
		t.Errorf("Online after Detach: %v, want ErrDetached", err)
	}

	p2, _ := open(t, "svc", vals)
	if err := p2.Online(bounded(t)); err != nil {
		t.Fatal(err)
	}
	if p2.Pid() != pid || len(groupAlive(t, pid)) != 1 {
		t.Errorf("Online runs %d, group %v; want the running %d adopted, alone", p2.Pid(), groupAlive(t, pid), pid)
	}
	if err := p2.Offline(bounded(t)); err != nil {
		t.Fatal(err)
	}
	if alive(pid) {
		t.Errorf("process %d runs after Offline", pid)
	}
}

// Environment, WorkingDirectory and LogFile reach the program.
func TestEnvironmentDirectoryLog(t *testing.T) {
	dir := t.TempDir()
	log, ready := join(dir, "out.log"), join(dir, "ready")
	script := `echo "$GREETING from $(pwd)"; echo oops >&2; : > ` + ready + `; exec sleep 1000`
	p, _ := open(t, "svc", values(t, dir, []string{"/bin/sh", "-c", script},
		process.PropEnvironment, []string{"GREETING=hi", "GREETING=hello"}, process.PropWorkingDirectory, dir,
		process.PropLogFile, log, process.PropReadyFile, ready))
	if err := p.Online(bounded(t)); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	if want := "hello from " + dir + "\noops\n"; string(data) != want {
		t.Errorf("log %q, want %q", data, want)
	}
}
