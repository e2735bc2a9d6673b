//go:build linux

package process_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/resdll/resdll/examples/process"
	"github.com/resdll/resdll/properties"
	"github.com/resdll/resdll/resource"
	"github.com/resdll/resdll/resource/resourcetest"
	"github.com/resdll/resdll/wrapper"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// These tests run real processes on the real clock: every wait is on an
// event or a channel, bounded by waitLimit, never a sleep.
const waitLimit = 10 * time.Second

const pkg = "github.com/resdll/resdll/examples/process"

// bounded returns a context that ends after waitLimit, or with the test.
func bounded(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitLimit)
	t.Cleanup(cancel)
	return ctx
}

// values returns the properties of a resource running argv with its pid
// file in dir, plus extra name/value pairs.
func values(t *testing.T, dir string, argv []string, extra ...any) properties.Values {
	t.Helper()
	m := map[string]any{process.PropCommand: argv, process.PropStateDir: dir}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i].(string)] = extra[i+1]
	}
	v, err := properties.NewValues(m)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// host opens a resource named "svc" with vals and wraps it (see wrap).
func host(t *testing.T, vals properties.Values, pol wrapper.Policy) (*process.Process, *wrapper.Wrapper, *resourcetest.Recorder) {
	t.Helper()
	p, release := open(t, "svc", vals)
	w, rec := wrap(t, p, vals, release, pol)
	return p, w, rec
}

// open opens a resource of the type named name, and closes it when the test
// ends (a no-op if the test closed it).
func open(t *testing.T, name string, vals properties.Values) (*process.Process, resource.Release) {
	t.Helper()
	res, release, err := process.NewType(process.Options{Logger: logger(t)}).Open(t.Context(), name, vals)
	if err != nil {
		t.Fatal(err)
	}
	p := res.(*process.Process)
	t.Cleanup(func() { _ = p.Close(); _ = release() })
	return p, release
}

// wrap wraps p, opened with vals, in a wrapper on the real clock with the
// given policy (health checks off unless the policy sets them: the tests
// show the notifier) and a recorder, and closes it when the test ends.
func wrap(t *testing.T, p *process.Process, vals properties.Values, release resource.Release, pol wrapper.Policy) (*wrapper.Wrapper, *resourcetest.Recorder) {
	t.Helper()
	if pol.IsAliveInterval == 0 {
		pol.IsAliveInterval = resource.Never
	}
	if pol.LooksAliveInterval == 0 {
		pol.LooksAliveInterval = resource.Never
	}
	rec := resourcetest.NewRecorder()
	w, err := wrapper.New(p, wrapper.Options{Name: "svc", Policy: pol, Sink: rec.Sink, Release: release,
		Schema: process.Schema(), Properties: vals})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		if err := w.Close(ctx); err != nil {
			t.Errorf("closing the wrapper: %v", err)
		}
	})
	return w, rec
}

// online brings w online and fails the test unless it gets there.
func online(t *testing.T, w *wrapper.Wrapper) {
	t.Helper()
	if _, err := w.Online(); err != nil {
		t.Fatal(err)
	}
	if err := w.Wait(bounded(t)); err != nil {
		t.Fatalf("Online: %v", err)
	}
	if s := w.State(); s != resource.Online {
		t.Fatalf("state after Online: %v", s)
	}
}

// stat is what the tests read of /proc/<pid>/stat.
type stat struct {
	state byte
	pgrp  int
	start uint64
}

func readStat(pid int) (stat, bool) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return stat{}, false
	}
	f := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
	pgrp, _ := strconv.Atoi(f[2])
	start, _ := strconv.ParseUint(f[19], 10, 64)
	return stat{state: f[0][0], pgrp: pgrp, start: start}, true
}

// alive reports whether pid names a process that has not exited (a zombie
// has).
func alive(pid int) bool {
	st, ok := readStat(pid)
	return ok && st.state != 'Z' && st.state != 'X'
}

// groupAlive lists the live processes of process group pgid.
func groupAlive(t *testing.T, pgid int) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, ok := readStat(pid); ok && st.pgrp == pgid && st.state != 'Z' && st.state != 'X' {
			pids = append(pids, pid)
		}
	}
	return pids
}

// reap waits for pid, a child of the test that no resource reaps (one that
// was detached). It must have exited, or be about to.
func reap(t *testing.T, pid int) {
	t.Helper()
	var ws syscall.WaitStatus
	if _, err := syscall.Wait4(pid, &ws, 0, nil); err != nil && !errors.Is(err, syscall.ECHILD) {
		t.Errorf("reaping %d: %v", pid, err)
	}
}

// readPid reads the pid file of the resource named name under dir.
func readPid(t *testing.T, dir, name string) process.Record {
	t.Helper()
	rec, err := process.ReadPidFile(process.PidFilePath(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// noPidFile fails the test if the resource's pid file exists.
func noPidFile(t *testing.T, dir, name string) {
	t.Helper()
	if _, err := os.Stat(process.PidFilePath(dir, name)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("pid file of %q: %v, want it removed", name, err)
	}
}

// noGoroutines fails the test if a goroutine of the package runs.
func noGoroutines(t *testing.T) {
	t.Helper()
	if gs := resourcetest.GoroutinesIn(pkg + "."); len(gs) > 0 {
		t.Errorf("%d goroutines of the package still run:\n%s", len(gs), strings.Join(gs, "\n\n"))
	}
}

// pipe makes a FIFO in dir for a shell under test to write a line to, and
// returns its path and a function that reads one line from it, failing the
// test after waitLimit. Reading a FIFO is waiting for an event: no poll.
func pipe(t *testing.T, dir string) (string, func() string) {
	t.Helper()
	path := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	// O_RDWR: the open does not wait for a writer, and the FIFO is in the
	// poller, so the read can have a deadline.
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	r := bufio.NewReader(f)
	return path, func() string {
		t.Helper()
		if err := f.SetReadDeadline(time.Now().Add(waitLimit)); err != nil {
			t.Fatal(err)
		}
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("reading %s: %v", path, err)
		}
		return strings.TrimSpace(line)
	}
}

// atoi is strconv.Atoi for numbers a test's shell wrote.
func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// join is filepath.Join, shorter.
func join(dir, name string) string { return filepath.Join(dir, name) }

// logger returns a logger that fails the test on a record of level Error
// (the resource logs one only when something it cannot handle happens).
func logger(t *testing.T) *slog.Logger {
	return slog.New(errorHandler{t})
}

type errorHandler struct{ t *testing.T }

func (h errorHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelError }
func (h errorHandler) Handle(_ context.Context, r slog.Record) error {
	h.t.Errorf("logged an error: %s", r.Message)
	return nil
}
func (h errorHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h errorHandler) WithGroup(string) slog.Handler      { return h }
