//go:build linux

package process

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"sync"
	"syscall"

	"github.com/benbjohnson/clock"

	"github.com/resdll/resdll/properties"
	"github.com/resdll/resdll/resource"
)

// Process is one resource of the Process type. It implements
// resource.Resource, resource.Terminator, resource.FailureNotifier,
// resource.PropertyOwner and io.Closer. The engine calls its entry points
// one at a time, except that Terminate may run beside an abandoned call
// (R5); its methods are safe for concurrent use, and a second Online while
// one runs fails rather than start a second process.
type Process struct {
	name  string
	clock clock.Clock
	log   *slog.Logger

	mu       sync.Mutex          // guards the fields below, and the guarded fields of every tracked
	cfg      config              // the property values in effect; ApplyProperties replaces them (R58)
	report   resource.ReportFunc // set by SetFailureReporter (R23)
	cur      *tracked            // the process started or adopted; nil when none
	detached bool
	closed   bool
}

// Compile-time checks of the optional interfaces.
var (
	_ resource.Terminator      = (*Process)(nil)
	_ resource.FailureNotifier = (*Process)(nil)
	_ resource.PropertyOwner   = (*Process)(nil)
	_ io.Closer                = (*Process)(nil)
)

// SetFailureReporter implements resource.FailureNotifier (R23).
func (p *Process) SetFailureReporter(report resource.ReportFunc) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.report = report
}

// ApplyProperties implements resource.PropertyOwner (R58): the new values
// take effect at the next Online, except StopSignal, which is reloadable and
// applies to the next Offline. Bad values are refused as New refuses them.
func (p *Process) ApplyProperties(_ context.Context, vals properties.Values) error {
	cfg, err := parseConfig(vals)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cfg = cfg
	return nil
}

// PidFile returns the path of the resource's pid file.
func (p *Process) PidFile() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return PidFilePath(p.cfg.stateDir, p.name)
}

// Pid returns the pid of the process the resource runs (started or
// adopted, and not yet stopped), or 0.
func (p *Process) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur == nil {
		return 0
	}
	return p.cur.rec.Pid
}

// Online starts the program, or adopts the instance the pid file names if
// it runs (R7), and returns once it is ready (see the package doc). A
// resource whose earlier process has exited cleans it up first.
func (p *Process) Online(ctx context.Context) error {
	p.mu.Lock()
	if err := p.usableLocked(); err != nil {
		p.mu.Unlock()
		return err
	}
	cfg, t := p.cfg, p.cur
	if t != nil && !t.gone && !exitedNow(t.pidfd) {
		// Still running (an earlier stop failed): it is online already.
		t.armed, t.stopping = true, false
		p.mu.Unlock()
		p.log.Info("already running", "op", resource.OpOnline, "pid", t.rec.Pid)
		return nil
	}
	p.mu.Unlock()
	if t != nil {
		if err := p.finish(ctx, t); err != nil {
			return fmt.Errorf("process: cleaning up after process %d: %w", t.rec.Pid, err)
		}
	}

	path := PidFilePath(cfg.stateDir, p.name)
	rec, err := ReadPidFile(path)
	switch {
	case err == nil:
		err := p.adopt(resource.OpOnline, rec, path)
		if err == nil {
			return nil // an earlier program's instance runs: it is ours now
		}
		if !errors.Is(err, resource.ErrNotRunning) {
			return err
		}
		// A stale pid file: start afresh, which replaces it.
	case errors.Is(err, fs.ErrNotExist):
	default:
		return fmt.Errorf("process: %w", err)
	}
	return p.start(ctx, cfg, path)
}

// usableLocked refuses the calls that would start or adopt a process after
// Close or Detach. Called with p.mu held.
func (p *Process) usableLocked() error {
	switch {
	case p.closed:
		return fmt.Errorf("process %q: %w", p.name, resource.ErrClosed)
	case p.detached:
		return fmt.Errorf("process %q: %w", p.name, ErrDetached)
	}
	return nil
}

// beginStop marks the current process as being stopped, so its exit is not
// reported, and returns it; nil when the resource runs none.
func (p *Process) beginStop() (*tracked, config) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur != nil {
		p.cur.stopping = true
	}
	return p.cur, p.cfg
}

