package bboltstore_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	bolt "go.etcd.io/bbolt"

	"github.com/resdll/resdll/properties"
	"github.com/resdll/resdll/properties/bboltstore"
	"github.com/resdll/resdll/properties/storetest"
)

func TestMain(m *testing.M) {
	if os.Getenv(crashChildEnv) != "" {
		crashChild()
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}

func open(t testing.TB, path string) *bboltstore.Store {
	t.Helper()
	s, err := bboltstore.Open(context.Background(), path, bboltstore.Options{})
	require.NoError(t, err)
	return s
}

// R57: the bbolt store keeps the Store contract.
func TestStoreContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) properties.Store {
		return open(t, filepath.Join(t.TempDir(), "props.db"))
	})
}

// R57: the default store is embedded: a file, no server; values survive
// closing and reopening it, every kind exact.
func TestPersists(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cluster.db")
	s := open(t, path)
	require.NoError(t, s.Update(ctx, func(tx properties.Tx) error {
		if err := tx.Put("SMTP-1", properties.Parameters, storetest.AllKinds()); err != nil {
			return err
		}
		return tx.Put("SMTP-1", properties.Common, storetest.AllKinds())
	}))
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "a second Close is a no-op")

	s = open(t, path)
	defer s.Close()
	assert.Equal(t, path, s.Path())
	require.NoError(t, s.View(ctx, func(tx properties.Tx) error {
		for _, ns := range []properties.Namespace{properties.Parameters, properties.Common} {
			v, err := tx.Get("SMTP-1", ns)
			require.NoError(t, err)
			assert.True(t, v.Equal(storetest.AllKinds()), ns)
		}
		return nil
	}))
}

// R53: database files are created 0600, and creating one leaves no
// temporary file behind.
func TestFileMode(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "props.db")
	s := open(t, path)
	defer s.Close()
	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "only the database file: %v", entries)
}

// A second Open of a file in use fails at once with ErrLocked.
func TestLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "props.db")
	s := open(t, path)
	defer s.Close()
	_, err := bboltstore.Open(context.Background(), path, bboltstore.Options{})
	require.ErrorIs(t, err, bboltstore.ErrLocked)
}

func TestOpenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	path := filepath.Join(t.TempDir(), "props.db")
	_, err := bboltstore.Open(ctx, path, bboltstore.Options{})
	require.ErrorIs(t, err, context.Canceled)
	_, err = os.Stat(path)
	require.ErrorIs(t, err, os.ErrNotExist, "nothing was created")
}

// R53, R54: a Manager on the bbolt store: one transaction per set, the
// pending mark with it, the mark cleared after the push.
func TestManagerOnBbolt(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "props.db")
	s := open(t, path)
	schema := properties.MustSchema(properties.Property{Name: "Port", Kind: properties.Uint32, Max: uint32(100)})
	m, err := properties.NewManager(properties.Options{Store: s, Schema: schema, Hook: hookFunc(func() error { return errors.New("down") })})
	require.NoError(t, err)
	upd, _ := properties.NewValues(map[string]any{"Port": uint32(7)})
	res, err := m.Set(ctx, "R", upd, properties.SetOptions{})
	require.NoError(t, err)
	require.ErrorIs(t, res.SyncErr, properties.ErrOutOfSync)
	bad, _ := properties.NewValues(map[string]any{"Port": uint32(700)})
	_, err = m.Set(ctx, "R", bad, properties.SetOptions{})
	require.ErrorIs(t, err, properties.ErrInvalid)
	require.NoError(t, s.Close())

	s = open(t, path)
	defer s.Close()
	m, err = properties.NewManager(properties.Options{Store: s, Schema: schema, Hook: hookFunc(func() error { return nil })})
	require.NoError(t, err)
	st, err := m.Status(ctx, "R")
	require.NoError(t, err)
	assert.True(t, st.OutOfSync, "the out-of-sync mark survives a restart")
	eff, err := m.Effective(ctx, "R")
	require.NoError(t, err)
	p, _ := eff.GetUint32("Port")
	assert.Equal(t, uint32(7), p)
	_, err = m.Reconcile(ctx, "R", properties.ToApplication, properties.SetOptions{})
	require.NoError(t, err)
	st, _ = m.Status(ctx, "R")
	assert.False(t, st.OutOfSync)
}

