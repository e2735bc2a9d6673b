package bboltstore_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/resdll/resdll/properties"
	"github.com/resdll/resdll/properties/bboltstore"
)

// crashChildEnv names the database file when the test binary runs as the
// crash test's writer (see TestMain).
const crashChildEnv = "RESDLL_BBOLTSTORE_CRASH_CHILD"

// crashSchema declares the writer's properties: enough, and large enough,
// that each set writes several pages, a branch page and, at times,
// overflow pages.
func crashSchema() *properties.Schema {
	props := []properties.Property{
		{Name: "Gen", Kind: properties.Uint64},
		{Name: "Blob", Kind: properties.Binary},
	}
	for i := range 24 {
		props = append(props, properties.Property{Name: fmt.Sprintf("P%02d", i), Kind: properties.String})
	}
	return properties.MustSchema(props...)
}

// crashValues are the values of generation g: every one of them says g,
// so a mix of two generations cannot pass for one.
func crashValues(g uint64) properties.Values {
	m := map[string]any{
		"Gen":  g,
		"Blob": []byte(strings.Repeat(string(rune('A'+g%26)), 500+int(g%7)*1500)),
	}
	for i := range 24 {
		m[fmt.Sprintf("P%02d", i)] = fmt.Sprintf("%d:%02d:%s", g, i, strings.Repeat("x", 50+int(g*7+uint64(i)*13)%250))
	}
	v, err := properties.NewValues(m)
	if err != nil {
		panic(err)
	}
	return v
}

// auxValues are what a small resource holds when written in generation g.
func auxValues(g uint64) properties.Values {
	v, err := properties.NewValues(map[string]any{"Gen": g, "P00": fmt.Sprintf("aux %d", g)})
	if err != nil {
		panic(err)
	}
	return v
}

type nopHook struct{}

func (nopHook) Push(context.Context, string, properties.Values) error { return nil }

// crashChild is the writer: it sets generation after generation until it
// is killed, saying "set g" before each set and "done g" after it; every
// third generation it also writes a small resource, and every fifth it
// deletes one.
func crashChild() {
	ctx := context.Background()
	s, err := bboltstore.Open(ctx, os.Getenv(crashChildEnv), bboltstore.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child: open:", err)
		os.Exit(2)
	}
	m, err := properties.NewManager(properties.Options{Store: s, Schema: crashSchema(), Hook: nopHook{}})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(2)
	}
	cur, err := m.Stored(ctx, "res")
	if err != nil {
		fmt.Fprintln(os.Stderr, "child: read:", err)
		os.Exit(2)
	}
	start, _ := cur.GetUint64("Gen")
	for g := start + 1; ; g++ {
		fmt.Printf("set %d\n", g)
		if _, err := m.Set(ctx, "res", crashValues(g), properties.SetOptions{}); err != nil {
			fmt.Fprintln(os.Stderr, "child: set:", err)
			os.Exit(3)
		}
		err := s.Update(ctx, func(tx properties.Tx) error {
			if g%3 == 0 {
				if err := tx.Put(fmt.Sprintf("aux-%d", g%11), properties.Common, auxValues(g)); err != nil {
					return err
				}
			}
			if g%5 == 0 {
				return tx.Delete(fmt.Sprintf("aux-%d", (g+4)%11))
			}
			return nil
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, "child: aux:", err)
			os.Exit(3)
		}
		fmt.Printf("done %d\n", g)
	}
}

// busyWait returns after d, without sleeping: the delay that moves the kill
// to another point of the set.
func busyWait(d time.Duration) {
	start := time.Now()
	for time.Since(start) < d {
	}
}

// calibrate runs the writer for a few sets and returns how long one takes,
// from its "set" line to its "done" line, as the parent sees them.
func calibrate(t *testing.T, path string) time.Duration {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	lines := bufio.NewScanner(out)
	var (
		total time.Duration
		n     int
		began time.Time
	)
	for n < 8 && lines.Scan() {
		switch {
		case strings.HasPrefix(lines.Text(), "set "):
			began = time.Now()
		case strings.HasPrefix(lines.Text(), "done ") && !began.IsZero():
			total += time.Since(began)
			n++
		}
	}
	require.NoError(t, cmd.Process.Kill())
	for lines.Scan() {
	}
	_ = cmd.Wait()
	require.Equal(t, 8, n, "the writer did not run")
	return max(total/time.Duration(n), 100*time.Microsecond)
}

