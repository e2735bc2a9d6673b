//go:build linux

// Command processdemo hosts a real process, `sleep 1000`, under a monitor on
// the real clock:
//
//  1. the monitor brings it online: it runs in a process group of its own,
//     named by a pid file;
//  2. the demo kills it from outside (kill -9): the resource sees the exit
//     at once and reports it (R23), no health check needed;
//  3. the monitor terminates what is left and restarts it (R31): a new
//     process, a new pid;
//  4. Shutdown takes it offline with SIGTERM (R38).
//
// It takes well under a second. Run it with:
//
//	go run ./examples/process/cmd/processdemo
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	"github.com/resdll/resdll/examples/process"
	"github.com/resdll/resdll/monitor"
	"github.com/resdll/resdll/properties"
	"github.com/resdll/resdll/resource"
	"github.com/resdll/resdll/wrapper"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "processdemo:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	dir, err := os.MkdirTemp("", "processdemo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	m, err := monitor.New(monitor.Options{})
	if err != nil {
		return err
	}
	if err := m.RegisterType(process.Type()); err != nil {
		return err
	}
	events := m.Subscribe(0)
	vals, err := properties.NewValues(map[string]any{
		process.PropCommand:  []string{"sleep", "1000"},
		process.PropStateDir: dir,
	})
	if err != nil {
		return err
	}
	policy := monitor.Policy{
		// No periodic health check: the process's exit is reported (R23).
		Policy:       wrapper.Policy{PendingTimeout: 5 * time.Second, IsAliveInterval: resource.Never, LooksAliveInterval: resource.Never},
		RestartDelay: 100 * time.Millisecond,
	}
	if err := m.Add(ctx, monitor.Spec{Name: "sleeper", Type: process.TypeName, Properties: vals, Policy: policy}); err != nil {
		return err
	}

	var t0 time.Time
	show := func(e resource.Event) {
		if t0.IsZero() {
			t0 = e.Time
		}
		line := fmt.Sprintf("%7.1fms  %s %v: %v → %v", float64(e.Time.Sub(t0).Microseconds())/1000, e.Resource, e.Op, e.From, e.To)
		if e.Kind != resource.StateChanged {
			line = fmt.Sprintf("%7.1fms  %s %v: %v", float64(e.Time.Sub(t0).Microseconds())/1000, e.Resource, e.Op, e.Kind)
		}
		if e.Err != nil {
			line += fmt.Sprintf(" (%v)", e.Err)
		}
		fmt.Fprintln(out, line)
	}
	until := func(s resource.State) error { // print events until the resource reaches s
		for {
			select {
			case e, ok := <-events.C():
				if !ok {
					return errors.New("the subscription ended")
				}
				show(e)
				if e.Kind == resource.StateChanged && e.To == s {
					return nil
				}
			case <-ctx.Done():
				return fmt.Errorf("waiting for %v: %w", s, ctx.Err())
			}
		}
	}
	pid := func() int {
		rec, err := process.ReadPidFile(process.PidFilePath(dir, "sleeper"))
		if err != nil {
			return 0
		}
		return rec.Pid
	}

	if _, err := m.Online("sleeper"); err != nil {
		return err
	}
	if err := until(resource.Online); err != nil {
		return err
	}
	first := pid()
	fmt.Fprintf(out, "sleeper runs as pid %d; killing it from outside with SIGKILL\n", first)
	if err := syscall.Kill(first, syscall.SIGKILL); err != nil {
		return err
	}
	if err := until(resource.Failed); err != nil {
		return err
	}
	if err := until(resource.Online); err != nil {
		return err
	}
	st, err := m.Status("sleeper")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "restarted as pid %d (was %d); restarts: %d, failures: %d\n", pid(), first, st.Restarts, st.Failures)

	fmt.Fprintln(out, "shutting down")
	if err := m.Shutdown(ctx); err != nil {
		return err
	}
	// The last events may reach the subscription just after Shutdown
	// returns: print them up to the Close (Unknown).
	if err := until(resource.Unknown); err != nil {
		return err
	}
	events.Close()
	if pid() != 0 {
		return errors.New("the pid file is still there after Shutdown")
	}
	fmt.Fprintln(out, "done: the process is stopped and its pid file removed")
	return nil
}