// Offline sends StopSignal to the process group and waits for the process
// (the group's leader) to exit; then what is left of the group is sent
// SIGKILL and waited for, and the pid file removed. It returns ctx's error
// if ctx ends first: the wrapper then escalates to Terminate (R16). With
// no process it does nothing.
func (p *Process) Offline(ctx context.Context) error {
	t, cfg := p.beginStop()
	if t == nil {
		return nil
	}
	p.log.Info("stopping", "op", resource.OpOffline, "pid", t.rec.Pid, "signal", cfg.stopName)
	if err := p.signal(t, cfg.stopSignal); err != nil {
		return err
	}
	if err := awaitExit(ctx, t, "SIG"+cfg.stopName); err != nil {
		return err
	}
	return p.finish(ctx, t)
}

// Terminate implements resource.Terminator (R16, R17): SIGKILL to the
// process group, a wait for the process to exit (until ctx ends), and the
// clean-up of Offline. With no process it does nothing.
func (p *Process) Terminate(ctx context.Context) error {
	t, _ := p.beginStop()
	if t == nil {
		return nil
	}
	p.log.Info("killing", "op", resource.OpTerminate, "pid", t.rec.Pid)
	if err := p.signal(t, syscall.SIGKILL); err != nil {
		return err
	}
	if err := awaitExit(ctx, t, "SIGKILL"); err != nil {
		return err
	}
	return p.finish(ctx, t)
}

// IsAlive returns nil while the process runs, and an error wrapping
// resource.ErrNotRunning once it has exited. A resource that runs no
// process answers from the pid file (R7): no file, or a recorded process
// that is gone, is resource.ErrNotRunning; a recorded process that runs is
// adopted, and the answer is nil; anything odd (an unreadable or malformed
// file, a live process whose command line differs from the record) is a
// plain error.
func (p *Process) IsAlive(context.Context) error {
	p.mu.Lock()
	if err := p.usableLocked(); err != nil {
		p.mu.Unlock()
		return err
	}
	t, cfg := p.cur, p.cfg
	var gone bool
	var how string
	if t != nil {
		gone, how = t.gone, t.how
	}
	p.mu.Unlock()
	if t != nil && !gone && exitedNow(t.pidfd) {
		// The watcher has not got to it yet (or failed): ask the pidfd.
		gone, how = true, exitText(t.pidfd)
	}
	switch {
	case t != nil && gone:
		return fmt.Errorf("process %d %s: %w", t.rec.Pid, how, resource.ErrNotRunning)
	case t != nil:
		return nil
	}
	path := PidFilePath(cfg.stateDir, p.name)
	rec, err := ReadPidFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("process %q: no pid file %s: %w", p.name, path, resource.ErrNotRunning)
	case err != nil:
		return fmt.Errorf("process: %w", err)
	}
	return p.adopt(resource.OpIsAlive, rec, path)
}

// Detach stops watching the process and forgets it, leaving it running and
// its pid file in place, for a later program to adopt (R7). A host whose
// program ends while the process runs on (an OCF agent's start) calls it
// before closing the wrapper, whose Close would otherwise kill the process
// (R18). After Detach, Online and IsAlive return an error wrapping
// [ErrDetached], and Offline and Terminate do nothing.
//
// A detached child of this program that exits before this program does
// stays a zombie until this program ends, as any child nobody waits for.
func (p *Process) Detach() {
	p.mu.Lock()
	t := p.cur
	p.cur, p.detached = nil, true
	p.mu.Unlock()
	if t == nil {
		return
	}
	p.stopWatch(t)
	p.mu.Lock()
	gone := t.gone
	p.mu.Unlock()
	if t.cmd != nil {
		if gone {
			_ = t.cmd.Wait()
		} else {
			_ = t.cmd.Process.Release()
		}
	}
	p.log.Info("detached", "pid", t.rec.Pid)
}

// Close implements io.Closer (R18, R42): a process still running is sent
// SIGKILL and waited for, at most KillWait (after which Close gives up on
// it and says so), and cleaned up; the watcher has ended when Close
// returns. A second Close does nothing.
func (p *Process) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	t := p.cur
	if t != nil {
		t.stopping = true
	}
	p.mu.Unlock()
	if t == nil {
		return nil
	}
	if err := p.signal(t, syscall.SIGKILL); err != nil {
		p.log.Warn("close: killing the process", "op", resource.OpClose, "pid", t.rec.Pid, "err", err)
	}
	ctx, cancel := p.killWait()
	defer cancel()
	if err := awaitExit(ctx, t, "SIGKILL"); err != nil {
		p.stopWatch(t)
		if t.cmd != nil {
			_ = t.cmd.Process.Release()
		}
		return fmt.Errorf("process: close: %w; left running", err)
	}
	return p.finish(ctx, t)
}