// R56: a writer killed with SIGKILL at many points during sets leaves a
// store that opens cleanly and holds exactly the old or the new values of
// the set it was killed in, never a mix, and never loses a set it had
// finished. Each crash point starts the test binary as the writer, waits
// until it announces a set (after 0-2 finished sets), spins for a varying
// while, and kills it; then the parent opens the store and checks every
// value. Some kills land before the set's commit, some after it.
//
// SIGKILL ends the process, not the machine: the page cache survives, so
// this does not show what a power cut does (that rests on bbolt's fsync).
func TestCrashDuringSets(t *testing.T) {
	points := 150
	switch {
	case testing.Short():
		points = 12
	case raceEnabled:
		points = 40
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	setTime := calibrate(t, path)
	var prev uint64 // the generation stored after the last crash point
	var sawOld, sawNew, sawDone, beforeSet int
	for i := range points {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		lines := bufio.NewScanner(out)
		var lastSet, lastDone uint64
		read := func() bool {
			if !lines.Scan() {
				return false
			}
			f := strings.Fields(lines.Text())
			if len(f) == 2 {
				n, _ := strconv.ParseUint(f[1], 10, 64)
				switch f[0] {
				case "set":
					lastSet = n
				case "done":
					lastDone = n
				}
			}
			return true
		}
		if i%15 != 14 { // every 15th point kills the writer while it opens the store
			target := prev + 1 + uint64(i%3)
			for lastSet < target && read() {
			}
			require.GreaterOrEqual(t, lastSet, target, "the writer stopped early: %s", stderr.String())
			// Kill at a point spread over 0 to 2.4 times a set's
			// duration after it was announced.
			busyWait(setTime * time.Duration((i*7)%25) / 10)
		}
		require.NoError(t, cmd.Process.Kill())
		for read() {
		}
		_ = cmd.Wait()

		s, err := bboltstore.Open(context.Background(), path, bboltstore.Options{})
		require.NoError(t, err, "crash point %d: the store must open after a crash", i)
		m, err := properties.NewManager(properties.Options{Store: s, Schema: crashSchema()})
		require.NoError(t, err)
		got, err := m.Stored(context.Background(), "res")
		require.NoError(t, err)
		g, _ := got.GetUint64("Gen")
		if g != 0 || got.Len() != 0 {
			require.True(t, got.Equal(crashValues(g)), "crash point %d: generation %d is not whole: a mix of old and new values", i, g)
		}
		lo, hi := max(prev, lastDone), max(prev, lastSet)
		require.True(t, lo <= g && g <= hi, "crash point %d: generation %d stored; the writer had finished %d and started %d", i, g, lastDone, lastSet)
		switch {
		case lastSet <= prev:
			beforeSet++
		case g == lastSet && lastDone == lastSet:
			sawDone++
		case g == lastSet:
			sawNew++
		default:
			sawOld++
		}
		// The small resources are whole too.
		require.NoError(t, s.View(context.Background(), func(tx properties.Tx) error {
			names, err := tx.Resources(properties.Common)
			if err != nil {
				return err
			}
			for _, r := range names {
				v, err := tx.Get(r, properties.Common)
				if err != nil {
					return err
				}
				ag, _ := v.GetUint64("Gen")
				require.True(t, v.Equal(auxValues(ag)), "crash point %d: %s is not whole", i, r)
			}
			return nil
		}))
		require.NoError(t, s.Close())
		prev = g
	}
	t.Logf("%d crash points (a set takes about %v): %d killed mid-set before its commit (old values), %d after its commit (new values), "+
		"%d after the set finished, %d while opening; last generation %d", points, setTime, sawOld, sawNew, sawDone, beforeSet, prev)
	require.Positive(t, sawOld+sawNew+sawDone, "no kill landed during a set")
}
