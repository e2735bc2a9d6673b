package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// tools are the programs the Wine test needs.
type tools struct {
	goCmd, gcc, objdump, wine, wineserver string
}

// findTools finds the tools, or fails the test when CI is set and one is
// missing (CI installs them: .ci/run), or skips it otherwise.
func findTools(t *testing.T) tools {
	t.Helper()
	var missing []string
	look := func(names ...string) string {
		for _, n := range names {
			if strings.HasPrefix(n, "/") {
				if fi, err := os.Stat(n); err == nil && !fi.IsDir() {
					return n
				}
				continue
			}
			if p, err := exec.LookPath(n); err == nil {
				return p
			}
		}
		missing = append(missing, names[0])
		return ""
	}
	tl := tools{
		goCmd:      look("go"),
		gcc:        look("x86_64-w64-mingw32-gcc"),
		objdump:    look("x86_64-w64-mingw32-objdump"),
		wine:       look("/usr/lib/wine/wine64", "wine64"),
		wineserver: look("/usr/lib/wine/wineserver64", "/usr/lib/wine/wineserver", "wineserver64", "wineserver"),
	}
	if len(missing) > 0 {
		msg := fmt.Sprintf("the Wine ABI test needs %s (Debian: apt-get install gcc-mingw-w64-x86-64 wine64)", strings.Join(missing, ", "))
		if os.Getenv("CI") != "" {
			t.Fatal(msg + "; CI is set, so this is a failure")
		}
		t.Skip(msg)
	}
	return tl
}

// run runs a command, failing the test with its output on error.
func run(t *testing.T, ctx context.Context, dir string, env []string, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
	return out
}

// exports lists the names in the export table objdump -p prints.
func exports(objdump []byte) []string {
	var names []string
	in := false
	sc := bufio.NewScanner(bytes.NewReader(objdump))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "[Ordinal/Name Pointer] Table"):
			in = true
		case in && line == "":
			in = false
		case in && strings.HasPrefix(line, "["):
			if i := strings.Index(line, "]"); i > 0 {
				names = append(names, strings.TrimSpace(line[i+1:]))
			}
		}
	}
	return names
}

// TestWineABI builds the DLL for Windows with mingw-w64, checks that it
// exports only Startup, and runs testdata/harness.c, which plays the
// Resource Monitor, under Wine in a Wine prefix of the test's own. The
// harness checks every return value of every step (see its source); this
// test requires its exit status 0 and its PASS line.
func TestWineABI(t *testing.T) {
	if testing.Short() && os.Getenv("CI") == "" {
		t.Skip("-short: the Wine ABI test builds a DLL and boots a Wine prefix")
	}
	tl := findTools(t)
	start := time.Now()
	ctx, cancel := context.WithTimeout(t.Context(), 6*time.Minute)
	defer cancel()
	dir := t.TempDir()
	prefix := filepath.Join(dir, "prefix")

	// The DLL, stripped, exactly as the README builds it (plus -s -w).
	t0 := time.Now()
	run(t, ctx, ".", []string{"CGO_ENABLED=1", "GOOS=windows", "GOARCH=amd64", "CC=" + tl.gcc},
		tl.goCmd, "build", "-buildmode=c-shared", "-ldflags=-s -w", "-o", filepath.Join(dir, "resdll.dll"), ".")
	fi, err := os.Stat(filepath.Join(dir, "resdll.dll"))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("built resdll.dll (stripped): %d bytes (%.2f MB) in %v", fi.Size(), float64(fi.Size())/1e6, time.Since(t0).Round(time.Millisecond))

	got := exports(run(t, ctx, dir, nil, tl.objdump, "-p", "resdll.dll"))
	if !slices.Equal(got, []string{"Startup"}) {
		t.Fatalf("the DLL exports %q, want only Startup", got)
	}
	t.Logf("exports: %v", got)

	// The stand-in for bcryptprimitives.dll and the harness.
	run(t, ctx, dir, nil, tl.gcc, "-shared", "-O2", "-Wall", "-o", "bcryptprimitives.dll",
		abs(t, "testdata/bcryptprimitives.c"), abs(t, "testdata/bcryptprimitives.def"))
	if out := run(t, ctx, dir, nil, tl.gcc, "-O2", "-Wall", "-Wextra", "-o", "harness.exe", abs(t, "testdata/harness.c")); len(out) > 0 {
		t.Logf("compiler said:\n%s", out)
	}

	// A fresh prefix of our own; wineserver goes when the test ends, and
	// the prefix is removed (t.TempDir's clean-up, registered earlier,
	// runs after this one) only once it has gone.
	env := []string{
		"WINEPREFIX=" + prefix,
		"WINEDEBUG=-all",
		"WINEDLLOVERRIDES=mscoree,mshtml=;bcryptprimitives=n", // no Mono or Gecko prompts; our stand-in
	}
	t.Cleanup(func() {
		kctx, kcancel := context.WithTimeout(context.Background(), time.Minute)
		defer kcancel()
		for _, flag := range []string{"-k", "-w"} { // kill, then wait until it has exited
			cmd := exec.CommandContext(kctx, tl.wineserver, flag)
			cmd.Env = append(os.Environ(), env...)
			if out, err := cmd.CombinedOutput(); err != nil {
				var ee *exec.ExitError
				if !errors.As(err, &ee) { // exit status 1: no server was running
					t.Errorf("wineserver %s: %v\n%s", flag, err, out)
				}
			}
		}
	})
	t0 = time.Now()
	run(t, ctx, dir, env, tl.wine, "wineboot", "-i")
	t.Logf("created the Wine prefix in %v", time.Since(t0).Round(time.Millisecond))
	sys32 := filepath.Join(prefix, "drive_c", "windows", "system32")
	standIn, err := os.ReadFile(filepath.Join(dir, "bcryptprimitives.dll"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sys32, "bcryptprimitives.dll"), standIn, 0o644); err != nil {
		t.Fatalf("installing the bcryptprimitives stand-in in the prefix: %v", err)
	}

	// warn+seh makes Wine print what OutputDebugString receives: the
	// DLL's own log (NewDebugLogHandler), which has no other way out.
	t0 = time.Now()
	cmd := exec.CommandContext(ctx, tl.wine, "harness.exe", "resdll.dll")
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), env...), "WINEDEBUG=-all,warn+seh")
	out, err := cmd.CombinedOutput()
	t.Logf("harness ran in %v:\n%s", time.Since(t0).Round(time.Millisecond), out)
	if err != nil {
		t.Fatalf("harness: %v (its first FAIL line says which step)", err)
	}
	if !bytes.Contains(out, []byte("\nPASS ")) {
		t.Fatal("the harness exited 0 without its PASS line")
	}
	if want := "resdll: LOG_WARNING Startup: type not served by this DLL"; !bytes.Contains(out, []byte(want)) {
		t.Errorf("the DLL's own log did not reach OutputDebugString: no %q in the output", want)
	}
	t.Logf("the Wine ABI test took %v", time.Since(start).Round(time.Millisecond))
}

func abs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
