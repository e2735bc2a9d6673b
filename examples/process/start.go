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
	"syscall"
	"time"

	"github.com/resdll/resdll/resource"
)

// start runs the program and waits until it is ready.
func (p *Process) start(ctx context.Context, cfg config, path string) error {
	prog, err := exec.LookPath(cfg.argv[0])
	if err != nil {
		return fmt.Errorf("process: %s %q: %w", PropCommand, cfg.argv[0], startErr(err))
	}
	if cfg.workDir != "" {
		if st, err := os.Stat(cfg.workDir); err != nil || !st.IsDir() {
			return fmt.Errorf("process: %s %q is not a directory on this host: %w", PropWorkingDirectory, cfg.workDir, resource.ErrNotInstalled)
		}
	}
	if err := os.MkdirAll(cfg.stateDir, 0o700); err != nil {
		return fmt.Errorf("process: %s: %w", PropStateDir, fileErr(err))
	}
	if cfg.readyFile != "" {
		if err := os.Remove(cfg.readyFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("process: removing the old %s: %w", PropReadyFile, fileErr(err))
		}
	}
	out, err := openOutput(cfg.logFile)
	if err != nil {
		return fmt.Errorf("process: %s: %w", PropLogFile, fileErr(err))
	}
	defer out.Close() // the child has its own copy

	pidfd := -1
	cmd := &exec.Cmd{
		Path: prog, Args: slices.Clone(cfg.argv), Dir: cfg.workDir, Stdout: out, Stderr: out,
		// Its own process group, so Offline and Terminate reach what it
		// starts; PidFD, a handle that no reused pid can fool.
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true, PidFD: &pidfd},
	}
	if len(cfg.env) > 0 {
		cmd.Env = append(os.Environ(), cfg.env...) // later entries win
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("process: starting %q: %w", cfg.argv[0], startErr(err))
	}
	pid := cmd.Process.Pid
	if pidfd < 0 {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		_ = cmd.Wait()
		return fmt.Errorf("process: this kernel gives no pidfd (Linux 5.3 or newer is needed): %w", resource.ErrNotInstalled)
	}
	f, err := pidfdFile(pidfd, pid)
	if err != nil {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		_ = cmd.Wait()
		return fmt.Errorf("process: %w", err)
	}
	t := &tracked{pidPath: path, cmd: cmd, pidfd: f, exited: make(chan struct{}), watched: make(chan struct{})}
	t.rec = Record{Version: recordVersion, Pid: pid, Pgid: pid, Boot: bootID(), Argv: cmd.Args}
	st, statErr := readStat(pid) // the process is our unreaped child: /proc/<pid> stays
	t.rec.Start = st.start

	p.mu.Lock()
	err = p.usableLocked()
	if err == nil && p.cur != nil {
		err = fmt.Errorf("process %q: process %d was started or adopted meanwhile", p.name, p.cur.rec.Pid)
	}
	if err != nil {
		p.mu.Unlock()
		_ = f.Close()
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		_ = cmd.Wait()
		return err
	}
	p.cur = t
	p.mu.Unlock()
	go p.watch(t)
	p.log.Info("started", "op", resource.OpOnline, "pid", pid, "argv", cmd.Args)

	if statErr != nil {
		return p.abort(t, fmt.Errorf("process: reading the start time of process %d: %w", pid, statErr))
	}
	if err := writePidFile(path, t.rec); err != nil {
		return p.abort(t, fmt.Errorf("process: writing the pid file: %w", fileErr(err)))
	}
	resource.Progress(ctx) // R13: the program runs; readiness is next
	if err := p.awaitReady(ctx, t, cfg); err != nil {
		return p.abort(t, err)
	}
	p.mu.Lock()
	gone, how := t.gone, t.how
	t.armed = !gone
	p.mu.Unlock()
	if gone {
		// It exited between ready and now; the watcher did not report it,
		// so Online fails instead (R23's OnlinePending case).
		return errors.Join(fmt.Errorf("process %d %s as it became ready", pid, how), p.finish(ctx, t))
	}
	return nil
}

// openOutput opens where the program's output goes: name, appended, or
// /dev/null.
func openOutput(name string) (*os.File, error) {
	if name == "" {
		return os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	}
	return os.OpenFile(name, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
}

// startErr classifies an error of starting: a missing program is
// resource.ErrNotInstalled, a refused permission resource.ErrPermission.
func startErr(err error) error {
	switch {
	case errors.Is(err, exec.ErrNotFound), errors.Is(err, exec.ErrDot), errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%w: %w", resource.ErrNotInstalled, err)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("%w: %w", resource.ErrPermission, err)
	}
	return err
}

// fileErr classifies an error with a file the properties name: a refused
// permission is resource.ErrPermission, a missing directory
// resource.ErrNotInstalled (missing on this host; another may have it).
func fileErr(err error) error {
	switch {
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("%w: %w", resource.ErrPermission, err)
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
		return fmt.Errorf("%w: %w", resource.ErrNotInstalled, err)
	}
	return err
}

// awaitReady waits until the program is ready: the ReadyFile exists and
// StartGrace has passed (each when set). It fails when the program exits
// first or ctx ends.
func (p *Process) awaitReady(ctx context.Context, t *tracked, cfg config) error {
	ready := cfg.readyFile == "" || exists(cfg.readyFile)
	var tick <-chan time.Time
	if !ready {
		tk := p.clock.Ticker(ReadyPollInterval)
		defer tk.Stop()
		tick = tk.C
	}
	var grace <-chan time.Time
	if cfg.grace > 0 {
		tm := p.clock.Timer(cfg.grace)
		defer tm.Stop()
		grace = tm.C
	}
	for !ready || grace != nil {
		select {
		case <-t.exited:
			p.mu.Lock()
			how := t.how
			p.mu.Unlock()
			return fmt.Errorf("process %d %s before it was ready", t.rec.Pid, how)
		case <-ctx.Done():
			return fmt.Errorf("process %d: waiting until it is ready: %w", t.rec.Pid, ctx.Err())
		case <-tick:
			if exists(cfg.readyFile) {
				ready, tick = true, nil
			}
		case <-grace:
			grace = nil
		}
	}
	return nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// abort kills a process whose Online failed, waits at most KillWait for it,
// cleans up, and returns cause with what went wrong on the way.
func (p *Process) abort(t *tracked, cause error) error {
	p.mu.Lock()
	t.stopping = true
	p.mu.Unlock()
	p.log.Warn("online failed: killing the process", "op", resource.OpOnline, "pid", t.rec.Pid, "err", cause)
	if err := p.signal(t, syscall.SIGKILL); err != nil {
		return errors.Join(cause, err)
	}
	ctx, cancel := p.killWait()
	defer cancel()
	if err := awaitExit(ctx, t, "SIGKILL"); err != nil {
		return errors.Join(cause, err)
	}
	return errors.Join(cause, p.finish(ctx, t))
}

// killWait returns a context that ends KillWait from now on the resource's
// clock: the bound of the waits that have no caller's context.
func (p *Process) killWait() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	tm := p.clock.AfterFunc(KillWait, cancel)
	return ctx, func() { tm.Stop(); cancel() }
}

// awaitExit waits until t's process has exited, or ctx ends.
func awaitExit(ctx context.Context, t *tracked, sent string) error {
	select {
	case <-t.exited:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("process %d has not exited on %s: %w", t.rec.Pid, sent, context.Cause(ctx))
	}
}
