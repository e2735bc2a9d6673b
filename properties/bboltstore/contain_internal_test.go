package bboltstore

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/resdll/resdll/properties"
)

// fillStore writes a few resources and closes the store.
func fillStore(t *testing.T, path string) {
	t.Helper()
	s, err := Open(context.Background(), path, Options{})
	require.NoError(t, err)
	for _, r := range []string{"a", "b", "c"} {
		v, _ := properties.NewValues(map[string]any{"Port": uint32(25), "Name": r})
		require.NoError(t, s.Update(context.Background(), func(tx properties.Tx) error { return tx.Put(r, properties.Parameters, v) }))
	}
	require.NoError(t, s.Close())
}

// renumberPages writes a wrong id into the header of every page after the
// meta pages, so bbolt's page assertion fails on whichever it reads.
func renumberPages(t *testing.T, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	require.NoError(t, err)
	defer f.Close()
	info, err := f.Stat()
	require.NoError(t, err)
	ps := int64(os.Getpagesize())
	for p := int64(2); p < info.Size()/ps; p++ {
		_, err := f.WriteAt(binary.NativeEndian.AppendUint64(nil, uint64(9999+p)), p*ps)
		require.NoError(t, err)
	}
}

// R56: with the structural check turned off, bbolt itself meets the damage
// and panics; the panic is contained and reported as ErrCorrupt. (With the
// check on, the damage is found before bbolt reads the file.)
func TestBboltPanicIsContained(t *testing.T) {
	path := filepath.Join(t.TempDir(), "props.db")
	fillStore(t, path)
	renumberPages(t, path)

	var err error
	require.NotPanics(t, func() { _, err = Open(context.Background(), path, Options{skipFsck: true}) })
	require.ErrorIs(t, err, properties.ErrCorrupt)
	assert.Contains(t, err.Error(), "bbolt panicked")

	_, err = Open(context.Background(), path, Options{})
	require.ErrorIs(t, err, properties.ErrCorrupt)
	assert.Contains(t, err.Error(), "names itself", "found by the structural check first")
}

// R56: damage that appears while the store is open (the file changed under
// it) makes bbolt panic inside a transaction; the call returns ErrCorrupt,
// nothing is committed, and the Store refuses further work rather than
// read on.
func TestDamageWhileOpenIsContained(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "props.db")
	fillStore(t, path)
	s, err := Open(ctx, path, Options{})
	require.NoError(t, err)
	defer s.Close()
	renumberPages(t, path)

	require.NotPanics(t, func() {
		err = s.View(ctx, func(tx properties.Tx) error {
			_, err := tx.Get("b", properties.Parameters)
			return err
		})
	})
	require.ErrorIs(t, err, properties.ErrCorrupt)
	require.NotPanics(t, func() {
		err = s.Update(ctx, func(tx properties.Tx) error { return tx.Delete("a") })
	})
	require.ErrorIs(t, err, properties.ErrCorrupt, "a damaged store refuses further work")
}
