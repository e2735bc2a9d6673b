//go:build linux

package process

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/resdll/resdll/resource"
)

// tracked is one process the resource runs: started by it (cmd set) or
// adopted from a pid file.
type tracked struct {
	rec     Record
	pidPath string
	cmd     *exec.Cmd // our child, reaped by finish; nil when adopted

	// pidfd is the process's handle: signals go through it, and the
	// watcher waits on it. stopWatch closes it.
	pidfd     *os.File
	closeOnce sync.Once
	closed    atomic.Bool // pidfd is closed (or being closed): the watch is over

	// exited is closed by the watcher when the process has exited;
	// watched when the watcher has returned. The watcher's owner is the
	// Process: it ends when the process exits or stopWatch closes pidfd,
	// and finish, Close and Detach wait for it.
	exited  chan struct{}
	watched chan struct{}

	// Guarded by Process.mu.
	how      string // how the process ended; written before exited is closed
	gone     bool   // exited is closed
	armed    bool   // an exit now is a failure to report (R23)
	stopping bool   // Offline, Terminate or Close is stopping it: its exit is expected

	finishOnce sync.Once
	finishErr  error
}

// adopt takes over the running process rec names (R7): it must be alive,
// of this boot, with the recorded start time (else an error wrapping
// resource.ErrNotRunning: it is gone) and the recorded command line (else a
// plain error). From then on it is watched, and stopped, as one the
// resource started.
func (p *Process) adopt(op resource.Op, rec Record, path string) error {
	notRunning := func(why string) error {
		return fmt.Errorf("process %d of pid file %s %s: %w", rec.Pid, path, why, resource.ErrNotRunning)
	}
	if boot := bootID(); rec.Boot != "" && boot != "" && rec.Boot != boot {
		return notRunning("was started before the last boot")
	}
	fd, err := pidfdOpen(rec.Pid)
	if errors.Is(err, syscall.ESRCH) {
		return notRunning("is gone")
	} else if err != nil {
		return fmt.Errorf("process: pidfd_open of process %d: %w", rec.Pid, err)
	}
	f, err := pidfdFile(fd, rec.Pid)
	if err != nil {
		return fmt.Errorf("process: %w", err)
	}
	// Checked after opening the pidfd: if this is the recorded process,
	// the pidfd is its handle, whatever happens to the pid later.
	if err := identify(rec, path); err != nil {
		_ = f.Close()
		return err
	}
	t := &tracked{rec: rec, pidPath: path, pidfd: f, armed: true, exited: make(chan struct{}), watched: make(chan struct{})}
	p.mu.Lock()
	err = p.usableLocked()
	if err == nil && p.cur != nil {
		err = fmt.Errorf("process %q: already runs process %d", p.name, p.cur.rec.Pid)
	}
	if err != nil {
		p.mu.Unlock()
		_ = f.Close()
		return err
	}
	p.cur = t
	p.mu.Unlock()
	go p.watch(t)
	p.log.Info("adopted", "op", op, "pid", rec.Pid, "argv", rec.Argv)
	return nil
}

// identify checks that the live process with rec's pid is rec's process.
func identify(rec Record, path string) error {
	notRunning := func(why string) error {
		return fmt.Errorf("process %d of pid file %s %s: %w", rec.Pid, path, why, resource.ErrNotRunning)
	}
	st, err := readStat(rec.Pid)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return notRunning("is gone")
	case err != nil:
		return fmt.Errorf("process: %w", err)
	case st.gone():
		return notRunning("has exited")
	case st.start != rec.Start:
		return notRunning(fmt.Sprintf("is gone: pid %d is another process now (started at tick %d, not %d)", rec.Pid, st.start, rec.Start))
	}
	argv, err := readCmdline(rec.Pid)
	if err != nil {
		return fmt.Errorf("process: %w", err)
	}
	switch {
	case !slices.Equal(argv, rec.Argv):
		return fmt.Errorf("process: process %d of pid file %s started when recorded, but runs %q, not the recorded %q",
			rec.Pid, path, argv, rec.Argv)
	case st.pgrp != rec.Pgid:
		// The group is what Offline and Terminate signal: it must be the
		// recorded one.
		return fmt.Errorf("process: process %d of pid file %s is in process group %d, not the recorded %d",
			rec.Pid, path, st.pgrp, rec.Pgid)
	case rec.Pid == os.Getpid() || rec.Pgid == syscall.Getpgrp():
		return fmt.Errorf("process: pid file %s names this program or its process group", path)
	}
	return nil
}

