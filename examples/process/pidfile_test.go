//go:build linux

package process_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/resdll/resdll/examples/process"
)

// The pid file has the pid on its first line and the record on its
// second, mode 0600, and names the process exactly (R7).
func TestPidFileFormat(t *testing.T) {
	dir := t.TempDir()
	p, _ := open(t, "svc", values(t, dir, sleeper))
	if err := p.Online(bounded(t)); err != nil {
		t.Fatal(err)
	}
	path := process.PidFilePath(dir, "svc")
	if p.PidFile() != path {
		t.Errorf("PidFile %s, want %s", p.PidFile(), path)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != 2 || lines[0] != strconv.Itoa(p.Pid()) || !strings.HasPrefix(lines[1], `{"version":1,`) {
		t.Errorf("pid file:\n%s\nwant the pid %d, then the record", data, p.Pid())
	}
	rec, err := process.ReadPidFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Pid != p.Pid() || rec.Pgid != rec.Pid || rec.Start == 0 || rec.Boot == "" || strings.Join(rec.Argv, " ") != "sleep 1000" {
		t.Errorf("record %+v: want pid %d leading its own group, a start time, a boot id and the argument list", rec, p.Pid())
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, ".*tmp*")); len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

func TestPidFilePath(t *testing.T) {
	if got := process.PidFilePath("/run/x", "web/a b"); got != "/run/x/web%2Fa%20b.pid" {
		t.Errorf("PidFilePath: %s", got)
	}
	long := strings.Repeat("n", 300)
	got := process.PidFilePath("/run/x", long)
	if len(filepath.Base(got)) > 255 || got == process.PidFilePath("/run/x", long+"2") || !strings.HasPrefix(filepath.Base(got), "resource-") {
		t.Errorf("PidFilePath of a long name: %s", got)
	}
}

// ReadPidFile checks what it reads before anyone signals a pid from it
// (R59).
func TestReadPidFileRefuses(t *testing.T) {
	dir := t.TempDir()
	good := `{"version":1,"pid":4242,"pgid":4242,"start":1,"boot":"b","argv":["x"]}`
	for _, tc := range []struct {
		name, data, want string
	}{
		{"NotAPid", "x\n" + good + "\n", "is not a pid"},
		{"NoRecord", "4242", "no record"},
		{"PidsDiffer", "4243\n" + good + "\n", "the pid line says 4243"},
		{"PidOne", "1\n" + strings.ReplaceAll(good, "4242", "1") + "\n", "above 1"},
		{"Version", "4242\n" + strings.Replace(good, `"version":1`, `"version":2`, 1) + "\n", "version 2"},
		{"UnknownField", "4242\n" + strings.Replace(good, `"argv"`, `"colour":1,"argv"`, 1) + "\n", "unknown field"},
		{"NoArgv", "4242\n" + strings.Replace(good, `["x"]`, `[]`, 1) + "\n", "no argument list"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name)
			if err := os.WriteFile(path, []byte(tc.data), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := process.ReadPidFile(path); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ReadPidFile: %v; want %q", err, tc.want)
			}
		})
	}
	t.Run("Symlink", func(t *testing.T) {
		target := filepath.Join(dir, "target")
		if err := os.WriteFile(target, []byte("4242\n"+good+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := process.ReadPidFile(target); err != nil {
			t.Fatalf("the target itself: %v", err)
		}
		link := filepath.Join(dir, "link")
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
		if _, err := process.ReadPidFile(link); err == nil || !strings.Contains(err.Error(), "symbolic link") {
			t.Errorf("ReadPidFile of a link: %v", err)
		}
	})
	t.Run("FIFO", func(t *testing.T) {
		path := filepath.Join(dir, "fifo")
		if err := syscall.Mkfifo(path, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := process.ReadPidFile(path); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("ReadPidFile of a FIFO: %v", err)
		}
	})
	t.Run("Missing", func(t *testing.T) {
		if _, err := process.ReadPidFile(filepath.Join(dir, "none")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("ReadPidFile of no file: %v, want fs.ErrNotExist", err)
		}
	})
}