type hookFunc func() error

func (h hookFunc) Push(context.Context, string, properties.Values) error { return h() }

// fixture builds a store whose file has branch pages (one namespace holds
// more than a page), inline buckets (small namespaces), nested buckets,
// free pages, and a deleted resource, and returns the pages in use, what
// the store holds, and what it held before its last transaction.
func fixture(t *testing.T) (data []byte, final, prev map[string]properties.Values) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "fixture.db")
	s := open(t, path)
	put := func(r string, ns properties.Namespace, m map[string]any) {
		v, err := properties.NewValues(m)
		require.NoError(t, err)
		require.NoError(t, s.Update(ctx, func(tx properties.Tx) error { return tx.Put(r, ns, v) }))
	}
	big := map[string]any{}
	for j := range 30 {
		big[fmt.Sprintf("P%02d", j)] = strings.Repeat(string(rune('a'+j%26)), 200)
	}
	put("res-big", properties.Parameters, big)
	for i := range 10 {
		r := fmt.Sprintf("res-%02d", i)
		put(r, properties.Parameters, map[string]any{"Gen": uint64(i), "Name": r, "Blob": []byte{byte(i), 0, 1}})
		if i%3 == 0 {
			put(r, properties.Common, map[string]any{"Threshold": uint32(i), "Delay": time.Duration(i) * time.Millisecond})
		}
	}
	require.NoError(t, s.Update(ctx, func(tx properties.Tx) error { return tx.Delete("res-05") }))
	prev = dump(t, s)
	put("res-07", properties.Parameters, map[string]any{"Last": "yes"})
	final = dump(t, s)
	require.NoError(t, s.Close())
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	// bbolt grows its file ahead of use; keep only the pages in use (the
	// meta's high-water mark, at offset 56 of either meta page).
	pageSize := os.Getpagesize()
	hwm := max(binary.NativeEndian.Uint64(data[56:]), binary.NativeEndian.Uint64(data[pageSize+56:]))
	return data[:int(hwm)*pageSize], final, prev
}

// dump reads everything the store holds.
func dump(t testing.TB, s properties.Store) map[string]properties.Values {
	t.Helper()
	out := make(map[string]properties.Values)
	require.NoError(t, s.View(context.Background(), func(tx properties.Tx) error {
		for _, ns := range []properties.Namespace{properties.Parameters, properties.Common} {
			names, err := tx.Resources(ns)
			if err != nil {
				return err
			}
			for _, r := range names {
				v, err := tx.Get(r, ns)
				if err != nil {
					return err
				}
				out[r+"/"+string(ns)] = v
			}
		}
		return nil
	}))
	return out
}

func sameDump(a, b map[string]properties.Values) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !v.Equal(b[k]) {
			return false
		}
	}
	return true
}