// watch is the goroutine that waits for t's process to exit and, when the
// exit was not expected, reports it at once (R23). It does not reap the
// process: until finish does, its unreaped pid keeps the group's id from
// being reused, so signalling the group cannot reach a stranger.
func (p *Process) watch(t *tracked) {
	defer close(t.watched)
	if err := waitExited(t.pidfd); err != nil {
		if !t.closed.Load() {
			p.log.Error("watching the process failed; its exit will be seen by IsAlive only", "pid", t.rec.Pid, "err", err)
		}
		return
	}
	how := exitText(t.pidfd)
	p.mu.Lock()
	t.how, t.gone = how, true
	close(t.exited)
	report := p.report
	if !t.armed || t.stopping || p.cur != t {
		report = nil
	}
	p.mu.Unlock()
	if report == nil {
		p.log.Info("exited", "pid", t.rec.Pid, "how", how)
		return
	}
	err := fmt.Errorf("process %d (%s) %s", t.rec.Pid, t.rec.Argv[0], how)
	p.log.Warn("exited unexpectedly", "op", resource.OpReport, "pid", t.rec.Pid, "err", err)
	report(err)
}

// stopWatch ends t's watcher, if it still runs, and waits for it.
func (p *Process) stopWatch(t *tracked) {
	t.closeOnce.Do(func() {
		t.closed.Store(true)
		_ = t.pidfd.Close()
	})
	<-t.watched
}

// finish cleans up after t's process has exited: what is left of its group
// is killed and waited for (until ctx ends), the process reaped, the pid
// file removed, and t forgotten. It runs once; later calls wait for the
// first and return its error.
func (p *Process) finish(ctx context.Context, t *tracked) error {
	t.finishOnce.Do(func() {
		// The leader has exited. Our child is not reaped yet, so the group
		// id is still its own (see watch); for an adopted process this
		// relies on the group not having been emptied and its id reused in
		// between, as every pid-file tool does.
		if err := syscall.Kill(-t.rec.Pgid, syscall.SIGKILL); err != nil && err != syscall.ESRCH && err != syscall.EPERM {
			p.log.Warn("killing the rest of the process group", "pgid", t.rec.Pgid, "err", err)
		}
		gerr := awaitGroup(ctx, t.rec.Pgid)
		p.stopWatch(t)
		if t.cmd != nil {
			_ = t.cmd.Wait() // the exit status was reported already
		}
		t.finishErr = errors.Join(gerr, removePidFile(t.pidPath, t.rec))
		p.mu.Lock()
		if p.cur == t {
			p.cur = nil
		}
		p.mu.Unlock()
	})
	return t.finishErr
}

// signal sends sig to t's process group, and through the pidfd to t's
// process itself when it has left the group (so that it never gets sig
// twice: some programs take a second SIGTERM or SIGINT as "hurry"). A
// process already gone is not an error; a refused permission is
// resource.ErrPermission.
func (p *Process) signal(t *tracked, sig syscall.Signal) error {
	gerr := syscall.Kill(-t.rec.Pgid, sig)
	if gerr == syscall.ESRCH {
		gerr = nil
	}
	var perr error
	if st, err := readStat(t.rec.Pid); err != nil || st.pgrp != t.rec.Pgid || gerr != nil {
		perr = sendSignal(t.pidfd, sig)
		if t.closed.Load() {
			perr = nil // finished already
		}
	}
	err := errors.Join(gerr, perr)
	if errors.Is(err, syscall.EPERM) {
		return fmt.Errorf("process: signalling process %d: %w: %w", t.rec.Pid, resource.ErrPermission, err)
	}
	if err != nil {
		return fmt.Errorf("process: signalling process %d: %w", t.rec.Pid, err)
	}
	return nil
}