// R56: a damaged file is reported as such, with an error wrapping
// ErrCorrupt that names the file; the file is kept byte for byte, nothing
// is created beside it, and no panic escapes. Every page of a store is
// damaged at many offsets in turn: each time Open either reports the
// damage or reads exactly what was stored (the damage fell in free space
// or slack), or, for a damaged meta page, what was stored one transaction
// earlier (bbolt's fallback to the other meta page, which is also how it
// survives a torn meta write).
func TestCorruptionSweep(t *testing.T) {
	data, final, prev := fixture(t)
	pageSize := os.Getpagesize()
	pages := len(data) / pageSize
	require.GreaterOrEqual(t, pages, 8, "the fixture should span many pages")
	dir := t.TempDir()
	path := filepath.Join(dir, "damaged.db")
	// The page header, the meta fields, the first elements, then samples
	// of the rest; RESDLL_FULL_SWEEP=1 damages every byte instead.
	offsets := []int{0, 1, 8, 9, 10, 11, 12, 15, 16, 20, 24, 28, 32, 40, 48, 56, 64, 72, 100, 300, 1000, pageSize/2 + 3, pageSize - 8, pageSize - 1}
	masks := []byte{0xff, 0x01}
	if os.Getenv("RESDLL_FULL_SWEEP") != "" {
		offsets = offsets[:0]
		for i := range pageSize {
			offsets = append(offsets, i)
		}
		masks = masks[:1]
	}
	var reported, intact, rolledBack int
	for p := range pages {
		for _, off := range offsets {
			for _, mask := range masks {
				bad := slices.Clone(data)
				bad[p*pageSize+off] ^= mask
				require.NoError(t, os.WriteFile(path, bad, 0o600))
				var (
					s   *bboltstore.Store
					err error
				)
				require.NotPanics(t, func() { s, err = bboltstore.Open(context.Background(), path, bboltstore.Options{}) },
					"page %d offset %d", p, off)
				if err != nil {
					require.ErrorIs(t, err, properties.ErrCorrupt, "page %d offset %d ^%#x", p, off, mask)
					require.Contains(t, err.Error(), path)
					kept, rerr := os.ReadFile(path)
					require.NoError(t, rerr)
					require.True(t, bytes.Equal(bad, kept), "page %d offset %d: the damaged file was changed", p, off)
					reported++
					continue
				}
				got := dump(t, s)
				require.NoError(t, s.Close())
				switch {
				case sameDump(got, final):
					intact++
				case p < 2 && sameDump(got, prev):
					rolledBack++
				default:
					t.Fatalf("page %d offset %d ^%#x: Open succeeded but read other values", p, off, mask)
				}
			}
		}
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1)
	t.Logf("%d damaged files (%d pages): %d reported corrupt, %d read intact, %d rolled back one transaction (meta page)",
		pages*len(offsets)*len(masks), pages, reported, intact, rolledBack)
	if len(offsets) < pageSize {
		assert.Greater(t, reported, pages*len(offsets)/4, "the sampled offsets are mostly structure")
	}
}

// R56: files that are not a store, or are cut short, are reported and
// kept; an empty file is damaged, not a new store.
func TestCorruptFiles(t *testing.T) {
	data, _, _ := fixture(t)
	foreign := func(t *testing.T) []byte {
		p := filepath.Join(t.TempDir(), "foreign.db")
		db, err := bolt.Open(p, 0o600, nil)
		require.NoError(t, err)
		require.NoError(t, db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("other")); return err }))
		require.NoError(t, db.Close())
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		return b
	}
	pageSize := os.Getpagesize()
	tests := []struct {
		name string
		data func(t *testing.T) []byte
		want string
	}{
		{"empty", func(*testing.T) []byte { return nil }, "empty"},
		{"text", func(*testing.T) []byte { return []byte("Parameters: Port=25\n") }, "meta"},
		{"zeros", func(*testing.T) []byte { return make([]byte, 4*pageSize) }, "meta"},
		{"truncated to half", func(*testing.T) []byte { return data[:len(data)/2] }, ""},
		{"truncated to one page", func(*testing.T) []byte { return data[:pageSize] }, ""},
		{"both meta pages zeroed", func(*testing.T) []byte {
			b := slices.Clone(data)
			clear(b[:2*pageSize])
			return b
		}, "meta"},
		{"a bbolt file of another program", foreign, "not a resdll property store"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "props.db")
			in := tt.data(t)
			require.NoError(t, os.WriteFile(path, in, 0o600))
			var err error
			require.NotPanics(t, func() { _, err = bboltstore.Open(context.Background(), path, bboltstore.Options{}) })
			require.ErrorIs(t, err, properties.ErrCorrupt)
			assert.Contains(t, err.Error(), path)
			assert.Contains(t, err.Error(), tt.want)
			assert.Contains(t, err.Error(), "left as it is")
			kept, rerr := os.ReadFile(path)
			require.NoError(t, rerr)
			assert.True(t, bytes.Equal(in, kept), "the file was changed")
			entries, _ := os.ReadDir(dir)
			assert.Len(t, entries, 1, "nothing was created beside it")
		})
	}
}
